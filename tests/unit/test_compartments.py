"""CompartmentService over fake locker columns, a real SQLite file and a fake clock.

Column A (1-6, sizes SSMMLL) has item sensors; column B (7-9, S M L) has none, like many cheap
boards. Every test drives the doors through the fake column as a citizen or courier would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from kiosk.compartments import (
    CompartmentError,
    CompartmentMapError,
    CompartmentNeedsAttention,
    CompartmentNotAvailable,
    CompartmentService,
    CompartmentState,
    CompartmentTakenOutOfService,
    DepositStatus,
    DoorAlarmRaised,
    MaterialsForCentre,
    ParcelKind,
    ParcelStatus,
    PickupCodeHasher,
    ReleaseStatus,
    RemovalStatus,
    ReservationNotActive,
    ReservationPurpose,
    ReservationStatus,
    ResultForCitizen,
    UnknownCompartment,
    applicant_id_sha256,
    pickup_code_matches,
    subject_of,
)
from kiosk.compartments.codes import PickupCodeFormatError
from kiosk.compartments.testing import FakeLockerColumn, FakeWallClock, column_specs
from kiosk.ports.lockers import (
    DoorOpenedWithoutCommand,
    DoorState,
    LockerError,
    UnlockOutcome,
)
from kiosk.storage import DOOR_OPEN, AuditLog, ConstraintViolation, Database, Outcome
from kiosk.storage.audit import Actor, ActorKind

CITIZEN = Actor(ActorKind.CITIZEN, "session-1")
COURIER = Actor(ActorKind.COURIER, "C-0001")
TECHNICIAN = Actor(ActorKind.TECHNICIAN, "T-7")
FAST_CODES = PickupCodeHasher(n=2, r=1, p=1)  # the real cost is for production, not for tests


class Crash(BaseException):
    """Stands for the process dying between the unlock and the outcome."""


@dataclass
class World:
    path: Path
    clock: FakeWallClock
    column_a: FakeLockerColumn
    column_b: FakeLockerColumn
    database: Database
    audit: AuditLog
    service: CompartmentService
    alerts: list[object] = field(default_factory=list)
    forwarded: list[object] = field(default_factory=list)

    def restart(self, *columns: FakeLockerColumn) -> None:
        """A new process on the same database file and the same (physical) columns."""
        self.database.close()
        self.database = Database.open(self.path)
        self.audit = AuditLog(self.database, clock=self.clock)
        self.service = build_service(self, columns or (self.column_a, self.column_b))
        self.service.start_up()


def build_service(world: World, columns: tuple[FakeLockerColumn, ...]) -> CompartmentService:
    service = CompartmentService(
        world.database,
        world.audit,
        columns,
        clock=world.clock,
        alerts=world.alerts.append,
        code_hasher=FAST_CODES,
        hold_s=120,
    )
    for column in columns:
        column.start(service.locker_event_sink(world.forwarded.append))
    return service


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    clock = FakeWallClock()
    path = tmp_path / "terminal.sqlite3"
    database = Database.open(path)
    audit = AuditLog(database, clock=clock)
    column_a = FakeLockerColumn("A", column_specs("A", "SSMMLL"))
    column_b = FakeLockerColumn("B", column_specs("B", "SML", first_number=7), item_sensor=False)
    placeholder = CompartmentService(database, audit, [])
    built = World(path, clock, column_a, column_b, database, audit, placeholder)
    built.service = build_service(built, (column_a, column_b))
    built.service.start_up()
    yield built
    built.database.close()


def deposit(world: World, number_hint: str = "S", submission: str = "sub-1") -> str:
    """Reserve, open, put the papers in, close, confirm: the happy hand-in. Returns parcel id."""
    reservation = world.service.reserve(number_hint, holder=CITIZEN)  # type: ignore[arg-type]
    assert reservation is not None
    world.service.open_for_deposit(reservation.id, actor=CITIZEN)
    column = column_of(world, reservation.compartment)
    column.put_item(reservation.compartment)
    column.close_by_hand(reservation.compartment)
    result = world.service.confirm_deposit(
        reservation.id,
        MaterialsForCentre(submission, "GZ-1"),
        actor=CITIZEN,
        citizen_confirmed=True,
    )
    assert result.status is DepositStatus.DEPOSITED
    assert result.parcel is not None
    return result.parcel.id


def load_result(world: World, size: str, code: str, *, days: int = 7, id_number: str = "") -> str:
    reservation = world.service.reserve(
        size,  # type: ignore[arg-type]
        holder=COURIER,
        purpose=ReservationPurpose.LOAD_RESULT,
    )
    assert reservation is not None
    world.service.open_for_deposit(reservation.id, actor=COURIER, reason="load result")
    column = column_of(world, reservation.compartment)
    column.put_item(reservation.compartment)
    column.close_by_hand(reservation.compartment)
    contents = ResultForCitizen(
        "sub-9",
        code,
        world.clock.now + timedelta(days=days),
        "GZ-9",
        applicant_id_sha256(id_number) if id_number else None,
    )
    result = world.service.confirm_deposit(
        reservation.id, contents, actor=COURIER, citizen_confirmed=True
    )
    assert result.parcel is not None
    return result.parcel.id


def column_of(world: World, number: int) -> FakeLockerColumn:
    return world.column_a if number <= 6 else world.column_b


def door_records(world: World, number: int) -> list[tuple[str, int | None]]:
    events = world.audit.for_subject(subject_of(number), limit=200)
    return [(e.outcome.value, e.intent_id) for e in reversed(events) if e.action == DOOR_OPEN]


# -- start-up and the compartment map ----------------------------------------------------------


def test_start_up_copies_the_map_and_the_readings(world: World) -> None:
    compartments = world.service.compartments()
    assert [c.number for c in compartments] == list(range(1, 10))
    first, seventh = compartments[0], compartments[6]
    assert (first.column, first.size, first.row, first.col) == ("A", "S", 1, 1)
    assert first.state is CompartmentState.FREE
    assert first.door is DoorState.CLOSED
    assert first.item_present is False
    assert (seventh.column, seventh.item_present) == ("B", None)
    assert world.service.free_counts() == {"S": 3, "M": 3, "L": 3}


def test_a_compartment_leaving_the_map_with_a_parcel_is_flagged_not_dropped(
    world: World,
) -> None:
    parcel_id = deposit(world, "S")  # compartment 1
    smaller = FakeLockerColumn("A", column_specs("A", "MMMM", first_number=3))  # 1, 2 gone; 3-6
    world.alerts.clear()
    world.restart(smaller, world.column_b)
    one, two = world.service.compartment(1), world.service.compartment(2)
    assert (one.in_map, one.state) == (False, CompartmentState.OCCUPIED)
    assert parcel_id in one.attention
    assert (two.in_map, two.state, two.attention) == (False, CompartmentState.FREE, "")
    assert world.service.parcel(parcel_id).status is ParcelStatus.STORED
    assert any(
        isinstance(a, CompartmentNeedsAttention) and a.compartment == 1 for a in world.alerts
    )
    assert world.service.compartment(5).size == "M"  # was L: the map's size wins
    # a compartment out of the map is never offered, even if free
    reservation = world.service.reserve("S", holder=CITIZEN)
    assert reservation is not None
    assert reservation.compartment == 7
    with pytest.raises(UnknownCompartment):
        world.service.open_for_removal(parcel_id, actor=COURIER, reason="collect")
    world.restart(world.column_a, world.column_b)
    assert world.service.compartment(1).in_map is True


def test_staff_can_empty_a_compartment_the_terminal_cannot_open(world: World) -> None:
    parcel_id = deposit(world, "S")
    world.restart(FakeLockerColumn("A", column_specs("A", "MMMM", first_number=3)), world.column_b)
    emptied = world.service.staff_emptied(1, actor=TECHNICIAN, note="emptied with the key")
    assert emptied is not None
    assert (emptied.id, emptied.status) == (parcel_id, ParcelStatus.COLLECTED)
    compartment = world.service.compartment(1)
    assert (compartment.state, compartment.attention) == (CompartmentState.FREE, "")
    assert world.service.staff_emptied(2, actor=TECHNICIAN, note="nothing there") is None
    record = world.audit.for_subject(subject_of(1))[0]
    assert (record.action, record.actor) == ("compartment.emptied_by_hand", TECHNICIAN)


def test_the_same_number_on_two_columns_is_refused(world: World) -> None:
    clash = FakeLockerColumn("C", column_specs("C", "S", first_number=3))
    with pytest.raises(CompartmentMapError, match="column A and by column C"):
        CompartmentService(world.database, world.audit, [world.column_a, clash])


# -- reservations --------------------------------------------------------------------------------


def test_best_fit_goes_small_to_large_and_skips_what_cannot_take_papers(world: World) -> None:
    world.service.take_out_of_service(1, actor=TECHNICIAN, reason="broken hinge")
    world.column_a.force_open(2)  # a door standing open cannot be handed to a citizen
    got = [world.service.reserve("S", holder=CITIZEN) for _ in range(5)]
    assert [r.compartment if r else None for r in got] == [7, 3, 4, 8, 5]
    assert [r.size if r else None for r in got] == ["S", "M", "M", "M", "L"]
    world.column_a.put_item(6)  # something lies in a free compartment: never offered
    last_middle = [world.service.reserve("M", holder=CITIZEN) for _ in range(2)]
    assert [r.compartment if r else None for r in last_middle] == [9, None]
    assert world.service.reserve("L", holder=CITIZEN) is None


def test_a_silent_board_is_the_last_choice(world: World) -> None:
    world.column_a.silent = True
    world.service.refresh_readings()
    reservation = world.service.reserve("S", holder=CITIZEN)
    assert reservation is not None
    assert reservation.compartment == 7
    assert world.service.compartment(1).door is DoorState.UNKNOWN


def test_an_abandoned_reservation_expires_and_frees_its_compartment(world: World) -> None:
    first = world.service.reserve("S", holder=CITIZEN)
    assert first is not None
    assert first.compartment == 1
    world.clock.advance(119)
    assert world.service.expire_reservations() == []
    world.clock.advance(2)
    second = world.service.reserve("S", holder=CITIZEN)  # expires the first on the way
    assert second is not None
    assert second.compartment == 1
    assert world.service.reservation(first.id).status is ReservationStatus.EXPIRED
    with pytest.raises(ReservationNotActive):
        world.service.open_for_deposit(first.id, actor=CITIZEN)


def test_extending_keeps_the_hold(world: World) -> None:
    reservation = world.service.reserve("S", holder=CITIZEN)
    assert reservation is not None
    world.clock.advance(100)
    extended = world.service.extend_reservation(reservation.id)
    assert extended.expires_at == world.clock.now + timedelta(seconds=120)
    world.clock.advance(100)
    assert world.service.expire_reservations() == []


def test_abandoned_after_the_door_opened_empty_and_shut_is_freed(world: World) -> None:
    reservation = world.service.reserve("S", holder=CITIZEN)
    assert reservation is not None
    world.service.open_for_deposit(reservation.id, actor=CITIZEN)
    world.column_a.close_by_hand(1)
    world.clock.advance(600)
    [ended] = world.service.expire_reservations()
    assert ended.compartment_freed is True
    assert world.service.compartment(1).state is CompartmentState.FREE


def test_abandoned_with_something_inside_goes_out_of_service(world: World) -> None:
    reservation = world.service.reserve("S", holder=CITIZEN)
    assert reservation is not None
    world.service.open_for_deposit(reservation.id, actor=CITIZEN)
    world.column_a.put_item(1)
    world.column_a.close_by_hand(1)
    world.clock.advance(600)
    [ended] = world.service.expire_reservations()
    assert ended.compartment_freed is False
    compartment = world.service.compartment(1)
    assert compartment.state is CompartmentState.OUT_OF_SERVICE
    assert "not known" in compartment.service_note
    assert any(isinstance(a, CompartmentTakenOutOfService) for a in world.alerts)


def test_abandoned_on_a_board_without_sensor_goes_out_of_service(world: World) -> None:
    reservation = world.service.reserve("L", holder=CITIZEN)
    world.service.take_out_of_service(5, actor=TECHNICIAN, reason="test")
    assert reservation is not None
    assert reservation.compartment == 5
    # (5 was reserved before; taking it out of service ended that reservation)
    assert world.service.reservation(reservation.id).status is ReservationStatus.RELEASED
    world.service.return_to_service(5, actor=TECHNICIAN, note="fixed")
    world.service.take_out_of_service(5, actor=TECHNICIAN, reason="keep it out")
    world.service.take_out_of_service(6, actor=TECHNICIAN, reason="keep it out")
    on_b = world.service.reserve("L", holder=CITIZEN)
    assert on_b is not None
    assert on_b.compartment == 9
    world.service.open_for_deposit(on_b.id, actor=CITIZEN)
    world.column_b.close_by_hand(9)
    world.clock.advance(600)
    [ended] = world.service.expire_reservations()
    assert ended.compartment_freed is False
    assert world.service.compartment(9).state is CompartmentState.OUT_OF_SERVICE


# -- door truth ----------------------------------------------------------------------------------


def test_the_intent_is_committed_before_the_unlock_and_the_outcome_after(world: World) -> None:
    reservation = world.service.reserve("S", holder=CITIZEN)
    assert reservation is not None
    seen_during_unlock: list[list[str]] = []

    def look(number: int) -> None:
        # another connection sees only what was committed
        with Database.open(world.path) as other:
            pending = AuditLog(other).pending_intents()
        seen_during_unlock.append([e.subject for e in pending])

    world.column_a.after_pulse = look
    opening = world.service.open_for_deposit(reservation.id, actor=CITIZEN)
    assert seen_during_unlock == [[subject_of(1)]]
    assert opening.outcome is UnlockOutcome.OPENED
    assert opening.opened
    assert door_records(world, 1) == [("pending", None), ("opened", opening.intent_id)]
    intent = world.audit.get(opening.intent_id)
    assert intent is not None
    assert intent.actor == CITIZEN
    assert intent.details["reservation_id"] == reservation.id
    assert world.audit.pending_intents() == []
    assert world.service.compartment(1).door is DoorState.OPEN


def test_a_jammed_lock_takes_the_compartment_out_and_the_flow_moves_on(world: World) -> None:
    world.column_a.jammed.add(1)
    reservation = world.service.reserve("S", holder=CITIZEN)
    assert reservation is not None
    assert reservation.compartment == 1
    opening = world.service.open_for_deposit(reservation.id, actor=CITIZEN)
    assert opening.outcome is UnlockOutcome.JAMMED
    assert opening.taken_out_of_service
    assert not opening.opened
    assert world.service.compartment(1).state is CompartmentState.OUT_OF_SERVICE
    assert world.service.reservation(reservation.id).status is ReservationStatus.JAMMED
    assert [type(a) for a in world.alerts] == [CompartmentTakenOutOfService]
    actions = [e.action for e in world.audit.for_subject(subject_of(1))]
    assert "compartment.out_of_service" in actions
    assert door_records(world, 1)[-1] == ("jammed", opening.intent_id)
    again = world.service.reserve("S", holder=CITIZEN)
    assert again is not None
    assert again.compartment == 2


def test_already_open_unknown_and_adapter_errors_are_outcomes(world: World) -> None:
    world.column_a.force_open(1)
    assert world.service.open_door(1, actor=TECHNICIAN, reason="check").outcome is (
        UnlockOutcome.ALREADY_OPEN
    )
    world.column_a.silent = True
    assert world.service.open_door(2, actor=TECHNICIAN, reason="check").outcome is (
        UnlockOutcome.UNKNOWN
    )
    world.column_a.silent = False
    world.column_a.unlock_error = LockerError("column A: the bus is down")
    opening = world.service.open_door(3, actor=TECHNICIAN, reason="check")
    assert opening.outcome is UnlockOutcome.UNKNOWN
    outcome = world.audit.for_subject(subject_of(3))[0]
    assert outcome.details == {"error": "column A: the bus is down"}
    with pytest.raises(UnknownCompartment):
        world.service.open_door(99, actor=TECHNICIAN, reason="check")


def test_door_events_update_the_table_and_an_unbidden_opening_is_an_alarm(world: World) -> None:
    deposit(world, "S")
    world.alerts.clear()
    world.column_a.force_open(1)
    compartment = world.service.compartment(1)
    assert compartment.door is DoorState.OPEN
    assert "without a command" in compartment.attention
    assert world.alerts == [DoorAlarmRaised(1, "A", holds_parcel=True)]
    assert DoorOpenedWithoutCommand(1) in world.forwarded  # staff screens see it too
    alarm = world.audit.for_subject(subject_of(1))[0]
    assert (alarm.action, alarm.outcome) == ("door.alarm", Outcome.OPENED)
    world.column_a.take_item(1)
    world.column_a.close_by_hand(1)
    assert world.service.compartment(1).door is DoorState.CLOSED
    assert world.service.compartment(1).item_present is False


def test_watch_door_asks_the_right_column_to_poll_fast(world: World) -> None:
    world.service.watch_door(8, 30)
    assert ("expect_movement", 8, 30) in world.column_b.calls
    assert not any(c[0] == "expect_movement" for c in world.column_a.calls)


# -- deposit -------------------------------------------------------------------------------------


def test_deposit_with_an_item_sensor(world: World) -> None:
    reservation = world.service.reserve("M", holder=CITIZEN)
    assert reservation is not None
    assert reservation.compartment == 3
    contents = MaterialsForCentre("sub-1", "GZ-2025-1")
    with pytest.raises(CompartmentNotAvailable, match="never opened"):
        world.service.confirm_deposit(reservation.id, contents, actor=CITIZEN)
    world.service.open_for_deposit(reservation.id, actor=CITIZEN)
    assert world.service.confirm_deposit(reservation.id, contents, actor=CITIZEN).status is (
        DepositStatus.DOOR_STILL_OPEN
    )
    world.column_a.close_by_hand(3)
    # the citizen's word does not override a sensor that saw nothing
    empty = world.service.confirm_deposit(
        reservation.id, contents, actor=CITIZEN, citizen_confirmed=True
    )
    assert empty.status is DepositStatus.NO_ITEM_SEEN
    world.service.open_for_deposit(reservation.id, actor=CITIZEN, reason="asked again")
    world.column_a.put_item(3)
    world.column_a.close_by_hand(3)
    result = world.service.confirm_deposit(reservation.id, contents, actor=CITIZEN)
    assert result.status is DepositStatus.DEPOSITED
    assert result.parcel is not None
    parcel = result.parcel
    assert (parcel.kind, parcel.compartment, parcel.status) == (
        ParcelKind.MATERIALS,
        3,
        ParcelStatus.STORED,
    )
    assert (parcel.submission_id, parcel.tracking_number) == ("sub-1", "GZ-2025-1")
    assert world.service.compartment(3).state is CompartmentState.OCCUPIED
    assert world.service.reservation(reservation.id).status is ReservationStatus.FULFILLED
    record = world.audit.for_subject(subject_of(3))[0]
    assert (record.action, record.details["evidence"]) == ("parcel.deposit", "item_sensor")
    with pytest.raises(ReservationNotActive):
        world.service.confirm_deposit(reservation.id, contents, actor=CITIZEN)


def test_deposit_without_an_item_sensor_trusts_door_and_citizen(world: World) -> None:
    for _ in range(2):
        world.service.reserve("S", holder=Actor(ActorKind.CITIZEN, "other"))
    reservation = world.service.reserve("S", holder=CITIZEN)
    assert reservation is not None
    assert reservation.compartment == 7
    world.service.open_for_deposit(reservation.id, actor=CITIZEN)
    world.column_b.put_item(7)
    world.column_b.close_by_hand(7)
    contents = MaterialsForCentre("sub-2")
    asked = world.service.confirm_deposit(reservation.id, contents, actor=CITIZEN)
    assert asked.status is DepositStatus.NEEDS_CONFIRMATION
    done = world.service.confirm_deposit(
        reservation.id, contents, actor=CITIZEN, citizen_confirmed=True
    )
    assert done.status is DepositStatus.DEPOSITED
    record = world.audit.for_subject(subject_of(7))[0]
    assert record.details["evidence"] == "citizen_confirmation"


def test_deposit_while_the_board_is_silent_waits(world: World) -> None:
    reservation = world.service.reserve("S", holder=CITIZEN)
    assert reservation is not None
    world.service.open_for_deposit(reservation.id, actor=CITIZEN)
    world.column_a.put_item(1)
    world.column_a.close_by_hand(1)
    world.column_a.silent = True
    status = world.service.confirm_deposit(
        reservation.id, MaterialsForCentre("s"), actor=CITIZEN, citizen_confirmed=True
    ).status
    assert status is DepositStatus.DOOR_STATE_UNKNOWN
    world.column_a.silent = False
    assert (
        world.service.confirm_deposit(reservation.id, MaterialsForCentre("s"), actor=CITIZEN).status
        is DepositStatus.DEPOSITED
    )


def test_contents_must_match_the_purpose(world: World) -> None:
    reservation = world.service.reserve("S", holder=CITIZEN)
    assert reservation is not None
    world.service.open_for_deposit(reservation.id, actor=CITIZEN)
    result = ResultForCitizen("s", "12345678", world.clock.now + timedelta(days=7))
    with pytest.raises(CompartmentError, match="deposit_materials"):
        world.service.confirm_deposit(reservation.id, result, actor=CITIZEN)


def test_the_deposit_and_an_outbox_row_can_commit_together(world: World) -> None:
    reservation = world.service.reserve("S", holder=CITIZEN)
    assert reservation is not None
    world.service.open_for_deposit(reservation.id, actor=CITIZEN)
    world.column_a.put_item(1)
    world.column_a.close_by_hand(1)

    class HallDown(Exception):
        pass

    def deposit_then_fail_to_write_the_outbox() -> None:
        with world.database.transaction():
            world.service.confirm_deposit(reservation.id, MaterialsForCentre("s"), actor=CITIZEN)
            raise HallDown  # the caller's outbox write failed: nothing of the deposit stays

    with pytest.raises(HallDown):
        deposit_then_fail_to_write_the_outbox()
    assert world.service.compartment(1).state is CompartmentState.RESERVED
    assert world.service.stored_parcels() == []


# -- cancel --------------------------------------------------------------------------------------


def test_cancel_gives_the_materials_back_before_releasing(world: World) -> None:
    reservation = world.service.reserve("S", holder=CITIZEN)
    assert reservation is not None
    world.service.open_for_deposit(reservation.id, actor=CITIZEN)
    world.column_a.put_item(1)
    assert world.service.release(reservation.id, actor=CITIZEN, reason="cancel").status is (
        ReleaseStatus.DOOR_STILL_OPEN
    )
    world.column_a.close_by_hand(1)
    assert world.service.release(reservation.id, actor=CITIZEN, reason="cancel").status is (
        ReleaseStatus.ITEM_STILL_INSIDE
    )
    world.service.open_for_deposit(reservation.id, actor=CITIZEN, reason="cancel: take back")
    world.column_a.take_item(1)
    world.column_a.close_by_hand(1)
    released = world.service.release(reservation.id, actor=CITIZEN, reason="cancel")
    assert released.status is ReleaseStatus.RELEASED
    assert released.reservation.status is ReservationStatus.RELEASED
    assert world.service.compartment(1).state is CompartmentState.FREE
    assert [o for o, _ in door_records(world, 1)] == ["pending", "opened", "pending", "opened"]


def test_a_release_before_any_opening_frees_at_once(world: World) -> None:
    reservation = world.service.reserve("S", holder=CITIZEN)
    assert reservation is not None
    world.service.release(reservation.id, actor=CITIZEN, reason="no paper materials after all")
    assert world.service.compartment(1).state is CompartmentState.FREE
    with pytest.raises(ReservationNotActive):
        world.service.release(reservation.id, actor=CITIZEN, reason="twice")


def test_a_release_with_a_silent_board_after_opening_is_not_trusted(world: World) -> None:
    reservation = world.service.reserve("S", holder=CITIZEN)
    assert reservation is not None
    world.service.open_for_deposit(reservation.id, actor=CITIZEN)
    world.column_a.close_by_hand(1)
    world.column_a.silent = True
    result = world.service.release(reservation.id, actor=CITIZEN, reason="cancel")
    assert result.status is ReleaseStatus.RELEASED
    assert world.service.compartment(1).state is CompartmentState.OUT_OF_SERVICE


# -- results, collection and pickup ---------------------------------------------------------------


def test_results_are_found_by_code_or_card_and_the_code_is_never_stored(world: World) -> None:
    parcel_id = load_result(world, "M", "20250602", id_number="44010619900101123x")
    with world.database.snapshot() as view:
        stored = view.fetch_value("SELECT pickup_code_hash FROM parcels WHERE id = ?", (parcel_id,))
    assert isinstance(stored, str)
    assert "20250602" not in stored
    assert stored.startswith("scrypt$")
    assert [p.id for p in world.service.results_for_code("20250602")] == [parcel_id]
    assert world.service.results_for_code("20250603") == []
    found = world.service.results_for_applicant("44010619900101123X")
    assert [p.id for p in found] == [parcel_id]
    assert world.service.overdue_results() == []
    assert world.service.result_code_matches(parcel_id, "20250602")
    assert not world.service.result_code_matches(parcel_id, "20250603")
    assert not world.service.result_code_matches("no-such-parcel", "20250602")
    assert not world.service.overdue_result_has_code("20250602")
    world.clock.advance(7 * 86400)
    assert world.service.results_for_code("20250602") == []  # expired: the courier takes it back
    assert [p.id for p in world.service.overdue_results()] == [parcel_id]
    assert world.service.overdue_result_has_code("20250602")  # "it went back", not "wrong code"
    assert not world.service.overdue_result_has_code("20250603")


def test_pickup_opens_takes_and_frees(world: World) -> None:
    parcel_id = load_result(world, "S", "11112222")
    parcel = world.service.parcel(parcel_id)
    opening = world.service.open_for_removal(parcel_id, actor=CITIZEN, reason="pickup by code")
    assert opening.opened
    assert world.service.confirm_removed(
        parcel_id, ending=ParcelStatus.PICKED_UP, actor=CITIZEN
    ).status is (RemovalStatus.DOOR_STILL_OPEN)
    world.column_a.take_item(parcel.compartment)
    world.column_a.close_by_hand(parcel.compartment)
    done = world.service.confirm_removed(parcel_id, ending=ParcelStatus.PICKED_UP, actor=CITIZEN)
    assert done.status is RemovalStatus.REMOVED
    assert done.parcel.status is ParcelStatus.PICKED_UP
    assert done.parcel.removed_at is not None
    assert world.service.compartment(parcel.compartment).state is CompartmentState.FREE
    with pytest.raises(CompartmentNotAvailable):
        world.service.open_for_removal(parcel_id, actor=CITIZEN, reason="again")


def test_a_parcel_left_behind_is_flagged(world: World) -> None:
    parcel_id = deposit(world, "S")
    world.service.open_for_removal(parcel_id, actor=COURIER, reason="collect materials")
    world.column_a.close_by_hand(1)  # the courier forgot the bag
    world.alerts.clear()
    left = world.service.confirm_removed(parcel_id, ending=ParcelStatus.COLLECTED, actor=COURIER)
    assert left.status is RemovalStatus.STILL_THERE
    assert "still inside" in world.service.compartment(1).attention
    assert [type(a) for a in world.alerts] == [CompartmentNeedsAttention]
    assert world.service.compartment(1).state is CompartmentState.OCCUPIED
    world.service.open_for_removal(parcel_id, actor=COURIER, reason="collect materials")
    world.column_a.take_item(1)
    world.column_a.close_by_hand(1)
    collected = world.service.confirm_removed(
        parcel_id, ending=ParcelStatus.COLLECTED, actor=COURIER
    )
    assert collected.status is RemovalStatus.REMOVED
    assert world.service.compartment(1).attention == ""


def test_removal_without_a_sensor_needs_the_person(world: World) -> None:
    for number in range(1, 7):
        world.service.take_out_of_service(number, actor=TECHNICIAN, reason="column A off")
    parcel_id = load_result(world, "S", "12345678")
    assert world.service.parcel(parcel_id).compartment == 7
    world.service.open_for_removal(parcel_id, actor=CITIZEN, reason="pickup")
    world.column_b.take_item(7)
    world.column_b.close_by_hand(7)
    asked = world.service.confirm_removed(parcel_id, ending=ParcelStatus.PICKED_UP, actor=CITIZEN)
    assert asked.status is RemovalStatus.NEEDS_CONFIRMATION
    done = world.service.confirm_removed(
        parcel_id, ending=ParcelStatus.PICKED_UP, actor=CITIZEN, person_confirmed=True
    )
    assert done.status is RemovalStatus.REMOVED
    with pytest.raises(CompartmentNotAvailable):
        world.service.confirm_removed(parcel_id, ending=ParcelStatus.PICKED_UP, actor=CITIZEN)


def test_a_parcel_ends_only_in_a_way_that_fits_its_kind(world: World) -> None:
    parcel_id = deposit(world, "S")
    with pytest.raises(CompartmentError, match="collected"):
        world.service.confirm_removed(parcel_id, ending=ParcelStatus.PICKED_UP, actor=COURIER)


def test_a_jam_while_holding_a_parcel_keeps_the_parcel(world: World) -> None:
    parcel_id = deposit(world, "S")
    world.column_a.jammed.add(1)
    opening = world.service.open_for_removal(parcel_id, actor=COURIER, reason="collect")
    assert opening.taken_out_of_service
    assert world.service.compartment(1).state is CompartmentState.OUT_OF_SERVICE
    assert world.service.parcel(parcel_id).status is ParcelStatus.STORED
    world.column_a.jammed.clear()
    back = world.service.return_to_service(1, actor=TECHNICIAN, note="lock replaced")
    assert back.state is CompartmentState.OCCUPIED


def test_staff_alert_and_clearing_it_are_audited(world: World) -> None:
    world.service.alert_staff(2, "door left open after three reminders", actor=CITIZEN)
    assert world.alerts == [
        CompartmentNeedsAttention(2, "A", "door left open after three reminders")
    ]
    world.service.clear_attention(2, actor=TECHNICIAN, note="closed it")
    assert world.service.compartment(2).attention == ""
    actions = [e.action for e in world.audit.for_subject(subject_of(2))]
    assert actions == ["compartment.attention_cleared", "compartment.flagged"]


# -- crash and reconciliation -------------------------------------------------------------------


def crash_on_unlock(column: FakeLockerColumn) -> None:
    def die(number: int) -> None:
        raise Crash

    column.after_pulse = die


def test_a_crash_after_the_pulse_is_reconciled_as_opened_when_the_door_is_open(
    world: World,
) -> None:
    reservation = world.service.reserve("S", holder=CITIZEN)
    assert reservation is not None
    crash_on_unlock(world.column_a)
    with pytest.raises(Crash):
        world.service.open_for_deposit(reservation.id, actor=CITIZEN)
    [pending] = world.audit.pending_intents()
    world.column_a.after_pulse = None
    world.restart()
    assert world.audit.pending_intents() == []
    outcome = world.audit.for_subject(subject_of(1), limit=10)
    settled = next(e for e in outcome if e.intent_id == pending.id)
    assert settled.outcome is Outcome.OPENED
    assert settled.details == {"reconciled": True, "door": "open"}
    assert settled.actor.kind is ActorKind.SYSTEM
    # the session died with the old process; its door was open: contents unknown
    assert world.service.reservation(reservation.id).status is ReservationStatus.EXPIRED
    assert world.service.compartment(1).state is CompartmentState.OUT_OF_SERVICE


def test_a_crash_with_the_door_closed_is_reconciled_as_unknown(world: World) -> None:
    world.column_a.jammed.add(2)
    crash_on_unlock(world.column_a)
    with pytest.raises(Crash):
        world.service.open_door(2, actor=TECHNICIAN, reason="remote open")
    world.column_a.after_pulse = None
    world.restart()
    [record] = [e for e in world.audit.for_subject(subject_of(2)) if e.intent_id is not None]
    assert (record.outcome, record.details["reconciled"]) == (Outcome.UNKNOWN, True)


def test_a_crash_while_taking_a_parcel_out_flags_it(world: World) -> None:
    parcel_id = deposit(world, "S")
    crash_on_unlock(world.column_a)
    with pytest.raises(Crash):
        world.service.open_for_removal(parcel_id, actor=COURIER, reason="collect")
    world.column_a.after_pulse = None
    world.column_a.take_item(1)
    world.restart()
    compartment = world.service.compartment(1)
    assert compartment.state is CompartmentState.OCCUPIED  # not guessed: a person checks
    assert "just before a restart" in compartment.attention
    assert world.service.parcel(parcel_id).status is ParcelStatus.STORED


def test_a_removal_that_died_before_its_confirmation_is_flagged_at_start_up(
    world: World,
) -> None:
    # found by tests/integration/test_loop_crash.py: the opening's outcome was committed, so no
    # intent is left to reconcile, but the parcel is gone and the sensor says so
    parcel_id = deposit(world, "S")
    assert world.service.open_for_removal(parcel_id, actor=COURIER, reason="collect").opened
    world.column_a.take_item(1)
    world.column_a.close_by_hand(1)
    world.restart()
    compartment = world.service.compartment(1)
    assert compartment.state is CompartmentState.OCCUPIED  # not guessed: a person checks
    assert "item sensor sees nothing" in compartment.attention
    assert world.service.parcel(parcel_id).status is ParcelStatus.STORED


def test_reservations_of_sessions_that_died_are_ended_at_start_up(world: World) -> None:
    untouched = world.service.reserve("S", holder=CITIZEN)
    assert untouched is not None
    world.restart()
    assert world.service.reservation(untouched.id).status is ReservationStatus.EXPIRED
    assert world.service.compartment(1).state is CompartmentState.FREE


def test_other_services_intents_are_left_alone(world: World) -> None:
    world.audit.record_intent(
        actor=TECHNICIAN, action="printer.test_page", subject="printer", reason="check"
    )
    world.restart()
    assert [e.action for e in world.audit.pending_intents()] == ["printer.test_page"]


# -- the database's own guards -------------------------------------------------------------------


def test_the_schema_refuses_two_parcels_in_one_compartment(world: World) -> None:
    deposit(world, "S")
    with pytest.raises(ConstraintViolation), world.database.transaction() as tx:
        tx.execute(
            "INSERT INTO parcels (id, kind, compartment, submission_id, stored_at_ms) "
            "VALUES ('x', 'materials', 1, 'sub-x', 1)"
        )


def test_the_schema_refuses_a_free_compartment_holding_a_parcel(world: World) -> None:
    deposit(world, "S")
    with pytest.raises(ConstraintViolation), world.database.transaction() as tx:
        tx.execute("UPDATE compartments SET state = 'free' WHERE number = 1")
    with pytest.raises(ConstraintViolation), world.database.transaction() as tx:
        tx.execute("UPDATE parcels SET compartment = 2")


# -- codes ---------------------------------------------------------------------------------------


def test_pickup_code_hashes_are_salted_and_checked() -> None:
    first, second = FAST_CODES.hash("12345678"), FAST_CODES.hash("12345678")
    assert first != second
    assert pickup_code_matches(first, "12345678")
    assert not pickup_code_matches(first, "12345679")
    assert first.split("$")[:4] == ["scrypt", "2", "1", "1"]
    with pytest.raises(PickupCodeFormatError):
        pickup_code_matches("sha256$abc", "12345678")
    with pytest.raises(PickupCodeFormatError):
        pickup_code_matches("scrypt$x$1$1$AA==$AA==", "12345678")


def test_applicant_hash_matches_the_halls_form() -> None:
    import hashlib

    expected = hashlib.sha256(b"44010619900101123X").hexdigest()
    assert applicant_id_sha256(" 44010619900101123x ") == expected
