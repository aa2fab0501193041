"""Citizen collection as one sans-I/O state machine: start → (code) → door, door, … → done.

Why the same shape as the apply journey (kiosk/apply/flow.py): every branch a 3 a.m. pickup can
take — a wrong code, a locked keypad, a jammed door, documents left inside, a silent board — is a
plain value in, a list of effects out, tested in microseconds with a fake clock. The runtime
performs the effects off the UI thread.

Rules the flow keeps, and why:

* **A door opens only for a parcel a lookup returned** (`ParcelsFound`), and only for the parcels
  of that one lookup. Nothing the citizen types or scans names a compartment directly.
* **Every parcel opens in turn**, one door at a time, so an elderly citizen faces one open door.
  A jammed door (the service takes it out of service) is named, staff are told, and the next
  parcel opens. A board that does not answer is `unknown`: the citizen is told to ask staff if
  nothing opened, and the flow waits for the door like an open one.
* **Asked once more, then recorded as not taken.** Closed with the documents still inside: the
  citizen may open it again or leave them; a second close with them inside, "leave them", or no
  answer records `pickup_not_taken` — the parcel stays stored, the compartment flagged for staff.
* **The keypad lock is the service's** (persisted, kiosk/pickup/guard.py); the flow only shows it.
  A QR or an ID card is never a guess: they still work while the keypad is locked.
* No Cancel while a door is open for the citizen: they must close it (or walk away — the idle
  timer then alerts staff).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from kiosk.config import Language
from kiosk.ports.camera import CodeScanned
from kiosk.ports.identity import CardPlaced, CardReadFailed
from kiosk.ports.lockers import DoorClosed, UnlockOutcome

from . import effects as fx
from . import view_models as vm
from .texts import tr
from .tokens import PICKUP_CODE_DIGITS, looks_like_pickup_qr

_NOTHING_NOTICE: dict[str, str] = {
    "id_card": "pickup.notice.nothing_for_card",
    "qr": "pickup.notice.already_collected",
    "code": "pickup.notice.wrong_code",
}


class PickupFlowError(Exception):
    """The pickup flow was driven wrongly; the message names the state and what arrived."""


class IllegalIntent(PickupFlowError):
    """A touch the current step does not offer (a double tap after the step changed)."""


class IllegalEvent(PickupFlowError):
    """An effect result that does not belong to the current state: a bug in the runtime."""


@dataclass(frozen=True)
class PickupSettings:
    door_reminder_s: float = 30.0  # door open this long: "please close the door" (spoken)
    door_recheck_s: float = 5.0  # while open, ask the board again (a DoorClosed may be missed)
    door_give_up_s: float = 180.0  # no close in this long: staff alerted, parcel left as unknown
    unknown_rechecks: int = 3  # board answers "unknown" this many times: give up on that door
    ask_again_s: float = 60.0  # "still inside": no answer in this long → recorded as not taken
    done_show_s: float = 15.0  # the summary, then the clear-down


@dataclass
class _Outcome:
    parcel: fx.WaitingParcel
    kind: vm.OutcomeKind


class PickupFlow:
    def __init__(
        self,
        *,
        clock: Callable[[], float],
        wall_clock: Callable[[], datetime],
        hotline: str,
        settings: PickupSettings | None = None,
    ) -> None:
        self._clock = clock
        self._wall_clock = wall_clock
        self._hotline = hotline
        self.settings = settings or PickupSettings()
        self.touches = 0
        self._voice_serial = 0
        self._reset()

    def _reset(self) -> None:
        self.step = vm.PickupStep.START
        self._digits = ""
        self._busy = False
        self._locked_until: datetime | None = None
        self._notice: tuple[str, vm.Severity, dict[str, object]] | None = None
        self._wrong_left: int | None = None
        self._method: fx.PickupMethod = "code"
        self._queue: list[fx.WaitingParcel] = []
        self._index = 0
        self._phase: vm.DoorPhase = "opening"
        self._attempt = 1
        self._asked_again = False
        self._unknown_checks = 0
        self._door_since: float | None = None
        self._reminded = False
        self._next_check: float | None = None
        self._ask_deadline: float | None = None
        self._outcomes: list[_Outcome] = []
        self._done_deadline: float | None = None
        self._voice_key = ""
        self._voice_args: dict[str, str] = {}

    # ---- entry points --------------------------------------------------------------------

    @property
    def holds_personal_data(self) -> bool:
        return bool(self._digits or self._queue or self._outcomes)

    @property
    def current_parcel(self) -> fx.WaitingParcel | None:
        if self.step is vm.PickupStep.DOOR and self._index < len(self._queue):
            return self._queue[self._index]
        return None

    def start(self) -> list[fx.Effect]:
        """The citizen pressed "Collect" on the attract screen."""
        self._reset()
        self.touches = 1
        return [fx.WatchForCodes(True), fx.CheckKeypadLock(), self._speak("pickup.voice.start")]

    def start_with(self, event: object) -> list[fx.Effect]:
        """The front door routed a QR or an ID card straight here: no touch at all."""
        self._reset()
        self.touches = 0
        return [fx.CheckKeypadLock(), *self.handle(event)]

    def send(self, intent: vm.Intent) -> list[fx.Effect]:
        name = type(intent).__name__
        if name not in self.accepted():
            raise IllegalIntent(
                f"The {self.step} step ({self._phase if self.step is vm.PickupStep.DOOR else '-'}) "
                f"does not accept {name} now; the screen is stale."
            )
        self.touches += 1
        match intent:
            case vm.TypeCode():
                self.step = vm.PickupStep.CODE
                self._notice = self._lock_notice()
                return [self._speak("pickup.voice.code")]
            case vm.PressDigit(digit=digit):
                if len(digit) == 1 and digit.isdigit() and digit.isascii():
                    self._digits = (self._digits + digit)[:PICKUP_CODE_DIGITS]
                return []
            case vm.EraseDigit():
                self._digits = self._digits[:-1]
                return []
            case vm.ClearCode():
                self._digits = ""
                return []
            case vm.SubmitCode():
                code, self._digits = self._digits, ""
                self._busy = True
                self._notice = None
                return [fx.FindByCode(code)]
            case vm.Back():
                self.step = vm.PickupStep.START
                self._digits = ""
                self._notice = None
                return [self._speak("pickup.voice.start")]
            case vm.Cancel() | vm.Finish():
                return self._end_session()
            case vm.OpenAgain():
                return self._open_current(attempt=2)
            case vm.LeaveIt():
                return self._not_taken("the citizen chose to leave the documents")
            case vm.ConfirmTaken():
                self._phase = "checking"
                return [fx.ConfirmPickup(self._parcel(), self._method, person_confirmed=True)]
        raise IllegalIntent(f"unknown intent {intent!r}")  # pragma: no cover - exhaustive

    def handle(self, event: object) -> list[fx.Effect]:
        match event:
            case fx.Tick():
                return self.tick()
            case CodeScanned(text=text):
                return self._scanned(text)
            case CardPlaced(identity=identity):
                if not self._looking_for_proof() or identity.source != "id_card":
                    return []
                self._method = "id_card"
                self._busy = True
                self._notice = None
                return [fx.FindByIdCard(identity)]
            case CardReadFailed():
                if self._looking_for_proof():
                    self._notice = ("pickup.notice.card_unreadable", "warning", {})
                return []
            case DoorClosed(compartment=number):
                parcel = self.current_parcel
                if parcel is None or parcel.compartment != number or self._phase != "open":
                    return []
                self._phase = "checking"
                return [fx.ConfirmPickup(parcel, self._method)]
            case fx.KeypadLockChecked(locked_until=until):
                self._locked_until = until
                if self.step is vm.PickupStep.CODE:
                    self._notice = self._lock_notice()
                return []
            case fx.ParcelsFound(method=method, parcels=parcels):
                self._expect_busy(event)
                return self._parcels_found(method, parcels)
            case fx.CodeWrong(wrong_in_window=_, locked_until=until):
                self._expect_busy(event)
                self._busy = False
                if until is not None:
                    self._locked_until = until
                    self._notice = self._lock_notice()
                    return [self._speak("pickup.voice.keypad_locked")]
                self._notice = ("pickup.notice.wrong_code", "warning", {})
                return [self._speak("pickup.voice.wrong_code")]
            case fx.KeypadLocked(locked_until=until):
                self._expect_busy(event)
                self._busy = False
                self._locked_until = until
                self._notice = self._lock_notice()
                return [self._speak("pickup.voice.keypad_locked")]
            case fx.ResultExpired():
                self._expect_busy(event)
                return self._refused("pickup.notice.expired", "pickup.voice.expired")
            case fx.NothingFound(method=method):
                self._expect_busy(event)
                return self._refused(_NOTHING_NOTICE[method], "pickup.voice.nothing")
            case fx.QrRefused(reason=reason):
                self._expect_busy(event)
                key = (
                    "pickup.notice.qr_expired"
                    if reason == "expired"
                    else "pickup.notice.qr_not_ours"
                )
                voice = "pickup.voice.expired" if reason == "expired" else "pickup.voice.not_ours"
                return self._refused(key, voice)
            case fx.LookupFailed():
                self._expect_busy(event)
                return self._refused("pickup.notice.lookup_failed", "pickup.voice.nothing")
            case fx.DoorOpenedForPickup():
                return self._door_opened(event)
            case fx.RemovalChecked():
                return self._removal_checked(event)
            case fx.NotTakenRecorded(parcel_id=parcel_id):
                parcel = self.current_parcel
                if parcel is None or parcel.parcel_id != parcel_id:
                    raise IllegalEvent(f"NotTakenRecorded for {parcel_id} arrived out of turn.")
                return self._advance()
        return []  # ambient events (other doors, health, card lifted) do not matter here

    def tick(self) -> list[fx.Effect]:
        now = self._clock()
        if self.step is vm.PickupStep.DONE:
            if self._done_deadline is not None and now >= self._done_deadline:
                return self._end_session()
            return []
        if self.step is not vm.PickupStep.DOOR:
            return []
        parcel = self._parcel()
        if self._phase == "still_inside" and self._ask_deadline is not None:
            if now >= self._ask_deadline:
                return self._not_taken("no answer after the documents were seen still inside")
            return []
        if self._phase != "open" or self._door_since is None:
            return []
        if now - self._door_since >= self.settings.door_give_up_s:
            self._outcomes.append(_Outcome(parcel, "unknown"))
            detail = (
                f"door {parcel.label} was opened for a pickup and not closed within "
                f"{self.settings.door_give_up_s:.0f} s; check it"
            )
            return [fx.AlertStaff(parcel.compartment, detail), *self._advance()]
        out: list[fx.Effect] = []
        if not self._reminded and now - self._door_since >= self.settings.door_reminder_s:
            self._reminded = True
            out.append(self._speak("pickup.voice.close_door"))
        if self._next_check is not None and now >= self._next_check:
            self._next_check = now + self.settings.door_recheck_s
            self._phase = "checking"
            out.append(fx.ConfirmPickup(parcel, self._method))
        return out

    def abandon(self) -> list[fx.Effect]:
        """The idle timer ran out: the citizen walked away, perhaps from an open door."""
        out: list[fx.Effect] = []
        parcel = self.current_parcel
        if parcel is not None:
            out.append(
                fx.AlertStaff(
                    parcel.compartment,
                    f"a citizen left during a pickup at door {parcel.label}; check it is shut "
                    "and whether the documents are still inside",
                )
            )
        return out + self._end_session()

    # ---- what is accepted ----------------------------------------------------------------

    def accepted(self) -> frozenset[str]:
        names: set[str] = set()
        if self.step is vm.PickupStep.START:
            names.add("Cancel")
            if not self._busy:
                names.add("TypeCode")
        elif self.step is vm.PickupStep.CODE:
            names.update({"Cancel"})
            if not self._busy:
                names.add("Back")
                if not self._keypad_locked():
                    names.update({"PressDigit", "EraseDigit", "ClearCode"})
                    if len(self._digits) == PICKUP_CODE_DIGITS:
                        names.add("SubmitCode")
        elif self.step is vm.PickupStep.DOOR:
            if self._phase == "still_inside":
                names.update({"OpenAgain", "LeaveIt"})
            elif self._phase == "ask_taken":
                names.update({"ConfirmTaken", "LeaveIt" if self._asked_again else "OpenAgain"})
        elif self.step is vm.PickupStep.DONE:
            names.add("Finish")
        return frozenset(names)

    # ---- lookups ---------------------------------------------------------------------------

    def _looking_for_proof(self) -> bool:
        return self.step in (vm.PickupStep.START, vm.PickupStep.CODE) and not self._busy

    def _scanned(self, text: str) -> list[fx.Effect]:
        if not self._looking_for_proof():
            return []
        if not looks_like_pickup_qr(text):
            self._notice = ("pickup.notice.not_our_code", "warning", {})
            return [self._speak("pickup.voice.not_ours")]
        self._method = "qr"
        self._busy = True
        self._notice = None
        return [fx.FindByQr(text.strip())]

    def _expect_busy(self, event: object) -> None:
        if not self._busy:
            raise IllegalEvent(
                f"{type(event).__name__} arrived on the {self.step} step with no lookup running."
            )

    def _refused(self, notice_key: str, voice_key: str) -> list[fx.Effect]:
        self._busy = False
        self._notice = (notice_key, "warning", {})
        return [self._speak(voice_key)]

    def _keypad_locked(self) -> bool:
        return self._locked_until is not None and self._wall_clock() < self._locked_until

    def _lock_notice(self) -> tuple[str, vm.Severity, dict[str, object]] | None:
        if not self._keypad_locked():
            return None
        assert self._locked_until is not None
        until = self._locked_until.astimezone().strftime("%H:%M")
        return ("pickup.notice.keypad_locked", "error", {"until": until})

    def _parcels_found(
        self, method: fx.PickupMethod, parcels: tuple[fx.WaitingParcel, ...]
    ) -> list[fx.Effect]:
        self._busy = False
        if not parcels:
            return self._refused(_NOTHING_NOTICE[method], "pickup.voice.nothing")
        by_id = {parcel.parcel_id: parcel for parcel in parcels}
        self._queue = list(by_id.values())
        self._method = method
        self._index = 0
        self._digits = ""
        self._notice = None
        self.step = vm.PickupStep.DOOR
        return [fx.WatchForCodes(False), *self._open_current(attempt=1)]

    # ---- doors ---------------------------------------------------------------------------

    def _parcel(self) -> fx.WaitingParcel:
        parcel = self.current_parcel
        if parcel is None:
            raise IllegalEvent(f"No parcel is being collected on the {self.step} step.")
        return parcel

    def _open_current(self, *, attempt: int) -> list[fx.Effect]:
        parcel = self._parcel()
        self._phase = "opening"
        self._attempt = attempt
        if attempt > 1:
            self._asked_again = True
        self._door_since = None
        self._next_check = None
        self._ask_deadline = None
        return [fx.OpenForPickup(parcel, attempt, self._method)]

    def _door_opened(self, event: fx.DoorOpenedForPickup) -> list[fx.Effect]:
        parcel = self._parcel()
        if event.parcel_id != parcel.parcel_id or self._phase != "opening":
            raise IllegalEvent(
                f"DoorOpenedForPickup for {event.parcel_id} arrived while {self._phase} "
                f"{parcel.parcel_id}."
            )
        if event.taken_out_of_service or event.outcome is UnlockOutcome.JAMMED:
            self._outcomes.append(_Outcome(parcel, "jammed"))
            out: list[fx.Effect] = [self._speak("pickup.voice.jammed")]
            more = self._advance()
            if self.step is vm.PickupStep.DOOR:
                self._notice = (
                    "pickup.notice.jammed_moving_on",
                    "warning",
                    {"label": parcel.label},
                )
            return out + more
        self._phase = "open"
        self._door_since = self._clock()
        self._reminded = False
        self._next_check = self._door_since + self.settings.door_recheck_s
        if event.outcome is UnlockOutcome.UNKNOWN:
            self._notice = ("pickup.notice.door_unknown", "warning", {})
        elif self._notice is not None and self._notice[0] != "pickup.notice.jammed_moving_on":
            self._notice = None  # a jammed door before this one stays named until it shuts
        return [self._speak("pickup.voice.door_open", label=parcel.label)]

    def _removal_checked(self, event: fx.RemovalChecked) -> list[fx.Effect]:
        parcel = self._parcel()
        if event.parcel_id != parcel.parcel_id or self._phase != "checking":
            raise IllegalEvent(
                f"RemovalChecked for {event.parcel_id} arrived while {self._phase} "
                f"{parcel.parcel_id}."
            )
        match event.verdict:
            case "removed":
                self._outcomes.append(_Outcome(parcel, "taken"))
                return self._advance()
            case "door_still_open":
                self._phase = "open"
                return []
            case "door_state_unknown":
                self._unknown_checks += 1
                if self._unknown_checks >= self.settings.unknown_rechecks:
                    self._outcomes.append(_Outcome(parcel, "unknown"))
                    detail = f"door {parcel.label} could not be read after a pickup; check it"
                    return [fx.AlertStaff(parcel.compartment, detail), *self._advance()]
                self._phase = "open"
                self._next_check = self._clock() + 1.0
                return []
            case "needs_confirmation":
                self._phase = "ask_taken"
                return [self._speak("pickup.voice.ask_taken")]
            case "still_there":
                if self._asked_again:
                    return self._not_taken("still inside after the citizen was asked once more")
                self._phase = "still_inside"
                self._ask_deadline = self._clock() + self.settings.ask_again_s
                return [self._speak("pickup.voice.still_inside")]
        raise IllegalEvent(f"unknown removal verdict {event.verdict!r}")  # pragma: no cover

    def _not_taken(self, why: str) -> list[fx.Effect]:
        parcel = self._parcel()
        self._outcomes.append(_Outcome(parcel, "not_taken"))
        self._phase = "checking"
        self._ask_deadline = None
        return [fx.RecordNotTaken(parcel, self._method, why)]

    def _advance(self) -> list[fx.Effect]:
        self._index += 1
        self._asked_again = False
        self._unknown_checks = 0
        self._door_since = None
        self._next_check = None
        self._notice = None
        if self._index < len(self._queue):
            return self._open_current(attempt=1)
        self.step = vm.PickupStep.DONE
        self._done_deadline = self._clock() + self.settings.done_show_s
        problems = any(o.kind != "taken" for o in self._outcomes)
        return [self._speak("pickup.voice.done_problems" if problems else "pickup.voice.done")]

    # ---- ending ----------------------------------------------------------------------------

    def _end_session(self) -> list[fx.Effect]:
        self._reset()
        self.touches = 0
        return [fx.WatchForCodes(False), fx.ClearDown()]

    def _speak(self, key: str, **args: object) -> fx.Speak:
        self._voice_key = key
        self._voice_args = {name: str(value) for name, value in args.items()}
        self._voice_serial += 1
        return fx.Speak(key, tuple(self._voice_args.items()))

    # ---- the view --------------------------------------------------------------------------

    def view(self, language: Language) -> vm.PickupView:
        def t(key: str, **args: object) -> str:
            return tr(key, language, hotline=self._hotline, **args)

        step = self.step
        header = vm.Header(
            title=t("pickup.title"),
            progress=(),
            back_label=t("pickup.button.back"),
            cancel_label=t("pickup.button.cancel"),
            can_go_back="Back" in self.accepted(),
            can_cancel="Cancel" in self.accepted(),
            applicant="",
        )
        notice = None
        if self._notice is not None:
            key, severity, args = self._notice
            notice = vm.Notice(t(key, **args), severity)
        checking = t("pickup.checking") if self._busy else ""
        body: vm.Body
        if step is vm.PickupStep.START:
            body = vm.StartView(
                heading=t("pickup.start.heading"),
                ways=tuple(
                    vm.WayIn(kind, t(f"pickup.way.{kind}.title"), t(f"pickup.way.{kind}.hint"))
                    for kind in ("scan", "code", "card")
                ),
                checking=checking,
                type_code_label=t("pickup.button.type_code"),
            )
        elif step is vm.PickupStep.CODE:
            shown = list(self._digits) + ["_"] * (PICKUP_CODE_DIGITS - len(self._digits))
            body = vm.CodeView(
                heading=t("pickup.code.heading"),
                digits=self._digits,
                slots=PICKUP_CODE_DIGITS,
                masked=" ".join(shown[:4]) + "   " + " ".join(shown[4:]),
                locked=self._keypad_locked(),
                checking=checking,
                submit_label=t("pickup.button.submit"),
                can_submit="SubmitCode" in self.accepted(),
                erase_label=t("pickup.button.erase"),
                clear_label=t("pickup.button.clear"),
            )
        elif step is vm.PickupStep.DOOR:
            parcel = self._parcel()
            body = vm.DoorView(
                phase=self._phase,
                compartment=parcel.compartment,
                compartment_label=parcel.label,
                position=t("pickup.door.position", column=parcel.column, row=parcel.row),
                instruction=t(f"pickup.door.{self._phase}", label=parcel.label),
                progress=t("pickup.door.progress", index=self._index + 1, count=len(self._queue))
                if len(self._queue) > 1
                else "",
                open_again_label=t("pickup.button.open_again"),
                leave_label=t("pickup.button.leave"),
                taken_label=t("pickup.button.taken"),
            )
        else:
            problems = any(o.kind != "taken" for o in self._outcomes)
            body = vm.DoneView(
                heading=t("pickup.done.heading_problems" if problems else "pickup.done.heading"),
                lines=tuple(
                    vm.OutcomeLine(o.kind, t(f"pickup.done.{o.kind}", label=o.parcel.label))
                    for o in self._outcomes
                ),
                closing=t("pickup.done.closing"),
                done_label=t("pickup.button.done"),
            )
        voice = None
        if self._voice_key:
            voice = vm.Voice(self._voice_key, t(self._voice_key, **self._voice_args), language)
        return vm.PickupView(
            step=step,
            header=header,
            notice=notice,
            body=body,
            accepts=self.accepted(),
            voice=voice,
            voice_serial=self._voice_serial,
        )


def utc_now() -> datetime:
    return datetime.now(UTC)
