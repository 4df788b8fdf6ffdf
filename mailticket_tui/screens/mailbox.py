"""Mode 2, Mailbox: the messages of one inbox joined with the store's state, a page at a time.

Never loads the whole folder: `services.list_messages` returns one keyset page (PAGE rows, one extra to know
if there is another page that way) in a thread worker: the next or previous page starts after or before the
cursor of the first or last row shown, home and end read the first and the last page, each as fast as the
others (page down on the last row and page up on the first turn the page too; ] and [ as well). The count for
"rows 201-300 of 100000" is taken by a second worker once the page is shown. Rows update in place by key when
the engine reports messages of this inbox. Multi-select (space, a for the page) is kept by message id across
pages and filters, counted in the info line, and feeds reset / ignore / delete (all selected messages, not
only the page's), each confirmed and followed by the outcome per message. Enter opens the message detail
(headers, decision trace, replay, save .eml), imported when it first opens.

Messages are named by their store id (`#`, the first column: what `mailticket messages reset|ignore|delete ID`
takes), never by the server's UID or file name, which the detail shows as a separate, labelled field. A page
that fails to load leaves the last rows in place and says so in the info line (f5 retries).
"""
from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Input, Select, Static
from textual.worker import Worker

from ..engine.events import Event, MessageHandled
from ..widgets.filter_query import parse_filter
from ..services import MessageCursor, reason_class
from ..widgets.columns import ColumnSpec
from ..widgets.dates import compact
from ..widgets.fitted_table import FittedTable
from ..widgets.paged_table import PagedTable
from ..widgets.safe_text import clean, safe_text
from .mode_screen import ModeScreen

PAGE = 100
STATUSES = ("new", "processed", "error", "undesired", "ignored", "duplicate")
STATUS_STYLE = {"error": "bold red", "undesired": "yellow", "ignored": "dim", "new": "cyan", "processed": "green",
                "duplicate": "dim green"}
# "#" first: the store id is what every action and the CLI take (a ✓ before it marks a selected message).
# At 80 columns all of these fit; wider terminals give the room to the subject, the sender and the error.
COLUMNS = [ColumnSpec("id", "#", 6), ColumnSpec("status", "Status", 9), ColumnSpec("date", "Date", 10, 1),
           ColumnSpec("from", "From", 10, 1, flexible=True, max_width=32), ColumnSpec("subject", "Subject", 14,
           flexible=True), ColumnSpec("ticket", "Ticket", 8, 1), ColumnSpec("error", "Error", 14, 1, flexible=True)]
SHORT_ERROR = 40  # an Error column narrower than this shows the reason's class ("unknown caller")


@dataclass(frozen=True)
class Query:
    inbox: str
    status: str
    text: str


@dataclass(frozen=True)
class PageAt:
    """Where a page starts: the first page (no cursor), after or before a row's cursor, or the last page."""

    query: Query
    after: MessageCursor | None = None
    before: MessageCursor | None = None
    last: bool = False

    @property
    def backward(self) -> bool:
        return self.before is not None or self.last


class MessagesLoaded(Message):
    """`asked` is the request (stale when the user asked for another since); `shown` where the page really
    starts (a previous page that reached the top is the first page)."""

    def __init__(self, asked: PageAt, shown: PageAt, rows: list, has_next: bool, has_previous: bool) -> None:
        super().__init__()
        self.asked, self.shown, self.rows = asked, shown, rows
        self.has_next, self.has_previous = has_next, has_previous


class MessagesCounted(Message):
    """How many rows match the page's query, and how many come before its first row."""

    def __init__(self, page: PageAt, total: int, position: int) -> None:
        super().__init__()
        self.page, self.total, self.position = page, total, position


class MessagesActed(Message):
    def __init__(self, title: str, results: list) -> None:
        super().__init__()
        self.title, self.results = title, results


class ServerScanned(Message):
    def __init__(self, inbox: str, line: str, failed: bool) -> None:
        super().__init__()
        self.inbox, self.line, self.failed = inbox, line, failed


