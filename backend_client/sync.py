"""Keeping the local caches fresh: catalog (only changes), signed roster, and the task list.

`HallSync` does one pass of each on demand (start-up, a technician's "sync now", tests);
`HallPoller` runs them on their own intervals in one background thread. Any failure leaves the
cached copy in place and is reported to the connectivity monitor: the terminal keeps serving
from what it has.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from kiosk.ports.hall import CatalogUpdated, HallTasks, HallTasksChanged, RosterUpdated
from kiosk.ports.health import EventSink

from .caches import SqliteCatalogCache, SqliteRosterCache, SqliteTaskFeed
from .client import HallClient
from .connectivity import ConnectivityMonitor
from .errors import HallClientError, RosterNotTrusted

logger = logging.getLogger(__name__)
T = TypeVar("T")


def _ignore(event: object) -> None:
    del event


@dataclass(frozen=True)
class PollIntervals:
    tasks_s: float = 60.0
    catalog_s: float = 3600.0
    roster_s: float = 900.0


class HallSync:
    def __init__(
        self,
        client: HallClient,
        catalog: SqliteCatalogCache,
        roster: SqliteRosterCache,
        tasks: SqliteTaskFeed,
        monitor: ConnectivityMonitor,
        events: EventSink = _ignore,
    ) -> None:
        self._client = client
        self._catalog = catalog
        self._roster = roster
        self._tasks = tasks
        self._monitor = monitor
        self._events = events

    def sync_catalog(self) -> int:
        """Fetch what changed since the cached version; a hall that went back (restored from a
        backup, or a new hall) gets a full reload."""
        held = self._catalog.version()
        answer = self._call(lambda: self._client.catalog(held))
        if int(answer.get("version", 0)) < held:
            answer = self._call(lambda: self._client.catalog(0))
        version = self._catalog.apply(answer)
        if version != held:
            self._events(CatalogUpdated(version))
        return version

    def sync_roster(self) -> None:
        if not self._roster.hall_key():
            key = self._call(self._client.public_key)
            self._roster.pin_hall_key(str(key.get("public_key_b64", "")))
        answer = self._call(self._client.roster)
        held = self._roster.current()
        roster = self._roster.store(answer)
        if held is None or held.version != roster.version:
            self._events(RosterUpdated(roster.version, len(roster.couriers)))

    def poll_tasks(self) -> HallTasks:
        answer = self._call(self._client.tasks)
        tasks, changed = self._tasks.store(answer)
        if changed:
            self._events(HallTasksChanged(tasks))
        return tasks

    def _call(self, request: Callable[[], T]) -> T:
        try:
            answer = request()
        except HallClientError as err:
            self._monitor.failed(err)
            raise
        self._monitor.answered()
        return answer


class HallPoller:
    """One thread: tasks every `tasks_s`, roster every `roster_s`, catalog every `catalog_s`."""

    def __init__(
        self, sync: HallSync, intervals: PollIntervals | None = None, *, name: str = "hall-poller"
    ) -> None:
        self._sync = sync
        self._intervals = intervals or PollIntervals()
        self._stopping = threading.Event()
        self._now = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> HallPoller:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stopping.set()
        self._now.set()
        self._thread.join(timeout_s)

    def poll_now(self) -> None:
        self._now.set()

    def _run(self) -> None:
        jobs: list[tuple[float, Callable[[], object]]] = [
            (self._intervals.catalog_s, self._sync.sync_catalog),
            (self._intervals.roster_s, self._sync.sync_roster),
            (self._intervals.tasks_s, self._sync.poll_tasks),
        ]
        due = [0.0 for _ in jobs]
        while not self._stopping.is_set():
            forced = self._now.is_set()
            self._now.clear()
            now = time.monotonic()
            for index, (interval, job) in enumerate(jobs):
                if forced or now >= due[index]:
                    due[index] = now + interval
                    try:
                        job()
                    except RosterNotTrusted as err:
                        logger.error("courier roster not accepted: %s", err)
                    except HallClientError as err:
                        logger.info("hall sync postponed: %s", err)
                    except Exception:  # the thread must outlive any bug; the log keeps it
                        logger.exception("hall sync failed")
            self._now.wait(max(0.05, min(due) - time.monotonic()))
