"""The pickup journey at work: the flow's effects performed against the real services.

Like kiosk/apply/runtime.py, smaller: every call in happens on the UI thread; `Speak`,
`WatchForCodes` and `ClearDown` are done inline (they return at once), everything that touches
the database, scrypt or a lock board runs on the worker, in order, and its answer comes back via
`post` as the flow's result event. A service that raises never reaches the UI thread: the failure
becomes the flow's failure event (`LookupFailed`, `DoorOpenedForPickup(unknown)`, …). Answers of a
session that has since been cleared down are dropped (each job carries its session generation).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from kiosk.config import Language
from kiosk.journey_jobs import Post, Voice, Worker, guarded, run_job
from kiosk.ports.identity import Identity
from kiosk.ports.lockers import UnlockOutcome

from . import effects as fx
from . import view_models as vm
from .flow import PickupFlow, PickupFlowError
from .texts import tr

_log = logging.getLogger(__name__)


class Desk(Protocol):
    """kiosk.pickup.adapters.PickupDesk."""

    def keypad_locked_until(self) -> datetime | None: ...

    def find_by_code(self, code: str) -> object: ...

    def find_by_qr(self, payload: str) -> object: ...

    def find_by_id_card(self, identity: Identity) -> object: ...

    def open_for_pickup(self, parcel: fx.WaitingParcel, method: str, attempt: int) -> object: ...

    def confirm_pickup(
        self, parcel: fx.WaitingParcel, method: fx.PickupMethod, person_confirmed: bool
    ) -> object: ...

    def record_not_taken(
        self, parcel: fx.WaitingParcel, method: fx.PickupMethod, why: str
    ) -> object: ...

    def alert_staff(self, compartment: int, detail: str) -> None: ...


class CodeReaders(Protocol):
    """The camera in QR mode and the scanner's beam, switched together."""

    def watch(self, active: bool) -> None: ...


@dataclass(frozen=True)
class PickupServices:
    desk: Desk
    code_readers: CodeReaders | None = None
    voice: Voice | None = None  # None when the presenter speaks each view's prompt itself


