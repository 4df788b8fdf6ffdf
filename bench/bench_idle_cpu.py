"""Idle CPU of one daemon holding 100 IMAP inboxes in IDLE, next to the same daemon polling them.

    .venv/bin/python bench/bench_idle_cpu.py [--quick] [--inboxes N] [--seconds S]

`mailticket run` (a subprocess, SQLite store, default settings) serves N empty inboxes (100; --quick 30) of a
private Dovecot. Once every inbox had its first passes (and, with IDLE, its watch is up), the daemon's CPU time
(utime + stime from /proc) is read over S seconds of wall time (60; --quick 31: the baseline polls every 30 s)
with no mail arriving. The baseline, measured in the same run on fresh accounts and a fresh store: the same
daemon with `idle = false`, which polls every inbox every periodicity (30 s), as the reference does from cron.
Goal: the IDLE daemon below 2 % of one core.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from daemon_kit import BigDovecot, bootstrap, cpu_seconds, inbox_toml, mailticket, write_config

from tests.dovecot_server import missing_reason

GOAL = 0.02  # of one core
PASS_LINE = re.compile(r"^(\S+): read \d+")


class Watcher:
    """Counts a verbose daemon's lines as they come: watches up, passes done, time of the last pass."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.idle: set[str] = set()
        self.passed: set[str] = set()
        self.passes = 0
        self.last = time.monotonic()
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            if match := PASS_LINE.match(line):
                self.passed.add(match.group(1))
                self.passes += 1
                self.last = time.monotonic()
            elif ": IDLE idle:" in line:
                self.idle.add(line.split(":")[0].strip())


def measure(server: BigDovecot, count: int, seconds: float, idle: bool, work: Path) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, passes) of a settled daemon over `seconds`."""
    accounts = [server.add_user() for _ in range(count)]
    tag = "idle" if idle else "poll"
    config = write_config(work / f"{tag}.toml", [inbox_toml(f"box{i:03d}", a) for i, a in enumerate(accounts)],
                          idle=idle)
    store = f"sqlite:///{work / f'{tag}.db'}"
    bootstrap(config, store)
    proc = mailticket(config, store, "run", "-v", stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        seen = Watcher(proc)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (len(seen.passed) < count or (idle and len(seen.idle) < count)
                                               or time.monotonic() - seen.last < 2):
            time.sleep(0.2)
        if len(seen.passed) < count or (idle and len(seen.idle) < count):
            raise SystemExit(f"bench_idle_cpu: {tag}: only {len(seen.passed)} inboxes passed, {len(seen.idle)} idle")
        passes0, cpu0, wall0 = seen.passes, cpu_seconds(proc.pid), time.monotonic()
        time.sleep(seconds)
        return cpu_seconds(proc.pid) - cpu0, time.monotonic() - wall0, seen.passes - passes0
    finally:
        proc.terminate()
        proc.wait(60)
        for account in accounts:
            account.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 inboxes over 31 s (one polling round)")
    parser.add_argument("--inboxes", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=0)
    args, _ = parser.parse_known_args()
    reason = missing_reason()
    if reason:
        print(f"bench_idle_cpu: skipped: {reason}", file=sys.stderr)
        return 2
    count = args.inboxes or (30 if args.quick else 100)
    seconds = args.seconds or (31 if args.quick else 60)
    server = BigDovecot.start_new()
    work = Path(tempfile.mkdtemp(prefix="mailticket-idlecpu-"))
    try:
        figures = {idle: measure(server, count, seconds, idle, work) for idle in (True, False)}
    finally:
        server.stop()
    print(f"one daemon, {count} empty IMAP inboxes, {seconds:g} s with no mail arriving:")
    print(f"{'mode':<32} {'CPU s':>7} {'wall s':>7} {'% core':>7} {'passes':>7}")
    for idle, label in ((True, "IDLE (idle_refresh 600 s)"), (False, "polling every 30 s (baseline)")):
        cpu, wall, passes = figures[idle]
        print(f"{label:<32} {cpu:>7.2f} {wall:>7.1f} {100 * cpu / wall:>7.2f} {passes:>7}")
    share = figures[True][0] / figures[True][1]
    print(f"goal IDLE < {100 * GOAL:g} % of one core: {'met' if share < GOAL else 'NOT met'}")
    return 0 if share < GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
