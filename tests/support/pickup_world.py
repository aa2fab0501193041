"""A whole pickup desk on one SQLite file: fake lock boards, a fake wall clock, the real services.

Shared by the pickup unit tests, the property test and the UI test: results are loaded the way
the courier loads them (reserve for `load_result`, open, put in, close, confirm with a
`ResultForCitizen`), and a signed QR is made with the terminal's own key.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from kiosk.compartments import (
    CompartmentService,
    DepositStatus,
    PickupCodeHasher,
    ReservationPurpose,
    ResultForCitizen,
    applicant_id_sha256,
)
from kiosk.compartments.testing import FakeLockerColumn, FakeWallClock, column_specs
from kiosk.outbox import Outbox
from kiosk.pickup.adapters import PickupDesk
from kiosk.pickup.guard import KeypadGuard
from kiosk.pickup.tokens import PickupQrSigner, TerminalKeyStore
from kiosk.storage import Actor, ActorKind, AuditLog, Database

COURIER = Actor(ActorKind.COURIER, "C-0001")
FAST_CODES = PickupCodeHasher(n=2, r=1, p=1)  # the real cost is for production, not for tests


@dataclass
class Loaded:
    parcel_id: str
    compartment: int
    code: str
    qr: str
    submission_id: str


@dataclass
class PickupWorld:
    path: Path
    clock: FakeWallClock
    column_a: FakeLockerColumn  # 1-6, sizes SSMMLL, with item sensors
    column_b: FakeLockerColumn  # 7-9, S M L, no item sensor
    database: Database
    service: CompartmentService
    outbox: Outbox
    guard: KeypadGuard
    keys: TerminalKeyStore
    desk: PickupDesk
    alerts: list[object] = field(default_factory=list)
    forwarded: list[object] = field(default_factory=list)
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def column_of(self, number: int) -> FakeLockerColumn:
        return self.column_a if number <= 6 else self.column_b

    def signer(self) -> PickupQrSigner:
        return PickupQrSigner(self.keys.pickup_qr_key())

    def load_result(
        self,
        code: str,
        *,
        size: str = "S",
        id_number: str | None = None,
        keep_days: float = 7,
        only_on: FakeLockerColumn | None = None,
    ) -> Loaded | None:
        """A courier loads a result; None when no compartment is free."""
        reservation = self.service.reserve(
            size,  # type: ignore[arg-type]
            holder=COURIER,
            purpose=ReservationPurpose.LOAD_RESULT,
        )
        if reservation is None:
            return None
        column = self.column_of(reservation.compartment)
        if only_on is not None and column is not only_on:
            self.service.release(reservation.id, actor=COURIER, reason="test: wrong column")
            return None
        self.service.open_for_deposit(reservation.id, actor=COURIER, reason="load result")
        column.put_item(reservation.compartment)
        column.close_by_hand(reservation.compartment)
        expires = self.clock() + timedelta(days=keep_days)
        submission_id = f"hall-sub-{next(self._serial)}"
        result = self.service.confirm_deposit(
            reservation.id,
            ResultForCitizen(
                submission_id,
                code,
                expires,
                applicant_id_sha256=applicant_id_sha256(id_number) if id_number else None,
            ),
            actor=COURIER,
            citizen_confirmed=True,
        )
        assert result.status is DepositStatus.DEPOSITED, result
        assert result.parcel is not None
        qr = self.signer().sign(result.parcel.id, code, expires)
        return Loaded(result.parcel.id, reservation.compartment, code, qr, submission_id)

    def events(self, kind: str | None = None) -> list[dict[str, object]]:
        found = []
        for message in self.outbox.messages():
            if message.kind == "event" and (kind is None or message.payload.get("type") == kind):
                found.append(dict(message.payload))
        return found

    def close(self) -> None:
        self.database.close()


def build_pickup_world(
    path: Path,
    *,
    clock: FakeWallClock | None = None,
    alerts: Callable[[object], None] | None = None,
) -> PickupWorld:
    clock = clock or FakeWallClock()
    database = Database.open(path)
    audit = AuditLog(database, clock=clock)
    column_a = FakeLockerColumn("A", column_specs("A", "SSMMLL"))
    column_b = FakeLockerColumn("B", column_specs("B", "SML", first_number=7), item_sensor=False)
    collected: list[object] = []
    service = CompartmentService(
        database,
        audit,
        [column_a, column_b],
        clock=clock,
        alerts=alerts or collected.append,
        code_hasher=FAST_CODES,
        hold_s=120,
    )
    forwarded: list[object] = []
    for column in (column_a, column_b):
        column.start(service.locker_event_sink(forwarded.append))
    service.start_up()
    outbox = Outbox(database, clock=clock)
    guard = KeypadGuard(database, clock)
    keys = TerminalKeyStore(database)
    desk = PickupDesk(
        service,
        database,
        outbox,
        guard,
        keys.pickup_qr_key,
        wall_clock=clock,
        alerts=alerts or collected.append,
    )
    return PickupWorld(
        path,
        clock,
        column_a,
        column_b,
        database,
        service,
        outbox,
        guard,
        keys,
        desk,
        alerts=collected,
        forwarded=forwarded,
    )


class QueuedWorker:
    """Jobs wait until `drain()`: the test decides when the "worker thread" runs."""

    def __init__(self) -> None:
        self.jobs: list[Callable[[], None]] = []

    def submit(self, fn: Callable[[], None], /) -> object:
        self.jobs.append(fn)
        return None


class Journey:
    """The real PickupRuntime over a world, with the worker and the UI thread run by the test."""

    def __init__(self, world: PickupWorld, settings: object | None = None) -> None:
        from kiosk.pickup.flow import PickupFlow, PickupSettings
        from kiosk.pickup.runtime import PickupRuntime, PickupServices
        from kiosk.pickup.view_models import PickupView

        self.world = world
        self.now = 1000.0
        self.worker = QueuedWorker()
        self.views: list[PickupView] = []
        self.ended = 0
        self.watching: list[bool] = []
        flow = PickupFlow(
            clock=lambda: self.now,
            wall_clock=world.clock,
            hotline="12345",
            settings=settings if isinstance(settings, PickupSettings) else None,
        )
        journey = self

        class Readers:
            def watch(self, active: bool) -> None:
                journey.watching.append(active)

        self.runtime = PickupRuntime(
            flow,
            PickupServices(world.desk, code_readers=Readers()),
            worker=self.worker,
            post=lambda fn: fn(),
            publish=self.views.append,
            language=lambda: "en",
            on_journey_ended=self._ended,
        )
        self.flow = flow

    def _ended(self) -> None:
        self.ended += 1

    def drain(self) -> None:
        """Run queued jobs (and the jobs their answers queue) until the worker is idle."""
        for _ in range(100):
            if not self.worker.jobs:
                return
            job = self.worker.jobs.pop(0)
            job()
        raise AssertionError("the pickup runtime kept queuing jobs")

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.world.clock.advance(seconds)
        self.runtime.tick()
        self.drain()

    @property
    def view(self):  # type: ignore[no-untyped-def]
        return self.views[-1]
