"""The append-only audit trail: records, the intent/outcome pair of a door, and SQL-level guards."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.storage import (
    DOOR_OPEN,
    SYSTEM_ACTOR,
    Actor,
    ActorKind,
    AppendOnlyViolation,
    AuditLog,
    ConstraintViolation,
    Database,
    Outcome,
)

COURIER = Actor(ActorKind.COURIER, "C-0017")
CITIZEN = Actor(ActorKind.CITIZEN, "session-5f2c")
BOX_3 = "compartment:0/3"


class FakeClock:
    """Hands out a fixed time that the test advances by hand."""

    def __init__(self) -> None:
        self.now = datetime(2024, 3, 1, 3, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(tmp_path / "terminal.sqlite3")
    yield database
    database.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def audit(db: Database, clock: FakeClock) -> AuditLog:
    return AuditLog(db, clock)


def open_door(audit: AuditLog, subject: str = BOX_3, outcome: Outcome = Outcome.OPENED) -> None:
    intent = audit.record_intent(
        actor=COURIER, action=DOOR_OPEN, subject=subject, reason="load licence for pickup"
    )
    audit.record_outcome(intent, outcome)


def test_a_door_opening_is_an_intent_then_an_outcome(audit: AuditLog, clock: FakeClock) -> None:
    intent = audit.record_intent(
        actor=CITIZEN,
        action=DOOR_OPEN,
        subject=BOX_3,
        reason="deposit paper originals of submission GZ-2024-000123",
        details={"submission": "GZ-2024-000123", "材料": "户口簿"},
    )
    assert audit.pending_intents() == [intent]
    clock.advance(1.5)
    outcome = audit.record_outcome(intent, Outcome.JAMMED, details={"board_status": "0x02"})
    assert audit.pending_intents() == []
    assert outcome.intent_id == intent.id
    assert (outcome.actor, outcome.action, outcome.subject, outcome.reason) == (
        intent.actor,
        intent.action,
        intent.subject,
        intent.reason,
    )
    assert outcome.at - intent.at == timedelta(seconds=1.5)
    assert audit.for_subject(BOX_3) == [outcome, intent]


def test_events_read_back_equal_what_was_written(audit: AuditLog, clock: FakeClock) -> None:
    written = audit.record(
        actor=Actor(ActorKind.TECHNICIAN, "T-9"),
        action="printer.test_page",
        subject="printer",
        reason="remote check after paper change",
        outcome=Outcome.SUCCEEDED,
        details={"nested": {"list": [1, 2]}, "text": "纸已更换"},
    )
    assert audit.get(written.id) == written
    assert written.at == clock.now
    assert written.details["text"] == "纸已更换"


def test_queries_are_newest_first_and_page_backwards(audit: AuditLog) -> None:
    for _ in range(5):
        open_door(audit)
    open_door(audit, subject="compartment:0/4")
    first_page = audit.for_subject(BOX_3, limit=4)
    assert [e.id for e in first_page] == sorted((e.id for e in first_page), reverse=True)
    second_page = audit.for_subject(BOX_3, limit=4, before_id=first_page[-1].id)
    last_page = audit.for_subject(BOX_3, limit=4, before_id=second_page[-1].id)
    every = first_page + second_page + last_page
    assert len(last_page) == 2
    assert [e.id for e in every] == sorted({e.id for e in every}, reverse=True)
    assert all(e.subject == BOX_3 for e in every)
    assert [e.subject for e in audit.recent(limit=2)] == ["compartment:0/4"] * 2
    assert len(audit.for_actor(COURIER.id, limit=100)) == 12


def test_an_audit_record_joins_the_callers_transaction(db: Database, audit: AuditLog) -> None:
    def reserve_then_fail() -> None:
        with db.transaction():
            audit.record(
                actor=SYSTEM_ACTOR,
                action="compartment.reserve",
                subject=BOX_3,
                reason="pickup code issued",
                outcome=Outcome.SUCCEEDED,
            )
            raise RuntimeError("the state change failed, so its audit record must go too")

    with pytest.raises(RuntimeError):
        reserve_then_fail()
    assert audit.recent() == []


def test_update_and_delete_are_refused_by_the_schema(db: Database, audit: AuditLog) -> None:
    open_door(audit)
    with pytest.raises(AppendOnlyViolation, match="cannot be changed"), db.transaction() as tx:
        tx.execute("UPDATE audit_events SET outcome = 'jammed' WHERE outcome = 'opened'")
    with pytest.raises(AppendOnlyViolation, match="cannot be deleted"), db.transaction() as tx:
        tx.execute("DELETE FROM audit_events")
    assert len(audit.recent()) == 2


def test_insert_or_replace_cannot_overwrite_an_event(db: Database, audit: AuditLog) -> None:
    open_door(audit)
    with pytest.raises(AppendOnlyViolation, match="cannot be replaced"), db.transaction() as tx:
        tx.execute(
            "INSERT OR REPLACE INTO audit_events "
            "(id, at_ms, actor_kind, actor_id, action, subject, reason, outcome) "
            "VALUES (1, 1, 'system', 'x', 'door.open', 'compartment:0/3', 'forged', 'opened')"
        )
    original = audit.get(1)
    assert original is not None
    assert original.reason == "load licence for pickup"


def test_the_guards_hold_for_a_raw_connection_too(db: Database, audit: AuditLog) -> None:
    open_door(audit)
    raw = sqlite3.connect(db.path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute("DELETE FROM audit_events")
    finally:
        raw.close()


def test_an_outcome_must_answer_a_pending_intent_about_the_same_subject(
    db: Database, audit: AuditLog
) -> None:
    intent = audit.record_intent(actor=COURIER, action=DOOR_OPEN, subject=BOX_3, reason="load")
    audit.record_outcome(intent, Outcome.OPENED)
    with pytest.raises(ConstraintViolation):
        audit.record_outcome(intent, Outcome.UNKNOWN)  # a second outcome for the same intent
    finished = audit.recent(limit=1)[0]
    with pytest.raises(ConstraintViolation, match="pending intent"):
        audit.record_outcome(finished, Outcome.OPENED)  # the "intent" is itself an outcome
    with pytest.raises(ConstraintViolation, match="same subject"), db.transaction() as tx:
        tx.execute(
            "INSERT INTO audit_events (at_ms, actor_kind, actor_id, action, subject, reason, "
            "outcome, intent_id) VALUES (1, 'courier', 'C', 'door.open', 'compartment:9/9', "
            "'load', 'opened', ?)",
            (intent.id,),
        )


def test_the_vocabulary_is_checked_before_anything_is_written(audit: AuditLog) -> None:
    with pytest.raises(ValueError, match="door opening ends as one of"):
        audit.record(
            actor=COURIER,
            action=DOOR_OPEN,
            subject=BOX_3,
            reason="x",
            outcome=Outcome.SUCCEEDED,
        )
    with pytest.raises(ValueError, match="dotted lower-case"):
        audit.record(
            actor=COURIER, action="OpenDoor", subject=BOX_3, reason="x", outcome=Outcome.FAILED
        )
    with pytest.raises(ValueError, match="record_intent"):
        audit.record(
            actor=COURIER, action=DOOR_OPEN, subject=BOX_3, reason="x", outcome=Outcome.PENDING
        )
    with pytest.raises(ValueError, match="plain JSON"):
        audit.record(
            actor=COURIER,
            action="courier.sign_in",
            subject="terminal",
            reason="x",
            outcome=Outcome.DENIED,
            details={"when": datetime.now(UTC)},
        )
    assert audit.recent() == []


def test_a_naive_clock_is_refused(db: Database) -> None:
    naive = AuditLog(db, clock=lambda: datetime(2024, 1, 1, 12, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        naive.record(
            actor=SYSTEM_ACTOR,
            action="terminal.start",
            subject="terminal",
            reason="boot",
            outcome=Outcome.SUCCEEDED,
        )


def test_pending_intents_survive_a_restart(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "terminal.sqlite3"
    with Database.open(path) as database:
        AuditLog(database, clock).record_intent(
            actor=CITIZEN, action=DOOR_OPEN, subject=BOX_3, reason="pickup with code"
        )
    with Database.open(path) as database:
        audit = AuditLog(database, clock)
        (pending,) = audit.pending_intents()
        audit.record_outcome(pending, Outcome.UNKNOWN, actor=SYSTEM_ACTOR)
        assert audit.pending_intents() == []
