"""E-supervision colours of the staff queue, computed from the promised working days.

Pure functions of (submitted time, promised days, now): the clock is passed in, so the colours can
be tested for any day of the week without waiting.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

YELLOW_FRACTION = 0.8


class Supervision(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    DONE = "done"


def add_working_days(start: datetime, days: int) -> datetime:
    """Count only Monday to Friday; an item promised in 0 days is due by the next working day."""
    remaining = max(days, 1)
    moment = start
    while remaining > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            remaining -= 1
    return moment


def supervision_colour(
    submitted_at: datetime, due_at: datetime, now: datetime, *, finished: bool = False
) -> Supervision:
    if finished:
        return Supervision.DONE
    if now > due_at:
        return Supervision.RED
    allowed = (due_at - submitted_at).total_seconds()
    used = (now - submitted_at).total_seconds()
    if allowed <= 0 or used >= YELLOW_FRACTION * allowed:
        return Supervision.YELLOW
    return Supervision.GREEN
