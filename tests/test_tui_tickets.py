"""Tickets mode: paged list with key:value filters, the detail (overview, case log, contacts, attachments,
history, source mails), stimuli the lifecycle allows, case log entries, saving an attachment.
"""
from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, OptionList, Static, TabbedContent, TextArea

from mailticket_tui.app import build_app
from mailticket_tui.screens.choice import ChoiceScreen
from mailticket_tui.screens.log_entry import LogEntryScreen
from mailticket_tui.screens.mailbox import MailboxScreen
from mailticket_tui.screens.message_detail import MessageDetailScreen
from mailticket_tui.screens.save_file import SaveFileScreen
from mailticket_tui.screens.ticket_detail import TicketDetailScreen
from mailticket_tui.screens.tickets import TicketsScreen, ticket_filter
from mailticket_tui.services import TicketFilter
from mailticket_tui.store.models import Ticket

from .test_tui_support import add_messages, add_ticket, maildir_inbox, make_maildir, open_store, settle


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
        assert "Network down: description" in overview and "bob@acme.example" in overview
        assert "It still jams." in str(detail.query_one("#ticket-caselog", Static).visual)

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


async def test_source_mail_jumps_to_the_mailbox(tmp_path: Path, monkeypatch) -> None:
    services = open_store(tmp_path, maildir_inbox("support", make_maildir(tmp_path / "M"))
                          + maildir_inbox("sales", make_maildir(tmp_path / "S")))
    ticket = add_ticket("R-000001", inbox="support")
    add_messages("support", 2)
    [message_id] = add_messages("sales", 1, ticket=ticket)  # the ticket's mail came through another inbox
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
        app.screen.query_one(TabbedContent).active = "messages"
        options = app.screen.query_one("#ticket-messages", OptionList)
        assert "sales" in str(options.get_option_at_index(0).prompt)
        options.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MessageDetailScreen) and app.screen.message_id == message_id
        assert details == [message_id]  # only the detail screen's own load: the jump knew the inbox
        await pilot.press("escape")
        assert isinstance(app.screen, MailboxScreen)
        assert app.screen.query_state.inbox == "sales"
