"""Local state of the terminal: one SQLite file (WAL, synchronous=FULL), versioned migrations and
the append-only audit trail.

The rest of the core writes state only through `Database.transaction()`, so a state change, its
audit record and its outbox row commit together or not at all. `sqlite3` is the standard library;
the core's rule of importing no I/O library holds.
"""

from .audit import (
    DOOR_OPEN,
    DOOR_OUTCOMES,
    SYSTEM_ACTOR,
    Actor,
    ActorKind,
    AuditEvent,
    AuditLog,
    Outcome,
)
from .database import (
    DATABASE_FILE_NAME,
    DEFAULT_BUSY_TIMEOUT_S,
    SYNCHRONOUS,
    Database,
    Reader,
    Transaction,
    WriteResult,
)
from .errors import (
    AppendOnlyViolation,
    ConstraintViolation,
    DatabaseBusy,
    DatabaseClosed,
    DatabaseCorrupt,
    DatabaseUnavailable,
    MigrationError,
    SchemaTooNew,
    StorageError,
)
from .schema import AppliedMigration, Migration, load_migrations

__all__ = [
    "DATABASE_FILE_NAME",
    "DEFAULT_BUSY_TIMEOUT_S",
    "DOOR_OPEN",
    "DOOR_OUTCOMES",
    "SYNCHRONOUS",
    "SYSTEM_ACTOR",
    "Actor",
    "ActorKind",
    "AppendOnlyViolation",
    "AppliedMigration",
    "AuditEvent",
    "AuditLog",
    "ConstraintViolation",
    "Database",
    "DatabaseBusy",
    "DatabaseClosed",
    "DatabaseCorrupt",
    "DatabaseUnavailable",
    "Migration",
    "MigrationError",
    "Outcome",
    "Reader",
    "SchemaTooNew",
    "StorageError",
    "Transaction",
    "WriteResult",
    "load_migrations",
]
