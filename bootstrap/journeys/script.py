"""What a journey is: named steps, each an optional world action, touches, and a condition.

A step may act on the world first (a card laid on the reader, a page under the camera, a door
closed by hand) through the firmware stubs' control server — the way hardware and a citizen
would, never by calling the app — then touch widgets, then wait for its condition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from firmware_stubs.control import DEFAULT_CONTROL_PORT, send_control
from kiosk.config import IdleSettings, Settings

if TYPE_CHECKING:
    from kivy.uix.widget import Widget

    from screens.app import KioskApp

Condition = Callable[["KioskApp"], bool]
Finder = Callable[["KioskApp"], "Widget | None"]


class JourneyWorldError(Exception):
    """A stub refused a world action or could not be reached; the journey cannot go on."""


@dataclass(frozen=True)
class Touch:
    """A widget found by code rather than by kv ids: a list row, a keypad key.

    `label` is what journey.json records, e.g. "choose/row[ss-unemployment-benefit]".
    """

    label: str
    find: Finder


Target = str | Touch  # a str is a widget path for KioskApp.widget_at


class StubWorld:
    """The world outside the screen, reached through the stubs' loopback control server."""

    def __init__(self, port: int = DEFAULT_CONTROL_PORT) -> None:
        self.port = port
        self.out_dir: Path | None = (
            None  # where the journey leaves its pictures (set by the runner)
        )
        self.log: list[dict[str, Any]] = []  # every action, for journey.json

    def act(self, stub: str, cmd: str, **args: Any) -> dict[str, Any]:
        try:
            reply = send_control(stub, cmd, port=self.port, **args)
        except OSError as err:
            raise JourneyWorldError(
                f"the stub control server on 127.0.0.1:{self.port} did not answer"
                f" ({err}); are the firmware stubs running?"
            ) from err
        self.log.append({"stub": stub, "cmd": cmd, "args": args, "ok": bool(reply.get("ok"))})
        if not reply.get("ok"):
            raise JourneyWorldError(f"{stub} refused {cmd}: {reply.get('error', reply)}")
        return reply


Action = Callable[["KioskApp", StubWorld], object]  # what it returns is ignored


@dataclass(frozen=True)
class Step:
    name: str
    shot: str  # screenshot file name without .png, e.g. "02-attract-en"
    expect: str  # the condition in words, for journey.json and failure messages
    until: Condition
    touch: Target | None = None  # e.g. "attract/toolbar/help_button"
    timeout_s: float = 5.0
    touches: tuple[Target, ...] = ()  # after `touch`, one finger press each, in order
    act: Action | None = None  # performed before the touches
    act_says: str = ""  # the action in words, for journey.json
    explain: Callable[[], str] | None = None  # why the condition is not true yet, on failure

    @property
    def all_touches(self) -> tuple[Target, ...]:
        return ((self.touch,) if self.touch is not None else ()) + self.touches


@dataclass(frozen=True)
class Journey:
    name: str
    description: str
    steps: tuple[Step, ...]
    idle: IdleSettings | None = None  # a journey may shorten (or lengthen) the idle timeouts
    # Sets the stage once the world (stubs, hall) runs and before the app starts: e.g. a result
    # loaded by a courier. It may use the terminal's data folder; the app opens it afterwards.
    prepare: Callable[[Settings, StubWorld], None] | None = None
    # ("hall", "tasks_poll_s", 1.0): a journey that cannot wait a minute for the next poll
    tuned: tuple[tuple[str, str, float], ...] = ()

    def adjust_settings(self, settings: Settings) -> Settings:
        if self.idle is not None:
            settings = settings.model_copy(update={"idle": self.idle})
        for section, key, value in self.tuned:
            part = getattr(settings, section).model_copy(update={key: value})
            settings = settings.model_copy(update={section: part})
        return settings

    def settings_overrides(self) -> dict[str, float]:
        found = {f"{section}.{key}": value for section, key, value in self.tuned}
        if self.idle is None:
            return found
        return {
            "idle.warn_after_s": self.idle.warn_after_s,
            "idle.countdown_s": self.idle.countdown_s,
            **found,
        }
