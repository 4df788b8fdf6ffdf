"""Mailbox pages by keyset (services.list_messages with after / before / last, count_messages): walked forward
from the first page or backward from the last, the pages hold every row exactly once in the Mailbox order
(newest Date first, undated mail last, the newer arrival first on equal dates), with the inbox and status
filters, on SQLite and PostgreSQL, and rows written between two page fetches neither repeat nor hide a row.
The Mailbox keys (page down/up at the table's edges, home, end) and the Tickets list's keyset pages too.
"""
from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest
from peewee import fn

from mailticket_tui.app import build_app
from mailticket_tui.screens.mailbox import MailboxScreen
from mailticket_tui.services import Services, TicketFilter, open_services
from mailticket_tui.store.models import Inbox, MailMessage, database_proxy

from .test_tui_support import settle

T0 = dt.datetime(2026, 3, 1, 8, 0, 0)
STATUSES = ("processed", "error", "undesired")


@pytest.fixture(params=["sqlite", "postgres"])
def services(request, tmp_path: Path) -> Services:
    url = f"sqlite:///{tmp_path / 'store.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_store")
    config = tmp_path / "mailticket.toml"
    config.write_text(textwrap.dedent(f"""
        [[inbox]]
        name = "support"
        protocol = "maildir"
        server = "{tmp_path / 'M1'}"

        [[inbox]]
        name = "sales"
        protocol = "maildir"
        server = "{tmp_path / 'M2'}"
        """), encoding="utf-8")
    return open_services(config=str(config), db=url)


def add(inbox: str, dates: list[dt.datetime | None]) -> list[int]:
    """One message per date, in this arrival order (store ids grow), statuses in turn; their ids."""
    inbox_id = Inbox.get(Inbox.name == inbox).id
    start = (MailMessage.select(fn.MAX(MailMessage.id)).scalar() or 0) + 1  # unique keys, deletions or not
    rows = [{"inbox": inbox_id, "folder": "INBOX", "uidvalidity": 0, "key": f"k{start + n}", "date": date,
             "subject": f"mail {start + n}", "status": STATUSES[(start + n) % len(STATUSES)]}
            for n, date in enumerate(dates)]
    with database_proxy.atomic():
        MailMessage.insert_many(rows).execute()
    return [m.id for m in MailMessage.select(MailMessage.id).order_by(MailMessage.id.desc()).limit(len(dates))][::-1]


def mixed_dates(n: int) -> list[dt.datetime | None]:
    """Dates out of arrival order, runs of equal dates (ties), and undated mail among them."""
    out: list[dt.datetime | None] = []
    for i in range(n):
        if i % 7 == 3:
            out.append(None)
        else:
            out.append(T0 + dt.timedelta(minutes=(i * 37) % 23))  # 23 distinct minutes: many ties
    return out


def mailbox_order(inbox: str, status: str = "") -> list[int]:
    """The documented order, computed here from the rows: dated newest first, then undated; ties by id, newest first."""
    query = MailMessage.select().join(Inbox).where(Inbox.name == inbox)
    if status:
        query = query.where(MailMessage.status == status)
    rows = list(query)
    dated = sorted((r for r in rows if r.date is not None), key=lambda r: (r.date, r.id), reverse=True)
    undated = sorted((r.id for r in rows if r.date is None), reverse=True)
    return [r.id for r in dated] + undated


def walk_forward(services: Services, inbox: str, status: str, size: int) -> list[int]:
    seen: list[int] = []
    page = services.list_messages(inbox, status, limit=size, by_date=True)
    while page:
        seen += [m.id for m in page]
        page = services.list_messages(inbox, status, limit=size, after=page[-1].cursor)
    return seen


def walk_backward(services: Services, inbox: str, status: str, size: int) -> list[int]:
    seen: list[int] = []
    page = services.list_messages(inbox, status, limit=size, last=True)
    while page:
        seen = [m.id for m in page] + seen
        page = services.list_messages(inbox, status, limit=size, before=page[0].cursor)
    return seen


@pytest.mark.parametrize("status", ["", "error"])
@pytest.mark.parametrize("size", [1, 4, 10, 200])
def test_pages_visit_every_row_once_in_the_mailbox_order(services: Services, status: str, size: int) -> None:
    add("support", mixed_dates(60))
    add("sales", mixed_dates(15))  # another inbox's mail never shows
    expected = mailbox_order("support", status)
    assert len(expected) > size or size == 200
    assert walk_forward(services, "support", status, size) == expected
    assert walk_backward(services, "support", status, size) == expected
    last = services.list_messages("support", status, limit=size, last=True)
    assert [m.id for m in last] == expected[-size:]  # the last page is the order's tail, in the same order


def test_the_first_page_and_the_offset_pages_keep_the_same_order(services: Services) -> None:
    add("support", mixed_dates(30))
    expected = mailbox_order("support")
    assert [m.id for m in services.list_messages("support", limit=12, by_date=True)] == expected[:12]
    offset_pages = [m.id for p in range(3) for m in services.list_messages("support", offset=p * 12, limit=12,
                                                                             by_date=True)]
    assert offset_pages == expected  # the CLI's --page (OFFSET) in the same order
    by_arrival = [m.id for m in services.list_messages("support", limit=None)]  # the CLI's order: store id
    assert by_arrival == sorted(expected, reverse=True)
    with pytest.raises(ValueError):
        services.list_messages("support", offset=12, limit=12, last=True)


