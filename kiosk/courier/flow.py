"""A courier's (or village agent's) session as one state machine: sign-in → menu → collect /
load results / take back overdue → sign out.

Why a sans-I/O machine, like kiosk/apply/flow.py: the session meets lock boards, a scanner, the
database and the hall's task list, any of which can fail. Every decision lives here and only
*returns* effects (kiosk/courier/effects.py); the runtime performs them off the UI thread and
feeds their results back. So each branch — a jammed door, a sensor that still sees the bag, a
board that does not answer, an envelope with no task — is a unit test with plain values.

Three doors in: `send(intent)` for touches, `handle(event)` for device events and effect results,
`tick()` for the clock; `begin_sign_in` is the front door's call. An intent the state does not
offer raises `IllegalIntent`; an effect result that does not fit raises `IllegalEvent`. Door and
scanner events that do not concern the session are absorbed.

Doors: a collect or return run opens compartments one after another, never more than
`doors_at_once_per_column` at once on one column (the column's power supply and the courier's two
hands are the limit). A seal scanned while several doors are open belongs to the door opened
first that has no seal yet; the screen says which.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from kiosk.config import Language
from kiosk.ports.camera import CodeScanned
from kiosk.ports.lockers import CompartmentSize, DoorClosed, UnlockOutcome

from . import effects as fx
from . import view_models as vm
from .sign_in import CourierIdentity, PinWanted, SignedIn, SignInRefused, SignInRoute, WrongPin

PIN_KEYS = frozenset("0123456789")


class CourierFlowError(Exception):
    """The courier flow was driven wrongly; the message names the state and what arrived."""


class IllegalIntent(CourierFlowError):
    """A touch the current state does not offer (a double tap after the screen changed)."""


class IllegalEvent(CourierFlowError):
    """An effect result that does not belong to the current state: a bug in the runtime."""


@dataclass(frozen=True)
class CourierFlowSettings:
    session_idle_s: float = 120.0  # [courier] session_idle_s
    warning_s: float = 20.0  # the countdown shown before an idle sign-out
    doors_at_once_per_column: int = 1  # [courier] doors_at_once_per_column
    pin_min_digits: int = 4
    pin_max_digits: int = 8
    load_attempts: int = 3  # jammed doors tried for one envelope before asking for another size
    refused_show_s: float = 30.0  # a refusal stays this long, then the attract screen


RowResult = Literal["", "collected", "returned", "left_inside", "jammed", "no_answer", "failed"]
LoadPhase = Literal[
    "scan",
    "matching",
    "size",
    "reserving",
    "opening",
    "door_open",
    "checking",
    "asking",
    "no_item_seen",
]
_BUSY = ("opening", "open", "checking", "asking")


@dataclass
class _Row:
    parcel: fx.ParcelSummary
    state: vm.RowState = "waiting"
    seal: str | None = None
    result: RowResult = ""
    opened_seq: int = 0


@dataclass
class _Run:
    purpose: fx.RemovalPurpose
    rows: list[_Row] = field(default_factory=list)
    started: bool = False

    def row(self, parcel_id: str) -> _Row | None:
        return next((r for r in self.rows if r.parcel.parcel_id == parcel_id), None)

    @property
    def busy(self) -> bool:
        return any(r.state in _BUSY for r in self.rows)


@dataclass(frozen=True)
class _Notice:
    key: str
    args: tuple[tuple[str, str], ...]
    severity: vm.Severity


class CourierFlow:
    def __init__(
        self, clock: Callable[[], float], settings: CourierFlowSettings | None = None
    ) -> None:
        self._clock = clock
        self.settings = settings or CourierFlowSettings()
        self._reset()

    def _reset(self) -> None:
        self.step = vm.CourierStep.SIGNED_OUT
        self._card: tuple[str, SignInRoute] | None = None
        self._pin_phase: Literal["looking_up", "enter", "checking"] = "looking_up"
        self._pending: CourierIdentity | None = None
        self._pin = ""
        self._refusal: SignInRefused | None = None
        self._session: SignedIn | None = None
        self._notice: _Notice | None = None
        self._work: fx.WorkLoaded | None = None
        self._work_error = ""
        self._run: _Run | None = None
        self._seq = 0
        self._load_phase: LoadPhase = "scan"
        self._task: fx.ResultTask | None = None
        self._slot: fx.LoadSlot | None = None
        self._size: CompartmentSize = "S"
        self._excluded: list[int] = []
        self._loaded_count = 0
        self._last_activity = self._clock()

    # ---- what others ask --------------------------------------------------------------------

    @property
    def active(self) -> bool:
        return self.step is not vm.CourierStep.SIGNED_OUT

    @property
    def courier(self) -> CourierIdentity | None:
        return None if self._session is None else self._session.courier

    # ---- entry points -----------------------------------------------------------------------

    def begin_sign_in(self, card_id: str, via: SignInRoute) -> list[fx.Effect]:
        """The front door saw a badge or a courier's ID card at the attract screen."""
        if self.active:
            return []  # a session (or a sign-in) is under way: a second card changes nothing
        self._reset()
        self.step = vm.CourierStep.PIN
        self._card = (card_id, via)
        self._pin_phase = "looking_up"
        return [fx.LookUpCard(card_id, via)]

    def send(self, intent: vm.Intent) -> list[fx.Effect]:
        name = type(intent).__name__
        if name not in self._accepted():
            raise IllegalIntent(
                f"The courier {self.step} step does not accept {name} now (accepted: "
                f"{', '.join(sorted(self._accepted())) or 'nothing'}); the screen is stale."
            )
        self._last_activity = self._clock()
        handler: Callable[[vm.Intent], list[fx.Effect]] = getattr(self, f"_on_{_snake(name)}")
        return handler(intent)

    def handle(self, event: object) -> list[fx.Effect]:
        if isinstance(event, fx.Tick):
            return self.tick()
        if isinstance(event, CodeScanned):
            return self._code_scanned(event.text)
        if isinstance(event, DoorClosed):
            return self._door_closed(event.compartment)
        if not self.active:
            return []  # an answer for a session that has ended
        handler = getattr(self, f"_after_{_snake(type(event).__name__)}", None)
        if handler is None:
            raise IllegalEvent(f"The courier flow does not know the event {event!r}.")
        result: list[fx.Effect] = handler(event)
        return result

    def tick(self) -> list[fx.Effect]:
        if not self.active:
            return []
        idle_for = self._clock() - self._last_activity
        limit = (
            self.settings.refused_show_s
            if self.step is vm.CourierStep.REFUSED
            else self.settings.session_idle_s
        )
        if idle_for >= limit:
            return self.abandon()
        return []

    def abandon(self) -> list[fx.Effect]:
        """Idle (the flow's own timer or the shell's): end the session, leaving nothing open
        unaccounted for — open doors are flagged for staff, a held compartment is released."""
        if not self.active:
            return []
        return self._end("idle")

    # ---- which intents each state accepts ----------------------------------------------------

    def _accepted(self) -> frozenset[str]:
        names: set[str] = set()
        step = self.step
        if self._session is not None and self._countdown() is not None:
            names.add("StillHere")
        if step is vm.CourierStep.PIN:
            names.add("CancelSignIn")
            if self._pin_phase == "enter":
                names.add("PressKey")
                if len(self._pin) >= self.settings.pin_min_digits:
                    names.add("SubmitPin")
        elif step is vm.CourierStep.REFUSED:
            names.add("Dismiss")
        elif step is vm.CourierStep.MENU:
            names.update({"StartCollect", "StartLoad", "StartReturns", "SignOut"})
            if self._session is not None and self._session.courier.is_village_agent:
                names.add("ApplyForCitizen")
        elif step in (vm.CourierStep.COLLECT, vm.CourierStep.RETURNS):
            run = self._run
            assert run is not None
            if not run.busy:
                names.add("BackToMenu")
            if not run.started and run.rows:
                names.add("OpenAll")
            if any(r.state == "open" for r in run.rows):
                names.add("CheckDoor")
            if any(r.state == "asking" for r in run.rows):
                names.update({"AnswerYes", "AnswerNo"})
        elif step is vm.CourierStep.LOAD:
            phase = self._load_phase
            if phase in ("scan", "size"):
                names.add("BackToMenu")
            if phase == "size":
                names.update({"ChooseSize", "CancelLoad"})
            elif phase == "door_open":
                names.add("CheckDoor")
            elif phase == "asking":
                names.update({"AnswerYes", "AnswerNo"})
            elif phase == "no_item_seen":
                names.update({"ReopenDoor", "CancelLoad"})
        return frozenset(names)

    # ---- sign-in -----------------------------------------------------------------------------

    def _after_pin_wanted(self, event: PinWanted) -> list[fx.Effect]:
        self._require(vm.CourierStep.PIN, event)
        self._pending = event.courier
        self._pin_phase = "enter"
        self._pin = ""
        self._last_activity = self._clock()
        return []

    def _after_sign_in_refused(self, event: SignInRefused) -> list[fx.Effect]:
        self._require(vm.CourierStep.PIN, event)
        self.step = vm.CourierStep.REFUSED
        self._refusal = event
        self._pin = ""
        self._last_activity = self._clock()
        return []

    def _after_wrong_pin(self, event: WrongPin) -> list[fx.Effect]:
        self._require(vm.CourierStep.PIN, event)
        self._pin_phase = "enter"
        self._pin = ""
        self._notice = _Notice("courier.pin.wrong", (("left", str(event.attempts_left)),), "error")
        return []

    def _after_signed_in(self, event: SignedIn) -> list[fx.Effect]:
        self._require(vm.CourierStep.PIN, event)
        self._session = event
        self._pin = ""
        self._pending = None
        self._notice = None
        self._last_activity = self._clock()
        return self._menu()

    def _on_press_key(self, intent: vm.PressKey) -> list[fx.Effect]:
        if intent.key in PIN_KEYS:
            if len(self._pin) < self.settings.pin_max_digits:
                self._pin += intent.key
        elif intent.key == "back":
            self._pin = self._pin[:-1]
        elif intent.key == "clear":
            self._pin = ""
        self._notice = None
        return []

    def _on_submit_pin(self, _: vm.SubmitPin) -> list[fx.Effect]:
        assert self._card is not None
        card_id, via = self._card
        pin, self._pin = self._pin, ""
        self._pin_phase = "checking"
        self._notice = None
        return [fx.CheckPin(card_id, pin, via)]

    def _on_cancel_sign_in(self, _: vm.CancelSignIn) -> list[fx.Effect]:
        return self._clear()

    def _on_dismiss(self, _: vm.Dismiss) -> list[fx.Effect]:
        return self._clear()

    # ---- menu --------------------------------------------------------------------------------

    def _menu(self) -> list[fx.Effect]:
        self.step = vm.CourierStep.MENU
        self._run = None
        self._work = None
        self._work_error = ""
        return [fx.LoadWork()]

    def _after_work_loaded(self, event: fx.WorkLoaded) -> list[fx.Effect]:
        self._work = event
        self._work_error = ""
        return []

    def _after_work_load_failed(self, event: fx.WorkLoadFailed) -> list[fx.Effect]:
        self._work_error = event.reason
        return []

    def _on_start_collect(self, _: vm.StartCollect) -> list[fx.Effect]:
        materials = () if self._work is None else self._work.materials
        self._run = _Run("collect", [_Row(p) for p in materials])
        self.step = vm.CourierStep.COLLECT
        self._notice = None
        return []

    def _on_start_returns(self, _: vm.StartReturns) -> list[fx.Effect]:
        returns = () if self._work is None else self._work.returns
        self._run = _Run("return", [_Row(p) for p in returns])
        self.step = vm.CourierStep.RETURNS
        self._notice = None
        return []

    def _on_start_load(self, _: vm.StartLoad) -> list[fx.Effect]:
        self.step = vm.CourierStep.LOAD
        self._load_phase = "scan"
        self._task = None
        self._slot = None
        self._notice = None
        return []

    def _on_back_to_menu(self, _: vm.BackToMenu) -> list[fx.Effect]:
        self._notice = None
        self._task = None
        return self._menu()

    def _on_sign_out(self, _: vm.SignOut) -> list[fx.Effect]:
        return self._end("signed out")

    def _on_apply_for_citizen(self, _: vm.ApplyForCitizen) -> list[fx.Effect]:
        assert self._session is not None
        agent = self._session.courier
        return [*self._end("apply for a citizen"), fx.StartAgentApply(agent)]

    def _on_still_here(self, _: vm.StillHere) -> list[fx.Effect]:
        return []

    # ---- collect and returns: a run of removals ------------------------------------------------

    def _on_open_all(self, _: vm.OpenAll) -> list[fx.Effect]:
        run = self._current_run()
        run.started = True
        return self._pump()

    def _pump(self) -> list[fx.Effect]:
        """Open the next doors the per-column limit allows."""
        run = self._current_run()
        session = self._signed_in()
        out: list[fx.Effect] = []
        for row in run.rows:
            if row.state != "waiting":
                continue
            column = row.parcel.column
            busy_here = sum(1 for r in run.rows if r.state in _BUSY and r.parcel.column == column)
            if busy_here >= self.settings.doors_at_once_per_column:
                continue
            row.state = "opening"
            out.append(fx.OpenForRemoval(row.parcel, run.purpose, session.courier))
        if run.started and not run.busy and not any(r.state == "waiting" for r in run.rows):
            done = sum(1 for r in run.rows if r.result in ("collected", "returned"))
            self._notice = _Notice(
                "courier.run.finished",
                (("done", str(done)), ("problems", str(len(run.rows) - done))),
                "success" if done == len(run.rows) else "warning",
            )
        return out

    def _after_removal_door_opened(self, event: fx.RemovalDoorOpened) -> list[fx.Effect]:
        row = self._row_in(event.parcel.parcel_id, "opening", event)
        if event.outcome is UnlockOutcome.JAMMED:
            row.state, row.result = "problem", "jammed"
        else:
            # opened, already open, or no answer (the door may be open): the board decides later
            self._seq += 1
            row.state, row.opened_seq = "open", self._seq
        return self._pump()

    def _door_closed(self, compartment: int) -> list[fx.Effect]:
        if self._session is None:
            return []
        self._last_activity = self._clock()
        if self.step is vm.CourierStep.LOAD:
            if (
                self._load_phase == "door_open"
                and self._slot is not None
                and self._slot.compartment == compartment
            ):
                return self._check_load(courier_confirmed=False)
            return []
        run = self._run
        if run is None:
            return []
        row = next(
            (r for r in run.rows if r.parcel.compartment == compartment and r.state == "open"),
            None,
        )
        return [] if row is None else self._check_removal(row, person_confirmed=False)

    def _check_removal(self, row: _Row, *, person_confirmed: bool) -> list[fx.Effect]:
        run = self._current_run()
        row.state = "checking"
        return [
            fx.ConfirmRemoval(
                row.parcel, run.purpose, self._signed_in().courier, row.seal, person_confirmed
            )
        ]

    def _on_check_door(self, intent: vm.CheckDoor) -> list[fx.Effect]:
        if self.step is vm.CourierStep.LOAD:
            return self._check_load(courier_confirmed=False)
        row = self._current_run().row(intent.subject)
        if row is None or row.state != "open":
            return []
        return self._check_removal(row, person_confirmed=False)

    def _after_removal_checked(self, event: fx.RemovalChecked) -> list[fx.Effect]:
        row = self._row_in(event.parcel.parcel_id, "checking", event)
        run = self._current_run()
        out: list[fx.Effect] = []
        label = row.parcel.label
        match event.verdict:
            case "removed":
                row.state = "done"
                row.result = "collected" if run.purpose == "collect" else "returned"
            case "door_still_open":
                row.state = "open"
                self._notice = _Notice(
                    "courier.run.door_still_open", (("label", label),), "warning"
                )
            case "still_there":
                row.state, row.result = "problem", "left_inside"  # the service flagged it
            case "needs_confirmation":
                row.state = "asking"
            case "door_state_unknown":
                row.state, row.result = "problem", "no_answer"
                out.append(
                    fx.AlertStaff(
                        row.parcel.compartment,
                        f"the lock board of {label} did not answer while a courier was "
                        f"emptying it (parcel {row.parcel.parcel_id}); check it",
                        self._signed_in().courier,
                    )
                )
        return out + self._pump()

    def _after_removal_check_failed(self, event: fx.RemovalCheckFailed) -> list[fx.Effect]:
        row = self._row_in(event.parcel.parcel_id, "checking", event)
        row.state = "open"  # the courier can press "door is closed" to try again
        self._notice = _Notice("courier.load.failed", (("reason", event.reason),), "error")
        return []

    def _on_answer_yes(self, intent: vm.AnswerYes) -> list[fx.Effect]:
        if self.step is vm.CourierStep.LOAD:
            return self._check_load(courier_confirmed=True)
        row = self._current_run().row(intent.subject)
        if row is None or row.state != "asking":
            return []
        return self._check_removal(row, person_confirmed=True)

    def _on_answer_no(self, intent: vm.AnswerNo) -> list[fx.Effect]:
        if self.step is vm.CourierStep.LOAD:
            self._load_phase = "no_item_seen"
            return []
        row = self._current_run().row(intent.subject)
        if row is None or row.state != "asking":
            return []
        row.state, row.result = "problem", "left_inside"
        alert = fx.AlertStaff(
            row.parcel.compartment,
            f"the courier says compartment {row.parcel.label} is not empty after the "
            f"{self._current_run().purpose} (parcel {row.parcel.parcel_id}); check it",
            self._signed_in().courier,
        )
        return [alert, *self._pump()]

    def _code_scanned(self, text: str) -> list[fx.Effect]:
        if self._session is None:
            return []
        self._last_activity = self._clock()
        if self.step is vm.CourierStep.COLLECT:
            return self._seal_scanned(text.strip())
        if self.step is vm.CourierStep.LOAD and self._load_phase in ("scan", "size"):
            self._load_phase = "matching"
            self._task = None
            self._notice = None
            return [fx.MatchEnvelope(text.strip())]
        return []

    def _seal_scanned(self, seal: str) -> list[fx.Effect]:
        run = self._current_run()
        waiting = sorted(
            (r for r in run.rows if r.state in ("open", "asking") and r.seal is None),
            key=lambda r: r.opened_seq,
        )
        if not waiting:
            # a rescan replaces the seal of the only open door (a smudged label read again)
            open_rows = [r for r in run.rows if r.state in ("open", "asking")]
            if len(open_rows) != 1:
                self._notice = _Notice("courier.run.seal_no_door", (), "warning")
                return []
            waiting = open_rows
        if not seal:
            return []
        row = waiting[0]
        return [fx.BindSeal(row.parcel, seal, self._signed_in().courier)]

    def _after_seal_bound(self, event: fx.SealBound) -> list[fx.Effect]:
        row = self._current_run().row(event.parcel.parcel_id)
        if row is not None:
            row.seal = event.seal
            self._notice = _Notice(
                "courier.run.seal_bound",
                (("seal", event.seal), ("label", row.parcel.label)),
                "success",
            )
        return []

    def _after_seal_bind_failed(self, event: fx.SealBindFailed) -> list[fx.Effect]:
        self._notice = _Notice("courier.run.seal_failed", (("reason", event.reason),), "error")
        return []

    # ---- load results ----------------------------------------------------------------------------

    def _after_envelope_matched(self, event: fx.EnvelopeMatched) -> list[fx.Effect]:
        self._require_load("matching", event)
        self._task = event.task
        self._size = event.task.suggested_size
        self._excluded = []
        self._load_phase = "size"
        return []

    def _after_envelope_refused(self, event: fx.EnvelopeRefused) -> list[fx.Effect]:
        self._require_load("matching", event)
        self._load_phase = "scan"
        args = (("text", event.text), ("label", event.compartment_label))
        self._notice = _Notice(f"courier.load.{event.reason}", args, "error")
        return []

    def _on_choose_size(self, intent: vm.ChooseSize) -> list[fx.Effect]:
        self._size = intent.size
        self._excluded = []
        self._notice = None
        return self._reserve()

    def _reserve(self) -> list[fx.Effect]:
        assert self._task is not None
        self._load_phase = "reserving"
        return [
            fx.ReserveForResult(
                self._task, self._size, self._signed_in().courier, tuple(self._excluded)
            )
        ]

    def _after_no_compartment_free(self, event: fx.NoCompartmentFree) -> list[fx.Effect]:
        self._require_load("reserving", event)
        self._load_phase = "size"
        self._notice = _Notice("courier.load.no_compartment", (("size", event.size),), "error")
        return []

    def _after_result_compartment_reserved(
        self, event: fx.ResultCompartmentReserved
    ) -> list[fx.Effect]:
        self._require_load("reserving", event)
        self._slot = event.slot
        self._load_phase = "opening"
        return [fx.OpenForLoad(event.slot, self._signed_in().courier)]

    def _after_load_door_opened(self, event: fx.LoadDoorOpened) -> list[fx.Effect]:
        self._require_load("opening", event)
        if event.outcome is UnlockOutcome.JAMMED:
            # the service took it out of service and ended the reservation: try another one
            self._excluded.append(event.slot.compartment)
            self._slot = None
            self._notice = _Notice("courier.load.jammed", (("label", event.slot.label),), "warning")
            if len(self._excluded) >= self.settings.load_attempts:
                self._load_phase = "size"
                return []
            return self._reserve()
        self._load_phase = "door_open"
        return []

    def _check_load(self, *, courier_confirmed: bool) -> list[fx.Effect]:
        if self._task is None or self._slot is None:
            return []
        self._load_phase = "checking"
        return [
            fx.ConfirmLoad(self._task, self._slot, self._signed_in().courier, courier_confirmed)
        ]

    def _after_load_checked(self, event: fx.LoadChecked) -> list[fx.Effect]:
        self._require_load("checking", event)
        label = event.slot.label
        out: list[fx.Effect] = []
        match event.verdict:
            case "loaded":
                self._loaded_count += 1
                self._task, self._slot = None, None
                self._load_phase = "scan"
                self._notice = _Notice("courier.load.loaded", (("label", label),), "success")
            case "door_still_open":
                self._load_phase = "door_open"
                self._notice = _Notice(
                    "courier.run.door_still_open", (("label", label),), "warning"
                )
            case "no_item_seen":
                self._load_phase = "no_item_seen"
            case "needs_confirmation":
                self._load_phase = "asking"
            case "door_state_unknown":
                courier = self._signed_in().courier
                out.append(
                    fx.AlertStaff(
                        event.slot.compartment,
                        f"the lock board of {label} did not answer while a courier was loading "
                        "a result; check it",
                        courier,
                    )
                )
                out.append(fx.ReleaseSlot(event.slot, courier))
                self._task, self._slot = None, None
                self._load_phase = "scan"
                self._notice = _Notice("courier.load.door_unknown", (), "error")
        return out

    def _after_load_check_failed(self, event: fx.LoadCheckFailed) -> list[fx.Effect]:
        self._require_load("checking", event)
        self._load_phase = "door_open"  # "door is closed" tries again
        self._notice = _Notice("courier.load.failed", (("reason", event.reason),), "error")
        return []

    def _on_reopen_door(self, _: vm.ReopenDoor) -> list[fx.Effect]:
        assert self._slot is not None
        self._load_phase = "opening"
        self._notice = None
        return [fx.OpenForLoad(self._slot, self._signed_in().courier)]

    def _on_cancel_load(self, _: vm.CancelLoad) -> list[fx.Effect]:
        out: list[fx.Effect] = []
        if self._slot is not None:
            out.append(fx.ReleaseSlot(self._slot, self._signed_in().courier))
            self._notice = _Notice("courier.load.cancelled", (("label", self._slot.label),), "info")
        else:
            self._notice = None
        self._task, self._slot = None, None
        self._load_phase = "scan"
        return out

    # ---- ending ----------------------------------------------------------------------------------

    def _end(self, reason: str) -> list[fx.Effect]:
        out: list[fx.Effect] = []
        session = self._session
        if session is not None:
            courier = session.courier
            if self._run is not None:
                for row in self._run.rows:
                    if row.state in _BUSY:
                        out.append(
                            fx.AlertStaff(
                                row.parcel.compartment,
                                f"the courier session ended ({reason}) while compartment "
                                f"{row.parcel.label} was being emptied; check it",
                                courier,
                            )
                        )
            if self._slot is not None:
                if self._load_phase in ("door_open", "checking", "asking", "opening"):
                    out.append(
                        fx.AlertStaff(
                            self._slot.compartment,
                            f"the courier session ended ({reason}) with compartment "
                            f"{self._slot.label} open for a result; check it",
                            courier,
                        )
                    )
                out.append(fx.ReleaseSlot(self._slot, courier))
            out.append(fx.EndSession(session.session_id, reason))
        return out + self._clear()

    def _clear(self) -> list[fx.Effect]:
        self._reset()
        return [fx.ClearDown()]

    # ---- helpers ---------------------------------------------------------------------------------

    def _require(self, step: vm.CourierStep, event: object) -> None:
        if self.step is not step:
            raise IllegalEvent(f"{type(event).__name__} arrived in the courier {self.step} step.")

    def _require_load(self, phase: LoadPhase, event: object) -> None:
        if self.step is not vm.CourierStep.LOAD or self._load_phase != phase:
            raise IllegalEvent(
                f"{type(event).__name__} arrived while loading was at {self._load_phase} "
                f"(step {self.step}), not {phase}."
            )

    def _current_run(self) -> _Run:
        if self._run is None:
            raise IllegalEvent(f"No collect or return run in the courier {self.step} step.")
        return self._run

    def _row_in(self, parcel_id: str, state: vm.RowState, event: object) -> _Row:
        row = self._current_run().row(parcel_id)
        if row is None or row.state != state:
            raise IllegalEvent(
                f"{type(event).__name__} for parcel {parcel_id}, which is not {state}."
            )
        return row

    def _signed_in(self) -> SignedIn:
        if self._session is None:
            raise IllegalEvent(f"No courier is signed in (step {self.step}).")
        return self._session

    def _countdown(self) -> int | None:
        if self._session is None:
            return None
        left = self.settings.session_idle_s - (self._clock() - self._last_activity)
        if left > self.settings.warning_s:
            return None
        return max(0, int(left + 0.999))

    # ---- the view --------------------------------------------------------------------------------

    def view(self, language: Language) -> vm.CourierView:
        from .views import render  # the rendering is long; kept beside, not inside, the machine

        return render(self, language)


def _snake(name: str) -> str:
    out = []
    for index, char in enumerate(name):
        if char.isupper() and index:
            out.append("_")
        out.append(char.lower())
    return "".join(out)
