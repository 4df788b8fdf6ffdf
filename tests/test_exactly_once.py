"""Exactly once under SIGKILL: a `run --once` subprocess is killed at named fault points and at random
moments while it processes a mailbox on the private Dovecot (email_storage = delete, so the server is
touched). After each restart and at the end: every message gave exactly one ticket or one error record,
none left the server without its ticket, no ticket twice.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from peewee import fn

from mailticket_tui.store import open_store
from mailticket_tui.services import open_services
from mailticket_tui.store.models import MailMessage, Person, Ticket, database_proxy

from .mailgen import make_mail

N = 12


def seed(account) -> dict[str, str]:
    """N messages, one of them an error (unknown caller is rejected), keyed by a unique subject."""
    expected = {}
    for i in range(N):
        subject = f"Chaos {i:02d}"
        sender = "mallory@unknown.example" if i == 5 else f"user{i}@acme.example"
        account.append(make_mail(subject=subject, sender=sender, message_id=f"<chaos-{i}@acme.example>"))
        expected[subject] = "error" if i == 5 else "ticket"
    return expected


def subjects_on_server(account) -> list[str]:
    client = account.imap()
    client.select_folder("INBOX", readonly=True)
    try:
        uids = client.search("ALL")
        data = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"]) if uids else {}
    finally:
        client.unselect_folder()
    return [v[b"BODY[HEADER.FIELDS (SUBJECT)]"].decode().split(":", 1)[1].strip() for v in data.values()]


def run_once(config: Path, store: str, fault: str = "", kill_after: float | None = None) -> int:
    env = {**os.environ, "MAILTICKET_FAULT": fault}
    proc = subprocess.Popen([sys.executable, "-m", "mailticket_tui", "--config", str(config), "--db", store,
                             "run", "--once"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if kill_after is not None:
        time.sleep(kill_after)
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=120)
    return proc.returncode


def check(store: str, account, expected: dict[str, str], final: bool) -> None:
    open_store(store)
    try:
        titles = [t.title for t in Ticket.select(Ticket.title)]
        assert len(titles) == len(set(titles)), f"a ticket was created twice: {sorted(titles)}"
        assert set(titles) <= {s for s, e in expected.items() if e == "ticket"}
        counts = dict(MailMessage.select(MailMessage.subject, fn.COUNT(MailMessage.id))
                      .group_by(MailMessage.subject).tuples())
        assert all(n == 1 for n in counts.values()), counts
        on_server = set(subjects_on_server(account))
        for subject, outcome in expected.items():
            if subject not in on_server:  # deleted from the server: its work must be committed
                if outcome == "ticket":
                    assert subject in titles, f"{subject} left the server without its ticket"
                else:
                    assert MailMessage.get(MailMessage.subject == subject).status == "error"
        if final:
            assert sorted(titles) == sorted(s for s, e in expected.items() if e == "ticket")
            assert MailMessage.get(MailMessage.subject == "Chaos 05").status == "error"
            assert on_server == {"Chaos 05"}  # errors are kept (mark_as_error); everything else deleted
    finally:
        database_proxy.close()


@pytest.mark.timeout(600)
def test_sigkill_at_every_point_never_loses_or_doubles(mail_account, write_config, tmp_path: Path) -> None:
    expected = seed(mail_account)
    config = write_config(f"""
        [[inbox]]
        name = "chaos"
        protocol = "imap"
        server = "{mail_account.host}"
        port = {mail_account.imap_port}
        tls = "none"
        login = "{mail_account.login}"
        password = "{mail_account.password}"
        email_storage = "delete"
        """)
    store = f"sqlite:///{tmp_path / 'chaos.db'}"
    open_services(str(config), store)  # bootstraps the store from the file
    for i in range(N):
        if i != 5:  # mallory stays unknown: rejected as an error record (unknown_caller_behavior default)
            Person.create(email=f"user{i}@acme.example", name=f"User {i}")
    database_proxy.close()

    plan = [f"{point}:{n}" for n in (1, 2) for point in ("before_commit", "after_commit", "after_dispose")]
    kills = 0
    for fault in plan:
        code = run_once(config, store, fault=fault)
        kills += code == -signal.SIGKILL
        check(store, mail_account, expected, final=False)
    rng = random.Random(1234)
    for _ in range(4):
        run_once(config, store, kill_after=rng.uniform(0.2, 1.2))
        check(store, mail_account, expected, final=False)
    assert kills >= 4, "the fault points were not reached"
    assert run_once(config, store) == 0
    assert run_once(config, store) == 0
    check(store, mail_account, expected, final=True)