def test_counts_give_the_page_position(services: Services) -> None:
    add("support", mixed_dates(40))
    expected = mailbox_order("support", "error")
    assert services.count_messages("support", "error") == len(expected)
    rows = {m.id: m for m in services.list_messages("support", "error", limit=None, by_date=True)}
    for position, message_id in enumerate(expected):
        assert services.count_messages("support", "error", before=rows[message_id].cursor) == position


def test_rows_written_between_fetches_neither_repeat_nor_hide_a_row(services: Services) -> None:
    original = set(add("support", mixed_dates(50)))
    seen: list[int] = []
    page = services.list_messages("support", limit=6, by_date=True)
    for turn in range(100):
        if not page:
            break
        seen += [m.id for m in page]
        cursor = page[-1].cursor
        if turn < 6:  # new mail on both sides of the cursor: newer, older, undated, on the cursor's very date
            add("support", [T0 + dt.timedelta(hours=5), T0 - dt.timedelta(hours=5), None, cursor.date])
        if turn % 3 == 1:  # and a row already shown disappears
            MailMessage.delete().where(MailMessage.id == seen[0]).execute()
        page = services.list_messages("support", limit=6, after=cursor)
    assert not page
    assert len(seen) == len(set(seen))
    assert original <= set(seen)
    final = [i for i in mailbox_order("support") if i in set(seen)]
    assert [i for i in seen if i in set(final)] == final  # what was shown is in the order, page after page


def test_backward_pages_with_rows_written_between_fetches(services: Services) -> None:
    original = set(add("support", mixed_dates(40)))
    seen: list[int] = []
    page = services.list_messages("support", limit=5, last=True)
    for turn in range(100):
        if not page:
            break
        seen = [m.id for m in page] + seen
        if turn < 5:  # (new mail at the top on every turn would keep the walk from ever reaching it)
            add("support", [None, T0 + dt.timedelta(hours=1), page[0].cursor.date])
        page = services.list_messages("support", limit=5, before=page[0].cursor)
    assert not page
    assert len(seen) == len(set(seen)) and original <= set(seen)


async def test_the_mailbox_keys_turn_pages_by_keyset(tmp_path: Path) -> None:
    """Page down on the last row, page up on the first, end and home, in the TUI (SQLite)."""
    config = tmp_path / "mailticket.toml"
    config.write_text(f'[[inbox]]\nname = "support"\nprotocol = "maildir"\nserver = "{tmp_path / "M"}"\n',
                      encoding="utf-8")
    services = open_services(config=str(config), db=f"sqlite:///{tmp_path / 'store.db'}")
    add("support", mixed_dates(250))
    expected = mailbox_order("support")
    app = build_app(services, start_engine=False, first_mode="mailbox")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MailboxScreen)
        assert screen.table.row_keys == [str(i) for i in expected[:100]] and screen.table.cursor_row == 0
        await pilot.press("end")
        await settle(pilot)
        assert screen.table.row_keys == [str(i) for i in expected[-100:]]
        assert screen.table.cursor_row == 99 and "rows 151-250 of 250" in screen.page_info
        await pilot.press("pageup")  # the cursor is on the last row: the table pages within itself first
        await settle(pilot)
        assert screen.table.row_keys == [str(i) for i in expected[-100:]]
        screen.table.move_cursor(row=0)
        await pilot.press("pageup")
        await settle(pilot)
        assert screen.table.row_keys == [str(i) for i in expected[50:150]] and screen.table.cursor_row == 99
        assert "rows 51-150 of 250" in screen.page_info
        await pilot.press("pagedown")  # on the last row: the next page
        await settle(pilot)
        assert screen.table.row_keys == [str(i) for i in expected[150:250]] and screen.table.cursor_row == 0
        await pilot.press("home")
        await settle(pilot)
        assert screen.table.row_keys == [str(i) for i in expected[:100]] and "rows 1-100 of 250" in screen.page_info
        await pilot.press("left_square_bracket")  # nothing before the first page
        await settle(pilot)
        assert screen.table.row_keys[0] == str(expected[0])


def test_ticket_pages_by_keyset_visit_every_ticket_once(services: Services) -> None:
    from mailticket_tui.store.models import Ticket

    for n in range(23):
        Ticket.create(ref=f"R-{n + 1:06d}", klass="UserRequest", title=f"ticket {n}",
                      status="new" if n % 2 else "closed")
    for status in ("", "new"):
        filters = TicketFilter(status=status)
        expected = [t.ref for t in services.list_tickets(filters, limit=None)]
        forward: list[str] = []
        page = services.list_tickets(filters, limit=5)
        while page:
            forward += [t.ref for t in page]
            page = services.list_tickets(filters, limit=5, after=page[-1].id)
        backward: list[str] = []
        page = services.list_tickets(filters, limit=5, last=True)
        assert [t.ref for t in page] == expected[-5:]
        while page:
            backward = [t.ref for t in page] + backward
            page = services.list_tickets(filters, limit=5, before=page[0].id)
        assert forward == backward == expected
