"""The kiosk's core as a killable process, for the loop crash test (loop_crash_harness.py).

Run as `python -m tests.support.loop_child FOLDER BOARD_URL CONTROL_PORT HALL_URL TOKEN`: a small
fork server. It imports everything once (about a second on a loaded box), then for each line
`run SEED KILL_AT KILLS DAYS LOCKED_UNTIL` on stdin forks a *life* of the kiosk and answers
`started PID` and, when that life ends, `ended PID STATUS`. Forking keeps 200+ kills within the
test's time budget; every life still starts from nothing but the files and the board, as after a
real crash.

A life is the real core on the real files: the terminal's SQLite database, `CompartmentService`
over the serial Kerong column on the firmware stub, `CourierDesk`, `PickupDesk`, the outbox and
its sender to the real hall. It plays a seeded random sequence of citizen deposits, courier
collections (with a seal), result loads, pickups by code, signed QR or ID card, wrong codes
typed by a guesser (five in a minute lock the keypad), courier returns of overdue results, jams
and technician repairs, acting on the physical world only through the stub's control port.

Its clock runs DAYS ahead of the real one: the parent moves the calendar past the results'
keeping time now and then, so stored results fall overdue. LOCKED_UNTIL (epoch seconds on that
clock, 0: none) is the latest keypad lock an earlier life reported with `keypad-locked`: until
then a typed code must be refused unchecked, whatever the kills in between.

A life dies by SIGKILL: from the parent at a random moment, or from itself at its KILL_AT-th
checkpoint — just before and just after every commit of the main thread, just before and after
every unlock frame, after every movement of a hand — so the kill points cover every step of
every flow.

`drain KILLS DAYS` (instead of `run`) starts a life that only sends the outbox until it is empty,
prints `drained` or `not drained`, and exits.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from backend_client.caches import SqliteTaskFeed
from backend_client.client import HallClient
from backend_client.connectivity import ConnectivityMonitor
from backend_client.errors import HallClientError
from backend_client.sender import OutboxSender, SenderSettings
from devices.lockers.column import SerialLockerColumn
from devices.lockers.protocols import protocol_by_name
from firmware_stubs.control import send_control
from kiosk.compartments import (
    CompartmentError,
    CompartmentService,
    CompartmentState,
    DepositStatus,
    MaterialsForCentre,
    PickupCodeHasher,
)
from kiosk.courier import effects as courier_fx
from kiosk.courier.adapters import CourierDesk
from kiosk.courier.sign_in import CourierIdentity
from kiosk.outbox import Outbox
from kiosk.pickup import effects as pickup_fx
from kiosk.pickup.adapters import PickupDesk
from kiosk.pickup.guard import KeypadGuard
from kiosk.pickup.tokens import TerminalKeyStore
from kiosk.ports.identity import Identity
from kiosk.ports.lockers import DoorState, UnlockOutcome
from kiosk.storage import Actor, ActorKind, AuditLog, Database
from tests.support.loop_checks import WorldSnapshot, door_truth, parcel_truth
from tests.support.loop_world import COLUMN, STUB_NAME, loop_specs

FAST_CODES = PickupCodeHasher(n=2, r=1, p=1)  # production cost is not what this test is about
COURIER = CourierIdentity("CR-LOOP-01", "Loop courier", "courier")
TECHNICIAN = Actor(ActorKind.TECHNICIAN, "loop-technician")
GUESS_CHANCE = 0.12  # of a pickup turn: enough wrong codes to lock the keypad now and then
RESULT_KEEP_DAYS = 7  # the terminal's default; the parent's calendar jumps past it
READING_WAIT_S = 20.0  # generous: the suite runs on two workers of a loaded box
WORLD = "the world"


def utc_now() -> datetime:
    """The life's clock: the real time, plus the days the parent's calendar has moved on."""
    return datetime.now(UTC) + CARRIED.days_ahead


@dataclass
class FromEarlierLives:
    """What the parent carries from life to life, since a killed life cannot hand it on."""

    days_ahead: timedelta = timedelta(0)  # the calendar the lives' clock runs on
    keypad_locked_until: datetime | None = None  # the latest lock a life saw committed


CARRIED = FromEarlierLives()


# -- kill switch ----------------------------------------------------------------------------------


class KillSwitch:
    """SIGKILLs this process at its `kill_at`-th checkpoint (0: never); main thread only, so a
    seed gives the same kill point whatever the sender thread is doing."""

    def __init__(self, kill_at: int) -> None:
        self.kill_at = kill_at
        self.count = 0

    def checkpoint(self) -> None:
        if self.kill_at <= 0 or threading.current_thread() is not threading.main_thread():
            return
        self.count += 1
        if self.count >= self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)


SWITCH = KillSwitch(0)


class CheckpointedDatabase(Database):
    """The real database, with a checkpoint just before and just after each top-level commit."""

    def _statement(self, sql: str) -> None:
        if sql == "COMMIT":
            SWITCH.checkpoint()
            super()._statement(sql)
            SWITCH.checkpoint()
            return
        super()._statement(sql)


class CheckpointedColumn(SerialLockerColumn):
    """The real serial column, with a checkpoint just before and just after each unlock."""

    def unlock(self, compartment: int) -> UnlockOutcome:
        SWITCH.checkpoint()
        outcome = super().unlock(compartment)
        SWITCH.checkpoint()
        return outcome


# -- the core -------------------------------------------------------------------------------------


@dataclass
class Core:
    database: Database
    audit: AuditLog
    column: SerialLockerColumn
    service: CompartmentService
    outbox: Outbox
    courier: CourierDesk
    pickup: PickupDesk
    feed: SqliteTaskFeed
    hall: HallClient


def open_column(board_url: str, column_type: type[SerialLockerColumn]) -> SerialLockerColumn:
    return column_type(
        COLUMN,
        board_url,
        protocol_by_name("kerong-cu16", None),
        loop_specs(),
        fast_poll_s=0.1,
        idle_poll_s=0.5,
    )


def build_core(folder: Path, board_url: str, hall_url: str, token: str) -> Core:
    """What the composition root builds for these flows, minus the screens."""
    database = CheckpointedDatabase.open(folder / "terminal.sqlite3")
    audit = AuditLog(database, clock=utc_now)
    column = open_column(board_url, CheckpointedColumn)
    service = CompartmentService(database, audit, [column], clock=utc_now, code_hasher=FAST_CODES)
    column.start(service.locker_event_sink())
    wait_for_readings(column)
    service.start_up()
    outbox = Outbox(database)
    feed = SqliteTaskFeed(database)
    keys = TerminalKeyStore(database)
    courier = CourierDesk(
        database,
        service,
        outbox,
        feed,
        keys.pickup_qr_key,
        audit=audit,
        wall_clock=utc_now,
        keep_days=RESULT_KEEP_DAYS,
    )
    pickup = PickupDesk(
        service,
        database,
        outbox,
        KeypadGuard(database, utc_now),
        keys.pickup_qr_key,
        wall_clock=utc_now,
    )
    hall = hall_client(hall_url, token)
    return Core(database, audit, column, service, outbox, courier, pickup, feed, hall)


def hall_client(hall_url: str, token: str) -> HallClient:
    """Plain HTTP on loopback: no TLS context to build, which would cost each life ~0.1 s of CPU
    per client (httpx loads the CA bundle even for http:// URLs)."""
    return HallClient(hall_url, token, timeout_s=5, transport=httpx.HTTPTransport(verify=False))


def start_sender(outbox: Outbox, hall_url: str, token: str) -> OutboxSender:
    return OutboxSender(
        outbox,
        lambda: hall_client(hall_url, token),
        ConnectivityMonitor(outbox),
        settings=SenderSettings(backoff_base_s=0.02, backoff_cap_s=0.2, idle_check_s=0.05),
    ).start()


def wait_for_readings(column: SerialLockerColumn) -> None:
    """The first poll gives the baseline start-up reconciles against (an unknown door would
    reconcile as `unknown`)."""
    deadline = time.monotonic() + READING_WAIT_S
    while time.monotonic() < deadline:
        column.poll_once()
        if all(r.door is not DoorState.UNKNOWN for r in column.readings().values()):
            return
    raise RuntimeError("the lock board stub gave no reading; is the parent's world running?")


# -- the people -----------------------------------------------------------------------------------


class Hands:
    """The people at the terminal, acting on the world through the stub's control port."""

    def __init__(self, control_port: int) -> None:
        self._port = control_port

    def __call__(self, command: str, **args: Any) -> dict[str, Any]:
        reply = send_control(STUB_NAME, command, port=self._port, **args)
        SWITCH.checkpoint()
        return reply

    def holding(self, place: str) -> list[str]:
        return list(self("hands", place=place)["items"])


class Life:
    """One life of the kiosk: random flows until killed."""

    def __init__(self, core: Core, hands: Hands, rng: random.Random) -> None:
        self.core = core
        self.hands = hands
        self.rng = rng

    def run(self) -> None:
        actions: list[tuple[str, Callable[[], bool]]] = [
            ("deposit", self.deposit),
            ("collect", self.collect),
            ("load", self.load),
            ("pickup", self.pickup),
            ("return", self.take_back),
        ]
        while True:
            if self.rng.random() < 0.03:
                number = self.rng.randint(1, len(loop_specs()))
                self.hands("jam", compartment=number)
            if self.rng.random() < 0.15 or not self.free_compartments():
                self.repair()
            self.rng.shuffle(actions)
            if not any(action() for _, action in actions):
                time.sleep(0.05)  # nothing to do until the hall moves; not a test's wait

    # -- flows --------------------------------------------------------------------------------
    def deposit(self) -> bool:
        """A citizen submits and hands in their papers (the apply flow's deposit, in short)."""
        papers = self.hands.holding("citizen")
        if not papers:
            return False
        label = papers[0]
        reference = label.split(":", 1)[1]
        core = self.core
        # Pending first: the sender may deliver between the two looks, and delivery moves a
        # reference from the outbox to the acknowledged ones in one commit.
        if not core.outbox.is_pending(reference) and core.outbox.hall_id_for(reference) is None:
            core.outbox.enqueue_submission(reference, birth_submission(reference))
        citizen = Actor(ActorKind.CITIZEN, reference)
        held = core.service.reserve("S", holder=citizen)
        if held is None:
            return False
        opening = core.service.open_for_deposit(held.id, actor=citizen)
        if not opening.opened:
            self.release(held.id, citizen)
            return True
        self.hands("put", label=label, compartment=held.compartment, **{"from": "citizen"})
        self.hands("close", compartment=held.compartment)
        self.await_reading(held.compartment, item=True)
        with core.database.transaction():
            result = core.service.confirm_deposit(
                held.id, MaterialsForCentre(reference), actor=citizen, citizen_confirmed=True
            )
            if result.status is DepositStatus.DEPOSITED:
                core.outbox.enqueue_event(
                    {
                        "event_id": f"deposited-{reference}",
                        "type": "deposited",
                        "occurred_at": _iso(utc_now()),
                        "compartment": f"{COLUMN}{held.compartment:02d}",
                        "courier_card_id": None,
                        "detail": None,
                    },
                    submission_reference=reference,
                )
        if result.status is not DepositStatus.DEPOSITED:
            anomaly(f"deposit into {held.compartment} not confirmed: {result.status.value}")
        return True

    def collect(self) -> bool:
        """The courier empties one compartment of materials, seals the bag and confirms."""
        core = self.core
        materials = core.courier.work().materials
        if not materials:
            return False
        parcel = self.rng.choice(materials)
        if core.courier.open_for_removal(parcel, "collect", COURIER) not in _OPENED:
            return True
        self.hands("take", compartment=parcel.compartment, to="centre")
        core.courier.bind_seal(parcel, f"SEAL-{parcel.submission_id}", COURIER)
        self.hands("close", compartment=parcel.compartment)
        self.await_reading(parcel.compartment, item=False)
        verdict = core.courier.confirm_removal(
            parcel, "collect", COURIER, None, person_confirmed=True
        )
        if verdict != "removed":
            anomaly(f"collection from {parcel.compartment} not confirmed: {verdict}")
        return True

    def load(self) -> bool:
        """The courier loads one envelope from the bag into a free compartment."""
        core = self.core
        envelopes = self.hands.holding("bag")
        if not envelopes:
            return False
        try:
            core.feed.store(core.hall.tasks())
        except HallClientError:
            return False
        label = self.rng.choice(envelopes)
        matched = core.courier.match_envelope(label.split(":", 1)[1])
        if not isinstance(matched, courier_fx.EnvelopeMatched):
            # the hall has not listed it yet (its result_produced is younger than the feed)
            return False
        slot = core.courier.reserve(matched.task, matched.task.suggested_size, COURIER)
        if slot is None:
            return False
        if core.courier.open_for_load(slot, COURIER) not in _OPENED:
            core.courier.release(slot, COURIER)
            return True
        self.hands("put", label=label, compartment=slot.compartment, **{"from": "bag"})
        self.hands("close", compartment=slot.compartment)
        self.await_reading(slot.compartment, item=True)
        verdict = core.courier.confirm_load(matched.task, slot, COURIER, courier_confirmed=True)
        if verdict != "loaded":
            anomaly(f"load into {slot.compartment} not confirmed: {verdict}")
        return True

    def pickup(self) -> bool:
        """A citizen with the SMS shows the QR or types the code, takes the envelope."""
        core = self.core
        if self.rng.random() < GUESS_CHANCE:
            return self.guess_a_code()
        phones: dict[str, dict[str, str]] = self.hands("phones")["phones"]
        if not phones:
            return False
        tracking = self.rng.choice(sorted(phones))
        method: pickup_fx.PickupMethod = self.rng.choice(("qr", "code", "id_card"))
        phone = phones[tracking]
        overdue = tracking in {p.tracking_number for p in core.service.overdue_results()}
        if method == "qr":
            found = core.pickup.find_by_qr(phone["qr"])
        elif method == "code":
            found = self.type_code(phone["code"])
            if isinstance(found, pickup_fx.KeypadLocked):
                return False  # the citizen comes back later, or uses the QR
        else:  # the applicant's ID card: every result of theirs, this one among them
            found = core.pickup.find_by_id_card(APPLICANT_CARD)
        if method != "id_card" and overdue != said_expired(found):
            anomaly(f"the {method} of {tracking} (overdue: {overdue}) was answered {found}")
            return True
        if not isinstance(found, pickup_fx.ParcelsFound):
            # the terminal may have flagged or lost track of it; the checker judges that
            return False
        parcel = next((p for p in found.parcels if p.tracking_number == tracking), None)
        if overdue:
            if parcel is not None:
                anomaly(f"the ID card was offered {tracking} after its keeping time")
            return False  # it waits for the courier to take it back
        if parcel is None:
            anomaly(f"the {method} of {tracking} found other parcels: {found.parcels}")
            return True
        opened = core.pickup.open_for_pickup(parcel, method, 1)
        assert isinstance(opened, pickup_fx.DoorOpenedForPickup)
        if opened.outcome not in _OPENED:
            return True
        if self.rng.random() < 0.15:
            return self.leave_it(parcel, method)
        self.hands("take", compartment=parcel.compartment, to="home")
        self.hands("close", compartment=parcel.compartment)
        self.await_reading(parcel.compartment, item=False)
        checked = core.pickup.confirm_pickup(parcel, method, person_confirmed=True)
        assert isinstance(checked, pickup_fx.RemovalChecked)
        if checked.verdict != "removed":
            anomaly(f"pickup from {parcel.compartment} not confirmed: {checked.verdict}")
        return True

    def guess_a_code(self) -> bool:
        """Someone types one to three made-up codes: each counted as wrong, and the fifth in a
        minute locks the keypad, persisted, for every code typed after it (the owners' too)."""
        for _ in range(self.rng.randint(1, 3)):
            guess = f"{self.rng.randrange(10**8):08d}"
            found = self.type_code(guess)
            if isinstance(found, pickup_fx.ParcelsFound):
                continue  # a one-in-millions hit on a real code: not opened, nothing to check
            if not isinstance(found, pickup_fx.CodeWrong | pickup_fx.KeypadLocked):
                anomaly(f"a made-up code {guess} was answered {found}")
        return True

    def type_code(self, code: str) -> object:
        """A code typed on the keypad; a lock the terminal shows is reported to the parent
        (committed by then), and a lock an earlier life reported must still hold."""
        found = self.core.pickup.find_by_code(code)
        remembered = CARRIED.keypad_locked_until
        shown = (
            found.locked_until
            if isinstance(found, pickup_fx.KeypadLocked | pickup_fx.CodeWrong)
            else None
        )
        if shown is not None:
            report_lock(shown)
        elif remembered is not None and utc_now() < remembered:
            anomaly(f"a code was checked while the keypad was locked until {remembered}: {found}")
        return found

    def leave_it(self, parcel: pickup_fx.WaitingParcel, method: pickup_fx.PickupMethod) -> bool:
        """The citizen closes the door without taking the envelope: recorded as not taken, the
        compartment flagged for staff, the parcel still there for a later pickup."""
        core = self.core
        self.hands("close", compartment=parcel.compartment)
        self.await_reading(parcel.compartment, item=True)
        checked = core.pickup.confirm_pickup(parcel, method, person_confirmed=False)
        assert isinstance(checked, pickup_fx.RemovalChecked)
        if checked.verdict != "still_there":
            anomaly(f"an envelope left in {parcel.compartment} read as {checked.verdict}")
            return True
        core.pickup.record_not_taken(parcel, method, "the citizen left it (crash harness)")
        return True

    def take_back(self) -> bool:
        """The courier takes an overdue result back to the centre."""
        core = self.core
        returns = core.courier.work().returns
        if not returns:
            return False
        parcel = self.rng.choice(returns)
        if core.courier.open_for_removal(parcel, "return", COURIER) not in _OPENED:
            return True
        self.hands("take", compartment=parcel.compartment, to="centre")
        self.hands("close", compartment=parcel.compartment)
        self.await_reading(parcel.compartment, item=False)
        verdict = core.courier.confirm_removal(
            parcel, "return", COURIER, None, person_confirmed=True
        )
        if verdict != "removed":
            anomaly(f"return from {parcel.compartment} not confirmed: {verdict}")
        return True

    def repair(self) -> None:
        """A technician frees jammed locks and empties what the terminal took out of service.

        A compartment holding a parcel the terminal knows is only returned to service (the
        parcel stays for its courier or citizen); anything else inside goes back to its owner.
        """
        core = self.core
        for compartment in core.service.compartments():
            if compartment.state is not CompartmentState.OUT_OF_SERVICE:
                continue
            number = compartment.number
            self.hands("unjam", compartment=number)
            held = [p for p in core.service.stored_parcels() if p.compartment == number]
            if not held:
                opening = core.service.open_door(number, actor=TECHNICIAN, reason="loop repair")
                if opening.outcome not in _OPENED:
                    continue
                self.hands("take", compartment=number, to="owner")
                self.hands("close", compartment=number)
                self.await_reading(number, item=False)
                core.service.staff_emptied(number, actor=TECHNICIAN, note="loop repair")
            core.service.return_to_service(number, actor=TECHNICIAN, note="loop repair")

    # -- helpers ------------------------------------------------------------------------------
    def free_compartments(self) -> int:
        return sum(self.core.service.free_counts().values())

    def release(self, reservation_id: str, actor: Actor) -> None:
        with contextlib.suppress(CompartmentError):  # a jam ended it already
            self.core.service.release(reservation_id, actor=actor, reason="door did not open")

    def await_reading(self, number: int, *, item: bool) -> None:
        """Poll the board until it reads the door shut (and the sensor as the hand left it)."""
        column = self.core.column
        deadline = time.monotonic() + READING_WAIT_S
        while time.monotonic() < deadline:
            column.poll_once()
            reading = column.readings()[number]
            if reading.door is DoorState.CLOSED and reading.item_present is item:
                return
        anomaly(f"compartment {number} did not read shut with item={item}")


_OPENED = (UnlockOutcome.OPENED, UnlockOutcome.ALREADY_OPEN)


def report_lock(until: datetime) -> None:
    print(f"keypad-locked {until.timestamp():.3f}", flush=True)


def said_expired(found: object) -> bool:
    """The keeping time is over: told by the parcel's expiry, or by the signed QR's own."""
    if isinstance(found, pickup_fx.QrRefused):
        return found.reason == "expired"
    return isinstance(found, pickup_fx.ResultExpired)


def anomaly(text: str) -> None:
    """Something a correct kiosk should not do; the parent fails the test on these lines."""
    print(f"anomaly {text}", flush=True)


APPLICANT_CARD = Identity(name="张秀英", id_number="430821198503120023", source="id_card")


def birth_submission(reference: str) -> dict[str, Any]:
    return {
        "item_ids": ["hh-birth-registration"],
        "applicant": {
            "id_number": APPLICANT_CARD.id_number,
            "name": APPLICANT_CARD.name,
            "phone": "13800138000",
        },
        "forms": {
            "hh-birth-registration": {
                "child_name": f"王{reference[-4:]}",
                "child_birth_date": "2025-03-01",
                "child_sex": "male",
                "register_with": "mother",
            }
        },
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- lives and the fork server --------------------------------------------------------------


@dataclass
class LifeArgs:
    """Where a life finds its files, its board and its hall."""

    folder: Path
    board_url: str
    control_port: int
    hall_url: str
    token: str


def check(core: Core, control_port: int, kills: int) -> None:
    """The invariants, on what the previous life left and this start-up settled; before any
    flow or the sender moves, so the world and the files hold still while they are compared."""
    world = WorldSnapshot.from_reply(send_control(STUB_NAME, "snapshot", port=control_port))
    for finding in door_truth(core.audit, world, kills) + parcel_truth(core.service, world):
        anomaly(f"after kill {kills}: {finding}")
    print(f"checked {kills}", flush=True)


def live(args: LifeArgs, seed: int, kill_at: int, kills: int) -> None:
    SWITCH.kill_at = kill_at
    core = build_core(args.folder, args.board_url, args.hall_url, args.token)
    check(core, args.control_port, kills)
    start_sender(core.outbox, args.hall_url, args.token)
    print("ready", flush=True)
    Life(core, Hands(args.control_port), random.Random(seed)).run()


def drain(args: LifeArgs, kills: int) -> None:
    core = build_core(args.folder, args.board_url, args.hall_url, args.token)
    check(core, args.control_port, kills)
    sender = start_sender(core.outbox, args.hall_url, args.token)
    deadline = time.monotonic() + 60
    while core.outbox.stats().size - core.outbox.stats().parked and time.monotonic() < deadline:
        time.sleep(0.05)
    sender.stop()
    stats = core.outbox.stats()
    print("drained" if stats.size == stats.parked else "not drained", flush=True)


def serve(args: LifeArgs) -> None:
    """Fork one life per command; the server itself never opens the database or a socket."""
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            return
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                if words[0] == "drain":
                    CARRIED.days_ahead = timedelta(days=int(words[2]))
                    drain(args, int(words[1]))
                else:
                    CARRIED.days_ahead = timedelta(days=int(words[4]))
                    locked = float(words[5])
                    CARRIED.keypad_locked_until = (
                        datetime.fromtimestamp(locked, UTC) if locked > 0 else None
                    )
                    live(args, int(words[1]), int(words[2]), int(words[3]))
            except BaseException as err:  # noqa: BLE001 - report, then leave without cleanup
                print(f"anomaly the kiosk process failed: {err!r}", flush=True)
                code = 1
            sys.stdout.flush()
            os._exit(code)
        print(f"started {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"ended {pid} {os.waitstatus_to_exitcode(status)}", flush=True)


if __name__ == "__main__":
    folder, board_url, control_port, hall_url, token = sys.argv[1:6]
    serve(LifeArgs(Path(folder), board_url, int(control_port), hall_url, token))
