"""The Kivy side of the pickup journey: one PickupView in, the right screen drawn, intents out.

Like screens/apply_presenter.py: views are coalesced with one Clock trigger, the prompt is spoken
once per `voice_serial`, touches the current view does not offer are dropped here. The header bar
is the apply journey's (`ApplyHeader`), which sends the apply journey's Back and Cancel; they are
translated to the pickup's own intents on the way out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kivy.clock import Clock
from kivy.uix.screenmanager import Screen, ScreenManager

from kiosk.apply import view_models as apply_vm
from kiosk.pickup import view_models as vm

from . import (
    pickup_code_screen,
    pickup_done_screen,
    pickup_door_screen,
    pickup_start_screen,
)
from .apply_presenter import SHARED_KV_FILES, ShellControls, build_module_screen, load_kv_once
from .view_models import ToolbarView

_log = logging.getLogger(__name__)

SendIntent = Callable[[vm.Intent], object]
Speak = Callable[[vm.Voice], None]

SCREEN_MODULES: dict[vm.PickupStep, Any] = {
    vm.PickupStep.START: pickup_start_screen,
    vm.PickupStep.CODE: pickup_code_screen,
    vm.PickupStep.DOOR: pickup_door_screen,
    vm.PickupStep.DONE: pickup_done_screen,
}
_FROM_APPLY_HEADER: dict[type, vm.Intent] = {
    apply_vm.Back: vm.Back(),
    apply_vm.Cancel: vm.Cancel(),
}


def build_pickup_screens() -> dict[vm.PickupStep, Screen]:
    for file_name in SHARED_KV_FILES:
        load_kv_once(file_name)
    built: dict[vm.PickupStep, Screen] = {}
    for step, module in SCREEN_MODULES.items():
        built[step] = build_module_screen(module)
    return built


class PickupPresenter:
    def __init__(
        self,
        screens: ScreenManager,
        send_intent: SendIntent,
        speak: Speak,
        *,
        shell: ShellControls | None = None,
    ) -> None:
        self._screens = screens
        self._send_intent = send_intent
        self._speak = speak
        self._step_screens = build_pickup_screens()
        for screen in self._step_screens.values():
            if not screens.has_screen(screen.name):
                screens.add_widget(screen)
            screen.send = self.forward
        self._latest: vm.PickupView | None = None
        self._shown: vm.PickupView | None = None
        self._spoken_serial: int | None = None
        self._redraw = Clock.create_trigger(self._render, 0)
        if shell is not None:
            for screen in self._step_screens.values():
                screen.ids.header.connect_shell(shell)
            shell.watch_toolbar(self._show_toolbar)

    def show(self, view: vm.PickupView) -> None:
        self._latest = view
        self._redraw()

    def clear_down(self) -> None:
        self._redraw.cancel()
        self._latest = None
        self._shown = None
        for screen in self._step_screens.values():
            clear = getattr(screen, "clear_down", None)
            if clear is not None:
                clear()

    @property
    def current_view(self) -> vm.PickupView | None:
        return self._shown

    def screen_for(self, step: vm.PickupStep) -> Screen:
        return self._step_screens[step]

    def forward(self, intent: object) -> None:
        translated = _FROM_APPLY_HEADER.get(type(intent), intent)
        name = type(translated).__name__
        view = self._latest or self._shown
        if view is None or name not in view.accepts:
            _log.info("%s is not offered on the pickup screen now (a double tap?): dropped", name)
            return
        self._send_intent(translated)  # type: ignore[arg-type]

    def _show_toolbar(self, toolbar: ToolbarView) -> None:
        for screen in self._step_screens.values():
            screen.ids.header.show_toolbar(toolbar)

    def _render(self, *_args: Any) -> None:
        view = self._latest
        if view is None:
            return
        screen = self._step_screens[view.step]
        screen.render(view)
        if self._screens.current != screen.name:
            self._screens.current = screen.name
        if view.voice is not None and view.voice_serial != self._spoken_serial:
            self._spoken_serial = view.voice_serial
            self._speak(view.voice)
        self._shown = view
