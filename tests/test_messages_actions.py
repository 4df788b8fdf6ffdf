"""Operator actions on messages through the CLI: `messages reset` (back to new, keeping the ticket link, so
a retry never makes a second ticket), `messages ignore`, `messages delete` (server first, then the record;
a failed server delete keeps the record and says so)."""
from __future__ import annotations

import pytest

from mailticket_tui.store.models import CaseLogEntry, MailMessage, Person, Ticket

from .mailgen import make_mail
from .runner_support import Cli, inbox_toml, records, subjects, write_settings


def test_reset_retries_an_error_and_never_duplicates_a_processed_message(
        mail_account, tmp_path, store_url, capsys) -> None:
    mail_account.append(make_mail(subject="From a stranger", sender="stranger@elsewhere.example"))
    mail_account.append(make_mail(subject="Known problem", message_id="<known@acme.example>"))
    mail_account.append(make_mail(subject="Re: Known problem", body="More details.\n",
                                  in_reply_to="<known@acme.example>"))
    strict = inbox_toml("support", "imap", mail_account, unknown_caller_behavior="reject_email",
                        title_pattern="")
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, strict))
    Person.create(email="alice@acme.example", name="Martin")
    assert cli.run_once()[0] == 0
    by_subject = {m["subject"]: m for m in cli.messages()}
    stranger = by_subject["From a stranger"]
    assert stranger["status"] == "error" and stranger["ticket_ref"] is None
    known = by_subject["Re: Known problem"]  # a reply: it added a case log entry to the ticket
    assert known["status"] == "processed" and known["ticket_ref"]
    log_entries = CaseLogEntry.select().count()
    assert log_entries == 1 and by_subject["Known problem"]["ticket_ref"] == known["ticket_ref"]

    # reset a processed message: retried, but it already fed its ticket, so nothing is applied twice
    code, out, _ = cli("messages", "reset", str(known["id"]))
    assert code == 0 and "processed -> new" in out
    assert MailMessage.get_by_id(known["id"]).ticket.ref == known["ticket_ref"]
    code, out, _ = cli.run_once()
    assert code == 0 and "read 1, processed 1" in out, out
    assert Ticket.select().count() == 1 and CaseLogEntry.select().count() == log_entries
    again = MailMessage.get_by_id(known["id"])
    assert again.status == "processed" and again.ticket.ref == known["ticket_ref"]

    # the error is retried after the inbox learned to create contacts
    cli.use(write_settings(tmp_path, inbox_toml("support", "imap", mail_account, title_pattern="")))
    assert cli.run_once()[1].startswith("support: read 0")  # errors are not retried by themselves
    code, out, _ = cli("messages", "reset", str(stranger["id"]))
    assert code == 0 and "error -> new" in out
    assert cli.run_once()[1].startswith("support: read 1, processed 1")
    assert MailMessage.get_by_id(stranger["id"]).status == "processed"
    assert Ticket.select().count() == 2
    assert cli.run_once()[1].startswith("support: read 0")


def test_ignore_leaves_a_message_alone_until_reset(maildir, tmp_path, store_url, capsys) -> None:
    (maildir / "new" / "1.M1.test").write_bytes(make_mail(subject="Nothing to update"))
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("local", "maildir", maildir=maildir, behavior="update_only")))
    assert cli.run_once()[0] == 0
    (row,) = cli.messages()
    assert row["status"] == "error"
    code, out, _ = cli("messages", "ignore", str(row["id"]))
    assert code == 0 and "error -> ignored" in out
    assert [m["id"] for m in cli.messages("--status", "ignored")] == [row["id"]]
    assert cli.run_once()[1].startswith("local: read 0")
    assert (maildir / "new" / "1.M1.test").exists()  # ignored mail is never deleted automatically

    code, _, err = cli("messages", "ignore", str(row["id"]))
    assert code == 2 and "is ignored; nothing to do" in err
    code, _, err = cli("messages", "reset", "999999")
    assert code == 2 and "999999: FAILED: no such message" in err

    cli.use(write_settings(tmp_path, inbox_toml("local", "maildir", maildir=maildir)))
    assert cli("messages", "reset", str(row["id"]))[0] == 0
    assert cli.run_once()[1].startswith("local: read 1, processed 1")
    assert Ticket.select().count() == 1


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_delete_removes_from_the_server_then_the_record(
        mail_account, tmp_path, store_url, capsys, protocol) -> None:
    for subject in ("Delete me", "Keep me"):
        mail_account.append(make_mail(subject=subject))
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("box", protocol, mail_account)))
    assert cli.run_once()[0] == 0
    ids = {m["subject"]: m["id"] for m in cli.messages()}
    code, out, _ = cli("messages", "delete", str(ids["Delete me"]))
    assert code == 0 and "deleted from the server and the store" in out, out
    assert subjects(mail_account) == ["Keep me"]
    assert [r.subject for r in records()] == ["Keep me"]
    assert Ticket.select().count() == 2  # the ticket stays; only the mail and its record go
    assert cli.run_once()[1].startswith("box: read 0")


def test_a_failed_server_delete_keeps_the_record_and_says_so(
        mail_account, tmp_path, store_url, capsys, maildir) -> None:
    mail_account.append(make_mail(subject="Stuck"))
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("support", "imap", mail_account)))
    assert cli.run_once()[0] == 0
    (row,) = cli.messages()
    cli.use(write_settings(tmp_path, inbox_toml("support", "imap", mail_account, password="wrong")))
    code, out, err = cli("messages", "delete", str(row["id"]))
    assert code == 2 and f"{row['id']}: FAILED: server delete failed, record kept" in err and "refused login" in err
    assert [r.id for r in records()] == [row["id"]] and mail_account.message_count() == 1

    # a record whose message already left the server is simply dropped
    cli.use(write_settings(tmp_path, inbox_toml("support", "imap", mail_account)))
    MailMessage.update(on_server=False).execute()
    code, out, _ = cli("messages", "delete", str(row["id"]))
    assert code == 0 and "record deleted (already gone from the server)" in out
    assert records() == []


def test_delete_waits_for_no_runner_holding_the_inbox(maildir, tmp_path, store_url, capsys) -> None:
    from mailticket_tui.engine import leases
    from mailticket_tui.store.models import Inbox

    (maildir / "new" / "1.M1.t").write_bytes(make_mail(subject="Busy"))
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("local", "maildir", maildir=maildir)))
    assert cli.run_once()[0] == 0
    (row,) = cli.messages()
    assert leases.claim(Inbox.get().id, "run@elsewhere:1:x", 300) is None
    code, _, err = cli("messages", "delete", str(row["id"]))
    assert code == 2 and "inbox busy (run@elsewhere:1:x holds it)" in err
    assert len(records()) == 1 and list((maildir / "new").iterdir()) + list((maildir / "cur").iterdir())
