"""The composition root: settings → storage → core services → Kivy app. Nothing else builds them.

Kivy reads its environment once, at import, so `prepare_kivy_environment` runs before anything
imports kivy, and the screens are imported inside `build_app`, after it.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from kiosk.config import ConfigError, Settings
from kiosk.idle import IdleTimer
from kiosk.notices import NoticeBoard, NoticesError, load_notices
from kiosk.session import CitizenSession, SessionGuard
from kiosk.storage import DATABASE_FILE_NAME, Database

from .fonts import find_cjk_font
from .paths import APP_NAME, data_dir

if TYPE_CHECKING:
    from screens.app import KioskApp

_log = logging.getLogger(__name__)


def has_display(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def prepare_kivy_environment(settings: Settings, *, headless: bool, kivy_home: Path) -> None:
    """Kivy takes these from the environment at import time (KCFG_<section>_<key> = config)."""
    if "kivy" in sys.modules:
        raise RuntimeError("kivy was imported before the composition root set its environment")
    kiosk_mode = settings.terminal.kiosk_mode and not headless
    kivy_home.mkdir(parents=True, exist_ok=True)
    env = {
        "KIVY_NO_ARGS": "1",  # our CLI owns argv
        "KIVY_HOME": str(kivy_home),
        "KIVY_NO_FILELOG": "1",
        "KCFG_KIVY_LOG_LEVEL": "warning",
        "KCFG_KIVY_EXIT_ON_ESCAPE": "0" if kiosk_mode else "1",
        "KCFG_GRAPHICS_WIDTH": str(settings.display.width),
        "KCFG_GRAPHICS_HEIGHT": str(settings.display.height),
        "KCFG_GRAPHICS_FULLSCREEN": "auto" if kiosk_mode else "0",
        "KCFG_GRAPHICS_BORDERLESS": "1" if kiosk_mode else "0",
        "KCFG_GRAPHICS_RESIZABLE": "0" if kiosk_mode else "1",
        "KCFG_GRAPHICS_SHOW_CURSOR": "0" if kiosk_mode else "1",
        # a right click must not leave the red multitouch-emulation dots on a touchscreen
        "KCFG_INPUT_MOUSE": "mouse,disable_multitouch",
    }
    if headless:
        env["SDL_VIDEODRIVER"] = "offscreen"
    os.environ.update(env)


def open_storage(folder: Path) -> Database:
    """Open (and migrate) the terminal's database; a damaged file stops start-up with a sentence."""
    database = Database.open(folder / DATABASE_FILE_NAME)
    database.check_integrity(quick=True)
    return database


def build_app(
    settings: Settings,
    *,
    headless: bool,
    on_first_frame: Callable[[KioskApp], None] | None = None,
) -> KioskApp:
    folder = data_dir(settings)
    database = open_storage(folder)
    try:
        notices = load_notices(settings.notices.file)
    except NoticesError as err:
        raise ConfigError(str(err)) from err
    font = find_cjk_font(settings.display.font_path)
    _log.info("CJK font: %s (%s)", font.path, font.found_by)
    session = CitizenSession(settings.terminal.default_language)
    guard = SessionGuard(session, IdleTimer(settings.idle.warn_after_s, settings.idle.countdown_s))

    # Kivy's own config lives in the user's cache folder, not the (possibly throwaway) data folder,
    # so it is written once rather than "upgraded" on every demo run.
    kivy_home = Path(platformdirs.user_cache_dir(APP_NAME)) / "kivy"
    prepare_kivy_environment(settings, headless=headless, kivy_home=kivy_home)
    from screens.app import KioskApp
    from screens.clock_bridge import ClockBridge
    from screens.shell import ShellParts
    from screens.view_models import TerminalIdentity

    parts = ShellParts(
        identity=TerminalIdentity(
            name_zh=settings.terminal.name_zh,
            name_en=settings.terminal.name_en,
            hotline=settings.terminal.hotline,
            terminal_id=settings.terminal.id,
        ),
        guard=guard,
        notices=NoticeBoard(notices, settings.notices.rotate_every_s),
        bridge=ClockBridge(),
        clock=time.monotonic,
        large_text_scale=settings.display.large_text_scale,
        kiosk_mode=settings.terminal.kiosk_mode and not headless,
        font_path=font.path,
    )
    app = KioskApp(parts, on_first_frame=on_first_frame)
    app.bind(on_stop=lambda *_: database.close())
    return app
