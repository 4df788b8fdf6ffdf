"""TUI list timings with a big mailbox: open the Mailbox mode on N messages (first page shown), page down a
few times, against the baseline of loading all N rows into a stock DataTable, in the same run.

    python bench/bench_tui.py            # 100,000 messages
    python bench/bench_tui.py --quick    # 10,000

Headless (Pilot). Prints milliseconds and the ratio baseline / ours. Timing polls the widget state every
millisecond instead of Pilot's idle waits, so both sides are measured the same way.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 messages instead of 100,000")
    parser.add_argument("--count", type=int, help="any number of messages")
    args = parser.parse_args()
    count = args.count or (10_000 if args.quick else 100_000)
    with tempfile.TemporaryDirectory() as tmp:
        services = make_store(Path(tmp), count)
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


if __name__ == "__main__":
    asyncio.run(main())
