"""SIGKILL a writer at random moments; the database must always open whole and complete.

The writer (this file run as a script) loops over transactions that each insert BATCH_ROWS rows
with one batch number, bump a running total and append an audit record — all in one
`transaction()` — and between batches records a door intent and its outcome as the real flow does.
It reports on stdout each commit *after* `transaction()` returned, which is the moment the kiosk
would tell the citizen. After every kill the test opens the file and checks: it opens, the
integrity check passes, the migrations are intact, no half transaction is visible, and everything
reported is there (at most one commit per run may be present but unreported: the kill can land
between COMMIT and the report).

This module imports no pytest: the writer runs it as a script 30-odd times, and on a loaded
machine importing pytest would be most of each run's start-up.

What this does not prove: SIGKILL leaves the OS page cache alone, so it tests atomicity, not
fsync-on-power-loss; that part rests on synchronous=FULL (see kiosk/storage/database.py).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.storage import (
    DOOR_OPEN,
    AppendOnlyViolation,
    AuditLog,
    Database,
    Outcome,
    load_migrations,
)
from kiosk.storage.audit import Actor, ActorKind

BATCH_ROWS = 7
KILLS = 30
EARLY_KILLS = 6  # kills during start-up (while migrating a fresh file)
WAIT_S = 20.0
WRITER_ACTOR = Actor(ActorKind.SYSTEM, "crash-writer")


# -- the writer (runs in the child process) ----------------------------------------------------


def run_writer(path: Path, seed: int) -> None:
    rng = random.Random(seed)
    print("opening", flush=True)
    database = Database.open(path)
    audit = AuditLog(database)
    with database.transaction() as tx:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS crash_rows (batch INTEGER NOT NULL, seq INTEGER NOT NULL, "
            "payload BLOB NOT NULL, PRIMARY KEY (batch, seq))"
        )
        tx.execute("CREATE TABLE IF NOT EXISTS crash_totals (id INTEGER PRIMARY KEY, rows INTEGER)")
        tx.execute("INSERT OR IGNORE INTO crash_totals (id, rows) VALUES (1, 0)")
        last = tx.fetch_value("SELECT max(batch) FROM crash_rows")
    batch = (last if isinstance(last, int) else 0) + 1
    print(f"start {batch}", flush=True)
    while True:
        with database.transaction() as tx:
            tx.execute_many(
                "INSERT INTO crash_rows (batch, seq, payload) VALUES (?, ?, ?)",
                [(batch, seq, rng.randbytes(rng.randint(16, 3000))) for seq in range(BATCH_ROWS)],
            )
            tx.execute("UPDATE crash_totals SET rows = rows + ? WHERE id = 1", (BATCH_ROWS,))
            audit.record(
                actor=WRITER_ACTOR,
                action="crash.batch",
                subject=f"batch:{batch}",
                reason="crash test",
                outcome=Outcome.SUCCEEDED,
                details={"batch": batch},
            )
        print(f"committed {batch}", flush=True)
        if batch % 2 == 0:
            intent = audit.record_intent(
                actor=WRITER_ACTOR, action=DOOR_OPEN, subject=f"door:{batch}", reason="crash"
            )
            print(f"intent {intent.id}", flush=True)
            outcome = audit.record_outcome(intent, Outcome.OPENED)
            print(f"outcome {outcome.id}", flush=True)
        batch += 1


# -- the test side -----------------------------------------------------------------------------


@dataclass
class WriterRun:
    """One writer process and what it has reported so far."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    finished: bool = False

    @classmethod
    def start(cls, path: Path, seed: int) -> WriterRun:
        process = subprocess.Popen(
            [sys.executable, __file__, str(path), str(seed)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        run = cls(process)
        threading.Thread(target=run._read, daemon=True).start()
        return run

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self.changed:
                self.lines.append(line.strip())
                self.changed.notify_all()
        with self.changed:
            self.finished = True
            self.changed.notify_all()

    def wait_for_lines(self, count: int) -> None:
        with self.changed:
            ok = self.changed.wait_for(lambda: len(self.lines) >= count or self.finished, WAIT_S)
        assert ok, f"the writer reported only {len(self.lines)} lines in {WAIT_S} s"
        if len(self.lines) < count:
            stderr = self.process.stderr.read() if self.process.stderr else ""
            raise AssertionError(f"the writer stopped early: {stderr}")

    def kill(self) -> list[str]:
        self.process.kill()
        self.process.wait(WAIT_S)
        with self.changed:
            self.changed.wait_for(lambda: self.finished, WAIT_S)
            return list(self.lines)


def values(lines: list[str], kind: str) -> list[int]:
    return [int(line.split()[1]) for line in lines if line.startswith(kind + " ")]


def resolved_intents(lines: list[str]) -> set[int]:
    """Intents whose outcome the writer reported (an outcome line follows its intent line)."""
    resolved: set[int] = set()
    last_intent: int | None = None
    for line in lines:
        kind, _, number = line.partition(" ")
        if kind == "intent":
            last_intent = int(number)
        elif kind == "outcome" and last_intent is not None:
            resolved.add(last_intent)
    return resolved


def pause_at_a_random_moment(rng: random.Random, longest_s: float) -> None:
    """Fault injection: spread the kill over the writer's cycle. This waits for nothing."""
    time.sleep(rng.uniform(0, longest_s))


def check_schema_intact(database: Database) -> None:
    database.check_integrity()
    applied = database.applied_migrations()
    assert [(a.version, a.checksum) for a in applied] == [
        (m.version, m.checksum) for m in load_migrations()
    ]
    with database.snapshot() as view:
        triggers = {
            row["name"]
            for row in view.fetch_all("SELECT name FROM sqlite_schema WHERE type = 'trigger'")
        }
    assert {"audit_events_no_update", "audit_events_no_delete"} <= triggers
    AuditLog(database).record(
        actor=WRITER_ACTOR,
        action="crash.check",
        subject="checker",
        reason="prove the append-only guard still works",
        outcome=Outcome.SUCCEEDED,
    )
    try:
        with database.transaction() as tx:
            tx.execute("DELETE FROM audit_events")
    except AppendOnlyViolation:
        pass
    else:
        raise AssertionError(f"the append-only guard of {database.path} is gone")


def test_killed_at_start_up_the_schema_is_all_or_nothing(tmp_path: Path) -> None:
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    for attempt in range(EARLY_KILLS):
        path = tmp_path / f"early-{attempt}.sqlite3"
        run = WriterRun.start(path, seed=attempt)
        run.wait_for_lines(1)  # "opening": the process is about to create and migrate the file
        pause_at_a_random_moment(rng, 0.05)
        run.kill()
        with Database.open(path) as database:
            check_schema_intact(database)


def test_every_reported_commit_survives_random_kills_and_none_is_half_there(
    tmp_path: Path,
) -> None:
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    path = tmp_path / "crash.sqlite3"
    reported: set[int] = set()
    unreported_allowed: set[int] = set()
    reported_intents: set[int] = set()
    reported_outcomes: set[int] = set()
    resolved: set[int] = set()
    for kill in range(KILLS):
        run = WriterRun.start(path, seed=seed + kill)
        try:
            run.wait_for_lines(2 + rng.randint(0, 40))
            pause_at_a_random_moment(rng, 0.005)
        finally:
            lines = run.kill()
        starts = values(lines, "start")
        assert len(starts) == 1, f"seed {seed}: the writer did not start: {lines[:3]}"
        committed = values(lines, "committed")
        reported.update(committed)
        unreported_allowed.add(max(committed, default=starts[0] - 1) + 1)
        reported_intents.update(values(lines, "intent"))
        reported_outcomes.update(values(lines, "outcome"))
        resolved.update(resolved_intents(lines))

        with Database.open(path) as database:
            check_schema_intact(database)
            with database.snapshot() as view:
                per_batch = {
                    row[0]: row[1]
                    for row in view.fetch_all(
                        "SELECT batch, count(*) FROM crash_rows GROUP BY batch"
                    )
                }
                total = view.fetch_value("SELECT rows FROM crash_totals WHERE id = 1")
                audited = [
                    int(str(row[0]).removeprefix("batch:"))
                    for row in view.fetch_all(
                        "SELECT subject FROM audit_events WHERE action = 'crash.batch'"
                    )
                ]
                event_ids = {int(row[0]) for row in view.fetch_all("SELECT id FROM audit_events")}
            where = f"seed {seed}, kill {kill + 1}"
            half_done = {b: n for b, n in per_batch.items() if n != BATCH_ROWS}
            assert not half_done, f"{where}: batches with a partial row count {half_done}"
            assert total == BATCH_ROWS * len(per_batch), f"{where}: running total disagrees"
            assert sorted(audited) == sorted(per_batch), f"{where}: audit and rows disagree"
            missing = reported - per_batch.keys()
            assert not missing, f"{where}: reported commits lost: {sorted(missing)}"
            extra = per_batch.keys() - reported - unreported_allowed
            assert not extra, f"{where}: batches present that were never begun: {extra}"
            assert reported_intents | reported_outcomes <= event_ids, f"{where}: audit lost"
            pending = {event.id for event in AuditLog(database).pending_intents()}
            assert not pending & resolved, f"{where}: a reported outcome is not linked"
    assert len(reported) >= KILLS, "the writer made too little progress to mean anything"


if __name__ == "__main__":
    run_writer(Path(sys.argv[1]), int(sys.argv[2]))
