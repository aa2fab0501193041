"""When an unattended session must end.

A citizen who walks away leaves their name, ID number and application on the screen. The timer
warns after `warn_after_s` without a touch, counts down `countdown_s`, then reports expiry once so
the caller can clear everything. It is pure: the caller passes the time (monotonic seconds), so
tests drive it with plain numbers and the UI drives it from a Clock tick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class IdleResting:
    """Nothing to protect: no touch since start-up or since the last clear-down."""


@dataclass(frozen=True)
class IdleActive:
    """Someone touched the screen recently."""


@dataclass(frozen=True)
class IdleWarning:
    """The countdown is running; `seconds_left` is what the citizen sees (rounded up, never 0)."""

    seconds_left: int


@dataclass(frozen=True)
class IdleExpired:
    """Reported by exactly one tick; the timer rests afterwards until the next touch."""


IdleStatus = IdleResting | IdleActive | IdleWarning | IdleExpired


class IdleTimer:
    def __init__(self, warn_after_s: float, countdown_s: float) -> None:
        if warn_after_s <= 0 or countdown_s <= 0:
            raise ValueError("idle warn_after_s and countdown_s must both be positive")
        self.warn_after_s = warn_after_s
        self.countdown_s = countdown_s
        self._last_touch: float | None = None

    def touch(self, now: float) -> None:
        """Any touch anywhere, including the warning's own Continue button, restarts the wait."""
        self._last_touch = now

    def rest(self) -> None:
        """Stop watching, e.g. once the session has been cleared by some other path."""
        self._last_touch = None

    def tick(self, now: float) -> IdleStatus:
        if self._last_touch is None:
            return IdleResting()
        quiet_for = now - self._last_touch
        if quiet_for < self.warn_after_s:
            return IdleActive()
        remaining = self.warn_after_s + self.countdown_s - quiet_for
        if remaining > 0:
            return IdleWarning(seconds_left=max(1, math.ceil(remaining)))
        self._last_touch = None
        return IdleExpired()
