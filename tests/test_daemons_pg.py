"""Several daemons on one PostgreSQL store: the inboxes are spread by their leases, a daemon killed at a random
moment (SIGKILL) or frozen (SIGSTOP: alive, so its leases must expire after lease_seconds) loses its inboxes
to the others, and every mail becomes exactly one ticket and leaves the server only after it did."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from mailticket_tui.services import open_services
from mailticket_tui.store import open_store
from mailticket_tui.store.models import DaemonPresence, InboxLease, MailMessage, Ticket, database_proxy

from .mailgen import make_mail
from .runner_support import inbox_toml, write_settings

INBOXES, FIRST, LATER = 4, 60, 12  # mails per inbox before the daemons start, and while they run
LEASE = 3


def mail(inbox: int, n: int) -> bytes:
    return make_mail(subject=f"box{inbox} mail {n:03d}", message_id=f"<box{inbox}-{n}@acme.example>")


def pid_of(owner: str) -> int:
    """`run@host:1234:abcdef` -> 1234."""
    return int(owner.partition("@")[2].split(":")[1])


def counts(store: str) -> tuple[int, int]:
    """(tickets, message records) straight from PostgreSQL: cheap enough to watch the daemons' progress."""
    import psycopg2

    with psycopg2.connect(store) as conn, conn.cursor() as cur:
        cur.execute("SELECT (SELECT count(*) FROM ticket), (SELECT count(*) FROM mail_message)")
        found = cur.fetchone()
    conn.close()
    return found


def wait_for_tickets(store: str, at_least: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while counts(store)[0] < at_least:
        assert time.monotonic() < deadline, f"fewer than {at_least} tickets after {timeout} s"
        time.sleep(0.02)


def test_three_daemons_killed_at_random_give_every_mail_exactly_one_ticket(
        dovecot, pg_store: str, tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("MAILTICKET_TEST_SEED", "16")))
    accounts = [dovecot.add_user() for _ in range(INBOXES)]
    try:
        for i, account in enumerate(accounts):
            for n in range(FIRST):
                account.append(mail(i, n))
        config = write_settings(tmp_path, *(inbox_toml(f"box{i}", "imap", a, email_storage="delete")
                                            for i, a in enumerate(accounts)), periodicity=1, lease_seconds=LEASE)
        open_services(str(config), pg_store)  # bootstrap once, before the daemons race for it
        database_proxy.close()
        cmd = [sys.executable, "-m", "mailticket_tui", "--config", str(config), "--db", pg_store, "run"]
        spawn = lambda: subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # noqa: E731
        daemons = [spawn() for _ in range(3)]
        killed = []
        try:
            # kill points spread over the work: mid-pass, between two messages, between passes
            for round_, point in enumerate(sorted(rng.sample(range(5, INBOXES * FIRST - 20), 4))):
                wait_for_tickets(pg_store, point)
                victim = daemons.pop(rng.randrange(len(daemons)))
                victim.kill()  # mid-pass or between passes, whatever the moment is
                killed.append(victim)
                daemons.append(spawn())
                for i, account in enumerate(accounts):  # mail keeps arriving: IDLE and takeovers meet it
                    for n in range(FIRST + round_ * LATER // 4, FIRST + (round_ + 1) * LATER // 4):
                        account.append(mail(i, n))
            frozen = daemons.pop(rng.randrange(len(daemons)))
            frozen.send_signal(signal.SIGSTOP)  # alive but silent: its leases expire, the others take over
            total = INBOXES * (FIRST + LATER)
            deadline = time.monotonic() + 90
            while counts(pg_store) != (total, total) and time.monotonic() < deadline:
                time.sleep(0.5)
            frozen.kill()
            killed.append(frozen)
            for daemon in daemons:
                daemon.send_signal(signal.SIGTERM)
            for daemon in daemons:
                _, err = daemon.communicate(timeout=60)
                assert daemon.returncode == 0, err
                assert "Traceback" not in err, err
        finally:
            for proc in daemons + killed:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
        open_store(pg_store)
        titles = sorted(t.title for t in Ticket.select(Ticket.title))
        assert titles == sorted(f"box{i} mail {n:03d}" for i in range(INBOXES) for n in range(FIRST + LATER))
        rows = list(MailMessage.select())
        assert len(rows) == total and all(r.status == "processed" and r.ticket_id for r in rows)
        assert all(not r.on_server and not r.disposition_pending for r in rows)
        assert [a.message_count() for a in accounts] == [0] * INBOXES  # deleted, each after its commit
        dead = {proc.pid for proc in killed}  # the survivors released their leases and left the presence table
        assert {pid_of(lease.owner) for lease in InboxLease.select()} <= dead
        assert {pid_of(row.owner) for row in DaemonPresence.select()} <= dead
    finally:
        for account in accounts:
            account.close()


def test_daemons_spread_the_inboxes_and_take_back_what_one_leaves(pg_store: str, tmp_path: Path) -> None:
    """Two daemons (in-process, two owners) hold two of four inboxes each; when one stops, the other serves all."""
    import threading

    from mailticket_tui.engine.daemon import Daemon

    from .conftest import make_maildir

    boxes = [make_maildir(tmp_path / f"box{i}") for i in range(4)]
    config = write_settings(tmp_path, *(inbox_toml(f"box{i}", "maildir", maildir=m) for i, m in enumerate(boxes)),
                            lease_seconds=LEASE, periodicity=1)
    services = open_services(str(config), pg_store)

    def start(owner: str) -> tuple[Daemon, threading.Thread]:
        daemon = Daemon(services.reload, lambda **kwargs: services.run_once(**kwargs), lambda _: None, owner=owner)
        thread = threading.Thread(target=daemon.run, daemon=True)
        thread.start()
        return daemon, thread

    def holders() -> dict[str, int]:
        found: dict[str, int] = {}
        for lease in InboxLease.select():
            found[lease.owner] = found.get(lease.owner, 0) + 1
        return found

    def wait_until(wanted: dict[str, int], timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while holders() != wanted:
            assert time.monotonic() < deadline, holders()
            time.sleep(0.1)

    first, first_thread = start("run@test:1:first")
    try:
        wait_until({"run@test:1:first": 4})
        second, second_thread = start("run@test:2:second")
        try:
            wait_until({"run@test:1:first": 2, "run@test:2:second": 2})  # released within a lease period
        finally:
            second.stop()
            second_thread.join(20)
        wait_until({"run@test:1:first": 4})  # the leaver's inboxes are served again
        (boxes[0] / "new" / "1.M1.test").write_bytes(make_mail(subject="Still served"))
        deadline = time.monotonic() + 20
        while not Ticket.select().where(Ticket.title == "Still served").exists():
            assert time.monotonic() < deadline, "the mail was not processed"
            time.sleep(0.1)
    finally:
        first.stop()
        first_thread.join(20)
    assert holders() == {} and DaemonPresence.select().count() == 0
    database_proxy.close()
