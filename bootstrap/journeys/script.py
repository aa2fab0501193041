"""What a journey is: named steps, each an optional touch and a condition to wait for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.config import IdleSettings, Settings

if TYPE_CHECKING:
    from screens.app import KioskApp

Condition = Callable[["KioskApp"], bool]


@dataclass(frozen=True)
class Step:
    name: str
    shot: str  # screenshot file name without .png, e.g. "02-attract-en"
    expect: str  # the condition in words, for journey.json and failure messages
    until: Condition
    touch: str | None = (
        None  # widget path for KioskApp.widget_at, e.g. "attract/toolbar/help_button"
    )
    timeout_s: float = 5.0


@dataclass(frozen=True)
class Journey:
    name: str
    description: str
    steps: tuple[Step, ...]
    idle: IdleSettings | None = None  # a journey may shorten the idle timeouts for itself

    def adjust_settings(self, settings: Settings) -> Settings:
        if self.idle is None:
            return settings
        return settings.model_copy(update={"idle": self.idle})

    def settings_overrides(self) -> dict[str, float]:
        if self.idle is None:
            return {}
        return {
            "idle.warn_after_s": self.idle.warn_after_s,
            "idle.countdown_s": self.idle.countdown_s,
        }
