"""Mode 3, Tickets: a paged list with filters (class, status, inbox, caller, org, text), opening the detail.

The filter is one line of `key:value` tokens plus words, e.g. `class:Incident status:new printer`.
Pages come from `services.list_tickets` in a thread worker (PAGE rows, one extra to know if more exist), by
keyset: the next or previous page starts after or before the id of the last or first ticket shown, home and
end read the first and the last page (page down on the last row and page up on the first turn the page too),
so the last page costs what the first does. A page that fails to load leaves the last rows in place and says
so in the info line (f5 retries). The table
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
from ..widgets.paged_table import PagedTable
from ..widgets.safe_text import safe_text
from .mode_screen import ModeScreen

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
    """The filters and where the page starts: the first page, after or before a ticket id, or the last page."""

    filters: TicketFilter
    after: int | None = None
    before: int | None = None
    last: bool = False


class TicketsLoaded(Message):
    """`shown` is where the page really starts (a previous page that reached the top is the first page)."""

    def __init__(self, query: TicketQuery, shown: TicketQuery, rows: list, has_next: bool, has_previous: bool) -> None:
        super().__init__()
        self.query, self.shown, self.rows = query, shown, rows
        self.has_next, self.has_previous = has_next, has_previous


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
        self.ticket_query = TicketQuery(TicketFilter())
        self.has_more = False
        self.has_previous = False
        self.rows: list[TicketSummary] = []
        self.position: int | None = 0  # of the first row shown; None after `end` (the count is not kept)
        self.cursor_row: int | None = None  # where the page being loaded puts the cursor (-1: the last row)

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="/ filter: words, class:Incident status:new inbox:support caller:bob org:acme",
                    compact=True, id="tickets-filter")
        yield FittedTable(COLUMNS, id="tickets-table", store_pages=True)
        yield Static("", id="tickets-info", markup=False)

    @property
    def table(self) -> FittedTable:
        return self.query_one("#tickets-table", FittedTable)

    def on_mount(self) -> None:
        self.table.focus()
        self._load(self.ticket_query, 0)

    def _load(self, query: TicketQuery, position: int | None, cursor: int | None = None) -> None:
        self.ticket_query, self.position, self.cursor_row = query, position, cursor
        self._fetch(query)

    @work(thread=True, exclusive=True, exit_on_error=False, group="tickets-page", name="load tickets")
    def _fetch(self, query: TicketQuery) -> None:
        rows = self.services.list_tickets(query.filters, limit=PAGE + 1, after=query.after, before=query.before,
                                          last=query.last)
        if not (query.before is not None or query.last):
            self.post_message(TicketsLoaded(query, query, rows[:PAGE], len(rows) > PAGE, query.after is not None))
        elif len(rows) > PAGE or query.last:
            self.post_message(TicketsLoaded(query, query, rows[-PAGE:], query.before is not None, len(rows) > PAGE))
        else:  # back at the top: a whole first page rather than the few tickets left before the cursor
            rows = self.services.list_tickets(query.filters, limit=PAGE + 1)
            first = TicketQuery(query.filters)
            self.post_message(TicketsLoaded(query, first, rows[:PAGE], len(rows) > PAGE, False))

    def redraw_dates(self) -> None:
        self.table.show_rows([(t.ref, ticket_cells(t)) for t in self.rows])

    def on_tickets_loaded(self, message: TicketsLoaded) -> None:
        if message.query != self.ticket_query:
            return
        self.ticket_query, self.rows = message.shown, message.rows
        self.has_more, self.has_previous = message.has_next, message.has_previous
        if message.shown == TicketQuery(message.shown.filters):
            self.position = 0
        self.table.show_rows([(t.ref, ticket_cells(t)) for t in message.rows])
        if self.cursor_row is not None and message.rows:
            self.table.move_cursor(row=self.cursor_row % len(message.rows), animate=False)
        if not message.rows:
            info = "no ticket matches"
        elif self.position is None:
            info = f"the last {len(message.rows)} tickets"
        else:
            info = f"tickets {self.position + 1}-{self.position + len(message.rows)}"
        if message.has_next:
            info += " (more: ])"
        self.query_one("#tickets-info", Static).update(Text(info))

    def worker_failed(self, worker: Worker, line: str) -> None:
        if worker.group == "tickets-page":
            self.query_one("#tickets-info", Static).update(Text(f"{line} · f5 retries", style="red"))

    def engine_events(self, batch: list[Event]) -> None:
        first_page = self.ticket_query == TicketQuery(self.ticket_query.filters)
        if any(isinstance(e, MessageHandled) and e.ticket_ref for e in batch) and first_page:
            self._reload()

    @on(Input.Submitted, "#tickets-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self._load(TicketQuery(ticket_filter(event.value)), 0)
        self.table.focus()

    def action_focus_filter(self) -> None:
        self.query_one("#tickets-filter", Input).focus()

    def action_leave_input(self) -> None:
        """Escape: out of the filter (or a select) and back to the table, so the mode keys (1-4) and the
        screen's keys work again; what was typed stays. A Select's open menu takes Escape first (it closes)."""
        self.table.focus()

    def action_next_page(self) -> None:
        if self.has_more and self.rows:
            position = None if self.position is None else self.position + len(self.rows)
            self._load(TicketQuery(self.ticket_query.filters, after=self.rows[-1].id), position, cursor=0)

    def action_previous_page(self) -> None:
        if self.has_previous and self.rows:
            position = None if self.position is None else max(0, self.position - PAGE)
            self._load(TicketQuery(self.ticket_query.filters, before=self.rows[0].id), position, cursor=-1)

    @on(PagedTable.PageWanted, "#tickets-table")
    def _page_wanted(self, event: PagedTable.PageWanted) -> None:
        """Page down on the last row, page up on the first, home (the newest tickets), end (the oldest)."""
        if event.where == "next":
            self.action_next_page()
        elif event.where == "previous":
            self.action_previous_page()
        elif event.where == "first":
            self._load(TicketQuery(self.ticket_query.filters), 0, cursor=0)
        else:
            self._load(TicketQuery(self.ticket_query.filters, last=True), None, cursor=-1)

    def action_reload(self) -> None:
        self._reload()

    def _reload(self) -> None:
        """The page shown, read again from where it starts (the cursor stays on its ticket)."""
        self._load(self.ticket_query, self.position)

    def action_open_ticket(self) -> None:
        from .ticket_detail import TicketDetailScreen  # with its image support, not needed before it opens

        ref = self.table.current_key
        if ref:
            self.app.push_screen(TicketDetailScreen(ref), lambda _: self._reload())

    @on(DataTable.RowSelected, "#tickets-table")
    def _row_selected(self, _: DataTable.RowSelected) -> None:
        """Enter on the table (the DataTable consumes the key and says which row)."""
        self.action_open_ticket()
