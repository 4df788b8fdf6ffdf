"""One message in detail: its record, raw headers, decision trace and error, "what would happen now"
(a dry-run replay of its raw bytes with the inbox's current settings) and saving the raw .eml.

Everything shown came from mail or a server, so all of it goes through safe_text. Work runs in threads.
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

from ..widgets.safe_text import clean
from .save_file import SaveFileScreen

HEADER_LIMIT = 64 * 1024


class MessageLoaded(Message):
    def __init__(self, info, trace: str, raw: bytes | None, error: str = "") -> None:
        super().__init__()
        self.info, self.trace, self.raw, self.error = info, trace, raw, error


class ReplayFinished(Message):
    def __init__(self, result: dict | None, error: str = "") -> None:
        super().__init__()
        self.result, self.error = result, error


class FileSaved(Message):
    def __init__(self, path: str, error: str = "") -> None:
        super().__init__()
        self.path, self.error = path, error


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


class MessageDetailScreen(Screen):
    CSS_PATH = "message_detail.tcss"
    BINDINGS = [
        Binding("escape,q", "close", "Back"),
        Binding("w", "replay_message", "What would happen now"),
        Binding("s", "save_eml", "Save .eml"),
    ]

    def __init__(self, message_id: int) -> None:
        super().__init__()
        self.message_id = message_id
        self.info = None
        self.raw: bytes | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail"):
            yield Static(Text(f"message #{self.message_id}: loading…"), id="detail-summary", markup=False)
            yield Static("", id="detail-error", markup=False)
            yield Static("", id="detail-trace", markup=False)
            yield Static("", id="detail-replay", markup=False)
            yield Static("", id="detail-headers", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#detail").focus()
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="message-detail")
    def _load(self) -> None:
        try:
            info, trace, raw = self.app.services.message_detail(self.message_id)  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - e.g. deleted meanwhile
            self.post_message(MessageLoaded(None, "", None, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(MessageLoaded(info, trace, raw))

    def on_message_loaded(self, message: MessageLoaded) -> None:
        summary = self.query_one("#detail-summary", Static)
        if message.info is None:
            summary.update(Text(clean(f"message #{self.message_id}: {message.error}"), style="bold red"))
            return
        self.info, self.raw = message.info, message.raw
        i = message.info
        text = Text(f"message #{i.id}\n", style="bold")
        for label, value in (("inbox", i.inbox), ("folder", i.folder), ("key", i.key), ("Message-ID", i.message_id),
                             ("date", i.date or ""), ("from", i.from_addr), ("subject", i.subject),
                             ("size", f"{i.size} bytes"), ("status", i.status), ("ticket", i.ticket_ref or "none"),
                             ("on server", "yes" if i.on_server else "no")):
            text.append(f"{label:>11}: ", style="bold")
            text.append(clean(value, limit=2000) + "\n")
        text.append("raw .eml: " + ("stored (s saves it)" if message.raw is not None else "not stored"), style="dim")
        summary.update(text)
        error = self.query_one("#detail-error", Static)
        error.update(section("Error", i.error, "red"))
        error.display = bool(i.error)
        self.query_one("#detail-trace", Static).update(section("Decision trace", message.trace))
        self.query_one("#detail-headers", Static).update(
            section("Raw headers", raw_headers(message.raw) if message.raw is not None else "(raw message not stored)"))
        self.query_one("#detail-replay", Static).update(Text("w: what would happen to it now (dry run)", style="dim"))

    # -- replay ------------------------------------------------------------------------------------------------
    def action_replay_message(self) -> None:
        if self.raw is None or self.info is None:
            self.notify("The raw message is not stored; nothing to replay.", severity="warning")
            return
        self.query_one("#detail-replay", Static).update(Text("replaying…", style="italic"))
        self._replay(self.raw, self.info.inbox)

    @work(thread=True, exclusive=True, exit_on_error=False, group="message-replay")
    def _replay(self, raw: bytes, inbox: str) -> None:
        fd, path = tempfile.mkstemp(suffix=".eml", prefix="mailticket-replay-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(raw)
            result = self.app.services.replay(path, inbox)  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - shown, not fatal
            self.post_message(ReplayFinished(None, f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(ReplayFinished(result))
        finally:
            Path(path).unlink(missing_ok=True)

    def on_replay_finished(self, message: ReplayFinished) -> None:
        box = self.query_one("#detail-replay", Static)
        if message.result is None:
            box.update(Text(clean(f"replay failed: {message.error}", limit=500), style="bold red"))
            return
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
                             lambda path: path and self._save(path, raw))

    @work(thread=True, exclusive=True, exit_on_error=False, group="message-save")
    def _save(self, path: str, data: bytes) -> None:
        try:
            Path(path).expanduser().write_bytes(data)
        except OSError as exc:
            self.post_message(FileSaved(path, exc.strerror or str(exc)))
        else:
            self.post_message(FileSaved(path))

    def on_file_saved(self, message: FileSaved) -> None:
        if message.error:
            self.notify(clean(f"cannot write {message.path}: {message.error}"), severity="error", markup=False)
        else:
            self.notify(clean(f"saved {message.path}"), markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
