"""Versioned schema migrations: numbered SQL files applied in order, once, each atomically.

Why a `schema_migrations` table with checksums rather than only `PRAGMA user_version`: several
engineers add migration files over time, and the classic accident is editing a file that terminals
in the field have already applied. The number alone cannot see that; a checksum can, and it turns a
silent divergence between terminals into one sentence at start-up. The table also records when each
step ran, which a technician reading a terminal's database wants to know.

Adding a migration is adding a file `NNNN_<name>.sql` to `kiosk/storage/migrations/` with the next
number. Rules the loader enforces, so mistakes show up on the developer's machine and not at 3 a.m.:
numbers start at 0001 and have no gaps or duplicates; a `.sql` file whose name does not follow the
pattern is an error, not silently skipped; a file holds no transaction control (the runner wraps
each file in its own transaction together with its bookkeeping row).

Foreign keys are switched off while migrating (SQLite's documented way to rebuild a table) and
`PRAGMA foreign_key_check` runs before each migration commits, so a migration cannot leave
dangling references behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from .errors import MigrationError, SchemaTooNew, translate_sqlite_error

MIGRATIONS_PACKAGE = "kiosk.storage.migrations"
_FILE_NAME = re.compile(r"^(?P<number>\d{4})_(?P<name>[a-z0-9][a-z0-9_]*)\.sql$")
_TRANSACTION_CONTROL = re.compile(
    r"^(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE|VACUUM)\b", re.IGNORECASE
)
_LEADING_COMMENTS = re.compile(r"^(\s+|--[^\n]*(\n|$)|/\*.*?\*/)*", re.DOTALL)

_BOOKKEEPING_DDL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    checksum   TEXT    NOT NULL,
    applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)
"""


@dataclass(frozen=True)
class Migration:
    """One numbered schema step, as read from its file."""

    version: int
    name: str
    sql: str = field(repr=False)

    @property
    def file_name(self) -> str:
        return f"{self.version:04d}_{self.name}.sql"

    @property
    def checksum(self) -> str:
        """SHA-256 of the text with line endings normalised, so a CRLF checkout is not an edit."""
        normalised = self.sql.replace("\r\n", "\n").replace("\r", "\n")
        return hashlib.sha256(normalised.encode("utf-8")).hexdigest()

    def statements(self) -> list[str]:
        return split_statements(self.sql, self.file_name)


@dataclass(frozen=True)
class AppliedMigration:
    version: int
    name: str
    checksum: str
    applied_at: str


def split_statements(script: str, source: str) -> list[str]:
    """Cut a script into single statements using SQLite's own idea of "complete".

    `sqlite3.complete_statement` understands string literals, comments and trigger bodies, so a
    `;` inside `CREATE TRIGGER ... BEGIN ...; END;` does not split the trigger.
    """
    statements: list[str] = []
    start = 0
    for match in re.finditer(";", script):
        candidate = script[start : match.end()]
        if sqlite3.complete_statement(candidate):
            statements.append(candidate)
            start = match.end()
    rest = script[start:]
    if _LEADING_COMMENTS.sub("", rest).strip():
        statements.append(rest)
    meaningful = []
    for statement in statements:
        body = _LEADING_COMMENTS.sub("", statement).strip()
        if not body or body == ";":
            continue
        if _TRANSACTION_CONTROL.match(body):
            keyword = body.split()[0].rstrip(";").upper()
            raise MigrationError(
                f"Migration {source} contains '{keyword}'; remove it — the runner wraps every "
                "migration file in its own transaction."
            )
        meaningful.append(statement)
    return meaningful


def load_migrations(source: Traversable | None = None) -> list[Migration]:
    """Read and validate every migration file, ordered by number.

    `source` defaults to the packaged folder (read through importlib.resources so it works from a
    wheel or a PyInstaller bundle); tests pass a plain `Path` to a folder of their own.
    """
    folder = source if source is not None else resources.files(MIGRATIONS_PACKAGE)
    by_number: dict[int, Migration] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.match(entry.name)
        if match is None:
            raise MigrationError(
                f"Migration file '{entry.name}' is not named like '0002_short_name.sql' "
                "(four digits, an underscore, lower-case letters, digits or underscores); "
                "rename it so it is applied in the right order."
            )
        number = int(match["number"])
        if number == 0:
            raise MigrationError(
                f"Migration file '{entry.name}' has number 0000; numbering starts at 0001."
            )
        migration = Migration(number, match["name"], entry.read_text(encoding="utf-8"))
        if number in by_number:
            raise MigrationError(
                f"Two migration files share number {number:04d}: "
                f"'{by_number[number].file_name}' and '{entry.name}'; "
                "give one of them the next free number."
            )
        by_number[number] = migration
    if not by_number:
        raise MigrationError(
            f"No migration files were found in {folder}; the installation is incomplete (the "
            "*.sql files were not packaged) — reinstall the terminal software."
        )
    ordered = [by_number[number] for number in sorted(by_number)]
    for expected, migration in enumerate(ordered, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"Migration {expected:04d} is missing (the files jump to "
                f"'{migration.file_name}'); add the missing file or renumber the later ones."
            )
    for migration in ordered:
        migration.statements()  # fail at load time on a file with transaction control
    return ordered


