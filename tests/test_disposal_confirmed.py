"""A delete counts as done only once the server confirmed it for good, and a mail already ticketed is never
ticketed again, whatever the server numbering did. Against the private Dovecot (POP3 and IMAP)."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mailticket_tui.engine.sources.imap import ImapSource
from mailticket_tui.services import open_services
from mailticket_tui.store import open_store
from mailticket_tui.store.models import MailMessage, Ticket, database_proxy

from .mailgen import make_mail
from .runner_support import Cli, age, inbox_toml, records, write_settings

N = 10


def run_once(config: Path, store: str, fault: str = "", kill_after: float | None = None) -> int:
    env = {**os.environ, "MAILTICKET_FAULT": fault}
    proc = subprocess.Popen([sys.executable, "-m", "mailticket_tui", "--config", str(config), "--db", store,
                             "run", "--once"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if kill_after is not None:
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
    return proc.wait(timeout=120)


def titles() -> list[str]:
    return sorted(t.title for t in Ticket.select(Ticket.title))


@pytest.mark.timeout(600)
def test_pop3_kills_after_dele_converge_with_nothing_left_or_doubled(mail_account, tmp_path: Path) -> None:
    """Runs killed after a (re-)sent DELE and before QUIT: the server rolls those deletes back. Whatever the
    kill points, two clean runs leave no processed mail on the server, and once the records have expired a
    copy of a processed mail delivered again is a duplicate, not a second ticket."""
    mails = [make_mail(subject=f"Pop {i:02d}", sender=f"user{i}@acme.example", message_id=f"<pop-{i}@acme.example>")
             for i in range(N)]
    for raw in mails:
        mail_account.append(raw)
    config = write_settings(tmp_path, inbox_toml("pop", "pop3", mail_account, email_storage="delete"))
    store = f"sqlite:///{tmp_path / 'pop.db'}"
    open_services(str(config), store)
    database_proxy.close()
    # After a kill at after_commit, the next run re-sends the DELE of that mail first, then is killed while
    # working on the next one, before QUIT: the exact path where a delete used to be recorded done too early.
    plan = ["after_commit:1", "after_commit:1", "after_dispose:2", "after_commit:2", "after_dispose:1"]
    kills = sum(run_once(config, store, fault=fault) == -signal.SIGKILL for fault in plan)
    rng = random.Random(909)
    for _ in range(3):
        run_once(config, store, kill_after=rng.uniform(0.3, 1.0))
    assert kills >= 4, "the fault points were not reached"
    assert run_once(config, store) == 0 and run_once(config, store) == 0

    open_store(store)
    try:
        assert titles() == [f"Pop {i:02d}" for i in range(N)]
        assert mail_account.message_count() == 0, "processed mail left on the server"
        assert all(r.status == "processed" and not r.on_server and not r.disposition_pending for r in records())
        age(MailMessage.vanished_at, 60)
    finally:
        database_proxy.close()
    assert run_once(config, store) == 0  # the vanished retention has passed: the records go
    open_store(store)
    try:
        assert MailMessage.select().count() == 0
    finally:
        database_proxy.close()

    mail_account.append(mails[3])  # the same mail delivered again, long after its record expired
    assert run_once(config, store) == 0
    open_store(store)
    try:
        assert titles() == [f"Pop {i:02d}" for i in range(N)]
        (row,) = records()
        assert row.status == "duplicate" and row.ticket.title == "Pop 03"
        assert "record has expired" in row.trace
        assert mail_account.message_count() == 0  # a delete inbox: the copy leaves like the original did
    finally:
        database_proxy.close()


def test_a_redelivered_copy_is_a_duplicate_linked_to_the_first_record(mail_account, tmp_path, store_url,
                                                                      capsys) -> None:
    raw = make_mail(subject="Only once", message_id="<once@acme.example>")
    mail_account.append(raw)
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("support", "imap", mail_account)))
    assert cli.run_once()[0] == 0
    mail_account.append(raw)  # a new UID, the same bytes
    mail_account.append(make_mail(subject="Only once", message_id="<once@acme.example>",
                                  body="Same Message-ID, other words.\n"))  # not the same mail: processed
    code, out, _ = cli.run_once("-v")
    assert code == 0
    first, copy, other = records()
    assert copy.status == "duplicate" and copy.duplicate_of_id == first.id and copy.ticket_id == first.ticket_id
    assert other.status == "processed" and other.ticket_id != first.ticket_id  # identity is Message-ID AND bytes
    assert Ticket.select().count() == 2 and len(first.ticket.case_log) == 0
    listed = {m["id"]: m for m in cli.messages()}
    assert listed[copy.id]["status"] == "duplicate"
    assert f"#{copy.id} (uid 2): duplicate" in out, out


def test_imap_delete_not_expunged_stays_pending(mail_account, tmp_path, store_url, capsys, monkeypatch) -> None:
    """Without UIDPLUS, when the folder holds a \\Deleted mail that is not ours to expunge (here: a too-big
    mail kept as an error, flagged by another client), ours can only be flagged: the delete is not done
    until an expunge removed it, so it stays pending and is asked again."""
    mail_account.append(make_mail(subject="Ours"))
    theirs = mail_account.append(make_mail(subject="Theirs", attachments=[("big.bin", "application/octet-stream",
                                                                            os.urandom(40_000))]))
    client = mail_account.imap()
    client.select_folder("INBOX")
    client.add_flags([theirs], [b"\\Deleted"])
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("support", "imap", mail_account, email_storage="delete"),
                           maximum_email_size="20K"))
    real_has = ImapSource.has
    monkeypatch.setattr(ImapSource, "has", lambda self, cap: cap != "UIDPLUS" and real_has(self, cap))
    code, out, _ = cli.run_once("-v")
    assert code == 0 and "not expunged yet" in out, out
    ours = next(r for r in records() if r.subject == "Ours")
    assert ours.status == "processed" and ours.disposition_pending == "delete" and ours.on_server
    assert mail_account.message_count() == 2

    client.remove_flags([theirs], [b"\\Deleted"])  # the other client changed its mind
    code, out, _ = cli.run_once("-v")
    assert code == 0 and "deleted 1" in out, out
    client.noop()
    assert client.search("ALL") == [theirs]
    ours = MailMessage.get_by_id(ours.id)
    assert not ours.on_server and ours.disposition_pending == ""
    assert Ticket.select().count() == 1


def test_reset_of_a_vanished_message_says_so(mail_account, tmp_path, store_url, capsys) -> None:
    mail_account.append(make_mail(subject="Gone soon", sender="stranger@nowhere.example"))
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("support", "imap", mail_account,
                                                unknown_caller_behavior="reject_email")))
    assert cli.run_once()[0] == 0
    (row,) = records()
    assert row.status == "error"
    client = mail_account.imap()
    client.select_folder("INBOX")
    client.delete_messages(client.search("ALL"))
    client.expunge()
    client.logout()
    cli("messages", "scan", "support")
    code, out, _ = cli("messages", "reset", str(row.id))
    assert "gone from the server (vanished); nothing to retry" in out + _
    row = MailMessage.get_by_id(row.id)
    assert row.status == "error" and not row.on_server
