"""What happens to mail on the server after `run --once`: POP3 delete (DELE only after the commit, and
recorded as done only once QUIT applied it) and keep, IMAP move, too-big messages (never read into
memory; saved to big_files_dir; deleted or kept per error_behavior), kept mail leaving the server when
its ticket is closed or deleted, and the undesired purge."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mailticket_tui.store import open_store
from mailticket_tui.services import open_services
from mailticket_tui.store.models import MailMessage, Ticket, database_proxy

from .mailgen import make_mail
from .runner_support import Cli, age, inbox_toml, records, subjects, write_settings


def pop3_count(account) -> int:
    return account.message_count()


def run_subprocess(config: Path, store: str, fault: str) -> int:
    env = {**os.environ, "MAILTICKET_FAULT": fault}
    return subprocess.run([sys.executable, "-m", "mailticket_tui", "--config", str(config), "--db", store,
                           "run", "--once"], env=env, capture_output=True, timeout=60).returncode


def test_pop3_delete_happens_only_after_the_commit(mail_account, tmp_path, store_url, capsys) -> None:
    for i in range(2):
        mail_account.append(make_mail(subject=f"Pop {i}", message_id=f"<pop-{i}@acme.example>"))
    config = write_settings(tmp_path, inbox_toml("pop", "pop3", mail_account, email_storage="delete"))
    cli = Cli(store_url, capsys)
    cli.use(config)
    database_proxy.close()

    # killed with the first ticket built but not committed: nothing in the store, nothing deleted
    assert run_subprocess(config, store_url, "before_commit:1") == -signal.SIGKILL
    open_store(store_url)
    assert Ticket.select().count() == 0 and pop3_count(mail_account) == 2
    database_proxy.close()
    # killed right after the first commit, before any DELE: the ticket exists, the mail too
    assert run_subprocess(config, store_url, "after_commit:1") == -signal.SIGKILL
    open_store(store_url)
    assert Ticket.select().count() == 1 and pop3_count(mail_account) == 2
    assert MailMessage.get().disposition_pending == "delete"
    database_proxy.close()
    # killed after a DELE, before QUIT: the server rolls the DELE back, the record stays pending
    assert run_subprocess(config, store_url, "after_dispose:1") == -signal.SIGKILL
    assert pop3_count(mail_account) == 2

    code, out, _ = cli.run_once()
    assert code == 0, out
    assert sorted(t.title for t in Ticket.select()) == ["Pop 0", "Pop 1"]
    assert pop3_count(mail_account) == 0
    rows = records()
    assert len(rows) == 2 and all(not r.on_server and r.disposition_pending == "" for r in rows)


def test_pop3_delete_cut_before_quit_is_redone_next_pass(
        mail_account, tmp_path, store_url, capsys, cut_proxy) -> None:
    mail_account.append(make_mail(subject="Small first"))
    mail_account.append(make_mail(subject="Big second", attachments=[
        ("blob.bin", "application/octet-stream", os.urandom(120_000))]))
    proxy = cut_proxy(mail_account.pop3_port, cut_after=20_000)  # inside the second RETR
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("pop", "pop3", mail_account, port=proxy.port,
                                                email_storage="delete"), name="cut.toml"))
    code, out, _ = cli.run_once()
    assert code == 3 and "ERROR" in out
    # the first message's DELE was never applied (no QUIT): its record must still say "delete pending"
    assert pop3_count(mail_account) == 2
    (first,) = records()
    assert first.status == "processed" and first.on_server and first.disposition_pending == "delete"

    cli.use(write_settings(tmp_path, inbox_toml("pop", "pop3", mail_account, email_storage="delete")))
    code, out, _ = cli.run_once()
    assert code == 0, out
    assert pop3_count(mail_account) == 0
    assert sorted(t.title for t in Ticket.select()) == ["Big second", "Small first"]


def test_pop3_keep_leaves_mail_and_never_reprocesses(mail_account, tmp_path, store_url, capsys) -> None:
    for i in range(3):
        mail_account.append(make_mail(subject=f"Keep {i}"))
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("pop", "pop3", mail_account)))
    assert cli.run_once()[1].startswith("pop: read 3, processed 3")
    assert cli.run_once()[1].startswith("pop: read 0, processed 0")
    assert pop3_count(mail_account) == 3 and Ticket.select().count() == 3
    assert all(r.on_server and r.key for r in records())


def test_imap_move_to_a_missing_folder_is_an_error_until_reset(
        mail_account, tmp_path, store_url, capsys) -> None:
    mail_account.append(make_mail(subject="Move me"))
    mail_account.append(make_mail(subject="Me too"))
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("support", "imap", mail_account, email_storage="move",
                                                target_folder="Done")))
    code, out, _ = cli.run_once("-v")
    # the tickets exist, but the mail did not leave the folder: an error on each message, and the run says so
    assert code == 3 and "move failed" in out and "ERROR message #1: move failed" in out, out
    assert mail_account.message_count() == 2 and Ticket.select().count() == 2
    rows = records()
    assert all(r.status == "error" and r.ticket_id and r.on_server and r.disposition_pending == "" for r in rows)
    assert all("move on the server failed" in r.error and "reset this message" in r.error for r in rows)
    assert cli.run_once()[0] == 0  # nothing is retried behind the operator's back
    assert mail_account.message_count() == 2

    mail_account.create_folder("Done")
    assert all(result.ok for result in open_services(db=store_url).reset_messages([r.id for r in rows]))
    code, out, _ = cli.run_once()
    assert code == 0 and "moved 2" in out, out
    assert mail_account.message_count() == 0 and subjects(mail_account, "Done") == ["Me too", "Move me"]
    assert all(r.status == "processed" and not r.on_server and r.disposition_pending == "" for r in records())
    assert Ticket.select().count() == 2
    assert all(len(t.case_log) == 0 for t in Ticket.select())  # the retry applied nothing twice


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
@pytest.mark.parametrize("error_behavior", ["mark_as_error", "delete"])
def test_too_big_message_is_streamed_to_big_files_dir(
        mail_account, tmp_path, store_url, capsys, protocol, error_behavior) -> None:
    big = make_mail(subject="Huge scan", attachments=[("scan.pdf", "application/pdf", os.urandom(300_000))])
    mail_account.append(big)
    mail_account.append(make_mail(subject="Small one"))
    big_dir = tmp_path / "big"
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("box", protocol, mail_account, error_behavior=error_behavior),
                           maximum_email_size="100K", big_files_dir=str(big_dir)))
    code, out, _ = cli.run_once()
    assert code == 0, out
    error = MailMessage.get(MailMessage.status == "error")
    assert error.subject == "Huge scan" and str(error.size) in error.error and "too big" in error.error
    assert error.ticket_id is None and [t.title for t in Ticket.select()] == ["Small one"]
    (saved,) = big_dir.iterdir()
    assert saved.suffix == ".eml" and str(saved) in error.error
    server_copy = saved.read_bytes()
    assert server_copy.replace(b"\r\n", b"\n") == big.replace(b"\r\n", b"\n")
    assert mail_account.message_count() == (1 if error_behavior == "delete" else 2)
    assert error.on_server == (error_behavior != "delete")
    # an error is never retried by itself
    assert cli.run_once()[1].startswith("box: read 0, processed 0, errors 0")


def test_too_big_message_is_not_downloaded_without_big_files_dir(
        mail_account, tmp_path, store_url, capsys, cut_proxy) -> None:
    mail_account.append(make_mail(subject="Huge", attachments=[("x.bin", "application/octet-stream",
                                                                   os.urandom(400_000))]))
    proxy = cut_proxy(mail_account.imap_port)
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("box", "imap", mail_account, port=proxy.port),
                           maximum_email_size="100K"))
    assert cli.run_once()[0] == 0
    assert MailMessage.get().status == "error"
    assert proxy.bytes_from_server < 64_000  # headers only, never the 540 KB message


def test_kept_mail_leaves_the_server_when_its_ticket_is_closed_or_deleted(
        mail_account, tmp_path, store_url, capsys) -> None:
    for subject in ("Close me", "Delete me", "Stay"):
        mail_account.append(make_mail(subject=subject))
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("support", "imap", mail_account)))  # email_storage = keep
    assert cli.run_once()[0] == 0
    refs = {t.title: t.ref for t in Ticket.select()}
    assert cli.run_once()[1].startswith("support: read 0")
    assert mail_account.message_count() == 3

    code, out, err = cli("tickets", "stimulus", refs["Close me"], "ev_close")
    assert code == 0 and "closed" in out, err
    code, out, _ = cli.run_once()
    assert code == 0 and "deleted 1" in out, out
    assert subjects(mail_account) == ["Delete me", "Stay"]

    assert cli("tickets", "delete", refs["Delete me"])[0] == 0
    code, out, _ = cli.run_once()
    assert code == 0 and "deleted 1" in out, out
    assert subjects(mail_account) == ["Stay"]
    gone = MailMessage.select().where(MailMessage.on_server == False)  # noqa: E712
    assert sorted(r.subject for r in gone) == ["Close me", "Delete me"]
    assert cli.run_once()[1].startswith("support: read 0, processed 0, errors 0, undesired 0, deleted 0")


def test_undesired_mail_is_purged_after_the_delay(mail_account, tmp_path, store_url, capsys) -> None:
    inbox = inbox_toml("support", "imap", mail_account)
    mail_account.append(make_mail(subject="Out of office: back Monday"))
    mail_account.append(make_mail(subject="A real request"))
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox, undesired_subject_patterns=["^Out of office"],
                           undesired_purge_delay=0))
    code, out, _ = cli.run_once()
    assert code == 0 and "undesired 1" in out and "deleted 1" in out, out
    assert subjects(mail_account) == ["A real request"]
    undesired = MailMessage.get(MailMessage.status == "undesired")
    assert not undesired.on_server and undesired.ticket_id is None

    cli.use(write_settings(tmp_path, inbox, undesired_subject_patterns=["^Out of office"],
                           undesired_purge_delay=7))
    mail_account.append(make_mail(subject="Out of office: on leave"))
    code, out, _ = cli.run_once()
    assert code == 0 and "undesired 1" in out and "deleted 0" in out, out
    assert "Out of office: on leave" in subjects(mail_account)
    age(MailMessage.processed_at, 6, subject="Out of office: on leave")
    assert "deleted 0" in cli.run_once()[1]
    age(MailMessage.processed_at, 8, subject="Out of office: on leave")
    code, out, _ = cli.run_once()
    assert code == 0 and "deleted 1" in out, out
    assert subjects(mail_account) == ["A real request"]
    assert Ticket.select().count() == 1
