"""CourierDesk and CourierRuntime over a real SQLite file, the real CompartmentService, the
outbox and fake lock boards: doors, seals, events in the same commit, the plaintext code."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from kiosk.compartments import (
    CompartmentService,
    MaterialsForCentre,
    ParcelKind,
    PickupCodeHasher,
    ResultForCitizen,
    pickup_code_matches,
)
from kiosk.compartments.testing import FakeLockerColumn, FakeWallClock, column_specs
from kiosk.courier import effects as fx
from kiosk.courier import view_models as vm
from kiosk.courier.adapters import CourierDesk
from kiosk.courier.flow import CourierFlow
from kiosk.courier.runtime import CourierRuntime, CourierServices
from kiosk.courier.sign_in import CourierIdentity, CourierSignIn
from kiosk.courier.testing import hall_pin_hash
from kiosk.outbox import Outbox
from kiosk.pickup.tokens import PickupQrSigner, TerminalKeyStore
from kiosk.ports.camera import CodeScanned
from kiosk.ports.hall import DeliveryTask, HallTasks, Roster, RosterCourier
from kiosk.ports.lockers import UnlockOutcome
from kiosk.storage import Actor, ActorKind, AuditLog, Database

COURIER = CourierIdentity("C-0001", "王师傅", "courier")
TRACKING = "440100000000000001"


class Feed:
    def __init__(self) -> None:
        self.tasks = HallTasks((), (), (), None)

    def latest(self) -> HallTasks:
        return self.tasks


def delivery(status: str = "pending", outcome: str = "approved") -> DeliveryTask:
    return DeliveryTask(
        "task-1",
        "hall-sub-1",
        TRACKING,
        status,
        "营业执照",
        "Business licence",
        outcome,
        "ab" * 32,
        None,
        None,
    )


class World:
    def __init__(self, tmp_path: Path, *, item_sensor: bool = True) -> None:
        self.clock = FakeWallClock()
        self.database = Database.open(tmp_path / "kiosk.db")
        self.audit = AuditLog(self.database, self.clock)
        self.column = FakeLockerColumn("A", column_specs("A", "SSML"), item_sensor=item_sensor)
        self.service = CompartmentService(
            self.database,
            self.audit,
            [self.column],
            clock=self.clock,
            code_hasher=PickupCodeHasher(n=16),
        )
        self.column.start(self.service.locker_event_sink())
        self.service.start_up()
        self.outbox = Outbox(self.database, self.clock)
        self.feed = Feed()
        self.keys = TerminalKeyStore(self.database)
        self.desk = CourierDesk(
            self.database,
            self.service,
            self.outbox,
            self.feed,
            self.keys.pickup_qr_key,
            audit=self.audit,
            wall_clock=self.clock,
            new_code=lambda: "01234567",
        )

    def deposit_materials(self, reference: str) -> int:
        citizen = Actor(ActorKind.CITIZEN, reference)
        held = self.service.reserve("S", holder=citizen)
        assert held is not None
        self.service.open_for_deposit(held.id, actor=citizen)
        self.column.put_item(held.compartment)
        self.column.close_by_hand(held.compartment)
        result = self.service.confirm_deposit(
            held.id, MaterialsForCentre(reference, "T1"), actor=citizen
        )
        assert result.parcel is not None
        return held.compartment

    def events(self) -> list[dict[str, object]]:
        return [m.payload for m in self.outbox.messages() if m.kind == "event"]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.database.close()


def summary(world: World, kind: ParcelKind = ParcelKind.MATERIALS) -> fx.ParcelSummary:
    work = world.desk.work()
    return (work.materials if kind is ParcelKind.MATERIALS else work.returns)[0]


def test_collect_binds_the_seal_and_reports_it_with_the_removal(world: World) -> None:
    number = world.deposit_materials("ref-1")
    work = world.desk.work()
    assert [p.compartment for p in work.materials] == [number]
    assert work.returns == ()
    parcel = work.materials[0]
    assert world.desk.open_for_removal(parcel, "collect", COURIER) is UnlockOutcome.OPENED
    world.desk.bind_seal(parcel, "SEAL-77", COURIER)
    world.desk.bind_seal(parcel, "SEAL-78", COURIER)  # a rescan replaces it
    assert world.desk.confirm_removal(parcel, "collect", COURIER, None, person_confirmed=False) == (
        "door_still_open"
    )
    world.column.take_item(number)
    world.column.close_by_hand(number)
    assert world.desk.confirm_removal(parcel, "collect", COURIER, None, person_confirmed=False) == (
        "removed"
    )
    assert world.service.compartment(number).state.value == "free"
    collected = [e for e in world.events() if e["type"] == "collected"]
    assert len(collected) == 1
    assert collected[0]["seal"] == "SEAL-78"
    assert collected[0]["courier_card_id"] == "C-0001"
    assert collected[0]["submission_ref"] == "ref-1"
    assert collected[0]["compartment"] == "A01"


def test_something_left_inside_is_flagged_and_no_event_is_sent(world: World) -> None:
    number = world.deposit_materials("ref-2")
    parcel = summary(world)
    world.desk.open_for_removal(parcel, "collect", COURIER)
    world.column.close_by_hand(number)
    assert world.desk.confirm_removal(parcel, "collect", COURIER, None, person_confirmed=False) == (
        "still_there"
    )
    assert world.service.compartment(number).attention
    assert not [e for e in world.events() if e["type"] == "collected"]


def test_a_jammed_door_takes_the_compartment_out_of_service(world: World) -> None:
    number = world.deposit_materials("ref-3")
    world.column.jammed.add(number)
    assert world.desk.open_for_removal(summary(world), "collect", COURIER) is UnlockOutcome.JAMMED
    assert world.service.compartment(number).state.value == "out_of_service"


def test_load_stores_only_the_hash_and_sends_code_qr_and_deadline_once(world: World) -> None:
    assert world.desk.match_envelope(TRACKING) == fx.EnvelopeRefused("no_task", TRACKING)
    world.feed.tasks = HallTasks((), (delivery(),), (), world.clock.now)
    assert world.desk.work().deliveries_expected == 1
    matched = world.desk.match_envelope(TRACKING)
    assert isinstance(matched, fx.EnvelopeMatched)
    assert matched.task.suggested_size == "S"
    slot = world.desk.reserve(matched.task, "S", COURIER)
    assert slot is not None
    assert world.desk.open_for_load(slot, COURIER) is UnlockOutcome.OPENED
    world.column.close_by_hand(slot.compartment)
    assert world.desk.confirm_load(matched.task, slot, COURIER, courier_confirmed=False) == (
        "no_item_seen"
    )
    world.desk.open_for_load(slot, COURIER)
    world.column.put_item(slot.compartment)
    world.column.close_by_hand(slot.compartment)
    assert world.desk.confirm_load(matched.task, slot, COURIER, courier_confirmed=False) == "loaded"

    (event,) = [e for e in world.events() if e["type"] == "result_loaded"]
    deadline = world.clock.now + timedelta(days=7)
    assert event["pickup_code"] == "01234567"
    assert event["submission_id"] == "hall-sub-1"
    assert event["pickup_deadline"] == deadline.strftime("%Y-%m-%dT%H:%M:%SZ")
    qr = PickupQrSigner(world.keys.pickup_qr_key()).verify(str(event["pickup_qr"]), world.clock.now)
    (stored,) = world.service.stored_parcels(ParcelKind.RESULT)
    assert qr.parcel_id == stored.id
    assert qr.code == "01234567"
    assert stored.applicant_id_sha256 == "ab" * 32
    with world.database.snapshot() as view:
        code_hash = str(
            view.fetch_value("SELECT pickup_code_hash FROM parcels WHERE id = ?", (stored.id,))
        )
    assert "01234567" not in code_hash
    assert pickup_code_matches(code_hash, "01234567")
    # once the hall has it, the plaintext code is gone from the outbox
    key = next(m.key for m in world.outbox.messages() if m.payload.get("type") == "result_loaded")
    world.outbox.acknowledge(key)
    with world.database.snapshot() as view:
        rows = view.fetch_all("SELECT payload FROM outbox")
    assert all("01234567" not in str(r["payload"]) for r in rows)
    # the same envelope again is refused: it is already in
    assert world.desk.match_envelope(TRACKING) == fx.EnvelopeRefused(
        "already_loaded", TRACKING, slot.label
    )
    assert world.desk.work().deliveries_expected == 0


def test_overdue_results_come_back_with_a_returned_event(world: World) -> None:
    holder = Actor(ActorKind.COURIER, "C-0001")
    from kiosk.compartments import ReservationPurpose

    held = world.service.reserve("S", holder=holder, purpose=ReservationPurpose.LOAD_RESULT)
    assert held is not None
    world.service.open_for_deposit(held.id, actor=holder)
    world.column.put_item(held.compartment)
    world.column.close_by_hand(held.compartment)
    world.service.confirm_deposit(
        held.id,
        ResultForCitizen("hall-sub-9", "11112222", world.clock.now + timedelta(days=7), "T9"),
        actor=holder,
    )
    assert world.desk.work().returns == ()
    world.clock.advance(7 * 86400 + 1)
    parcel = summary(world, ParcelKind.RESULT)
    world.desk.open_for_removal(parcel, "return", COURIER)
    world.column.take_item(held.compartment)
    world.column.close_by_hand(held.compartment)
    assert world.desk.confirm_removal(parcel, "return", COURIER, None, person_confirmed=False) == (
        "removed"
    )
    (event,) = [e for e in world.events() if e["type"] == "returned"]
    assert event["submission_id"] == "hall-sub-9"


def test_alert_staff_flags_and_tells_the_hall(world: World) -> None:
    world.desk.alert_staff(2, "session ended with the door open", COURIER)
    assert world.service.compartment(2).attention
    (event,) = world.events()
    assert event["type"] == "door_alarm"
    assert event["compartment"] == "A02"


class Inline:
    """Worker and post that run at once: the runtime's jobs in order, on this thread."""

    def submit(self, fn: Callable[[], None], /) -> None:
        fn()


