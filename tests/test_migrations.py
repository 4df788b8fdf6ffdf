"""Schema versions: a store exactly as the first release wrote it (tests/data/schema/) is upgraded with its data
and a backup, and the upgraded schema equals both a new store's and what the models declare, column by column.

The drift comparison is the guard of "every schema change is a migration": a model that gains a field, an
index or a foreign key without a step makes it fail (proved below on a deliberately altered model).
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from peewee import Database, IntegerField, PostgresqlDatabase, SqliteDatabase

from mailticket_tui.cli import main
from mailticket_tui.store import SCHEMA_VERSION, StoreError, open_store
from mailticket_tui.store import migrations, schema_v1
from mailticket_tui.store.models import ALL_MODELS, Inbox, MailMessage, MessageRef, SchemaVersion, Ticket, database_proxy

from .conftest import PG_ADMIN

SCHEMA = Path(__file__).parent / "data" / "schema"
V1_SQLITE = (SCHEMA / "v1_sqlite.sql").read_text()
V1_POSTGRES = (SCHEMA / "v1_postgres.sql").read_text()
V1_ROWS = (SCHEMA / "v1_rows.sql").read_text()


# ------------------------------------------------------------------------------------------ helpers
def build_sqlite(path: Path, ddl: str = V1_SQLITE, rows: str = V1_ROWS) -> sqlite3.Connection:
    """A store file as an old mailticket left it, in WAL mode; the connection stays open (and its WAL
    un-checkpointed) so that the backup must read through WAL content."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.executescript(ddl + rows)
    return conn


