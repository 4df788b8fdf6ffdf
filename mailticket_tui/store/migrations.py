"""Schema versions: a `schema_version` table and an ordered list of steps, appended and never edited.

Version 1 is the first release's schema, executed from frozen DDL (`schema_v1.py`), never from the live
models: a model changed later cannot change what an old step does. Later steps use peewee's
`playhouse.migrate` (`add_column`, `add_index`, ...). Each step runs in its own transaction (SQLite and
PostgreSQL both have transactional DDL) and records its `schema_version` row in that transaction, so a
crash leaves the store at the previous version, never between two. Concurrent openers are serialised
(SQLite: the IMMEDIATE write lock; PostgreSQL: an advisory lock) and re-read the version before a step.

A new store runs every step from 0. Before an existing SQLite store is upgraded, a copy is taken with
the sqlite3 backup API (`<file>.bak-v<found>`, mode 0600; the backup API reads through the connection,
so WAL content is included). A store newer than this program is refused: an older mailticket must not
write a schema it does not know. Tests build a v1 store from tests/data/schema/ and compare the upgraded
schema with the models column by column (tests/test_migrations.py); a model change without a step fails.
"""
from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass
from typing import Callable

from peewee import (CharField, Database, DateTimeField, ForeignKeyField, Model, PostgresqlDatabase, SqliteDatabase,
                    TextField)
from playhouse.migrate import SchemaMigrator, migrate

from . import schema_v1
from .models import SchemaVersion, utcnow


class SchemaTooNew(Exception):
    """The store was written by a newer mailticket."""


class MigrationError(Exception):
    """A step cannot be applied to this store; the message says which table or column and why."""


@dataclass(frozen=True)
class UpgradeResult:
    """What `upgrade` did: the version found, the version reached, the steps applied, the backup taken."""

    found: int
    reached: int
    applied: tuple[str, ...] = ()
    backup: str | None = None

    @property
    def upgraded_existing(self) -> bool:
        """An existing store changed version (a new store being created is not news)."""
        return self.found >= 1 and self.reached > self.found

    def line(self) -> str:
        """The one line a user sees when a store was upgraded on opening."""
        where = f" (backup: {self.backup})" if self.backup else ""
        return f"store upgraded from version {self.found} to {self.reached}{where}"


def dialect(db: Database) -> str:
    """'postgres' or 'sqlite': which frozen DDL and which repair statements apply."""
    return "postgres" if isinstance(db, PostgresqlDatabase) else "sqlite"


# ------------------------------------------------------------------------------------------ the steps
def _v1(db: Database) -> None:
    """Create the first release's tables and indexes (frozen DDL)."""
    for statement in schema_v1.statements(dialect(db)):
        db.execute_sql(statement)


class _MailMessageRow(Model):
    """mail_message as step 2 knows it: only its table name and key, for the self-reference."""

    class Meta:
        table_name = "mail_message"


def _v2(db: Database) -> None:
    """Add mail_message.duplicate_of_id (a copy of an already ticketed mail); repair pre-release v1 stores."""
    _repair_v1(db)
    if "duplicate_of_id" not in {c.name for c in db.get_columns("mail_message")}:
        field = ForeignKeyField(_MailMessageRow, field=_MailMessageRow.id, null=True, on_delete="SET NULL")
        migrator = SchemaMigrator.from_database(db)
        migrate(migrator.add_column("mail_message", "duplicate_of_id", field))


def _v3(db: Database) -> None:
    """Add inbox.timeout (seconds to wait for the mail server; 30, the value used until now)."""
    add_column(db, "inbox", "timeout", "VARCHAR(255) NOT NULL", "30")


def _v4(db: Database) -> None:
    """Add inbox.ca_file (a PEM file of extra CAs to trust; empty = the system CAs, as until now)."""
    add_column(db, "inbox", "ca_file", "VARCHAR(255) NOT NULL", "")


class _PersonRow(Model):
    """person as step 5 knows it: only its table name and key, for the references."""

    class Meta:
        table_name = "person"


class _ExtraEmailV5(Model):
    """extra_email as step 5 creates it (frozen: later model changes need their own step)."""

    person = ForeignKeyField(_PersonRow, on_delete="CASCADE")
    email = CharField(unique=True)

    class Meta:
        table_name = "extra_email"
        legacy_table_names = False  # index names from the table name, as the models have them


