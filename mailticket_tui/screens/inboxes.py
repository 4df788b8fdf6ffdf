"""Mode 1, Inboxes: the list of inboxes with their health, and the actions on one inbox.

Health comes from `services.health()`: a line at the top says what needs attention (or that nothing does);
per inbox the connection (ok with the lag since the last success, FAILING xN, stale, never polled) and the
messages (errors first with their main reasons, e.g. "18 err (12 unknown caller, 6 too big)") are separate
columns, both visible at 80 columns; the info line below shows the highlighted inbox in full.

Edit/new open the InboxFormScreen (validation there); `g` opens the app's global settings form (also in the
command palette). Saving (a rename first when the name changed), deleting, toggling and testing run in
thread workers against `Services` and take effect on the engine's next pass. Each reload also hands the
store's last pass of every inbox to the status bar. A failed worker is reported by screens/base.py; here
the info line says so (a failed load, test) or the list reloads (a failed write, so what is shown is what
the store has).
"""
from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.worker import Worker

from ..engine.events import Event, InboxFinished
from ..services import InboxHealth, format_lag, health_summary, reasons_line
from ..settings import InboxSettings
from ..widgets.columns import ColumnSpec
from ..widgets.dates import when
from ..widgets.fitted_table import FittedTable
from ..widgets.probe_result import probe_text
from ..widgets.safe_text import clean, safe_text
from .confirm import ConfirmScreen
from .inbox_form import InboxFormScreen
from .mode_screen import ModeScreen

# Connection and messages first: at 80 columns the name, both states and the message summary fit (the
# summary takes the room left); the details (last success, protocol, server, folder) follow for wider
# terminals and the info line. A
# deactivated inbox says so in its Connection cell ("inactive").
COLUMNS = [ColumnSpec("name", "Name", 14), ColumnSpec("connection", "Connection", 12),
           ColumnSpec("messages", "Messages", 40, flexible=True), ColumnSpec("success", "Last success", 16, 2),
           ColumnSpec("protocol", "Proto", 7, 3), ColumnSpec("server", "Server", 16, 3, flexible=True, max_width=40),
           ColumnSpec("folder", "Folder", 8, 4, flexible=True, max_width=20)]
CONNECTION_STYLE = {"ok": "green", "failing": "bold red", "stale": "bold yellow", "never polled": "dim",
                    "inactive": "dim", "needs authorization": "bold red"}


class InboxesLoaded(Message):
    """services.health(): each inbox's InboxInfo with its connection and message state."""

    def __init__(self, health: tuple) -> None:
        super().__init__()
        self.health = health
        self.inboxes = [h.info for h in health]


class InboxTested(Message):
    def __init__(self, name: str, result: object) -> None:
        super().__init__()
        self.name, self.result = name, result


class InboxChanged(Message):
    """A save, delete or toggle succeeded (a failure goes to screens/base.py)."""

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what


class CallersPlanned(Message):
    """services.unknown_caller_plan for one inbox: what the confirmation counts."""

    def __init__(self, name: str, plan) -> None:
        super().__init__()
        self.name, self.plan = name, plan


def unknown_callers(health: InboxHealth) -> int:
    """How many of the inbox's mails are in error as unknown callers (services.health's reason classes)."""
    return dict(health.error_reasons).get("unknown caller", 0)