def read_applied(connection: sqlite3.Connection) -> list[AppliedMigration]:
    has_table = connection.execute(
        "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if has_table is None:
        return []
    rows = connection.execute(
        "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version"
    ).fetchall()
    return [AppliedMigration(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]


def check_history(
    applied: Sequence[AppliedMigration], known: Sequence[Migration], path: Path
) -> None:
    """Refuse a database whose history does not match the files this software carries."""
    known_by_version = {migration.version: migration for migration in known}
    newest_known = max(known_by_version, default=0)
    for step in applied:
        if step.version > newest_known:
            raise SchemaTooNew(
                f"The database {path} is at schema version {max(s.version for s in applied)} "
                f"but this software only knows versions up to {newest_known}; install the "
                "software version that wrote it, or restore a backup made by this version."
            )
        migration = known_by_version[step.version]
        if step.checksum != migration.checksum:
            raise MigrationError(
                f"Migration '{migration.file_name}' was changed after it was applied to "
                f"{path}; restore the file as it was and put the change in a new numbered "
                "migration."
            )
    versions = [step.version for step in applied]
    if versions != list(range(1, len(versions) + 1)):
        raise MigrationError(
            f"The schema history in {path} has holes (applied versions {versions}); the file "
            "was changed by hand — restore a backup."
        )


def apply_migrations(
    connection: sqlite3.Connection, migrations: Sequence[Migration], path: Path
) -> list[Migration]:
    """Bring the schema up to date; return the migrations that ran now (empty when current).

    Each step re-reads the history under `BEGIN IMMEDIATE`, so two processes starting at the same
    time cannot both apply the same file. The connection must be in autocommit mode
    (isolation_level=None) and outside a transaction.
    """
    ran: list[Migration] = []
    try:
        applied = read_applied(connection)
        check_history(applied, migrations, path)
        current = applied[-1].version if applied else 0
        pending = [migration for migration in migrations if migration.version > current]
        if not pending:
            return ran  # an up-to-date file is opened without writing to it
        connection.execute("PRAGMA foreign_keys = OFF")
        try:
            for migration in pending:
                if _apply_one(connection, migration, path):
                    ran.append(migration)
        except BaseException:
            with contextlib.suppress(sqlite3.Error):  # the first error is the one to report
                connection.execute("PRAGMA foreign_keys = ON")
            raise
        connection.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as err:
        raise translate_sqlite_error(err, path, "updating its schema") from err
    return ran


def _apply_one(connection: sqlite3.Connection, migration: Migration, path: Path) -> bool:
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute(_BOOKKEEPING_DDL)
        applied = read_applied(connection)
        if any(step.version == migration.version for step in applied):
            connection.execute("ROLLBACK")
            return False
        if applied and applied[-1].version != migration.version - 1:
            raise MigrationError(
                f"Cannot apply '{migration.file_name}' to {path}: the database is at version "
                f"{applied[-1].version}, not {migration.version - 1}."
            )
        for statement in migration.statements():
            try:
                connection.execute(statement)
            except sqlite3.Error as err:
                if not _is_fault_of_the_file(err):
                    raise translate_sqlite_error(
                        err, path, f"applying {migration.file_name}"
                    ) from err
                raise MigrationError(
                    f"Migration '{migration.file_name}' failed on {path} ({err}); nothing of it "
                    "was kept — fix the file and restart."
                ) from err
        dangling = connection.execute("PRAGMA foreign_key_check").fetchall()
        if dangling:
            raise MigrationError(
                f"Migration '{migration.file_name}' would leave {len(dangling)} row(s) pointing "
                f"at missing rows (first in table '{dangling[0][0]}'); nothing of it was kept."
            )
        connection.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)",
            (migration.version, migration.name, migration.checksum),
        )
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return True


def _is_fault_of_the_file(err: sqlite3.Error) -> bool:
    """A syntax error or a broken constraint is the migration's fault; a full disk is not."""
    code = getattr(err, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else sqlite3.SQLITE_ERROR
    return primary in (sqlite3.SQLITE_ERROR, sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_MISMATCH)
