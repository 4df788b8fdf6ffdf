"""Tickets mode: paged list with key:value filters, the detail (overview, case log, contacts, attachments,
history, source mails), stimuli the lifecycle allows, case log entries, saving an attachment.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from textual.widgets import Input, OptionList, Static, TabbedContent, TextArea

from mailticket_tui.app import build_app
from mailticket_tui.screens.choice import ChoiceScreen
from mailticket_tui.screens.help import HelpScreen
from mailticket_tui.screens.log_entry import LogEntryScreen
from mailticket_tui.screens.mailbox import MailboxScreen
from mailticket_tui.screens.message_detail import MessageDetailScreen
from mailticket_tui.screens.save_file import SaveFileScreen
from mailticket_tui.screens.ticket_detail import TicketDetailScreen
from mailticket_tui.screens.tickets import TicketsScreen, ticket_filter
from mailticket_tui.services import TicketFilter
from mailticket_tui.store.models import MailMessage, Ticket
from mailticket_tui.widgets.fitted_table import FittedTable

from .test_tui_support import (
    WHEN,
    add_messages,
    add_ticket,
    maildir_inbox,
    make_maildir,
    open_store,
    screen_output,
    settle,
)


def test_filter_line_maps_to_ticket_filter() -> None:
    assert ticket_filter("class:Incident status:new inbox:support caller:bob org:acme printer jam") == TicketFilter(
        klass="Incident", status="new", caller="bob", org="acme", inbox="support", text="printer jam")


async def open_tickets(tmp_path: Path):
    services = open_store(tmp_path, maildir_inbox("support", make_maildir(tmp_path / "M")))
    for n in range(1, 206):
        add_ticket(f"R-{n:06d}", f"Printer jams {n}", caller=f"user{n % 3}@acme.example", inbox="support")
    add_ticket("I-000001", "Network down", klass="Incident", caller="bob@acme.example",
               attachment_name="../../etc/passwd")
    return services, build_app(services, start_engine=False)


async def test_list_pages_and_filters(tmp_path: Path) -> None:
    _, app = await open_tickets(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketsScreen)
        assert screen.table.row_count == 100 and screen.table.row_keys[0] == "I-000001"
        await pilot.press("right_square_bracket", "right_square_bracket")
        await settle(pilot)
        assert screen.table.row_count == 6 and "tickets 201-206" in str(screen.query_one("#tickets-info").visual)
        screen.query_one("#tickets-filter", Input).value = "class:Incident"
        await pilot.press("slash", "enter")
        await settle(pilot)
        assert screen.table.row_keys == ["I-000001"]
        screen.query_one("#tickets-filter", Input).value = "caller:user1 jams 10"
        await pilot.press("slash", "enter")
        await settle(pilot)
        assert screen.table.row_keys == ["R-000109", "R-000106", "R-000103", "R-000100", "R-000010"]


async def test_detail_stimulus_log_and_attachment(tmp_path: Path) -> None:
    _, app = await open_tickets(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, TicketDetailScreen) and detail.ref == "I-000001"
        overview = str(detail.query_one("#ticket-overview", Static).visual)
        description = "".join(str(w.visual) for w in detail.query("#ticket-description Static"))
        assert "Network down: description" in description and "bob@acme.example" in overview
        assert "It still jams." in "".join(str(w.visual) for w in detail.query("#ticket-caselog Static"))

        await pilot.press("s")
        assert isinstance(app.screen, ChoiceScreen)
        assert app.screen.choices == ["ev_assign", "ev_close", "ev_pending", "ev_resolve"]
        await pilot.press("down", "down", "down", "enter")  # ev_resolve
        await settle(pilot)
        assert Ticket.get(Ticket.ref == "I-000001").status == "resolved"
        assert detail.detail.summary.status == "resolved"

        await pilot.press("l")
        assert isinstance(app.screen, LogEntryScreen)
        app.screen.query_one(TextArea).text = "Called the user back."
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert detail.detail.case_log[0].text.strip() == "Called the user back."  # newest first

        await pilot.press("right_square_bracket", "right_square_bracket", "right_square_bracket")
        assert detail.query_one(TabbedContent).active == "attachments"
        detail.query_one("#ticket-attachments", OptionList).focus()
        await pilot.press("enter")
        assert isinstance(app.screen, SaveFileScreen)
        assert app.screen.query_one(Input).value.endswith("/passwd")  # no ../ from the mail
        target = tmp_path / "att.pdf"
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        assert target.read_bytes() == b"%PDF"
        await pilot.press("escape")
        assert isinstance(app.screen, TicketsScreen)


async def test_mails_tab_lists_the_source_mails_by_date_and_enter_opens_one_in_the_mailbox(
        tmp_path: Path, monkeypatch) -> None:
    """Keyboard only: `[` from the overview wraps to the Mails tab and puts the focus on its table; the rows
    are the ticket's mails by date (with the year), whatever inbox they came through; enter on one opens it
    in the Mailbox mode of its own inbox, without loading anything for the jump."""
    services = open_store(tmp_path, maildir_inbox("support", make_maildir(tmp_path / "M"))
                          + maildir_inbox("sales", make_maildir(tmp_path / "S")))
    ticket = add_ticket("R-000001", inbox="support")
    add_messages("support", 2)  # not the ticket's
    first, second = add_messages("support", 2, subject="Jams again #{n}", ticket=ticket)[2:]
    [earliest] = add_messages("sales", 1, subject="[bold]Toner[/] \x1b[2J", sender="Bob <bob@acme.example>",
                              status="error", ticket=ticket)  # the ticket's first mail came through another inbox
    MailMessage.update(date=WHEN - dt.timedelta(days=400)).where(MailMessage.id == earliest).execute()
    MailMessage.update(date=None, first_seen=WHEN + dt.timedelta(hours=1)).where(MailMessage.id == first).execute()
    details: list[int] = []
    real_detail = services.message_detail

    def counted_detail(row_id: int):
        details.append(row_id)
        return real_detail(row_id)

    monkeypatch.setattr(services, "message_detail", counted_detail)
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("left_square_bracket")
        detail = app.screen
        assert detail.query_one(TabbedContent).active == "messages"
        table = detail.query_one("#ticket-messages", FittedTable)
        assert app.focused is table
        # by date; the undated mail by when it was seen (after the others)
        assert table.row_keys == [str(earliest), str(second), str(first)]
        assert table.column_keys == ["date", "status", "from", "subject"]  # the inbox column needs more width
        assert [str(cell).strip() for cell in table.get_row(str(earliest))] == [  # local time: UTC (conftest.py)
            "2025-10-16 09:30", "error", "Bob <bob@acme.example>", "[bold]Toner[/] ␛[2J"]
        assert [str(cell).strip() for cell in table.get_row(str(first))][:2] == ["", "processed"]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MessageDetailScreen) and app.screen.message_id == earliest
        assert details == [earliest]  # only the detail screen's own load: the jump knew the inbox
        await pilot.press("escape")
        assert isinstance(app.screen, MailboxScreen)
        assert app.screen.query_state.inbox == "sales"

        await pilot.press("3")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("left_square_bracket", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, MessageDetailScreen) and app.screen.message_id == second
        await pilot.press("escape")
        assert isinstance(app.screen, MailboxScreen) and app.screen.query_state.inbox == "support"


async def test_mails_tab_shows_the_inbox_when_wide(tmp_path: Path) -> None:
    services = open_store(tmp_path, maildir_inbox("support", make_maildir(tmp_path / "M")))
    ticket = add_ticket("R-000001", inbox="support")
    add_messages("support", 1, ticket=ticket)
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("left_square_bracket")
        table = app.screen.query_one("#ticket-messages", FittedTable)
        assert table.column_keys == ["date", "status", "from", "subject", "inbox"]
        assert str(table.get_row_at(0)[-1]).strip() == "support"


async def test_list_columns_follow_the_width(tmp_path: Path) -> None:
    """80 columns: ref, status, update date, caller and the title, which takes the rest; at 120 priority, class
    and org join in; every column ends inside the table (the scrollbar's cells kept free), again after a resize."""
    _, app = await open_tickets(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        table = app.screen.query_one("#tickets-table", FittedTable)

        def used() -> int:
            return sum(column.get_render_width(table) for column in table.columns.values())

        assert table.column_keys == ["ref", "status", "updated", "caller", "title"]
        assert used() == table.size.width - table.styles.scrollbar_size_vertical
        assert table.columns["title"].width >= 30  # was 17-19 before the columns were fitted
        cursor = table.current_key
        await pilot.resize_terminal(120, 36)
        await settle(pilot)
        assert table.column_keys == ["ref", "class", "status", "priority", "updated", "caller", "org", "title"]
        assert used() == table.size.width - table.styles.scrollbar_size_vertical
        assert table.row_count == 100 and table.current_key == cursor
        assert str(table.get_row("I-000001")[1]).strip() == "Incident"
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert table.column_keys == ["ref", "status", "updated", "caller", "title"]


def help_section(text: str, title: str) -> str:
    """The lines of one section of the help text: after its title, up to the blank line that ends it."""
    return text.split(f"\n{title}\n", 1)[1].split("\n\n", 1)[0]


async def test_footer_keeps_the_main_keys_at_80_and_help_lists_them_all(tmp_path: Path) -> None:
    _, app = await open_tickets(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        footer = screen_output(app)[0].splitlines()[-1]
        for key in ("/ Filter", "] Next page", "[ Prev page", "? Help"):
            assert key in footer, footer
        await pilot.press("enter")
        await settle(pilot)
        footer = screen_output(app)[0].splitlines()[-1]
        for key in ("esc Back", "s Stimulus", "l Log entry", "] Next tab", "[ Prev tab", "? Help"):
            assert key in footer, footer
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("VerticalScroll Static", Static).visual)
        for title, screen in (("3 Tickets", TicketsScreen), ("Ticket detail", TicketDetailScreen)):
            section = help_section(text, title)
            for binding in screen.BINDINGS:  # hidden from the footer (show=False) or not
                assert binding.description in section, (title, binding.description)
