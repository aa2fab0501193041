"""The one way events reach the screen: posted from any thread, handled on the UI thread.

Services and drivers publish through `EventSink` (see health.py) without knowing Kivy; the UI side
subscribes by event type. screens/clock_bridge.py implements this port on the Kivy clock, and tests
can use any object with the same two methods.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from .health import EventSink

EventT = TypeVar("EventT")


class UiEventBridge(EventSink, Protocol):
    def post(self, event: object) -> None:
        """Safe from any thread; returns at once, the handlers run later on the UI thread."""

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Safe from any thread: run `fn` on the UI thread soon (results of background work)."""

    def subscribe(self, event_type: type[EventT], handler: Callable[[EventT], None]) -> None:
        """`handler` runs on the UI thread for every posted event of exactly `event_type`."""