def _affinity(declared: str) -> str:
    """SQLite's type affinity of a declared column type (sqlite.org/datatype3.html, 3.1)."""
    t = declared.upper()
    if "INT" in t:
        return "INTEGER"
    if any(word in t for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in t or not t:
        return "BLOB"
    if any(word in t for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


_PG_RULES = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


def _foreign_keys(db: Database, table: str) -> dict[str, tuple[str, str, str]]:
    """column -> (table, column, ON DELETE rule) it references (peewee's metadata leaves the rule out;
    pg_catalog answers in milliseconds where information_schema takes a second)."""
    if isinstance(db, PostgresqlDatabase):
        rows = db.execute_sql(
            "SELECT a.attname, ft.relname, fa.attname, c.confdeltype FROM pg_constraint c "
            "JOIN pg_class t ON t.oid = c.conrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema() "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "JOIN pg_class ft ON ft.oid = c.confrelid "
            "JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1] "
            "WHERE c.contype = 'f' AND t.relname = %s", (table,)).fetchall()
        return {column: (dest, dest_column, _PG_RULES[rule]) for column, dest, dest_column, rule in rows}
    return {row[3]: (row[2], row[4], row[6]) for row in db.execute_sql(f'PRAGMA foreign_key_list("{table}")')}


def schema_of(db: Database) -> dict[str, dict]:
    """Every table's columns (type, nullability, default, primary key), indexes and foreign keys.

    SQLite column defaults are left out: SQLite can add a NOT NULL column only with a DEFAULT, so every column
    added after v1 keeps one there (migrations.add_column), and peewee always writes the value itself. On
    PostgreSQL, where the step drops it again, defaults are compared."""
    pg = isinstance(db, PostgresqlDatabase)
    out = {}
    for table in db.get_tables():
        out[table] = {
            "columns": {c.name: (c.data_type if pg else _affinity(c.data_type), c.null, c.default if pg else None,
                                 c.primary_key) for c in db.get_columns(table)},
            "indexes": {i.name: (tuple(i.columns), i.unique) for i in db.get_indexes(table)},
            "foreign_keys": _foreign_keys(db, table),
        }
    return out


def drift(actual: dict[str, dict], wanted: dict[str, dict]) -> list[str]:
    """What differs between two schemas, one readable line per difference ([] when equal)."""
    problems = []
    for table in sorted(set(actual) | set(wanted)):
        if table not in actual or table not in wanted:
            problems.append(f"{table}: table only in the {'models' if table in wanted else 'store'}")
            continue
        for part in ("columns", "indexes", "foreign_keys"):
            have, want = actual[table][part], wanted[table][part]
            for name in sorted(set(have) | set(want)):
                if have.get(name) != want.get(name):
                    problems.append(f"{table} {part} {name}: store {have.get(name)} != models {want.get(name)}")
    return problems


def models_schema_sqlite(models=ALL_MODELS) -> dict[str, dict]:
    """What the models declare, as create_tables builds it in a scratch SQLite database."""
    scratch = SqliteDatabase(":memory:")
    with scratch.bind_ctx(models):
        scratch.create_tables(models)
    return schema_of(scratch)


@contextlib.contextmanager
def scratch_pg() -> Iterator[str]:
    """One more fresh PostgreSQL database (as conftest's pg_store makes them), dropped afterwards."""
    import psycopg2

    name = f"mt_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(PG_ADMIN)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


# ------------------------------------------------------------------------------------------ frozen v1
def test_frozen_v1_module_matches_the_test_data() -> None:
    assert "".join(f"{s};\n" for s in schema_v1.statements("sqlite")) == V1_SQLITE
    assert "".join(f"{s};\n" for s in schema_v1.statements("postgres")) == V1_POSTGRES
    tables = migrations.v1_tables("sqlite")
    assert len(tables) == 19 and set(tables) < {m._meta.table_name for m in ALL_MODELS}
    assert tables["inbox"][0]["auto_mail_behavior"] == "VARCHAR(255) NOT NULL"
    assert tables["mail_message"][1]["inbox_id"] == 'REFERENCES "inbox" ("id") ON DELETE CASCADE'


# ------------------------------------------------------------------------------------------ SQLite
def test_first_release_store_is_upgraded_with_its_data_and_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    holder = build_sqlite(path)  # keeps the rows in the WAL while the store is upgraded
    reports = []
    try:
        open_store(f"sqlite:///{path}", on_upgrade=reports.append)
    finally:
        holder.close()
    backup = Path(f"{path}.bak-v1")
    assert [r.line() for r in reports] == [f"store upgraded from version 1 to {SCHEMA_VERSION} (backup: {backup})"]
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600
    with contextlib.closing(sqlite3.connect(backup)) as copy:  # the copy is the v1 store, WAL content included
        assert copy.execute("SELECT MAX(version) FROM schema_version").fetchone() == (1,)
        assert copy.execute("SELECT name FROM inbox").fetchall() == [("support",)]
        assert "duplicate_of_id" not in {r[1] for r in copy.execute("PRAGMA table_info(mail_message)")}

    assert [v.version for v in SchemaVersion.select().order_by(SchemaVersion.version)] == list(range(1, SCHEMA_VERSION + 1))
    inbox = Inbox.get(Inbox.name == "support")
    ticket = Ticket.get(Ticket.ref == "R-000001")
    original = MailMessage.get(MailMessage.key == "1.M1.test")
    assert (inbox.protocol, inbox.auto_mail_behavior, ticket.title, ticket.inbox_id) == ("maildir", "undesired", "Printer jams", inbox.id)
    assert (original.ticket_id, original.status, original.duplicate_of_id) == (ticket.id, "processed", None)
    assert MessageRef.get().message_id == "jam-1@acme.example"
    # the new column works, and its foreign key clears itself when the original goes
    copy_row = MailMessage.create(inbox=inbox, key="2.M2.test", message_id="jam-1@acme.example", duplicate_of=original)
    assert [m.id for m in original.duplicates] == [copy_row.id]
    original.delete_instance()
    assert MailMessage.get_by_id(copy_row.id).duplicate_of_id is None


def test_upgraded_new_and_declared_schemas_are_equal(tmp_path: Path) -> None:
    build_sqlite(tmp_path / "old.db").close()
    upgraded = schema_of(open_store(f"sqlite:///{tmp_path / 'old.db'}"))
    fresh = schema_of(open_store(f"sqlite:///{tmp_path / 'new.db'}"))  # every step from 0
    database_proxy.close()
    assert drift(upgraded, fresh) == []
    assert drift(upgraded, models_schema_sqlite()) == []
    assert not Path(f"{tmp_path / 'new.db'}.bak-v0").exists()


def test_drift_catches_a_model_change_without_a_migration(tmp_path: Path) -> None:
    class MailMessageWithScore(MailMessage):
        spam_score = IntegerField(default=0, index=True)

        class Meta:
            table_name = "mail_message"

    altered = [MailMessageWithScore if m is MailMessage else m for m in ALL_MODELS]
    upgraded = schema_of(open_store(f"sqlite:///{tmp_path / 's.db'}"))
    problems = drift(upgraded, models_schema_sqlite(altered))
    assert problems == [
        "mail_message columns spam_score: store None != models ('INTEGER', False, None, False)",
        "mail_message indexes mail_message_spam_score: store None != models (('spam_score',), False)",
    ]


def test_a_step_that_forgets_a_column_fails_the_comparison(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same guard from the other side: the real models, but a v2 step that no longer adds duplicate_of."""
    monkeypatch.setattr(migrations, "MIGRATIONS", [migrations._v1, migrations._repair_v1, *migrations.MIGRATIONS[2:]])
    actual = schema_of(open_store(f"sqlite:///{tmp_path / 's.db'}"))
    assert [p.split(":")[0] for p in drift(actual, models_schema_sqlite())] == [
        "mail_message columns duplicate_of_id", "mail_message indexes mail_message_duplicate_of_id",
        "mail_message foreign_keys duplicate_of_id"]


def test_pre_release_store_without_auto_mail_behavior_opens_and_works(tmp_path: Path, maildir: Path, capsys) -> None:
    from .mailgen import make_mail

    column = '"auto_mail_behavior" VARCHAR(255) NOT NULL, '
    value = "'undesired', 'new_linked'"
    assert V1_SQLITE.count(column) == 1 and V1_ROWS.count('"auto_mail_behavior", ') == 1 and V1_ROWS.count(value) == 1
    path = tmp_path / "store.db"
    build_sqlite(path, V1_SQLITE.replace(column, ""),
                 V1_ROWS.replace('"auto_mail_behavior", ', "").replace(value, "'new_linked'")).close()
    url = f"sqlite:///{path}"
    db = open_store(url)
    assert Inbox.get(Inbox.name == "support").auto_mail_behavior == "undesired"
    assert drift(schema_of(db), models_schema_sqlite()) == []
    # SQLite can only add a NOT NULL column with a DEFAULT (harmless; peewee writes it), so the repair keeps one
    added = next(c for c in db.get_columns("inbox") if c.name == "auto_mail_behavior")
    assert (added.null, added.default) == (False, "'undesired'")
    migrations._repair_v1(db)  # idempotent
    Inbox.update(server=str(maildir)).execute()
    (maildir / "new" / "1.M9.test").write_bytes(make_mail(subject="After the upgrade", sender="alice@acme.example"))
    database_proxy.close()
    assert main(["--db", url, "run", "--once"]) == 0
    assert "support: read 1, processed 1" in capsys.readouterr().out
    assert Ticket.select().where(Ticket.title == "After the upgrade").count() == 1


def test_pre_release_renamed_columns_and_null_epochs_are_repaired(tmp_path: Path) -> None:
    """Early builds named mail_message.raw_id raw_sha256 and keyed POP3/Maildir records with a NULL epoch."""
    ddl = V1_SQLITE.replace("raw_id", "raw_sha256").replace(
        '"uidvalidity" INTEGER NOT NULL, "uid"', '"uidvalidity" INTEGER, "uid"')
    rows = V1_ROWS.replace('"raw_id"', '"raw_sha256"')
    rows += ("INSERT INTO blob (sha256, size, data) VALUES ('ab12', 1, x'00');\n"
             "UPDATE mail_message SET raw_sha256 = 'ab12', uidvalidity = NULL;\n")
    for n, key in enumerate(("2.M2.test", "2.M2.test", "3.M3.test")):  # a NULL epoch let one key in twice
        rows += (f"INSERT INTO mail_message (inbox_id, folder, uidvalidity, key, message_id, sha256, size, from_addr, "
                 f"subject, status, error, trace, first_seen, last_seen, disposition_pending, on_server) SELECT id, "
                 f"'INBOX', NULL, '{key}', '', '', 0, '', 's{n}', 'new', '', '', '2026-01-01', '2026-01-01', '', 1 "
                 "FROM inbox;\n")
    build_sqlite(tmp_path / "s.db", ddl, rows).close()
    db = open_store(f"sqlite:///{tmp_path / 's.db'}")
    assert MailMessage.get(MailMessage.key == "1.M1.test").raw_id == "ab12"
    epochs = sorted(((m.key, m.uidvalidity) for m in MailMessage.select()), key=lambda r: (r[0], r[1] is None))
    assert epochs == [("1.M1.test", 0), ("2.M2.test", 0), ("2.M2.test", None), ("3.M3.test", 0)]
    assert {i.name for i in db.get_indexes("mail_message")} >= {"mail_message_raw_id"}
    assert "mail_message_raw_sha256" not in {i.name for i in db.get_indexes("mail_message")}


def test_a_failed_step_leaves_the_previous_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(db) -> None:
        """Add a column, then fail."""
        db.execute_sql('ALTER TABLE "inbox" ADD COLUMN "half" INTEGER')
        raise migrations.MigrationError("step 3 broke on purpose")

    url = f"sqlite:///{tmp_path / 's.db'}"
    open_store(url)
    database_proxy.close()
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS + [broken])
    monkeypatch.setattr(migrations, "LATEST", SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match="step 3 broke on purpose"):
        open_store(url)
    db = open_store(url, migrate=False)
    assert migrations.current_version(db) == SCHEMA_VERSION
    assert "half" not in {c.name for c in db.get_columns("inbox")}  # the DDL rolled back with the step
    assert Path(f"{tmp_path / 's.db'}.bak-v{SCHEMA_VERSION}").exists()


def test_no_backup_no_upgrade(tmp_path: Path, capsys) -> None:
    """A backup that cannot be written stops the upgrade before any change, with one line (exit 4)."""
    path = tmp_path / "s.db"
    build_sqlite(path).close()
    Path(f"{path}.bak-v1.part").mkdir()  # something in the way of the copy
    assert main(["--db", f"sqlite:///{path}", "inbox", "list"]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"cannot back it up to {path}.bak-v1 before upgrading" in err[0], err
    database_proxy.close()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone() == (1,)


# ------------------------------------------------------------------------------------------ PostgreSQL
def test_postgresql_first_release_store_is_upgraded_and_equals_the_models(pg_store: str) -> None:
    import psycopg2

    with contextlib.closing(psycopg2.connect(pg_store)) as conn, conn.cursor() as cur:
        cur.execute(V1_POSTGRES + V1_ROWS)
        conn.commit()
    reports = []
    db = open_store(pg_store, on_upgrade=reports.append)
    assert [r.line() for r in reports] == [f"store upgraded from version 1 to {SCHEMA_VERSION}"]
    original = MailMessage.get(MailMessage.key == "1.M1.test")
    assert original.ticket.ref == "R-000001" and Inbox.get().auto_mail_behavior == "undesired"
    copy_row = MailMessage.create(inbox=original.inbox_id, key="2", duplicate_of=original)  # the sequence still counts
    upgraded = schema_of(db)
    with scratch_pg() as fresh_url, scratch_pg() as models_url:
        fresh = schema_of(open_store(fresh_url))
        fresh_db = database_proxy.obj
        from playhouse.db_url import connect

        declared = connect(models_url)
        with declared.bind_ctx(ALL_MODELS):
            declared.create_tables(ALL_MODELS)
        wanted = schema_of(declared)
        declared.close()
        fresh_db.close()
    assert drift(upgraded, fresh) == []
    assert drift(upgraded, wanted) == []
    db.close()
    open_store(pg_store)  # back on the upgraded store: the foreign key clears itself
    MailMessage.delete_by_id(original.id)
    assert MailMessage.get_by_id(copy_row.id).duplicate_of_id is None


def test_postgresql_pre_release_store_is_repaired_exactly(pg_store: str) -> None:
    import psycopg2

    column = '"auto_mail_behavior" VARCHAR(255) NOT NULL, '
    rows = V1_ROWS.replace('"auto_mail_behavior", ', "").replace("'undesired', 'new_linked'", "'new_linked'")
    with contextlib.closing(psycopg2.connect(pg_store)) as conn, conn.cursor() as cur:
        cur.execute(V1_POSTGRES.replace(column, "") + rows)
        conn.commit()
    db = open_store(pg_store)
    assert Inbox.get().auto_mail_behavior == "undesired"
    column_info = {c.name: c for c in db.get_columns("inbox")}["auto_mail_behavior"]
    assert (column_info.null, column_info.default) == (False, None)  # exactly v1: NOT NULL, no default


# ------------------------------------------------------------------------------------------ CLI
def test_newer_store_is_refused_with_one_line(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    open_store(url)
    SchemaVersion.create(version=SCHEMA_VERSION + 1)
    database_proxy.close()
    for argv in (["inbox", "list"], ["store", "upgrade"], ["run", "--once"]):
        assert main(["--db", url, *argv]) == 4
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"schema version {SCHEMA_VERSION + 1}, newer than this mailticket" in err[0], err
    assert main(["--db", url, "store", "status"]) == 4
    captured = capsys.readouterr()
    assert f"version {SCHEMA_VERSION + 1}" in captured.out and len(captured.err.strip().splitlines()) == 1


def test_store_status_looks_and_store_upgrade_acts(tmp_path: Path, capsys) -> None:
    import json

    path = tmp_path / "s.db"
    build_sqlite(path).close()
    url = f"sqlite:///{path}"
    assert main(["--db", url, "store", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status == {"backend": "sqlite", "url": url, "path": str(path), "exists": True, "version": 1,
                      "latest": SCHEMA_VERSION,
                      "pending": [{"version": v, "description": migrations.describe(v)}
                                  for v in range(2, SCHEMA_VERSION + 1)]}
    assert main(["--db", url, "store", "status"]) == 0
    out = capsys.readouterr().out
    assert "version 1" in out and "pending v2: Add mail_message.duplicate_of_id" in out
    database_proxy.close()
    with contextlib.closing(sqlite3.connect(path)) as conn:  # looking changed nothing
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone() == (1,)
    assert not Path(f"{path}.bak-v1").exists()

    assert main(["--db", url, "store", "upgrade"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"applied v{v}: {migrations.describe(v)}" for v in range(2, SCHEMA_VERSION + 1)] + [
        f"store: {url}: upgraded from version 1 to {SCHEMA_VERSION} (backup: {path}.bak-v1)"]
    assert main(["--db", url, "store", "upgrade"]) == 0
    assert "nothing to do" in capsys.readouterr().out

    missing = tmp_path / "none.db"
    assert main(["--db", f"sqlite:///{missing}", "store", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["exists"] is False and not missing.exists()


def test_commands_upgrade_with_one_stderr_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "s.db"
    build_sqlite(path).close()
    assert main(["--db", f"sqlite:///{path}", "inbox", "list"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"mailticket: store upgraded from version 1 to {SCHEMA_VERSION} (backup: {path}.bak-v1)"]
    assert "support" in captured.out
    assert main(["--db", f"sqlite:///{path}", "inbox", "list"]) == 0
    assert capsys.readouterr().err == ""  # once


# ------------------------------------------------------------------------------------------ the directory (v5)
def _v4_store_with_persons(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store as the v4 release left it (steps 1-4 only), holding an organisation and two persons."""
    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:4])
        m.setattr(migrations, "LATEST", 4)
        db = open_store(url)
        assert migrations.current_version(db) == 4 and "team" not in db.get_tables()
        db.execute_sql("INSERT INTO organization (name, domains) VALUES ('Acme', '[\"acme.example\"]')")
        for email, first, active in (("ada@acme.example", "Ada", True), ("bob@acme.example", "Bob", False)):
            p = db.param  # ? on SQLite, %s on PostgreSQL
            db.execute_sql("INSERT INTO person (email, first_name, name, org_id, phone, active, created) "
                           f"VALUES ({p}, {p}, 'Doe', 1, '+1', {p}, '2026-01-01 00:00:00')", (email, first, active))
        db.close()


def _assert_persons_intact() -> None:
    from mailticket_tui.store.models import ExtraEmail, Organization, Person, Team

    rows = [(p.email, p.first_name, p.name, p.org.name, p.phone, p.active) for p in Person.select().order_by(Person.id)]
    assert rows == [("ada@acme.example", "Ada", "Doe", "Acme", "+1", True),
                    ("bob@acme.example", "Bob", "Doe", "Acme", "+1", False)]
    org = Organization.get()
    assert (org.code, org.active, org.domains) == ("", True, '["acme.example"]')
    assert (ExtraEmail.select().count(), Team.select().count()) == (0, 0)
    ada = Person.get(Person.email == "ada@acme.example")
    ExtraEmail.create(person=ada, email="ada@home.example")  # the new tables work on the upgraded store
    from mailticket_tui.engine.people import find_persons
    assert [p.id for p in find_persons("ADA@home.example")] == [ada.id]


def test_v4_store_with_persons_upgrades_with_them_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    _v4_store_with_persons(url, monkeypatch)
    reports = []
    upgraded = schema_of(open_store(url, on_upgrade=reports.append))
    assert reports[0].found == 4 and reports[0].applied[0] == f"v5: {migrations.describe(5)}"
    _assert_persons_intact()
    assert drift(upgraded, models_schema_sqlite()) == []


def test_postgresql_v4_store_with_persons_upgrades_with_them_intact(pg_store: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _v4_store_with_persons(pg_store, monkeypatch)
    open_store(pg_store)
    _assert_persons_intact()
