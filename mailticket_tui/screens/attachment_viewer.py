"""One attachment full screen: an image drawn as large as the screen allows (or its `[image: ...]` line),
a text file as literal text (first TEXT_LIMIT characters), anything else described; `s` saves it.

The file is read and decoded in a thread worker (screens/base.py reports failures). Saving asks where
(screens/save_file.py: no link followed, an existing file replaced only after a yes) and writes 0600
through safe_files.write_private. Everything shown came from mail: safe_text, markup off.
"""
from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from ..safe_files import write_private
from ..widgets.inline_image import InlineImage, load_image
from ..widgets.safe_text import clean
from .base import WorkerFailures, services_of
from .message_detail import FileSaved
from .save_file import SaveFileScreen, SaveTarget

TEXT_LIMIT = 200_000
BIG_BOX = (2400, 2400)


class AttachmentRead(Message):
    def __init__(self, body) -> None:
        super().__init__()
        self.body = body


class AttachmentViewerScreen(WorkerFailures, Screen):
    CSS_PATH = "attachment_viewer.tcss"
    BINDINGS = [
        Binding("escape,q", "close", "Back"),
        Binding("s", "save", "Save"),
        Binding("i", "toggle_images", "Images on/off"),
    ]

    def __init__(self, attachment, mode: str = "auto") -> None:
        super().__init__()
        self.attachment = attachment
        self.mode = mode
        self.shown = None

    def compose(self) -> ComposeResult:
        a = self.attachment
        about = f"{a.filename}  {a.content_type}, {a.size} bytes"
        if a.declared_type and a.declared_type != a.content_type:
            about += f" (declared {a.declared_type})"
        if a.content_id:
            about += f"  cid:{a.content_id}"
        yield Static(Text(clean(about, limit=400), style="bold"), id="viewer-title", markup=False)
        yield VerticalScroll(Static(Text("loading…", style="dim"), markup=False), id="viewer-body")
        yield Footer()

    def on_mount(self) -> None:
        self._read()

    @work(thread=True, exclusive=True, exit_on_error=False, group="viewer-read", name="read the attachment")
    def _read(self) -> None:
        a = self.attachment
        _, data = services_of(self).attachment_bytes(a.id)
        if a.content_type.startswith("image/"):
            body = load_image(a.filename, data, BIG_BOX)
        elif a.content_type.startswith("text/") or a.content_type in ("message/rfc822", "application/json"):
            body = Text(clean(data[:TEXT_LIMIT * 4].decode("utf-8", "replace")[:TEXT_LIMIT], multiline=True))
        else:
            body = Text(f"{a.size} bytes of {a.content_type}: no preview; s saves it.", style="dim")
        self.post_message(AttachmentRead(body))

    def on_attachment_read(self, message: AttachmentRead) -> None:
        if isinstance(message.body, Text):
            self.shown = None
            self._show(Static(message.body, markup=False))
        else:
            self.shown = message.body
            self._show(InlineImage(message.body, self.mode, max_rows=None))

    def _show(self, widget) -> None:
        body = self.query_one("#viewer-body", VerticalScroll)
        body.remove_children()
        body.mount(widget)

    def action_toggle_images(self) -> None:
        if self.shown is not None:
            self.mode = "auto" if self.mode == "off" else "off"
            self._show(InlineImage(self.shown, self.mode, max_rows=None))

    def action_save(self) -> None:
        a = self.attachment
        self.app.push_screen(SaveFileScreen(f"attachment {a.filename}", a.filename),
                             lambda target: target and self._save(target))

    @work(thread=True, exclusive=True, exit_on_error=False, group="viewer-save", name="save the attachment")
    def _save(self, target: SaveTarget) -> None:
        _, data = services_of(self).attachment_bytes(self.attachment.id)
        write_private(target.path, data, overwrite=target.overwrite)
        self.post_message(FileSaved(target.path))

    def on_file_saved(self, message: FileSaved) -> None:
        self.notify(clean(f"saved {message.path}"), markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