class _TeamV5(Model):
    """team as step 5 creates it."""

    name = CharField(unique=True)
    email = CharField(default="")
    created = DateTimeField(default=utcnow)

    class Meta:
        table_name = "team"
        legacy_table_names = False


class _TeamMemberV5(Model):
    """team_member as step 5 creates it."""

    team = ForeignKeyField(_TeamV5, on_delete="CASCADE")
    person = ForeignKeyField(_PersonRow, on_delete="CASCADE")

    class Meta:
        table_name = "team_member"
        legacy_table_names = False
        indexes = ((("team", "person"), True),)


def _v5(db: Database) -> None:
    """Add the people directory: organization.code and .active, extra_email, team and team_member."""
    boolean = "BOOLEAN NOT NULL" if dialect(db) == "postgres" else "INTEGER NOT NULL"
    add_column(db, "organization", "code", "VARCHAR(255) NOT NULL", "")
    add_column(db, "organization", "active", boolean, True)
    frozen = [_ExtraEmailV5, _TeamV5, _TeamMemberV5]
    with db.bind_ctx([_PersonRow, *frozen], bind_refs=False, bind_backrefs=False):
        db.create_tables(frozen, safe=False)


class _TeamRow(Model):
    """team as step 6 knows it: only its table name and key, for the reference."""

    class Meta:
        table_name = "team"


def _v6(db: Database) -> None:
    """Add ticket team, agent, service subcategory, custom fields (extra) and legacy iTop ref; outbox references."""
    migrator = SchemaMigrator.from_database(db)
    for column, target in (("team_id", _TeamRow), ("agent_id", _PersonRow)):
        # nullable: a plain ALTER TABLE ADD COLUMN ... REFERENCES on both backends (no table rebuild)
        field = ForeignKeyField(target, field=target.id, null=True, on_delete="SET NULL")
        migrate(migrator.add_column("ticket", column, field))
    add_column(db, "ticket", "service_subcategory", "VARCHAR(255) NOT NULL", "")
    add_column(db, "ticket", "extra", "TEXT NOT NULL", "{}")
    add_column(db, "ticket", "legacy_ref", "VARCHAR(255) NOT NULL", "")
    db.execute_sql('CREATE INDEX "ticket_legacy_ref" ON "ticket" ("legacy_ref")')
    add_column(db, "outbox", "thread_refs", "TEXT NOT NULL", "")


class _DaemonPresenceV7(Model):
    """daemon_presence as step 7 creates it."""

    owner = CharField(unique=True)
    started = DateTimeField(default=utcnow)
    expires = DateTimeField()

    class Meta:
        table_name = "daemon_presence"
        legacy_table_names = False


def _v7(db: Database) -> None:
    """Add daemon_presence: the live daemons that share the inboxes (each takes its share of the leases)."""
    with db.bind_ctx([_DaemonPresenceV7]):
        db.create_tables([_DaemonPresenceV7], safe=False)


def _v8(db: Database) -> None:
    """Add attachment original_filename, declared_type and content_id_aliases; inbox excluded_attachment_behavior."""
    add_column(db, "attachment", "original_filename", "VARCHAR(255) NOT NULL", "")
    add_column(db, "attachment", "declared_type", "VARCHAR(255) NOT NULL", "")
    add_column(db, "attachment", "content_id_aliases", "TEXT NOT NULL", "")
    add_column(db, "inbox", "excluded_attachment_behavior", "VARCHAR(255) NOT NULL", "drop")


class _InboxRowV9(Model):
    """inbox as step 9 knows it: only its table name and key, for the grant's reference."""

    class Meta:
        table_name = "inbox"


class _OAuthGrantV9(Model):
    """oauth_grant as step 9 creates it."""

    inbox = ForeignKeyField(_InboxRowV9, on_delete="CASCADE", unique=True)
    refresh_token = TextField(default="")
    access_token = TextField(default="")
    access_expires = DateTimeField(null=True)
    scopes = TextField(default="")
    account = CharField(default="")
    status = CharField(default="authorized")
    problem = TextField(default="")
    authorized = DateTimeField(default=utcnow)
    refreshed = DateTimeField(null=True)
    refreshing_until = DateTimeField(null=True)

    class Meta:
        table_name = "oauth_grant"
        legacy_table_names = False


