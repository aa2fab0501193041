"""The courier session at work: the flow's effects performed against the real services.

`CourierFlow` decides; this runtime acts, exactly like kiosk/apply/runtime.py: every public call
happens on the UI thread; blocking effects (PIN scrypt, doors, the database) run in order on one
worker; each outcome comes back through `post` as the flow's result event; a service that raises
becomes the flow's failure event with the service's sentence, never an exception on the UI
thread. Results of a session that has since ended are dropped (each job carries its generation).

The front door (kiosk/front_door.py) calls `begin_sign_in` and asks `card_for_id_hash` /
`recognises_id_hash` whether a tapped ID card is a courier's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from kiosk.config import Language
from kiosk.journey_jobs import Post, Worker, guarded, run_job
from kiosk.ports.lockers import CompartmentSize, UnlockOutcome

from . import effects as fx
from . import view_models as vm
from .flow import CourierFlow, CourierFlowError
from .sign_in import CourierIdentity, LookUpResult, PinResult, SignInRoute

_log = logging.getLogger(__name__)


class SignInDesk(Protocol):
    """kiosk.courier.sign_in.CourierSignIn."""

    def card_for_id_hash(self, id_number_sha256: str) -> str | None: ...

    def look_up(self, card_id: str, via: SignInRoute) -> LookUpResult: ...

    def check_pin(self, card_id: str, pin: str, via: SignInRoute) -> PinResult: ...

    def end_session(self, session_id: str, reason: str) -> None: ...


class Desk(Protocol):
    """kiosk.courier.adapters.CourierDesk."""

    def work(self) -> fx.WorkLoaded: ...

    def open_for_removal(
        self, parcel: fx.ParcelSummary, purpose: fx.RemovalPurpose, courier: CourierIdentity
    ) -> UnlockOutcome: ...

    def bind_seal(self, parcel: fx.ParcelSummary, seal: str, courier: CourierIdentity) -> None: ...

    def confirm_removal(
        self,
        parcel: fx.ParcelSummary,
        purpose: fx.RemovalPurpose,
        courier: CourierIdentity,
        seal: str | None,
        *,
        person_confirmed: bool,
    ) -> fx.RemovalVerdict: ...

    def match_envelope(self, text: str) -> fx.EnvelopeMatched | fx.EnvelopeRefused: ...

    def reserve(
        self,
        task: fx.ResultTask,
        size: CompartmentSize,
        courier: CourierIdentity,
        exclude: Collection[int] = (),
    ) -> fx.LoadSlot | None: ...

    def open_for_load(self, slot: fx.LoadSlot, courier: CourierIdentity) -> UnlockOutcome: ...

    def confirm_load(
        self,
        task: fx.ResultTask,
        slot: fx.LoadSlot,
        courier: CourierIdentity,
        *,
        courier_confirmed: bool,
    ) -> fx.LoadVerdict: ...

    def release(self, slot: fx.LoadSlot, courier: CourierIdentity) -> None: ...

    def alert_staff(self, compartment: int, detail: str, courier: CourierIdentity) -> None: ...


@dataclass(frozen=True)
class CourierServices:
    sign_in: SignInDesk
    desk: Desk


class CourierRuntime:
    """Owns one `CourierFlow`; every public method is called on the UI thread only."""

    def __init__(
        self,
        flow: CourierFlow,
        services: CourierServices,
        *,
        worker: Worker,
        post: Post,
        publish: Callable[[vm.CourierView], None],
        language: Callable[[], Language],
        on_clear_down: Callable[[], None] | None = None,
        start_agent_apply: Callable[[CourierIdentity], None] | None = None,
    ) -> None:
        self.flow = flow
        self._services = services
        self._worker = worker
        self._post = post
        self._publish = publish
        self._language = language
        self._on_clear_down = on_clear_down
        self._start_agent_apply = start_agent_apply
        self._generation = 0
        self._last_view: vm.CourierView | None = None

    # ---- the front door ---------------------------------------------------------------------

    @property
    def active(self) -> bool:
        return self.flow.active

    def make_way(self) -> bool:
        """A new card or scan at the attract screen while a refusal is shown (an unknown or
        locked badge): end the refusal now, as its timer would. True when nothing is under way."""
        if self.flow.active and self.flow.step is vm.CourierStep.REFUSED:
            self.send(vm.Dismiss())
        return not self.flow.active

    def card_for_id_hash(self, id_number_sha256: str) -> str | None:
        """Roster lookup for the front door (a quick SQLite read of the cached roster)."""
        try:
            return self._services.sign_in.card_for_id_hash(id_number_sha256)
        except Exception:  # noqa: BLE001 - a broken roster cache must not stop the attract screen
            _log.exception("the courier roster could not be read")
            return None

    def recognises_id_hash(self, id_number_sha256: str) -> bool:
        return self.card_for_id_hash(id_number_sha256) is not None

    def begin_sign_in(self, card_id: str, via: SignInRoute) -> None:
        self._run(self.flow.begin_sign_in(card_id, via))

    # ---- in: the UI thread ------------------------------------------------------------------

    def send(self, intent: vm.Intent) -> bool:
        try:
            effects = self.flow.send(intent)
        except CourierFlowError as err:
            _log.info("the courier flow refused a touch: %s", err)
            return False
        self._run(effects)
        return True

    def handle(self, event: object) -> None:
        """Device events (doors, scanned codes); ignored while nobody is signed in."""
        if not self.flow.active:
            return
        self._feed(event)

    def tick(self) -> None:
        if self.flow.active:
            self._run(self.flow.tick())
            self._publish_view()

    def abandon(self) -> None:
        if self.flow.active:
            self._run(self.flow.abandon())

    def refresh_view(self) -> None:
        self._last_view = None
        self._publish_view()

    # ---- effects -------------------------------------------------------------------------------

    def _feed(self, event: object) -> None:
        try:
            effects = self.flow.handle(event)
        except CourierFlowError as err:
            _log.error("the courier flow refused %s: %s", type(event).__name__, err)
            return
        self._run(effects)

    def _run(self, effects: Sequence[fx.Effect]) -> None:
        agent: CourierIdentity | None = None
        for effect in effects:
            if isinstance(effect, fx.ClearDown):
                self._generation += 1
                self._last_view = None
                if self._on_clear_down is not None:
                    guarded(_log, "clearing down", self._on_clear_down)
            elif isinstance(effect, fx.StartAgentApply):
                agent = effect.agent
            else:
                self._submit(effect)
        self._publish_view()
        if agent is not None and self._start_agent_apply is not None:
            start, chosen = self._start_agent_apply, agent
            guarded(_log, "starting the apply journey for a village agent", lambda: start(chosen))

    def _publish_view(self) -> None:
        if not self.flow.active:
            return
        view = self.flow.view(self._language())
        if view != self._last_view:
            self._last_view = view
            self._publish(view)

    def _submit(self, effect: fx.Effect) -> None:
        generation = self._generation

        def settle(outcome: object) -> None:
            if outcome is None:
                return
            if generation != self._generation:
                _log.info("dropped %s of a courier session that ended", type(outcome).__name__)
                return
            self._feed(outcome)

        run_job(
            self._worker,
            self._post,
            name=type(effect).__name__,
            perform=lambda: self._perform(effect),
            failure=lambda err: _failure(effect, str(err) or type(err).__name__),
            settle=settle,
            log=_log,
        )

    def _perform(self, effect: fx.Effect) -> object:
        """On the worker: do it, and say what happened as the flow's event."""
        sign_in, desk = self._services.sign_in, self._services.desk
        match effect:
            case fx.LookUpCard(card_id=card_id, via=via):
                return sign_in.look_up(card_id, via)
            case fx.CheckPin(card_id=card_id, pin=pin, via=via):
                return sign_in.check_pin(card_id, pin, via)
            case fx.LoadWork():
                return desk.work()
            case fx.OpenForRemoval(parcel=parcel, purpose=purpose, courier=courier):
                return fx.RemovalDoorOpened(parcel, desk.open_for_removal(parcel, purpose, courier))
            case fx.BindSeal(parcel=parcel, seal=seal, courier=courier):
                desk.bind_seal(parcel, seal, courier)
                return fx.SealBound(parcel, seal)
            case fx.ConfirmRemoval():
                verdict = desk.confirm_removal(
                    effect.parcel,
                    effect.purpose,
                    effect.courier,
                    effect.seal,
                    person_confirmed=effect.person_confirmed,
                )
                return fx.RemovalChecked(effect.parcel, verdict)
            case fx.MatchEnvelope(text=text):
                return desk.match_envelope(text)
            case fx.ReserveForResult(task=task, size=size, courier=courier, exclude=exclude):
                slot = desk.reserve(task, size, courier, exclude)
                if slot is None:
                    return fx.NoCompartmentFree(size)
                return fx.ResultCompartmentReserved(task, slot)
            case fx.OpenForLoad(slot=slot, courier=courier):
                return fx.LoadDoorOpened(slot, desk.open_for_load(slot, courier))
            case fx.ConfirmLoad():
                loaded = desk.confirm_load(
                    effect.task,
                    effect.slot,
                    effect.courier,
                    courier_confirmed=effect.courier_confirmed,
                )
                return fx.LoadChecked(effect.slot, loaded)
            case fx.ReleaseSlot(slot=slot, courier=courier):
                desk.release(slot, courier)
                return None
            case fx.AlertStaff(compartment=number, detail=detail, courier=courier):
                desk.alert_staff(number, detail, courier)
                return None
            case fx.EndSession(session_id=session_id, reason=reason):
                sign_in.end_session(session_id, reason)
                return None
        _log.error("the courier runtime does not know how to perform %r", effect)
        return None


