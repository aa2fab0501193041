"""backend_client against the real service hall (`kiosk hall serve` in a subprocess on loopback).

Faults are real too: a proxy in front of the hall answers 500, cuts requests, loses answers the
hall already acted on, or holds them past the client's timeout; the hall itself is SIGKILLed in
the middle of an upload and restarted on the same database. What the hall holds is checked in its
own SQLite file, so "exactly once" is counted where it matters.
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from backend_client.caches import SqliteCatalogCache, SqliteRosterCache, SqliteTaskFeed
from backend_client.client import HallClient
from backend_client.connectivity import ConnectivityMonitor
from backend_client.errors import HallUnreachable, RosterNotTrusted
from backend_client.sender import OutboxSender, SenderSettings
from backend_client.sync import HallSync
from backend_client.testing import Fault, FaultProxy, HallProcess, add_kiosk, seed_hall
from kiosk.outbox import Outbox
from kiosk.ports.hall import (
    HallConnectivityChanged,
    OutboxParked,
    SubmissionAcknowledged,
)
from kiosk.ports.health import HealthState
from kiosk.storage import Database

pytestmark = pytest.mark.timeout(120)

CITIZEN = "430821198503120023"  # the seeded hall's sample citizen (valid check character)
FAST = SenderSettings(
    batch_size=32,
    concurrency=4,
    backoff_base_s=0.02,
    backoff_cap_s=0.25,
    auth_retry_s=0.2,
    idle_check_s=0.2,
)


def birth_registration(child: str = "王小明") -> dict[str, Any]:
    return {
        "item_ids": ["hh-birth-registration"],
        "applicant": {"id_number": CITIZEN, "name": "张秀英", "phone": "13800138000"},
        "forms": {
            "hh-birth-registration": {
                "child_name": child,
                "child_birth_date": "2025-03-01",
                "child_sex": "male",
                "register_with": "mother",
            }
        },
    }


def wait_until(condition: Callable[[], bool], timeout_s: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.02)


@dataclass
class Hall:
    db_path: Path
    token: str
    process: HallProcess

    def rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db_path, timeout=30) as connection:
            return connection.execute(sql, params).fetchall()

    def submissions_with_key(self, key: str) -> list[tuple[Any, ...]]:
        return self.rows("SELECT id, status FROM submissions WHERE idempotency_key = ?", (key,))


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Seeding costs a process start; copy the seeded file for each hall that needs its own."""
    folder = tmp_path_factory.mktemp("hall-template")
    token = seed_hall(folder / "hall.db")
    return folder / "hall.db", token


@pytest.fixture(scope="module")
def hall(seeded_db: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hall]:
    folder = tmp_path_factory.mktemp("hall")
    db_path = folder / "hall.db"
    db_path.write_bytes(seeded_db[0].read_bytes())
    process = HallProcess(db_path).start()
    try:
        yield Hall(db_path, seeded_db[1], process)
    finally:
        process.stop()