def _v9(db: Database) -> None:
    """Add OAuth2 inboxes: inbox auth and oauth_* settings (existing inboxes keep password), oauth_grant."""
    add_column(db, "inbox", "auth", "VARCHAR(255) NOT NULL", "password")
    add_column(db, "inbox", "oauth_provider", "VARCHAR(255) NOT NULL", "microsoft")
    add_column(db, "inbox", "oauth_tenant", "VARCHAR(255) NOT NULL", "organizations")
    for column in ("oauth_client_id", "oauth_client_secret_env", "oauth_client_secret_file",
                   "oauth_authorization_url", "oauth_device_authorization_url", "oauth_token_url"):
        add_column(db, "inbox", column, "VARCHAR(255) NOT NULL", "")
    add_column(db, "inbox", "oauth_scopes", "TEXT NOT NULL", "[]")
    with db.bind_ctx([_InboxRowV9, _OAuthGrantV9], bind_refs=False, bind_backrefs=False):
        db.create_tables([_OAuthGrantV9], safe=False)


def _v10(db: Database) -> None:
    """Add inbox_state.listing and the mail_message indexes that keep an idle pass's store work constant."""
    add_column(db, "inbox_state", "listing", "VARCHAR(255) NOT NULL", "")
    for name, columns, where in (
            ("mail_message_work", "inbox_id, folder, on_server, uidvalidity, status, processed_at", ""),
            ("mail_message_pending", "inbox_id, folder, uidvalidity, disposition_pending",
             " WHERE \"disposition_pending\" > ''"),  # only the rows with a delete/move to do
            ("mail_message_vanished", "inbox_id, folder, on_server, status, vanished_at", "")):
        quoted = ", ".join(f'"{column}"' for column in columns.split(", "))
        db.execute_sql(f'CREATE INDEX "{name}" ON "mail_message" ({quoted}){where}')


def _v11(db: Database) -> None:
    """Add blob codec (compressed), attachment part and digest (read back from the raw mail), mail audit;
    lighter indexes."""
    add_column(db, "blob", "codec", "INTEGER NOT NULL", 0)
    add_column(db, "attachment", "part", "VARCHAR(255) NOT NULL", "")
    add_column(db, "attachment", "digest", "VARCHAR(255) NOT NULL", "")
    add_column(db, "mail_message", "audit", "TEXT NOT NULL", "")
    # fewer index pages per processed mail: prefixes of other indexes go, mostly-empty columns go partial
    for name in ("mail_message_inbox_id", "message_ref_message_id"):
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    for table, column, where in (("ticket", "service_id", '"service_id" IS NOT NULL'),
                                 ("ticket", "parent_id", '"parent_id" IS NOT NULL'),
                                 ("ticket", "team_id", '"team_id" IS NOT NULL'),
                                 ("ticket", "agent_id", '"agent_id" IS NOT NULL'),
                                 ("ticket", "legacy_ref", "\"legacy_ref\" != ''"),
                                 ("mail_message", "duplicate_of_id", '"duplicate_of_id" IS NOT NULL')):
        db.execute_sql(f'DROP INDEX IF EXISTS "{table}_{column}"')
        db.execute_sql(f'CREATE INDEX "{table}_{column}" ON "{table}" ("{column}") WHERE {where}')


def _v12_mailbox_keyset_index(db: Database) -> None:
    """Add mail_message (inbox, date, id) and (inbox, status, date, id) indexes: Mailbox pages by keyset."""
    db.execute_sql('CREATE INDEX "mail_message_inbox_id_date_id" ON "mail_message" ("inbox_id", "date", "id")')
    db.execute_sql('CREATE INDEX "mail_message_inbox_id_status_date_id" ON "mail_message" '
                   '("inbox_id", "status", "date", "id")')


# Each entry upgrades from (index) to (index + 1); its docstring's first line describes it.
# Append; never edit a released step.
MIGRATIONS: list[Callable[[Database], None]] = [_v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8, _v9, _v10, _v11,
                                                 _v12_mailbox_keyset_index]
LATEST = len(MIGRATIONS)


def describe(version: int) -> str:
    """One line about the step that reaches `version`."""
    step = MIGRATIONS[version - 1]
    doc = (step.__doc__ or "").strip().splitlines()
    return doc[0] if doc else getattr(step, "__name__", f"step {version}")


