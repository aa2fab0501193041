"""What the fleet link keeps across restarts: the telemetry outbox, the active alerts, the command
ledger and the remote configuration (tables of migration 0009).

Why durable:

* **Telemetry outbox.** An alert raised while the broker is unreachable (or while the terminal
  restarts) must still reach the console, in order. Every alert change and published log line is
  written here first and deleted only after the broker acknowledged it (QoS 1 PUBACK). Log lines
  are capped (`MAX_OUTBOUND`): when a long outage fills the table, the oldest *log lines* go;
  alert changes are never dropped.
* **Active alerts.** The broker keeps alerts as retained messages. An alert that ended while the
  terminal was off must still be cleared, so the set that was last published survives restarts.
* **Command ledger.** A redelivered command (QoS 1, or a console that sends again) must return its
  stored result and never act twice — also after a restart. The entry is written *before* acting
  (IN_PROGRESS), so a crash in the middle is seen on redelivery and not repeated blindly. Entries
  are kept `LEDGER_RETENTION_S`, far longer than the longest command lifetime, so an old command
  cannot be replayed after its entry is gone (it has expired by then).

`SqliteFleetStore` is the terminal's; `MemoryFleetStore` serves the light simulated terminals.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kiosk.storage import Database

MAX_OUTBOUND = 5000
LEDGER_RETENTION_S = 7 * 24 * 3600
LOG_TOPIC_MARK = "/$log/"


@dataclass(frozen=True)
class Outbound:
    """A message to publish later, in order."""

    topic: str
    payload: bytes
    retain: bool


@dataclass(frozen=True)
class StoredOutbound:
    seq: int
    message: Outbound


@dataclass(frozen=True)
class LedgerEntry:
    command_id: str
    name: str
    issuer: str
    status: str
    detail: str
    result: Any
    received_at_ms: int
    finished_at_ms: int | None


class FleetStore(Protocol):
    def append_outbound(
        self, messages: Sequence[Outbound], active_alerts: Mapping[str, bytes] | None = None
    ) -> None:
        """Queue messages (and, in the same transaction, replace the active alert set)."""

    def pending_outbound(self, limit: int = 200) -> list[StoredOutbound]: ...

    def delete_outbound(self, seq: int) -> None: ...

    def active_alerts(self) -> dict[str, bytes]: ...

    def ledger_entry(self, command_id: str) -> LedgerEntry | None: ...

    def ledger_begin(self, entry: LedgerEntry) -> bool:
        """Record a command as started; False when its id is already in the ledger."""

    def ledger_finish(
        self, command_id: str, status: str, detail: str, result: Any, at_ms: int
    ) -> None: ...

    def prune_ledger(self, older_than_ms: int) -> int: ...

    def load_document(self, name: str) -> dict[str, Any] | None: ...

    def save_document(self, name: str, data: Mapping[str, Any]) -> None: ...


class SqliteFleetStore:
    """The fleet tables of the terminal's database (thread-safe through `Database`)."""

    def __init__(self, database: Database, max_outbound: int = MAX_OUTBOUND) -> None:
        self._database = database
        self._max_outbound = max_outbound

    def append_outbound(
        self, messages: Sequence[Outbound], active_alerts: Mapping[str, bytes] | None = None
    ) -> None:
        with self._database.transaction() as tx:
            tx.execute_many(
                "INSERT INTO fleet_outbound (topic, payload, retain) VALUES (?, ?, ?)",
                [(m.topic, m.payload, int(m.retain)) for m in messages],
            )
            if active_alerts is not None:
                tx.execute("DELETE FROM fleet_active_alerts")
                tx.execute_many(
                    "INSERT INTO fleet_active_alerts (alert_id, payload) VALUES (?, ?)",
                    list(active_alerts.items()),
                )
            count = tx.fetch_value("SELECT COUNT(*) FROM fleet_outbound")
            excess = int(count if isinstance(count, int) else 0) - self._max_outbound
            if excess > 0:
                tx.execute(
                    "DELETE FROM fleet_outbound WHERE seq IN (SELECT seq FROM fleet_outbound "
                    "WHERE instr(topic, ?) > 0 ORDER BY seq LIMIT ?)",
                    (LOG_TOPIC_MARK, excess),
                )

    def pending_outbound(self, limit: int = 200) -> list[StoredOutbound]:
        with self._database.snapshot() as reader:
            rows = reader.fetch_all(
                "SELECT seq, topic, payload, retain FROM fleet_outbound ORDER BY seq LIMIT ?",
                (limit,),
            )
        return [
            StoredOutbound(int(r[0]), Outbound(str(r[1]), bytes(r[2]), bool(r[3]))) for r in rows
        ]

    def delete_outbound(self, seq: int) -> None:
        with self._database.transaction() as tx:
            tx.execute("DELETE FROM fleet_outbound WHERE seq = ?", (seq,))

    def active_alerts(self) -> dict[str, bytes]:
        with self._database.snapshot() as reader:
            rows = reader.fetch_all("SELECT alert_id, payload FROM fleet_active_alerts")
        return {str(r[0]): bytes(r[1]) for r in rows}

    def ledger_entry(self, command_id: str) -> LedgerEntry | None:
        with self._database.snapshot() as reader:
            row = reader.fetch_one(
                "SELECT command_id, name, issuer, status, detail, result, received_at_ms, "
                "finished_at_ms FROM fleet_command_ledger WHERE command_id = ?",
                (command_id,),
            )
        if row is None:
            return None
        return LedgerEntry(
            command_id=str(row[0]),
            name=str(row[1]),
            issuer=str(row[2]),
            status=str(row[3]),
            detail=str(row[4]),
            result=json.loads(row[5]) if row[5] is not None else None,
            received_at_ms=int(row[6]),
            finished_at_ms=None if row[7] is None else int(row[7]),
        )

    def ledger_begin(self, entry: LedgerEntry) -> bool:
        with self._database.transaction() as tx:
            done = tx.execute(
                "INSERT OR IGNORE INTO fleet_command_ledger (command_id, name, issuer, status, "
                "detail, result, received_at_ms, finished_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    entry.command_id,
                    entry.name,
                    entry.issuer,
                    entry.status,
                    entry.detail,
                    None if entry.result is None else json.dumps(entry.result),
                    entry.received_at_ms,
                    entry.finished_at_ms,
                ),
            )
        return done.row_count == 1

    def ledger_finish(
        self, command_id: str, status: str, detail: str, result: Any, at_ms: int
    ) -> None:
        with self._database.transaction() as tx:
            tx.execute(
                "UPDATE fleet_command_ledger SET status = ?, detail = ?, result = ?, "
                "finished_at_ms = ? WHERE command_id = ?",
                (status, detail, None if result is None else json.dumps(result), at_ms, command_id),
            )

    def prune_ledger(self, older_than_ms: int) -> int:
        with self._database.transaction() as tx:
            done = tx.execute(
                "DELETE FROM fleet_command_ledger WHERE received_at_ms < ? "
                "AND finished_at_ms IS NOT NULL",
                (older_than_ms,),
            )
        return done.row_count

    def load_document(self, name: str) -> dict[str, Any] | None:
        with self._database.snapshot() as reader:
            value = reader.fetch_value("SELECT data FROM fleet_documents WHERE name = ?", (name,))
        if value is None:
            return None
        loaded = json.loads(str(value))
        return loaded if isinstance(loaded, dict) else None

    def save_document(self, name: str, data: Mapping[str, Any]) -> None:
        with self._database.transaction() as tx:
            tx.execute(
                "INSERT INTO fleet_documents (name, data) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET data = excluded.data",
                (name, json.dumps(dict(data), ensure_ascii=False, sort_keys=True)),
            )


