"""Sending queued SMS outside the requests that queued them.

A kiosk's request records its SMS in the same transaction as the change it reports (so a
message exists exactly when the change does) and returns at once; this thread hands the queue
to the pluggable sender afterwards. A slow or broken SMS gateway therefore never slows the
kiosks down or fails their requests, and messages the gateway refused are tried again every
`retry_s` until it takes them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class SmsDispatcher:
    """Runs `dispatch()` (which sends up to one page of the queue) whenever woken."""

    def __init__(self, dispatch: Callable[[], int], *, retry_s: float = 30.0) -> None:
        self._dispatch = dispatch
        self._retry_s = retry_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """Something was queued and committed; the thread starts on the first call."""
        with self._lock:
            if self._stopping.is_set():
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="hall-sms-dispatch", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        with self._lock:
            self._stopping.set()
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self._retry_s)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                while self._dispatch() > 0 and not self._stopping.is_set():
                    pass  # a full page went out: there may be more queued behind it
            except Exception:  # the thread must outlive any failure; the log keeps it
                logger.exception("sending queued SMS failed; trying again in %s s", self._retry_s)
