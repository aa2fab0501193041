"""The apply journey at work: the flow's effects performed against the real services.

`ApplyFlow` decides; this runtime acts. Every call in (`start`, `send`, `handle`, `tick`,
`abandon`) happens on the UI thread; the runtime hands the call to the flow, then performs the
effects it returned, in order:

* quick ones inline — `Speak` (the voice port returns at once) and `ClearDown`;
* blocking ones on a worker — doors, printing, the database, camera control — and questions to
  the hall on a second worker, so a hall that takes ten seconds to time out never holds up a door
  or a commit. Each worker runs its jobs in order (one thread each in production), which keeps
  "release that compartment, then reserve the next" in that order.

A job's outcome comes back through `post`, which runs it on the UI thread (the ClockBridge in
production), as the flow's result event. A service that raises never reaches the UI thread: the
failure becomes the flow's failure event (`SubmissionCommitFailed`, `CompartmentOpened(unknown)`,
`NoCompartmentFree`, ...) with the service's sentence as the reason, and is logged.

After each change the runtime publishes the flow's view (only when it differs from the last one
published). Results of a session that has since been cleared down are dropped: each job carries
the session generation it was started in.

Two waits live here rather than in the flow because they are about the services, not the
journey: the hall's payment order exists only after the outbox delivered the submission (asked
again every few seconds, then `PaymentUnavailable`), and a deposit the board does not vouch for
*yet* (the door reading lags the event by a poll) is asked again a few times. When the attempts
run out (or the board or the database refuses outright) the flow gets `DepositRecordFailed`:
nothing is recorded as handed in that nothing vouches for; the flow tells the citizen to ask
staff and alerts them, and the compartment stays held until staff have looked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from kiosk.config import Language
from kiosk.journey_jobs import Post, Voice, Worker, guarded, run_job
from kiosk.ports.camera import CameraMode
from kiosk.ports.health import DeviceHealth, DeviceHealthChanged, HealthState
from kiosk.ports.lockers import CompartmentSize, UnlockOutcome
from kiosk.ports.printer import (
    PaperLevel,
    PaperStatus,
    PrintedReceipt,
    PrinterError,
    PrinterNotReady,
)
from kiosk.ports.printer import SubmissionReceipt as PrintableReceipt

from . import effects as fx
from . import view_models as vm
from .adapters import DepositNotConfirmed
from .flow import ApplyFlow, ApplyFlowError
from .ports import ELicenceLookup, PaymentDesk, Reservation
from .texts import tr

_log = logging.getLogger(__name__)


# ---- what the runtime needs of the world (the composition root passes the adapters) -----------


class Lockers(Protocol):
    """`ports.CompartmentBooking` plus the audit reason of an opening and staff alerts."""

    def reserve(
        self, min_size: CompartmentSize, submission_reference: str, exclude: Collection[int] = ()
    ) -> Reservation | None: ...

    def open(self, reservation: Reservation, reason: str = "deposit") -> UnlockOutcome: ...

    def confirm_deposit(self, reservation: Reservation, submission_reference: str) -> None: ...

    def release(self, reservation: Reservation) -> None: ...

    def alert_staff(self, compartment: int, submission_reference: str, detail: str) -> None: ...


class Submissions(Protocol):
    def commit(self, draft: fx.SubmissionDraft) -> None: ...

    def record_deposit(
        self,
        reference: str,
        reservation: Reservation,
        *,
        verified_by_sensor: bool,
        inside: Callable[[], None] | None,
    ) -> None: ...


class Printer(Protocol):
    """The part of `kiosk.ports.printer.ReceiptPrinter` the journey uses."""

    def paper_status(self) -> PaperStatus: ...

    def print_submission_receipt(self, receipt: PrintableReceipt) -> PrintedReceipt: ...


class GuidePrinter(Protocol):
    """Prints a guide sheet (the printer port has no such call yet; see the runtime's docs)."""

    def print_guide(self, guide: fx.PrintableGuide) -> None: ...


class ReceiptSms(Protocol):
    def send(self, submission_reference: str, text: str) -> None: ...


class CameraControl(Protocol):
    """The part of `kiosk.ports.camera.Camera` the journey steers."""

    def set_mode(self, mode: CameraMode) -> None: ...

    def begin_document(self, document_id: str) -> None: ...

    def capture_page_now(self) -> None: ...


class Pages(Protocol):
    def discard(self, jpeg_path: str) -> None: ...


@dataclass(frozen=True)
class ApplyServices:
    """The adapters the runtime performs effects with (kiosk/apply/adapters.py builds most).

    `voice` is None when the presenter speaks each view's prompt itself (it does: it watches
    `ApplyView.voice_serial`); give it to exactly one of the two, or prompts play twice.
    `guide_printer` None: "print this guide" answers "not working" until the printer can.
    """

    submissions: Submissions
    lockers: Lockers
    printer: Printer
    receipt_sms: ReceiptSms
    camera: CameraControl
    pages: Pages
    elicences: ELicenceLookup
    payments: PaymentDesk
    voice: Voice | None = None
    guide_printer: GuidePrinter | None = None


@dataclass(frozen=True)
class RuntimeSettings:
    payment_retry_s: float = 2.0  # asking the hall for the order again while it has none
    payment_give_up_s: float = 60.0  # then: PaymentUnavailable (the citizen pays at pickup)
    deposit_retry_s: float = 1.0  # the board does not vouch for the deposit yet
    deposit_attempts: int = 4
    camera_device: str = "camera"  # the name the camera's health events carry (FlowSettings)


# ---- jobs and what they answer ----------------------------------------------------------------


@dataclass(frozen=True)
class _Again:
    """Perform `effect` again at `due` (monotonic), as attempt `attempt`."""

    effect: fx.Effect
    attempt: int
    due: float
    started: float


@dataclass
class _Scheduled:
    generation: int
    again: _Again


@dataclass
class _State:
    generation: int = 0
    active: bool = False
    last_view: vm.ApplyView | None = None
    scheduled: list[_Scheduled] = field(default_factory=list)
    refreshing_payment: bool = False


_HALL_EFFECTS = (fx.LookUpELicences, fx.FetchPayment, fx.RefreshPayment)


class ApplyRuntime:
    """Owns one `ApplyFlow`; every public method is called on the UI thread only."""

    def __init__(
        self,
        flow: ApplyFlow,
        services: ApplyServices,
        *,
        worker: Worker,
        post: Post,
        publish: Callable[[vm.ApplyView], None],
        language: Callable[[], Language],
        clock: Callable[[], float],
        hall_worker: Worker | None = None,
        on_clear_down: Callable[[], None] | None = None,
        on_journey_ended: Callable[[], None] | None = None,
        settings: RuntimeSettings | None = None,
    ) -> None:
        self.flow = flow
        self._services = services
        self._worker = worker
        self._hall_worker = hall_worker or worker
        self._post = post
        self._publish = publish
        self._language = language
        self._clock = clock
        self._on_clear_down = on_clear_down
        self._on_journey_ended = on_journey_ended
        self.settings = settings or RuntimeSettings()
        self._state = _State()

    # ---- in: the UI thread ------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """A journey is under way (from `start` to its clear-down)."""
        return self._state.active

    def make_way(self) -> bool:
        """Someone new is at the terminal (a card, a scan) while the thank-you screen shows: end
        it now, with the same clear-down as its timer. True when no journey is under way."""
        if self._state.active and self.flow.step is vm.ApplyStep.FINISH:
            self.send(vm.Finish())
        return not self._state.active

    def start(self) -> None:
        """The citizen pressed "Apply" on the attract screen."""
        self._state.active = True
        self._state.last_view = None
        self._run(self.flow.start())

    def start_for_agent(self, card_id: str, name: str) -> None:
        """A village agent, signed in on the courier screens, applies for a citizen: the same
        journey, with the agent on the submission (`agent_card_id`, `agent_name`) and receipt."""
        self._state.active = True
        self._state.last_view = None
        self._run(self.flow.start(agent=fx.ApplyingAgent(card_id, name)))

    def send(self, intent: vm.Intent) -> bool:
        """A touch; False when the flow refused it as stale (logged, nothing else happens)."""
        if not self._state.active:
            _log.info("%s arrived with no apply journey under way: dropped", type(intent).__name__)
            return False
        try:
            effects = self.flow.send(intent)
        except ApplyFlowError as err:
            _log.info("the apply flow refused a touch: %s", err)
            return False
        self._run(effects)
        return True

    def handle(self, event: object) -> None:
        """A device or hall event (cards, camera pages, doors, health, acknowledgements).

        Between journeys only health is followed (so the identify step knows a reader is
        offline); cards and doors are the attract screen's and door truth's business then.
        """
        if not self._state.active:
            if isinstance(event, DeviceHealthChanged):
                self._feed_quietly(event)
            return
        self._feed(event)

    def tick(self) -> None:
        """The clock moved (every ~0.25 s): the flow's deadlines and the runtime's retries."""
        now = self._clock()
        due = [s for s in self._state.scheduled if s.again.due <= now]
        if due:
            self._state.scheduled = [s for s in self._state.scheduled if s.again.due > now]
            for scheduled in due:
                if scheduled.generation == self._state.generation:
                    self._submit(scheduled.again.effect, scheduled.again)
        if self._state.active:
            self._run(self.flow.tick())

    def abandon(self) -> None:
        """The shell's idle timer expired after its own warning: the citizen has gone."""
        if self._state.active:
            self._run(self.flow.abandon())

    def refresh_view(self) -> None:
        """Publish again even if unchanged (the citizen switched language or text size)."""
        self._state.last_view = None
        self._publish_view()

    # ---- the flow's answers -------------------------------------------------------------------

    def _feed(self, event: object) -> None:
        try:
            effects = self.flow.handle(event)
        except ApplyFlowError as err:
            _log.error("the apply flow refused %s: %s", type(event).__name__, err)
            return
        self._run(effects)

    def _feed_quietly(self, event: object) -> None:
        """Between journeys: the flow notes the event; what it would say is not said."""
        try:
            self.flow.handle(event)
        except ApplyFlowError as err:
            _log.error("the apply flow refused %s: %s", type(event).__name__, err)

    def _run(self, effects: Sequence[fx.Effect]) -> None:
        cleared = False
        for effect in effects:
            if isinstance(effect, fx.Speak):
                self._speak(effect)
            elif isinstance(effect, fx.ClearDown):
                cleared = True
                self._clear_down()
            else:
                self._submit(effect, None)
        if (
            cleared
            and self.flow.step is vm.ApplyStep.IDENTIFY
            and not self.flow.holds_personal_data
        ):
            self._state.active = False
            self._state.last_view = None
            if self._on_journey_ended is not None:
                guarded(_log, "ending the journey", self._on_journey_ended)
            return
        self._publish_view()

    def _publish_view(self) -> None:
        if not self._state.active:
            return
        view = self.flow.view(self._language())
        if view != self._state.last_view:
            self._state.last_view = view
            self._publish(view)

    # ---- inline effects -----------------------------------------------------------------------

    def _speak(self, effect: fx.Speak) -> None:
        voice = self._services.voice
        if voice is None:
            return
        language = self._language()
        guarded(
            _log,
            f"speaking {effect.key}",
            lambda: voice.speak(
                effect.key, tr(effect.key, language, **dict(effect.args)), language
            ),
        )

    def _clear_down(self) -> None:
        """A new generation: whatever the old session's jobs answer from now on is dropped."""
        self._state.generation += 1
        self._state.scheduled.clear()
        self._state.refreshing_payment = False
        voice = self._services.voice
        if voice is not None:
            guarded(_log, "silencing the voice", voice.stop)
        if self._on_clear_down is not None:
            guarded(_log, "clearing down", self._on_clear_down)

    # ---- jobs ---------------------------------------------------------------------------------

    def _submit(self, effect: fx.Effect, again: _Again | None) -> None:
        if isinstance(effect, fx.RefreshPayment):
            if self._state.refreshing_payment:
                return  # the last question is still out; the flow asks again in a few seconds
            self._state.refreshing_payment = True
        generation = self._state.generation
        started = self._clock() if again is None else again.started
        attempt = 1 if again is None else again.attempt
        run_job(
            self._hall_worker if isinstance(effect, _HALL_EFFECTS) else self._worker,
            self._post,
            name=type(effect).__name__,
            perform=lambda: self._perform(effect, attempt, started),
            failure=lambda err: self._failure(effect, err),
            settle=lambda outcome: self._settle(generation, effect, outcome),
            log=_log,
        )

    def _settle(self, generation: int, effect: fx.Effect, outcome: object) -> None:
        """On the UI thread: a job's outcome, unless its session has ended since."""
        if isinstance(effect, fx.RefreshPayment):
            self._state.refreshing_payment = False
        if generation != self._state.generation:
            if outcome is not None:
                _log.info("dropped %s of a session that has ended", type(outcome).__name__)
            return
        if isinstance(outcome, _Again):
            self._state.scheduled.append(_Scheduled(generation, outcome))
        elif outcome is not None:
            self._feed(outcome)

    def _perform(self, effect: fx.Effect, attempt: int, started: float) -> object:
        """On a worker: do it, and say what happened as the flow's event (None: nothing to say)."""
        s = self._services
        match effect:
            case fx.LookUpELicences(id_number=id_number):
                records = s.elicences.lookup(id_number)
                return fx.ELicencesFound(id_number, records.licences, records.phone)
            case fx.PrintGuideSheet(guide=guide):
                if s.guide_printer is None:
                    return fx.GuidePrintFailed(
                        paper_out=False, reason="this terminal's printer cannot print guides yet"
                    )
                s.guide_printer.print_guide(guide)
                return fx.GuidePrinted()
            case fx.BeginCapture(document_id=document_id):
                s.camera.begin_document(document_id)
                return None
            case fx.CaptureNow():
                s.camera.capture_page_now()
                return None
            case fx.StopCapture():
                s.camera.set_mode(CameraMode.IDLE)
                return None
            case fx.DiscardPage(jpeg_path=path):
                s.pages.discard(path)
                return None
            case fx.CommitSubmission(draft=draft):
                s.submissions.commit(draft)
                return fx.SubmissionCommitted(draft.reference)
            case fx.FetchPayment(submission_reference=reference):
                return self._fetch_payment(effect, reference, attempt, started)
            case fx.RefreshPayment(order_id=order_id):
                return fx.PaymentOrderReady(s.payments.refresh(order_id))
            case fx.ReserveCompartment(submission_reference=reference, min_size=size):
                found = s.lockers.reserve(size, reference, effect.exclude)
                return fx.NoCompartmentFree() if found is None else fx.CompartmentReserved(found)
            case fx.OpenCompartment(reservation=reservation, reason=reason):
                return fx.CompartmentOpened(reservation, s.lockers.open(reservation, reason))
            case fx.RecordDeposit():
                return self._record_deposit(effect, attempt, started)
            case fx.ReleaseCompartment(reservation=reservation):
                s.lockers.release(reservation)
                return None
            case fx.AlertStaff(compartment=number, submission_reference=reference, detail=text):
                s.lockers.alert_staff(number, reference, text)
                return None
            case fx.PrintSubmissionReceipt(receipt=receipt):
                s.printer.print_submission_receipt(receipt)
                return fx.ReceiptPrinted()
            case fx.SendReceiptBySms(submission_reference=reference, text=text):
                s.receipt_sms.send(reference, text)
                return fx.ReceiptSentBySms()
        _log.error("the apply runtime does not know how to perform %r", effect)
        return None

    def _fetch_payment(
        self, effect: fx.Effect, reference: str, attempt: int, started: float
    ) -> object:
        reason = "the hall has not received the application yet"
        try:
            order = self._services.payments.order_for(reference)
        except Exception as err:  # noqa: BLE001 - the hall may be back soon: ask again
            _log.info("payment order for %s not available: %s", reference, err)
            order, reason = None, str(err)
        if order is not None:
            return fx.PaymentOrderReady(order)
        now = self._clock()
        if now - started >= self.settings.payment_give_up_s:
            return fx.PaymentUnavailable(reason)
        return _Again(effect, attempt + 1, now + self.settings.payment_retry_s, started)

    def _record_deposit(self, effect: fx.RecordDeposit, attempt: int, started: float) -> object:
        s = self._services
        reservation, reference = effect.reservation, effect.submission_reference
        try:
            s.submissions.record_deposit(
                reference,
                reservation,
                verified_by_sensor=effect.verified_by_sensor,
                inside=lambda: s.lockers.confirm_deposit(reservation, reference),
            )
            return fx.DepositRecorded(reservation)
        except DepositNotConfirmed as err:
            if err.passing and attempt < self.settings.deposit_attempts:
                return _Again(
                    effect, attempt + 1, self._clock() + self.settings.deposit_retry_s, started
                )
            why = str(err)
        except Exception as err:  # noqa: BLE001 - any refusal is the same answer to the flow
            why = str(err) or type(err).__name__
        _log.error(
            "the deposit of submission %s into %s could not be recorded after %d attempt(s): %s",
            reference,
            reservation.label,
            attempt,
            why,
        )
        return fx.DepositRecordFailed(reservation, why)

    def _failure(self, effect: fx.Effect, err: Exception) -> object:
        """On a worker: the flow's failure event for an effect whose service raised."""
        reason = str(err) or type(err).__name__
        match effect:
            case fx.LookUpELicences():
                return fx.ELicenceLookupFailed(reason)
            case fx.PrintGuideSheet():
                return fx.GuidePrintFailed(paper_out=self._paper_out(err), reason=reason)
            case fx.BeginCapture() | fx.CaptureNow():
                # The flow stops expecting pages and sends those papers to the locker instead.
                return DeviceHealthChanged(
                    DeviceHealth(self.settings.camera_device, HealthState.FAULT, reason)
                )
            case fx.CommitSubmission():
                return fx.SubmissionCommitFailed(reason)
            case fx.FetchPayment():
                return fx.PaymentUnavailable(reason)
            case fx.ReserveCompartment():
                return fx.NoCompartmentFree()
            case fx.OpenCompartment(reservation=reservation):
                return fx.CompartmentOpened(reservation, UnlockOutcome.UNKNOWN)
            case fx.RecordDeposit(reservation=reservation):
                return fx.DepositRecordFailed(reservation, reason)
            case fx.PrintSubmissionReceipt():
                return fx.ReceiptPrintFailed(paper_out=self._paper_out(err), reason=reason)
        return None  # nothing the flow waits for: logged, and that is all

    def _paper_out(self, err: Exception) -> bool:
        if not isinstance(err, PrinterNotReady):
            return False
        try:
            status = self._services.printer.paper_status()
        except PrinterError:
            return False
        return status.paper is PaperLevel.OUT


__all__ = [
    "ApplyRuntime",
    "ApplyServices",
    "CameraControl",
    "GuidePrinter",
    "Lockers",
    "Pages",
    "Post",
    "Printer",
    "ReceiptSms",
    "RuntimeSettings",
    "Submissions",
    "Voice",
    "Worker",
]
