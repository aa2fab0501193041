"""Connectivity health: one verdict on "can this terminal talk to the hall", from every caller.

The sender, the sync and the task poller all report what happened to their requests here; the
verdict combines the last answer with the outbox figures, and an event goes out only when the
state or the reason changes (not every time the outbox grows by one).

* ok — the last request was answered and nothing is stuck;
* degraded — the hall answers but with errors, or a message is parked, or the oldest message has
  waited longer than `stale_after_s` (the hall may be accepting nothing from us);
* offline — the last request got no answer at all (refused, reset, timed out);
* fault — the hall refused our token: sending is paused until a technician fixes it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from kiosk.outbox import Outbox
from kiosk.ports.hall import HallConnectivityChanged, HallHealth
from kiosk.ports.health import EventSink, HealthState

from .errors import HallAuthRejected, HallClientError, HallUnreachable


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _ignore(event: object) -> None:
    del event


class ConnectivityMonitor:
    def __init__(
        self,
        outbox: Outbox,
        events: EventSink = _ignore,
        *,
        stale_after_s: float = 600.0,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._outbox = outbox
        self._events = events
        self._stale_after_s = stale_after_s
        self._clock = clock
        self._lock = threading.Lock()
        self._state = HealthState.OFFLINE
        self._reason = "The terminal has not reached the service hall yet."
        self._last_contact: datetime | None = None
        self._published: tuple[HealthState, str] | None = None
        self.changed_at = time.monotonic()

    def answered(self) -> None:
        """A request got a successful answer."""
        with self._lock:
            self._state, self._reason = HealthState.OK, ""
            self._last_contact = self._clock()
        self.publish()

    def failed(self, error: HallClientError) -> None:
        with self._lock:
            if isinstance(error, HallAuthRejected):
                self._state = HealthState.FAULT
                self._last_contact = self._clock()
            elif isinstance(error, HallUnreachable):
                self._state = HealthState.OFFLINE
            else:
                self._state = HealthState.DEGRADED
                self._last_contact = self._clock()
            self._reason = str(error)
        self.publish()

    @property
    def auth_fault(self) -> bool:
        with self._lock:
            return self._state is HealthState.FAULT

    def health(self) -> HallHealth:
        stats = self._outbox.stats()
        with self._lock:
            state, reason, contact = self._state, self._reason, self._last_contact
        if state is HealthState.OK:
            if stats.parked:
                state = HealthState.DEGRADED
                reason = (
                    f"{stats.parked} message(s) for the hall were rejected and are parked; "
                    "a technician must look at them (kiosk outbox list)."
                )
            elif stats.oldest_age_s > self._stale_after_s:
                state = HealthState.DEGRADED
                reason = (
                    f"The oldest message for the hall has waited {stats.oldest_age_s / 60:.0f} "
                    "minutes although the hall answers; check the hall's logs."
                )
        return HallHealth(
            state=state,
            reason=reason,
            outbox_size=stats.size,
            outbox_parked=stats.parked,
            outbox_oldest_age_s=stats.oldest_age_s,
            last_contact=contact,
        )

    def publish(self) -> HallHealth:
        """Recompute; send `HallConnectivityChanged` if state or reason changed."""
        current = self.health()
        key = (current.state, current.reason)
        with self._lock:
            if key == self._published:
                return current
            self._published = key
            self.changed_at = time.monotonic()
        self._events(HallConnectivityChanged(current))
        return current
