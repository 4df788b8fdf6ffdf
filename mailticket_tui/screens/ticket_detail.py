"""One ticket: fields, description, case log (newest first), contacts, attachments (save to a file),
history and source mails (date, status, sender, subject; enter opens one in the Mailbox mode), with the
operator's actions: the stimuli the lifecycle allows from the current state, and a public or private case
log entry. Dates are local with their year (widgets/dates.py).

All ticket text came from mail, so it goes through safe_text; service calls run in thread workers whose
failures screens/base.py reports (a failed load is also said in the title line, a failed action reloads).
"""
from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, OptionList, Static, TabbedContent, TabPane, Tabs
from textual.widgets.option_list import Option
from textual.worker import Worker

from ..safe_files import write_private
from ..services import TicketMail
from ..widgets.columns import ColumnSpec
from ..widgets.dates import when, when_ago
from ..widgets.fitted_table import FittedTable
from ..widgets.inline_body import InlineBody
from ..widgets.safe_text import clean, safe_text
from .attachment_viewer import AttachmentViewerScreen
from .base import WorkerFailures, app_of, services_of
from .choice import ChoiceScreen
from .log_entry import LogEntryScreen
from .message_detail import FileSaved
from .save_file import SaveFileScreen, SaveTarget


# The Mails tab: at 80 columns date (with its year), status, sender and subject (sharing the rest, the sender up
# to 32 cells); wider, the inbox.
MAIL_COLUMNS = [ColumnSpec("date", "Date", 16), ColumnSpec("status", "Status", 9, priority=1),
                ColumnSpec("from", "From", 20, priority=2, flexible=True, max_width=32),
                ColumnSpec("subject", "Subject", 20, flexible=True),
                ColumnSpec("inbox", "Inbox", 10, priority=3)]


def mail_cells(mail: TicketMail) -> dict[str, Text]:
    """One row of the Mails tab; the sender and subject came from mail, so through safe_text."""
    cells = {"date": Text(when(mail.date)), "status": safe_text(mail.status), "from": safe_text(mail.from_addr),
             "subject": safe_text(mail.subject), "inbox": safe_text(mail.inbox)}
    for cell in cells.values():
        cell.overflow = "ellipsis"
    return cells


class TicketLoaded(Message):
    def __init__(self, detail) -> None:
        super().__init__()
        self.detail = detail


class TicketActed(Message):
    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what