class PickupRuntime:
    """Owns one `PickupFlow`; every public method is called on the UI thread only."""

    def __init__(
        self,
        flow: PickupFlow,
        services: PickupServices,
        *,
        worker: Worker,
        post: Post,
        publish: Callable[[vm.PickupView], None],
        language: Callable[[], Language],
        on_clear_down: Callable[[], None] | None = None,
        on_journey_ended: Callable[[], None] | None = None,
    ) -> None:
        self.flow = flow
        self._services = services
        self._worker = worker
        self._post = post
        self._publish = publish
        self._language = language
        self._on_clear_down = on_clear_down
        self._on_journey_ended = on_journey_ended
        self._generation = 0
        self._active = False
        self._last_view: vm.PickupView | None = None

    @property
    def active(self) -> bool:
        return self._active

    def make_way(self) -> bool:
        """Someone new is at the terminal (a card, a scan) while the summary shows: end it now,
        as its timer would. True when no pickup is under way."""
        if self._active and self.flow.step is vm.PickupStep.DONE:
            self.send(vm.Finish())
        return not self._active

    def start(self) -> None:
        """The citizen pressed "Collect" on the attract screen."""
        self._active = True
        self._last_view = None
        self._run(self.flow.start())

    def start_with(self, event: object) -> None:
        """The front door sent a pickup QR scan or an ID card: begin with it, no touch needed."""
        self._active = True
        self._last_view = None
        self._run(self.flow.start_with(event))

    def send(self, intent: vm.Intent) -> bool:
        if not self._active:
            return False
        try:
            effects = self.flow.send(intent)
        except PickupFlowError as err:
            _log.info("the pickup flow refused a touch: %s", err)
            return False
        self._run(effects)
        return True

    def handle(self, event: object) -> None:
        if self._active:
            self._feed(event)

    def tick(self) -> None:
        if self._active:
            self._run(self.flow.tick())

    def abandon(self) -> None:
        if self._active:
            self._run(self.flow.abandon())

    def refresh_view(self) -> None:
        self._last_view = None
        self._publish_view()

    # ---- internals ------------------------------------------------------------------------

    def _feed(self, event: object) -> None:
        try:
            effects = self.flow.handle(event)
        except PickupFlowError as err:
            _log.error("the pickup flow refused %s: %s", type(event).__name__, err)
            return
        self._run(effects)

    def _run(self, effects: Sequence[fx.Effect]) -> None:
        for effect in effects:
            if isinstance(effect, fx.Speak):
                self._speak(effect)
            elif isinstance(effect, fx.WatchForCodes):
                self._watch_codes(effect.active)
            elif isinstance(effect, fx.ClearDown):
                self._clear_down()
                return
            else:
                self._submit(effect)
        self._publish_view()

    def _publish_view(self) -> None:
        if not self._active:
            return
        view = self.flow.view(self._language())
        if view != self._last_view:
            self._last_view = view
            self._publish(view)

    def _speak(self, effect: fx.Speak) -> None:
        voice = self._services.voice
        if voice is None:
            return
        language = self._language()
        text = tr(effect.key, language, **dict(effect.args))
        guarded(_log, f"speaking {effect.key}", lambda: voice.speak(effect.key, text, language))

    def _watch_codes(self, active: bool) -> None:
        readers = self._services.code_readers
        if readers is not None:
            guarded(_log, "switching the code readers", lambda: readers.watch(active))

    def _clear_down(self) -> None:
        self._generation += 1
        self._active = False
        self._last_view = None
        voice = self._services.voice
        if voice is not None:
            guarded(_log, "silencing the voice", voice.stop)
        if self._on_clear_down is not None:
            guarded(_log, "clearing down", self._on_clear_down)
        if self._on_journey_ended is not None:
            guarded(_log, "ending the journey", self._on_journey_ended)

    def _submit(self, effect: fx.Effect) -> None:
        generation = self._generation

        def settle(outcome: object) -> None:
            if generation != self._generation:
                if outcome is not None:
                    _log.info("dropped %s of a pickup that has ended", type(outcome).__name__)
                return
            if outcome is not None:
                self._feed(outcome)

        run_job(
            self._worker,
            self._post,
            name=type(effect).__name__,
            perform=lambda: self._perform(effect),
            failure=lambda err: _failure(effect, err),
            settle=settle,
            log=_log,
        )

    def _perform(self, effect: fx.Effect) -> object:
        desk = self._services.desk
        match effect:
            case fx.CheckKeypadLock():
                return fx.KeypadLockChecked(desk.keypad_locked_until())
            case fx.FindByCode(code=code):
                return desk.find_by_code(code)
            case fx.FindByQr(payload=payload):
                return desk.find_by_qr(payload)
            case fx.FindByIdCard(identity=identity):
                return desk.find_by_id_card(identity)
            case fx.OpenForPickup(parcel=parcel, attempt=attempt, method=method):
                return desk.open_for_pickup(parcel, method, attempt)
            case fx.ConfirmPickup(parcel=parcel, method=method, person_confirmed=confirmed):
                return desk.confirm_pickup(parcel, method, confirmed)
            case fx.RecordNotTaken(parcel=parcel, method=method, why=why):
                return desk.record_not_taken(parcel, method, why)
            case fx.AlertStaff(compartment=number, detail=detail):
                desk.alert_staff(number, detail)
                return None
        _log.error("the pickup runtime does not know how to perform %r", effect)
        return None


def _failure(effect: fx.Effect, err: Exception) -> object:
    reason = str(err) or type(err).__name__
    match effect:
        case fx.CheckKeypadLock():
            return fx.KeypadLockChecked(None)
        case fx.FindByCode() | fx.FindByQr() | fx.FindByIdCard():
            return fx.LookupFailed(reason)
        case fx.OpenForPickup(parcel=parcel):
            return fx.DoorOpenedForPickup(parcel.parcel_id, UnlockOutcome.UNKNOWN, False)
        case fx.ConfirmPickup(parcel=parcel):
            return fx.RemovalChecked(parcel.parcel_id, "door_state_unknown")
        case fx.RecordNotTaken(parcel=parcel):
            # The flag or the event could not be written; the parcel is still stored either way.
            return fx.NotTakenRecorded(parcel.parcel_id)
    return None
