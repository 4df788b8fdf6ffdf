"""Throughput of 1, 2 and 3 daemons sharing one PostgreSQL store, over 20 inboxes holding 10,000 mails in all.

    .venv/bin/python bench/bench_daemons.py [--quick] [--mails N] [--pg URL]

20 IMAP inboxes of a private Dovecot hold N small requests in all (10,000; --quick 2,000), written into their
Maildirs (email_storage = keep, so the same mail serves every run). For k = 1, 2, 3: a fresh PostgreSQL
database, k `mailticket run` daemons started together (lease_seconds 15, so a daemon that joins late gets
its share within 5 s), and the wall time until the store holds N tickets; the daemons' CPU time is shown
beside it. The one-daemon run is the baseline. Goal: 2 daemons at least 1.4x the throughput of one
(on this 2-core machine the daemons share the cores with PostgreSQL and Dovecot).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from daemon_kit import BigDovecot, bootstrap, cpu_seconds, fill_maildir, inbox_toml, mailticket, write_config

from tests.dovecot_server import missing_reason

INBOXES = 20
GOAL = 1.4
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def tickets(url: str) -> int:
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM ticket")
            return cur.fetchone()[0]
    finally:
        conn.close()


def run(config: Path, admin: str, daemons: int, total: int) -> tuple[float, float]:
    """(wall seconds until every mail is a ticket, CPU seconds of the daemons) on a fresh database."""
    import psycopg2

    name = f"mt_bench_{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    conn.cursor().execute(f"CREATE DATABASE {name}")
    url = admin.rsplit("/", 1)[0] + "/" + name
    procs = []
    try:
        bootstrap(config, url)
        start = time.monotonic()
        procs = [mailticket(config, url, "run", stdout=subprocess.DEVNULL) for _ in range(daemons)]
        deadline = start + 900
        while (done := tickets(url)) < total:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise SystemExit(f"bench_daemons: {daemons} daemon(s): {done} of {total} tickets, giving up")
            time.sleep(0.25)
        wall = time.monotonic() - start
        cpu = sum(cpu_seconds(p.pid) for p in procs)
        return wall, cpu
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(60)
        conn.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 mails instead of 10,000")
    parser.add_argument("--mails", type=int, default=0, help="mails in all (spread over 20 inboxes)")
    parser.add_argument("--pg", default=PG_ADMIN, help="a PostgreSQL database allowed to CREATE DATABASE")
    args, _ = parser.parse_known_args()
    reason = missing_reason()
    if reason:
        print(f"bench_daemons: skipped: {reason}", file=sys.stderr)
        return 2
    try:
        import psycopg2

        psycopg2.connect(args.pg).close()
    except Exception as exc:  # noqa: BLE001 - no PostgreSQL here: say so and skip
        print(f"bench_daemons: skipped: PostgreSQL not reachable at {args.pg}: {exc}".splitlines()[0], file=sys.stderr)
        return 2
    per_inbox = (args.mails or (2000 if args.quick else 10000)) // INBOXES
    total = per_inbox * INBOXES
    server = BigDovecot.start_new()
    work = Path(tempfile.mkdtemp(prefix="mailticket-daemons-"))
    try:
        accounts = [server.add_user() for _ in range(INBOXES)]
        for i, account in enumerate(accounts):
            fill_maildir(account, per_inbox, f"box{i}")
            account.close()
        config = write_config(work / "mailticket.toml", [inbox_toml(f"box{i:02d}", a) for i, a in enumerate(accounts)],
                              lease_seconds=15)
        figures = {k: run(config, args.pg, k, total) for k in (1, 2, 3)}
    finally:
        server.stop()
    base = total / figures[1][0]
    print(f"{total} mails in {INBOXES} inboxes, PostgreSQL store, daemons started together:")
    print(f"{'daemons':>7} {'wall s':>8} {'mails/s':>8} {'vs 1':>6} {'CPU s':>8} {'CPU/wall':>9}")
    for k, (wall, cpu) in figures.items():
        print(f"{k:>7} {wall:>8.1f} {total / wall:>8.1f} {total / wall / base:>6.2f} {cpu:>8.1f} {cpu / wall:>9.2f}")
    ratio = figures[1][0] / figures[2][0]
    print(f"goal 2 daemons >= {GOAL:g}x one: {'met' if ratio >= GOAL else 'NOT met'} ({ratio:.2f}x)")
    return 0 if ratio >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