class MemoryFleetStore:
    """The same contract in memory: for simulated terminals, which have no disk of their own."""

    def __init__(self, max_outbound: int = MAX_OUTBOUND) -> None:
        self._lock = threading.Lock()
        self._outbound: list[StoredOutbound] = []
        self._next_seq = 1
        self._alerts: dict[str, bytes] = {}
        self._ledger: dict[str, LedgerEntry] = {}
        self._documents: dict[str, dict[str, Any]] = {}
        self._max_outbound = max_outbound

    def append_outbound(
        self, messages: Sequence[Outbound], active_alerts: Mapping[str, bytes] | None = None
    ) -> None:
        with self._lock:
            for message in messages:
                self._outbound.append(StoredOutbound(self._next_seq, message))
                self._next_seq += 1
            if active_alerts is not None:
                self._alerts = dict(active_alerts)
            excess = len(self._outbound) - self._max_outbound
            if excess > 0:
                logs = [s for s in self._outbound if LOG_TOPIC_MARK in s.message.topic][:excess]
                dropped = {s.seq for s in logs}
                self._outbound = [s for s in self._outbound if s.seq not in dropped]

    def pending_outbound(self, limit: int = 200) -> list[StoredOutbound]:
        with self._lock:
            return list(self._outbound[:limit])

    def delete_outbound(self, seq: int) -> None:
        with self._lock:
            self._outbound = [s for s in self._outbound if s.seq != seq]

    def active_alerts(self) -> dict[str, bytes]:
        with self._lock:
            return dict(self._alerts)

    def ledger_entry(self, command_id: str) -> LedgerEntry | None:
        with self._lock:
            return self._ledger.get(command_id)

    def ledger_begin(self, entry: LedgerEntry) -> bool:
        with self._lock:
            if entry.command_id in self._ledger:
                return False
            self._ledger[entry.command_id] = entry
            return True

    def ledger_finish(
        self, command_id: str, status: str, detail: str, result: Any, at_ms: int
    ) -> None:
        with self._lock:
            entry = self._ledger[command_id]
            self._ledger[command_id] = LedgerEntry(
                entry.command_id,
                entry.name,
                entry.issuer,
                status,
                detail,
                result,
                entry.received_at_ms,
                at_ms,
            )

    def prune_ledger(self, older_than_ms: int) -> int:
        with self._lock:
            old = [
                key
                for key, entry in self._ledger.items()
                if entry.received_at_ms < older_than_ms and entry.finished_at_ms is not None
            ]
            for key in old:
                del self._ledger[key]
            return len(old)

    def load_document(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._documents.get(name)
            return None if found is None else dict(found)

    def save_document(self, name: str, data: Mapping[str, Any]) -> None:
        with self._lock:
            self._documents[name] = dict(data)
