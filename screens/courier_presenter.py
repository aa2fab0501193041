"""The Kivy side of the courier session: one CourierView in, the right screen drawn, intents out.

Like screens/pickup_presenter.py: views are coalesced with one Clock trigger (a door event and a
tick in one frame draw once), touches the current view does not offer are dropped here, and the
header is the apply journey's, whose Back and Cancel become the courier's own intents. Nothing
here waits: `send_intent` returns at once (the runtime queues the work on its worker).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import ModuleType
from typing import Any

from kivy.clock import Clock
from kivy.uix.screenmanager import Screen, ScreenManager

from kiosk.courier import view_models as vm

from . import (
    courier_load_screen,
    courier_menu_screen,
    courier_message_screen,
    courier_pin_screen,
    courier_run_screen,
    courier_widgets,
)
from .apply_presenter import SHARED_KV_FILES, ShellControls, build_module_screen, load_kv_once
from .courier_widgets import header_intent
from .view_models import ToolbarView

_log = logging.getLogger(__name__)

SendIntent = Callable[[vm.Intent], object]

SCREEN_MODULES: dict[vm.CourierStep, ModuleType] = {
    vm.CourierStep.PIN: courier_pin_screen,
    vm.CourierStep.REFUSED: courier_message_screen,
    vm.CourierStep.MENU: courier_menu_screen,
    vm.CourierStep.COLLECT: courier_run_screen,
    vm.CourierStep.RETURNS: courier_run_screen,
    vm.CourierStep.LOAD: courier_load_screen,
}


def build_courier_screens() -> dict[str, Screen]:
    """One screen per module (collect and returns share the run screen), by screen name."""
    for file_name in (*SHARED_KV_FILES, courier_widgets.KV_FILE):
        load_kv_once(file_name)
    built: dict[str, Screen] = {}
    for module in dict.fromkeys(SCREEN_MODULES.values()):
        built[module.NAME] = build_module_screen(module)
    return built


class CourierPresenter:
    def __init__(
        self,
        screens: ScreenManager,
        send_intent: SendIntent,
        *,
        shell: ShellControls | None = None,
    ) -> None:
        self._screens = screens
        self._send_intent = send_intent
        self._by_name = build_courier_screens()
        for screen in self._by_name.values():
            if not screens.has_screen(screen.name):
                screens.add_widget(screen)
            screen.send = self.forward
        self._latest: vm.CourierView | None = None
        self._shown: vm.CourierView | None = None
        self._redraw = Clock.create_trigger(self._render, 0)
        if shell is not None:
            for screen in self._by_name.values():
                screen.ids.header.connect_shell(shell)
            shell.watch_toolbar(self._show_toolbar)

    def show(self, view: vm.CourierView) -> None:
        self._latest = view
        self._redraw()

    def clear_down(self) -> None:
        """The session ended: nothing of it stays on any screen."""
        self._redraw.cancel()
        self._latest = None
        self._shown = None
        for screen in self._by_name.values():
            screen.clear_down()

    @property
    def current_view(self) -> vm.CourierView | None:
        return self._shown

    @property
    def screen_names(self) -> frozenset[str]:
        return frozenset(self._by_name)

    def screen_for(self, step: vm.CourierStep) -> Screen:
        return self._by_name[SCREEN_MODULES[step].NAME]

    def forward(self, intent: object) -> None:
        view = self._latest or self._shown
        if view is None:
            _log.info("%s arrived with no courier view on screen: dropped", type(intent).__name__)
            return
        translated = header_intent(intent, view)
        name = type(translated).__name__ if translated is not None else type(intent).__name__
        if translated is None or name not in view.accepts:
            _log.info("%s is not offered on the courier %s step now: dropped", name, view.step)
            return
        self._send_intent(translated)  # type: ignore[arg-type]

    def _show_toolbar(self, toolbar: ToolbarView) -> None:
        for screen in self._by_name.values():
            screen.ids.header.show_toolbar(toolbar)

    def _render(self, *_args: Any) -> None:
        view = self._latest
        if view is None:
            return
        screen = self.screen_for(view.step) if view.step in SCREEN_MODULES else None
        if screen is None:
            return  # signed out: the runtime's clear-down brings the attract screen back
        screen.render(view)
        if self._screens.current != screen.name:
            self._screens.current = screen.name
        self._shown = view
