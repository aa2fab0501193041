"""The append-only audit trail: who did what to which thing, why, and how it ended.

The schema forbids UPDATE and DELETE (see migrations/0001_audit_events.sql); this module is the
only way the rest of the terminal writes and reads it, and it owns the vocabulary (actor kinds,
outcomes) so that extending the vocabulary is a code change, never a table rebuild.

A door opening is recorded in two steps, matching the durability rule "a door is opened only after
the intent is committed; the outcome is committed after": `record_intent()` before the lock board
is commanded, `record_outcome()` after. `pending_intents()` lists the intents that never got an
outcome — after a crash or power cut, start-up reconciles exactly those against the board.

Every write opens `Database.transaction()`, so inside a caller's own transaction it joins it: the
compartment's new state and its audit record commit together.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from .database import Database, Reader

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_COLUMNS = "id, at_ms, actor_kind, actor_id, action, subject, reason, outcome, intent_id, details"

DOOR_OPEN = "door.open"


class ActorKind(StrEnum):
    CITIZEN = "citizen"
    COURIER = "courier"
    TECHNICIAN = "technician"
    REMOTE = "remote"  # a command from the monitoring side, on behalf of a named operator
    SYSTEM = "system"  # the terminal itself: start-up reconciliation, expiry, housekeeping


class Outcome(StrEnum):
    PENDING = "pending"  # intent committed, result not known yet
    OPENED = "opened"
    ALREADY_OPEN = "already_open"
    JAMMED = "jammed"
    UNKNOWN = "unknown"  # the board did not say (offline, or reconciled after a crash)
    SUCCEEDED = "succeeded"
    DENIED = "denied"
    FAILED = "failed"


DOOR_OUTCOMES = frozenset({Outcome.OPENED, Outcome.ALREADY_OPEN, Outcome.JAMMED, Outcome.UNKNOWN})


@dataclass(frozen=True)
class Actor:
    """Who acted. `id` is pseudonymous (staff number, session id) — never an ID-card number."""

    kind: ActorKind
    id: str


SYSTEM_ACTOR = Actor(ActorKind.SYSTEM, "terminal")


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: datetime
    actor: Actor
    action: str
    subject: str
    reason: str
    outcome: Outcome
    intent_id: int | None
    details: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))


def utc_now() -> datetime:
    return datetime.now(UTC)


class AuditLog:
    """Append to and query the audit trail of one `Database`."""

    def __init__(self, database: Database, clock: Callable[[], datetime] = utc_now) -> None:
        self._database = database
        self._clock = clock

    def record(
        self,
        *,
        actor: Actor,
        action: str,
        subject: str,
        reason: str,
        outcome: Outcome,
        details: Mapping[str, object] | None = None,
    ) -> AuditEvent:
        """Append one finished event (a sign-in, a remote command, a test print, ...)."""
        if outcome is Outcome.PENDING:
            raise ValueError("use record_intent() for an action whose outcome is not known yet")
        return self._append(actor, action, subject, reason, outcome, None, details)

    def record_intent(
        self,
        *,
        actor: Actor,
        action: str,
        subject: str,
        reason: str,
        details: Mapping[str, object] | None = None,
    ) -> AuditEvent:
        """Append the intent before acting; commit it before the device is commanded."""
        return self._append(actor, action, subject, reason, Outcome.PENDING, None, details)

    def record_outcome(
        self,
        intent: AuditEvent,
        outcome: Outcome,
        *,
        details: Mapping[str, object] | None = None,
        actor: Actor | None = None,
    ) -> AuditEvent:
        """Append how an intent ended; `actor` differs from the intent's when reconciling."""
        if outcome is Outcome.PENDING:
            raise ValueError("an outcome cannot be 'pending'")
        return self._append(
            actor or intent.actor,
            intent.action,
            intent.subject,
            intent.reason,
            outcome,
            intent.id,
            details,
        )

    def get(self, event_id: int) -> AuditEvent | None:
        with self._database.snapshot() as view:
            row = view.fetch_one(f"SELECT {_COLUMNS} FROM audit_events WHERE id = ?", (event_id,))
        return None if row is None else _event_from_row(row)

    def for_subject(
        self, subject: str, *, limit: int = 50, before_id: int | None = None
    ) -> list[AuditEvent]:
        """Newest first; pass the last id seen as `before_id` to page further back."""
        with self._database.snapshot() as view:
            return _events(
                view,
                f"SELECT {_COLUMNS} FROM audit_events WHERE subject = ? AND id < ? "
                "ORDER BY id DESC LIMIT ?",
                (subject, _upper(before_id), limit),
            )

    def for_actor(
        self, actor_id: str, *, limit: int = 50, before_id: int | None = None
    ) -> list[AuditEvent]:
        with self._database.snapshot() as view:
            return _events(
                view,
                f"SELECT {_COLUMNS} FROM audit_events WHERE actor_id = ? AND id < ? "
                "ORDER BY id DESC LIMIT ?",
                (actor_id, _upper(before_id), limit),
            )

    def recent(self, *, limit: int = 50, before_id: int | None = None) -> list[AuditEvent]:
        with self._database.snapshot() as view:
            return _events(
                view,
                f"SELECT {_COLUMNS} FROM audit_events WHERE id < ? ORDER BY id DESC LIMIT ?",
                (_upper(before_id), limit),
            )

    def pending_intents(self) -> list[AuditEvent]:
        """Intents with no outcome yet, oldest first: what start-up must reconcile."""
        with self._database.snapshot() as view:
            return _events(
                view,
                f"SELECT {_COLUMNS} FROM audit_events AS intent WHERE outcome = 'pending' "
                "AND NOT EXISTS (SELECT 1 FROM audit_events WHERE intent_id = intent.id) "
                "ORDER BY id",
                (),
            )

    def _append(
        self,
        actor: Actor,
        action: str,
        subject: str,
        reason: str,
        outcome: Outcome,
        intent_id: int | None,
        details: Mapping[str, object] | None,
    ) -> AuditEvent:
        _check_vocabulary(action, subject, outcome)
        at = self._clock()
        at_ms = _to_epoch_ms(at)
        details_json = _details_json(details or {})
        # read back from the JSON so the returned event equals what a later query returns
        frozen_details = MappingProxyType(json.loads(details_json))
        with self._database.transaction() as tx:
            written = tx.execute(
                "INSERT INTO audit_events (at_ms, actor_kind, actor_id, action, subject, reason, "
                "outcome, intent_id, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    at_ms,
                    actor.kind.value,
                    actor.id,
                    action,
                    subject,
                    reason,
                    outcome.value,
                    intent_id,
                    details_json,
                ),
            )
        assert written.last_row_id is not None  # an INSERT into a rowid table always has one
        return AuditEvent(
            id=written.last_row_id,
            at=_from_epoch_ms(at_ms),
            actor=actor,
            action=action,
            subject=subject,
            reason=reason,
            outcome=outcome,
            intent_id=intent_id,
            details=frozen_details,
        )