@dataclass
class Terminal:
    """One kiosk's side: its database, outbox, monitor and sender, talking through a proxy."""

    database: Database
    outbox: Outbox
    monitor: ConnectivityMonitor
    sender: OutboxSender
    proxy: FaultProxy
    folder: Path
    events: list[object] = field(default_factory=list)

    def of_type(self, kind: type) -> list[Any]:
        return [event for event in list(self.events) if isinstance(event, kind)]

    def ecopy(self, name: str, size: int = 20_000) -> tuple[str, str]:
        """A JPEG-looking file written and flushed the way the camera workflow must do it."""
        data = b"\xff\xd8\xff\xe0" + os.urandom(size)
        path = self.folder / f"{name}.jpg"
        with open(path, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        return str(path), hashlib.sha256(data).hexdigest()

    def drained(self) -> bool:
        stats = self.outbox.stats()
        return stats.size == stats.parked


@pytest.fixture
def make_terminal(tmp_path: Path) -> Iterator[Callable[..., Terminal]]:
    made: list[Terminal] = []

    def make(
        upstream: str,
        token: str,
        *,
        choose: Callable[[int, str, str], Fault] | None = None,
        timeout_s: float = 5.0,
        slow_s: float = 2.0,
        start: bool = True,
    ) -> Terminal:
        folder = tmp_path / f"terminal-{len(made)}"
        folder.mkdir()
        database = Database.open(folder / "terminal.sqlite3")
        outbox = Outbox(database)
        events: list[object] = []
        monitor = ConnectivityMonitor(outbox, events.append)
        proxy = FaultProxy(upstream, slow_s=slow_s).start()
        if choose is not None:
            proxy.choose = choose
        sender = OutboxSender(
            outbox,
            lambda: HallClient(proxy.url, token, timeout_s=timeout_s),
            monitor,
            events=events.append,
            settings=FAST,
        )
        terminal = Terminal(database, outbox, monitor, sender, proxy, folder, events)
        made.append(terminal)
        if start:
            sender.start()
        return terminal

    yield make
    for terminal in made:
        terminal.sender.stop()
        terminal.proxy.stop()
        terminal.database.close()


def test_a_submission_its_ecopy_and_its_event_reach_the_hall_in_order(
    hall: Hall, make_terminal: Callable[..., Terminal]
) -> None:
    terminal = make_terminal(hall.process.url, hall.token, start=False)
    path, digest = terminal.ecopy("birth-proof")
    reference = uuid.uuid4().hex
    with terminal.database.transaction():
        key = terminal.outbox.enqueue_submission(reference, birth_registration())
        terminal.outbox.enqueue_ecopy(
            reference,
            path,
            material_code="id-card",
            content_type="image/jpeg",
            sha256=digest,
        )
        terminal.outbox.enqueue_event(
            {"type": "deposited", "occurred_at": "2025-03-01T08:00:00Z", "compartment": "A-07"},
            submission_reference=reference,
        )
    terminal.sender.start()
    wait_until(terminal.drained, what="the outbox to drain")

    [(hall_id, status)] = hall.submissions_with_key(key)
    assert status == "deposited"
    [(sha, data)] = hall.rows(
        "SELECT sha256, data FROM ecopies WHERE submission_id = ?", (hall_id,)
    )
    assert sha == digest == hashlib.sha256(data).hexdigest()
    # Files go right after the acknowledgement's commit, which is what `drained` sees first.
    wait_until(lambda: not os.path.exists(path), what="the acknowledged e-copy to be deleted")
    [ack] = terminal.of_type(SubmissionAcknowledged)
    assert (ack.reference, ack.hall_id) == (reference, hall_id)
    assert terminal.outbox.hall_id_for(reference) == hall_id
    wait_until(lambda: terminal.monitor.health().state is HealthState.OK, what="health ok")


def test_an_invalid_request_is_parked_with_an_alert_and_the_rest_is_delivered(
    hall: Hall, make_terminal: Callable[..., Terminal]
) -> None:
    terminal = make_terminal(hall.process.url, hall.token)
    wrong = birth_registration()
    wrong["item_ids"] = ["no-such-item"]
    wrong["forms"] = {}
    bad_ref, good_ref = uuid.uuid4().hex, uuid.uuid4().hex
    with terminal.database.transaction():
        bad = terminal.outbox.enqueue_submission(bad_ref, wrong)
        blocked = terminal.outbox.enqueue_event(
            {"type": "deposited", "occurred_at": "2025-03-01T08:00:00Z"},
            submission_reference=bad_ref,
        )
        good = terminal.outbox.enqueue_submission(good_ref, birth_registration())
        illegal = terminal.outbox.enqueue_event(
            {"type": "picked_up", "occurred_at": "2025-03-01T08:00:00Z"},
            submission_reference=good_ref,
        )
    wait_until(lambda: len(terminal.of_type(OutboxParked)) == 2, what="the parked alerts")

    alert, refused = sorted(terminal.of_type(OutboxParked), key=lambda a: a.key != bad)
    assert alert.key == bad
    assert "no-such-item" in alert.reason
    parked = terminal.outbox.get(bad)
    assert parked is not None
    assert parked.parked_reason == alert.reason
    assert terminal.outbox.get(blocked) is not None, "what follows a parked message waits"
    assert len(hall.submissions_with_key(good)) == 1
    assert hall.submissions_with_key(bad) == []
    assert refused.key == illegal  # recorded as refused by the hall: resending cannot help
    assert "rejected" in refused.reason
    health = terminal.monitor.health()
    assert (health.state, health.outbox_parked, health.outbox_size) == (
        HealthState.DEGRADED,
        2,
        3,
    )
    attempts = parked.attempts
    terminal.sender.wake()
    wait_until(lambda: terminal.sender.deliver_round().wait_s > 0, what="an idle round")
    assert terminal.outbox.get(bad).attempts == attempts  # type: ignore[union-attr]


def test_an_ecopy_damaged_on_disk_is_parked_not_sent_and_kept(
    hall: Hall, make_terminal: Callable[..., Terminal]
) -> None:
    terminal = make_terminal(hall.process.url, hall.token)
    path, digest = terminal.ecopy("id-card-front")
    with open(path, "r+b") as file:  # a bit flips on the disk after capture
        file.seek(100)
        file.write(b"\x00")
    reference = uuid.uuid4().hex
    with terminal.database.transaction():
        terminal.outbox.enqueue_submission(reference, birth_registration())
        upload = terminal.outbox.enqueue_ecopy(
            reference, path, material_code="id-card", content_type="image/jpeg", sha256=digest
        )
    wait_until(lambda: bool(terminal.of_type(OutboxParked)), what="the parked e-copy")
    [alert] = terminal.of_type(OutboxParked)
    assert alert.key == upload
    assert "changed on disk" in alert.reason
    hall_id = terminal.outbox.hall_id_for(reference)
    assert hall.rows("SELECT id FROM ecopies WHERE submission_id = ?", (hall_id,)) == []
    assert os.path.exists(path)


def test_a_revoked_token_is_a_fault_that_pauses_sending_without_losing_anything(
    hall: Hall, make_terminal: Callable[..., Terminal]
) -> None:
    kiosk_id = f"kiosk-{uuid.uuid4().hex[:8]}"
    token = add_kiosk(hall.db_path, "revoked kiosk", kiosk_id)
    add_kiosk(hall.db_path, "revoked kiosk", kiosk_id)  # rotating the token revokes the first
    terminal = make_terminal(hall.process.url, token)
    key = terminal.outbox.enqueue_submission(uuid.uuid4().hex, birth_registration())

    def fault_announced() -> bool:
        changes = terminal.of_type(HallConnectivityChanged)
        return bool(changes) and changes[-1].health.state is HealthState.FAULT

    wait_until(fault_announced, what="the fault to be announced")
    health = terminal.monitor.health()
    assert "token" in health.reason
    assert health.outbox_size == 1
    assert terminal.sender.paused_for_auth
    message = terminal.outbox.get(key)
    assert message is not None
    assert message.attempts == 0
    assert message.parked_reason is None

    new_token = add_kiosk(hall.db_path, "revoked kiosk", kiosk_id)
    terminal.sender.set_token(new_token)
    wait_until(terminal.drained, what="the outbox to drain with the new token")
    assert len(hall.submissions_with_key(key)) == 1
    wait_until(lambda: terminal.monitor.health().state is HealthState.OK, what="health ok")


def test_500s_and_answers_slower_than_the_timeout_are_retried_until_delivered_once(
    hall: Hall, make_terminal: Callable[..., Terminal]
) -> None:
    plan = [Fault.ERROR_500] * 3 + [Fault.SLOW_RESPONSE, Fault.LOSE_RESPONSE]

    def choose(index: int, _method: str, _path: str) -> Fault:
        return plan[index] if index < len(plan) else Fault.PASS

    terminal = make_terminal(hall.process.url, hall.token, choose=choose, timeout_s=0.5, slow_s=1.5)
    key = terminal.outbox.enqueue_submission(uuid.uuid4().hex, birth_registration())
    wait_until(terminal.drained, what="delivery after the faults")
    states = [change.health.state for change in terminal.of_type(HallConnectivityChanged)]

    assert HealthState.DEGRADED in states  # 500s: the hall answers, badly
    assert HealthState.OFFLINE in states  # timeouts and lost answers: no answer at all
    assert terminal.proxy.requests >= len(plan) + 1
    assert len(hall.submissions_with_key(key)) == 1, "a replayed request must not duplicate"
    wait_until(lambda: terminal.monitor.health().state is HealthState.OK, what="health ok")


def test_the_hall_killed_in_the_middle_of_an_upload_and_restarted_loses_nothing(
    seeded_db: tuple[Path, str], tmp_path: Path, make_terminal: Callable[..., Terminal]
) -> None:
    db_path = tmp_path / "own-hall.db"
    db_path.write_bytes(seeded_db[0].read_bytes())
    process = HallProcess(db_path).start()
    own = Hall(db_path, seeded_db[1], process)
    stall_uploads = True

    def choose(_index: int, _method: str, path: str) -> Fault:
        return Fault.STALL_REQUEST if stall_uploads and path.endswith("/ecopies") else Fault.PASS

    try:
        terminal = make_terminal(process.url, own.token, choose=choose)
        path, digest = terminal.ecopy("household-page", size=400_000)
        reference = uuid.uuid4().hex
        with terminal.database.transaction():
            key = terminal.outbox.enqueue_submission(reference, birth_registration())
            terminal.outbox.enqueue_ecopy(
                reference,
                path,
                material_code="id-card",
                content_type="image/jpeg",
                sha256=digest,
            )
        assert terminal.proxy.stalled.wait(30), "the upload never started"
        process.kill()  # half the upload is in the hall's socket buffer
        stall_uploads = False
        terminal.proxy.release()
        wait_until(lambda: terminal.monitor.health().state is HealthState.OFFLINE, what="offline")
        assert terminal.outbox.stats().size == 1
        assert os.path.exists(path)

        process.start()  # same port, same database
        wait_until(terminal.drained, timeout_s=60, what="delivery after the restart")
        [(hall_id, _)] = own.submissions_with_key(key)
        [(sha, data)] = own.rows(
            "SELECT sha256, data FROM ecopies WHERE submission_id = ?", (hall_id,)
        )
        assert sha == digest == hashlib.sha256(data).hexdigest()
        wait_until(lambda: not os.path.exists(path), what="the acknowledged e-copy to go")
    finally:
        process.stop()


def test_exactly_once_under_random_faults(
    hall: Hall, make_terminal: Callable[..., Terminal]
) -> None:
    faults = random.Random(20250301)
    menu = [
        Fault.PASS,
        Fault.ERROR_500,
        Fault.CUT_REQUEST,
        Fault.LOSE_RESPONSE,
        Fault.SLOW_RESPONSE,
    ]

    def choose(_index: int, _method: str, _path: str) -> Fault:
        return faults.choices(menu, weights=[55, 10, 10, 20, 5])[0]

    terminal = make_terminal(hall.process.url, hall.token, choose=choose, timeout_s=0.6, slow_s=0.9)
    expected: dict[str, tuple[str, str]] = {}  # submission key -> (reference, e-copy digest)
    for n in range(20):
        path, digest = terminal.ecopy(f"page-{n}", size=5_000 + n * 997)
        reference = uuid.uuid4().hex
        with terminal.database.transaction():
            key = terminal.outbox.enqueue_submission(reference, birth_registration(f"孩子{n}"))
            terminal.outbox.enqueue_ecopy(
                reference,
                path,
                material_code="id-card",
                content_type="image/jpeg",
                sha256=digest,
            )
            terminal.outbox.enqueue_event(
                {"type": "deposited", "occurred_at": "2025-03-01T08:00:00Z"},
                submission_reference=reference,
            )
        expected[key] = (reference, digest)
    wait_until(terminal.drained, timeout_s=80, what="delivery under faults")

    assert terminal.outbox.stats().parked == 0
    assert sum(terminal.proxy.faults.get(f, 0) for f in menu[1:]) >= 10
    for key, (reference, digest) in expected.items():
        [(hall_id, status)] = hall.submissions_with_key(key)
        assert status == "deposited"
        assert terminal.outbox.hall_id_for(reference) == hall_id
        [(sha, data)] = hall.rows(
            "SELECT sha256, data FROM ecopies WHERE submission_id = ?", (hall_id,)
        )
        assert sha == digest == hashlib.sha256(data).hexdigest()
        [(count,)] = hall.rows(
            "SELECT COUNT(*) FROM submission_events WHERE submission_id = ? AND step = ?",
            (hall_id, "deposited"),
        )
        assert count == 1


def test_catalog_roster_and_tasks_are_cached_and_served_with_the_hall_down(
    seeded_db: tuple[Path, str], tmp_path: Path
) -> None:
    db_path = tmp_path / "sync-hall.db"
    db_path.write_bytes(seeded_db[0].read_bytes())
    process = HallProcess(db_path).start()
    database = Database.open(tmp_path / "terminal.sqlite3")
    try:
        outbox = Outbox(database)
        events: list[object] = []
        monitor = ConnectivityMonitor(outbox, events.append)
        catalog = SqliteCatalogCache(database)
        roster = SqliteRosterCache(database, kiosk_id="demo-0001")
        tasks = SqliteTaskFeed(database)
        with HallClient(process.url, seeded_db[1], timeout_s=5) as client:
            sync = HallSync(client, catalog, roster, tasks, monitor, events.append)
            version = sync.sync_catalog()
            assert version > 0
            items = catalog.entries("item")
            assert len(items) >= 20
            assert len({entry.data["department"] for entry in items}) >= 6
            assert sync.sync_catalog() == version  # nothing changed: nothing fetched again
            sync.sync_roster()
            held = roster.current()
            assert held is not None
            assert held.courier("C-0001") is not None
            signed = client.roster()
            first_tasks = sync.poll_tasks()
            assert first_tasks.fetched_at is not None

        tampered = dict(signed)
        tampered["roster"] = {**signed["roster"], "version": signed["roster"]["version"] + 1}
        tampered["roster"]["couriers"] = [
            {**signed["roster"]["couriers"][0], "card_id": "FORGED-CARD"}
        ]
        with pytest.raises(RosterNotTrusted, match="signature"):
            roster.store(tampered)
        stranger = SqliteRosterCache(database, kiosk_id="another-kiosk")
        with pytest.raises(RosterNotTrusted, match="not this terminal"):
            stranger.store(signed)
        other_key = SqliteRosterCache(
            database, pinned_public_key_b64="11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
        )
        with pytest.raises(RosterNotTrusted, match="signature"):
            other_key.store(signed)

        process.stop()
        with HallClient(process.url, seeded_db[1], timeout_s=1) as client:
            sync = HallSync(client, catalog, roster, tasks, monitor, events.append)
            with pytest.raises(HallUnreachable):
                sync.sync_catalog()
        assert monitor.health().state is HealthState.OFFLINE
        # A fresh start with the hall down still serves from the caches.
        assert SqliteCatalogCache(database).version() == version
        assert SqliteCatalogCache(database).entry("item", items[0].id) == items[0]
        cached = SqliteRosterCache(database).current()
        assert cached is not None
        assert cached.courier("FORGED-CARD") is None
        assert cached.courier("C-0001") is not None
        assert SqliteTaskFeed(database).latest() == first_tasks
    finally:
        process.stop()
        database.close()


# ---- batches (issue 4 follow-ups) ----------------------------------------------------------


def test_due_submissions_go_in_batches_and_only_the_invalid_one_parks(
    hall: Hall, make_terminal: Callable[..., Terminal]
) -> None:
    paths: list[str] = []

    def record(_index: int, _method: str, path: str) -> Fault:
        paths.append(path)
        return Fault.PASS

    terminal = make_terminal(hall.process.url, hall.token, choose=record, start=False)
    wrong = {**birth_registration(), "item_ids": ["no-such-item"], "forms": {}}
    keys = []
    with terminal.database.transaction():
        for n in range(40):
            body = wrong if n == 17 else birth_registration(f"批量{n}")
            keys.append(terminal.outbox.enqueue_submission(uuid.uuid4().hex, body))
    terminal.sender.start()
    wait_until(terminal.drained, what="the batch to drain")

    assert [len(hall.submissions_with_key(key)) for key in keys] == [
        0 if n == 17 else 1 for n in range(40)
    ]
    [parked] = terminal.of_type(OutboxParked)
    assert parked.key == keys[17]
    assert "no-such-item" in parked.reason
    assert len(terminal.of_type(SubmissionAcknowledged)) == 39
    assert "/api/v1/submissions/batch" in paths
    assert paths.count("/api/v1/submissions/batch") + paths.count("/api/v1/submissions") < 10


def test_a_hall_without_the_batch_endpoint_gets_them_one_by_one(
    hall: Hall, make_terminal: Callable[..., Terminal]
) -> None:
    def old_hall(_index: int, _method: str, path: str) -> Fault:
        return Fault.NOT_FOUND_404 if path.endswith("/batch") else Fault.PASS

    terminal = make_terminal(hall.process.url, hall.token, choose=old_hall, start=False)
    with terminal.database.transaction():
        keys = [
            terminal.outbox.enqueue_submission(uuid.uuid4().hex, birth_registration(f"旧{n}"))
            for n in range(12)
        ]
    terminal.sender.start()
    wait_until(terminal.drained, what="one-by-one delivery")
    assert all(len(hall.submissions_with_key(key)) == 1 for key in keys)
    assert terminal.outbox.stats().parked == 0
    asked = terminal.proxy.faults[Fault.NOT_FOUND_404]  # by the first round's parallel requests
    with terminal.database.transaction():
        later = [
            terminal.outbox.enqueue_submission(uuid.uuid4().hex, birth_registration(f"后{n}"))
            for n in range(12)
        ]
    wait_until(terminal.drained, what="the next one-by-one delivery")
    assert all(len(hall.submissions_with_key(key)) == 1 for key in later)
    assert terminal.proxy.faults[Fault.NOT_FOUND_404] == asked, "the answer is remembered"


def test_a_receipt_the_printer_could_not_print_reaches_the_citizen_by_sms(
    hall: Hall, make_terminal: Callable[..., Terminal]
) -> None:
    terminal = make_terminal(hall.process.url, hall.token, start=False)
    reference = uuid.uuid4().hex
    text = "回执：出生登记，承诺办结日期 2025-06-09，咨询电话 12345。"
    with terminal.database.transaction():
        key = terminal.outbox.enqueue_submission(reference, birth_registration())
    receipt = terminal.outbox.enqueue_receipt_sms(reference, text)
    terminal.sender.start()
    wait_until(terminal.drained, what="the receipt request to be delivered")

    [(hall_id, _)] = hall.submissions_with_key(key)
    [(phone, body)] = hall.rows(
        "SELECT phone, body FROM sms_outbox WHERE submission_id = ? AND kind = 'receipt'",
        (hall_id,),
    )
    assert (phone, body) == ("13800138000", "【政务服务】" + text)
    [(outcome,)] = hall.rows("SELECT outcome FROM kiosk_events WHERE event_id = ?", (receipt,))
    assert outcome == "applied"
    assert terminal.of_type(OutboxParked) == []
