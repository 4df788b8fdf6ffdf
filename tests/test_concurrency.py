"""Runners never collide: two `run --once` at the same moment on one inbox (SQLite, then PostgreSQL) give
each message exactly one ticket; a held lease makes the other run skip with exit code 75."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mailticket_tui.engine import leases
from mailticket_tui.services import open_services
from mailticket_tui.store import StoreError, open_store
from mailticket_tui.store.models import Inbox, MailMessage, Ticket, database_proxy

from .mailgen import make_mail



def fill(maildir: Path, count: int) -> None:
    for i in range(count):
        (maildir / "new" / f"{1000 + i}.M{i}.test").write_bytes(
            make_mail(subject=f"Request {i:03d}", message_id=f"<req-{i}@acme.example>"))


def two_runs_at_once(config: Path, store: str) -> list[int]:
    cmd = [sys.executable, "-m", "mailticket_tui", "--config", str(config), "--db", store, "run", "--once"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    return [p.wait(timeout=300) for p in procs]


def assert_exactly_once(store: str, count: int) -> None:
    open_store(store)
    try:
        titles = [t.title for t in Ticket.select(Ticket.title)]
        assert sorted(titles) == [f"Request {i:03d}" for i in range(count)]
        assert MailMessage.select().count() == count
    finally:
        database_proxy.close()


def maildir_config(write_config, maildir: Path) -> Path:
    return write_config(f"""
        [[inbox]]
        name = "shared"
        protocol = "maildir"
        server = "{maildir}"
        unknown_caller_behavior = "create_contact"
        """)


def test_two_runners_on_sqlite(write_config, maildir: Path, tmp_path: Path) -> None:
    fill(maildir, 40)
    config = maildir_config(write_config, maildir)
    store = f"sqlite:///{tmp_path / 'shared.db'}"
    open_services(str(config), store)
    database_proxy.close()
    codes = two_runs_at_once(config, store)
    assert set(codes) <= {0, 75}, codes
    assert_exactly_once(store, 40)
    assert two_runs_at_once(config, store) in ([0, 0], [0, 75], [75, 0])
    assert_exactly_once(store, 40)


def test_two_runners_on_postgresql(write_config, maildir: Path, pg_store: str) -> None:
    fill(maildir, 40)
    config = maildir_config(write_config, maildir)
    try:
        open_services(str(config), pg_store)
    except StoreError as exc:
        pytest.skip(str(exc))
    database_proxy.close()
    codes = two_runs_at_once(config, pg_store)
    assert set(codes) <= {0, 75}, codes
    assert_exactly_once(pg_store, 40)


def test_a_held_lease_makes_the_run_skip_with_75(write_config, maildir: Path, tmp_path: Path) -> None:
    fill(maildir, 2)
    config = maildir_config(write_config, maildir)
    store = f"sqlite:///{tmp_path / 's.db'}"
    open_services(str(config), store)
    assert leases.claim(Inbox.get().id, "someone-else", 300) is None
    database_proxy.close()
    proc = subprocess.run([sys.executable, "-m", "mailticket_tui", "--config", str(config), "--db", store,
                           "run", "--once"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 75
    assert "skipped: someone-else holds this inbox" in proc.stdout
    open_store(store)
    assert Ticket.select().count() == 0
    # an expired lease is taken over
    from mailticket_tui.store.models import InboxLease, utcnow
    import datetime as dt

    InboxLease.update(expires=utcnow() - dt.timedelta(seconds=1)).execute()
    database_proxy.close()
    proc = subprocess.run([sys.executable, "-m", "mailticket_tui", "--config", str(config), "--db", store,
                           "run", "--once"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
