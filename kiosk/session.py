"""The citizen's session: everything that must go when they walk away.

Language, large text and (in later journeys) the data read from their card live here and nowhere
else, so `clear_down()` can guarantee the next person starts from the terminal's defaults and sees
nothing of the previous one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kiosk.config import Language
from kiosk.i18n import other_language

from .idle import IdleExpired, IdleStatus, IdleTimer


@dataclass(frozen=True)
class SessionSnapshot:
    language: Language
    large_text: bool
    holds_personal_data: bool

    @property
    def is_pristine(self) -> bool:
        return not self.large_text and not self.holds_personal_data


SessionListener = Callable[[SessionSnapshot], None]


class CitizenSession:
    def __init__(self, default_language: Language = "zh-CN") -> None:
        self.default_language: Language = default_language
        self.language: Language = default_language
        self.large_text = False
        # Card data and form answers of the journeys to come; memory only, never written to disk.
        self.personal_data: dict[str, str] = {}
        self._listeners: list[SessionListener] = []

    def subscribe(self, listener: SessionListener) -> None:
        self._listeners.append(listener)

    def snapshot(self) -> SessionSnapshot:
        return SessionSnapshot(
            language=self.language,
            large_text=self.large_text,
            holds_personal_data=bool(self.personal_data),
        )

    def switch_language(self, language: Language) -> None:
        self.language = language
        self._changed()

    def toggle_language(self) -> None:
        self.switch_language(other_language(self.language))

    def set_large_text(self, enabled: bool) -> None:
        self.large_text = enabled
        self._changed()

    def toggle_large_text(self) -> None:
        self.set_large_text(not self.large_text)

    def remember(self, key: str, value: str) -> None:
        self.personal_data[key] = value
        self._changed()

    def clear_down(self) -> None:
        """Back to the terminal's defaults; personal data is dropped, not just hidden."""
        self.personal_data.clear()
        self.language = self.default_language
        self.large_text = False
        self._changed()

    def _changed(self) -> None:
        snapshot = self.snapshot()
        for listener in list(self._listeners):
            listener(snapshot)


class SessionGuard:
    """Joins the session to the idle timer so that expiry always means a full clear-down."""

    def __init__(self, session: CitizenSession, timer: IdleTimer) -> None:
        self.session = session
        self.timer = timer

    def touched(self, now: float) -> None:
        self.timer.touch(now)

    def tick(self, now: float) -> IdleStatus:
        status = self.timer.tick(now)
        if isinstance(status, IdleExpired):
            self.session.clear_down()
        return status