class TicketDetailScreen(WorkerFailures, Screen):
    CSS_PATH = "ticket_detail.tcss"
    BINDINGS = [
        Binding("escape,q", "close", "Back"),
        Binding("s", "apply_stimulus", "Stimulus"),
        Binding("l", "add_log", "Log entry"),
        Binding("i", "toggle_images", "Images on/off", show=False),  # listed by ? (Help), as every key
        Binding("v", "view_attachment", "View attachment", show=False),
        Binding("right_square_bracket", "next_tab", "Next tab", key_display="]"),
        Binding("left_square_bracket", "previous_tab", "Prev tab", key_display="["),
    ]
    TABS = ("overview", "caselog", "contacts", "attachments", "history", "messages")

    def __init__(self, ref: str, image_mode: str | None = None) -> None:
        super().__init__()
        self.ref = ref
        self.detail = None
        self.image_mode = image_mode  # None: engine.terminal_images; `i` toggles images for this screen

    def compose(self) -> ComposeResult:
        self.image_mode = self.image_mode or services_of(self).settings.engine.terminal_images
        yield Static(Text(f"{self.ref}: loading…", style="bold"), id="ticket-title", markup=False)
        with TabbedContent(id="ticket-tabs"):
            with TabPane("Overview", id="overview"):
                with VerticalScroll():
                    yield Static("", id="ticket-overview", markup=False)
                    yield InlineBody(self.image_mode, id="ticket-description")  # text with its images in place
            with TabPane("Case log", id="caselog"):
                with VerticalScroll():
                    yield InlineBody(self.image_mode, id="ticket-caselog")  # entries with their images in place
            with TabPane("Contacts", id="contacts"):
                yield Static("", id="ticket-contacts", markup=False)
            with TabPane("Attachments", id="attachments"):
                yield OptionList(id="ticket-attachments")
            with TabPane("History", id="history"):
                with VerticalScroll():
                    yield Static("", id="ticket-history", markup=False)
            with TabPane("Mails", id="messages"):
                yield FittedTable(MAIL_COLUMNS, id="ticket-messages")
                yield Static(Text("enter: open the mail in the Mailbox mode", style="dim"), id="ticket-messages-hint")
        yield Footer()

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="ticket-load", name="load the ticket")
    def _load(self) -> None:
        self.post_message(TicketLoaded(services_of(self).get_ticket(self.ref)))

    def on_ticket_loaded(self, message: TicketLoaded) -> None:
        title = self.query_one("#ticket-title", Static)
        d = self.detail = message.detail
        s = d.summary
        title.update(Text.assemble((f"{s.ref} ", "bold"), (f"[{s.status}] ", "bold cyan"), clean(s.title, limit=300)))
        overview = Text()
        for label, value in (("class", s.klass), ("status", s.status), ("caller", s.caller_email), ("org", s.org),
                             ("origin", s.origin), ("created", when_ago(s.created)), ("updated", when_ago(s.updated)),
                             ("follows", d.parent or ""), ("stimuli", ", ".join(d.stimuli) or "none"),
                             ("priority", f"{s.priority} · urgency {d.urgency} · impact {d.impact}"),
                             *((k, v) for k, v in (("team", s.team), ("agent", s.agent), ("service", s.service),
                                                   ("subcat", d.service_subcategory), ("legacy", d.legacy_ref),
                                                   *d.extra) if v)):
            overview.append(f"{label:>8}: ", style="bold")
            overview.append(clean(value, limit=500) + "\n")
        overview.append("\nDescription\n", style="bold underline")
        self.query_one("#ticket-overview", Static).update(overview)
        self.query_one("#ticket-description", InlineBody).load(d.description, d.attachments,
                                        lambda att_id: services_of(self).attachment_bytes(att_id)[1])
        self.query_one("#ticket-caselog", InlineBody).load_entries(
            d.case_log, d.attachments, lambda att_id: services_of(self).attachment_bytes(att_id)[1])
        self.query_one("#ticket-contacts", Static).update(
            Text(clean("\n".join(d.contacts), multiline=True)) if d.contacts else Text("(none)", style="dim"))
        attachments = self.query_one("#ticket-attachments", OptionList)
        attachments.clear_options()
        attachments.add_options([
            Option(safe_text(f"{a.filename}  ({a.content_type}, {a.size} bytes"
                             f"{', inline' if a.inline else ''})  enter: save"), id=str(a.id))
            for a in d.attachments])
        attachments.highlighted = 0 if d.attachments else None
        history = Text()
        for change in d.history:
            history.append(clean(f"{when(change.date)} {change.who}: {change.summary} "
                                 f"({', '.join(map(str, change.fields))})", limit=500) + "\n")
        self.query_one("#ticket-history", Static).update(history or Text("(none)", style="dim"))
        self.query_one("#ticket-messages", FittedTable).show_rows([(str(m.id), mail_cells(m)) for m in d.mails])

    # -- tabs -----------------------------------------------------------------------------------------------------
    def _move_tab(self, step: int) -> None:
        tabs = self.query_one("#ticket-tabs", TabbedContent)
        tabs.active = self.TABS[(self.TABS.index(tabs.active or "overview") + step) % len(self.TABS)]
        # the shown tab's keys work at once (a list's arrows and enter, a text's page up/down); never a hidden one's
        shown = tabs.get_pane(tabs.active).query("DataTable, OptionList, VerticalScroll")
        (shown.first() if shown else tabs.query_one(Tabs)).focus()

    def action_next_tab(self) -> None:
        self._move_tab(1)

    def action_previous_tab(self) -> None:
        self._move_tab(-1)

    # -- attachments and source mails -----------------------------------------------------------------------------
    @on(OptionList.OptionSelected, "#ticket-attachments")
    def _attachment_chosen(self, event: OptionList.OptionSelected) -> None:
        attachment = next(a for a in self.detail.attachments if str(a.id) == event.option.id)
        self.app.push_screen(SaveFileScreen(f"attachment {attachment.filename}", attachment.filename),
                             lambda target: target and self._save_attachment(attachment.id, target))

    def action_view_attachment(self) -> None:
        """The highlighted attachment full screen (an image as large as the screen allows; s saves it)."""
        chosen = self.query_one("#ticket-attachments", OptionList).highlighted
        if self.detail is None or chosen is None or chosen >= len(self.detail.attachments):
            self.notify("No attachment chosen: open the Attachments tab and highlight one.", severity="warning")
            return
        self.app.push_screen(AttachmentViewerScreen(self.detail.attachments[chosen], self.image_mode))

    def action_toggle_images(self) -> None:
        setting = services_of(self).settings.engine.terminal_images
        self.image_mode = "off" if self.image_mode != "off" else (setting if setting != "off" else "auto")
        for body in self.query(InlineBody):
            body.set_mode(self.image_mode)

    @work(thread=True, exclusive=True, exit_on_error=False, group="ticket-save", name="save the attachment")
    def _save_attachment(self, attachment_id: int, target: SaveTarget) -> None:
        _, data = services_of(self).attachment_bytes(attachment_id)
        write_private(target.path, data, overwrite=target.overwrite)
        self.post_message(FileSaved(target.path))

    def on_file_saved(self, message: FileSaved) -> None:
        self.notify(clean(f"saved {message.path}"), markup=False)

    @on(DataTable.RowSelected, "#ticket-messages")
    async def _mail_chosen(self, event: DataTable.RowSelected) -> None:
        """The inbox came with the ticket (TicketDetail.mails): no query, no raw bytes loaded."""
        mail = next((m for m in self.detail.mails if str(m.id) == event.row_key.value), None) if self.detail else None
        if mail is None:
            return
        self.dismiss(None)
        await app_of(self).open_mailbox(mail.inbox, mail.id)

    # -- operator actions -----------------------------------------------------------------------------------------
    def action_apply_stimulus(self) -> None:
        if self.detail is None:
            return
        if not self.detail.stimuli:
            self.notify(clean(f"No stimulus applies in state {self.detail.summary.status}."), severity="warning",
                        markup=False)
            return
        self.app.push_screen(ChoiceScreen(f"Apply to {self.ref} (now {self.detail.summary.status}):",
                                          self.detail.stimuli),
                             lambda stimulus: stimulus and self._stimulus(stimulus))

    @work(thread=True, exclusive=True, exit_on_error=False, group="ticket-act", name="apply the stimulus")
    def _stimulus(self, stimulus: str) -> None:
        state = services_of(self).ticket_stimulus(self.ref, stimulus)
        self.post_message(TicketActed(f"{stimulus}: {self.ref} is now {state}"))

    def action_add_log(self) -> None:
        if self.detail is not None:
            self.app.push_screen(LogEntryScreen(self.ref), lambda entry: entry and self._log(*entry))

    @work(thread=True, exclusive=True, exit_on_error=False, group="ticket-act", name="add the log entry")
    def _log(self, text: str, public: bool) -> None:
        services_of(self).ticket_log(self.ref, text, public=public)
        self.post_message(TicketActed(f"{'public' if public else 'private'} log entry added"))

    def on_ticket_acted(self, message: TicketActed) -> None:
        self.notify(clean(message.what), markup=False)
        self._load()

    def worker_failed(self, worker: Worker, line: str) -> None:
        """A failed load leaves the last detail shown and says so; a failed action reloads (the ticket may
        have moved on meanwhile, e.g. the engine updated it)."""
        if worker.group == "ticket-load":
            self.query_one("#ticket-title", Static).update(Text(f"{clean(self.ref)}: {line}", style="bold red"))
        elif worker.group == "ticket-act":
            self._load()

    def action_close(self) -> None:
        self.dismiss(None)
