"""Couriers sign in from the roster the terminal cached, with the service hall gone.

A real hall on loopback (service_hall.testing.running_hall) signs the roster; backend_client's
HallSync fetches it, verifies the Ed25519 signature and keeps it in the terminal's SQLite. Then
the hall stops, the terminal's database is closed and opened again (a reboot during the outage),
and the badge, the courier's own ID card and the village agent's PIN still work — checked
against the hall's scrypt PIN hashes in the cached roster, not against the hall.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backend_client.caches import SqliteCatalogCache, SqliteRosterCache, SqliteTaskFeed
from backend_client.client import HallClient
from backend_client.connectivity import ConnectivityMonitor
from backend_client.errors import HallUnreachable
from backend_client.sync import HallSync
from kiosk.courier.sign_in import CourierSignIn, PinWanted, SignedIn, WrongPin
from kiosk.front_door import id_number_sha256
from kiosk.outbox import Outbox
from kiosk.storage import AuditLog, Database
from service_hall.seed import COURIER_WANG_ID, DEMO_AGENT_CARD, DEMO_COURIER_CARD
from service_hall.testing import AGENT_PIN, COURIER_PIN, running_hall

KIOSK_ID = "demo-0001"  # the seeded kiosk the running hall's token belongs to


def sign_in_desk(database: Database) -> CourierSignIn:
    return CourierSignIn(
        database, AuditLog(database), SqliteRosterCache(database, kiosk_id=KIOSK_ID)
    )


@pytest.fixture
def cached_then_offline(tmp_path: Path) -> Path:
    """The terminal's database after one roster sync with a hall that is stopped since."""
    terminal = tmp_path / "terminal.sqlite3"
    hall_folder = tmp_path / "hall"
    hall_folder.mkdir()
    database = Database.open(terminal)
    try:
        with running_hall(hall_folder) as hall:
            url = hall.url
            events: list[object] = []
            with HallClient(hall.url, hall.token, timeout_s=10) as client:
                sync = HallSync(
                    client,
                    SqliteCatalogCache(database),
                    SqliteRosterCache(database, kiosk_id=KIOSK_ID),
                    SqliteTaskFeed(database),
                    ConnectivityMonitor(Outbox(database), events.append),
                    events.append,
                )
                sync.sync_roster()
        with HallClient(url, hall.token, timeout_s=2) as client, pytest.raises(HallUnreachable):
            client.roster()  # the hall is really gone
    finally:
        database.close()
    return terminal


def test_a_badge_and_its_pin_sign_in_with_the_hall_down_after_a_restart(
    cached_then_offline: Path,
) -> None:
    database = Database.open(cached_then_offline)  # the terminal restarted during the outage
    try:
        desk = sign_in_desk(database)
        asked = desk.look_up(DEMO_COURIER_CARD, "badge")
        assert isinstance(asked, PinWanted)
        assert asked.courier.name == "王师傅"
        assert desk.check_pin(DEMO_COURIER_CARD, "0000", "badge") == WrongPin(2)
        signed = desk.check_pin(DEMO_COURIER_CARD, COURIER_PIN, "badge")
        assert isinstance(signed, SignedIn)
        assert signed.courier.role == "courier"
        desk.end_session(signed.session_id, "signed out")
    finally:
        database.close()


def test_the_couriers_own_id_card_and_a_village_agent_work_offline_too(
    cached_then_offline: Path,
) -> None:
    database = Database.open(cached_then_offline)
    try:
        desk = sign_in_desk(database)
        card = desk.card_for_id_hash(id_number_sha256(COURIER_WANG_ID))
        assert card == DEMO_COURIER_CARD
        assert isinstance(desk.check_pin(card, COURIER_PIN, "id_card"), SignedIn)
        agent = desk.check_pin(DEMO_AGENT_CARD, AGENT_PIN, "badge")
        assert isinstance(agent, SignedIn)
        assert agent.courier.is_village_agent
    finally:
        database.close()
