"""TUI list timings with a big mailbox, each beside its baseline measured in the same run:

- cold start: a fresh `python -m mailticket_tui` in a pseudo-terminal (120x36), started in the Mailbox mode
  ($MAILTICKET_TUI_MODE), timed from the process start to the first page's rows on the screen (read from the
  terminal output), with the process's CPU time by then. The pseudo-terminal answers Device Attributes as a
  VT100-compatible terminal does (xterm, tmux, the Linux console: no Sixel) and leaves the other questions of
  the TUI's terminal probe unanswered, as those do; the cold start of a terminal that answers nothing at all
  (terminal_probe.SILENT_WAIT more) is printed beside it; the time spent importing is measured in separate
  runs under `-X importtime`. Bytecode is compiled once into a private cache first (an installed package has
  its .pyc files; this checkout may not write them). Fails at 0.5 s or more.
- page fetches: one Mailbox page (as the screen reads it) first and last by keyset, and the last by OFFSET, the
  old way, as the baseline. Fails when the last page costs more than twice the first.
- in the app (Pilot, headless): open the Mailbox mode (first page shown), page down a few times, against
  loading all N rows into a stock DataTable. Timing polls the widget state every millisecond instead of
  Pilot's idle waits, so both sides are measured the same way.

    python bench/bench_tui.py            # 100,000 messages
    python bench/bench_tui.py --quick    # 10,000

Machines are shared: every figure is the median of several runs, CPU time printed beside wall time.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import DataTable  # noqa: E402

from mailticket_tui.app import build_app  # noqa: E402
from mailticket_tui.screens.mailbox import PAGE, MailboxScreen  # noqa: E402
from mailticket_tui.services import Services, open_services  # noqa: E402
from mailticket_tui.store.models import Inbox, MailMessage, database_proxy  # noqa: E402
from mailticket_tui.widgets.safe_text import safe_text  # noqa: E402

SIZE = (120, 36)
PAGES = 5
COLD_LIMIT = 0.5  # seconds from the process start to the first page on the screen
LAST_PAGE_LIMIT = 2.0  # the last page may cost this many times the first
ANSI = re.compile(rb"\x1b\[[0-9;?<>=$ ]*[A-Za-z@`~]"  # CSI
                  rb"|\x1b[\]P_^][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC, DCS...: up to BEL or ST
                  rb"|\x1b[()][A-Z0-9]|\x1b[=>78DEHMNOZc]")  # charset and single-character escapes
DA1_QUERY, DA1_ANSWER = b"\x1b[c", b"\x1b[?1;2c"  # "a VT100 with advanced video": what xterm says by default
TOP_IMPORT = re.compile(rb"import time:\s+\d+ \|\s+(\d+) \| (\S+)")  # no indent after "| ": a top-level import


def make_store(folder: Path, count: int) -> Services:
    (folder / "Maildir" / "new").mkdir(parents=True)
    config = folder / "bench.toml"
    config.write_text(textwrap.dedent(f"""
        [[inbox]]
        name = "big"
        protocol = "maildir"
        server = "{folder / 'Maildir'}"
        """), encoding="utf-8")
    services = open_services(config=str(config), db=f"sqlite:///{folder / 'bench.db'}")
    inbox = Inbox.get(Inbox.name == "big").id
    start = dt.datetime(2026, 1, 1)
    began = time.perf_counter()
    with database_proxy.atomic():
        batch = []
        for n in range(count):
            batch.append({"inbox": inbox, "folder": "INBOX", "uidvalidity": 1, "uid": n + 1, "key": str(n + 1),
                          "message_id": f"{n}@bench.example", "size": 4000 + n % 5000,
                          "date": start + dt.timedelta(seconds=n), "from_addr": f"user{n % 997}@bench.example",
                          "subject": f"Printer jams on floor {n % 40} (#{n})",
                          "status": ("processed", "processed", "processed", "error", "undesired")[n % 5],
                          "error": "caller unknown" if n % 5 == 3 else ""})
            if len(batch) == 500:
                MailMessage.insert_many(batch).execute()
                batch = []
        if batch:
            MailMessage.insert_many(batch).execute()
    print(f"store: {count} messages inserted in {time.perf_counter() - began:.2f} s (one transaction)")
    return services


def newest_sender(count: int) -> str:
    """The From of the newest message (make_store's numbering): on the first page only."""
    return f"user{(count - 1) % 997}@bench.example"


def cold_start(folder: Path, url: str, marker: str, importtime: bool = False, silent: bool = False,
               timeout: float = 60) -> tuple[float, float, float]:
    """One fresh TUI process in a pseudo-terminal: (seconds until `marker` shows, CPU seconds of the process by
    then, seconds of top-level imports seen by then under -X importtime, else 0). The terminal answers DA1
    unless `silent`."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "MAILTICKET_TUI_MODE": "mailbox",
           "PYTHONPYCACHEPREFIX": str(folder / "pycache")}
    for name in ("PYTHONDONTWRITEBYTECODE", "MAILTICKET_CONFIG", "MAILTICKET_DB"):
        env.pop(name, None)
    argv = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "mailticket_tui", "--db", url]
    began = time.perf_counter()
    child = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=folder,
                             start_new_session=True)
    os.close(slave)
    output, wanted, answered = b"", marker.encode(), silent
    try:
        while time.perf_counter() - began < timeout:
            if not select.select([master], [], [], 0.05)[0]:
                continue
            output += os.read(master, 1 << 16)
            if not answered and DA1_QUERY in output:
                os.write(master, DA1_ANSWER)
                answered = True
            if wanted in ANSI.sub(b"", output):
                shown = time.perf_counter() - began
                with open(f"/proc/{child.pid}/stat") as stat:  # utime and stime of every thread, in clock ticks
                    ticks = stat.read().rsplit(")", 1)[1].split()[11:13]
                cpu = sum(int(t) for t in ticks) / os.sysconf("SC_CLK_TCK")
                imports = sum(int(us) for us, _ in TOP_IMPORT.findall(output)) / 1e6
                return shown, cpu, imports
        raise TimeoutError(f"the first page never showed; the screen said: {ANSI.sub(b'', output)[-800:]!r}")
    finally:
        os.killpg(child.pid, signal.SIGKILL)  # the process group this function started
        child.wait()
        os.close(master)


def cold_starts(folder: Path, url: str, count: int, runs: int) -> bool:
    """Median cold start of `runs` processes (after one that compiles the bytecode); False at COLD_LIMIT."""
    marker = newest_sender(count)
    cold_start(folder, url, marker)
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu, _ = cold_start(folder, url, marker)
        walls.append(wall)
        cpus.append(cpu)
    imports = statistics.median(cold_start(folder, url, marker, importtime=True)[2] for _ in range(runs))
    silent = statistics.median(cold_start(folder, url, marker, silent=True)[0] for _ in range(3))
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    print(f"cold start: process start to first Mailbox page on screen: {wall * 1000:7.1f} ms wall, "
          f"{cpu * 1000:6.1f} ms CPU (median of {runs}; min {min(walls) * 1000:.1f} ms wall)")
    print(f"cold start: the same in a terminal that answers nothing:    {silent * 1000:7.1f} ms wall (median of 3)")
    print(f"cold start: imports by then (-X importtime, top-level modules):  {imports * 1000:7.1f} ms "
          f"(median of {runs})")
    if wall >= COLD_LIMIT:
        print(f"FAIL: cold start {wall * 1000:.0f} ms >= {COLD_LIMIT * 1000:.0f} ms")
    return wall < COLD_LIMIT


def page_fetches(services: Services, count: int, runs: int = 25) -> bool:
    """One page as the Mailbox reads it (PAGE + 1 rows): first and last by keyset, last by OFFSET (the old way),
    taken in turn in each round so that a load on the machine weighs on all three alike; False when the last
    page costs more than LAST_PAGE_LIMIT times the first."""
    calls: dict[str, Callable[[], object]] = {
        "first page, keyset": lambda: services.list_messages("big", limit=PAGE + 1, by_date=True),
        "last page, keyset": lambda: services.list_messages("big", limit=PAGE + 1, last=True),
        "last page, OFFSET (baseline)": lambda: services.list_messages("big", offset=count - PAGE, limit=PAGE + 1,
                                                                        by_date=True),
    }
    walls: dict[str, list[float]] = {name: [] for name in calls}
    cpus: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(runs):
        for name, call in calls.items():
            wall, cpu = time.perf_counter(), time.process_time()
            call()
            walls[name].append((time.perf_counter() - wall) * 1000)
            cpus[name].append((time.process_time() - cpu) * 1000)
    for name in calls:
        print(f"page fetch: {name:29} {statistics.median(walls[name]):7.2f} ms wall, "
              f"{statistics.median(cpus[name]):7.2f} ms CPU (median of {runs})")
    first, last = statistics.median(walls["first page, keyset"]), statistics.median(walls["last page, keyset"])
    if last > LAST_PAGE_LIMIT * first:
        print(f"FAIL: the last page costs {last / first:.1f}x the first (limit {LAST_PAGE_LIMIT:.0f}x)")
    return last <= LAST_PAGE_LIMIT * first


async def until(predicate, timeout: float = 120) -> None:
    limit = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > limit:
            raise TimeoutError("the screen never got there")
        await asyncio.sleep(0.001)


async def ours(services: Services, count: int) -> tuple[float, list[float]]:
    """ms from switching to the Mailbox mode to its first page shown, and ms per page turn (the `]` action)."""
    app = build_app(services, start_engine=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        began = time.perf_counter()
        await app.open_mailbox("big")
        screen = app.screen
        assert isinstance(screen, MailboxScreen)
        await until(lambda: screen.table.row_keys[:1] == [str(count)])
        await asyncio.sleep(0)
        opened = (time.perf_counter() - began) * 1000
        pages = []
        for page in range(1, PAGES + 1):
            began = time.perf_counter()
            screen.action_next_page()
            newest_on_page = str(count - page * PAGE)  # ids are 1..count, newest first
            await until(lambda key=newest_on_page: screen.table.row_keys[:1] == [key])
            await asyncio.sleep(0)
            pages.append((time.perf_counter() - began) * 1000)
        await pilot.press("q")
    return opened, pages


class StockTable(App):
    """The baseline: every message of the inbox in one stock DataTable."""

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Status", "Date", "From", "Subject", "Ticket", "Error", "#")
        rows = self.services.list_messages("big", limit=None)
        table.add_rows([(r.status, r.date, safe_text(r.from_addr), safe_text(r.subject), r.ticket_ref or "",
                         safe_text(r.error), str(r.id)) for r in rows])


async def baseline(services: Services, count: int) -> float:
    began = time.perf_counter()
    app = StockTable(services)
    async with app.run_test(size=SIZE):
        table = app.query_one(DataTable)
        await until(lambda: table.row_count == count)
        await asyncio.sleep(0)
        return (time.perf_counter() - began) * 1000


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 messages instead of 100,000")
    parser.add_argument("--count", type=int, help="any number of messages")
    parser.add_argument("--runs", type=int, default=7, help="cold starts to take the median of (default 7)")
    args = parser.parse_args()
    count = args.count or (10_000 if args.quick else 100_000)
    with tempfile.TemporaryDirectory() as tmp:
        services = make_store(Path(tmp), count)
        ok = page_fetches(services, count)
        ok = cold_starts(Path(tmp), services.store_url, count, args.runs) and ok
        opens, page_times = [], []
        for _ in range(3):
            opened, pages = await ours(services, count)
            opens.append(opened)
            page_times += pages
        stock = await baseline(services, count)
    open_ms = statistics.median(opens)
    print(f"ours:     open Mailbox, first page of {PAGE} shown: {open_ms:8.1f} ms (median of 3)")
    print(f"ours:     page down ({PAGES} pages x 3): median {statistics.median(page_times):6.1f} ms, "
          f"max {max(page_times):6.1f} ms")
    print(f"baseline: stock DataTable with all {count} rows:   {stock:8.1f} ms")
    print(f"ratio:    baseline / ours (open) = {stock / open_ms:.1f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