class MailboxScreen(ModeScreen):
    CSS_PATH = "mailbox.tcss"
    BINDINGS = [
        Binding("enter", "open_message", "Detail", show=False),
        Binding("space", "toggle_selection", "Select"),
        Binding("a", "select_page", "Select page", show=False),
        Binding("u", "clear_selection", "Unselect all", show=False),
        Binding("r", "reset_messages", "Reset"),
        Binding("i", "ignore_messages", "Ignore"),
        Binding("d", "delete_messages", "Delete"),
        Binding("right_square_bracket", "next_page", "Next page", key_display="]", show=False),
        Binding("left_square_bracket", "previous_page", "Prev page", key_display="[", show=False),
        Binding("slash", "focus_filter", "Filter", key_display="/"),
        Binding("f5,ctrl+l", "reload", "Refresh", show=False),
        Binding("s", "scan_server", "Scan"),
        Binding("escape", "leave_input", "Back to the table", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.query_state = Query("", "", "")
        self.page = PageAt(self.query_state)  # the page shown (or being loaded): what a reload reads again
        # selected message id -> its row when last seen (the confirmation names messages of other pages too)
        self.selected: dict[int, object] = {}
        self.rows: dict[int, object] = {}
        self.page_info = ""
        self.page_failed = False  # the last load failed: page_info says why, the rows shown are stale
        self.inbox_names: list[str] = []
        self.has_more = False  # a next page exists
        self.has_previous = False
        self.total: int | None = None
        self.position: int | None = None  # of the first row shown, 0 on the first page; None until counted
        self.cursor_row: int | None = None  # where the page being loaded puts the cursor (-1: the last row)

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="mailbox-bar"):
            yield Select([], prompt="inbox", compact=True, id="mailbox-inbox")
            yield Select([(s, s) for s in STATUSES], prompt="any status", compact=True, id="mailbox-status")
            yield Input(placeholder="/ filter: words in subject, from, error (status:error)", compact=True,
                        id="mailbox-filter")
        yield FittedTable(COLUMNS, id="mailbox-table", store_pages=True)
        yield Static("", id="mailbox-info", markup=False)

    @property
    def table(self) -> FittedTable:
        return self.query_one("#mailbox-table", FittedTable)

    def on_mount(self) -> None:
        self.table.focus()
        self._load_inbox_names()
        self._load()

    def on_screen_resume(self) -> None:
        if self.is_mounted:  # an inbox may have been added, renamed or deleted in the Inboxes mode
            shown = self.query_state.inbox
            self._load_inbox_names()
            if self.query_state.inbox != shown:
                self._load()

    # -- public --------------------------------------------------------------------------------------------
    def show_inbox(self, inbox: str, message_id: int | None = None, status: str | None = None) -> None:
        """Show `inbox` from its first page; open `message_id`'s detail when given; only the messages in
        `status` when given (the Inboxes mode's `x` shows an inbox's errors this way)."""
        if status is None:
            status = "" if message_id else self.query_state.status
        self.query_state = Query(inbox, status, "")
        self.selected.clear()
        select = self.query_one("#mailbox-inbox", Select)
        if inbox in self.inbox_names:
            select.value = inbox
        status_select = self.query_one("#mailbox-status", Select)
        with self.prevent(Select.Changed):
            if status:
                status_select.value = status
            else:
                status_select.clear()
        self.query_one("#mailbox-filter", Input).value = ""
        if message_id is not None:
            self._open_detail(message_id)
        self._load()

    # -- loading ---------------------------------------------------------------------------------------------
    def _load_inbox_names(self) -> None:
        """From the settings in memory (no query: counting per inbox costs ~60 ms at 100k messages)."""
        names = sorted(i.name for i in self.services.settings.inboxes)
        self.inbox_names = names
        select = self.query_one("#mailbox-inbox", Select)
        with self.prevent(Select.Changed):
            select.set_options([(safe_text(n, limit=40), n) for n in names])
            if self.query_state.inbox in names:
                select.value = self.query_state.inbox
        if self.query_state.inbox not in names and names:  # none yet, or the shown one is gone
            self.selected.clear()
            self.query_state = Query(names[0], self.query_state.status, self.query_state.text)
            with self.prevent(Select.Changed):
                select.value = names[0]

    def _load(self, page: PageAt | None = None, position: int | None = 0, cursor: int | None = None) -> None:
        """Load `page` (by default the current query's first page), whose first row is expected at `position`
        (None: unknown until counted), and put the cursor on row `cursor` (-1: the last; None: on the row it
        was on if still shown). The count follows once the page is shown."""
        if page is None or page.query != self.query_state:
            page, position = PageAt(self.query_state), 0
        if page.query != self.page.query:
            self.total = None
        self.page, self.position, self.cursor_row = page, position, cursor
        self._fetch(page)

    def _reload(self) -> None:
        """The page shown, read again from where it starts (new mail shows on the first page)."""
        self._load(self.page, self.position)

    @work(thread=True, exclusive=True, exit_on_error=False, group="mailbox-page", name="load messages")
    def _fetch(self, page: PageAt) -> None:
        query = page.query
        if not query.inbox:
            self.post_message(MessagesLoaded(page, page, [], False, False))
            return
        rows = self.services.list_messages(query.inbox, query.status, query.text, limit=PAGE + 1, by_date=True,
                                          after=page.after, before=page.before, last=page.last)
        if page.after is not None and not rows:  # the rows after it are gone: the last page
            rows, page_shown = self.services.list_messages(query.inbox, query.status, query.text, limit=PAGE + 1,
                                                           by_date=True, last=True), PageAt(query, last=True)
            self.post_message(MessagesLoaded(page, page_shown, rows[-PAGE:], False, len(rows) > PAGE))
        elif not page.backward:
            self.post_message(MessagesLoaded(page, page, rows[:PAGE], len(rows) > PAGE, page.after is not None))
        elif len(rows) > PAGE or page.last:
            self.post_message(MessagesLoaded(page, page, rows[-PAGE:], page.before is not None, len(rows) > PAGE))
        else:  # back at the top: a whole first page rather than the few rows left before the cursor
            rows = self.services.list_messages(query.inbox, query.status, query.text, limit=PAGE + 1, by_date=True)
            self.post_message(MessagesLoaded(page, PageAt(query), rows[:PAGE], len(rows) > PAGE, False))

    def on_messages_loaded(self, message: MessagesLoaded) -> None:
        if message.asked != self.page:
            return  # an answer to a page or a query the user has since left
        self.page = message.shown
        self.rows = {r.id: r for r in message.rows}
        self.has_more, self.has_previous = message.has_next, message.has_previous
        if message.shown == PageAt(message.shown.query):
            self.position = 0
        elif message.shown.last:
            self.position = None if self.total is None else max(0, self.total - len(message.rows))
        self.table.show_rows([(str(r.id), self._cells(r)) for r in message.rows])
        if self.cursor_row is not None and message.rows:
            self.table.move_cursor(row=self.cursor_row % len(message.rows), animate=False)
        self.page_failed = False
        for message_id in self.selected.keys() & self.rows.keys():
            self.selected[message_id] = self.rows[message_id]  # fresher subject for the confirmation
        if message.rows:
            self._count(message.shown, message.rows[0].cursor)
        else:  # only a first page comes back empty (other pages fall back to the first or the last)
            self.total = 0
        self._describe_page()

    @work(thread=True, exclusive=True, exit_on_error=False, group="mailbox-count", name="count messages")
    def _count(self, page: PageAt, first: MessageCursor) -> None:
        """Off the first paint: a count reads every matching index entry (~10 ms at 100,000 messages)."""
        query = page.query
        total = self.services.count_messages(query.inbox, query.status, query.text)
        position = self.services.count_messages(query.inbox, query.status, query.text, before=first)
        self.post_message(MessagesCounted(page, total, position))

    def on_messages_counted(self, message: MessagesCounted) -> None:
        if message.page == self.page:
            self.total, self.position = message.total, message.position
            self._describe_page()

    def _describe_page(self) -> None:
        """`inbox · rows 201-300 of 1234`: what is known; the count completes it once it lands."""
        info = f"{clean(self.page.query.inbox) or 'no inbox'} · "
        if self.position is None:
            info += f"{'the last ' if self.page.last else ''}{len(self.rows)} rows"
        else:
            info += f"rows {self.position + 1 if self.rows else 0}-{self.position + len(self.rows)}"
        if self.total is not None:
            info += f" of {self.total}"
        elif self.has_more:
            info += " (more: ])"
        self.page_info = info
        self._show_info()

    def _show_info(self) -> None:
        info = Text(self.page_info, style="red" if self.page_failed else "")
        if self.selected:
            on_page = len(self.selected.keys() & self.rows.keys())
            info.append(f" · {len(self.selected)} selected", style="bold")
            if on_page != len(self.selected):
                info.append(f" ({on_page} on this page; u unselects all)")
        self.query_one("#mailbox-info", Static).update(info)

    def _cells(self, r) -> dict[str, Text]:
        error_width = next((width for key, _, width in self.table._columns if key == "error"), 0)
        error = r.error if error_width >= SHORT_ERROR or not r.error else reason_class(r.error)
        return {"id": Text(f"{'✓' if r.id in self.selected else ' '}{r.id}", style="bold"),
                "status": Text(r.status, style=STATUS_STYLE.get(r.status, "")), "date": Text(compact(r.date)),
                "from": safe_text(r.from_addr, limit=120), "subject": safe_text(r.subject),
                "ticket": Text(r.ticket_ref or ""), "error": safe_text(error, "red")}

    def redraw_dates(self) -> None:
        self.table.show_rows([(str(r.id), self._cells(r)) for r in self.rows.values()])

    def engine_events(self, batch: list[Event]) -> None:
        if any(isinstance(e, MessageHandled) and e.inbox == self.query_state.inbox for e in batch):
            self._reload()

    # -- filters and paging ------------------------------------------------------------------------------------
    @on(Select.Changed, "#mailbox-inbox")
    def _inbox_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.query_state.inbox:
            self.selected.clear()
            self.query_state = Query(event.value, self.query_state.status, self.query_state.text)
            self._load()

    @on(Select.Changed, "#mailbox-status")
    def _status_changed(self, event: Select.Changed) -> None:
        status = event.value if isinstance(event.value, str) else ""
        self.query_state = Query(self.query_state.inbox, status, self.query_state.text)
        self._load()

    @on(Input.Submitted, "#mailbox-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        fields, text = parse_filter(event.value, ("status",))
        status = fields.get("status", "")
        if status and status not in STATUSES:
            self.notify(f"unknown status {clean(status)!r}; use one of {', '.join(STATUSES)}", severity="warning",
                        markup=False)
            return
        select = self.query_one("#mailbox-status", Select)
        with self.prevent(Select.Changed):
            if status:
                select.value = status
            else:
                select.clear()
        self.query_state = Query(self.query_state.inbox, status, text)
        self._load()
        self.table.focus()

    def action_focus_filter(self) -> None:
        self.query_one("#mailbox-filter", Input).focus()

    def action_leave_input(self) -> None:
        """Escape: out of the filter (or a select) and back to the table, so the mode keys (1-4) and the
        screen's keys work again; what was typed stays. A Select's open menu takes Escape first (it closes)."""
        self.table.focus()

    def action_next_page(self) -> None:
        """The rows after the last one shown (none: stay)."""
        if self.has_more and self.rows:
            last = list(self.rows.values())[-1]
            position = None if self.position is None else self.position + len(self.rows)
            self._load(PageAt(self.query_state, after=last.cursor), position, cursor=0)

    def action_previous_page(self) -> None:
        """The rows before the first one shown; near the top, the first page."""
        if self.has_previous and self.rows:
            first = next(iter(self.rows.values()))
            position = None if self.position is None else max(0, self.position - PAGE)
            self._load(PageAt(self.query_state, before=first.cursor), position, cursor=-1)

    def action_first_page(self) -> None:
        self._load(PageAt(self.query_state), cursor=0)

    def action_last_page(self) -> None:
        """The oldest rows, read backwards from the end of the order (no OFFSET)."""
        self._load(PageAt(self.query_state, last=True), None, cursor=-1)

    @on(PagedTable.PageWanted, "#mailbox-table")
    def _page_wanted(self, event: PagedTable.PageWanted) -> None:
        """Page down on the last row, page up on the first, home, end."""
        {"next": self.action_next_page, "previous": self.action_previous_page, "first": self.action_first_page,
         "last": self.action_last_page}[event.where]()

    def action_reload(self) -> None:
        self._load_inbox_names()
        self._reload()

    def action_scan_server(self) -> None:
        """Join the server folder's live content with the store: unseen mail shows up as new now."""
        if self.query_state.inbox:
            self.notify(f"scanning {clean(self.query_state.inbox)}…", markup=False)
            self._scan(self.query_state.inbox)

    @work(thread=True, exclusive=True, exit_on_error=False, group="mailbox-scan", name="scan the server")
    def _scan(self, inbox: str) -> None:
        result = self.services.scan_mailbox(inbox)
        line = result.note or (f"{result.listed} on the server: {result.recorded} new shown, "
                               f"{result.vanished} gone since the last look")
        self.post_message(ServerScanned(inbox, line, bool(result.note)))

    def on_server_scanned(self, message: ServerScanned) -> None:
        self.notify(clean(f"{message.inbox}: {message.line}"), markup=False,
                    severity="warning" if message.failed else "information")
        if message.inbox == self.query_state.inbox:
            self._reload()

    # -- selection and actions -----------------------------------------------------------------------------------
    def action_toggle_selection(self) -> None:
        key = self.table.current_key
        if key is None:
            return
        message_id = int(key)
        if self.selected.pop(message_id, None) is None and message_id in self.rows:
            self.selected[message_id] = self.rows[message_id]
        if message_id in self.rows:
            self.table.update_cells(key, self._cells(self.rows[message_id]))
        if self.table.cursor_row < self.table.row_count - 1:
            self.table.move_cursor(row=self.table.cursor_row + 1)
        self._show_info()

    def action_select_page(self) -> None:
        """Select this page's rows; when they all are, unselect them (other pages' selection stays)."""
        if self.rows.keys() <= self.selected.keys():
            for message_id in self.rows:
                del self.selected[message_id]
        else:
            self.selected.update(self.rows)
        for message_id, row in self.rows.items():
            self.table.update_cells(str(message_id), self._cells(row))
        self._show_info()

    def action_clear_selection(self) -> None:
        self.selected.clear()
        for message_id, row in self.rows.items():
            self.table.update_cells(str(message_id), self._cells(row))
        self._show_info()

    def _targets(self) -> list[int]:
        if self.selected:
            return sorted(self.selected)
        key = self.table.current_key
        return [int(key)] if key is not None else []

    def _confirm(self, verb: str, explain: str, action: str) -> None:
        ids = self._targets()
        if not ids:
            self.notify("No message selected.", severity="warning")
            return
        question = Text.assemble((f"{verb} {len(ids)} message(s)?", "bold"), f"\n{explain}\n")
        for message_id in ids[:8]:
            row = self.rows.get(message_id) or self.selected.get(message_id)
            question.append(f"\n#{message_id} ")
            if row is not None:
                question.append(clean(row.subject, limit=60))
        if len(ids) > 8:
            question.append(f"\n… and {len(ids) - 8} more")
        from .confirm import ConfirmScreen

        self.app.push_screen(ConfirmScreen(question, verb),
                             lambda yes: yes and self._act(action, verb, ids))

    def action_reset_messages(self) -> None:
        self._confirm("Reset", "They go back to new and are processed on the next pass; "
                               "a message that fed a ticket keeps feeding that ticket.", "reset_messages")

    def action_ignore_messages(self) -> None:
        self._confirm("Ignore", "They are left alone from now on (kept on the server).", "ignore_messages")

    def action_delete_messages(self) -> None:
        self._confirm("Delete", "They are deleted from the mail server, then from the store.", "delete_messages")

    @work(thread=True, exclusive=True, exit_on_error=False, group="mailbox-act", name="change the messages")
    def _act(self, action: str, verb: str, ids: list[int]) -> None:
        self.post_message(MessagesActed(verb, getattr(self.services, action)(ids)))

    def on_messages_acted(self, message: MessagesActed) -> None:
        self.selected.clear()
        from .outcome import OutcomeScreen

        self.app.push_screen(OutcomeScreen(message.title, message.results))
        self._reload()

    def worker_failed(self, worker: Worker, line: str) -> None:
        """A failed page keeps its rows but says they are stale; a failed action may have changed some
        messages before it stopped, so the page is reloaded (the selection stays, to retry)."""
        if worker.group == "mailbox-page":
            self.page_info, self.page_failed = f"{line} · f5 retries", True
            self._show_info()
        elif worker.group == "mailbox-act":
            self._reload()

    def action_open_message(self) -> None:
        key = self.table.current_key
        if key is not None:
            self._open_detail(int(key))

    def _open_detail(self, message_id: int) -> None:
        """Imported here: the detail (and the image support it brings) is not needed for the first paint."""
        from .message_detail import MessageDetailScreen

        self.app.push_screen(MessageDetailScreen(message_id))

    @on(DataTable.RowSelected, "#mailbox-table")
    def _row_selected(self, _: DataTable.RowSelected) -> None:
        """Enter on the table (the DataTable consumes the key and says which row)."""
        self.action_open_message()
