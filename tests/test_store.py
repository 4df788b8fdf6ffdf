"""Store: SQLite pragmas, file mode, schema versions (upgrade, refusal of newer), URL errors, PostgreSQL."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mailticket_tui.store import SCHEMA_VERSION, StoreError, open_store
from mailticket_tui.store.models import ALL_MODELS, Inbox, SchemaVersion, database_proxy



def test_sqlite_store_is_private_and_tuned(tmp_path: Path) -> None:
    db = open_store(f"sqlite:///{tmp_path / 'a' / 's.db'}")
    mode = stat.S_IMODE(os.stat(tmp_path / "a" / "s.db").st_mode)
    assert mode == 0o600
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert set(db.get_tables()) >= {m._meta.table_name for m in ALL_MODELS}
    assert SchemaVersion.select().count() == SCHEMA_VERSION


def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    open_store(url)
    Inbox.create(name="x", server="h")
    database_proxy.close()
    open_store(url)
    assert Inbox.select().count() == 1
    assert SchemaVersion.select().count() == SCHEMA_VERSION


def test_newer_store_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    open_store(url)
    SchemaVersion.create(version=SCHEMA_VERSION + 5)
    database_proxy.close()
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 5}, newer"):
        open_store(url)


def test_older_store_is_upgraded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mailticket_tui.store import migrations

    url = f"sqlite:///{tmp_path / 's.db'}"
    open_store(url)
    database_proxy.close()
    calls = []
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS + [lambda db: calls.append(db)])
    monkeypatch.setattr(migrations, "LATEST", len(migrations.MIGRATIONS))
    open_store(url)
    assert len(calls) == 1 and migrations.current_version(database_proxy.obj) == SCHEMA_VERSION + 1


def test_unknown_scheme_and_unreachable_server() -> None:
    with pytest.raises(StoreError, match="unknown scheme 'mysqlx'"):
        open_store("mysqlx://u@h/db")
    with pytest.raises(StoreError, match="cannot connect"):
        open_store("postgresql://nobody:pw@127.0.0.1:1/none")


def test_postgresql_store(pg_store: str) -> None:
    db = open_store(pg_store)
    assert "inbox" in db.get_tables()
    with db.atomic() as txn:
        Inbox.create(name="pg-probe", server="h")
        txn.rollback()
    assert not Inbox.select().where(Inbox.name == "pg-probe").exists()
    database_proxy.close()
    open_store(pg_store)  # reopening finds the schema current
    assert SchemaVersion.select().count() == SCHEMA_VERSION


def test_passwords_are_encrypted_at_rest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mailticket_tui.settings import settings_from_dict
    from mailticket_tui.settings import SettingsError
    from mailticket_tui.store import secrets
    from mailticket_tui.store.settings_store import load_settings, save_settings

    url = f"sqlite:///{tmp_path / 's.db'}"
    open_store(url)
    save_settings(settings_from_dict({"smtp": {"password": "smtp-Secret-1"},
                                      "inbox": [{"name": "a", "server": "h", "login": "l", "password": "imap-Secret-2"}]}))
    loaded = load_settings(url)
    assert loaded.inboxes[0].password == "imap-Secret-2" and loaded.smtp.password == "smtp-Secret-1"
    database_proxy.close()
    for path in tmp_path.glob("s.db*"):
        if path.suffix != ".key":
            data = path.read_bytes()
            assert b"Secret-" not in data, path
    assert stat.S_IMODE(os.stat(tmp_path / "s.db.key").st_mode) == 0o600
    # another key cannot read them: one clear line, not a traceback
    (tmp_path / "s.db.key").unlink()
    secrets._ciphers.clear()
    open_store(url)
    with pytest.raises(SettingsError, match="cannot be decrypted"):
        load_settings(url)


def test_one_record_per_message_for_every_protocol(tmp_path: Path) -> None:
    """The unique (inbox, folder, epoch, key) index also holds for POP3/Maildir, whose epoch is 0 (not NULL)."""
    from peewee import IntegrityError

    from mailticket_tui.engine.sources.base import FolderState
    from mailticket_tui.store.models import MailMessage

    open_store(f"sqlite:///{tmp_path / 's.db'}")
    inbox = Inbox.create(name="pop", server="h", protocol="pop3")
    epoch = FolderState(None, None, 0).epoch
    MailMessage.create(inbox=inbox, folder="INBOX", uidvalidity=epoch, key="UIDL-1")
    with pytest.raises(IntegrityError):
        MailMessage.create(inbox=inbox, folder="INBOX", uidvalidity=epoch, key="UIDL-1")