def _failure(effect: fx.Effect, reason: str) -> object:
    """The flow's failure event for an effect whose service raised (None: nothing waits)."""
    match effect:
        case fx.LookUpCard(card_id=card_id) | fx.CheckPin(card_id=card_id):
            from .sign_in import SignInRefused

            _log.error("courier sign-in for %s failed: %s", card_id, reason)
            return SignInRefused("no_roster", card_id)
        case fx.LoadWork():
            return fx.WorkLoadFailed(reason)
        case fx.OpenForRemoval(parcel=parcel):
            return fx.RemovalDoorOpened(parcel, UnlockOutcome.UNKNOWN)
        case fx.BindSeal(parcel=parcel):
            return fx.SealBindFailed(parcel, reason)
        case fx.ConfirmRemoval(parcel=parcel):
            return fx.RemovalCheckFailed(parcel, reason)
        case fx.MatchEnvelope():
            return fx.EnvelopeRefused("unreadable", "")
        case fx.ReserveForResult(size=size):
            return fx.NoCompartmentFree(size)
        case fx.OpenForLoad(slot=slot):
            return fx.LoadDoorOpened(slot, UnlockOutcome.UNKNOWN)
        case fx.ConfirmLoad(slot=slot):
            return fx.LoadCheckFailed(slot, reason)
    return None


__all__ = ["CourierRuntime", "CourierServices", "Desk", "Post", "SignInDesk", "Worker"]
