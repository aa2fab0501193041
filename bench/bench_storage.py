"""Figures for local storage: what synchronous=FULL costs per commit, and audit query speed.

Run: .venv/bin/python bench/bench_storage.py   (prints figures; asserts nothing)
The database goes to a temporary folder on the same disk as $TMPDIR; fsync cost depends on it.
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from kiosk.storage import DOOR_OPEN, Actor, ActorKind, AuditLog, Database, Outcome

COMMITS = 300
AUDIT_ROWS = 100_000
QUERIES = 200
ACTOR = Actor(ActorKind.SYSTEM, "bench")


def median_ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"median {statistics.median(ordered) * 1000:.3f} ms, p95 {p95 * 1000:.3f} ms"


def commit_latency(database: Database) -> list[float]:
    with database.transaction() as tx:
        tx.execute("CREATE TABLE state (id INTEGER PRIMARY KEY, value TEXT)")
    samples = []
    for n in range(COMMITS):
        started = time.perf_counter()
        with database.transaction() as tx:
            tx.execute("INSERT INTO state (value) VALUES (?)", (f"compartment {n} occupied",))
            tx.execute("INSERT INTO state (value) VALUES (?)", ("outbox row",))
        samples.append(time.perf_counter() - started)
    database.close()
    return samples


def raw_commit_latency(path: Path, synchronous: str) -> list[float]:
    """The same work on a bare connection, to show what NORMAL would have saved."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute(f"PRAGMA synchronous = {synchronous}")
    connection.execute("CREATE TABLE state (id INTEGER PRIMARY KEY, value TEXT)")
    samples = []
    for n in range(COMMITS):
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO state (value) VALUES (?)", (f"compartment {n}",))
        connection.execute("INSERT INTO state (value) VALUES (?)", ("outbox row",))
        connection.execute("COMMIT")
        samples.append(time.perf_counter() - started)
    connection.close()
    return samples


def audit_figures(folder: Path) -> None:
    database = Database.open(folder / "audit.sqlite3")
    audit = AuditLog(database)
    started = time.perf_counter()
    with database.transaction() as tx:
        tx.execute_many(
            "INSERT INTO audit_events (at_ms, actor_kind, actor_id, action, subject, reason, "
            "outcome) VALUES (?, 'system', 'bench', 'door.open', ?, 'bench', 'opened')",
            ((1_700_000_000_000 + n, f"compartment:{n % 4}/{n % 48}") for n in range(AUDIT_ROWS)),
        )
    print(
        f"bulk-load {AUDIT_ROWS} audit rows in one transaction: "
        f"{time.perf_counter() - started:.2f} s"
    )
    appends = []
    for _ in range(COMMITS):
        started = time.perf_counter()
        intent = audit.record_intent(
            actor=ACTOR, action=DOOR_OPEN, subject="compartment:0/7", reason="bench"
        )
        audit.record_outcome(intent, Outcome.OPENED)
        appends.append(time.perf_counter() - started)
    print(f"door opening (intent + outcome, 2 commits): {median_ms(appends)}")
    queries = []
    for n in range(QUERIES):
        started = time.perf_counter()
        audit.for_subject(f"compartment:{n % 4}/{n % 48}", limit=50)
        queries.append(time.perf_counter() - started)
    print(f"newest 50 events of one compartment among {AUDIT_ROWS}: {median_ms(queries)}")
    started = time.perf_counter()
    audit.pending_intents()
    print(f"pending intents scan: {(time.perf_counter() - started) * 1000:.2f} ms")
    started = time.perf_counter()
    database.check_integrity()
    print(
        f"integrity_check on {database.path.stat().st_size / 1e6:.1f} MB: "
        f"{time.perf_counter() - started:.2f} s"
    )
    started = time.perf_counter()
    database.check_integrity(quick=True)
    print(f"quick_check: {time.perf_counter() - started:.2f} s")
    database.close()


def main() -> None:
    print(f"storage bench {datetime.now(UTC):%Y-%m-%d %H:%M}Z, {COMMITS} commits each")
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as name:
        folder = Path(name)
        database = Database.open(folder / "commit.sqlite3")
        samples = commit_latency(database)
        print(f"Database.transaction() commit, 2 rows (WAL, FULL): {median_ms(samples)}")
        for synchronous in ("FULL", "NORMAL"):
            samples = raw_commit_latency(folder / f"raw-{synchronous}.sqlite3", synchronous)
            print(f"bare sqlite3 commit, 2 rows (WAL, {synchronous}): {median_ms(samples)}")
        audit_figures(folder)


if __name__ == "__main__":
    main()
