"""Runners and their exit codes: `run --once` prints one line per inbox and goes on past an unreachable
inbox (exit 3) or one with a missing secret (exit 2); `run` loops and a SIGTERM finishes the current
message and exits 0; `inbox test` reports the message count and capabilities, or the failing stage."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from peewee import OperationalError

from mailticket_tui.engine import runner
from mailticket_tui.store import open_store
from mailticket_tui.store.models import Inbox, InboxState, MailMessage, Ticket, database_proxy

from .conftest import make_maildir
from .mailgen import make_mail
from .runner_support import Cli, inbox_toml, records, write_settings


def test_an_unreachable_inbox_does_not_stop_the_others(mail_account, tmp_path, store_url, capsys, maildir) -> None:
    mail_account.append(make_mail(subject="Over IMAP"))
    (maildir / "new" / "1.M1.test").write_bytes(make_mail(subject="From the Maildir"))
    down = inbox_toml("down", "imap", mail_account, port=1)
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, down, inbox_toml("support", "imap", mail_account),
                           inbox_toml("local", "maildir", maildir=maildir)))
    code, out, _ = cli.run_once()
    assert code == 3, out
    lines = {line.split(":")[0]: line for line in out.splitlines()}
    assert sorted(lines) == ["down", "local", "support"] and len(out.splitlines()) == 3
    assert "ERROR" in lines["down"] and "refused" in lines["down"]
    assert lines["support"].startswith("support: read 1, processed 1") and lines["support"].endswith("- ok")
    assert lines["local"].startswith("local: read 1, processed 1") and lines["local"].endswith("- ok")
    assert sorted(t.title for t in Ticket.select()) == ["From the Maildir", "Over IMAP"]
    states = {s.inbox.name: s for s in InboxState.select()}
    assert states["down"].error_streak == 1 and "refused" in states["down"].last_error
    assert states["support"].error_streak == 0 and states["support"].last_success
    assert cli.run_once()[0] == 3 and InboxState.get_by_id(states["down"].id).error_streak == 2


def test_a_missing_secret_is_a_settings_error_and_the_others_run(tmp_path, store_url, capsys, maildir) -> None:
    (maildir / "new" / "1.M1.test").write_bytes(make_mail())
    nosecret = ('[[inbox]]\nname = "nosecret"\nprotocol = "imap"\nserver = "127.0.0.1"\nlogin = "x"\n'
                'password_env = "MAILTICKET_TEST_UNSET_VARIABLE"\n')
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, nosecret, inbox_toml("local", "maildir", maildir=maildir)))
    code, out, _ = cli.run_once()
    assert code == 2, out
    assert "nosecret:" in out and "MAILTICKET_TEST_UNSET_VARIABLE" in out
    assert "local: read 1, processed 1" in out


def test_run_loop_stops_cleanly_on_sigterm(maildir, tmp_path, store_url) -> None:
    for i in range(30):
        (maildir / "new" / f"{i:03d}.M{i}.test").write_bytes(make_mail(subject=f"Loop {i:02d}"))
    config = write_settings(tmp_path, inbox_toml("local", "maildir", maildir=maildir), periodicity=1)
    cmd = [sys.executable, "-m", "mailticket_tui", "--config", str(config), "--db", store_url, "run", "-v"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:  # wait until it is in the middle of its work
            if ": processed" in line:
                break
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    open_store(store_url)
    try:
        # whatever was done is whole: every record is processed with its ticket, each ticket once
        rows = records()
        assert rows and all(r.status == "processed" and r.ticket_id for r in rows)
        assert Ticket.select().count() == len(rows)
    finally:
        database_proxy.close()
    # a cron pass finishes the rest exactly once
    assert subprocess.run([*cmd[:-2], "run", "--once"], capture_output=True, timeout=60).returncode == 0
    open_store(store_url)
    try:
        assert sorted(t.title for t in Ticket.select()) == [f"Loop {i:02d}" for i in range(30)]
        assert MailMessage.select().count() == 30
    finally:
        database_proxy.close()


def test_run_loop_repeats_every_periodicity(maildir, tmp_path, store_url) -> None:
    config = write_settings(tmp_path, inbox_toml("local", "maildir", maildir=maildir), periodicity=1)
    cmd = [sys.executable, "-m", "mailticket_tui", "--config", str(config), "--db", store_url, "run"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("local: read 0")
        (maildir / "new" / "1.M1.test").write_bytes(make_mail(subject="Arrives later"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.startswith("local: read 1, processed 1"):
                break
        else:
            pytest.fail("the second pass did not pick up the new mail")
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_inbox_test_reports_count_and_capabilities(mail_account, tmp_path, store_url, capsys, protocol) -> None:
    for i in range(3):
        mail_account.append(make_mail(subject=f"Probe {i}"))
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("box", protocol, mail_account)))
    code, out, err = cli("inbox", "test", "box")
    assert code == 0, err
    assert out.startswith("box: OK, 3 messages; capabilities: ")
    assert ("IMAP4REV1" if protocol == "imap" else "UIDL") in out.upper()
    assert "warning: no TLS" in out
    assert records() == []  # a test reads nothing and changes nothing
    assert mail_account.message_count() == 3


def test_inbox_test_says_where_it_fails(mail_account, tmp_path, store_url, capsys, maildir) -> None:
    cli = Cli(store_url, capsys)
    cli.use(write_settings(
        tmp_path,
        inbox_toml("badpass", "imap", mail_account, password="wrong"),
        inbox_toml("closed", "pop3", mail_account, port=1),
        inbox_toml("nofolder", "imap", mail_account, mailbox="Nowhere"),
        inbox_toml("nodns", "imap", mail_account, server="no-such-host.invalid"),
        inbox_toml("local", "maildir", maildir=maildir),
    ))
    expected = {"badpass": "auth", "closed": "connect", "nofolder": "folder", "nodns": "dns"}
    for name, stage in expected.items():
        code, out, err = cli("inbox", "test", name)
        assert code == 3, (name, out, err)
        assert err.startswith(f"{name}: FAILED at {stage}: ") and err.count("\n") == 1, err
    code, out, _ = cli("inbox", "test", "local")
    assert code == 0 and out.startswith("local: OK, 0 messages; capabilities: MAILDIR")
    code, _, err = cli("inbox", "test", "nosuch")
    assert code == 2 and "no inbox named 'nosuch'" in err


@pytest.mark.parametrize("failure, code", [(RuntimeError("bug"), 1), (OperationalError("disk I/O error"), 4)])
def test_an_inbox_failing_inside_does_not_stop_the_others(
        tmp_path, store_url, capsys, monkeypatch, failure, code) -> None:
    boxes = {name: make_maildir(tmp_path / name) for name in ("broken", "healthy")}
    for name, folder in boxes.items():
        (folder / "new" / "1.M1.test").write_bytes(make_mail(subject=f"For {name}"))
    real = runner.process_message

    def flaky(settings, inbox, *args, **kwargs):
        if inbox.name == "broken":
            raise failure
        return real(settings, inbox, *args, **kwargs)

    monkeypatch.setattr(runner, "process_message", flaky)
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, *(inbox_toml(n, "maildir", maildir=f) for n, f in boxes.items())))
    exit_code, out, _ = cli.run_once()
    assert exit_code == code, out
    assert "healthy: read 1, processed 1" in out and "broken: read 1, processed 0" in out
    assert [t.title for t in Ticket.select()] == ["For healthy"]
    broken = InboxState.get(InboxState.inbox == Inbox.get(Inbox.name == "broken").id)
    assert broken.error_streak == 1 and type(failure).__name__ in broken.last_error