def _check_vocabulary(action: str, subject: str, outcome: Outcome) -> None:
    if not _ACTION.match(action):
        raise ValueError(f"audit action {action!r} must be dotted lower-case, like 'door.open'")
    if not subject.strip():
        raise ValueError("an audit event needs a subject (what was acted on)")
    if action == DOOR_OPEN and outcome not in DOOR_OUTCOMES | {Outcome.PENDING}:
        allowed = ", ".join(sorted(DOOR_OUTCOMES))
        raise ValueError(f"a door opening ends as one of {allowed}, not {outcome.value!r}")


def _to_epoch_ms(at: datetime) -> int:
    if at.tzinfo is None:
        raise ValueError("audit clock returned a naive datetime; it must be timezone-aware")
    return (at - _EPOCH) // _ONE_MS


def _from_epoch_ms(at_ms: int) -> datetime:
    return _EPOCH + at_ms * _ONE_MS


def _details_json(details: Mapping[str, object]) -> str:
    try:
        return json.dumps(dict(details), ensure_ascii=False, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"audit details must be plain JSON values: {err}") from err


def _upper(before_id: int | None) -> int:
    return before_id if before_id is not None else 2**63 - 1


def _events(view: Reader, sql: str, params: tuple[object, ...]) -> list[AuditEvent]:
    return [_event_from_row(row) for row in view.fetch_all(sql, params)]


def _event_from_row(row: sqlite3.Row) -> AuditEvent:
    intent_id = row["intent_id"]
    return AuditEvent(
        id=int(row["id"]),
        at=_from_epoch_ms(int(row["at_ms"])),
        actor=Actor(ActorKind(row["actor_kind"]), str(row["actor_id"])),
        action=str(row["action"]),
        subject=str(row["subject"]),
        reason=str(row["reason"]),
        outcome=Outcome(row["outcome"]),
        intent_id=None if intent_id is None else int(intent_id),
        details=MappingProxyType(json.loads(row["details"])),
    )
