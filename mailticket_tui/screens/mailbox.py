"""Mode 2, Mailbox: the messages of one inbox joined with the store's state, a page at a time.

Never loads the whole folder: `services.list_messages` returns one page (PAGE rows, one extra to know if
there is a next page) in a thread worker. Rows update in place by key when the engine reports messages of
this inbox. Multi-select (space, a for the page) is kept by message id across pages and filters, counted
in the info line, and feeds reset / ignore / delete (all selected messages, not only the page's), each
confirmed and followed by the outcome per message. Enter opens the message detail (headers, decision trace,
replay, save .eml).

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
from ..services import reason_class
from ..widgets.columns import ColumnSpec
from ..widgets.dates import compact
from ..widgets.fitted_table import FittedTable
from ..widgets.safe_text import clean, safe_text
from .confirm import ConfirmScreen
from .message_detail import MessageDetailScreen
from .mode_screen import ModeScreen
from .outcome import OutcomeScreen

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
    offset: int


class MessagesLoaded(Message):
    def __init__(self, query: Query, rows: list, has_more: bool, total: int | None) -> None:
        super().__init__()
        self.query, self.rows, self.has_more, self.total = query, rows, has_more, total


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
        self.query_state = Query("", "", "", 0)
        # selected message id -> its row when last seen (the confirmation names messages of other pages too)
        self.selected: dict[int, object] = {}
        self.rows: dict[int, object] = {}
        self.page_info = ""
        self.page_failed = False  # the last load failed: page_info says why, the rows shown are stale
        self.inbox_names: list[str] = []
        self.has_more = False
        self.total: int | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="mailbox-bar"):
            yield Select([], prompt="inbox", compact=True, id="mailbox-inbox")
            yield Select([(s, s) for s in STATUSES], prompt="any status", compact=True, id="mailbox-status")
            yield Input(placeholder="/ filter: words in subject, from, error (status:error)", compact=True,
                        id="mailbox-filter")
        yield FittedTable(COLUMNS, id="mailbox-table")
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
        self.query_state = Query(inbox, status, "", 0)
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
            self.app.push_screen(MessageDetailScreen(message_id))
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
            self.query_state = Query(names[0], self.query_state.status, self.query_state.text, 0)
            with self.prevent(Select.Changed):
                select.value = names[0]

    def _load(self, recount: bool = True) -> None:
        """Load the current page; `recount` also refreshes the total (a GROUP BY over the whole table,
        ~60 ms at 100k rows: done when the filter or the data changed, not on every page turn)."""
        self._fetch(self.query_state, recount or self.total is None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="mailbox-page", name="load messages")
    def _fetch(self, query: Query, recount: bool) -> None:
        if not query.inbox:
            self.post_message(MessagesLoaded(query, [], False, 0))
            return
        rows = self.services.list_messages(query.inbox, query.status, query.text, query.offset, PAGE + 1,
                                          by_date=True)
        total = self.total
        if recount and not query.text:
            counts = next((i.counts for i in self.services.list_inboxes() if i.name == query.inbox), {})
            total = counts.get(query.status, 0) if query.status else sum(counts.values())
        elif query.text:
            total = None
        self.post_message(MessagesLoaded(query, rows[:PAGE], len(rows) > PAGE, total))

    def on_messages_loaded(self, message: MessagesLoaded) -> None:
        if message.query != self.query_state:
            return  # an answer to a query the user has since changed
        self.rows = {r.id: r for r in message.rows}
        self.has_more, self.total = message.has_more, message.total
        self.table.show_rows([(str(r.id), self._cells(r)) for r in message.rows])
        first = message.query.offset + 1 if message.rows else 0
        last = message.query.offset + len(message.rows)
        info = f"{clean(message.query.inbox) or 'no inbox'} · rows {first}-{last}"
        if message.total is not None:
            info += f" of {message.total}"
        elif message.has_more:
            info += " (more: ])"
        self.page_info, self.page_failed = info, False
        for message_id in self.selected.keys() & self.rows.keys():
            self.selected[message_id] = self.rows[message_id]  # fresher subject for the confirmation
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

    def engine_events(self, batch: list[Event]) -> None:
        if any(isinstance(e, MessageHandled) and e.inbox == self.query_state.inbox for e in batch):
            self._load()

    # -- filters and paging ------------------------------------------------------------------------------------
    @on(Select.Changed, "#mailbox-inbox")
    def _inbox_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.query_state.inbox:
            self.selected.clear()
            self.query_state = Query(event.value, self.query_state.status, self.query_state.text, 0)
            self._load()

    @on(Select.Changed, "#mailbox-status")
    def _status_changed(self, event: Select.Changed) -> None:
        status = event.value if isinstance(event.value, str) else ""
        self.query_state = Query(self.query_state.inbox, status, self.query_state.text, 0)
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
        self.query_state = Query(self.query_state.inbox, status, text, 0)
        self._load()
        self.table.focus()

    def action_focus_filter(self) -> None:
        self.query_one("#mailbox-filter", Input).focus()

    def action_leave_input(self) -> None:
        """Escape: out of the filter (or a select) and back to the table, so the mode keys (1-4) and the
        screen's keys work again; what was typed stays. A Select's open menu takes Escape first (it closes)."""
        self.table.focus()

    def action_next_page(self) -> None:
        if self.has_more:
            q = self.query_state
            self.query_state = Query(q.inbox, q.status, q.text, q.offset + PAGE)
            self._load(recount=False)

    def action_previous_page(self) -> None:
        q = self.query_state
        if q.offset:
            self.query_state = Query(q.inbox, q.status, q.text, max(0, q.offset - PAGE))
            self._load(recount=False)

    def action_reload(self) -> None:
        self._load_inbox_names()
        self._load()

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
            self._load()

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
        self.app.push_screen(OutcomeScreen(message.title, message.results))
        self._load()

    def worker_failed(self, worker: Worker, line: str) -> None:
        """A failed page keeps its rows but says they are stale; a failed action may have changed some
        messages before it stopped, so the page is reloaded (the selection stays, to retry)."""
        if worker.group == "mailbox-page":
            self.page_info, self.page_failed = f"{line} · f5 retries", True
            self._show_info()
        elif worker.group == "mailbox-act":
            self._load()

    def action_open_message(self) -> None:
        key = self.table.current_key
        if key is not None:
            self.app.push_screen(MessageDetailScreen(int(key)))

    @on(DataTable.RowSelected, "#mailbox-table")
    def _row_selected(self, _: DataTable.RowSelected) -> None:
        """Enter on the table (the DataTable consumes the key and says which row)."""
        self.action_open_message()