class InboxesScreen(ModeScreen):
    CSS_PATH = "inboxes.tcss"
    BINDINGS = [
        Binding("enter", "open_mailbox", "Mailbox"),
        Binding("x", "open_errors", "Failed"),
        Binding("e", "edit_inbox", "Edit"),
        Binding("n", "new_inbox", "New"),
        Binding("t", "test_inbox", "Test"),
        Binding("o", "authorize_inbox", "Authorize (OAuth2)", show=False),
        Binding("a", "toggle_active", "On/off"),
        Binding("d", "delete_inbox", "Delete"),
        # not in the footer (`?` lists it): the list refreshes itself after each pass and each change, and
        # at 80 columns the footer has room for one of the two
        Binding("r", "refresh", "Refresh", show=False),
        Binding("g", "app.edit_settings", "Settings"),
        # shown in the info line when the highlighted inbox has mail rejected as unknown callers
        Binding("c", "create_callers", "Create unknown callers", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        yield Static(id="inbox-summary", markup=False)
        yield FittedTable(COLUMNS, id="inbox-table")
        yield Static(id="inbox-info", markup=False)

    @property
    def table(self) -> FittedTable:
        return self.query_one("#inbox-table", FittedTable)

    def __init__(self) -> None:
        super().__init__()
        self.inboxes: dict[str, object] = {}  # name -> InboxInfo
        self.health: dict[str, InboxHealth] = {}
        self._mounted = False

    def on_mount(self) -> None:
        self._mounted = True
        self.table.focus()
        self.action_refresh()

    def on_screen_resume(self) -> None:
        if self._mounted:
            self.action_refresh()

    # -- loading -----------------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="inboxes-load", name="load the inboxes")
    def action_refresh(self) -> None:
        self.post_message(InboxesLoaded(self.services.health()))

    def on_inboxes_loaded(self, message: InboxesLoaded) -> None:
        self.inboxes = {i.name: i for i in message.inboxes}
        self.health = {h.name: h for h in message.health}
        self.mt_app.remember_passes(message.inboxes)
        rows = []
        for h in message.health:
            i = h.info
            rows.append((i.name, {
                "name": safe_text(i.name, "bold" if i.active else "dim"), "connection": connection_cell(h),
                "messages": messages_cell(h), "success": Text(when(i.last_success) or "never"),
                "protocol": Text(i.protocol), "server": safe_text(f"{i.server}:{i.port}" if i.port else i.server),
                "folder": safe_text(i.mailbox or "INBOX")}))
        self.table.show_rows(rows)
        summary = health_summary(message.health)
        attention = any(h.needs_attention for h in message.health)
        if any(h.error_reasons for h in message.health):
            summary += " · x: the highlighted inbox's failed mails"
        self.query_one("#inbox-summary", Static).update(
            Text(clean(summary, limit=400), style="bold red" if attention else "green"))
        self.query_one("#inbox-summary", Static).set_class(attention, "attention")
        if not rows:
            self.query_one("#inbox-info", Static).update(Text("No inbox yet: press n to add one.", style="dim"))
        else:
            self._show_info(self.table.current_key)

    @on(DataTable.RowHighlighted, "#inbox-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_info(str(event.row_key.value) if event.row_key else None)

    def _show_info(self, name: str | None) -> None:
        """The highlighted inbox in full: its connection (with the server's last error) and its messages."""
        health = self.health.get(name or "")
        if health is None:
            return
        info = health.info
        text = Text.assemble((clean(info.name), "bold"), " · connection: ")
        if info.last_error:
            text.append(f"last error (x{info.error_streak}): ", style="bold red")
            text.append(clean(info.last_error, limit=300))
        else:
            text.append(clean(health.connection_line()), style=CONNECTION_STYLE.get(health.connection, ""))
        text.append("\nmessages: ")
        text.append(clean(health.messages_line(), limit=400), style="red" if health.count("error") else "")
        if health.count("error"):
            text.append(" · enter opens the mailbox", style="dim")
        if unknown_callers(health):
            text.append(f"\n{unknown_callers(health)} rejected as unknown callers", style="bold red")
            text.append(" · c: create these persons and retry the mails", style="dim")
        self.query_one("#inbox-info", Static).update(text)

    def engine_events(self, batch: list[Event]) -> None:
        if any(isinstance(e, InboxFinished) for e in batch):
            self.action_refresh()

    # -- actions -----------------------------------------------------------------------------------------
    def _selected(self) -> str | None:
        name = self.table.current_key
        if name is None:
            self.notify("No inbox selected.", severity="warning")
        return name

    async def action_open_mailbox(self) -> None:
        name = self._selected()
        if name:
            await self.mt_app.open_mailbox(name)

    async def action_open_errors(self) -> None:
        """The highlighted inbox's failed mails, with their reasons: the Mailbox filtered to `error`."""
        name = self._selected()
        if name:
            await self.mt_app.open_mailbox(name, status="error")

    def action_new_inbox(self) -> None:
        self.app.push_screen(InboxFormScreen(None, self.services.settings), self._save)

    def action_edit_inbox(self) -> None:
        name = self._selected()
        if name and self.services.settings.inbox(name):
            self.app.push_screen(InboxFormScreen(self.services.settings.inbox(name), self.services.settings),
                                 lambda inbox: self._save(inbox, name))

    def _save(self, inbox: InboxSettings | None, old_name: str | None = None) -> None:
        if inbox is not None:
            self._write(inbox, old_name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="inboxes-write", name="save the inbox")
    def _write(self, inbox: InboxSettings, old_name: str | None = None) -> None:
        """Save; an edited inbox whose name changed is renamed first, so its message records, state and
        tickets follow it (saving under the new name alone would make a second inbox)."""
        renamed = old_name is not None and old_name != inbox.name
        self.services.save_inbox(inbox, rename_from=old_name if renamed else None)
        what = f"renamed {old_name} to {inbox.name} and saved it" if renamed else f"saved {inbox.name}"
        self.post_message(InboxChanged(f"{what}; it takes effect on the next pass"))

    def action_toggle_active(self) -> None:
        name = self._selected()
        inbox = self.services.settings.inbox(name) if name else None
        if inbox is not None:
            self._write(replace(inbox, active=not inbox.active))

    def action_delete_inbox(self) -> None:
        name = self._selected()
        if name is None:
            return
        question = Text.assemble("Delete the inbox ", (clean(name), "bold"),
                                 "?\nIts settings and message records go; tickets stay. "
                                 "Mail on the server is not touched.")
        self.app.push_screen(ConfirmScreen(question, "Delete"), lambda yes: yes and self._delete(name))

    @work(thread=True, exclusive=True, exit_on_error=False, group="inboxes-write", name="delete the inbox")
    def _delete(self, name: str) -> None:
        self.services.delete_inbox(name)
        self.post_message(InboxChanged(f"deleted {name}"))

    def on_inbox_changed(self, message: InboxChanged) -> None:
        self.notify(clean(message.what), markup=False)
        self.action_refresh()

    def action_create_callers(self) -> None:
        """Every mail of the highlighted inbox rejected as an unknown caller: plan (count), confirm, create."""
        name = self._selected()
        if name is None:
            return
        health = self.health.get(name)
        if health is None or not unknown_callers(health):
            self.notify(clean(f"No mail of {name} was rejected as an unknown caller."), markup=False)
            return
        self._plan_callers(name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="inboxes-load", name="count the unknown callers")
    def _plan_callers(self, name: str) -> None:
        self.post_message(CallersPlanned(name, self.services.unknown_caller_plan(inbox=name)))

    def on_callers_planned(self, message: CallersPlanned) -> None:
        plan = message.plan
        if not plan.messages:
            self.notify(clean(f"No mail of {message.name} is rejected as an unknown caller any more."), markup=False)
            return
        question = Text.assemble(
            (clean(plan.line().capitalize()), "bold"), " in ", (clean(message.name), "bold"), "?\n",
            "The persons get their names from the mails' display names and the inbox's caller_default_values; "
            "the mails go back to new and the next pass makes their tickets (never a second one).")
        self.app.push_screen(ConfirmScreen(question, "Create"), lambda yes: yes and self._create_callers(plan))

    @work(thread=True, exclusive=True, exit_on_error=False, group="inboxes-write", name="create the persons")
    def _create_callers(self, plan) -> None:
        created, results = self.services.create_callers_and_retry(plan)
        retried = sum(1 for r in results if r.ok)
        not_reset = f", {len(results) - retried} not reset (see their trace)" if retried < len(results) else ""
        self.post_message(InboxChanged(f"created {len(created)} person(s); {retried} mail(s) go back to new, the "
                                       f"next pass retries them{not_reset}"))

    def action_authorize_inbox(self) -> None:
        """OAuth2 consent of the highlighted inbox (screens/authorize.py); its connection is refreshed after."""
        from .authorize import AuthorizeScreen

        name = self._selected()
        if name:
            self.app.push_screen(AuthorizeScreen(name), lambda granted: self.action_refresh() if granted else None)

    def action_test_inbox(self) -> None:
        name = self._selected()
        if name:
            self.query_one("#inbox-info", Static).update(Text(f"testing {clean(name)}…", style="italic"))
            self._test(name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="inboxes-test", name="test the connection")
    def _test(self, name: str) -> None:
        """A probe that fails at the server comes back as a result; a raise (e.g. the password's environment
        variable is not set) is a failure of the test itself."""
        self.post_message(InboxTested(name, self.services.test_inbox(name)))

    def on_inbox_tested(self, message: InboxTested) -> None:
        self.query_one("#inbox-info", Static).update(probe_text(message.name, message.result))

    def worker_failed(self, worker: Worker, line: str) -> None:
        if worker.group in ("inboxes-load", "inboxes-test"):
            stale = " · the list may be stale (r retries)" if worker.group == "inboxes-load" else ""
            self.query_one("#inbox-info", Static).update(Text(line + stale, style="bold red"))
        elif worker.group == "inboxes-write":
            self.action_refresh()
    @on(DataTable.RowSelected, "#inbox-table")
    async def _row_selected(self, _: DataTable.RowSelected) -> None:
        """Enter on the table (the DataTable consumes the key and says which row)."""
        await self.action_open_mailbox()


def connection_cell(h: InboxHealth) -> Text:
    """"ok · 2m" (lag since the last success), "FAILING x3", "stale · 3h", "never polled", "inactive"."""
    style = CONNECTION_STYLE.get(h.connection, "")
    if h.connection == "failing":
        return Text(f"FAILING x{h.info.error_streak}", style=style)
    if h.connection in ("ok", "stale"):
        return Text(f"{h.connection} · {format_lag(h.lag_seconds)}", style=style)
    return Text(h.connection, style=style)


def messages_cell(h: InboxHealth) -> Text:
    """Errors and their main reasons first (what needs an operator), then the other states, shortest words."""
    text = Text()
    errors = h.count("error")
    if errors:
        text.append(f"{errors} err", style="bold red")
        if h.error_reasons:
            text.append(f" ({clean(reasons_line(h.error_reasons, limit=2))})", style="red")
    for status, word, style in (("new", "new", "cyan"), ("processed", "done", "green"),
                                ("undesired", "undes", "yellow"), ("ignored", "ign", "dim"), ("duplicate", "dup", "dim")):
        n = h.count(status)
        if n:
            text.append(" · " if text else "")
            text.append(f"{n} {word}", style=style)
    if h.waiting:
        text.append(" · " if text else "")
        text.append(f"{h.waiting} wait", style="yellow")
    return text if text else Text("none", style="dim")