# ------------------------------------------------------------------------- pre-release store repair
# Columns renamed before the release: a store that still has the old name keeps its values.
_RENAMED = (("mail_message", "raw_sha256", "raw_id", "mail_message_raw_sha256"),
            ("attachment", "sha256", "blob_id", "attachment_sha256"))
_CREATE = re.compile(r'^CREATE TABLE IF NOT EXISTS "(\w+)" \((.*)\)$')
_FOREIGN_KEY = re.compile(r'^FOREIGN KEY \("(\w+)"\) (REFERENCES .*)$')
_COLUMN = re.compile(r'^"(\w+)" (.*)$')


def _split_top_level(body: str) -> list[str]:
    """The comma-separated parts of a CREATE TABLE body (commas inside parentheses stay)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(body):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(body[start:i].strip())
            start = i + 1
    parts.append(body[start:].strip())
    return parts


def v1_tables(db_dialect: str) -> dict[str, tuple[dict[str, str], dict[str, str]]]:
    """table -> ({column: its v1 definition}, {column: its v1 REFERENCES clause}), from the frozen DDL."""
    tables = {}
    for statement in schema_v1.statements(db_dialect):
        match = _CREATE.match(statement)
        if not match:
            continue
        columns, references = {}, {}
        for part in _split_top_level(match.group(2)):
            if fk := _FOREIGN_KEY.match(part):
                references[fk.group(1)] = fk.group(2)
            elif col := _COLUMN.match(part):
                columns[col.group(1)] = col.group(2)
        tables[match.group(1)] = (columns, references)
    return tables


def _literal(value: object, db_dialect: str) -> str:
    """A frozen v1 default as an SQL literal (DDL takes no bound parameters; the values are ours)."""
    if value is schema_v1.NOW:
        value = utcnow().strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE") if db_dialect == "postgres" else str(int(value))
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _add_v1_column(db: Database, db_dialect: str, table: str, column: str, definition: str,
                   reference: str | None) -> None:
    """Add one missing v1 column with its v1 definition; existing rows get its v1 default.

    SQLite cannot add a NOT NULL column without a constant DEFAULT, and playhouse's NOT NULL path rebuilds
    the table (DROP TABLE under enabled foreign keys would cascade), so SQLite keeps the DEFAULT clause
    (harmless: peewee always writes the value). PostgreSQL drops it again, ending exactly at v1.
    """
    default = schema_v1.DEFAULTS.get(table, {}).get(column)
    if "PRIMARY KEY" in definition or ("NOT NULL" in definition and default is None):
        raise MigrationError(f"table {table} lacks its column {column}, which cannot be added with a value; "
                             "restore a backup or export the settings and start a new store")
    add_column(db, table, column, definition, default, reference)


def add_column(db: Database, table: str, column: str, definition: str, default: object = None,
               reference: str | None = None) -> None:
    """ALTER TABLE ADD COLUMN, never a table rebuild: existing rows get `default`. The way to add a setting's
    column (e.g. `add_column(db, "inbox", "timeout", "VARCHAR(255) NOT NULL", "30")`).

    SQLite cannot add a NOT NULL column without a constant DEFAULT, and playhouse's NOT NULL path rebuilds
    the table (DROP TABLE under enabled foreign keys would cascade), so SQLite keeps the DEFAULT clause
    (harmless: peewee always writes the value). PostgreSQL drops it again, ending exactly as the models.
    """
    db_dialect = dialect(db)
    not_null = "NOT NULL" in definition
    sql = f'ALTER TABLE "{table}" ADD COLUMN "{column}" {definition}'
    if not_null:
        sql += f" DEFAULT {_literal(default, db_dialect)}"
    if reference:
        sql += f" {reference}"
    db.execute_sql(sql)
    if not_null and db_dialect == "postgres":
        db.execute_sql(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" DROP DEFAULT')


def _repair_v1(db: Database) -> None:
    """Bring a store marked version 1 by a pre-release build to the released v1 schema. Idempotent.

    Development builds ran `create_tables` from the models of their day, so their v1 may lack columns
    added later (inbox.auto_mail_behavior, the outbox's in_reply_to...), have old column names, or hold
    NULL epochs. Missing columns are added with their v1 definition and default, renamed ones keep their
    values, missing tables and indexes come from re-running the frozen v1 DDL (IF NOT EXISTS).
    """
    db_dialect = dialect(db)
    existing = set(db.get_tables())
    for table, (columns, references) in v1_tables(db_dialect).items():
        if table not in existing:
            continue
        have = {c.name for c in db.get_columns(table)}
        for renamed_table, old, new, old_index in _RENAMED:
            if renamed_table == table and old in have and new not in have and old not in columns:
                db.execute_sql(f'ALTER TABLE "{table}" RENAME COLUMN "{old}" TO "{new}"')
                db.execute_sql(f'DROP INDEX IF EXISTS "{old_index}"')
                have = (have - {old}) | {new}
        for column, definition in columns.items():
            if column not in have:
                _add_v1_column(db, db_dialect, table, column, definition, references.get(column))
    for statement in schema_v1.statements(db_dialect):
        db.execute_sql(statement)
    # Before the release, POP3/Maildir records had a NULL epoch; v1 keys them with 0. One record per key
    # is re-keyed (never two: the unique index would refuse), so they are found again, not re-processed.
    db.execute_sql(
        'UPDATE "mail_message" SET "uidvalidity" = 0 WHERE "uidvalidity" IS NULL'
        ' AND NOT EXISTS (SELECT 1 FROM "mail_message" AS m WHERE m."inbox_id" = "mail_message"."inbox_id"'
        ' AND m."folder" = "mail_message"."folder" AND m."key" = "mail_message"."key" AND m."uidvalidity" = 0)'
        ' AND "id" = (SELECT MIN(m."id") FROM "mail_message" AS m WHERE m."inbox_id" = "mail_message"."inbox_id"'
        ' AND m."folder" = "mail_message"."folder" AND m."key" = "mail_message"."key" AND m."uidvalidity" IS NULL)')


# ------------------------------------------------------------------------------------------ running
def current_version(db: Database) -> int:
    """The store's schema version; 0 for an empty database."""
    if not db.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0


def pending(db: Database) -> list[tuple[int, str]]:
    """(version, description) of every step this store still needs."""
    return [(v, describe(v)) for v in range(current_version(db) + 1, LATEST + 1)]


def _too_new(found: int) -> SchemaTooNew:
    return SchemaTooNew(f"the store has schema version {found}, newer than this mailticket knows ({LATEST}); "
                        "upgrade mailticket or use another store")


def sqlite_file(db: Database) -> str | None:
    """The file of a SQLite store (None in memory or on PostgreSQL)."""
    if isinstance(db, SqliteDatabase) and db.database not in ("", ":memory:") and not db.database.startswith("file:"):
        return db.database
    return None


def backup_sqlite(db: Database, found: int) -> str | None:
    """Copy a SQLite store to `<file>.bak-v<found>` (mode 0600) before it is upgraded; None otherwise.

    The sqlite3 backup API copies through the open connection, WAL content included, and is consistent
    while other connections read. A previous backup of the same version is replaced (the newest copy of
    that version is the one worth having); the copy is written beside it and renamed into place.
    """
    path = sqlite_file(db)
    if path is None:
        return None
    target = f"{path}.bak-v{found}"
    partial, created = f"{target}.part", False
    try:
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        created = True
        copy = sqlite3.connect(partial)
        try:
            db.connection().backup(copy)
        finally:
            copy.close()
        os.chmod(partial, 0o600)
        os.replace(partial, target)
    except (OSError, sqlite3.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise MigrationError(f"cannot back it up to {target} before upgrading ({reason}); nothing was changed; "
                             "free space or fix permissions there") from exc
    finally:
        if created and os.path.exists(partial):
            os.unlink(partial)
    return target


def upgrade(db: Database, backup: bool = True) -> UpgradeResult:
    """Bring the schema to LATEST, one transaction per step; refuse a newer store (SchemaTooNew)."""
    found = current_version(db)
    if found > LATEST:
        raise _too_new(found)
    if found == LATEST:
        return UpgradeResult(found, found)
    copy = backup_sqlite(db, found) if backup and found >= 1 else None
    applied = []
    for version in range(found, LATEST):
        with db.atomic():
            if isinstance(db, PostgresqlDatabase):  # another machine may be upgrading the same store
                db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (0x6D61696C,))
            now = current_version(db)
            if now > LATEST:
                raise _too_new(now)
            if now > version:  # a concurrent opener applied it meanwhile
                continue
            MIGRATIONS[version](db)
            SchemaVersion.create(version=version + 1)
        applied.append(f"v{version + 1}: {describe(version + 1)}")
    return UpgradeResult(found, LATEST, tuple(applied), copy)
