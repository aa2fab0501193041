"""The console's own memory: terminals, latest values, alerts, history samples, logs, commands.

SQLite (WAL) through the standard library: the console is one process on a technician's machine or
a small server, and everything here can be rebuilt from the broker's retained messages except the
history, the logs and the command record, which is why those are kept and bounded.
One connection behind a lock: paho's network thread writes, the web server's threads read.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .protocol import Alert, Command, Reply, ReplyStatus, Severity

SCHEMA = """
CREATE TABLE IF NOT EXISTS terminals (
    device_id TEXT PRIMARY KEY,
    state TEXT NOT NULL DEFAULT 'unknown',
    state_at REAL NOT NULL,
    first_seen REAL NOT NULL,
    last_message_at REAL NOT NULL,
    description TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS property_values (
    device_id TEXT NOT NULL,
    node TEXT NOT NULL,
    property TEXT NOT NULL,
    value TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (device_id, node, property)
);
CREATE TABLE IF NOT EXISTS active_alerts (
    device_id TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    severity TEXT NOT NULL,
    text_en TEXT NOT NULL,
    text_zh TEXT NOT NULL,
    since TEXT NOT NULL,
    seen_at REAL NOT NULL,
    PRIMARY KEY (device_id, alert_id)
);
CREATE TABLE IF NOT EXISTS alert_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    severity TEXT NOT NULL,
    text_en TEXT NOT NULL,
    raised_at REAL NOT NULL,
    cleared_at REAL
);
CREATE INDEX IF NOT EXISTS alert_history_device ON alert_history (device_id, raised_at);
CREATE TABLE IF NOT EXISTS samples (
    device_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    at REAL NOT NULL,
    value REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_series ON samples (device_id, metric, at);
CREATE TABLE IF NOT EXISTS logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL,
    level TEXT NOT NULL,
    text TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_device ON logs (device_id, id);
CREATE TABLE IF NOT EXISTS commands (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    name TEXT NOT NULL,
    args TEXT NOT NULL,
    issuer TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    result TEXT,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS commands_device ON commands (device_id, issued_at);
CREATE TABLE IF NOT EXISTS screenshots (
    device_id TEXT PRIMARY KEY,
    png BLOB NOT NULL,
    at REAL NOT NULL,
    command_id TEXT NOT NULL
);
"""

SENT = "SENT"  # the console's own status before the terminal's first reply
_QUIET_STATES = {"ready"}


class StoreError(Exception):
    """The console's database cannot be used (path, permissions, disk)."""


@dataclass(frozen=True)
class TerminalSummary:
    device_id: str
    state: str
    state_at: float
    last_message_at: float
    alerts: tuple[Alert, ...]

    @property
    def urgency(self) -> int:
        """0 is the most urgent: lost, then the worst alert, then not ready, then healthy."""
        if self.state == "lost":
            return 0
        worst = min((alert.severity.rank for alert in self.alerts), default=None)
        if worst is not None and worst < Severity.INFO.rank:
            return 1 + worst  # critical 1, error 2, warning 3
        if self.state not in _QUIET_STATES:
            return 4
        return 5 if self.alerts else 6

    @property
    def urgency_label(self) -> str:
        if self.state == "lost":
            return "lost"
        if self.alerts:
            return min(self.alerts, key=lambda alert: alert.severity.rank).severity.value
        return "ok" if self.state in _QUIET_STATES else "attention"


@dataclass(frozen=True)
class CommandRecord:
    command: Command
    device_id: str
    status: str
    detail: str
    result: Any
    updated_at: float


@dataclass(frozen=True)
class LogLine:
    level: str
    text: str
    at: float


class ConsoleStore:
    def __init__(
        self, path: Path | str, *, samples_per_series: int = 2000, logs_per_terminal: int = 500
    ) -> None:
        self._lock = threading.RLock()
        self._samples_per_series = samples_per_series
        self._logs_per_terminal = logs_per_terminal
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
        except sqlite3.Error as err:
            raise StoreError(
                f"The console database {path} cannot be opened ({err}); check the folder exists "
                "and is writable."
            ) from err

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- ingest side --------------------------------------------------------------------------
    def touch(self, device_id: str, now: float) -> None:
        with self._transaction() as db:
            self._touch(db, device_id, now)

    def _touch(self, db: sqlite3.Connection, device_id: str, now: float) -> None:
        db.execute(
            "INSERT INTO terminals (device_id, state_at, first_seen, last_message_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET last_message_at = ?",
            (device_id, now, now, now, now),
        )

    def set_state(self, device_id: str, state: str, now: float) -> bool:
        """True when the state changed (so the caller records a connectivity sample)."""
        with self._transaction() as db:
            self._touch(db, device_id, now)
            row = db.execute(
                "SELECT state FROM terminals WHERE device_id = ?", (device_id,)
            ).fetchone()
            if row[0] == state:
                return False
            db.execute(
                "UPDATE terminals SET state = ?, state_at = ? WHERE device_id = ?",
                (state, now, device_id),
            )
            return True

    def set_description(self, device_id: str, description: dict[str, Any], now: float) -> None:
        with self._transaction() as db:
            self._touch(db, device_id, now)
            db.execute(
                "UPDATE terminals SET description = ? WHERE device_id = ?",
                (json.dumps(description, ensure_ascii=False), device_id),
            )

    def set_value(self, device_id: str, node: str, prop: str, value: str, now: float) -> bool:
        """True when the value changed: a retained replay after a reconnect is not history."""
        with self._transaction() as db:
            self._touch(db, device_id, now)
            row = db.execute(
                "SELECT value FROM property_values WHERE device_id = ? AND node = ? "
                "AND property = ?",
                (device_id, node, prop),
            ).fetchone()
            if row is not None and row[0] == value:
                return False
            db.execute(
                "INSERT INTO property_values VALUES (?, ?, ?, ?, ?) ON CONFLICT "
                "(device_id, node, property) DO UPDATE SET value = excluded.value, "
                "at = excluded.at",
                (device_id, node, prop, value, now),
            )
            return True

    def raise_alert(self, device_id: str, alert: Alert, now: float) -> bool:
        """True when the alert is new (not a retained repeat of one already active)."""
        with self._transaction() as db:
            self._touch(db, device_id, now)
            existing = db.execute(
                "SELECT 1 FROM active_alerts WHERE device_id = ? AND alert_id = ?",
                (device_id, alert.alert_id),
            ).fetchone()
            db.execute(
                "INSERT INTO active_alerts VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
                "(device_id, alert_id) DO UPDATE SET severity = excluded.severity, "
                "text_en = excluded.text_en, text_zh = excluded.text_zh, since = excluded.since",
                (
                    device_id,
                    alert.alert_id,
                    alert.severity.value,
                    alert.text_en,
                    alert.text_zh,
                    alert.since,
                    now,
                ),
            )
            if existing is None:
                db.execute(
                    "INSERT INTO alert_history (device_id, alert_id, severity, text_en, raised_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (device_id, alert.alert_id, alert.severity.value, alert.text_en, now),
                )
            return existing is None

    def clear_alert(self, device_id: str, alert_id: str, now: float) -> bool:
        with self._transaction() as db:
            self._touch(db, device_id, now)
            gone = db.execute(
                "DELETE FROM active_alerts WHERE device_id = ? AND alert_id = ?",
                (device_id, alert_id),
            ).rowcount
            db.execute(
                "UPDATE alert_history SET cleared_at = ? WHERE device_id = ? AND alert_id = ? "
                "AND cleared_at IS NULL",
                (now, device_id, alert_id),
            )
            return bool(gone)

    def add_sample(self, device_id: str, metric: str, value: float, now: float) -> None:
        with self._transaction() as db:
            db.execute("INSERT INTO samples VALUES (?, ?, ?, ?)", (device_id, metric, now, value))
            db.execute(
                "DELETE FROM samples WHERE device_id = ? AND metric = ? AND at < (SELECT at FROM "
                "samples WHERE device_id = ? AND metric = ? ORDER BY at DESC LIMIT 1 OFFSET ?)",
                (device_id, metric, device_id, metric, self._samples_per_series - 1),
            )

    def add_log(self, device_id: str, level: str, text: str, now: float) -> None:
        with self._transaction() as db:
            self._touch(db, device_id, now)
            db.execute(
                "INSERT INTO logs (device_id, level, text, at) VALUES (?, ?, ?, ?)",
                (device_id, level, text, now),
            )
            db.execute(
                "DELETE FROM logs WHERE device_id = ? AND id <= (SELECT id FROM logs WHERE "
                "device_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (device_id, device_id, self._logs_per_terminal),
            )

    # -- commands -----------------------------------------------------------------------------
    def record_command(self, device_id: str, command: Command, now: float) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO commands VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', NULL, ?)",
                (
                    command.id,
                    device_id,
                    command.name,
                    json.dumps(dict(command.args), ensure_ascii=False),
                    command.issuer,
                    command.issued_at,
                    command.expires_at,
                    SENT,
                    now,
                ),
            )

    def record_reply(self, reply: Reply, now: float) -> str | None:
        """The device id of the command, or None for a reply to a command this console never sent.

        A final status is never overwritten by a late RECEIVED or IN_PROGRESS that the broker
        delivered out of order.
        """
        with self._transaction() as db:
            row = db.execute(
                "SELECT device_id, status FROM commands WHERE id = ?", (reply.command_id,)
            ).fetchone()
            if row is None:
                return None
            device_id, status = row
            if status in {s.value for s in ReplyStatus if s.is_final} and not reply.status.is_final:
                return str(device_id)
            result = None if reply.result is None else json.dumps(reply.result, ensure_ascii=False)
            db.execute(
                "UPDATE commands SET status = ?, detail = ?, result = COALESCE(?, result), "
                "updated_at = ? WHERE id = ?",
                (reply.status.value, reply.detail, result, now, reply.command_id),
            )
            return str(device_id)

    def save_screenshot(self, device_id: str, png: bytes, command_id: str, now: float) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO screenshots VALUES (?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE "
                "SET png = excluded.png, at = excluded.at, command_id = excluded.command_id",
                (device_id, png, now, command_id),
            )

    # -- reading side -------------------------------------------------------------------------
    def terminals(self) -> list[TerminalSummary]:
        """Every known terminal, the most urgent first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT device_id, state, state_at, last_message_at FROM terminals"
            ).fetchall()
            alerts = self._alerts_by_device()
        summaries = [
            TerminalSummary(row[0], row[1], row[2], row[3], tuple(alerts.get(row[0], ())))
            for row in rows
        ]
        return sorted(summaries, key=lambda t: (t.urgency, t.device_id))

    def terminal(self, device_id: str) -> TerminalSummary | None:
        return next((t for t in self.terminals() if t.device_id == device_id), None)

    def _alerts_by_device(self) -> dict[str, list[Alert]]:
        found: dict[str, list[Alert]] = {}
        for row in self._db.execute(
            "SELECT device_id, alert_id, severity, text_en, text_zh, since FROM active_alerts"
        ):
            found.setdefault(row[0], []).append(
                Alert(row[1], Severity(row[2]), row[3], row[4], row[5])
            )
        for alerts in found.values():
            alerts.sort(key=lambda alert: (alert.severity.rank, alert.alert_id))
        return found

    def description(self, device_id: str) -> dict[str, Any]:
        with self._lock:
            row = self._db.execute(
                "SELECT description FROM terminals WHERE device_id = ?", (device_id,)
            ).fetchone()
        if row is None:
            return {}
        loaded = json.loads(row[0])
        return loaded if isinstance(loaded, dict) else {}

    def values(self, device_id: str) -> dict[str, dict[str, str]]:
        """node → property → latest value."""
        with self._lock:
            rows = self._db.execute(
                "SELECT node, property, value FROM property_values WHERE device_id = ? "
                "ORDER BY node, property",
                (device_id,),
            ).fetchall()
        found: dict[str, dict[str, str]] = {}
        for node, prop, value in rows:
            found.setdefault(node, {})[prop] = value
        return found

    def series(self, device_id: str, metric: str, since: float) -> list[tuple[float, float]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT at, value FROM samples WHERE device_id = ? AND metric = ? AND at >= ? "
                "ORDER BY at",
                (device_id, metric, since),
            ).fetchall()
            if rows and rows[0][0] > since:
                # the value in force at the window's start, so a step chart starts at the left edge
                before = self._db.execute(
                    "SELECT value FROM samples WHERE device_id = ? AND metric = ? AND at < ? "
                    "ORDER BY at DESC LIMIT 1",
                    (device_id, metric, since),
                ).fetchone()
                if before is not None:
                    rows.insert(0, (since, before[0]))
        return [(float(at), float(value)) for at, value in rows]

    def alert_events(self, device_id: str, since: float) -> list[tuple[str, str, float]]:
        """(alert id, severity, raised at) of every alert raised in the window."""
        with self._lock:
            rows = self._db.execute(
                "SELECT alert_id, severity, raised_at FROM alert_history WHERE device_id = ? "
                "AND raised_at >= ? ORDER BY raised_at",
                (device_id, since),
            ).fetchall()
        return [(str(a), str(s), float(t)) for a, s, t in rows]

    def logs(self, device_id: str, limit: int = 50) -> list[LogLine]:
        with self._lock:
            rows = self._db.execute(
                "SELECT level, text, at FROM logs WHERE device_id = ? ORDER BY id DESC LIMIT ?",
                (device_id, limit),
            ).fetchall()
        return [LogLine(level, text, at) for level, text, at in rows]

    def commands(self, device_id: str | None = None, limit: int = 20) -> list[CommandRecord]:
        query = "SELECT * FROM commands"
        params: tuple[Any, ...] = ()
        if device_id is not None:
            query += " WHERE device_id = ?"
            params = (device_id,)
        with self._lock:
            rows = self._db.execute(
                query + " ORDER BY issued_at DESC, rowid DESC LIMIT ?", (*params, limit)
            ).fetchall()
        return [_command_record(row) for row in rows]

    def command(self, command_id: str) -> CommandRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM commands WHERE id = ?", (command_id,)).fetchone()
        return None if row is None else _command_record(row)

    def screenshot(self, device_id: str) -> tuple[bytes, float] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT png, at FROM screenshots WHERE device_id = ?", (device_id,)
            ).fetchone()
        return None if row is None else (bytes(row[0]), float(row[1]))


def _command_record(row: tuple[Any, ...]) -> CommandRecord:
    command_id, device_id, name, args, issuer, issued_at, expires_at = row[:7]
    status, detail, result, at = row[7:]
    return CommandRecord(
        command=Command(command_id, issuer, issued_at, expires_at, name, json.loads(args)),
        device_id=device_id,
        status=status,
        detail=detail,
        result=None if result is None else json.loads(result),
        updated_at=at,
    )
