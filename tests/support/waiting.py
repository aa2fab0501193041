"""Waiting in tests for what another thread or process does: a condition polled to a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """True as soon as `condition()` holds; False if it still does not after `timeout` seconds
    (the caller asserts, so the failure names what was awaited)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()
