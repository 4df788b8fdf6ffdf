"""One message in detail: its record, raw headers, decision trace and error, "what would happen now"
(a dry-run replay of its raw bytes with the inbox's current settings) and saving the raw .eml.

The message is `Message #<store id>` (what `mailticket messages reset|ignore|delete ID` takes); the server's
name for it is a separate, labelled `Server:` line (uid and folder for IMAP, uidl for POP3, file for Maildir)
that also says whether it is still there. Everything shown came from mail or a server, so all of it goes
through safe_text. Work runs in thread workers whose failures are reported by screens/base.py and shown in
the part of the screen they were meant to fill.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker

from ..widgets.inline_body import InlineBody
from ..widgets.message_ref import server_line
from ..safe_files import write_private
from ..widgets.dates import when_ago
from ..widgets.safe_text import clean
from ..services import reason_class
from .base import WorkerFailures, services_of
from .save_file import SaveFileScreen, SaveTarget

HEADER_LIMIT = 64 * 1024


class MessageLoaded(Message):
    def __init__(self, info, trace: str, raw: bytes | None) -> None:
        super().__init__()
        self.info, self.trace, self.raw = info, trace, raw


class ReplayFinished(Message):
    def __init__(self, result: dict) -> None:
        super().__init__()
        self.result = result


class CallerCreated(Message):
    """services.create_callers_and_retry for this message: the persons created and the reset's result."""

    def __init__(self, created: list, results: list) -> None:
        super().__init__()
        self.created, self.results = created, results


class FileSaved(Message):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path


def raw_headers(raw: bytes) -> str:
    """The header block as sent (folded lines kept), decoded leniently; bodies are not shown here."""
    head = raw[:HEADER_LIMIT]
    for separator in (b"\r\n\r\n", b"\n\n"):
        if separator in head:
            head = head.split(separator, 1)[0]
            break
    return head.decode("utf-8", errors="replace")


def section(title: str, body: str, style: str = "") -> Text:
    text = Text(f"{title}\n", style="bold underline")
    text.append(clean(body, multiline=True, limit=200_000) or "(none)", style=style)
    return text


