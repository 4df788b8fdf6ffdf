"""Mode 1, Inboxes: the list of inboxes with their health, and the actions on one inbox.

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
from ..settings import InboxSettings
from ..widgets.paged_table import PagedTable
from ..widgets.probe_result import probe_text
from ..widgets.safe_text import clean, safe_text
from .confirm import ConfirmScreen
from .inbox_form import InboxFormScreen
from .mode_screen import ModeScreen

COLUMNS = [("name", "Name", 14), ("active", "Active", 6), ("streak", "Errors", 6), ("success", "Last success", 19),
           ("protocol", "Proto", 7), ("server", "Server", 24), ("folder", "Folder", 10), ("counts", "Messages", 30)]


class InboxesLoaded(Message):
    def __init__(self, inboxes: list) -> None:
        super().__init__()
        self.inboxes = inboxes


class InboxTested(Message):
    def __init__(self, name: str, result: object) -> None:
        super().__init__()
        self.name, self.result = name, result


class InboxChanged(Message):
    """A save, delete or toggle succeeded (a failure goes to screens/base.py)."""

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what


class InboxesScreen(ModeScreen):
    CSS_PATH = "inboxes.tcss"
    BINDINGS = [
        Binding("enter", "open_mailbox", "Mailbox"),
        Binding("e", "edit_inbox", "Edit"),
        Binding("n", "new_inbox", "New"),
        Binding("t", "test_inbox", "Test"),
        Binding("a", "toggle_active", "(De)activate"),
        Binding("d", "delete_inbox", "Delete"),
        # not in the footer (`?` lists it): the list refreshes itself after each pass and each change, and
        # at 80 columns the footer has room for one of the two
        Binding("r", "refresh", "Refresh", show=False),
        Binding("g", "app.edit_settings", "Settings"),
    ]

    def compose_body(self) -> ComposeResult:
        yield PagedTable(COLUMNS, id="inbox-table")
        yield Static(id="inbox-info", markup=False)

    @property
    def table(self) -> PagedTable:
        return self.query_one("#inbox-table", PagedTable)

    def __init__(self) -> None:
        super().__init__()
        self.inboxes: dict[str, object] = {}
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
        self.post_message(InboxesLoaded(self.services.list_inboxes()))

    def on_inboxes_loaded(self, message: InboxesLoaded) -> None:
        self.inboxes = {i.name: i for i in message.inboxes}
        self.mt_app.remember_passes(message.inboxes)
        rows = []
        for i in message.inboxes:
            counts = ", ".join(f"{n} {s}" for s, n in sorted(i.counts.items())) or "none"
            rows.append((i.name, [
                safe_text(i.name, "bold"), Text("yes" if i.active else "no", style="" if i.active else "dim"),
                Text(str(i.error_streak), style="bold red" if i.error_streak else ""), Text(i.last_success or "never"),
                Text(i.protocol), safe_text(f"{i.server}:{i.port}" if i.port else i.server),
                safe_text(i.mailbox or "INBOX"), Text(counts)]))
        self.table.show_page(rows)
        if not rows:
            self.query_one("#inbox-info", Static).update(Text("No inbox yet: press n to add one.", style="dim"))
        else:
            self._show_info(self.table.current_key)

    @on(DataTable.RowHighlighted, "#inbox-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_info(str(event.row_key.value) if event.row_key else None)

    def _show_info(self, name: str | None) -> None:
        info = self.inboxes.get(name or "")
        if info is None:
            return
        text = Text.assemble((clean(info.name), "bold"), " · ")
        if info.last_error:
            text.append(f"last error (x{info.error_streak}): ", style="bold red")
            text.append(clean(info.last_error, limit=400))
        else:
            text.append("no error" + (f"; last success {info.last_success}" if info.last_success else "; never polled"))
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
