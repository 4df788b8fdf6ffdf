"""Mode 3, Tickets: a paged list with filters (class, status, inbox, caller, org, text), opening the detail.

The filter is one line of `key:value` tokens plus words, e.g. `class:Incident status:new printer`.
Pages come from `services.list_tickets` in a thread worker (PAGE rows, one extra to know if more exist); a
page that fails to load leaves the last rows in place and says so in the info line (f5 retries). The table
shows the columns that fit its width (COLUMNS, widgets/columns.py) and lays them out again on a resize.
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
from ..services import TicketFilter, TicketSummary
from ..widgets.columns import ColumnSpec
from ..widgets.dates import compact
from ..widgets.filter_query import parse_filter
from ..widgets.fitted_table import FittedTable
from ..widgets.safe_text import safe_text
from .mode_screen import ModeScreen
from .ticket_detail import TicketDetailScreen

PAGE = 100
FILTER_KEYS = ("class", "status", "inbox", "caller", "org")
# By priority: at 80 columns ref, status, last update, caller and the title (which takes the rest, and keeps 34
# cells before more columns join); at 120 the ticket's priority, class and organisation join in, wider still its
# agent and team. The creation date is the detail's. Dates carry their year (widgets/dates.py).
COLUMNS = [ColumnSpec("ref", "Ref", 8), ColumnSpec("class", "Class", 11, priority=4),
           ColumnSpec("status", "Status", 8, priority=1), ColumnSpec("priority", "Prio", 8, priority=3),
           ColumnSpec("updated", "Updated", 10, priority=1), ColumnSpec("caller", "Caller", 14, priority=2),
           ColumnSpec("org", "Org", 14, priority=5), ColumnSpec("agent", "Agent", 14, priority=6),
           ColumnSpec("team", "Team", 12, priority=7), ColumnSpec("title", "Title", 24, flexible=True, preferred=34)]


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


def ticket_cells(ticket: TicketSummary) -> dict[str, Text]:
    """One list row, every column the table may show at some width (it picks those that fit)."""
    cells = {"ref": Text(ticket.ref, style="bold"), "class": Text(ticket.klass), "status": safe_text(ticket.status),
             "updated": Text(compact(ticket.updated)),
             "priority": safe_text(ticket.priority), "caller": safe_text(ticket.caller_email, limit=120),
             "org": safe_text(ticket.org, limit=60), "agent": safe_text(ticket.agent, limit=60),
             "team": safe_text(ticket.team, limit=60), "title": safe_text(ticket.title)}
    for cell in cells.values():
        cell.overflow = "ellipsis"  # a cut title or address says so
    return cells


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
        yield FittedTable(COLUMNS, id="tickets-table")
        yield Static("", id="tickets-info", markup=False)

    @property
    def table(self) -> FittedTable:
        return self.query_one("#tickets-table", FittedTable)

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
        self.table.show_rows([(t.ref, ticket_cells(t)) for t in message.rows])
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
