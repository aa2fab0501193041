"""What the three journey runtimes (apply, pickup, courier) share about threads.

A runtime lives on the UI thread. Slow effects (SQLite, a lock board, the hall) run as jobs on a
worker; each job's outcome is posted back to the UI thread, where the runtime drops it if the
journey it belongs to has ended since (the runtime's own generation check, in `settle`). Quick
effects run inline through `guarded`, so a failing speaker or callback never stops a journey.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from kiosk.config import Language


class Worker(Protocol):
    """Runs jobs off the UI thread, in the order given (a one-thread ThreadPoolExecutor)."""

    def submit(self, fn: Callable[[], None], /) -> object: ...


Post = Callable[[Callable[[], None]], None]  # run a callable on the UI thread, soon


class Voice(Protocol):
    """`kiosk.ports.voice.VoicePrompter`."""

    def speak(self, key: str, text: str, language: Language) -> None: ...

    def stop(self) -> None: ...


def guarded(log: logging.Logger, doing: str, action: Callable[[], None]) -> None:
    """Run an inline effect on the UI thread; what it raises is logged, never passed on."""
    try:
        action()
    except Exception:  # on the UI thread: log it and go on
        log.exception("failed while %s", doing)


def run_job(
    worker: Worker,
    post: Post,
    *,
    name: str,
    perform: Callable[[], object],
    failure: Callable[[Exception], object],
    settle: Callable[[object], None],
    log: logging.Logger,
) -> None:
    """`perform` on the worker; its outcome (or `failure(error)` if it raised) goes to `settle`
    on the UI thread. No service error reaches the UI thread; a stopped worker or a UI that is
    gone is logged: the terminal is shutting down."""

    def job() -> None:
        try:
            outcome = perform()
        except Exception as err:  # no service error may reach the UI thread
            log.warning("%s failed: %s", name, err, exc_info=True)
            outcome = failure(err)
        try:
            post(lambda: settle(outcome))
        except Exception:  # the UI is gone (shutting down): nothing to tell
            log.exception("could not post the outcome of %s", name)

    try:
        worker.submit(job)
    except RuntimeError as err:  # the executor was shut down: the terminal is stopping
        log.warning("%s not performed: %s", name, err)


__all__ = ["Post", "Voice", "Worker", "guarded", "run_job"]
