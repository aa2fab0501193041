"""The Kivy application: builds the widget tree from kv resources and hands control to the shell.

Imported only by the composition root, after it has set Kivy's environment; Kivy reads its
configuration at import time, so importing this module earlier would freeze the wrong settings.
"""

from __future__ import annotations

import gc
import logging
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.metrics import mm
from kivy.properties import BooleanProperty, NumericProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager
from kivy.uix.widget import Widget

from . import (
    attract_screen,
    help_overlay,
    idle_overlay,
    notice_overlay,
    out_of_service_screen,
    palette,
    service_start_screen,
    widgets,
)
from .attract_screen import AttractScreen
from .help_overlay import HelpOverlay
from .idle_overlay import IdleOverlay
from .notice_overlay import NoticeOverlay
from .out_of_service_screen import OutOfServiceScreen
from .service_start_screen import ServiceStartScreen
from .shell import ShellParts, ShellPresenter

# kv sizes are written for a 1080-pixel-wide portrait screen; a landscape screen is short, so the
# height limits the scale there (1920x1080 gets 0.8 of the portrait sizes).
DESIGN_WIDTH_PX = 1080
DESIGN_MIN_HEIGHT_PX = 1350
MIN_TOUCH_TARGET_MM = 15
_log = logging.getLogger(__name__)


def load_kv(file_name: str) -> None:
    """kv rules come from the installed package, never from the current working folder."""
    text = resources.files("screens").joinpath(file_name).read_text(encoding="utf-8")
    Builder.load_string(text, filename=f"screens/{file_name}")


def use_font_everywhere(font_path: str | None) -> None:
    """Replace Kivy's default font (Roboto, no CJK glyphs) so every label can show Chinese."""
    if font_path is None:
        _log.warning("no CJK font found: Chinese text will show as boxes (run `kiosk doctor`)")
        return
    LabelBase.register(DEFAULT_FONT, fn_regular=font_path)


class KioskApp(App):  # type: ignore[misc]
    title = "Self-service terminal"
    layout_unit = NumericProperty(1.0)
    type_unit = NumericProperty(1.0)
    touch_target = NumericProperty(60.0)
    large_text = BooleanProperty(False)

    def __init__(
        self,
        parts: ShellParts,
        on_first_frame: Callable[[KioskApp], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.parts = parts
        self._on_first_frame = on_first_frame
        self.use_kivy_settings = False
        self.screens: ScreenManager | None = None
        self.overlays: dict[str, Widget] = {}
        self.exit_code = 0  # set by a remote restart: run() then leaves with SystemExit(75)

    def run(self) -> None:
        super().run()
        if self.exit_code:
            raise SystemExit(self.exit_code)

    def request_exit(self, exit_code: int) -> None:
        """An orderly stop (on_stop closes the services and the database), then leave with
        `exit_code` so the service manager starts the terminal again."""
        self.exit_code = exit_code
        self.stop()

    def capture_png(self) -> bytes:
        """The window as last drawn, as PNG; UI thread only (it reads the GL buffer)."""
        with tempfile.TemporaryDirectory(prefix="kiosk-screen-") as folder:
            written = Window.screenshot(name=str(Path(folder) / "screen.png"))
            if not written:
                raise OSError("the window gave no picture")
            return Path(written).read_bytes()

    def build(self) -> ScreenManager:
        use_font_everywhere(self.parts.font_path)
        for module in (
            widgets,
            attract_screen,
            service_start_screen,
            help_overlay,
            idle_overlay,
            notice_overlay,
            out_of_service_screen,
        ):
            load_kv(module.KV_FILE)
        Window.clearcolor = palette.PAGE
        screens = ScreenManager(transition=NoTransition())
        screens.add_widget(AttractScreen(name=attract_screen.NAME))
        screens.add_widget(ServiceStartScreen(name=service_start_screen.NAME))
        screens.add_widget(OutOfServiceScreen(name=out_of_service_screen.NAME))
        help_view, idle_view, notice_view = HelpOverlay(), IdleOverlay(), NoticeOverlay()
        self.overlays = {
            help_overlay.NAME: help_view,
            idle_overlay.NAME: idle_view,
            notice_overlay.NAME: notice_view,
        }
        self.shell = ShellPresenter(
            self.parts,
            screens,
            help_view,
            idle_view,
            on_large_text=self._set_large_text,
            notice_overlay=notice_view,
        )
        for view in (*screens.screens, help_view, idle_view, notice_view):
            view.intents = self.shell
        self.screens = screens
        Window.bind(size=self._update_units)
        self.bind(large_text=self._update_units)
        self._update_units()
        Window.bind(on_touch_down=self.shell.on_any_touch)
        if self.parts.kiosk_mode:
            Window.bind(on_request_close=self._refuse_close)
        return screens

    def on_start(self) -> None:
        self.shell.start()
        Window.bind(on_flip=self._settle_memory)
        if self._on_first_frame is not None:
            Window.bind(on_flip=self._first_frame_drawn)

    def open_settings(self, *args: Any) -> bool:
        """Kivy opens its settings panel on F1; a public terminal must not."""
        if self.parts.kiosk_mode:
            return False
        return bool(super().open_settings(*args))

    def widget_at(self, path: str) -> Widget | None:
        """'attract/toolbar/language_button': a screen or overlay name, then kv ids downwards."""
        first, *rest = path.split("/")
        node: Widget | None = self.overlays.get(first)
        if node is None and self.screens is not None and self.screens.has_screen(first):
            node = self.screens.get_screen(first)
        for widget_id in rest:
            if node is None:
                return None
            node = node.ids.get(widget_id)
        return node

    def _set_large_text(self, enabled: bool) -> None:
        self.large_text = enabled

    def _update_units(self, *_args: object) -> None:
        self.layout_unit = min(Window.width / DESIGN_WIDTH_PX, Window.height / DESIGN_MIN_HEIGHT_PX)
        scale = self.parts.large_text_scale if self.large_text else 1.0
        self.type_unit = self.layout_unit * scale
        self.touch_target = max(float(mm(MIN_TOUCH_TARGET_MM)), 120 * self.layout_unit)

    def _refuse_close(self, *_args: object, **_kwargs: object) -> bool:
        _log.info("window close requested in kiosk mode: ignored")
        return True

    def _settle_memory(self, *_args: object) -> None:
        """Once everything built at start-up exists, move it out of the garbage collector's sight.

        A full collection walks every object the app holds, and it runs on whichever thread
        happens to allocate — often the UI thread, where one took 45 ms on the camera step.
        Widgets, kv rules, fonts and the catalog live as long as the app, so frozen they cost
        nothing to later collections."""
        Window.unbind(on_flip=self._settle_memory)
        gc.collect()
        gc.freeze()

    def _first_frame_drawn(self, *_args: object) -> None:
        Window.unbind(on_flip=self._first_frame_drawn)
        if self._on_first_frame is not None:
            self._on_first_frame(self)