class MessageDetailScreen(WorkerFailures, Screen):
    CSS_PATH = "message_detail.tcss"
    BINDINGS = [
        Binding("escape,q", "close", "Back"),
        Binding("w", "replay_message", "What would happen now"),
        Binding("s", "save_eml", "Save .eml"),
        Binding("c", "create_caller", "Create caller"),  # and retry the mail
        Binding("i", "toggle_images", "Images on/off", show=False),
    ]

    def __init__(self, message_id: int) -> None:
        super().__init__()
        self.message_id = message_id
        self.info = None
        self.raw: bytes | None = None
        self.image_mode = "auto"  # engine.terminal_images, read in compose; `i` toggles images

    def compose(self) -> ComposeResult:
        self.image_mode = services_of(self).settings.engine.terminal_images
        with VerticalScroll(id="detail"):
            yield Static(Text(f"Message #{self.message_id}: loading…"), id="detail-summary", markup=False)
            yield Static("", id="detail-error", markup=False)
            yield InlineBody(self.image_mode, id="detail-body")  # the mail's text with its images in place
            yield Static("", id="detail-trace", markup=False)
            yield Static("", id="detail-replay", markup=False)
            yield Static("", id="detail-headers", markup=False)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#detail").focus()
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="message-detail", name="load the message")
    def _load(self) -> None:
        info, trace, raw = services_of(self).message_detail(self.message_id)
        self.post_message(MessageLoaded(info, trace, raw))

    def _server_line(self, info) -> str:
        """The Server: line; the protocol comes from the inbox's settings (in memory, no query)."""
        inbox = services_of(self).settings.inbox(info.inbox)
        return server_line(inbox.protocol if inbox else "", info.key, info.uid, info.folder, info.on_server,
                           info.uidvalidity)

    def on_message_loaded(self, message: MessageLoaded) -> None:
        summary = self.query_one("#detail-summary", Static)
        self.info, self.raw = message.info, message.raw
        i = message.info
        text = Text(f"Message #{i.id}\n", style="bold")
        for label, value in (("Server", self._server_line(i)), ("inbox", i.inbox), ("Message-ID", i.message_id),
                             ("date", when_ago(i.date)), ("from", i.from_addr), ("subject", i.subject),
                             ("size", f"{i.size} bytes"), ("status", i.status), ("ticket", i.ticket_ref or "none")):
            text.append(f"{label:>11}: ", style="bold")
            text.append(clean(value, limit=2000) + "\n")
        text.append(f"{'raw .eml':>11}: " + ("stored (s saves it)" if message.raw is not None else "not stored"),
                    style="dim")
        summary.update(text)
        error = self.query_one("#detail-error", Static)
        error.update(section("Error", i.error, "red"))
        error.display = bool(i.error)
        self.query_one("#detail-trace", Static).update(section("Decision trace", message.trace))
        if message.raw is not None:
            self.query_one(InlineBody).load_mail(message.raw)
        self.query_one("#detail-headers", Static).update(
            section("Raw headers", raw_headers(message.raw) if message.raw is not None else "(raw message not stored)"))
        self.query_one("#detail-replay", Static).update(Text("w: what would happen to it now (dry run)", style="dim"))
        self.refresh_bindings()  # `c` is offered only for a mail rejected as an unknown caller

    def action_toggle_images(self) -> None:
        setting = services_of(self).settings.engine.terminal_images
        self.image_mode = "off" if self.image_mode != "off" else (setting if setting != "off" else "auto")
        self.query_one(InlineBody).set_mode(self.image_mode)

    # -- replay ------------------------------------------------------------------------------------------------
    def action_replay_message(self) -> None:
        if self.raw is None or self.info is None:
            self.notify("The raw message is not stored; nothing to replay.", severity="warning")
            return
        self.query_one("#detail-replay", Static).update(Text("replaying…", style="italic"))
        self._replay(self.raw, self.info.inbox)

    @work(thread=True, exclusive=True, exit_on_error=False, group="message-replay", name="replay the message")
    def _replay(self, raw: bytes, inbox: str) -> None:
        fd, path = tempfile.mkstemp(suffix=".eml", prefix="mailticket-replay-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(raw)
            result = services_of(self).replay(path, inbox)
        finally:  # the temporary copy goes whatever happened; a failure still reaches screens/base.py
            Path(path).unlink(missing_ok=True)
        self.post_message(ReplayFinished(result))

    def on_replay_finished(self, message: ReplayFinished) -> None:
        box = self.query_one("#detail-replay", Static)
        r = message.result
        decision = r.get("decision", {})
        text = Text("What would happen now (dry run, nothing written)\n", style="bold underline")
        text.append(clean(f"decision: {decision.get('action')} {decision.get('ticket_ref') or ''} - "
                          f"{decision.get('reason', '')}", limit=1000) + "\n", style="bold")
        for att in r.get("attachments", []):
            text.append(clean(f"attachment {att.get('filename')} ({att.get('content_type')}, {att.get('size')} bytes):"
                              f" {att.get('action')} {att.get('reason') or ''}", limit=500) + "\n")
        text.append("trace:\n", style="bold")
        text.append(clean("\n".join(r.get("trace", [])), multiline=True, limit=100_000) + "\n")
        text.append("new part:\n", style="bold")
        text.append(clean(r.get("new_part") or "", multiline=True, limit=100_000))
        box.update(text)

    # -- save -----------------------------------------------------------------------------------------------------
    def action_save_eml(self) -> None:
        if self.raw is None or self.info is None:
            self.notify("The raw message is not stored.", severity="warning")
            return
        raw = self.raw
        self.app.push_screen(SaveFileScreen("the raw message", f"message-{self.message_id}.eml"),
                             lambda target: target and self._save(target, raw))

    @work(thread=True, exclusive=True, exit_on_error=False, group="message-save", name="save the .eml")
    def _save(self, target: SaveTarget, data: bytes) -> None:
        write_private(target.path, data, overwrite=target.overwrite)
        self.post_message(FileSaved(target.path))

    def on_file_saved(self, message: FileSaved) -> None:
        self.notify(clean(f"saved {message.path}"), markup=False)

    # -- unknown caller ---------------------------------------------------------------------------------------
    def _unknown_caller(self) -> bool:
        info = self.info
        return info is not None and info.status == "error" and reason_class(info.error) == "unknown caller"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "create_caller":
            return self._unknown_caller()
        return True

    def action_create_caller(self) -> None:
        """Create the sender as a person (names from its display name, the inbox's caller_default_values) and
        reset the mail: the next pass makes its one ticket with that caller."""
        if self._unknown_caller():
            self._create_caller(self.message_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="message-caller", name="create the person")
    def _create_caller(self, message_id: int) -> None:
        services = services_of(self)
        created, results = services.create_callers_and_retry(services.unknown_caller_plan([message_id]))
        self.post_message(CallerCreated(created, results))

    def on_caller_created(self, message: CallerCreated) -> None:
        who = ", ".join(f"person #{p.id} {p.email}" for p in message.created) or "nobody (the sender exists by now)"
        done = [r for r in message.results if r.ok]
        fate = (f"message {done[0].message}: the next pass retries it" if done else
                "message not reset: " + "; ".join(r.message for r in message.results))
        self.notify(clean(f"created {who}; {fate}"), markup=False)
        self._load()

    def worker_failed(self, worker: Worker, line: str) -> None:
        """Say it where the answer would have appeared (a failed save is said by the notification alone)."""
        if worker.group == "message-detail":
            self.query_one("#detail-summary", Static).update(
                Text(f"Message #{self.message_id}: {line}", style="bold red"))
        elif worker.group == "message-replay":
            self.query_one("#detail-replay", Static).update(Text(line, style="bold red"))

    def action_close(self) -> None:
        self.dismiss(None)
