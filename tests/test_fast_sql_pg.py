"""The mail path's statements on PostgreSQL: prepared from their second run on a connection, the same rows as
unprepared, and a session that lost its prepared statements (a pooler) costs one failed statement, after which
statements go unprepared."""
from __future__ import annotations

import peewee
import pytest

from mailticket_tui.engine.people import find_persons
from mailticket_tui.store import fast_sql
from mailticket_tui.store.db import open_store
from mailticket_tui.store.models import Organization, Person, database_proxy


def prepared_names() -> set[str]:
    return {name for (name,) in database_proxy.obj.execute_sql("SELECT name FROM pg_prepared_statements")}


def test_statements_are_prepared_from_their_second_run(pg_store: str) -> None:
    open_store(pg_store)
    with database_proxy.atomic():
        first = fast_sql.insert_returning_id(Organization, {"name": "Acme 100%"})
    assert prepared_names() == set()  # one run: no PREPARE
    with database_proxy.atomic():
        second = fast_sql.insert_returning_id(Organization, {"name": "Beta"})
        fast_sql.insert(Person, {"email": "ann@acme.example", "org": first, "name": "Ann"})
        fast_sql.insert(Person, {"email": "bob@beta.example", "org": second, "name": "O'Brien %s"})
    assert len(prepared_names()) == 2  # the organisation's insert and the person's
    assert [(o.id, o.name) for o in Organization.select().order_by(Organization.id)] == [(first, "Acme 100%"),
                                                                                      (second, "Beta")]
    assert [p.name for p in find_persons("BOB@beta.example")] == ["O'Brien %s"]
    assert [p.org_id for p in find_persons("bob@beta.example")] == [second]  # second run: the prepared SELECT
    assert fast_sql.update_by_id(Person, find_persons("ann@acme.example")[0].id, {"phone": "+1 555"}) == 1
    assert Person.get(Person.email == "ann@acme.example").phone == "+1 555"


def test_a_lost_prepared_statement_fails_once_then_statements_go_unprepared(
        pg_store: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(fast_sql, "_prepare", True)
    open_store(pg_store)
    for name in ("One", "Two"):
        with database_proxy.atomic():
            fast_sql.insert(Organization, {"name": name})
    assert len(prepared_names()) == 1
    database_proxy.obj.execute_sql("DEALLOCATE ALL")  # what a pooler's other session looks like to us
    with pytest.raises(peewee.DatabaseError):
        with database_proxy.atomic():
            fast_sql.insert(Organization, {"name": "Lost"})
    assert "no longer prepared" in caplog.text
    with database_proxy.atomic():
        fast_sql.insert(Organization, {"name": "Three"})
        fast_sql.insert(Organization, {"name": "Four"})
    assert prepared_names() == set()
    assert [o.name for o in Organization.select().order_by(Organization.id)] == ["One", "Two", "Three", "Four"]
