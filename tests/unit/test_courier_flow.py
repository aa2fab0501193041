"""The courier flow, branch by branch, with plain values and a fake clock (no threads, no DB)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kiosk.courier import effects as fx
from kiosk.courier import view_models as vm
from kiosk.courier.flow import CourierFlow, CourierFlowSettings, IllegalEvent, IllegalIntent
from kiosk.courier.sign_in import CourierIdentity, PinWanted, SignedIn, SignInRefused, WrongPin
from kiosk.ports.camera import CodeScanned
from kiosk.ports.lockers import DoorClosed, UnlockOutcome

COURIER = CourierIdentity("C-0001", "王师傅", "courier")
AGENT = CourierIdentity("C-0002", "李某", "village_agent")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def parcel(number: int, column: str = "A") -> fx.ParcelSummary:
    return fx.ParcelSummary(f"p{number}", number, column, f"sub{number}", f"T{number}")


TASK = fx.ResultTask(
    "t1", "hall-sub-1", "440100000000000001", "营业执照", "Licence", "approved", "ab" * 32, "S"
)


def signed_in(
    courier: CourierIdentity = COURIER, settings: CourierFlowSettings | None = None
) -> tuple[CourierFlow, Clock]:
    clock = Clock()
    flow = CourierFlow(clock, settings)
    assert flow.begin_sign_in(courier.card_id, "badge") == [fx.LookUpCard(courier.card_id, "badge")]
    flow.handle(PinWanted(courier, "badge"))
    for key in "2468":
        flow.send(vm.PressKey(key))
    assert flow.send(vm.SubmitPin()) == [fx.CheckPin(courier.card_id, "2468", "badge")]
    assert flow.handle(SignedIn(courier, "s1", "badge")) == [fx.LoadWork()]
    return flow, clock


def test_pin_entry_is_masked_and_wrong_pins_say_how_many_are_left() -> None:
    clock = Clock()
    flow = CourierFlow(clock)
    flow.begin_sign_in("C-0001", "badge")
    assert flow.view("en").instruction == "Checking your card…"
    flow.handle(PinWanted(COURIER, "badge"))
    for key in "123":
        flow.send(vm.PressKey(key))
    view = flow.view("en")
    assert view.pin_mask == "●●●"
    assert not view.pin_ready
    with pytest.raises(IllegalIntent):
        flow.send(vm.SubmitPin())
    flow.send(vm.PressKey("back"))
    flow.send(vm.PressKey("5"))
    flow.send(vm.PressKey("6"))
    assert flow.send(vm.SubmitPin()) == [fx.CheckPin("C-0001", "1256", "badge")]
    assert "1256" not in repr(fx.CheckPin("C-0001", "1256", "badge"))
    flow.handle(WrongPin(2))
    view = flow.view("en")
    assert view.notice == "Wrong PIN. 2 attempt(s) left."
    assert view.pin_mask == ""


def test_a_second_card_during_a_session_changes_nothing() -> None:
    flow, _ = signed_in()
    assert flow.begin_sign_in("C-0002", "badge") == []
    assert flow.courier == COURIER


def test_refusals_show_a_sentence_and_end_after_dismiss_or_time() -> None:
    clock = Clock()
    flow = CourierFlow(clock)
    flow.begin_sign_in("C-0001", "badge")
    until = datetime(2025, 6, 2, 8, 15, tzinfo=UTC)
    flow.handle(SignInRefused("card_locked", "C-0001", until))
    view = flow.view("en")
    assert view.step is vm.CourierStep.REFUSED
    assert "locked on this terminal until" in view.instruction
    assert flow.send(vm.Dismiss()) == [fx.ClearDown()]
    assert not flow.active
    flow.begin_sign_in("C-0001", "badge")
    flow.handle(SignInRefused("roster_expired", "C-0001"))
    assert "too old" in flow.view("en").instruction
    clock.now += 31
    assert flow.tick() == [fx.ClearDown()]


def test_menu_counts_and_sign_out_logs_the_end() -> None:
    flow, _ = signed_in()
    assert flow.view("en").instruction == "Counting the tasks…"
    flow.handle(fx.WorkLoaded((parcel(1), parcel(2)), 3, (parcel(5),)))
    menu = {e.intent: (e.count, e.enabled) for e in flow.view("zh-CN").menu}
    assert menu == {
        "StartCollect": (2, True),
        "StartLoad": (3, True),
        "StartReturns": (1, True),
        "SignOut": (None, True),
    }
    assert flow.send(vm.SignOut()) == [fx.EndSession("s1", "signed out"), fx.ClearDown()]
    assert flow.view("en").step is vm.CourierStep.SIGNED_OUT


def test_a_village_agent_can_apply_for_a_citizen() -> None:
    flow, _ = signed_in(AGENT)
    assert "ApplyForCitizen" in flow.view("en").accepts
    assert flow.send(vm.ApplyForCitizen()) == [
        fx.EndSession("s1", "apply for a citizen"),
        fx.ClearDown(),
        fx.StartAgentApply(AGENT),
    ]
    courier, _ = signed_in(COURIER)
    with pytest.raises(IllegalIntent):
        courier.send(vm.ApplyForCitizen())


def collect_run(*parcels: fx.ParcelSummary, per_column: int = 1) -> tuple[CourierFlow, Clock]:
    flow, clock = signed_in(settings=CourierFlowSettings(doors_at_once_per_column=per_column))
    flow.handle(fx.WorkLoaded(tuple(parcels), 0, ()))
    flow.send(vm.StartCollect())
    return flow, clock


def test_open_all_never_opens_two_doors_on_one_column() -> None:
    flow, _ = collect_run(parcel(1), parcel(2), parcel(11, "B"))
    effects = flow.send(vm.OpenAll())
    assert [e.parcel.compartment for e in effects if isinstance(e, fx.OpenForRemoval)] == [1, 11]
    assert flow.handle(fx.RemovalDoorOpened(parcel(1), UnlockOutcome.OPENED)) == []
    assert flow.view("en").instruction.startswith("Compartment A01 is open: scan the seal")
    # the seal goes to the first open door without one
    assert flow.handle(CodeScanned("Code128", "SEAL-1")) == [
        fx.BindSeal(parcel(1), "SEAL-1", COURIER)
    ]
    flow.handle(fx.SealBound(parcel(1), "SEAL-1"))
    # once the seal is on record the sentence stops asking for it
    assert flow.view("en").instruction == (
        "Seal recorded: take the bag out of compartment A01 and close the door."
    )
    assert flow.handle(DoorClosed(1)) == [
        fx.ConfirmRemoval(parcel(1), "collect", COURIER, "SEAL-1", False)
    ]
    after = flow.handle(fx.RemovalChecked(parcel(1), "removed"))
    assert after == [fx.OpenForRemoval(parcel(2), "collect", COURIER)]  # A02 only now
    rows = {r.label: r.detail for r in flow.view("en").rows}
    assert rows["A01"] == "collected, seal SEAL-1"


def test_two_doors_per_column_when_configured() -> None:
    flow, _ = collect_run(parcel(1), parcel(2), parcel(3), per_column=2)
    opened = [e for e in flow.send(vm.OpenAll()) if isinstance(e, fx.OpenForRemoval)]
    assert [e.parcel.compartment for e in opened] == [1, 2]


def test_every_removal_verdict_moves_on() -> None:
    flow, _ = collect_run(parcel(1), parcel(2), parcel(3), parcel(4), parcel(5))
    flow.send(vm.OpenAll())
    # 1: jammed → out of service, next door
    assert flow.handle(fx.RemovalDoorOpened(parcel(1), UnlockOutcome.JAMMED)) == [
        fx.OpenForRemoval(parcel(2), "collect", COURIER)
    ]
    # 2: door still open → wait; then still there → flagged, next
    flow.handle(fx.RemovalDoorOpened(parcel(2), UnlockOutcome.OPENED))
    flow.handle(DoorClosed(2))
    assert flow.handle(fx.RemovalChecked(parcel(2), "door_still_open")) == []
    assert "still open" in flow.view("en").notice
    assert flow.send(vm.CheckDoor("p2")) == [
        fx.ConfirmRemoval(parcel(2), "collect", COURIER, None, False)
    ]
    assert flow.handle(fx.RemovalChecked(parcel(2), "still_there")) == [
        fx.OpenForRemoval(parcel(3), "collect", COURIER)
    ]
    # 3: no sensor → ask; yes → confirmed by the courier
    flow.handle(fx.RemovalDoorOpened(parcel(3), UnlockOutcome.OPENED))
    flow.handle(DoorClosed(3))
    flow.handle(fx.RemovalChecked(parcel(3), "needs_confirmation"))
    question = flow.view("en").question
    assert question is not None
    assert question.text == "Is compartment A03 empty now?"
    assert flow.send(vm.AnswerYes("p3")) == [
        fx.ConfirmRemoval(parcel(3), "collect", COURIER, None, True)
    ]
    flow.handle(fx.RemovalChecked(parcel(3), "removed"))
    # 4: the courier says it is not empty → staff alerted, next
    flow.handle(fx.RemovalDoorOpened(parcel(4), UnlockOutcome.ALREADY_OPEN))
    flow.handle(DoorClosed(4))
    flow.handle(fx.RemovalChecked(parcel(4), "needs_confirmation"))
    effects = flow.send(vm.AnswerNo("p4"))
    assert isinstance(effects[0], fx.AlertStaff)
    assert effects[0].compartment == 4
    assert effects[1] == fx.OpenForRemoval(parcel(5), "collect", COURIER)
    # 5: board silent → staff alerted; the run is finished
    flow.handle(fx.RemovalDoorOpened(parcel(5), UnlockOutcome.UNKNOWN))
    flow.handle(DoorClosed(5))
    effects = flow.handle(fx.RemovalChecked(parcel(5), "door_state_unknown"))
    assert isinstance(effects[0], fx.AlertStaff)
    view = flow.view("en")
    assert view.notice == "All done: 1 finished, 4 with a problem."
    assert [r.state for r in view.rows] == ["problem", "problem", "done", "problem", "problem"]
    assert "BackToMenu" in view.accepts
    assert flow.send(vm.BackToMenu()) == [fx.LoadWork()]


def test_back_to_menu_is_refused_while_a_door_is_open() -> None:
    flow, _ = collect_run(parcel(1))
    flow.send(vm.OpenAll())
    flow.handle(fx.RemovalDoorOpened(parcel(1), UnlockOutcome.OPENED))
    with pytest.raises(IllegalIntent):
        flow.send(vm.BackToMenu())


def test_a_seal_with_no_open_door_is_explained_and_failures_are_shown() -> None:
    flow, _ = collect_run(parcel(1))
    assert flow.handle(CodeScanned("Code128", "SEAL-9")) == []
    assert flow.view("en").notice == "No open compartment is waiting for a seal."
    flow.send(vm.OpenAll())
    flow.handle(fx.RemovalDoorOpened(parcel(1), UnlockOutcome.OPENED))
    flow.handle(fx.SealBindFailed(parcel(1), "disk full"))
    assert "disk full" in flow.view("en").notice
    flow.handle(DoorClosed(1))
    flow.handle(fx.RemovalCheckFailed(parcel(1), "database busy"))
    assert "CheckDoor" in flow.view("en").accepts


def test_returns_use_the_same_run_without_seals() -> None:
    flow, _ = signed_in()
    flow.handle(fx.WorkLoaded((), 0, (parcel(7),)))
    flow.send(vm.StartReturns())
    assert flow.send(vm.OpenAll()) == [fx.OpenForRemoval(parcel(7), "return", COURIER)]
    flow.handle(fx.RemovalDoorOpened(parcel(7), UnlockOutcome.OPENED))
    assert flow.handle(CodeScanned("Code128", "X")) == []  # no seals on returns
    flow.handle(DoorClosed(7))
    flow.handle(fx.RemovalChecked(parcel(7), "removed"))
    assert flow.view("en").rows[0].detail == "taken back"


SLOT = fx.LoadSlot("r1", 3, "A", "S")


def loading() -> tuple[CourierFlow, Clock]:
    flow, clock = signed_in()
    flow.handle(fx.WorkLoaded((), 1, ()))
    flow.send(vm.StartLoad())
    return flow, clock


def test_load_one_result_end_to_end() -> None:
    flow, _ = loading()
    assert flow.handle(CodeScanned("Code128", " 440100000000000001 ")) == [
        fx.MatchEnvelope("440100000000000001")
    ]
    flow.handle(fx.EnvelopeMatched(TASK))
    view = flow.view("en")
    assert [(s.size, s.suggested) for s in view.sizes] == [("S", True), ("M", False), ("L", False)]
    assert flow.send(vm.ChooseSize("S")) == [fx.ReserveForResult(TASK, "S", COURIER, ())]
    assert flow.handle(fx.ResultCompartmentReserved(TASK, SLOT)) == [fx.OpenForLoad(SLOT, COURIER)]
    flow.handle(fx.LoadDoorOpened(SLOT, UnlockOutcome.OPENED))
    assert "put the envelope in" in flow.view("en").instruction
    assert flow.handle(DoorClosed(3)) == [fx.ConfirmLoad(TASK, SLOT, COURIER, False)]
    flow.handle(fx.LoadChecked(SLOT, "loaded"))
    view = flow.view("en")
    assert view.loaded_count == 1
    assert view.notice.startswith("Stored in A03")
    assert "BackToMenu" in view.accepts


def test_an_envelope_without_a_task_is_refused_clearly() -> None:
    flow, _ = loading()
    flow.handle(CodeScanned("Code128", "999"))
    flow.handle(fx.EnvelopeRefused("no_task", "999"))
    assert flow.view("en").notice.startswith("No delivery task for 999")
    flow.handle(CodeScanned("Code128", "440100000000000001"))
    flow.handle(fx.EnvelopeRefused("already_loaded", "440100000000000001", "A05"))
    assert flow.view("en").notice == "This result is already in compartment A05."


def test_no_free_compartment_and_jammed_doors() -> None:
    flow, _ = loading()
    flow.handle(CodeScanned("Code128", "440100000000000001"))
    flow.handle(fx.EnvelopeMatched(TASK))
    flow.send(vm.ChooseSize("S"))
    flow.handle(fx.NoCompartmentFree("S"))
    assert flow.view("en").notice.startswith("No free Small compartment")
    flow.send(vm.ChooseSize("M"))
    slot_m = fx.LoadSlot("r2", 4, "A", "M")
    flow.handle(fx.ResultCompartmentReserved(TASK, slot_m))
    assert flow.handle(fx.LoadDoorOpened(slot_m, UnlockOutcome.JAMMED)) == [
        fx.ReserveForResult(TASK, "M", COURIER, (4,))
    ]
    slot_b = fx.LoadSlot("r3", 5, "A", "M")
    flow.handle(fx.ResultCompartmentReserved(TASK, slot_b))
    flow.handle(fx.LoadDoorOpened(slot_b, UnlockOutcome.JAMMED))
    slot_c = fx.LoadSlot("r4", 6, "A", "M")
    flow.handle(fx.ResultCompartmentReserved(TASK, slot_c))
    assert flow.handle(fx.LoadDoorOpened(slot_c, UnlockOutcome.JAMMED)) == []
    assert "ChooseSize" in flow.view("en").accepts  # three jams: the courier chooses again


def test_load_without_sensor_asks_and_no_item_seen_reopens_or_cancels() -> None:
    flow, _ = loading()
    flow.handle(CodeScanned("Code128", "440100000000000001"))
    flow.handle(fx.EnvelopeMatched(TASK))
    flow.send(vm.ChooseSize("S"))
    flow.handle(fx.ResultCompartmentReserved(TASK, SLOT))
    flow.handle(fx.LoadDoorOpened(SLOT, UnlockOutcome.OPENED))
    flow.send(vm.CheckDoor("r1"))
    flow.handle(fx.LoadChecked(SLOT, "door_still_open"))
    flow.send(vm.CheckDoor("r1"))
    flow.handle(fx.LoadChecked(SLOT, "needs_confirmation"))
    assert flow.view("en").question is not None
    assert flow.send(vm.AnswerYes("r1")) == [fx.ConfirmLoad(TASK, SLOT, COURIER, True)]
    flow.handle(fx.LoadChecked(SLOT, "no_item_seen"))
    assert flow.send(vm.ReopenDoor()) == [fx.OpenForLoad(SLOT, COURIER)]
    flow.handle(fx.LoadDoorOpened(SLOT, UnlockOutcome.OPENED))
    flow.handle(DoorClosed(3))
    flow.handle(fx.LoadChecked(SLOT, "no_item_seen"))
    assert flow.send(vm.CancelLoad()) == [fx.ReleaseSlot(SLOT, COURIER)]
    assert flow.view("en").notice == "Cancelled; compartment A03 is free again."


def test_a_silent_board_while_loading_alerts_and_releases() -> None:
    flow, _ = loading()
    flow.handle(CodeScanned("Code128", "440100000000000001"))
    flow.handle(fx.EnvelopeMatched(TASK))
    flow.send(vm.ChooseSize("S"))
    flow.handle(fx.ResultCompartmentReserved(TASK, SLOT))
    flow.handle(fx.LoadDoorOpened(SLOT, UnlockOutcome.UNKNOWN))
    flow.handle(DoorClosed(3))
    effects = flow.handle(fx.LoadChecked(SLOT, "door_state_unknown"))
    assert isinstance(effects[0], fx.AlertStaff)
    assert effects[1] == fx.ReleaseSlot(SLOT, COURIER)
    flow.send(vm.BackToMenu())
    flow.handle(fx.WorkLoaded((), 0, ()))


def test_idle_warns_then_ends_the_session_flagging_open_doors() -> None:
    flow, clock = collect_run(parcel(1))
    flow.send(vm.OpenAll())
    flow.handle(fx.RemovalDoorOpened(parcel(1), UnlockOutcome.OPENED))
    clock.now += 105
    view = flow.view("en")
    assert view.countdown == 15
    assert "StillHere" in view.accepts
    flow.send(vm.StillHere())
    assert flow.view("en").countdown is None
    clock.now += 120
    effects = flow.tick()
    assert isinstance(effects[0], fx.AlertStaff)
    assert effects[1:] == [fx.EndSession("s1", "idle"), fx.ClearDown()]
    assert not flow.active


def test_idle_while_loading_releases_the_held_compartment() -> None:
    flow, _clock = loading()
    flow.handle(CodeScanned("Code128", "440100000000000001"))
    flow.handle(fx.EnvelopeMatched(TASK))
    flow.send(vm.ChooseSize("S"))
    flow.handle(fx.ResultCompartmentReserved(TASK, SLOT))
    flow.handle(fx.LoadDoorOpened(SLOT, UnlockOutcome.OPENED))
    effects = flow.abandon()
    assert [type(e).__name__ for e in effects] == [
        "AlertStaff",
        "ReleaseSlot",
        "EndSession",
        "ClearDown",
    ]


def test_illegal_events_are_named() -> None:
    flow, _ = loading()
    with pytest.raises(IllegalEvent):
        flow.handle(fx.LoadChecked(SLOT, "loaded"))
    with pytest.raises(IllegalEvent):
        flow.handle(object())


def test_every_text_exists_in_both_languages() -> None:
    from kiosk.courier.texts import COURIER_MESSAGES

    for key, entry in COURIER_MESSAGES.items():
        assert set(entry) == {"zh-CN", "en"}, key
