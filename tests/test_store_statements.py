"""Statements per message on the common path, counted on a real SQLite store: a new request from a caller
already found in the pass, and a reply to a known ticket (issue 17's goal: at most 5). Also the two ways the one-write path falls back:
a record that exists already (a held reply) and steps that fail after writing (rolled back whole, the error
recorded in a new transaction), each leaving exactly one record and no half-written ticket."""
from __future__ import annotations

import collections
from pathlib import Path

import peewee

from mailticket_tui.cli import main
from mailticket_tui.engine import process
from mailticket_tui.engine.steps import apply
from mailticket_tui.store.models import Attachment, Change, MailMessage, MessageRef, Ticket

from .mailgen import make_mail

ALICE = "Alice Martin <alice@acme.example>"


def maildir_config(tmp_path: Path, mails: list[bytes], extra: str = "") -> Path:
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    for raw in mails:
        count = len(list((maildir / "new").iterdir())) + len(list((maildir / "cur").iterdir()))
        (maildir / "new" / f"{1700000000 + count}.M{count}.test").write_bytes(raw)
    config = tmp_path / "mailticket.toml"
    config.write_text(f'[[inbox]]\nname = "local"\nprotocol = "maildir"\nserver = "{maildir}"\n'
                      f'unknown_caller_behavior = "create_contact"\n{extra}', encoding="utf-8")
    return config


def counted_pass(monkeypatch, store_url: str) -> list[collections.Counter]:
    """Run one pass; the data statements each process_message call sent, by kind, in processing order."""
    per_message: list[collections.Counter] = []
    current: list[collections.Counter] = []
    original_sql = peewee.Database.execute_sql
    original_process = process.process_message

    def counting_sql(self, sql, params=None, *args, **kwargs):
        if current:
            current[-1][sql.split(None, 1)[0].upper()] += 1
        return original_sql(self, sql, params, *args, **kwargs)

    def counting_process(*args, **kwargs):
        current.append(collections.Counter())
        try:
            return original_process(*args, **kwargs)
        finally:
            per_message.append(current.pop())

    monkeypatch.setattr(peewee.Database, "execute_sql", counting_sql)
    monkeypatch.setattr("mailticket_tui.engine.runner.process_message", counting_process)
    assert main(["--db", store_url, "run", "--once"]) == 0
    return per_message


def data_statements(counts: collections.Counter) -> int:
    return sum(n for kind, n in counts.items() if kind in ("SELECT", "INSERT", "UPDATE", "DELETE"))


def test_statements_per_message_on_the_common_path(tmp_path, store_url, monkeypatch, capsys) -> None:
    warm_up = [make_mail(sender=ALICE, subject="Printer jams", message_id="<r1@acme.example>"),
               make_mail(sender=ALICE, subject="Re: Printer jams", body="Paper tray 2.\n", message_id="<a0@acme.example>",
                         in_reply_to="<r1@acme.example>", references="<r1@acme.example>")]
    config = maildir_config(tmp_path, warm_up)
    assert main(["--db", store_url, "config", "import", str(config)]) == 0
    assert main(["--db", store_url, "run", "--once"]) == 0  # alice is a person, the store has its secret
    maildir_config(tmp_path, [
        make_mail(sender=ALICE, subject="Screen flickers", message_id="<r2@acme.example>"),
        make_mail(sender=ALICE, subject="Scanner is slow", message_id="<r3@acme.example>"),
        make_mail(sender=ALICE, subject="Re: Printer jams", body="Still jammed.\n", message_id="<a1@acme.example>",
                  in_reply_to="<a0@acme.example>", references="<r1@acme.example> <a0@acme.example>"),
    ])
    counts = counted_pass(monkeypatch, store_url)
    capsys.readouterr()
    assert len(counts) == 3
    first_in_pass, new_request, reply = (data_statements(c) for c in counts)
    # the raw blob, the ticket, the record (also the thread entry and the audit); + the caller's lookup, once
    # per address and pass
    assert new_request == 3, counts[1]
    assert first_in_pass == new_request + 1
    # the raw blob, the thread lookup, the log entry, the ticket's `updated`, the record
    assert reply == 5, counts[2]
    assert counts[1]["SAVEPOINT"] == counts[2]["SAVEPOINT"] == 0
    assert Ticket.select().count() == 3 and MailMessage.select().count() == 5
    assert Change.select().count() == MessageRef.select().count() == 0  # operators' and outgoing mail's tables


def test_a_held_reply_is_processed_on_its_record(tmp_path, store_url, capsys) -> None:
    """The reply comes first on the server: it is recorded `new` and held, then processed on that record
    (the one-write path meets the record and starts again on it)."""
    reply = make_mail(sender=ALICE, subject="Re: Disk full", message_id="<d2@acme.example>",
                      in_reply_to="<d1@acme.example>", references="<d1@acme.example>")
    request = make_mail(sender=ALICE, subject="Disk full", message_id="<d1@acme.example>")
    config = maildir_config(tmp_path, [reply, request])
    assert main(["--db", store_url, "config", "import", str(config)]) == 0
    assert main(["--db", store_url, "run", "--once"]) == 0
    capsys.readouterr()
    assert Ticket.select().count() == 1
    rows = list(MailMessage.select().order_by(MailMessage.id))
    assert len(rows) == 2 and {r.status for r in rows} == {"processed"}
    assert all(r.ticket_id == rows[0].ticket_id for r in rows)


def test_steps_failing_after_writes_leave_one_error_record_and_nothing_else(tmp_path, store_url, monkeypatch,
                                                                           capsys) -> None:
    def broken(ctx, ticket, changed, event, creating, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(apply, "_finish", broken)  # after the ticket and its files were written
    config = maildir_config(tmp_path, [make_mail(sender=ALICE, attachments=[("a.txt", "text/plain", b"x" * 500)])])
    assert main(["--db", store_url, "config", "import", str(config)]) == 0
    main(["--db", store_url, "run", "--once"])
    capsys.readouterr()
    (row,) = MailMessage.select()
    assert row.status == "error" and "internal error while processing: RuntimeError: disk on fire" in row.error
    assert "caller: " in row.trace and row.raw_id  # the trace up to the failure, the raw mail kept for a retry
    assert Ticket.select().count() == 0 and Attachment.select().count() == 0 and Change.select().count() == 0


def test_an_aborted_creation_rolls_the_ticket_back(tmp_path, store_url, capsys) -> None:
    config = maildir_config(tmp_path, [make_mail(sender=ALICE)], extra='ticket_default_values = { team = "Nobody" }\n')
    assert main(["--db", store_url, "config", "import", str(config)]) == 0
    main(["--db", store_url, "run", "--once"])
    capsys.readouterr()
    (row,) = MailMessage.select()
    assert row.status == "error" and row.error.startswith("ticket default values:")
    assert Ticket.select().count() == 0 and MessageRef.select().count() == 0
