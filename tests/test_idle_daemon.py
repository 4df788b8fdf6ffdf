"""The daemon against the private Dovecot: mail appended while idling is processed at once (periodicity 300 s,
so only IDLE explains it), a dropped IDLE connection is re-established, a server without IDLE is polled, and a
settings change is picked up by SIGHUP (`mailticket run` as a subprocess) and by the TUI's engine (reload)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from mailticket_tui.engine.background import BackgroundEngine
from mailticket_tui.engine.events import InboxFinished, MessageHandled, TraceLine
from mailticket_tui.services import open_services
from mailticket_tui.store import open_store
from mailticket_tui.store.models import InboxLease, Ticket, database_proxy

from .conftest import make_maildir
from .mailgen import make_mail
from .runner_support import inbox_toml, write_settings

POLL = 300  # seconds between polls: far beyond every wait below


class Reports:
    """The engine's reports; `wait_for` blocks (bounded) until a predicate over them holds."""

    def __init__(self) -> None:
        self.items: list = []
        self.changed = threading.Condition()

    def __call__(self, item) -> None:
        with self.changed:
            self.items.append(item)
            self.changed.notify_all()

    def wait_for(self, predicate, timeout: float = 30) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: predicate(self.items), timeout), self.items[-8:]

    def handled(self) -> list[MessageHandled]:
        return [i for i in self.items if isinstance(i, MessageHandled)]

    def passes(self) -> int:
        return sum(isinstance(i, InboxFinished) for i in self.items)

    def idle_lines(self, state: str) -> int:
        return sum(isinstance(i, TraceLine) and i.line.startswith(f"IDLE {state}:") for i in self.items)


@pytest.fixture
def engine_on(tmp_path: Path, store_url: str):
    """Start the TUI's engine (the daemon's loop) on these settings; stopped and checked afterwards."""
    started: list[tuple[BackgroundEngine, threading.Thread]] = []

    def start(*inboxes: str, **engine) -> tuple[BackgroundEngine, Reports]:
        config = write_settings(tmp_path, *inboxes, periodicity=POLL, **engine)
        services = open_services(str(config), store_url)
        reports = Reports()
        daemon = BackgroundEngine(services, reports)
        thread = threading.Thread(target=daemon.run, daemon=True)
        thread.start()
        started.append((daemon, thread))
        return daemon, reports

    yield start
    for daemon, thread in started:
        daemon.stop()
        thread.join(20)
        assert not thread.is_alive()
        assert daemon.state.state == "stopped"
    assert InboxLease.select().count() == 0  # a stopped daemon holds nothing
    database_proxy.close()


def imap_processes(account) -> list[int]:
    """Dovecot's imap processes serving this account (they run in the user's home directory)."""
    home = str(account.maildir.parent)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == "imap" and os.readlink(entry / "cwd") == home:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_mail_appended_while_idling_becomes_a_ticket_at_once(mail_account, engine_on) -> None:
    mail_account.append(make_mail(subject="Before the daemon"))
    daemon, reports = engine_on(inbox_toml("support", "imap", mail_account))
    # the first pass, then the one a new watch asks for (mail may have come before it was up)
    reports.wait_for(lambda items: reports.idle_lines("idle") >= 1 and reports.passes() >= 2)
    assert [h.status for h in reports.handled()] == ["processed"]
    reports.wait_for(lambda items: daemon.state.state == "waiting")
    assert daemon.state.next_poll > time.time() + 60  # nothing else would look at the inbox for minutes

    mail_account.append(make_mail(subject="While idling"))
    reports.wait_for(lambda items: len(reports.handled()) >= 2)  # 30 s at most: well before the 300 s poll
    assert sorted(t.title for t in Ticket.select()) == ["Before the daemon", "While idling"]
    assert reports.handled()[-1].status == "processed"


def test_a_dropped_idle_connection_is_reestablished(mail_account, engine_on) -> None:
    daemon, reports = engine_on(inbox_toml("support", "imap", mail_account))
    reports.wait_for(lambda items: reports.idle_lines("idle") >= 1)
    mail_account.close()  # our own helper connection is not the one under test
    victims = imap_processes(mail_account)
    assert victims, "no imap process found for the account"
    for pid in victims:
        os.kill(pid, signal.SIGKILL)  # the server side of the IDLE connection dies
    reports.wait_for(lambda items: reports.idle_lines("reconnecting") >= 1)
    reports.wait_for(lambda items: reports.idle_lines("idle") >= 2)  # backoff 1 s, then IDLE again
    passes = reports.passes()
    reports.wait_for(lambda items: reports.passes() > passes)  # the catch-up pass after a reconnection

    mail_account.append(make_mail(subject="After the reconnection"))
    reports.wait_for(lambda items: any(h.status == "processed" for h in reports.handled()))
    assert [t.title for t in Ticket.select()] == ["After the reconnection"]


