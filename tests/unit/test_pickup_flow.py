"""The pickup journey, every branch: the real flow, runtime and desk over fake lock boards.

Column A (1-6) has item sensors, column B (7-9) has none. The worker runs only when the test
drains it, and both clocks are fakes, so each test is a few milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from kiosk.compartments import CompartmentState, ParcelStatus
from kiosk.pickup import effects as fx
from kiosk.pickup import view_models as vm
from kiosk.pickup.flow import IllegalEvent, IllegalIntent, PickupFlow
from kiosk.ports.camera import CodeScanned
from kiosk.ports.identity import CardPlaced, Identity
from kiosk.ports.lockers import DoorState, UnlockOutcome
from tests.support.pickup_world import Journey, Loaded, PickupWorld, build_pickup_world

ID_NUMBER = "11010519491231002X"


def citizen(id_number: str = ID_NUMBER) -> Identity:
    return Identity(name="张三", id_number=id_number, source="id_card")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[PickupWorld]:
    built = build_pickup_world(tmp_path / "terminal.sqlite3")
    yield built
    built.close()


@pytest.fixture
def journey(world: PickupWorld) -> Journey:
    return Journey(world)


def type_code(journey: Journey, code: str) -> None:
    journey.runtime.send(vm.TypeCode())
    for digit in code:
        assert journey.runtime.send(vm.PressDigit(digit))
    assert journey.runtime.send(vm.SubmitCode())
    journey.drain()


def take_and_close(journey: Journey, number: int) -> None:
    column = journey.world.column_of(number)
    column.take_item(number)
    column.close_by_hand(number)
    journey.runtime.handle(_closed(number))
    journey.drain()


def open_with_the_code(world: PickupWorld, journey: Journey, code: str = "01234567") -> Loaded:
    """A result loaded with `code`; the citizen touches Collect and types it: the door is open."""
    loaded = world.load_result(code)
    assert loaded is not None
    journey.runtime.start()
    type_code(journey, code)
    return loaded


def _closed(number: int) -> object:
    from kiosk.ports.lockers import DoorClosed

    return DoorClosed(number)


def test_typed_code_opens_the_door_and_a_closed_empty_door_is_a_pickup(
    world: PickupWorld, journey: Journey
) -> None:
    loaded = world.load_result("01234567")
    assert loaded is not None
    journey.runtime.start()
    journey.drain()
    assert journey.view.step is vm.PickupStep.START
    assert journey.watching == [True]
    type_code(journey, "01234567")
    assert journey.view.step is vm.PickupStep.DOOR
    body = journey.view.body
    assert isinstance(body, vm.DoorView)
    assert body.phase == "open"
    assert body.compartment_label == f"A{loaded.compartment:02d}"
    assert "close the door" in body.instruction
    assert world.column_a.doors[loaded.compartment] is DoorState.OPEN
    take_and_close(journey, loaded.compartment)
    assert journey.view.step is vm.PickupStep.DONE
    assert world.service.parcel(loaded.parcel_id).status is ParcelStatus.PICKED_UP
    assert world.service.compartment(loaded.compartment).state is CompartmentState.FREE
    [event] = world.events("picked_up")
    assert event["submission_id"] == loaded.submission_id
    assert event["method"] == "code"
    assert event["compartment"] == f"A{loaded.compartment:02d}"
    journey.runtime.send(vm.Finish())
    assert journey.ended == 1
    assert not journey.runtime.active


def test_qr_scan_opens_with_one_touch_and_counts_no_guess(
    world: PickupWorld, journey: Journey
) -> None:
    loaded = world.load_result("76543210")
    assert loaded is not None
    journey.runtime.start()
    journey.runtime.handle(CodeScanned("QRCode", loaded.qr))
    journey.drain()
    assert journey.view.step is vm.PickupStep.DOOR
    take_and_close(journey, loaded.compartment)
    assert journey.flow.touches == 1  # the Collect button
    assert world.events("picked_up")[0]["method"] == "qr"
    assert world.database.snapshot  # the guard saw nothing
    with world.database.snapshot() as view:
        assert view.fetch_value("SELECT COUNT(*) FROM pickup_wrong_codes") == 0


def test_front_door_start_with_a_qr_needs_no_touch(world: PickupWorld, journey: Journey) -> None:
    loaded = world.load_result("76543210")
    assert loaded is not None
    journey.runtime.start_with(CodeScanned("Unknown", loaded.qr))
    journey.drain()
    assert journey.view.step is vm.PickupStep.DOOR
    take_and_close(journey, loaded.compartment)
    assert journey.flow.touches == 0


@pytest.mark.parametrize("reason", ["forged", "malformed", "expired"])
def test_bad_qrs_are_refused_without_opening_anything(
    world: PickupWorld, journey: Journey, reason: str
) -> None:
    from kiosk.pickup.tokens import PickupQrSigner

    loaded = world.load_result("76543210", keep_days=1)
    assert loaded is not None
    payload = {
        "forged": PickupQrSigner(b"x" * 32).sign(
            loaded.parcel_id, "76543210", world.clock() + timedelta(days=1)
        ),
        "malformed": "GZPK1.nonsense",
        "expired": loaded.qr,
    }[reason]
    if reason == "expired":
        world.clock.advance(2 * 86400)
    journey.runtime.start()
    journey.runtime.handle(CodeScanned("QRCode", payload))
    journey.drain()
    assert journey.view.step is vm.PickupStep.START
    assert journey.view.notice is not None
    expected = "expired" if reason == "expired" else "cannot be used at this terminal"
    assert expected in journey.view.notice.text
    assert world.column_a.unlocks() == [loaded.compartment]  # only the courier's loading
    with world.database.snapshot() as view:
        assert view.fetch_value("SELECT COUNT(*) FROM pickup_wrong_codes") == 0


def test_a_qr_for_a_parcel_already_collected_says_so(world: PickupWorld, journey: Journey) -> None:
    loaded = world.load_result("76543210")
    assert loaded is not None
    journey.runtime.start()
    journey.runtime.handle(CodeScanned("QRCode", loaded.qr))
    journey.drain()
    take_and_close(journey, loaded.compartment)
    journey.runtime.send(vm.Finish())
    journey.runtime.start()
    journey.runtime.handle(CodeScanned("QRCode", loaded.qr))
    journey.drain()
    assert journey.view.notice is not None
    assert "already been collected" in journey.view.notice.text


def test_other_barcodes_are_not_ours(journey: Journey) -> None:
    journey.runtime.start()
    journey.runtime.handle(CodeScanned("EAN13", "6901234567892"))
    journey.drain()
    assert journey.view.notice is not None
    assert "not a pickup code" in journey.view.notice.text


def test_id_card_opens_every_parcel_of_that_person_in_turn(
    world: PickupWorld, journey: Journey
) -> None:
    first = world.load_result("11111111", id_number=ID_NUMBER)
    second = world.load_result("22222222", id_number=ID_NUMBER.lower())
    other = world.load_result("33333333", id_number="440101199001011234")
    assert first
    assert second
    assert other
    journey.runtime.start()
    journey.runtime.handle(CardPlaced(citizen()))
    journey.drain()
    body = journey.view.body
    assert isinstance(body, vm.DoorView)
    assert body.compartment == first.compartment
    assert body.progress == "Item 1 of 2"
    assert world.column_a.doors[second.compartment] is DoorState.CLOSED  # one door at a time
    take_and_close(journey, first.compartment)
    body = journey.view.body
    assert isinstance(body, vm.DoorView)
    assert body.compartment == second.compartment
    take_and_close(journey, second.compartment)
    assert journey.view.step is vm.PickupStep.DONE
    assert other.compartment not in [
        *world.column_a.unlocks()[3:],
    ]
    assert world.service.parcel(other.parcel_id).status is ParcelStatus.STORED
    assert {e["method"] for e in world.events("picked_up")} == {"id_card"}


def test_a_card_with_nothing_waiting_gets_a_plain_sentence(journey: Journey) -> None:
    journey.runtime.start()
    journey.runtime.handle(CardPlaced(citizen()))
    journey.drain()
    assert journey.view.step is vm.PickupStep.START
    assert journey.view.notice is not None
    assert "Nothing is waiting for you here" in journey.view.notice.text


def test_expired_results_cannot_be_collected_by_code_or_card(
    world: PickupWorld, journey: Journey
) -> None:
    loaded = world.load_result("01234567", id_number=ID_NUMBER, keep_days=7)
    assert loaded is not None
    world.clock.advance(8 * 86400)
    journey.runtime.start()
    type_code(journey, "01234567")
    assert journey.view.notice is not None
    assert "went back to the service centre" in journey.view.notice.text
    with world.database.snapshot() as view:
        assert view.fetch_value("SELECT COUNT(*) FROM pickup_wrong_codes") == 0
    journey.runtime.send(vm.Back())
    journey.runtime.handle(CardPlaced(citizen()))
    journey.drain()
    assert "went back to the service centre" in journey.view.notice.text  # type: ignore[union-attr]
    assert world.service.parcel(loaded.parcel_id).status is ParcelStatus.STORED


def test_wrong_codes_are_counted_and_the_fifth_locks_the_keypad_across_restarts(
    world: PickupWorld, journey: Journey, tmp_path: Path
) -> None:
    loaded = world.load_result("01234567")
    assert loaded is not None
    journey.runtime.start()
    for attempt in range(4):
        type_code(journey, f"9999999{attempt}")
        assert "not right" in journey.view.notice.text  # type: ignore[union-attr]
        journey.runtime.send(vm.Back())
    type_code(journey, "99999994")
    view = journey.view
    assert isinstance(view.body, vm.CodeView)
    assert view.body.locked
    assert "keypad is paused" in view.notice.text  # type: ignore[union-attr]
    assert "PressDigit" not in view.accepts
    [alarm] = world.events("door_alarm")
    assert "wrong codes" in str(alarm["detail"])
    assert alarm["compartment"] is None
    assert any(type(a).__name__ == "PickupKeypadLocked" for a in world.alerts)
    # a restart does not lift it: a new desk on the same file still refuses, without scrypt
    world.database.close()
    again = build_pickup_world(world.path, clock=world.clock)
    try:
        assert again.guard.locked_until() is not None
        assert isinstance(again.desk.find_by_code("01234567"), fx.KeypadLocked)
        # ... but a QR still works: it is not a guess
        found = again.desk.find_by_qr(loaded.qr)
        assert isinstance(found, fx.ParcelsFound)
        again.clock.advance(301)
        assert again.guard.locked_until() is None
        assert isinstance(again.desk.find_by_code("01234567"), fx.ParcelsFound)
    finally:
        again.close()
        world.database = again.database  # the fixture closes it (closing twice is safe)


def test_wrong_codes_spread_over_more_than_a_minute_do_not_lock(
    world: PickupWorld, journey: Journey
) -> None:
    for _ in range(8):
        result = world.desk.find_by_code("99999999")
        assert isinstance(result, fx.CodeWrong)
        assert result.locked_until is None
        world.clock.advance(16)


def test_the_keypad_submits_only_eight_digits(journey: Journey) -> None:
    journey.runtime.start()
    journey.runtime.send(vm.TypeCode())
    for digit in "1234567":
        journey.runtime.send(vm.PressDigit(digit))
    assert "SubmitCode" not in journey.view.accepts
    assert not journey.runtime.send(vm.SubmitCode())
    journey.runtime.send(vm.PressDigit("8"))
    journey.runtime.send(vm.PressDigit("9"))  # ignored: eight is the most
    body = journey.view.body
    assert isinstance(body, vm.CodeView)
    assert body.digits == "12345678"
    journey.runtime.send(vm.EraseDigit())
    assert journey.view.body.digits == "1234567"  # type: ignore[union-attr]
    journey.runtime.send(vm.ClearCode())
    assert journey.view.body.digits == ""  # type: ignore[union-attr]
    journey.runtime.send(vm.PressDigit("x"))
    assert journey.view.body.digits == ""  # type: ignore[union-attr]


def test_a_jammed_door_is_named_and_the_next_parcel_opens(
    world: PickupWorld, journey: Journey
) -> None:
    first = world.load_result("11111111", id_number=ID_NUMBER)
    second = world.load_result("22222222", id_number=ID_NUMBER)
    assert first
    assert second
    world.column_a.jammed.add(first.compartment)
    journey.runtime.start()
    journey.runtime.handle(CardPlaced(citizen()))
    journey.drain()
    body = journey.view.body
    assert isinstance(body, vm.DoorView)
    assert body.compartment == second.compartment
    assert "would not open" in journey.view.notice.text  # type: ignore[union-attr]
    assert world.service.compartment(first.compartment).state is CompartmentState.OUT_OF_SERVICE
    take_and_close(journey, second.compartment)
    done = journey.view.body
    assert isinstance(done, vm.DoneView)
    assert [line.kind for line in done.lines] == ["jammed", "taken"]
    assert "call 12345" in done.lines[0].text


def test_left_inside_is_asked_once_more_then_recorded_as_not_taken(
    world: PickupWorld, journey: Journey
) -> None:
    loaded = open_with_the_code(world, journey)
    world.column_a.close_by_hand(loaded.compartment)  # closed without taking anything
    journey.runtime.handle(_closed(loaded.compartment))
    journey.drain()
    body = journey.view.body
    assert isinstance(body, vm.DoorView)
    assert body.phase == "still_inside"
    assert journey.view.accepts == {"OpenAgain", "LeaveIt"}
    journey.runtime.send(vm.OpenAgain())
    journey.drain()
    assert journey.view.body.phase == "open"  # type: ignore[union-attr]
    world.column_a.close_by_hand(loaded.compartment)
    journey.runtime.handle(_closed(loaded.compartment))
    journey.drain()
    done = journey.view.body
    assert isinstance(done, vm.DoneView)
    assert [line.kind for line in done.lines] == ["not_taken"]
    assert world.service.parcel(loaded.parcel_id).status is ParcelStatus.STORED
    assert world.service.compartment(loaded.compartment).attention
    [event] = world.events("pickup_not_taken")
    assert event["submission_id"] == loaded.submission_id
    assert not world.events("picked_up")


def test_still_inside_with_no_answer_is_recorded_as_not_taken(
    world: PickupWorld, journey: Journey
) -> None:
    loaded = open_with_the_code(world, journey)
    world.column_a.close_by_hand(loaded.compartment)
    journey.runtime.handle(_closed(loaded.compartment))
    journey.drain()
    journey.advance(61)
    assert journey.view.step is vm.PickupStep.DONE
    assert len(world.events("pickup_not_taken")) == 1


def test_a_board_without_sensor_asks_the_citizen(world: PickupWorld, journey: Journey) -> None:
    world.load_result("00000000")  # small doors are taken S→M→L: fill A's two first
    world.load_result("00000001")
    loaded = world.load_result("01234567")
    assert loaded is not None
    assert loaded.compartment == 7
    journey.runtime.start()
    type_code(journey, "01234567")
    world.column_b.take_item(loaded.compartment)
    world.column_b.close_by_hand(loaded.compartment)
    journey.runtime.handle(_closed(loaded.compartment))
    journey.drain()
    assert journey.view.body.phase == "ask_taken"  # type: ignore[union-attr]
    journey.runtime.send(vm.ConfirmTaken())
    journey.drain()
    assert journey.view.step is vm.PickupStep.DONE
    assert world.service.parcel(loaded.parcel_id).status is ParcelStatus.PICKED_UP


def test_a_missed_door_event_is_caught_by_the_recheck(world: PickupWorld, journey: Journey) -> None:
    loaded = open_with_the_code(world, journey)
    world.column_a.take_item(loaded.compartment)
    world.column_a.close_by_hand(loaded.compartment)  # the DoorClosed never reaches the flow
    journey.advance(6)
    assert journey.view.step is vm.PickupStep.DONE


def test_door_left_open_is_reminded_then_staff_alerted(
    world: PickupWorld, journey: Journey
) -> None:
    loaded = open_with_the_code(world, journey)
    journey.advance(31)
    assert journey.view.voice is not None
    keys = [v.voice.key for v in journey.views if v.voice is not None]
    assert "pickup.voice.close_door" in keys
    for _ in range(40):
        journey.advance(5)
    assert journey.view.step is vm.PickupStep.DONE
    assert [line.kind for line in journey.view.body.lines] == ["unknown"]  # type: ignore[union-attr]
    assert world.service.compartment(loaded.compartment).attention
    assert world.events("door_alarm")


def test_a_silent_board_tells_the_citizen_to_ask_staff_if_nothing_opened(
    world: PickupWorld, journey: Journey
) -> None:
    loaded = world.load_result("01234567")
    assert loaded is not None
    world.column_a.silent = True
    journey.runtime.start()
    type_code(journey, "01234567")
    assert journey.view.body.phase == "open"  # type: ignore[union-attr]
    assert "did not open" in journey.view.notice.text  # type: ignore[union-attr]


def test_walking_away_from_an_open_door_alerts_staff_and_clears_down(
    world: PickupWorld, journey: Journey
) -> None:
    loaded = open_with_the_code(world, journey)
    journey.runtime.abandon()
    journey.drain()
    assert not journey.runtime.active
    assert world.service.compartment(loaded.compartment).attention
    assert not journey.flow.holds_personal_data


def test_done_screen_clears_down_by_itself(world: PickupWorld, journey: Journey) -> None:
    loaded = open_with_the_code(world, journey)
    take_and_close(journey, loaded.compartment)
    journey.advance(16)
    assert journey.ended == 1
    assert journey.watching[-1] is False


def test_the_next_person_ends_the_summary_but_not_a_pickup_at_the_door(
    world: PickupWorld, journey: Journey
) -> None:
    loaded = open_with_the_code(world, journey)
    assert journey.view.step is vm.PickupStep.DOOR
    assert journey.runtime.make_way() is False  # the door is open: this citizen keeps the screen
    assert journey.runtime.active
    take_and_close(journey, loaded.compartment)
    assert journey.view.step is vm.PickupStep.DONE
    assert journey.runtime.make_way() is True  # the summary gives way at once
    assert journey.ended == 1
    assert not journey.flow.holds_personal_data


def test_a_lookup_that_fails_says_so_plainly(world: PickupWorld, journey: Journey) -> None:
    journey.runtime.start()
    world.database.close()
    type_code(journey, "01234567")
    assert "cannot look this up" in journey.view.notice.text  # type: ignore[union-attr]


def test_stale_touches_and_events_out_of_turn_are_refused() -> None:
    flow = PickupFlow(clock=lambda: 0.0, wall_clock=lambda: _now(), hotline="1")
    flow.start()
    with pytest.raises(IllegalIntent):
        flow.send(vm.OpenAgain())
    with pytest.raises(IllegalEvent):
        flow.handle(fx.CodeWrong(1, None))
    with pytest.raises(IllegalEvent):
        flow.handle(fx.DoorOpenedForPickup("p", UnlockOutcome.OPENED, False))


def test_every_view_has_both_languages() -> None:
    from kiosk.pickup.texts import PICKUP_MESSAGES

    for key, entry in PICKUP_MESSAGES.items():
        assert set(entry) == {"zh-CN", "en"}, key


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
