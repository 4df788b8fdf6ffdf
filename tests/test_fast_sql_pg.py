"""The mail path's statements on PostgreSQL: prepared from their second run on a connection, the same rows as
unprepared, and a session that lost its prepared statements (a pooler) costs one rolled-back transaction,
done again with statements unprepared: no mail ends in error for it."""
from __future__ import annotations

from pathlib import Path

import pytest

from mailticket_tui.engine.people import find_persons
from mailticket_tui.services import open_services
from mailticket_tui.store import fast_sql
from mailticket_tui.store.db import open_store
from mailticket_tui.store.models import MailMessage, Organization, Person, Ticket, database_proxy

from .mailgen import make_mail
from .runner_support import inbox_toml, write_settings


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
    with pytest.raises(fast_sql.PreparedStatementLost):
        with database_proxy.atomic():
            fast_sql.insert(Organization, {"name": "Lost"})
    assert "no longer prepared" in caplog.text
    with database_proxy.atomic():
        fast_sql.insert(Organization, {"name": "Three"})
        fast_sql.insert(Organization, {"name": "Four"})
    assert prepared_names() == set()
    assert [o.name for o in Organization.select().order_by(Organization.id)] == ["One", "Two", "Three", "Four"]


@pytest.mark.parametrize("lost", ["ALL", "the ticket's INSERT"])  # first met outside the steps, then inside
def test_mail_processed_when_the_session_lost_its_statements(
        lost: str, pg_store: str, tmp_path: Path, maildir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_sql, "_prepare", True)

    def deliver(numbers: range) -> None:
        for i in numbers:
            (maildir / "new" / f"{1000 + i}.M{i}.test").write_bytes(
                make_mail(subject=f"Request {i}", message_id=f"<req-{i}@acme.example>"))

    services = open_services(str(write_settings(tmp_path, inbox_toml("box", "maildir", maildir=maildir))), pg_store)
    deliver(range(3))
    services.run_once()  # in this thread: the statements are prepared on this connection from the 2nd mail
    prepared = dict(database_proxy.obj.execute_sql("SELECT name, statement FROM pg_prepared_statements"))
    ticket_insert = [name for name, text in prepared.items() if 'INSERT INTO "ticket"' in text]
    assert len(ticket_insert) == 1
    database_proxy.obj.execute_sql("DEALLOCATE " + ("ALL" if lost == "ALL" else ticket_insert[0]))
    deliver(range(3, 6))
    services.run_once()
    assert not fast_sql._prepare
    statuses = dict(MailMessage.select(MailMessage.subject, MailMessage.status).tuples())
    assert statuses == {f"Request {i}": "processed" for i in range(6)}
    assert sorted(t.title for t in Ticket.select()) == [f"Request {i}" for i in range(6)]


def test_a_statement_the_server_will_not_prepare_goes_plain(pg_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_sql, "_plain", set())
    open_store(pg_store)

    def add(mark: str) -> str:
        return f"SELECT {mark} + {mark}"  # fine with values; `$1 + $2` has no type to prepare with

    assert fast_sql.select(("add",), add, [1, 2]) == [(3,)]
    with pytest.raises(fast_sql.PreparedStatementLost):
        with database_proxy.atomic():
            fast_sql.select(("add",), add, [1, 2])
    with database_proxy.atomic():
        assert fast_sql.select(("add",), add, [2, 3]) == [(5,)]
    assert fast_sql._prepare  # the others are still prepared


def test_a_prepare_failing_for_another_reason_leaves_the_text_preparable(
        pg_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_sql, "_plain", set())
    open_store(pg_store)

    def one(mark: str) -> str:
        return f"SELECT {mark}::int"

    assert fast_sql.select(("one",), one, [1]) == [(1,)]
    with pytest.raises(Exception) as failed:
        with database_proxy.atomic():
            with pytest.raises(Exception):
                database_proxy.obj.execute_sql("SELECT 1/0")
            fast_sql.select(("one",), one, [1])  # its PREPARE meets an aborted transaction
    assert not isinstance(failed.value, fast_sql.PreparedStatementLost)
    assert fast_sql._plain == set()
    assert fast_sql.select(("one",), one, [2]) == [(2,)]
    assert [text for (text,) in database_proxy.obj.execute_sql("SELECT statement FROM pg_prepared_statements")
            if "$1::int" in text]  # prepared at its next run
