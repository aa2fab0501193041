"""The terminal's local database: one SQLite file in WAL mode, owned by one `Database` object.

Decisions, and why:

* **WAL with `synchronous=FULL`.** In WAL mode, `NORMAL` syncs only at checkpoints, so a power cut
  can take back the last transactions *after* `COMMIT` returned — after the screen told the citizen
  "your materials are in box 7" or a door was commanded open. `FULL` syncs the WAL at every commit:
  when `transaction()` returns, the change survives a power cut at 3 a.m. The price is one fsync per
  commit (see bench/bench_storage.py), irrelevant at the pace of a touchscreen.
* **One connection, guarded by one re-entrant lock (a single writer).** SQLite admits one writer
  at a time anyway; the kiosk's worker threads commit a few rows per citizen action. One connection
  gives one place for the pragmas and one transaction state, and no per-thread connections leaking
  from short-lived threads. A thread that wants the database while another holds it waits up to
  the busy timeout, then gets `DatabaseBusy`. Readers wait behind a writer for the length of a
  commit — milliseconds — which is why nobody may talk to a device inside a transaction (commit
  the intent, operate the door, commit the outcome).
* **`BEGIN IMMEDIATE`** takes the write lock at the start, so a transaction never fails half-way
  with "database is locked" when another process (a technician's `kiosk` command) reads or writes.
  A `transaction()` opened inside another on the same thread becomes a savepoint: a service that
  writes an outbox row opens its own `transaction()`, and a workflow that wraps the state change
  and that service call in an outer `transaction()` gets both in one commit.
* **Foreign keys on, busy timeout set, schema migrated at open**, so every connection the code can
  get has the same rules and the current schema.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .errors import (
    DatabaseBusy,
    DatabaseClosed,
    DatabaseCorrupt,
    DatabaseUnavailable,
    StorageError,
    translate_sqlite_error,
)
from .schema import AppliedMigration, Migration, apply_migrations, load_migrations, read_applied

DATABASE_FILE_NAME = "terminal.sqlite3"
DEFAULT_BUSY_TIMEOUT_S = 5.0
SYNCHRONOUS = "FULL"
# After a checkpoint the WAL file is cut back to this size, so a burst does not keep disk forever.
JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024

Params = Sequence[object] | Mapping[str, object]
_PRAGMA_NAME = re.compile(r"^[a-z_]+$")


@dataclass(frozen=True)
class WriteResult:
    """What a write statement did, without handing out a live cursor."""

    row_count: int
    last_row_id: int | None


class Reader:
    """Read access inside `Database.snapshot()` or `.transaction()`; dead after the block."""

    def __init__(self, database: Database, connection: sqlite3.Connection) -> None:
        self._database = database
        self._connection = connection
        self._open = True

    def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return self._run(sql, params, "reading").fetchall()

    def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._run(sql, params, "reading").fetchone()
        return row

    def fetch_value(self, sql: str, params: Params = ()) -> object:
        """The first column of the first row, or None when there is no row."""
        row = self.fetch_one(sql, params)
        return None if row is None else row[0]

    def _end(self) -> None:
        self._open = False

    def _run(self, sql: str, params: Params, doing: str) -> sqlite3.Cursor:
        self._check_usable()
        try:
            return self._connection.execute(sql, params)
        except sqlite3.Error as err:
            raise translate_sqlite_error(err, self._database.path, doing) from err

    def _check_usable(self) -> None:
        if not self._open:
            raise StorageError(
                "A database handle was used after its `with` block ended; keep all statements "
                "of one transaction inside its block."
            )
        if not self._connection.in_transaction:
            raise StorageError(
                f"SQLite already rolled back this transaction on {self._database.path} after an "
                "earlier error; leave the block and start the work again."
            )


class Transaction(Reader):
    """Write access; everything done through it commits together or not at all."""

    def execute(self, sql: str, params: Params = ()) -> WriteResult:
        cursor = self._run(sql, params, "saving a change")
        return WriteResult(cursor.rowcount, cursor.lastrowid)

    def execute_many(self, sql: str, rows: Iterable[Params]) -> WriteResult:
        """One statement over many parameter rows (DML only); `last_row_id` is not reported."""
        self._check_usable()
        try:
            cursor = self._connection.executemany(sql, rows)
        except sqlite3.Error as err:
            raise translate_sqlite_error(err, self._database.path, "saving a change") from err
        return WriteResult(cursor.rowcount, None)


class Database:
    """Owns the connection to the terminal's SQLite file; open it with `Database.open(path)`."""

    def __init__(self, path: Path, connection: sqlite3.Connection, busy_timeout_s: float) -> None:
        """Use `Database.open`; this only wires an already configured connection."""
        self.path = path
        self._connection: sqlite3.Connection | None = connection
        self._busy_timeout_s = busy_timeout_s
        self._lock = threading.RLock()
        self._depth = 0
        self._outer: Literal["write", "read"] | None = None
        self.migrations_run_at_open: tuple[Migration, ...] = ()

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        migrations: Sequence[Migration] | None = None,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    ) -> Database:
        """Open (creating if needed) the file, set the pragmas and bring the schema up to date.

        `migrations` defaults to the packaged files; tests pass their own lists.
        """
        path = Path(path)
        known = load_migrations() if migrations is None else list(migrations)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise DatabaseUnavailable(
                f"The folder {path.parent} for the database cannot be created ({err.strerror}); "
                "check storage.data_dir in the configuration and the folder's permissions."
            ) from err
        try:
            connection = sqlite3.connect(
                str(path),
                timeout=busy_timeout_s,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,  # access is serialised by Database._lock
            )
        except sqlite3.Error as err:
            raise translate_sqlite_error(err, path, "opening it") from err
        try:
            connection.row_factory = sqlite3.Row
            _configure(connection, path, busy_timeout_s)
            ran = apply_migrations(connection, known, path)
        except BaseException:
            connection.close()
            raise
        database = cls(path, connection, busy_timeout_s)
        database.migrations_run_at_open = tuple(ran)
        return database

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Everything written in the block commits at its end, or rolls back if it raises.

        Nested on the same thread, the inner block is a savepoint of the outer transaction.
        """
        with self._held("saving a change"):
            connection = self._live_connection()
            if self._outer == "read":
                raise StorageError(
                    "A change was started inside a read-only snapshot; open the transaction "
                    "instead of the snapshot."
                )
            level = self._depth
            savepoint = f"nested_{level}"
            self._statement("BEGIN IMMEDIATE" if level == 0 else f"SAVEPOINT {savepoint}")
            self._enter("write")
            handle = Transaction(self, connection)
            try:
                yield handle
            except BaseException as failure:
                handle._end()
                self._leave()
                self._undo(level, savepoint, failure)
                raise
            handle._end()
            self._leave()
            try:
                self._statement("COMMIT" if level == 0 else f"RELEASE {savepoint}")
            except StorageError as failure:
                self._undo(level, savepoint, failure)
                raise

    @contextmanager
    def snapshot(self) -> Iterator[Reader]:
        """A consistent view for several reads; inside a transaction it sees that transaction."""
        with self._held("reading"):
            connection = self._live_connection()
            if self._depth > 0:
                inner = Reader(self, connection)
                try:
                    yield inner
                finally:
                    inner._end()
                return
            self._statement("BEGIN DEFERRED")
            self._enter("read")
            handle = Reader(self, connection)
            try:
                yield handle
            finally:
                handle._end()
                self._leave()
                if connection.in_transaction:
                    self._statement("COMMIT")

    # -- inspection ---------------------------------------------------------------------------

    def schema_version(self) -> int:
        applied = self.applied_migrations()
        return applied[-1].version if applied else 0

    def applied_migrations(self) -> list[AppliedMigration]:
        with self._held("reading"):
            try:
                return read_applied(self._live_connection())
            except sqlite3.Error as err:
                raise translate_sqlite_error(err, self.path, "reading its schema") from err

    def pragma_value(self, name: str) -> object:
        """Current value of a setting such as journal_mode or foreign_keys (for doctor/tests)."""
        if not _PRAGMA_NAME.match(name):
            raise ValueError(f"not a pragma name: {name!r}")
        with self._held("reading"):
            try:
                row = self._live_connection().execute(f"PRAGMA {name}").fetchone()
            except sqlite3.Error as err:
                raise translate_sqlite_error(err, self.path, f"reading {name}") from err
        return None if row is None else row[0]

    def check_integrity(self, *, quick: bool = False) -> None:
        """Raise `DatabaseCorrupt` naming the file and the first problems if SQLite finds damage.

        `quick` skips the index-content checks (much faster on a big file; good for start-up).
        """
        with self._held("checking it"):
            connection = self._live_connection()
            try:
                pragma = "quick_check" if quick else "integrity_check"
                problems = [str(row[0]) for row in connection.execute(f"PRAGMA {pragma}(20)")]
                dangling = connection.execute("PRAGMA foreign_key_check").fetchall()
            except sqlite3.Error as err:
                raise translate_sqlite_error(err, self.path, "checking it") from err
        if problems != ["ok"]:
            shown = "; ".join(problems[:3])
            raise DatabaseCorrupt(
                f"The database {self.path} is damaged ({len(problems)} problem(s), first: "
                f"{shown}); stop the terminal, move the file aside and restore the latest backup."
            )
        if dangling:
            raise DatabaseCorrupt(
                f"The database {self.path} has {len(dangling)} row(s) pointing at missing rows "
                f"(first in table '{dangling[0][0]}'); restore the latest backup."
            )

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the file; safe to call twice. SQLite checkpoints the WAL on the last close."""
        with self._held("closing it"):
            if self._depth > 0:
                raise StorageError(
                    f"The database {self.path} was closed inside an open transaction; close it "
                    "after the `with` block."
                )
            connection, self._connection = self._connection, None
            if connection is not None:
                try:
                    connection.execute("PRAGMA optimize")
                    connection.close()
                except sqlite3.Error as err:
                    raise translate_sqlite_error(err, self.path, "closing it") from err

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------------

    @contextmanager
    def _held(self, doing: str) -> Iterator[None]:
        if not self._lock.acquire(timeout=self._busy_timeout_s):
            raise DatabaseBusy(
                f"Another part of the terminal held the database {self.path} for more than "
                f"{self._busy_timeout_s:g} s while {doing}; a transaction is waiting on something "
                "slow — report this with the log."
            )
        try:
            yield
        finally:
            self._lock.release()

    def _live_connection(self) -> sqlite3.Connection:
        if self._connection is None:
            raise DatabaseClosed(
                f"The database {self.path} was used after it was closed; this is a bug in the "
                "start-up/shut-down order."
            )
        return self._connection

    def _statement(self, sql: str) -> None:
        try:
            self._live_connection().execute(sql)
        except sqlite3.Error as err:
            raise translate_sqlite_error(err, self.path, "saving a change") from err

    def _enter(self, mode: Literal["write", "read"]) -> None:
        if self._depth == 0:
            self._outer = mode
        self._depth += 1

    def _leave(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._outer = None

    def _undo(self, level: int, savepoint: str, failure: BaseException) -> None:
        """Roll back this level; a failure here is noted on the error that caused it."""
        connection = self._live_connection()
        if not connection.in_transaction:
            return  # SQLite already rolled everything back (I/O error, full disk)
        try:
            if level == 0:
                connection.execute("ROLLBACK")
            else:
                connection.execute(f"ROLLBACK TO {savepoint}")
                connection.execute(f"RELEASE {savepoint}")
        except sqlite3.Error as err:
            failure.add_note(f"Rolling back on {self.path} also failed: {err}")


def _configure(connection: sqlite3.Connection, path: Path, busy_timeout_s: float) -> None:
    try:
        mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise DatabaseUnavailable(
                f"The database {path} cannot use write-ahead logging (journal mode stayed "
                f"'{mode}'); put storage.data_dir on a local disk, not a network share."
            )
        connection.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
        connection.execute("PRAGMA foreign_keys = ON")
        # Deleted rows are overwritten, not left in free pages: a delivered outbox row carried a
        # pickup code in plain text, and e-copies must not outlive their acknowledgement.
        connection.execute("PRAGMA secure_delete = ON")
        connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        connection.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT_BYTES}")
    except sqlite3.Error as err:
        raise translate_sqlite_error(err, path, "opening it") from err
