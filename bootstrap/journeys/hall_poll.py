"""Waiting for the hall to show what a journey expects, without holding the UI thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .script import Step

if TYPE_CHECKING:
    from screens.app import KioskApp


class HallPoll:
    """Asks the hall, off the UI thread, until `check` holds (or `timeout_s` passes).

    `check` answers (holds, what the hall said); an error of one of `expected_errors` counts as
    "not yet" and its sentence becomes the last answer, which a failed step shows."""

    def __init__(
        self,
        describe: str,
        check: Callable[[], tuple[bool, str]],
        *,
        timeout_s: float,
        expected_errors: tuple[type[Exception], ...] = (),
    ) -> None:
        self.describe = describe
        self._check = check
        self._timeout_s = timeout_s
        self._expected_errors = expected_errors
        self._done = threading.Event()
        self.last_answer = "not asked yet"

    def step(self, name: str, shot: str, says: str) -> Step:
        """The journey step that starts this poll and waits for it; a failure shows what the
        hall last said."""
        return Step(
            name=name,
            shot=shot,
            expect=self.describe,
            act=lambda _app, _world: self.start(),
            act_says=says,
            until=self.satisfied,
            explain=lambda: self.last_answer,
            timeout_s=self._timeout_s,
        )

    def start(self) -> None:
        threading.Thread(target=self._poll, name="journey-hall-poll", daemon=True).start()

    def satisfied(self, _app: KioskApp) -> bool:
        return self._done.is_set()

    def _poll(self) -> None:
        deadline = time.monotonic() + self._timeout_s
        while time.monotonic() < deadline:
            try:
                holds, self.last_answer = self._check()
            except self._expected_errors as err:
                holds, self.last_answer = False, str(err)
            if holds:
                self._done.set()
                return
            self._done.wait(0.5)
