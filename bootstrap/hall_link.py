"""The terminal's link to the service hall, built from the settings: part of the composition root.

The outbox lives in the terminal's database; the sender and the poller are threads that talk to the
hall with httpx. They start after the app's first frame and stop before the database closes, so the
attract screen never waits for the network.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend_client.caches import SqliteCatalogCache, SqliteRosterCache, SqliteTaskFeed
from backend_client.client import HallClient
from backend_client.connectivity import ConnectivityMonitor
from backend_client.sender import OutboxSender, SenderSettings
from backend_client.sync import HallPoller, HallSync, PollIntervals
from kiosk.config import Settings
from kiosk.outbox import Outbox
from kiosk.ports.health import EventSink
from kiosk.storage import Database


@dataclass
class HallLink:
    outbox: Outbox
    monitor: ConnectivityMonitor
    catalog: SqliteCatalogCache
    roster: SqliteRosterCache
    tasks: SqliteTaskFeed
    sender: OutboxSender
    poller: HallPoller
    client: HallClient  # for the flow's direct questions (e-licence lookup, payment order)

    def start(self) -> None:
        self.sender.start()
        self.poller.start()

    def stop(self) -> None:
        self.poller.stop()
        self.sender.stop()
        self.client.close()


def build_hall_link(settings: Settings, database: Database, events: EventSink) -> HallLink:
    hall = settings.hall

    def new_client() -> HallClient:
        return HallClient(hall.url, hall.token, timeout_s=hall.timeout_s)

    outbox = Outbox(database)
    monitor = ConnectivityMonitor(outbox, events, stale_after_s=hall.stale_after_s)
    catalog = SqliteCatalogCache(database)
    roster = SqliteRosterCache(
        database, pinned_public_key_b64=hall.public_key, kiosk_id=settings.terminal.id
    )
    tasks = SqliteTaskFeed(database)
    sender = OutboxSender(
        outbox,
        new_client,
        monitor,
        events=events,
        settings=SenderSettings(max_ecopy_bytes=hall.max_ecopy_bytes),
    )
    poller = HallPoller(
        HallSync(new_client(), catalog, roster, tasks, monitor, events),
        PollIntervals(
            tasks_s=hall.tasks_poll_s, catalog_s=hall.catalog_sync_s, roster_s=hall.roster_sync_s
        ),
    )
    return HallLink(outbox, monitor, catalog, roster, tasks, sender, poller, new_client())
