"""The last log lines in memory, for the `logs` command: a technician asks what just happened.

A ring (not a file read) so the answer is instant and bounded, and works on a read-only disk.
`forward` hands records at or above a level to the fleet link for `$log/<level>`; a thread-local
guard stops the link's own logging from feeding itself.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence

_guard = threading.local()


class RingLogHandler(logging.Handler):
    def __init__(
        self,
        capacity: int = 2000,
        *,
        forward: Callable[[logging.LogRecord], None] | None = None,
        forward_level: int = logging.WARNING,
    ) -> None:
        super().__init__()
        self._lines: deque[str] = deque(maxlen=capacity)
        self._lines_lock = threading.Lock()
        self._forward = forward
        self._forward_level = forward_level
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def set_forward(self, forward: Callable[[logging.LogRecord], None] | None, level: int) -> None:
        self._forward = forward
        self._forward_level = level

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        with self._lines_lock:
            self._lines.append(line)
        forward = self._forward
        if forward is None or record.levelno < self._forward_level:
            return
        if getattr(_guard, "busy", False):
            return
        _guard.busy = True
        try:
            forward(record)
        finally:
            _guard.busy = False

    def last_lines(self, count: int) -> Sequence[str]:
        with self._lines_lock:
            lines = list(self._lines)
        return lines[-count:] if count > 0 else []