def test_runtime_signs_in_collects_and_loads(world: World) -> None:
    number = world.deposit_materials("ref-5")
    world.feed.tasks = HallTasks((), (delivery(),), (), world.clock.now)
    roster = Roster(
        "demo-0001",
        1,
        world.clock.now,
        world.clock.now + timedelta(days=3),
        "k",
        (RosterCourier("C-0001", "王师傅", "courier", hall_pin_hash("2468")),),
    )

    class Cache:
        def current(self) -> Roster:
            return roster

    sign_in = CourierSignIn(world.database, world.audit, Cache(), clock=world.clock)
    views: list[vm.CourierView] = []
    ticks = [0.0]
    runtime = CourierRuntime(
        CourierFlow(lambda: ticks[0]),
        CourierServices(sign_in, world.desk),
        worker=Inline(),
        post=lambda fn: fn(),
        publish=views.append,
        language=lambda: "en",
    )
    runtime.begin_sign_in("C-0001", "badge")
    for key in "2468":
        runtime.send(vm.PressKey(key))
    assert runtime.send(vm.SubmitPin())
    assert views[-1].step is vm.CourierStep.MENU
    counts = {e.intent: e.count for e in views[-1].menu}
    assert counts["StartCollect"] == 1
    assert counts["StartLoad"] == 1

    runtime.send(vm.StartCollect())
    runtime.send(vm.OpenAll())
    runtime.handle(CodeScanned("Code128", "SEAL-5"))
    world.column.take_item(number)
    world.column.close_by_hand(number)
    runtime.send(vm.CheckDoor(views[-1].rows[0].parcel_id))
    assert views[-1].rows[0].detail == "collected, seal SEAL-5"
    runtime.send(vm.BackToMenu())
    runtime.send(vm.StartLoad())
    runtime.handle(CodeScanned("Code128", TRACKING))
    runtime.send(vm.ChooseSize("S"))
    opened = world.column.unlocks()[-1]
    world.column.put_item(opened)
    world.column.close_by_hand(opened)
    runtime.send(vm.CheckDoor("x"))
    assert views[-1].loaded_count == 1
    runtime.send(vm.BackToMenu())
    runtime.send(vm.SignOut())
    assert not runtime.active
    types = sorted(str(e["type"]) for e in world.events())
    assert types == ["collected", "deposited", "result_loaded"] or types == [
        "collected",
        "result_loaded",
    ]
    payloads = [json.dumps(dict(e)) for e in world.events()]
    assert any("SEAL-5" in p for p in payloads)


def test_a_refused_badge_gives_way_to_the_next_card_or_scan(world: World) -> None:
    class EmptyRoster:
        def current(self) -> Roster:
            return Roster(
                "demo-0001", 1, world.clock.now, world.clock.now + timedelta(days=3), "k", ()
            )

    runtime = CourierRuntime(
        CourierFlow(lambda: 0.0),
        CourierServices(
            CourierSignIn(world.database, world.audit, EmptyRoster(), clock=world.clock), world.desk
        ),
        worker=Inline(),
        post=lambda fn: fn(),
        publish=lambda view: None,
        language=lambda: "en",
    )
    assert runtime.make_way() is True  # nothing under way
    runtime.begin_sign_in("C-9999", "badge")  # not on the roster
    assert runtime.flow.step is vm.CourierStep.REFUSED
    assert runtime.make_way() is True
    assert not runtime.active
    assert runtime.flow.step is vm.CourierStep.SIGNED_OUT
