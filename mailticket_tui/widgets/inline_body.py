"""A mail text with its images in place: the HTML cut at each `<img src="cid:...">` (engine/inline_parts.py),
text pieces as literal text, each image as an InlineImage; image files not referenced by the text follow
under "Attached images". `[image: ...]` lines stand in when images are off or unreadable.

Loading (a ticket's stored HTML and attachments, or a raw mail parsed on the spot) runs in this widget's
thread worker (bytes from the store, Pillow decoding); its failure reaches
the screen's WorkerFailures like any worker's (Worker.StateChanged bubbles). The decoded pieces are kept,
so turning images off and on (`set_mode`) redraws without loading again.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from rich.text import Text
from textual import work
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker

from ..engine.inline_parts import resolve_cid, split_at_images
from ..engine.parse import parse_message, text_to_html
from ..screens.base import WorkerFailures
from .inline_image import InlineImage, ShownImage, load_image
from .dates import when
from .safe_text import clean

MAX_ENTRIES = 500  # case log entries drawn (newest first); the CLI's `tickets show` prints them all
MAX_ATTACHED = 10  # attached (not referenced) images shown under the text; the viewer shows any one
TEXT_LIMIT = 200_000


def is_image(att) -> bool:
    return att.content_type.startswith("image/")


@dataclass(frozen=True)
class MailPart:
    """A part of a raw mail, shaped like services.AttachmentItem for resolve_cid and pieces."""

    id: int
    filename: str
    content_type: str
    content_id: str
    content_id_aliases: tuple[str, ...] = ()


def pieces(html: str, attachments: Sequence, fetch: Callable[[int], bytes],
           attached: bool = True, message_id: str = "") -> list[tuple[str, object]]:
    """("text", str) / ("image", ShownImage) / ("heading", str) in reading order; decodes images (slow: a worker).
    `attached`: image files the HTML does not name follow under "Attached images". `message_id`: of the mail
    that wrote `html`, whose own parts a shared Content-ID names first."""
    parts: list[tuple[str, object]] = []
    shown: set[int] = set()
    for kind, value in split_at_images(html):
        if kind == "text":
            parts.append(("text", value))
            continue
        att = resolve_cid(attachments, value, message_id)
        if att is None or not is_image(att):
            parts.append(("text", f"[image: cid:{value} not found]"))
        elif att.id not in shown:
            shown.add(att.id)
            parts.append(("image", load_image(att.filename, fetch(att.id))))
    others = [att for att in attachments if is_image(att) and att.id not in shown][:MAX_ATTACHED] if attached else []
    if others:
        parts.append(("heading", "Attached images"))
        parts.extend(("image", load_image(att.filename, fetch(att.id))) for att in others)
    return parts


class InlineBody(WorkerFailures, Vertical):
    """Text and images of one body; `load(...)` fills it, `set_mode(...)` redraws. A failed load is notified
    (screens/base.py: a widget's worker events do not reach its screen) and said in place of the body."""

    DEFAULT_CSS = """
    InlineBody { height: auto; }
    InlineBody > .inline-text { height: auto; }
    InlineBody > .inline-heading { height: auto; margin: 1 0 0 0; text-style: bold underline; }
    """

    class Loaded(Message):
        def __init__(self, parts: list[tuple[str, object]]) -> None:
            super().__init__()
            self.parts = parts

    def __init__(self, mode: str = "auto", **kwargs) -> None:
        super().__init__(**kwargs)
        self.mode = mode
        self.parts: list[tuple[str, object]] = []

    @work(thread=True, exclusive=True, exit_on_error=False, group="inline-images", name="show the images")
    def load(self, html: str, attachments: Sequence, fetch: Callable[[int], bytes]) -> None:
        """A ticket's HTML and its attachments (services.AttachmentItem; bytes by `fetch(id)`), in this thread."""
        self.post_message(self.Loaded(pieces(html, attachments, fetch)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="inline-images", name="show the case log")
    def load_entries(self, entries: Sequence, attachments: Sequence, fetch: Callable[[int], bytes]) -> None:
        """Case log entries (services.CaseLogItem), each under its heading, with the images its HTML names."""
        parts: list[tuple[str, object]] = []
        for entry in entries[:MAX_ENTRIES]:
            parts.append(("heading", f"{when(entry.date)} · {entry.log} · {entry.author}"))
            parts.extend(pieces(entry.html, attachments, fetch, attached=False, message_id=entry.message_id)
                         if entry.html else [("text", entry.text)])
        self.post_message(self.Loaded(parts or [("text", "(empty)")]))

    @work(thread=True, exclusive=True, exit_on_error=False, group="inline-images", name="show the mail")
    def load_mail(self, raw: bytes) -> None:
        """A raw mail: parsed here (the parser never raises), its body with the images of its own parts."""
        parsed = parse_message(raw)
        parts = [MailPart(n, a.filename, a.content_type, a.content_id or "") for n, a in enumerate(parsed.attachments)]
        html = parsed.body_html or text_to_html(parsed.body_text)
        self.post_message(self.Loaded(pieces(html, parts, lambda n: parsed.attachments[n].payload)))

    def on_inline_body_loaded(self, message: Loaded) -> None:
        message.stop()
        self.parts = message.parts
        self._draw()

    def worker_failed(self, worker: Worker, line: str) -> None:
        self.parts = [("text", line)]
        self._draw()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self._draw()

    def _draw(self) -> None:
        with self.app.batch_update():
            self.remove_children()
            widgets = []
            for kind, value in self.parts:
                if kind == "image" and isinstance(value, ShownImage):
                    widgets.append(InlineImage(value, self.mode))
                else:
                    text = Text(clean(str(value), multiline=True, limit=TEXT_LIMIT))
                    widgets.append(Static(text, markup=False,
                                          classes="inline-heading" if kind == "heading" else "inline-text"))
            self.mount_all(widgets)
