"""The Kivy side of the apply journey: one ApplyView in, the right screen drawn, intents out.

The flow (kiosk/apply/flow.py) decides everything; this class only finds the screen named by
`view.step`, hands it the view, puts flow-wide warnings on top, starts the spoken prompt once per
prompt, and forwards touches. Views may arrive in bursts (a device event and a tick in one frame):
they are coalesced with one Clock trigger so only the newest is drawn, once, on the next frame.
Nothing here waits on I/O — `send_intent` and `speak` must return at once (the runtime queues).
Help, language and large text are the shell's business: given a shell, every step's header sends
those touches to it and shows the toolbar labels the shell computes from the session.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import Any, Protocol

from kivy.clock import Clock
from kivy.uix.screenmanager import Screen, ScreenManager

from kiosk.apply.flow import IllegalIntent
from kiosk.apply.view_models import ApplyStep, ApplyView, Intent, Voice

from . import apply_chrome, keypads
from .app import load_kv
from .apply_chrome import ApplyAlert, ShellIntents
from .view_models import ToolbarView

_log = logging.getLogger(__name__)

SendIntent = Callable[[Intent], None]
Speak = Callable[[Voice], None]

# kv files every step screen may use; loaded once, before any step screen is built.
SHARED_KV_FILES = (apply_chrome.KV_FILE, keypads.KV_FILE)
_loaded_kv: set[str] = set()


class ShellControls(ShellIntents, Protocol):
    """The part of screens.shell.ShellPresenter the apply screens use."""

    def watch_toolbar(self, show: Callable[[ToolbarView], None]) -> None: ...


class ApplyScreensError(Exception):
    """A step has no screen module, or it does not follow the screen contract."""


def load_kv_once(file_name: str) -> None:
    """Loading a kv file twice applies its rules twice (doubled widgets), so remember each one."""
    if file_name in _loaded_kv:
        return
    load_kv(file_name)
    _loaded_kv.add(file_name)


def screen_class_name(step: ApplyStep | str) -> str:
    """ "hand_in" → "HandInScreen": the contract's naming, so steps are found without a registry."""
    name = step.value if isinstance(step, ApplyStep) else step
    return "".join(part.capitalize() for part in name.split("_")) + "Screen"


def build_module_screen(module: ModuleType) -> Screen:
    """A screen module's one screen (`NAME`, `KV_FILE`, `<Name>Screen`), its kv loaded once."""
    load_kv_once(module.KV_FILE)
    screen: Screen = getattr(module, screen_class_name(module.NAME))(name=module.NAME)
    return screen


def build_step_screens(steps: Iterable[ApplyStep] = tuple(ApplyStep)) -> dict[ApplyStep, Screen]:
    """Import `screens.<step>_screen`, load its kv and build its screen, for each step."""
    for file_name in SHARED_KV_FILES:
        load_kv_once(file_name)
    built: dict[ApplyStep, Screen] = {}
    for step in steps:
        module_name = f"screens.{step.value}_screen"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name != module_name:
                raise
            raise ApplyScreensError(
                f"No screen for the '{step.value}' step: {module_name}.py is missing from the "
                "installed package; reinstall the kiosk or build the screen."
            ) from err
        screen_class = getattr(module, screen_class_name(step), None)
        if screen_class is None or getattr(module, "NAME", None) != step.value:
            raise ApplyScreensError(
                f"{module_name} must define NAME = '{step.value}' and a class "
                f"{screen_class_name(step)} (the apply screen contract)."
            )
        load_kv_once(module.KV_FILE)
        built[step] = screen_class(name=step.value)
    return built


class ApplyPresenter:
    def __init__(
        self,
        screens: ScreenManager,
        send_intent: SendIntent,
        speak: Speak,
        *,
        step_screens: Mapping[ApplyStep, Screen] | None = None,
        alert: ApplyAlert | None = None,
        shell: ShellControls | None = None,
    ) -> None:
        self._screens = screens
        self._send_intent = send_intent
        self._speak = speak
        self._step_screens = (
            dict(step_screens) if step_screens is not None else build_step_screens()
        )
        for screen in self._step_screens.values():
            if not screens.has_screen(screen.name):
                screens.add_widget(screen)
            screen.send = self.forward
        self._alert = alert if alert is not None else ApplyAlert()
        self._alert.send = self.forward
        self._latest: ApplyView | None = None
        self._shown: ApplyView | None = None
        self._spoken_serial: int | None = None
        self._redraw = Clock.create_trigger(self._render, 0)
        if shell is not None:
            for header in self._headers():
                header.connect_shell(shell)
            shell.watch_toolbar(self._show_toolbar)

    # -- in: views from the flow (on the UI thread) ---------------------------------------------
    def show(self, view: ApplyView) -> None:
        """Draw `view` on the next frame; a newer view before then replaces it."""
        self._latest = view
        self._redraw()

    def clear_down(self) -> None:
        """The session ended: drop the last view and the warning, so nothing personal stays."""
        self._redraw.cancel()
        self._latest = None
        self._shown = None
        self._spoken_serial = None
        if self._alert.parent is not None:
            self._alert.dismiss(animation=False)
        for screen in self._step_screens.values():
            clear = getattr(screen, "clear_down", None)
            if clear is not None:
                clear()

    @property
    def current_view(self) -> ApplyView | None:
        return self._shown

    def screen_for(self, step: ApplyStep) -> Screen:
        return self._step_screens[step]

    # -- out: touches to the flow -------------------------------------------------------------
    def forward(self, intent: Intent) -> None:
        """Screens call this; touches the current view does not offer are dropped here."""
        name = type(intent).__name__
        view = self._latest or self._shown
        if view is None:
            _log.info("%s arrived with no apply view on screen: dropped", name)
            return
        if view.accepts and name not in view.accepts:
            _log.info(
                "%s is not offered on the %s step now (a double tap?): dropped", name, view.step
            )
            return
        try:
            self._send_intent(intent)
        except IllegalIntent as err:
            _log.info("the flow refused a stale touch: %s", err)

    def _headers(self) -> list[Any]:
        """Every step screen names its ApplyHeader `header` (the apply screen contract)."""
        found = [screen.ids.get("header") for screen in self._step_screens.values()]
        return [header for header in found if header is not None]

    def _show_toolbar(self, toolbar: ToolbarView) -> None:
        for header in self._headers():
            header.show_toolbar(toolbar)

    # -- drawing ------------------------------------------------------------------------------
    def _render(self, *_args: Any) -> None:
        view = self._latest
        if view is None:
            return
        screen = self._step_screens.get(view.step)
        if screen is None:
            _log.error("no screen for the %s step; the view is not shown", view.step)
            return
        screen.render(view)
        if self._screens.current != screen.name:
            self._screens.current = screen.name
        self._show_alert(view)
        if view.voice is not None and view.voice_serial != self._spoken_serial:
            self._spoken_serial = view.voice_serial
            self._speak(view.voice)
        self._shown = view

    def _show_alert(self, view: ApplyView) -> None:
        self._alert.render(view.overlay, view.countdown)
        if self._alert.wanted and self._alert.parent is None:
            self._alert.open(animation=False)
        elif not self._alert.wanted and self._alert.parent is not None:
            self._alert.dismiss(animation=False)
