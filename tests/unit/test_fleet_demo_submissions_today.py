"""`system/submissions-today`: the count the console charts, read from the submissions table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kiosk.fleet import SubmissionsToday, TerminalSnapshot
from kiosk.fleet.model import describe, values
from kiosk.fleet.snapshot import SnapshotSources, build_snapshot
from kiosk.fleet.submissions import local_midnight
from kiosk.storage import Database

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database.open(tmp_path / "terminal.db")
    try:
        yield db
    finally:
        db.close()


def submit(database: Database, reference: str, at: datetime) -> None:
    with database.transaction() as tx:
        tx.execute(
            "INSERT INTO submissions (reference, status, item_ids, applicant_masked, "
            "payment_choice, promised_date, submitted_at_ms) "
            "VALUES (?, 'submitted', '[\"gz-1\"]', '张*', 'free', '2026-12-01', ?)",
            (reference, int(at.timestamp() * 1000)),
        )


def test_only_submissions_since_local_midnight_count(database: Database) -> None:
    # 08:30 in Guangzhou is 00:30 UTC: a UTC "today" would lose the early-morning applicants.
    now = datetime(2026, 11, 28, 0, 30, tzinfo=UTC)
    counter = SubmissionsToday(database, clock=lambda: now, zone=SHANGHAI)
    assert counter.count() == 0
    submit(database, "yesterday-late", datetime(2026, 11, 27, 23, 59, tzinfo=SHANGHAI))
    submit(database, "just-after-midnight", datetime(2026, 11, 28, 0, 0, tzinfo=SHANGHAI))
    submit(database, "this-morning", datetime(2026, 11, 28, 8, 15, tzinfo=SHANGHAI))
    assert counter.count() == 2


def test_the_count_starts_again_at_the_next_midnight(database: Database) -> None:
    moment = [datetime(2026, 11, 28, 15, 0, tzinfo=SHANGHAI)]
    counter = SubmissionsToday(database, clock=lambda: moment[0], zone=SHANGHAI)
    submit(database, "afternoon", moment[0] - timedelta(hours=1))
    assert counter.count() == 1
    moment[0] = datetime(2026, 11, 29, 0, 5, tzinfo=SHANGHAI)
    assert counter.count() == 0


def test_a_day_that_begins_with_a_clock_change_starts_at_its_real_midnight() -> None:
    # Berlin left summer time on 2026-10-25 at 03:00: that day's midnight was still at +02:00.
    start = local_midnight(datetime(2026, 10, 25, 12, 0, tzinfo=UTC), BERLIN)
    assert start.utcoffset() == timedelta(hours=2)
    assert start.astimezone(UTC) == datetime(2026, 10, 24, 22, 0, tzinfo=UTC)


def test_the_machine_zone_is_used_when_none_is_given() -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    start = local_midnight(now)
    local = now.astimezone()
    assert (start.hour, start.minute, start.date()) == (0, 0, local.date())


def test_it_is_a_system_property_only_where_the_terminal_takes_applications() -> None:
    boot = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
    counted = TerminalSnapshot(name="T", app_version="1", boot_time=boot, submissions_today=7)
    assert values(counted)[("system", "submissions-today")] == "7"
    system = next(node for node in describe(counted) if node.id == "system")
    spec = next(p for p in system.properties if p.id == "submissions-today")
    assert spec.datatype == "integer"

    silent = TerminalSnapshot(name="T", app_version="1", boot_time=boot)
    assert ("system", "submissions-today") not in values(silent)
    system = next(node for node in describe(silent) if node.id == "system")
    assert all(p.id != "submissions-today" for p in system.properties)


def test_the_terminal_snapshot_reads_the_count_from_the_database(database: Database) -> None:
    now = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
    submit(database, "noon-in-guangzhou", now - timedelta(minutes=5))
    sources = SnapshotSources(
        name="T",
        app_version="1",
        boot_time=now,
        submissions_today=SubmissionsToday(database, clock=lambda: now, zone=SHANGHAI).count,
    )
    assert values(build_snapshot(sources))[("system", "submissions-today")] == "1"
