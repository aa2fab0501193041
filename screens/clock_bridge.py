"""Carries events from worker threads to the Kivy UI thread (implements kiosk.ports.ui_events).

Widgets may only be touched on the UI thread. Drivers and services call `post()` from their own
threads; the events wait in a thread-safe queue and one Clock trigger drains the queue on the next
frame, so a burst of events costs one wake-up, not one per event.
"""

from __future__ import annotations

import logging
import queue
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from kivy.clock import Clock

EventT = TypeVar("EventT")
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Call:
    run: Callable[[], None]


class ClockBridge:
    def __init__(self) -> None:
        self._pending: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._handlers: defaultdict[type, list[Callable[[Any], None]]] = defaultdict(list)
        self._handlers[_Call].append(lambda call: call.run())
        # Clock triggers are safe to call from any thread and coalesce until the next frame.
        self._wake = Clock.create_trigger(self._drain, 0)

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the UI thread on the next frame (a worker's result going back)."""
        self.post(_Call(fn))

    def post(self, event: object) -> None:
        self._pending.put(event)
        self._wake()

    __call__ = post  # so the bridge is also an `EventSink`

    def subscribe(self, event_type: type[EventT], handler: Callable[[EventT], None]) -> None:
        self._handlers[event_type].append(handler)

    def _drain(self, _dt: float) -> None:
        while True:
            try:
                event = self._pending.get_nowait()
            except queue.Empty:
                return
            handlers = self._handlers.get(type(event))
            if not handlers:
                _log.debug("no UI handler for %s", type(event).__name__)
                continue
            for handler in handlers:
                try:
                    handler(event)
                except Exception:  # noqa: BLE001 - one bad handler must not take the UI down
                    _log.exception("handling %s failed", type(event).__name__)
