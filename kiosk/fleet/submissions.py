"""How many applications were submitted at this terminal today, for the console's chart.

The technician reads the figure as "is this terminal being used": a terminal whose devices all say
ok but that took no application all day is worth a look. "Today" is the terminal's local calendar
day, because that is the day the service point and its staff count in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

from kiosk.storage import Database


def _utc_now() -> datetime:
    return datetime.now(UTC)


def local_midnight(now: datetime, zone: tzinfo | None = None) -> datetime:
    """The start of `now`'s calendar day in `zone` (None: the machine's time zone).

    Built from the calendar date rather than by zeroing the clock fields, so a day that began
    with a daylight-saving shift still starts at its real midnight.
    """
    if zone is None:
        local = now.astimezone()
        return datetime(local.year, local.month, local.day).astimezone()
    local = now.astimezone(zone)
    return datetime(local.year, local.month, local.day, tzinfo=zone)


class SubmissionsToday:
    """Counts the rows of the submissions table (migration 0006) since local midnight."""

    def __init__(
        self,
        database: Database,
        clock: Callable[[], datetime] = _utc_now,
        zone: tzinfo | None = None,
    ) -> None:
        self._database = database
        self._clock = clock
        self._zone = zone

    def count(self) -> int:
        since = local_midnight(self._clock(), self._zone)
        since_ms = int(since.timestamp() * 1000)
        with self._database.snapshot() as reader:
            value = reader.fetch_value(
                "SELECT COUNT(*) FROM submissions WHERE submitted_at_ms >= ?", (since_ms,)
            )
        return value if isinstance(value, int) else 0
