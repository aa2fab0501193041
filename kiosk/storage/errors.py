"""The storage package's own small exception tree.

Callers above storage (workflows, the composition root, `kiosk doctor`) must be able to tell a
technician what to do without knowing SQLite: is the disk full, is the file damaged, is the
software older than the data? So every `sqlite3.Error` is translated here, at the boundary, into
one of these classes with one plain sentence that names the database file; the original error stays
attached as `__cause__` for the log.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


class StorageError(Exception):
    """Local storage cannot do what was asked; the message says what a technician can do."""


class DatabaseUnavailable(StorageError):
    """The file cannot be opened or written: missing folder, permissions, full or failing disk."""


class DatabaseCorrupt(StorageError):
    """The file is not a SQLite database, or SQLite found it damaged."""


class DatabaseBusy(StorageError):
    """Another thread or process held the database longer than the busy timeout."""


class DatabaseClosed(StorageError):
    """The database was used after `close()`: a bug in the caller's lifecycle."""


class ConstraintViolation(StorageError):
    """A write broke a rule the schema enforces (append-only audit, foreign key, check)."""


class AppendOnlyViolation(ConstraintViolation):
    """Someone tried to change or remove an audit record, which the schema forbids."""


class MigrationError(StorageError):
    """The schema files or the schema history in the database cannot be reconciled."""


class SchemaTooNew(MigrationError):
    """The database was written by a newer software version than the one now running."""


_APPEND_ONLY_MARKER = "append-only"


def translate_sqlite_error(err: sqlite3.Error, path: Path, doing: str) -> StorageError:
    """Map a raw SQLite error to our tree, keeping SQLite's own words as the detail.

    `doing` completes the sentence "... while <doing>", e.g. "opening it" or "saving a change".
    """
    code = getattr(err, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    detail = str(err)
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return DatabaseBusy(
            f"The database {path} stayed locked by another program while {doing} ({detail}); "
            "check that only one terminal process uses this data folder."
        )
    if primary in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
        return DatabaseCorrupt(
            f"The file {path} is not a usable SQLite database ({detail}); stop the terminal, "
            "move the file aside and restore the latest backup (or let the terminal start a "
            "new one)."
        )
    if primary == sqlite3.SQLITE_FULL:
        return DatabaseUnavailable(
            f"The disk holding {path} is full while {doing}; free space on it, then restart."
        )
    if primary in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_READONLY):
        return DatabaseUnavailable(
            f"The database {path} cannot be opened for writing while {doing} ({detail}); check "
            "that its folder exists and that the terminal's user may write there."
        )
    if primary == sqlite3.SQLITE_IOERR:
        return DatabaseUnavailable(
            f"The disk holding {path} reported a read/write failure while {doing} ({detail}); "
            "check the storage device and its free space."
        )
    if primary == sqlite3.SQLITE_CONSTRAINT:
        if _APPEND_ONLY_MARKER in detail:
            return AppendOnlyViolation(f"Refused by {path}: {detail}.")
        return ConstraintViolation(f"A change was refused by the rules of {path}: {detail}.")
    return StorageError(f"The database {path} failed while {doing}: {detail}.")
