"""Chrome shared by every apply step: the header, a notice banner and the countdown warning.

Each step screen places these by class name in its kv and forwards its `render()` arguments to
them, so Back, Cancel, the progress dots and the timeout warning sit in the same place and look
the same on every step — an elderly citizen should never have to hunt for the way back.
The header also carries help, language and large text: shell intents, not flow intents, so they
go straight to the shell (`ShellIntents`) and keep working whatever the flow accepts just now.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from kivy.clock import Clock
from kivy.graphics import Color, Ellipse, Line
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.widget import Widget

from kiosk.apply.view_models import Back, Cancel, Countdown, ExtendTime, Header, Intent, Notice

from . import palette
from .view_models import ToolbarView

KV_FILE = "apply_chrome.kv"
_log = logging.getLogger(__name__)

SendIntent = Callable[[Intent], None]


class ShellIntents(Protocol):
    """What the header's toolbar asks of the shell (screens.shell.ShellPresenter)."""

    def open_help(self) -> None: ...

    def toggle_language(self) -> None: ...

    def toggle_large_text(self) -> None: ...


# Notice colours: a pale fill keeps dark text at full contrast; the strong accent carries meaning.
NOTICE_FILL: dict[str, palette.Rgba] = {
    "info": (0.902, 0.933, 0.976, 1.0),
    "warning": (1.0, 0.953, 0.878, 1.0),
    "error": (0.992, 0.925, 0.918, 1.0),
}
NOTICE_ACCENT = {
    "info": palette.APPLY,
    "warning": palette.WARNING_ACCENT,
    "error": palette.STRIPE,
}
NOTICE_MARK = {"info": "i", "warning": "!", "error": "!"}


def drop_intent(intent: Intent) -> None:
    """Until the presenter wires a screen, a touch has nowhere to go; say so instead of crashing."""
    _log.warning("intent %s sent before the screen was connected: dropped", type(intent).__name__)


class ProgressDots(Widget):  # type: ignore[misc]
    """The journey as a row of dots joined by a line: done filled, current ringed, to-do hollow."""

    states = ListProperty([])
    done_color = ColorProperty(palette.HEADER_SUBTEXT)
    current_color = ColorProperty(palette.HEADER_TEXT)
    todo_color = ColorProperty(palette.HEADER_SUBTEXT)
    dot_size = NumericProperty(24.0)
    current_x = NumericProperty(0.0)  # where the current dot is, from the widget's left edge

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._redraw_trigger = Clock.create_trigger(self._redraw, 0)
        self.bind(
            pos=self._redraw_trigger,
            size=self._redraw_trigger,
            states=self._redraw_trigger,
            dot_size=self._redraw_trigger,
        )

    def _redraw(self, *_args: object) -> None:
        self.canvas.clear()
        count = len(self.states)
        if count == 0:
            return
        dot = self.dot_size
        y = self.center_y
        if count == 1:
            centres = [self.center_x]
        else:
            gap = (self.width - dot) / (count - 1)
            centres = [self.x + dot / 2 + i * gap for i in range(count)]
        if "current" in self.states:
            self.current_x = centres[list(self.states).index("current")] - self.x
        with self.canvas:
            Color(*self.todo_color[:3], 0.55)
            Line(points=[centres[0], y, centres[-1], y], width=max(1.0, dot / 10))
            for centre, state in zip(centres, self.states, strict=True):
                if state == "current":
                    ring = dot * 1.5
                    Color(*self.current_color)
                    Ellipse(pos=(centre - ring / 2, y - ring / 2), size=(ring, ring))
                    Color(*palette.HEADER)
                    inner = dot * 0.8
                    Ellipse(pos=(centre - inner / 2, y - inner / 2), size=(inner, inner))
                    Color(*self.current_color)
                    core = dot * 0.5
                    Ellipse(pos=(centre - core / 2, y - core / 2), size=(core, core))
                elif state == "done":
                    Color(*self.done_color)
                    Ellipse(pos=(centre - dot / 2, y - dot / 2), size=(dot, dot))
                else:
                    Color(*palette.HEADER)
                    Ellipse(pos=(centre - dot / 2, y - dot / 2), size=(dot, dot))
                    Color(*self.todo_color)
                    Line(circle=(centre, y, dot / 2), width=max(1.0, dot / 10))


