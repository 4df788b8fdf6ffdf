"""Mode 3, Tickets: a paged list with filters (class, status, inbox, caller, org, text), opening the detail.

The filter is one line of `key:value` tokens plus words, e.g. `class:Incident status:new printer`.
Pages come from `services.list_tickets` in a thread worker (PAGE rows, one extra to know if more exist); a
page that fails to load leaves the last rows in place and says so in the info line (f5 retries).
"""
from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Input, Static
from textual.worker import Worker

from ..engine.events import Event, MessageHandled
from ..services import TicketFilter
from ..widgets.filter_query import parse_filter
from ..widgets.paged_table import PagedTable
from ..widgets.safe_text import safe_text
from .mode_screen import ModeScreen
from .ticket_detail import TicketDetailScreen

PAGE = 100
FILTER_KEYS = ("class", "status", "inbox", "caller", "org")
COLUMNS = [("ref", "Ref", 9), ("class", "Class", 11), ("status", "Status", 9), ("caller", "Caller", 24),
           ("title", "Title", 40), ("updated", "Updated", 16), ("org", "Org", 16)]


@dataclass(frozen=True)
class TicketQuery:
    filters: TicketFilter
    offset: int


class TicketsLoaded(Message):
    def __init__(self, query: TicketQuery, rows: list, has_more: bool) -> None:
        super().__init__()
        self.query, self.rows, self.has_more = query, rows, has_more


def ticket_filter(text: str) -> TicketFilter:
    fields, words = parse_filter(text, FILTER_KEYS)
    return TicketFilter(klass=fields.get("class", ""), status=fields.get("status", ""), caller=fields.get("caller", ""),
                        org=fields.get("org", ""), inbox=fields.get("inbox", ""), text=words)


class TicketsScreen(ModeScreen):
    CSS_PATH = "tickets.tcss"
    BINDINGS = [
        Binding("enter", "open_ticket", "Detail"),
        Binding("slash", "focus_filter", "Filter", key_display="/"),
        Binding("right_square_bracket", "next_page", "Next page", key_display="]"),
        Binding("left_square_bracket", "previous_page", "Prev page", key_display="["),
        Binding("f5,ctrl+l", "reload", "Refresh"),
        Binding("escape", "leave_input", "Back to the table", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.ticket_query = TicketQuery(TicketFilter(), 0)
        self.has_more = False

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="/ filter: words, class:Incident status:new inbox:support caller:bob org:acme",
                    compact=True, id="tickets-filter")
        yield PagedTable(COLUMNS, id="tickets-table")
        yield Static("", id="tickets-info", markup=False)

    @property
    def table(self) -> PagedTable:
        return self.query_one("#tickets-table", PagedTable)

    def on_mount(self) -> None:
        self.table.focus()
        self._fetch(self.ticket_query)

    @work(thread=True, exclusive=True, exit_on_error=False, group="tickets-page", name="load tickets")
    def _fetch(self, query: TicketQuery) -> None:
        rows = self.services.list_tickets(query.filters, query.offset, PAGE + 1)
        self.post_message(TicketsLoaded(query, rows[:PAGE], len(rows) > PAGE))

    def on_tickets_loaded(self, message: TicketsLoaded) -> None:
        if message.query != self.ticket_query:
            return
        self.has_more = message.has_more
        self.table.show_page([(t.ref, [
            Text(t.ref, style="bold"), Text(t.klass), Text(t.status), safe_text(t.caller_email, limit=120),
            safe_text(t.title), Text(t.updated[:16]), safe_text(t.org, limit=60)]) for t in message.rows])
        offset = message.query.offset
        info = (f"tickets {offset + 1}-{offset + len(message.rows)}" if message.rows else "no ticket matches")
        if message.has_more:
            info += " (more: ])"
        self.query_one("#tickets-info", Static).update(Text(info))

    def worker_failed(self, worker: Worker, line: str) -> None:
        if worker.group == "tickets-page":
            self.query_one("#tickets-info", Static).update(Text(f"{line} · f5 retries", style="red"))

    def engine_events(self, batch: list[Event]) -> None:
        if any(isinstance(e, MessageHandled) and e.ticket_ref for e in batch) and self.ticket_query.offset == 0:
            self._fetch(self.ticket_query)

    @on(Input.Submitted, "#tickets-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.ticket_query = TicketQuery(ticket_filter(event.value), 0)
        self._fetch(self.ticket_query)
        self.table.focus()

    def action_focus_filter(self) -> None:
        self.query_one("#tickets-filter", Input).focus()

    def action_leave_input(self) -> None:
        """Escape: out of the filter (or a select) and back to the table, so the mode keys (1-4) and the
        screen's keys work again; what was typed stays. A Select's open menu takes Escape first (it closes)."""
        self.table.focus()

    def action_next_page(self) -> None:
        if self.has_more:
            self.ticket_query = TicketQuery(self.ticket_query.filters, self.ticket_query.offset + PAGE)
            self._fetch(self.ticket_query)

    def action_previous_page(self) -> None:
        if self.ticket_query.offset:
            self.ticket_query = TicketQuery(self.ticket_query.filters, max(0, self.ticket_query.offset - PAGE))
            self._fetch(self.ticket_query)

    def action_reload(self) -> None:
        self._fetch(self.ticket_query)

    def action_open_ticket(self) -> None:
        ref = self.table.current_key
        if ref:
            self.app.push_screen(TicketDetailScreen(ref), lambda _: self._fetch(self.ticket_query))

    @on(DataTable.RowSelected, "#tickets-table")
    def _row_selected(self, _: DataTable.RowSelected) -> None:
        """Enter on the table (the DataTable consumes the key and says which row)."""
        self.action_open_ticket()
