"""Latency from APPEND on the server to the ticket committed, IMAP IDLE next to polling, in one run.

    .venv/bin/python bench/bench_latency.py [--quick] [--mails N] [--gap SECONDS] [--seed S]

One `mailticket run` daemon (a subprocess, SQLite store, default settings: periodicity 30 s) serves two inboxes
of a private Dovecot: `idle` on an account whose server offers IDLE, `poll` on an account whose server does
not (Dovecot's imap_capability without IDLE), which is therefore polled every periodicity: the baseline.
N mails (200; --quick 40) arrive at random (exponential) intervals, each APPENDed to both inboxes back to
back; the latency of a mail is its ticket's `created` (set in the transaction that commits it) minus the
moment its APPEND returned. Prints p50, p95 and max per inbox, and the daemon's CPU time beside the wall
time. Goal: p95 under 2 s with IDLE.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from daemon_kit import BigDovecot, bootstrap, cpu_seconds, inbox_toml, mailticket, percentile, write_config

from tests.dovecot_server import make_message, missing_reason

GOAL_P95 = 2.0


class Lines:
    """A child's stdout, read in a thread (a verbose daemon fills a pipe fast); waits for a text to appear."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()

    def wait_for(self, text: str, timeout: float = 60) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: any(text in line for line in self.lines), timeout):
                raise SystemExit(f"bench_latency: the daemon never said {text!r}")


def committed(db: Path) -> dict[str, float]:
    """Ticket title -> epoch seconds of its creation (naive UTC in the store)."""
    with sqlite3.connect(db, timeout=30) as conn:
        rows = conn.execute("SELECT title, created FROM ticket").fetchall()
    return {title: dt.datetime.fromisoformat(str(created)).replace(tzinfo=dt.timezone.utc).timestamp()
            for title, created in rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 mails instead of 200")
    parser.add_argument("--mails", type=int, default=0, help="mails per inbox")
    parser.add_argument("--gap", type=float, default=0.3, help="mean seconds between two arrivals")
    parser.add_argument("--seed", type=int, default=16)
    args, _ = parser.parse_known_args()
    reason = missing_reason()
    if reason:
        print(f"bench_latency: skipped: {reason}", file=sys.stderr)
        return 2
    count = args.mails or (40 if args.quick else 200)
    rng = random.Random(args.seed)
    server = BigDovecot.start_new()
    work = Path(tempfile.mkdtemp(prefix="mailticket-latency-"))
    daemon = None
    try:
        idle = server.add_user()
        poll = server.add_user(extra="userdb_imap_capability=IMAP4rev1")
        config = write_config(work / "mailticket.toml", [inbox_toml("idle", idle), inbox_toml("poll", poll)])
        db = work / "store.db"
        store = f"sqlite:///{db}"
        bootstrap(config, store)
        daemon = mailticket(config, store, "run", "-v", stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
        out = Lines(daemon)
        out.wait_for("idle: IDLE idle:")
        out.wait_for("poll: IDLE unsupported:")
        time.sleep(1)  # the passes that follow a new watch are over
        appended: dict[str, float] = {}
        cpu0, wall0 = cpu_seconds(daemon.pid), time.monotonic()
        for n in range(count):
            time.sleep(rng.expovariate(1 / args.gap))
            for name, account in (("idle", idle), ("poll", poll)):
                subject = f"{name} mail {n:04d}"
                account.append(make_message(n, subject=subject, message_id=f"<{name}-{n}@acme.example>"))
                appended[subject] = time.time()
        deadline = time.monotonic() + 90  # a poll every 30 s brings the last ones
        while len(done := committed(db)) < len(appended) and time.monotonic() < deadline:
            time.sleep(0.5)
        cpu, wall = cpu_seconds(daemon.pid) - cpu0, time.monotonic() - wall0
        missing = sorted(set(appended) - set(done))
        if missing:
            print(f"bench_latency: {len(missing)} mails never became tickets, e.g. {missing[:3]}", file=sys.stderr)
            return 1
        print(f"{count} mails per inbox, mean gap {args.gap:g} s (exponential), periodicity 30 s (default)")
        print(f"{'inbox':<28} {'p50 s':>8} {'p95 s':>8} {'max s':>8}")
        p95 = {}
        for name, label in (("idle", "idle (IMAP IDLE)"), ("poll", "poll (no IDLE: every 30 s)")):
            lat = [done[s] - t for s, t in appended.items() if s.startswith(name)]
            p95[name] = percentile(lat, 95)
            print(f"{label:<28} {percentile(lat, 50):>8.3f} {p95[name]:>8.3f} {max(lat):>8.3f}")
        print(f"daemon: {cpu:.2f} s CPU over {wall:.1f} s wall ({100 * cpu / wall:.1f} % of one core), "
              f"{2 * count} mails")
        met = p95["idle"] < GOAL_P95
        print(f"goal IDLE p95 < {GOAL_P95:g} s: {'met' if met else 'NOT met'} "
              f"({p95['poll'] / max(p95['idle'], 1e-3):.0f}x better than polling at p95)")
        return 0 if met else 1
    finally:
        if daemon is not None:
            daemon.terminate()
            daemon.wait(30)
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
