"""Throughput of 1, 2 and 3 daemons sharing one PostgreSQL store, over 20 inboxes holding 10,000 mails in all.

    .venv/bin/python bench/bench_daemons.py [--quick] [--mails N] [--reps N] [--pg URL]

20 IMAP inboxes of a private Dovecot hold N small requests in all (10,000; --quick 2,000), written into their
Maildirs (email_storage = keep, so the same mail serves every run). For k = 1, 2, 3: a fresh PostgreSQL
database, k `mailticket run` daemons started together (lease_seconds 15, so a daemon that joins late gets
its share within 5 s), and the wall time until the store holds N tickets; the daemons' CPU time is shown
beside it, with the CPU time PostgreSQL and Dovecot spent meanwhile and the machine's busy cores. The
one-daemon run is the baseline; the runs are repeated in rounds (3, in turned order) and the figures are
medians, the ratio the median of the rounds' ratios. Goal: 2 daemons at least 1.4x the throughput of one (on
this 2-core machine the daemons share the cores with PostgreSQL and Dovecot: the cores left idle by one
daemon bound what a second can add, and that bound is printed: cores / busy cores with one daemon).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from daemon_kit import (BigDovecot, bootstrap, cpu_seconds, fill_maildir, inbox_toml, machine_ticks, mailticket,
                        postmaster_pid, tree_cpu_seconds, write_config)

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


@dataclass
class Figures:
    wall: float  # seconds until every mail is a ticket
    daemons: float  # CPU seconds of the daemons
    postgres: float | None  # CPU seconds of the PostgreSQL server (its backends included), None when unreadable
    dovecot: float  # CPU seconds of Dovecot (its imap processes included)
    busy: float  # cores of the machine busy on average (everything on it, this script included)


def run(config: Path, admin: str, daemons: int, total: int, dovecot: int, postmaster: int | None) -> Figures:
    """One run of `daemons` daemons on a fresh database, with the CPU time of everything involved."""
    import psycopg2

    name = f"mt_bench_{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    conn.cursor().execute(f"CREATE DATABASE {name}")
    url = admin.rsplit("/", 1)[0] + "/" + name
    procs = []
    try:
        bootstrap(config, url)
        servers_before = tree_cpu_seconds(dovecot), postmaster and tree_cpu_seconds(postmaster)
        ticks_before = machine_ticks()
        start = time.monotonic()
        procs = [mailticket(config, url, "run", stdout=subprocess.DEVNULL) for _ in range(daemons)]
        deadline = start + 900
        while (done := tickets(url)) < total:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise SystemExit(f"bench_daemons: {daemons} daemon(s): {done} of {total} tickets, giving up")
            time.sleep(0.25)
        wall = time.monotonic() - start
        busy, ticks = (now - before for now, before in zip(machine_ticks(), ticks_before))
        return Figures(wall=wall, daemons=sum(cpu_seconds(p.pid) for p in procs),
                       postgres=tree_cpu_seconds(postmaster) - servers_before[1] if postmaster else None,
                       dovecot=tree_cpu_seconds(dovecot) - servers_before[0],
                       busy=busy / ticks * os.cpu_count())
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
    parser.add_argument("--reps", type=int, default=3, help="rounds of the 1, 2, 3 daemon runs (default 3)")
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
        postmaster = postmaster_pid(args.pg)
        rounds: list[dict[int, Figures]] = []
        for rep in range(args.reps):  # the order turns each round, so that a load on the machine weighs on all
            order = (1, 2, 3) if rep % 2 == 0 else (3, 2, 1)
            rounds.append({k: run(config, args.pg, k, total, server.pid() or 0, postmaster) for k in order})
            print(f"round {rep + 1}: " + ", ".join(f"{k} daemon(s) {rounds[-1][k].wall:.1f} s" for k in (1, 2, 3)),
                  flush=True)
    finally:
        server.stop()
    print(f"{total} mails in {INBOXES} inboxes, PostgreSQL store, daemons started together; medians of {args.reps} "
          f"rounds: CPU seconds of the daemons, of PostgreSQL and of Dovecot, the machine's busy cores "
          f"({os.cpu_count()} in all):")
    print(f"{'daemons':>7} {'wall s':>8} {'mails/s':>8} {'vs 1':>6} {'CPU s':>8} {'CPU/wall':>9} {'PG CPU s':>9} "
          f"{'Dovecot s':>10} {'busy':>5} {'ms CPU/mail':>12}")
    for k in (1, 2, 3):
        med = lambda attr: statistics.median(getattr(r[k], attr) for r in rounds)  # noqa: E731
        gain = statistics.median(r[1].wall / r[k].wall for r in rounds)
        postgres = [r[k].postgres for r in rounds if r[k].postgres is not None]
        pg = f"{statistics.median(postgres):>9.1f}" if postgres else f"{'n/a':>9}"
        per_mail = statistics.median((r[k].daemons + (r[k].postgres or 0) + r[k].dovecot) / total * 1000
                                     for r in rounds)
        print(f"{k:>7} {med('wall'):>8.1f} {total / med('wall'):>8.1f} {gain:>6.2f} {med('daemons'):>8.1f} "
              f"{med('daemons') / med('wall'):>9.2f} {pg} {med('dovecot'):>10.1f} {med('busy'):>5.2f} "
              f"{per_mail:>12.2f}")
    ratios = sorted(r[1].wall / r[2].wall for r in rounds)
    ratio = statistics.median(ratios)
    one_busy = statistics.median(r[1].busy for r in rounds)
    print(f"ceiling here for any number of daemons, at one daemon's CPU per mail: {os.cpu_count()} cores / "
          f"{one_busy:.2f} busy with one daemon = {(os.cpu_count() or 1) / one_busy:.2f}x")
    print(f"goal 2 daemons >= {GOAL:g}x one: {'met' if ratio >= GOAL else 'NOT met'} ({ratio:.2f}x, median of "
          f"{', '.join(f'{x:.2f}' for x in ratios)})")
    return 0 if ratio >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
