"""The outbox: what the terminal owes the service hall, kept in the terminal's own database.

Why an outbox and not a direct call: the citizen is told "submitted" when the change is committed
locally, whether or not the hall is reachable at that moment. So every message for the hall is
written by `enqueue_*` inside the caller's `Database.transaction()` — the state change and the
message commit together or not at all — and a sender (backend_client) delivers it later, with the
message key as Idempotency-Key, and removes it only when the hall acknowledges it (`acknowledge`).

Decisions, and why:

* **Order per ordering key.** A submission's e-copies and events name the submission, so they
  must reach the hall after it. Messages share the submission's ordering key; only the oldest
  message of each key is ever handed out (`due`). Unrelated keys do not wait for each other.
* **References.** The hall gives a submission its own id, known only after the acknowledgement.
  Later messages name the terminal's local reference; `acknowledge` records the hall's id under
  that reference and the sender substitutes it (`hall_id_for`).
* **Parking, not dropping.** A message the hall rejects as invalid is parked with the hall's
  reason: kept, visible in `stats()`, never retried by itself, and it holds back the rest of its
  ordering key (an e-copy of a submission the hall never accepted cannot be delivered either).
  A technician can `release` it after fixing the cause.
* **No I/O here.** The backoff is a pure function of the attempt number and a random fraction,
  and time comes from an injected clock, so the policy is tested with a fake clock in
  microseconds. Files (e-copies) are referenced by path; deleting them after the acknowledgement
  is the sender's job.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from kiosk.storage import Database, Reader, Transaction


class MessageKind(StrEnum):
    SUBMISSION = "submission"  # POST /submissions; creates a hall submission (has a reference)
    ECOPY = "ecopy"  # an e-copy file for a submission
    EVENT = "event"  # one kiosk event (deposited, collected, door alarm, ...); sent in batches
    # The printer could not print a receipt: the hall texts it to the applicant (payload
    # `submission_ref`, `text`); sent as a `receipt_sms` event whose id is the message key.
    RECEIPT_SMS = "receipt_sms"


class OutboxError(Exception):
    """The outbox cannot do what was asked; the message says what to do about it."""


class UnknownMessage(OutboxError):
    """The message is no longer in the outbox (already acknowledged, or never there)."""


# Backoff policy defaults: first retry after about a second, never more than five minutes apart.
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 300.0


def backoff_delay(
    attempts: int,
    random_fraction: float,
    base_s: float = BACKOFF_BASE_S,
    cap_s: float = BACKOFF_CAP_S,
) -> float:
    """Seconds to wait after `attempts` failed tries: exponential, capped, with "equal jitter".

    Half of the exponential step is fixed, half is random, so retries of many terminals after a
    hall outage spread out (no thundering herd) while a single terminal still backs off steadily.
    `random_fraction` is in [0, 1); callers pass `random.random()`, tests pass fixed values.
    """
    if attempts < 1:
        return 0.0
    if not 0.0 <= random_fraction <= 1.0:
        raise ValueError("random_fraction must be between 0 and 1")
    step = min(cap_s, base_s * 2.0 ** min(attempts - 1, 62))
    return step / 2.0 + step / 2.0 * random_fraction


@dataclass(frozen=True)
class OutboxMessage:
    """One message as stored; `payload` is the JSON object the sender turns into a request."""

    seq: int
    key: str  # the Idempotency-Key: stable across retries and restarts
    kind: str
    ordering_key: str
    reference: str | None
    payload: Mapping[str, Any]
    files: tuple[str, ...]
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    last_error: str
    parked_reason: str | None
    parked_at: datetime | None


@dataclass(frozen=True)
class OutboxStats:
    """What connectivity health reports: how much is waiting and since when."""

    size: int  # messages not yet acknowledged, parked ones included
    parked: int
    oldest_created_at: datetime | None
    oldest_age_s: float  # 0 when empty

    @property
    def empty(self) -> bool:
        return self.size == 0


@dataclass(frozen=True)
class HallReference:
    """What the hall called something one of our messages created."""

    reference: str
    hall_id: str
    hall_label: str
    acknowledged_at: datetime


@dataclass(frozen=True)
class Acknowledgement:
    """The hall accepted message `key`; when it created something, its id and label."""

    key: str
    hall_id: str | None = None
    hall_label: str = ""


@dataclass(frozen=True)
class Retry:
    """Delivery of `key` failed for a passing reason; try again after `delay_s`."""

    key: str
    error: str
    delay_s: float
    count_attempt: bool = True  # False when the message was never really tried (hall paused)


@dataclass(frozen=True)
class Park:
    """The hall rejected `key` as invalid: keep it, stop retrying, show `reason`."""

    key: str
    reason: str


Outcome = Acknowledgement | Retry | Park


@dataclass(frozen=True)
class SettledOutcomes:
    """What `settle` did, so the sender can delete files and raise alerts after the commit."""

    acknowledged: tuple[OutboxMessage, ...] = ()
    parked: tuple[OutboxMessage, ...] = ()
    retried: tuple[OutboxMessage, ...] = ()
    missing: tuple[str, ...] = field(default=())  # keys no longer in the outbox


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _from_ms(value: object) -> datetime:
    if not isinstance(value, int):
        raise OutboxError(f"The outbox holds a time that is not a number ({value!r}).")
    return datetime.fromtimestamp(value / 1000, UTC)


_COLUMNS = (
    "seq, message_key, kind, ordering_key, reference, payload, files, created_at_ms, attempts, "
    "next_attempt_at_ms, last_error, parked_reason, parked_at_ms"
)


def _message(row: sqlite3.Row) -> OutboxMessage:
    payload = json.loads(row["payload"])
    files = json.loads(row["files"])
    return OutboxMessage(
        seq=int(row["seq"]),
        key=str(row["message_key"]),
        kind=str(row["kind"]),
        ordering_key=str(row["ordering_key"]),
        reference=None if row["reference"] is None else str(row["reference"]),
        payload=MappingProxyType(payload),
        files=tuple(str(path) for path in files),
        created_at=_from_ms(row["created_at_ms"]),
        attempts=int(row["attempts"]),
        next_attempt_at=_from_ms(row["next_attempt_at_ms"]),
        last_error=str(row["last_error"]),
        parked_reason=None if row["parked_reason"] is None else str(row["parked_reason"]),
        parked_at=None if row["parked_at_ms"] is None else _from_ms(row["parked_at_ms"]),
    )


class Outbox:
    """The outbox of one terminal database. Thread-safe: all access goes through `Database`."""

    def __init__(self, database: Database, clock: Callable[[], datetime] = _utc_now) -> None:
        self._database = database
        self._clock = clock
        self._listeners: list[Callable[[], None]] = []
        self._listeners_lock = threading.Lock()

    # -- writing (inside the caller's transaction) -------------------------------------------

    def enqueue(
        self,
        kind: MessageKind | str,
        payload: Mapping[str, Any],
        *,
        ordering_key: str,
        reference: str | None = None,
        files: Sequence[str] = (),
        key: str | None = None,
    ) -> str:
        """Add a message and return its key. Joins the caller's open transaction, if any."""
        if not ordering_key:
            raise ValueError("a message needs an ordering key")
        message_key = key or uuid.uuid4().hex
        try:
            payload_text = json.dumps(dict(payload), ensure_ascii=False, sort_keys=True)
        except (TypeError, ValueError) as err:
            raise OutboxError(
                f"A '{kind}' message for the hall holds a value that is not JSON ({err}); this "
                "is a bug in the workflow that wrote it."
            ) from err
        now_ms = _to_ms(self._clock())
        with self._database.transaction() as tx:
            if reference is not None and self._reference_taken(tx, reference):
                raise OutboxError(
                    f"The reference '{reference}' was already used for another message to the "
                    "hall; every submission needs its own local id."
                )
            tx.execute(
                "INSERT INTO outbox (message_key, kind, ordering_key, reference, payload, files, "
                "created_at_ms, next_attempt_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    message_key,
                    str(kind),
                    ordering_key,
                    reference,
                    payload_text,
                    json.dumps(list(files)),
                    now_ms,
                    now_ms,
                ),
            )
        self._notify()
        return message_key

    def enqueue_submission(self, reference: str, body: Mapping[str, Any]) -> str:
        """A new submission; `reference` is the terminal's own id for it (e.g. a uuid)."""
        return self.enqueue(
            MessageKind.SUBMISSION, body, ordering_key=reference, reference=reference
        )

    def enqueue_ecopy(
        self,
        submission_reference: str,
        path: str,
        *,
        material_code: str,
        content_type: str,
        sha256: str,
        filename: str = "",
    ) -> str:
        """An e-copy already written and flushed to `path`; deleted once the hall has it."""
        payload = {
            "submission_ref": submission_reference,
            "material_code": material_code,
            "content_type": content_type,
            "sha256": sha256.lower(),
            "filename": filename or path.rsplit("/", 1)[-1],
        }
        return self.enqueue(
            MessageKind.ECOPY, payload, ordering_key=submission_reference, files=[path]
        )

    def enqueue_event(
        self, event: Mapping[str, Any], *, submission_reference: str | None = None
    ) -> str:
        """A kiosk event; about a submission, it is delivered after that submission.

        The hall deduplicates events by `event_id`, so this key doubles as the event id unless
        the caller gave one.
        """
        key = str(event.get("event_id") or uuid.uuid4().hex)
        payload: dict[str, Any] = {**event, "event_id": key}
        if submission_reference is not None:
            payload["submission_ref"] = submission_reference
        return self.enqueue(
            MessageKind.EVENT,
            payload,
            ordering_key=submission_reference or "events",
            key=key,
        )

    def enqueue_receipt_sms(self, submission_reference: str, text: str) -> str:
        """Ask the hall to text the receipt to the applicant's phone (the hall has the number).

        Under its own ordering key: it waits for the submission to reach the hall, but a
        receipt the hall refuses never holds up the submission's e-copies and events.
        """
        return self.enqueue(
            MessageKind.RECEIPT_SMS,
            {"submission_ref": submission_reference, "text": text},
            ordering_key=f"{MessageKind.RECEIPT_SMS}:{submission_reference}",
        )

    # -- reading ------------------------------------------------------------------------------

    def due(self, limit: int = 50, kinds: Iterable[str] | None = None) -> list[OutboxMessage]:
        """The oldest message of each ordering key that is not parked and whose time has come.

        A parked message holds back its ordering key; the rest of the outbox is unaffected.
        """
        now_ms = _to_ms(self._clock())
        kind_filter = ""
        params: list[object] = [now_ms]
        if kinds is not None:
            wanted = list(kinds)
            kind_filter = f" AND o.kind IN ({', '.join('?' for _ in wanted)})"
            params.extend(wanted)
        params.append(limit)
        with self._database.snapshot() as reader:
            rows = reader.fetch_all(
                f"SELECT {_COLUMNS} FROM outbox o WHERE o.parked_reason IS NULL "
                "AND o.next_attempt_at_ms <= ? "
                "AND o.seq = (SELECT MIN(seq) FROM outbox i WHERE i.ordering_key = o.ordering_key)"
                f"{kind_filter} ORDER BY o.seq LIMIT ?",
                params,
            )
        return [_message(row) for row in rows]

    def next_attempt_at(self) -> datetime | None:
        """When the earliest message not parked becomes due (None when nothing is waiting)."""
        with self._database.snapshot() as reader:
            value = reader.fetch_value(
                "SELECT MIN(next_attempt_at_ms) FROM outbox WHERE parked_reason IS NULL"
            )
        return None if value is None else _from_ms(value)

    def get(self, key: str) -> OutboxMessage | None:
        with self._database.snapshot() as reader:
            row = reader.fetch_one(f"SELECT {_COLUMNS} FROM outbox WHERE message_key = ?", (key,))
        return None if row is None else _message(row)

    def messages(self, *, parked_only: bool = False, limit: int = 1000) -> list[OutboxMessage]:
        where = " WHERE parked_reason IS NOT NULL" if parked_only else ""
        with self._database.snapshot() as reader:
            rows = reader.fetch_all(
                f"SELECT {_COLUMNS} FROM outbox{where} ORDER BY seq LIMIT ?", (limit,)
            )
        return [_message(row) for row in rows]

    def hall_id_for(self, reference: str) -> str | None:
        """The hall's id for a local reference, once the hall has acknowledged it."""
        with self._database.snapshot() as reader:
            value = reader.fetch_value(
                "SELECT hall_id FROM outbox_references WHERE reference = ?", (reference,)
            )
        return None if value is None else str(value)

    def reference(self, reference: str) -> HallReference | None:
        with self._database.snapshot() as reader:
            row = reader.fetch_one(
                "SELECT reference, hall_id, hall_label, acknowledged_at_ms FROM outbox_references "
                "WHERE reference = ?",
                (reference,),
            )
        if row is None:
            return None
        return HallReference(str(row[0]), str(row[1]), str(row[2]), _from_ms(row[3]))

    def is_pending(self, reference: str) -> bool:
        """True while the message that creates `reference` is still in the outbox."""
        with self._database.snapshot() as reader:
            found = reader.fetch_value("SELECT 1 FROM outbox WHERE reference = ?", (reference,))
        return found is not None

    def referenced_files(self) -> set[str]:
        """Files waiting messages still need (anything else in the e-copy folder is stale)."""
        with self._database.snapshot() as reader:
            rows = reader.fetch_all("SELECT files FROM outbox WHERE files <> '[]'")
        return {str(path) for row in rows for path in json.loads(row[0])}

    def stats(self) -> OutboxStats:
        with self._database.snapshot() as reader:
            row = reader.fetch_one(
                "SELECT COUNT(*), COUNT(parked_reason), MIN(created_at_ms) FROM outbox"
            )
        assert row is not None  # an aggregate always returns one row
        if row[2] is None:
            return OutboxStats(0, 0, None, 0.0)
        oldest = _from_ms(row[2])
        age = max(0.0, (self._clock() - oldest).total_seconds())
        return OutboxStats(int(row[0]), int(row[1]), oldest, age)

    # -- outcomes (from the sender) ----------------------------------------------------------

    def settle(self, outcomes: Sequence[Outcome]) -> SettledOutcomes:
        """Record the outcomes of one round of delivery in a single commit (one fsync, not N)."""
        now = self._clock()
        now_ms = _to_ms(now)
        acknowledged: list[OutboxMessage] = []
        parked: list[OutboxMessage] = []
        retried: list[OutboxMessage] = []
        missing: list[str] = []
        with self._database.transaction() as tx:
            for outcome in outcomes:
                row = tx.fetch_one(
                    f"SELECT {_COLUMNS} FROM outbox WHERE message_key = ?", (outcome.key,)
                )
                if row is None:
                    missing.append(outcome.key)
                    continue
                message = _message(row)
                if isinstance(outcome, Acknowledgement):
                    self._acknowledge(tx, message, outcome, now_ms)
                    acknowledged.append(message)
                elif isinstance(outcome, Park):
                    tx.execute(
                        "UPDATE outbox SET parked_reason = ?, parked_at_ms = ?, last_error = ?, "
                        "attempts = attempts + 1 WHERE seq = ?",
                        (outcome.reason, now_ms, outcome.reason, message.seq),
                    )
                    parked.append(message)
                else:
                    tx.execute(
                        "UPDATE outbox SET attempts = attempts + ?, next_attempt_at_ms = ?, "
                        "last_error = ? WHERE seq = ?",
                        (
                            1 if outcome.count_attempt else 0,
                            now_ms + int(max(0.0, outcome.delay_s) * 1000),
                            outcome.error,
                            message.seq,
                        ),
                    )
                    retried.append(message)
        return SettledOutcomes(tuple(acknowledged), tuple(parked), tuple(retried), tuple(missing))

    def acknowledge(self, key: str, hall_id: str | None = None, hall_label: str = "") -> None:
        """The hall has the message: delete it (and remember what the hall called it)."""
        if self.settle([Acknowledgement(key, hall_id, hall_label)]).missing:
            raise UnknownMessage(f"Message {key} is not in the outbox (already acknowledged?).")

    def park(self, key: str, reason: str) -> None:
        if self.settle([Park(key, reason)]).missing:
            raise UnknownMessage(f"Message {key} is not in the outbox (already acknowledged?).")

    def retry_later(self, key: str, error: str, delay_s: float) -> None:
        if self.settle([Retry(key, error, delay_s)]).missing:
            raise UnknownMessage(f"Message {key} is not in the outbox (already acknowledged?).")

    def release(self, key: str) -> None:
        """A technician fixed the cause: deliver the parked message again, from attempt zero."""
        now_ms = _to_ms(self._clock())
        with self._database.transaction() as tx:
            result = tx.execute(
                "UPDATE outbox SET parked_reason = NULL, parked_at_ms = NULL, attempts = 0, "
                "next_attempt_at_ms = ? WHERE message_key = ? AND parked_reason IS NOT NULL",
                (now_ms, key),
            )
        if result.row_count == 0:
            raise UnknownMessage(f"Message {key} is not parked in the outbox.")
        self._notify()

    # -- wake-ups -----------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[], None]) -> None:
        """`listener()` runs after every enqueue (on the caller's thread): it must only signal."""
        with self._listeners_lock:
            self._listeners.append(listener)

    # -- internals ----------------------------------------------------------------------------

    def _notify(self) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    @staticmethod
    def _reference_taken(reader: Reader, reference: str) -> bool:
        return (
            reader.fetch_value("SELECT 1 FROM outbox WHERE reference = ?", (reference,)) is not None
            or reader.fetch_value(
                "SELECT 1 FROM outbox_references WHERE reference = ?", (reference,)
            )
            is not None
        )

    @staticmethod
    def _acknowledge(
        tx: Transaction, message: OutboxMessage, outcome: Acknowledgement, now_ms: int
    ) -> None:
        if message.reference is not None:
            if not outcome.hall_id:
                raise OutboxError(
                    f"The hall acknowledged {message.kind} {message.key} without saying what it "
                    "created; the sender must pass the hall's id."
                )
            tx.execute(
                "INSERT OR REPLACE INTO outbox_references "
                "(reference, hall_id, hall_label, acknowledged_at_ms) VALUES (?, ?, ?, ?)",
                (message.reference, outcome.hall_id, outcome.hall_label, now_ms),
            )
        tx.execute("DELETE FROM outbox WHERE seq = ?", (message.seq,))