class ApplyToolbar(BoxLayout):  # type: ignore[misc]
    """Help, language and large text, sized down to sit beside the applicant in the header.

    Hidden until a shell is connected: a button with no label and nowhere to send its touch would
    only puzzle the citizen (and the screen tests run the steps without a shell).
    """

    view = ObjectProperty(ToolbarView(), rebind=True)
    shell = ObjectProperty(None, allownone=True)

    def press_help(self) -> None:
        self._ask("open_help")

    def press_language(self) -> None:
        self._ask("toggle_language")

    def press_large_text(self) -> None:
        self._ask("toggle_large_text")

    def _ask(self, intent: str) -> None:
        shell: ShellIntents | None = self.shell
        if shell is None:
            _log.warning("%s touched before the shell was connected: dropped", intent)
            return
        getattr(shell, intent)()


class ApplyHeader(BoxLayout):  # type: ignore[misc]
    """Title, progress, the masked applicant, and the buttons that are always in one place."""

    send = ObjectProperty(drop_intent)
    title = StringProperty("")
    step_label = StringProperty("")
    applicant = StringProperty("")
    back_label = StringProperty("")
    cancel_label = StringProperty("")
    can_go_back = BooleanProperty(False)
    can_cancel = BooleanProperty(False)
    progress_states = ListProperty([])
    shell = ObjectProperty(None, allownone=True)
    toolbar = ObjectProperty(ToolbarView(), rebind=True)

    def connect_shell(self, shell: ShellIntents) -> None:
        self.shell = shell

    def show_toolbar(self, toolbar: ToolbarView) -> None:
        """The labels follow the session (language, large text), not the flow's view."""
        self.toolbar = toolbar

    def render(self, header: Header) -> None:
        self.title = header.title
        self.applicant = header.applicant
        self.back_label = header.back_label
        self.cancel_label = header.cancel_label
        self.can_go_back = header.can_go_back
        self.can_cancel = header.can_cancel
        self.progress_states = [step.state for step in header.progress]
        current = [step.label for step in header.progress if step.state == "current"]
        # The title usually names the step already; repeat the label only when it adds something.
        label = current[0] if current else ""
        self.step_label = "" if label == header.title else label

    def press_back(self) -> None:
        if self.can_go_back:
            self.send(Back())

    def press_cancel(self) -> None:
        if self.can_cancel:
            self.send(Cancel())


class NoticeMark(Label):  # type: ignore[misc]
    """The round "i" or "!" at the start of a notice, in the notice's accent colour."""

    accent = ColorProperty(NOTICE_ACCENT["info"])


class NoticeBanner(BoxLayout):  # type: ignore[misc]
    """A plain sentence about a fault or a reminder; takes no room at all when there is none."""

    shown = BooleanProperty(False)
    text = StringProperty("")
    mark = StringProperty("i")
    fill = ColorProperty(NOTICE_FILL["info"])
    accent = ColorProperty(NOTICE_ACCENT["info"])

    def render(self, notice: Notice | None) -> None:
        if notice is None:
            self.shown = False
            self.text = ""
            return
        self.text = notice.text
        self.mark = NOTICE_MARK[notice.severity]
        self.fill = NOTICE_FILL[notice.severity]
        self.accent = NOTICE_ACCENT[notice.severity]
        self.shown = True


class CountdownBar(BoxLayout):  # type: ignore[misc]
    """The warning before a timeout, with the "I need more time" button.

    The bar drains from the first number seen in this warning, so the citizen sees time running
    out even though the flow sends only the seconds left.
    """

    send = ObjectProperty(drop_intent)
    shown = BooleanProperty(False)
    text = StringProperty("")
    extend_label = StringProperty("")
    can_extend = BooleanProperty(False)
    fraction_left = NumericProperty(1.0)
    _started_from = NumericProperty(0)

    def render(self, countdown: Countdown | None) -> None:
        if countdown is None:
            self.shown = False
            self._started_from = 0
            return
        if not self.shown or countdown.seconds_left > self._started_from:
            self._started_from = max(1, countdown.seconds_left)
        self.text = countdown.text
        self.extend_label = countdown.extend_label
        self.can_extend = countdown.can_extend
        self.fraction_left = max(0.0, min(1.0, countdown.seconds_left / self._started_from))
        self.shown = True

    def press_extend(self) -> None:
        if self.shown and self.can_extend:
            self.send(ExtendTime())


class ApplyAlert(ModalView):  # type: ignore[misc]
    """A flow-wide warning on top of the step ("put your card back", "12 s left").

    Modal on purpose: while the flow is about to time out, the only useful touch is the one that
    answers the warning, and a citizen should not start typing into a form that is about to go.
    """

    send = ObjectProperty(drop_intent)

    @property
    def wanted(self) -> bool:
        return bool(self.ids.notice.shown or self.ids.countdown.shown)

    def render(self, overlay: Notice | None, countdown: Countdown | None) -> None:
        self.ids.notice.render(overlay)
        self.ids.countdown.render(countdown)

    def on_send(self, _instance: object, send: SendIntent) -> None:
        self.ids.countdown.send = send
