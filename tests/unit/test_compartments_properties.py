"""Random sequences of everything people, boards and power cuts do to the compartments.

A hypothesis state machine drives `CompartmentService` over two fake columns (one with item
sensors, one without), a fake clock and a real SQLite file, and after every step checks what must
never happen: two parcels in one compartment, a free compartment holding a parcel, a parcel lost
or appearing from nowhere, a door unlocked without an audited intent, an intent left without an
outcome once start-up has reconciled. "Crash" kills the service between the pulse and the outcome
and "restart" re-opens the same database file, as a power cut and a reboot would.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kiosk.compartments import (
    CompartmentNotAvailable,
    CompartmentService,
    CompartmentState,
    DepositStatus,
    MaterialsForCentre,
    ParcelKind,
    ParcelStatus,
    PickupCodeHasher,
    RemovalStatus,
    Reservation,
    ReservationPurpose,
    ResultForCitizen,
    subject_of,
)
from kiosk.compartments.testing import FakeLockerColumn, FakeWallClock, column_specs
from kiosk.ports.lockers import DoorState
from kiosk.storage import DOOR_OPEN, AuditLog, Database
from kiosk.storage.audit import Actor, ActorKind

CITIZEN = Actor(ActorKind.CITIZEN, "session")
COURIER = Actor(ActorKind.COURIER, "C-0001")
TECHNICIAN = Actor(ActorKind.TECHNICIAN, "T-1")
SIZES = st.sampled_from(["S", "M", "L"])
USUALLY = st.sampled_from([True, True, True, True, False])  # people mostly do the right thing


class Crash(BaseException):
    pass


def _place(reservation: Reservation) -> int:
    return reservation.compartment


class CompartmentMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="compartments-"))
        self.path = self.folder / "terminal.sqlite3"
        self.clock = FakeWallClock()
        self.sensed = FakeLockerColumn("A", column_specs("A", "SSML"))
        self.unsensed = FakeLockerColumn(
            "B", column_specs("B", "SML", first_number=5), item_sensor=False
        )
        self.columns = {**dict.fromkeys(range(1, 5), self.sensed)}
        self.columns.update(dict.fromkeys(range(5, 8), self.unsensed))
        self.database = Database.open(self.path)
        self.stored: set[str] = set()  # the parcels the service has told us it stored
        self.removed: set[str] = set()
        self.service = self._start()

    def _start(self) -> CompartmentService:
        self.audit = AuditLog(self.database, clock=self.clock)
        service = CompartmentService(
            self.database,
            self.audit,
            [self.sensed, self.unsensed],
            clock=self.clock,
            code_hasher=PickupCodeHasher(n=2, r=1, p=1),
            hold_s=60,
        )
        for column in (self.sensed, self.unsensed):
            column.start(service.locker_event_sink())
        service.start_up()
        return service

    def teardown(self) -> None:
        self.database.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- helpers ---------------------------------------------------------------------------------

    # Ids are random; draws pick by compartment number so a replayed run picks the same thing.
    def _active_reservations(self) -> list[str]:
        return [r.id for r in sorted(self.service.active_reservations(), key=_place)]

    def _stored_parcels(self) -> list[str]:
        return [p.id for p in self.service.stored_parcels()]  # ordered by compartment

    def _door_open(self, number: int) -> bool:
        return self.columns[number].doors[number] is DoorState.OPEN

    # -- what people and boards do ---------------------------------------------------------------

    @rule(size=SIZES, courier=st.booleans())
    def reserve(self, size: str, courier: bool) -> None:
        purpose = (
            ReservationPurpose.LOAD_RESULT if courier else ReservationPurpose.DEPOSIT_MATERIALS
        )
        reservation = self.service.reserve(
            size,  # type: ignore[arg-type]
            holder=COURIER if courier else CITIZEN,
            purpose=purpose,
        )
        if reservation is not None:
            assert reservation.size in ("S", "M", "L")[("S", "M", "L").index(size) :]

    @rule(data=st.data())
    def open_for_deposit(self, data: st.DataObject) -> None:
        active = self._active_reservations()
        if active:
            self.service.open_for_deposit(data.draw(st.sampled_from(active)), actor=CITIZEN)

    @rule(number=st.integers(1, 7), put=st.booleans())
    def hand_in_or_take(self, number: int, put: bool) -> None:
        if not self._door_open(number):
            return  # hands cannot pass a closed door
        column = self.columns[number]
        if put:
            column.put_item(number)
        else:
            column.take_item(number)

    @rule(number=st.integers(1, 7))
    def close_door(self, number: int) -> None:
        self.columns[number].close_by_hand(number)

    @rule(number=st.integers(1, 7))
    def force_door(self, number: int) -> None:
        self.columns[number].force_open(number)

    @rule(number=st.integers(1, 7))
    def toggle_jam(self, number: int) -> None:
        self.columns[number].jammed ^= {number}

    @rule(sensed=st.booleans())
    def toggle_silence(self, sensed: bool) -> None:
        column = self.sensed if sensed else self.unsensed
        column.silent = not column.silent

    @rule(data=st.data(), confirmed=st.booleans())
    def confirm_deposit(self, data: st.DataObject, confirmed: bool) -> None:
        active = sorted(self.service.active_reservations(), key=_place)
        if not active:
            return
        reservation = data.draw(st.sampled_from(active))
        contents: MaterialsForCentre | ResultForCitizen
        if reservation.purpose is ReservationPurpose.LOAD_RESULT:
            contents = ResultForCitizen(
                "sub", "12345678", self.clock.now.replace(year=self.clock.now.year + 1)
            )
        else:
            contents = MaterialsForCentre("sub")
        try:
            result = self.service.confirm_deposit(
                reservation.id, contents, actor=CITIZEN, citizen_confirmed=confirmed
            )
        except CompartmentNotAvailable:
            assert not reservation.door_opened
            return
        event(f"deposit: {result.status.value}")
        if result.status is DepositStatus.DEPOSITED:
            assert result.parcel is not None
            assert result.parcel.compartment == reservation.compartment
            self.stored.add(result.parcel.id)

    @rule(
        size=SIZES,
        courier=st.booleans(),
        put=USUALLY,
        close=USUALLY,
        confirmed=st.booleans(),
    )
    def whole_hand_in(
        self, size: str, courier: bool, put: bool, close: bool, confirmed: bool
    ) -> None:
        """The usual sequence in one step, so random runs reach deposits often."""
        purpose = (
            ReservationPurpose.LOAD_RESULT if courier else ReservationPurpose.DEPOSIT_MATERIALS
        )
        holder = COURIER if courier else CITIZEN
        reservation = self.service.reserve(size, holder=holder, purpose=purpose)  # type: ignore[arg-type]
        if reservation is None:
            event("hand-in: nothing free")
            return
        number = reservation.compartment
        if not self.service.open_for_deposit(reservation.id, actor=holder).opened:
            event("hand-in: door did not open")
            return
        if put and self._door_open(number):
            self.columns[number].put_item(number)
        if close:
            self.columns[number].close_by_hand(number)
        contents: MaterialsForCentre | ResultForCitizen = (
            ResultForCitizen("sub", "12345678", self.clock.now.replace(year=2100))
            if courier
            else MaterialsForCentre("sub")
        )
        result = self.service.confirm_deposit(
            reservation.id, contents, actor=holder, citizen_confirmed=confirmed
        )
        event(f"hand-in: {result.status.value}")
        if result.parcel is not None:
            self.stored.add(result.parcel.id)

    @precondition(lambda self: bool(self.stored))
    @rule(data=st.data(), take=USUALLY, close=USUALLY, confirmed=st.booleans())
    def whole_take_out(self, data: st.DataObject, take: bool, close: bool, confirmed: bool) -> None:
        parcel = self.service.parcel(data.draw(st.sampled_from(self._stored_parcels())))
        number = parcel.compartment
        self.service.open_for_removal(parcel.id, actor=COURIER, reason="take out")
        if take and self._door_open(number):
            self.columns[number].take_item(number)
        if close:
            self.columns[number].close_by_hand(number)
        ending = (
            ParcelStatus.COLLECTED
            if parcel.kind is ParcelKind.MATERIALS
            else ParcelStatus.PICKED_UP
        )
        result = self.service.confirm_removed(
            parcel.id, ending=ending, actor=COURIER, person_confirmed=confirmed
        )
        event(f"take-out: {result.status.value}")
        if result.status is RemovalStatus.REMOVED:
            self.stored.discard(parcel.id)
            self.removed.add(parcel.id)

    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        active = self._active_reservations()
        if active:
            self.service.release(data.draw(st.sampled_from(active)), actor=CITIZEN, reason="r")

    @rule(seconds=st.sampled_from([1.0, 30.0, 61.0, 3600.0]))
    def time_passes(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.service.expire_reservations()

    @precondition(lambda self: bool(self.stored))
    @rule(data=st.data())
    def open_for_removal(self, data: st.DataObject) -> None:
        parcel_id = data.draw(st.sampled_from(self._stored_parcels()))
        self.service.open_for_removal(parcel_id, actor=COURIER, reason="take out")

    @precondition(lambda self: bool(self.stored))
    @rule(data=st.data(), confirmed=st.booleans())
    def confirm_removed(self, data: st.DataObject, confirmed: bool) -> None:
        parcel_id = data.draw(st.sampled_from(self._stored_parcels()))
        parcel = self.service.parcel(parcel_id)
        ending = (
            ParcelStatus.COLLECTED
            if parcel.kind is ParcelKind.MATERIALS
            else ParcelStatus.PICKED_UP
        )
        result = self.service.confirm_removed(
            parcel_id, ending=ending, actor=COURIER, person_confirmed=confirmed
        )
        event(f"removal: {result.status.value}")
        if result.status is RemovalStatus.REMOVED:
            self.stored.discard(parcel_id)
            self.removed.add(parcel_id)

    @rule(number=st.integers(1, 7))
    def technician_returns_to_service(self, number: int) -> None:
        self.service.return_to_service(number, actor=TECHNICIAN, note="checked")

    @rule(number=st.integers(1, 7))
    def technician_empties_by_hand(self, number: int) -> None:
        self.columns[number].take_item(number)
        emptied = self.service.staff_emptied(number, actor=TECHNICIAN, note="by hand")
        if emptied is not None:
            self.stored.discard(emptied.id)
            self.removed.add(emptied.id)

    @rule(number=st.integers(1, 7))
    def technician_opens(self, number: int) -> None:
        self.service.open_door(number, actor=TECHNICIAN, reason="inspection")

    @rule(data=st.data(), number=st.integers(1, 7))
    def crash_during_an_unlock(self, data: st.DataObject, number: int) -> None:
        column = self.columns[number]

        def die(_: int) -> None:
            raise Crash

        column.after_pulse = die
        try:
            choice = data.draw(st.sampled_from(["door", "deposit", "removal"]))
            active = self._active_reservations()
            if choice == "deposit" and active:
                reservation = self.service.reservation(data.draw(st.sampled_from(active)))
                self.columns[reservation.compartment].after_pulse = die
                self.service.open_for_deposit(reservation.id, actor=CITIZEN)
            elif choice == "removal" and self.stored:
                parcel = self.service.parcel(data.draw(st.sampled_from(self._stored_parcels())))
                self.columns[parcel.compartment].after_pulse = die
                self.service.open_for_removal(parcel.id, actor=COURIER, reason="take out")
            else:
                choice = "door"
                self.service.open_door(number, actor=TECHNICIAN, reason="remote")
        except Crash:
            event(f"crash during {choice}")
        finally:
            for each in (self.sensed, self.unsensed):
                each.after_pulse = None
        self.restart()

    @rule()
    def restart(self) -> None:
        self.database.close()
        self.database = Database.open(self.path)
        self.service = self._start()

    # -- what must always hold ------------------------------------------------------------------

    @invariant()
    def never_two_parcels_in_one_compartment(self) -> None:
        places = Counter(p.compartment for p in self.service.stored_parcels())
        assert all(count == 1 for count in places.values()), places

    @invariant()
    def no_parcel_lost_or_invented(self) -> None:
        assert {p.id for p in self.service.stored_parcels()} == self.stored
        for parcel_id in self.removed:
            assert self.service.parcel(parcel_id).status is not ParcelStatus.STORED

    @invariant()
    def states_agree_with_contents_and_reservations(self) -> None:
        holding = {p.compartment for p in self.service.stored_parcels()}
        reserved = Counter(r.compartment for r in self.service.active_reservations())
        for compartment in self.service.compartments():
            if compartment.state in (CompartmentState.FREE, CompartmentState.RESERVED):
                assert compartment.number not in holding, compartment
            if compartment.state is CompartmentState.OCCUPIED:
                assert compartment.number in holding, compartment
            expected = 1 if compartment.state is CompartmentState.RESERVED else 0
            assert reserved[compartment.number] == expected, compartment

    @invariant()
    def every_unlock_has_its_intent_and_an_outcome(self) -> None:
        intents: Counter[int] = Counter()
        outcomes: Counter[int] = Counter()
        for number in range(1, 8):
            for record in self.audit.for_subject(subject_of(number), limit=10_000):
                if record.action != DOOR_OPEN:
                    continue
                if record.intent_id is None:
                    intents[number] += 1
                else:
                    outcomes[number] += 1
        unlocks = Counter(self.sensed.unlocks() + self.unsensed.unlocks())
        assert intents == unlocks
        assert outcomes == intents  # crashes are followed by a restart, which reconciles
        assert [e for e in self.audit.pending_intents() if e.action == DOOR_OPEN] == []


# CI runs a modest number of sequences (a commit is an fsync: about 30 s on a loaded 2-core box);
# COMPARTMENTS_EXAMPLES=1000 runs a longer search.
CompartmentMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("COMPARTMENTS_EXAMPLES", "40")),
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestCompartmentMachine = CompartmentMachine.TestCase