def test_a_server_without_idle_is_polled(dovecot, engine_on) -> None:
    account = dovecot.add_user(extra="userdb_imap_capability=IMAP4rev1")
    try:
        daemon, reports = engine_on(inbox_toml("legacy", "imap", account))
        reports.wait_for(lambda items: reports.idle_lines("unsupported") >= 1)
        assert reports.idle_lines("idle") == 0
        # polled every periodicity: shorten it (a reload) and the mail arrives by polling
        daemon.services.save_global_settings(replace(daemon.services.settings.engine, periodicity=1),
                                             daemon.services.settings.smtp, daemon.services.settings.ticket_log,
                                             daemon.services.settings.org_domains)
        daemon.reload()
        account.append(make_mail(subject="Found by polling"))
        reports.wait_for(lambda items: any(h.status == "processed" for h in reports.handled()))
        assert [t.title for t in Ticket.select()] == ["Found by polling"]
        assert reports.idle_lines("idle") == 0
    finally:
        account.close()


def test_the_tui_engine_picks_up_an_inbox_activated_meanwhile(tmp_path: Path, engine_on) -> None:
    boxes = {name: make_maildir(tmp_path / name) for name in ("first", "second")}
    for name, folder in boxes.items():
        (folder / "new" / "1.M1.test").write_bytes(make_mail(subject=f"For {name}"))
    daemon, reports = engine_on(inbox_toml("first", "maildir", maildir=boxes["first"]),
                                inbox_toml("second", "maildir", maildir=boxes["second"], active=False))
    reports.wait_for(lambda items: len(reports.handled()) >= 1)
    services = daemon.services
    services.save_inbox(replace(services.inbox_settings("second"), active=True))
    daemon.reload()  # what the app does after saving; otherwise within periodicity
    reports.wait_for(lambda items: len(reports.handled()) >= 2)
    assert sorted(t.title for t in Ticket.select()) == ["For first", "For second"]


def test_sighup_makes_the_daemon_reread_its_settings(tmp_path: Path, store_url: str) -> None:
    boxes = {name: make_maildir(tmp_path / name) for name in ("first", "second")}
    for name, folder in boxes.items():
        (folder / "new" / "1.M1.test").write_bytes(make_mail(subject=f"For {name}"))
    config = write_settings(tmp_path, inbox_toml("first", "maildir", maildir=boxes["first"]),
                            inbox_toml("second", "maildir", maildir=boxes["second"], active=False), periodicity=POLL)
    base = [sys.executable, "-m", "mailticket_tui", "--config", str(config), "--db", store_url]
    proc = subprocess.Popen([*base, "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("first: read 1, processed 1")
        subprocess.run([*base, "inbox", "activate", "second"], check=True, capture_output=True, timeout=60)
        proc.send_signal(signal.SIGHUP)
        assert proc.stdout.readline().startswith("second: read 1, processed 1")  # not 300 s later
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    open_store(store_url)
    try:
        assert sorted(t.title for t in Ticket.select()) == ["For first", "For second"]
        assert InboxLease.select().count() == 0
    finally:
        database_proxy.close()


def test_a_backlog_hands_its_slot_over_to_a_waiting_inbox(tmp_path: Path, engine_on, monkeypatch) -> None:
    from mailticket_tui.engine import daemon as daemon_module

    monkeypatch.setattr(daemon_module, "TURN", 0.0)  # no time-slice: the first check hands over, whatever the speed
    monkeypatch.setattr(daemon_module, "TURN_NEWS", 0.0)
    big, small = make_maildir(tmp_path / "big"), make_maildir(tmp_path / "small")
    for i in range(200):
        (big / "new" / f"{1000 + i}.M{i}.test").write_bytes(
            make_mail(subject=f"Backlog {i:03d}", message_id=f"<backlog-{i}@acme.example>"))
    (small / "new" / "1.M1.test").write_bytes(make_mail(subject="Waiting", message_id="<waiting@acme.example>"))
    _, reports = engine_on(inbox_toml("big", "maildir", maildir=big), inbox_toml("small", "maildir", maildir=small),
                           concurrent_inboxes=1)  # one slot: "big" takes it first (name order)
    reports.wait_for(lambda items: len(reports.handled()) >= 201, timeout=120)
    order = [h.inbox for h in reports.handled()]
    assert order[0] == "big" and "big" in order[order.index("small"):]  # served before the backlog was done
    assert any(isinstance(i, TraceLine) and i.inbox == "big" and i.line.startswith("handing the slot over")
               for i in reports.items)
    titles = sorted(t.title for t in Ticket.select())
    assert titles == sorted([f"Backlog {i:03d}" for i in range(200)] + ["Waiting"])  # each mail once
