"""The PostgreSQL store sends BEGIN with a transaction's first statement: the same transactions, one round trip
less. Seen from a second connection: commits, rollbacks, savepoints, an empty transaction, a failed first
statement, and statements outside any transaction staying autocommitted."""
from __future__ import annotations

import logging

import peewee
import psycopg2
import pytest

from mailticket_tui.store.db import open_store
from mailticket_tui.store.models import Organization, database_proxy
from mailticket_tui.store.postgres import PostgresStore


@pytest.fixture
def store(pg_store: str) -> str:
    db = open_store(pg_store)
    assert isinstance(db, PostgresStore)
    return pg_store


def names_seen_elsewhere(url: str) -> list[str]:
    """The organisations another connection sees (committed rows only)."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT name FROM organization ORDER BY id")
            return [name for (name,) in cur.fetchall()]
    finally:
        conn.close()


def sent(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The SQL texts peewee logged (every statement but its own COMMIT/ROLLBACK)."""
    return [record.msg[0] for record in caplog.records if record.name == "peewee" and isinstance(record.msg, tuple)]


def test_begin_leaves_with_the_first_statement_and_the_transaction_commits(
        store: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="peewee")
    with database_proxy.atomic():
        Organization.create(name="Acme")
        assert names_seen_elsewhere(store) == []  # inside the transaction: not visible yet
        Organization.create(name="Beta")
    texts = sent(caplog)
    assert texts[0].startswith('BEGIN; INSERT INTO "organization"')
    assert "BEGIN" not in texts[1] and "BEGIN" not in texts  # no BEGIN of its own
    assert names_seen_elsewhere(store) == ["Acme", "Beta"]


def test_rollback_savepoints_and_empty_transactions(store: str, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(RuntimeError):
        with database_proxy.atomic():
            Organization.create(name="Gone")
            raise RuntimeError("undo")
    with database_proxy.atomic():
        Organization.create(name="Kept")
        with pytest.raises(RuntimeError):
            with database_proxy.atomic():  # a savepoint
                Organization.create(name="Inner")
                raise RuntimeError("undo the savepoint only")
    caplog.set_level(logging.DEBUG, logger="peewee")
    with database_proxy.atomic():
        pass  # nothing sent, nothing to end
    assert sent(caplog) == []
    Organization.create(name="Autocommitted")  # outside any transaction: no BEGIN, visible at once
    assert not sent(caplog)[-1].startswith("BEGIN")
    assert names_seen_elsewhere(store) == ["Kept", "Autocommitted"]


def test_a_failing_first_statement_rolls_back_and_the_next_transaction_works(store: str) -> None:
    Organization.create(name="Acme")
    with pytest.raises(peewee.IntegrityError):
        with database_proxy.atomic():
            Organization.insert(id=Organization.get().id, name="Same id").execute()  # the first statement fails
    with database_proxy.atomic():
        Organization.create(name="Beta")
    assert names_seen_elsewhere(store) == ["Acme", "Beta"]


def test_a_closed_connection_forgets_a_waiting_begin(store: str) -> None:
    txn = database_proxy.atomic()
    txn.__enter__()  # BEGIN waits for a statement that never comes
    database_proxy.obj.pop_transaction()
    database_proxy.close()
    database_proxy.connect()
    Organization.create(name="After")  # autocommitted: not held in a transaction nobody ends
    assert names_seen_elsewhere(store) == ["After"]
