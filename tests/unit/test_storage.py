"""The terminal's SQLite file: pragmas, migrations, transactions, threads and damaged files."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.storage import (
    Database,
    DatabaseBusy,
    DatabaseClosed,
    DatabaseCorrupt,
    DatabaseUnavailable,
    MigrationError,
    SchemaTooNew,
    StorageError,
    load_migrations,
)
from kiosk.storage.schema import split_statements

WAIT_S = 10.0


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(tmp_path / "terminal.sqlite3")
    yield database
    database.close()


def write_migrations(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (folder / name).write_text(sql, encoding="utf-8")
    return folder


def make_notes_table(tx_db: Database) -> None:
    with tx_db.transaction() as tx:
        tx.execute("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")


# -- pragmas -----------------------------------------------------------------------------------


def test_opens_in_wal_mode_with_full_sync_and_foreign_keys(db: Database) -> None:
    assert db.pragma_value("journal_mode") == "wal"
    assert db.pragma_value("synchronous") == 2  # FULL
    assert db.pragma_value("foreign_keys") == 1
    assert db.pragma_value("busy_timeout") == 5000


def test_creates_the_missing_data_folder(tmp_path: Path) -> None:
    with Database.open(tmp_path / "a" / "b" / "terminal.sqlite3") as database:
        assert database.path.is_file()


# -- migrations --------------------------------------------------------------------------------


def test_packaged_migrations_are_applied_once_and_reopening_applies_nothing(
    tmp_path: Path,
) -> None:
    packaged = load_migrations()  # other areas add their files; 0001 is the audit trail
    assert packaged[0].file_name == "0001_audit_events.sql"
    path = tmp_path / "terminal.sqlite3"
    with Database.open(path) as first:
        assert first.migrations_run_at_open == tuple(packaged)
        assert first.schema_version() == len(packaged)
    with Database.open(path) as again:
        assert again.migrations_run_at_open == ()
        applied = again.applied_migrations()
    assert [(a.version, a.name, a.checksum) for a in applied] == [
        (m.version, m.name, m.checksum) for m in packaged
    ]


def test_adding_a_file_applies_only_the_new_migration(tmp_path: Path) -> None:
    folder = write_migrations(
        tmp_path / "m", {"0001_notes.sql": "CREATE TABLE notes (id INTEGER PRIMARY KEY);"}
    )
    path = tmp_path / "t.sqlite3"
    Database.open(path, migrations=load_migrations(folder)).close()
    write_migrations(folder, {"0002_note_text.sql": "ALTER TABLE notes ADD COLUMN text TEXT;"})
    with Database.open(path, migrations=load_migrations(folder)) as database:
        assert [m.version for m in database.migrations_run_at_open] == [2]
        with database.transaction() as tx:
            tx.execute("INSERT INTO notes (text) VALUES ('x')")


def test_an_installation_without_migration_files_is_refused(tmp_path: Path) -> None:
    folder = write_migrations(tmp_path / "m", {"README.txt": "the .sql files went missing"})
    with pytest.raises(MigrationError, match="installation is incomplete"):
        load_migrations(folder)


def test_two_processes_starting_together_apply_each_migration_once(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    starting_line = threading.Barrier(2)
    opened: list[Database] = []
    failures: list[Exception] = []

    def start_terminal() -> None:
        starting_line.wait(WAIT_S)
        try:
            opened.append(Database.open(path))  # its own connection, as a second process has
        except StorageError as err:
            failures.append(err)

    threads = [threading.Thread(target=start_terminal) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_S)
    try:
        assert not failures
        packaged = load_migrations()
        ran = [m.version for d in opened for m in d.migrations_run_at_open]
        assert sorted(ran) == [m.version for m in packaged]  # each once, by one or the other
        assert [a.version for a in opened[0].applied_migrations()] == [m.version for m in packaged]
    finally:
        for database in opened:
            database.close()


def test_a_gap_in_the_numbers_is_refused(tmp_path: Path) -> None:
    folder = write_migrations(
        tmp_path / "m", {"0001_a.sql": "SELECT 1;", "0003_c.sql": "SELECT 1;"}
    )
    with pytest.raises(MigrationError, match=r"Migration 0002 is missing .*0003_c\.sql"):
        load_migrations(folder)


def test_a_duplicate_number_is_refused(tmp_path: Path) -> None:
    folder = write_migrations(
        tmp_path / "m",
        {"0001_a.sql": "SELECT 1;", "0002_b.sql": "SELECT 1;", "0002_c.sql": "SELECT 1;"},
    )
    with pytest.raises(MigrationError, match=r"Two migration files share number 0002"):
        load_migrations(folder)


@pytest.mark.parametrize("name", ["2_short.sql", "0002-dash.sql", "0002_Upper.sql", "0000_x.sql"])
def test_a_badly_named_sql_file_is_refused_not_skipped(tmp_path: Path, name: str) -> None:
    folder = write_migrations(tmp_path / "m", {"0001_a.sql": "SELECT 1;", name: "SELECT 1;"})
    with pytest.raises(MigrationError, match=name.replace(".", r"\.")):
        load_migrations(folder)


def test_transaction_control_inside_a_file_is_refused(tmp_path: Path) -> None:
    folder = write_migrations(
        tmp_path / "m", {"0001_a.sql": "BEGIN;\nCREATE TABLE t (x);\nCOMMIT;\n"}
    )
    with pytest.raises(MigrationError, match=r"0001_a\.sql contains 'BEGIN'"):
        load_migrations(folder)


def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    folder = write_migrations(
        tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (x);", "0002_b.sql": "CREATE TABLE b (x);"}
    )
    path = tmp_path / "t.sqlite3"
    Database.open(path, migrations=load_migrations(folder)).close()
    (folder / "0002_b.sql").unlink()
    with pytest.raises(SchemaTooNew, match=r"schema version 2 .* only knows versions up to 1"):
        Database.open(path, migrations=load_migrations(folder))


def test_an_edited_applied_migration_is_refused(tmp_path: Path) -> None:
    folder = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (x);"})
    path = tmp_path / "t.sqlite3"
    Database.open(path, migrations=load_migrations(folder)).close()
    write_migrations(folder, {"0001_a.sql": "CREATE TABLE a (x, y);"})
    with pytest.raises(MigrationError, match=r"'0001_a\.sql' was changed after it was applied"):
        Database.open(path, migrations=load_migrations(folder))


def test_line_endings_alone_do_not_count_as_an_edit(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "0001_a.sql").write_bytes(b"CREATE TABLE a (x);\n")
    path = tmp_path / "t.sqlite3"
    Database.open(path, migrations=load_migrations(folder)).close()
    (folder / "0001_a.sql").write_bytes(b"CREATE TABLE a (x);\r\n")
    Database.open(path, migrations=load_migrations(folder)).close()


def test_a_failing_migration_leaves_nothing_behind(tmp_path: Path) -> None:
    folder = write_migrations(
        tmp_path / "m",
        {
            "0001_a.sql": "CREATE TABLE a (x);",
            "0002_broken.sql": "CREATE TABLE b (x);\nINSERT INTO no_such_table VALUES (1);",
        },
    )
    path = tmp_path / "t.sqlite3"
    with pytest.raises(MigrationError, match=r"'0002_broken\.sql' failed .*nothing of it"):
        Database.open(path, migrations=load_migrations(folder))
    raw = sqlite3.connect(path)
    try:
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_schema")}
        versions = [row[0] for row in raw.execute("SELECT version FROM schema_migrations")]
    finally:
        raw.close()
    assert "a" in tables
    assert "b" not in tables
    assert versions == [1]


def test_a_migration_leaving_dangling_references_is_refused(tmp_path: Path) -> None:
    folder = write_migrations(
        tmp_path / "m",
        {
            "0001_a.sql": (
                "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n"
                "CREATE TABLE child (parent_id INTEGER REFERENCES parent (id));\n"
                "INSERT INTO child VALUES (42);\n"
            )
        },
    )
    with pytest.raises(MigrationError, match=r"pointing at missing rows .*'child'"):
        Database.open(tmp_path / "t.sqlite3", migrations=load_migrations(folder))


def test_statement_splitting_keeps_trigger_bodies_and_string_literals_whole() -> None:
    script = (
        "-- leading comment; with a semicolon\n"
        "CREATE TABLE t (x TEXT);\n"
        "INSERT INTO t VALUES ('a;b');\n"
        "CREATE TRIGGER t_guard BEFORE DELETE ON t BEGIN SELECT RAISE(ABORT, 'no;'); END;\n"
        "/* trailing */\n"
    )
    statements = split_statements(script, "test.sql")
    assert len(statements) == 3
    assert "END;" in statements[2]


# -- transactions ------------------------------------------------------------------------------


def test_a_transaction_commits_at_the_end_of_its_block(db: Database) -> None:
    make_notes_table(db)
    with db.transaction() as tx:
        tx.execute("INSERT INTO notes (text) VALUES (?)", ("保存",))
    with db.snapshot() as view:
        assert view.fetch_value("SELECT text FROM notes") == "保存"


def test_an_exception_rolls_everything_back_and_propagates_unchanged(db: Database) -> None:
    make_notes_table(db)

    class Boom(Exception):
        pass

    def write_two_then_fail() -> None:
        with db.transaction() as tx:
            tx.execute("INSERT INTO notes (text) VALUES ('a')")
            tx.execute("INSERT INTO notes (text) VALUES ('b')")
            raise Boom

    with pytest.raises(Boom):
        write_two_then_fail()
    with db.snapshot() as view:
        assert view.fetch_value("SELECT count(*) FROM notes") == 0


def test_a_nested_block_is_a_savepoint_of_the_outer_transaction(db: Database) -> None:
    make_notes_table(db)

    def inner_write_then_fail() -> None:
        with db.transaction() as inner:
            inner.execute("INSERT INTO notes (text) VALUES ('undone')")
            raise KeyError("inner failure handled by the outer block")

    with db.transaction() as outer:
        outer.execute("INSERT INTO notes (text) VALUES ('kept')")
        with pytest.raises(KeyError):
            inner_write_then_fail()
        with db.transaction() as inner:
            inner.execute("INSERT INTO notes (text) VALUES ('joined')")
    with db.snapshot() as view:
        texts = [row["text"] for row in view.fetch_all("SELECT text FROM notes ORDER BY id")]
    assert texts == ["kept", "joined"]


def test_a_failure_escaping_the_inner_block_undoes_the_outer_too(db: Database) -> None:
    make_notes_table(db)

    def nested_writes_then_fail() -> None:
        with db.transaction() as outer:
            outer.execute("INSERT INTO notes (text) VALUES ('a')")
            with db.transaction() as inner:
                inner.execute("INSERT INTO notes (text) VALUES ('b')")
            raise RuntimeError("after the inner block")

    with pytest.raises(RuntimeError):
        nested_writes_then_fail()
    with db.snapshot() as view:
        assert view.fetch_value("SELECT count(*) FROM notes") == 0


def test_a_handle_cannot_be_used_after_its_block(db: Database) -> None:
    make_notes_table(db)
    with db.transaction() as tx:
        pass
    with pytest.raises(StorageError, match="after its `with` block ended"):
        tx.execute("INSERT INTO notes (text) VALUES ('late')")


def test_a_snapshot_cannot_start_a_change(db: Database) -> None:
    with (
        db.snapshot(),
        pytest.raises(StorageError, match="inside a read-only snapshot"),
        db.transaction(),
    ):
        pass


def test_a_sql_error_is_translated_with_the_file_name(db: Database) -> None:
    with (
        db.transaction() as tx,
        pytest.raises(StorageError, match=r"terminal\.sqlite3 failed while saving a change"),
    ):
        tx.execute("INSERT INTO no_such_table VALUES (1)")


def test_a_closed_database_says_so(tmp_path: Path) -> None:
    database = Database.open(tmp_path / "t.sqlite3")
    database.close()
    database.close()  # twice is fine
    with pytest.raises(DatabaseClosed), database.transaction():
        pass


# -- threads and processes ---------------------------------------------------------------------


def test_worker_threads_share_one_database_without_losing_updates(db: Database) -> None:
    with db.transaction() as tx:
        tx.execute("CREATE TABLE counter (n INTEGER NOT NULL)")
        tx.execute("INSERT INTO counter VALUES (0)")
    rounds, workers = 200, 4
    failures: list[Exception] = []

    def work() -> None:
        try:
            for _ in range(rounds):
                with db.transaction() as tx:
                    value = tx.fetch_value("SELECT n FROM counter")
                    assert isinstance(value, int)
                    tx.execute("UPDATE counter SET n = ?", (value + 1,))
        except (AssertionError, StorageError) as err:  # reported to the main thread below
            failures.append(err)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_S * 3)
    assert not failures
    with db.snapshot() as view:
        assert view.fetch_value("SELECT n FROM counter") == rounds * workers


def test_a_thread_waiting_past_the_busy_timeout_gets_a_clear_error(tmp_path: Path) -> None:
    database = Database.open(tmp_path / "t.sqlite3", busy_timeout_s=0.2)
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with database.transaction():
            holding.set()
            release.wait(WAIT_S)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(WAIT_S)
        with (
            pytest.raises(DatabaseBusy, match=r"held the database .* for more than 0\.2 s"),
            database.transaction(),
        ):
            pass
    finally:
        release.set()
        holder.join(WAIT_S)
        database.close()


def test_a_second_process_holding_the_write_lock_gives_database_busy(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    with Database.open(path) as first, Database.open(path, busy_timeout_s=0.1) as second:
        with (
            first.transaction(),
            pytest.raises(DatabaseBusy, match="stayed locked"),
            second.transaction(),
        ):
            pass
        with second.snapshot() as view:  # readers are never blocked by WAL writers
            assert view.fetch_value("SELECT count(*) FROM audit_events") == 0


# -- damaged files -----------------------------------------------------------------------------


def test_a_file_that_is_not_a_database_is_named_in_a_plain_sentence(tmp_path: Path) -> None:
    path = tmp_path / "terminal.sqlite3"
    path.write_bytes(b"this is a spreadsheet, not a database\n" * 200)
    with pytest.raises(DatabaseCorrupt) as caught:
        Database.open(path)
    message = str(caught.value)
    assert str(path) in message
    assert "not a usable SQLite database" in message
    assert "restore the latest backup" in message


def test_a_folder_that_cannot_be_created_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(DatabaseUnavailable, match=r"folder .*data.* cannot be created"):
        Database.open(blocker / "terminal.sqlite3")


def test_integrity_check_passes_on_a_healthy_file(db: Database) -> None:
    db.check_integrity()
    db.check_integrity(quick=True)


def test_damaged_pages_are_reported_as_corruption(tmp_path: Path) -> None:
    path = tmp_path / "terminal.sqlite3"
    with Database.open(path) as database:
        with database.transaction() as tx:
            tx.execute("CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT)")
            tx.execute("CREATE INDEX filler_body ON filler (body)")
            tx.execute_many(
                "INSERT INTO filler (body) VALUES (?)",
                [(f"row {i:06d} " * 8,) for i in range(3000)],
            )
        database.pragma_value("wal_checkpoint")
        page_size = database.pragma_value("page_size")
        page_count = database.pragma_value("page_count")
    assert isinstance(page_size, int)
    assert isinstance(page_count, int)
    data = bytearray(path.read_bytes())
    for page in range(page_count // 2, page_count - 1):
        start = page * page_size + 8
        data[start : start + 64] = b"\xa5" * 64
    path.write_bytes(bytes(data))

    def open_and_check() -> None:
        with Database.open(path) as damaged:
            damaged.check_integrity()

    with pytest.raises(DatabaseCorrupt, match=str(path).replace(".", r"\.")):
        open_and_check()
