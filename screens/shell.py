"""The presenter between the core and the widgets: intents in, view-models out.

It owns no state of its own that the core could hold: language, large text and personal data live
in the session, idle time in the guard, the notice shown is derived from the clock. Redraws are
batched with one Clock trigger, so a burst of changes costs one render on the next frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from kivy.clock import Clock
from kivy.uix.screenmanager import ScreenManager

from kiosk.idle import IdleExpired, IdleResting, IdleStatus
from kiosk.notices import NoticeBoard
from kiosk.ports.ui_events import UiEventBridge
from kiosk.session import SessionGuard, SessionSnapshot

from . import attract_screen, out_of_service_screen, service_start_screen
from .help_overlay import HelpOverlay
from .idle_overlay import IdleOverlay
from .notice_overlay import NoticeOverlay
from .out_of_service_screen import OutOfServiceView, out_of_service_view
from .view_models import (
    CurrentNotice,
    ServiceKind,
    TerminalIdentity,
    ToolbarView,
    attract_view,
    help_view,
    idle_view,
    service_start_view,
    toolbar_view,
)

IDLE_TICK_S = 0.25
NOTICE_CHECK_S = 0.5


@dataclass(frozen=True)
class ShellParts:
    """What the composition root hands to the UI; nothing in screens/ builds these itself."""

    identity: TerminalIdentity
    guard: SessionGuard
    notices: NoticeBoard
    bridge: UiEventBridge
    clock: Callable[[], float]
    large_text_scale: float
    kiosk_mode: bool
    font_path: str | None
    apply: ApplyControls | None = None  # the apply journey's runtime; None: not offered here
    pickup: PickupControls | None = None  # the pickup journey's runtime; None: not offered here
    courier: CourierControls | None = None  # couriers and village agents; None: not here


class ApplyControls(Protocol):
    """The part of kiosk.apply.runtime.ApplyRuntime the shell drives."""

    @property
    def active(self) -> bool: ...

    def start(self) -> None: ...

    def abandon(self) -> None: ...

    def refresh_view(self) -> None: ...


class CourierControls(Protocol):
    """The part of kiosk.courier.runtime.CourierRuntime the shell drives.

    A courier session keeps its own idle clock ([courier] session_idle_s), which also counts
    doors closing and codes scanned — a courier at an open door touches no screen — so while one
    is under way the shell's citizen timer is held fresh and the courier screens warn by
    themselves; the shell still ends the session if its own timer runs out first.
    """

    @property
    def active(self) -> bool: ...

    def abandon(self) -> None: ...

    def refresh_view(self) -> None: ...


class PickupControls(Protocol):
    """The part of kiosk.pickup.runtime.PickupRuntime the shell drives."""

    @property
    def active(self) -> bool: ...

    def start(self) -> None: ...

    def abandon(self) -> None: ...

    def refresh_view(self) -> None: ...


class ShellPresenter:
    def __init__(
        self,
        parts: ShellParts,
        screens: ScreenManager,
        help_overlay: HelpOverlay,
        idle_overlay: IdleOverlay,
        on_large_text: Callable[[bool], None],
        notice_overlay: NoticeOverlay,
    ) -> None:
        self._parts = parts
        self._screens = screens
        self._help = help_overlay
        self._idle = idle_overlay
        self._notice = notice_overlay
        self._on_large_text = on_large_text
        self._service: ServiceKind = "apply"
        self._idle_status: IdleStatus = IdleResting()
        self._notice_index: int | None = None
        self._notices = parts.notices  # replaced when a technician changes them remotely
        self._out_of_service: OutOfServiceView | None = None
        self._toolbar_watchers: list[Callable[[ToolbarView], None]] = []
        self._redraw = Clock.create_trigger(self._render, 0)
        # a journey started by a scan or a card leaves the attract screen: the notice goes too
        screens.bind(current=self._close_notice_away_from_attract)

    def watch_toolbar(self, show: Callable[[ToolbarView], None]) -> None:
        """Screens outside the shell (the apply steps) carry the same toolbar; keep their labels
        in step with the session: `show` gets the current labels now and after every change."""
        self._toolbar_watchers.append(show)
        show(toolbar_view(self._parts.guard.session.snapshot()))

    def start(self) -> None:
        session = self._parts.guard.session
        self._parts.bridge.subscribe(SessionSnapshot, lambda _snapshot: self._redraw())
        session.subscribe(self._parts.bridge.post)
        Clock.schedule_interval(self._tick_idle, IDLE_TICK_S)
        Clock.schedule_interval(self._check_notice, NOTICE_CHECK_S)
        self._screens.bind(current=lambda *_: self._show_out_of_service())
        self._render()

    # -- intents (called by the widgets) ---------------------------------------------------
    def toggle_language(self) -> None:
        self._parts.guard.session.toggle_language()
        self._refresh_journey()

    def toggle_large_text(self) -> None:
        self._parts.guard.session.toggle_large_text()
        self._refresh_journey()

    def _refresh_journey(self) -> None:
        for journey in (self._parts.apply, self._parts.pickup, self._parts.courier):
            if journey is not None and journey.active:
                journey.refresh_view()

    def open_help(self) -> None:
        self._help.open(animation=False)

    def close_help(self) -> None:
        self._help.dismiss(animation=False)

    def open_notice(self) -> None:
        """The notice panel was touched: the notice it shows now, in full, over the screen."""
        if self._screens.current != attract_screen.NAME:
            return
        self._notice.view = self._screens.get_screen(attract_screen.NAME).view
        if self._notice.parent is None:
            self._notice.open(animation=False)

    def close_notice(self) -> None:
        self._notice.dismiss(animation=False)

    def _close_notice_away_from_attract(self, _screens: object, current: str) -> None:
        if current != attract_screen.NAME and self._notice.parent is not None:
            self.close_notice()

    def start_service(self, kind: ServiceKind) -> None:
        if self._out_of_service is not None:
            self._show_out_of_service()  # a touch that slipped through: nothing starts
            return
        if kind == "apply" and self._parts.apply is not None:
            self._parts.apply.start()  # its first view switches to the identify screen
            return
        if kind == "collect" and self._parts.pickup is not None:
            self._parts.pickup.start()  # its first view switches to the pickup start screen
            return
        self._service = kind
        self._screens.current = service_start_screen.NAME
        self._redraw()

    def back_to_start(self) -> None:
        self._screens.current = attract_screen.NAME

    def continue_session(self) -> None:
        self._parts.guard.touched(self._parts.clock())
        self._tick_idle(0)

    # -- inputs from the window and the clock ------------------------------------------------
    def on_any_touch(self, _window: Any, _touch: Any) -> bool:
        """Every finger on the glass counts as presence; returns False so the touch goes on."""
        self._parts.guard.touched(self._parts.clock())
        return False

    def _tick_idle(self, _dt: float) -> None:
        courier = self._parts.courier
        if courier is not None and courier.active:
            self._parts.guard.touched(self._parts.clock())  # the courier flow keeps its own time
        status = self._parts.guard.tick(self._parts.clock())
        if status == self._idle_status:
            return
        self._idle_status = status
        if isinstance(status, IdleExpired):
            self._help.dismiss(animation=False)
            self.close_notice()
            for journey in (self._parts.apply, self._parts.pickup, self._parts.courier):
                if journey is not None and journey.active:
                    journey.abandon()  # the flow clears down and alerts staff if a door is open
            self._screens.current = attract_screen.NAME
        self._redraw()

    @property
    def notices(self) -> NoticeBoard:
        return self._notices

    def set_notices(self, board: NoticeBoard) -> None:
        """UI thread: new notices or rotation (set remotely), shown from the next redraw on."""
        self._notices = board
        self._redraw()

    def _current_notice(self) -> CurrentNotice | None:
        board = self._notices
        current = board.current(self._parts.clock())
        if current is None:
            return None
        index, notice = current
        return CurrentNotice(index=index, count=len(board.notices), notice=notice)

    # -- out of service (set remotely by a technician; UI thread) -------------------------------
    @property
    def out_of_service(self) -> bool:
        return self._out_of_service is not None

    def set_out_of_service(self, active: bool, message_zh: str, message_en: str) -> None:
        """Cover the attract screen with the notice, or take it away.

        A journey under way is left to finish (a citizen mid-way with a door open or a card in
        the reader is better served by finishing than by being cut off); the notice appears the
        moment the terminal comes back to its attract screen, and no new journey starts."""
        if not active:
            self._out_of_service = None
            if self._screens.current == out_of_service_screen.NAME:
                self._screens.current = attract_screen.NAME
            return
        identity = self._parts.identity
        self._out_of_service = out_of_service_view(
            message_zh, message_en, hotline=identity.hotline, terminal_id=identity.terminal_id
        )
        self._screens.get_screen(out_of_service_screen.NAME).view = self._out_of_service
        self._show_out_of_service()

    def _journey_under_way(self) -> bool:
        journeys = (self._parts.apply, self._parts.pickup, self._parts.courier)
        return any(journey is not None and journey.active for journey in journeys)

    def _show_out_of_service(self) -> None:
        if self._out_of_service is None or self._journey_under_way():
            return
        if self._screens.current in (attract_screen.NAME, service_start_screen.NAME):
            if self._help.parent is not None:
                self._help.dismiss(animation=False)
            self._screens.current = out_of_service_screen.NAME

    def _check_notice(self, _dt: float) -> None:
        self._show_out_of_service()  # a journey that ended while the notice was waiting
        current = self._current_notice()
        index = current.index if current else None
        if index != self._notice_index:
            self._redraw()

    # -- output --------------------------------------------------------------------------------
    def _render(self, *_args: object) -> None:
        identity = self._parts.identity
        snapshot = self._parts.guard.session.snapshot()
        current = self._current_notice()
        self._notice_index = current.index if current else None
        self._on_large_text(snapshot.large_text)
        self._screens.get_screen(attract_screen.NAME).view = attract_view(
            identity, snapshot, current
        )
        self._screens.get_screen(service_start_screen.NAME).view = service_start_view(
            identity, snapshot, self._service
        )
        self._help.view = help_view(identity, snapshot)
        toolbar = toolbar_view(snapshot)
        for show in self._toolbar_watchers:
            show(toolbar)
        warning = idle_view(snapshot, self._idle_status)
        self._idle.view = warning
        if warning.visible and self._idle.parent is None:
            self._idle.open(animation=False)
        elif not warning.visible and self._idle.parent is not None:
            self._idle.dismiss(animation=False)
