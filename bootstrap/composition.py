"""The composition root: settings → storage → core services → Kivy app. Nothing else builds them.

Kivy reads its environment once, at import, so `prepare_kivy_environment` runs before anything
imports kivy, and the screens are imported inside `build_app`, after it.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from kiosk.apply.view_models import ApplyStep, Intent, Voice
from kiosk.config import ConfigError, Settings
from kiosk.idle import IdleTimer
from kiosk.notices import NoticeBoard, NoticesError, load_notices
from kiosk.pickup.view_models import PickupStep
from kiosk.session import CitizenSession, SessionGuard
from kiosk.storage import DATABASE_FILE_NAME, Database

from .fonts import find_cjk_font
from .paths import APP_NAME, data_dir
from .terminal_services import (
    RESERVATION_SWEEP_S,
    TICK_S,
    TerminalServices,
    build_terminal_services,
)

if TYPE_CHECKING:
    from screens.app import KioskApp
    from screens.voice_player import VoicePlayer

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
        # Kivy leaves Python's logging alone; the `kiosk` command configures it (KIOSK_LOG_LEVEL).
        "KIVY_LOG_MODE": "PYTHON",
        "KCFG_KIVY_LOG_LEVEL": "warning",
        "KCFG_KIVY_EXIT_ON_ESCAPE": "0" if kiosk_mode else "1",
        "KCFG_GRAPHICS_WIDTH": str(settings.display.width),
        "KCFG_GRAPHICS_HEIGHT": str(settings.display.height),
        "KCFG_GRAPHICS_FULLSCREEN": "auto" if kiosk_mode else "0",
        "KCFG_GRAPHICS_BORDERLESS": "1" if kiosk_mode else "0",
        "KCFG_GRAPHICS_RESIZABLE": "0" if kiosk_mode else "1",
        "KCFG_GRAPHICS_SHOW_CURSOR": "0" if kiosk_mode else "1",
        # Kivy asks for 2x MSAA by default: on a software renderer it tripled the cost of a
        # frame and held the UI thread for whole seconds (docs/adr/0022)
        "KCFG_GRAPHICS_MULTISAMPLES": str(settings.display.multisamples),
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
    if headless:
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")  # no sound card: prompts stay silent
    from screens.app import KioskApp
    from screens.clock_bridge import ClockBridge
    from screens.shell import ShellParts
    from screens.view_models import TerminalIdentity

    bridge = ClockBridge()
    services = build_terminal_services(settings, folder, database, bridge, session)
    parts = ShellParts(
        identity=TerminalIdentity(
            name_zh=settings.terminal.name_zh,
            name_en=settings.terminal.name_en,
            hotline=settings.terminal.hotline,
            terminal_id=settings.terminal.id,
        ),
        guard=guard,
        notices=NoticeBoard(notices, settings.notices.rotate_every_s),
        bridge=bridge,
        clock=time.monotonic,
        large_text_scale=settings.display.large_text_scale,
        kiosk_mode=settings.terminal.kiosk_mode and not headless,
        font_path=font.path,
        apply=services.runtime,
        pickup=services.pickup,
        courier=services.courier,
    )
    app = KioskApp(parts, on_first_frame=on_first_frame)
    app.bind(on_start=lambda *_: attach_journeys(app, services, session))
    app.bind(on_stop=lambda *_: shut_down(services, database))
    return app


def shut_down(services: TerminalServices, database: Database) -> None:
    services.stop()
    database.close()


def attach_pickup(
    app: KioskApp,
    services: TerminalServices,
    session: CitizenSession,
    speak: Callable[[Voice], None],
) -> None:
    """The pickup screens over the pickup runtime (kiosk/pickup), sharing the apply voice."""
    from kivy.clock import Clock

    from screens.pickup_presenter import PickupPresenter

    pickup = services.pickup
    if pickup is None or app.screens is None:
        return
    presenter = PickupPresenter(app.screens, pickup.send, speak, shell=app.shell)
    door = presenter.screen_for(PickupStep.DOOR)
    door.layout = [spec for c in services.devices.locker_columns for spec in c.compartments()]

    def clear_down() -> None:
        presenter.clear_down()
        session.clear_down()

    services.ui.pickup_show = presenter.show
    services.ui.pickup_clear_down = clear_down
    Clock.schedule_interval(lambda _dt: pickup.tick(), TICK_S)


def attach_courier(app: KioskApp, services: TerminalServices, session: CitizenSession) -> None:
    """The courier screens over the courier runtime (kiosk/courier); signed in at the front door."""
    from kivy.clock import Clock

    from kiosk.courier.view_models import CourierStep
    from screens import attract_screen
    from screens.courier_presenter import CourierPresenter

    courier = services.courier
    if courier is None or app.screens is None:
        return
    presenter = CourierPresenter(app.screens, courier.send, shell=app.shell)
    layout = [spec for c in services.devices.locker_columns for spec in c.compartments()]
    for step in (CourierStep.COLLECT, CourierStep.LOAD):
        presenter.screen_for(step).layout = layout

    def clear_down() -> None:
        presenter.clear_down()
        session.clear_down()
        if app.screens is not None and app.screens.current in presenter.screen_names:
            app.screens.current = attract_screen.NAME

    services.ui.courier_show = presenter.show
    services.ui.courier_clear_down = clear_down
    Clock.schedule_interval(lambda _dt: courier.tick(), TICK_S)


def attach_journeys(app: KioskApp, services: TerminalServices, session: CitizenSession) -> None:
    """Once the window and its screens exist: the apply screens, the voice, the clocks, devices."""
    from kivy.clock import Clock

    from screens import attract_screen
    from screens.apply_presenter import ApplyPresenter
    from screens.voice_player import VoicePlayer

    assert app.screens is not None
    runtime = services.runtime
    player = VoicePlayer(volume=services.settings.voice.volume)
    voice = services.voice
    if voice is not None:
        from kiosk.ports.voice import PromptRendered, PromptsSilenced

        services.bridge.subscribe(PromptRendered, player.on_prompt_rendered)
        services.bridge.subscribe(PromptsSilenced, player.on_prompts_silenced)

    def speak(prompt: Voice) -> None:
        if voice is not None and player.volume > 0:
            voice.speak(prompt.key, prompt.text, prompt.language)  # type: ignore[attr-defined]

    def send(intent: Intent) -> None:
        runtime.send(intent)

    presenter = ApplyPresenter(app.screens, send, speak, shell=app.shell)
    hand_in = presenter.screen_for(ApplyStep.HAND_IN)
    hand_in.layout = [spec for c in services.devices.locker_columns for spec in c.compartments()]
    camera = services.devices.camera
    if camera is not None:
        presenter.screen_for(ApplyStep.MATERIALS).preview_source = camera.latest_preview

    def clear_down() -> None:
        presenter.clear_down()
        player.stop()
        if voice is not None:
            voice.stop()  # type: ignore[attr-defined]
        session.clear_down()

    def journey_ended() -> None:
        app.screens.current = attract_screen.NAME  # type: ignore[union-attr]

    services.ui.show = presenter.show
    services.ui.clear_down = clear_down
    services.ui.journey_ended = journey_ended
    Clock.schedule_interval(lambda _dt: runtime.tick(), TICK_S)
    attach_pickup(app, services, session, speak)
    attach_courier(app, services, session)
    Clock.schedule_interval(lambda _dt: services.sweep_reservations(), RESERVATION_SWEEP_S)
    app.bind(on_stop=lambda *_: player.unload_all())
    attach_fleet(app, services, player)
    services.start()


def attach_fleet(app: KioskApp, services: TerminalServices, player: VoicePlayer) -> None:
    """The UI's side of the fleet ports: screenshot, the out-of-service notice, live settings,
    restart (an orderly stop, then the process exits 75 for the service manager)."""
    fleet_ui = services.fleet_ui
    if services.fleet is None or fleet_ui is None:
        return
    guard = app.parts.guard
    shell = app.shell
    assert shell is not None
    spoken_volume = {"volume": player.volume, "enabled": services.settings.voice.enabled}
    terminal_notice = {"service.notice_zh": "", "service.notice_en": ""}

    def apply_live(values: Mapping[str, Any]) -> None:
        """UI thread. Everything whitelisted takes effect at once, except switching voice on when
        it was off at start (its prompts were never rendered): that waits for the next start."""
        if "idle.warn_after_s" in values:
            guard.timer.warn_after_s = float(values["idle.warn_after_s"])
        if "idle.countdown_s" in values:
            guard.timer.countdown_s = float(values["idle.countdown_s"])
        if "voice.volume" in values:
            spoken_volume["volume"] = float(values["voice.volume"])
        if "voice.enabled" in values:
            spoken_volume["enabled"] = bool(values["voice.enabled"])
        player.volume = spoken_volume["volume"] if spoken_volume["enabled"] else 0.0
        if player.volume == 0.0:
            player.stop()
        board = shell.notices
        if "notices.rotate_every_s" in values:
            board = board.rotating_every(float(values["notices.rotate_every_s"]))
        if terminal_notice.keys() & values.keys():
            terminal_notice.update({k: str(values[k]) for k in terminal_notice if k in values})
            board = board.with_terminal_notice(*terminal_notice.values())
        if board is not shell.notices:
            shell.set_notices(board)
        _log.info("remote settings applied: %s", ", ".join(sorted(values)))

    fleet_ui.attach(
        capture=app.capture_png,
        show_notice=shell.set_out_of_service,
        apply_live=apply_live,
        stop_app=app.request_exit,
    )
