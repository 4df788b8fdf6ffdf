"""Result types of the parser: frozen, plain data, safe to hand to any thread or to JSON.

Nothing here parses (an HTML body's text is converted on first read); parse_message() and extract_new_part()
build these.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from .html import html_to_text


@dataclass(frozen=True)
class Address:
    """One mailbox. `email` is kept as written; compare with `key` (lower-cased)."""

    name: str
    email: str

    @property
    def key(self) -> str:
        return self.email.lower()

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


@dataclass(frozen=True)
class ParsedAttachment:
    """One non-body part. `filename` is safe to show and to use as a display name (never a path)."""

    filename: str
    original_filename: str
    content_type: str
    size: int
    payload: bytes = field(repr=False)
    inline: bool
    content_id: str | None
    sha256: str
    action: str = "keep"  # "keep" | "excluded"
    reason: str = ""
    declared_type: str = ""  # the Content-Type as written, when sniffing corrected it
    location: int | None = None  # where the part starts in the raw mail (parse/locate.py); None: not its own bytes


@dataclass(frozen=True)
class NewPart:
    """The new text of a reply. `text` keeps the signature unless ParseOptions.strip_signature."""

    text: str
    html: str | None
    method: str  # which detector cut it: "outlook-html", "on-wrote", "none", ...
    confident: bool
    quoted_text: str = ""
    signature: str = ""
    forwarded: bool = False
    defects: tuple[str, ...] = ()  # what went wrong cutting it (a regex that timed out, heavy HTML read as text)

    @property
    def text_without_signature(self) -> str:
        """The new text with a detected signature removed (whatever strip_signature said)."""
        if self.signature and self.text.endswith(self.signature):
            return self.text[: -len(self.signature)].rstrip()
        return self.text


@dataclass(frozen=True)
class ParsedMail:
    """Everything the engine needs from one raw message. Built by parse_message(), which never raises."""

    subject: str = ""
    from_: Address | None = None
    sender_candidates: tuple[Address, ...] = ()
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    return_path: str | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    date: datetime | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body_format: str = "none"  # "html" | "text" | "none"
    plain_text: str = ""  # body_text of a text body, known when parsed
    html_text_source: str | None = field(default=None, repr=False)  # an HTML body's HTML, made text on first read
    text_appendix: str = ""  # readable text of attached messages, after the body's
    body_html: str | None = None
    text_plain: str | None = None  # first text/plain body part, transfer- and charset-decoded, unmodified
    # the new part of a reply, cut on first read (a new request never needs it): given, or made by this
    new_part_given: NewPart | None = None
    new_part_maker: Callable[[], NewPart] | None = field(default=None, repr=False, compare=False)
    attachments: tuple[ParsedAttachment, ...] = ()
    auto_submitted: bool = False
    auto_kind: str | None = None  # autoreply | bounce | list | spam
    auto_reason: str | None = None
    undesired: bool = False
    undesired_reason: str | None = None
    bounce_status: str | None = None
    bounce_recipients: tuple[str, ...] = ()
    defects: tuple[str, ...] = ()
    error: str | None = None
    size: int = 0
    sha256: str = ""

    @property
    def new_part(self) -> NewPart:
        """The reply's new text (parse/reply.py), cut on first read: half of a backlog is new requests, whose
        whole body is the description, and cutting was a sixth of the parser's time."""
        if self.new_part_given is not None:
            return self.new_part_given
        found = self.__dict__.get("_new_part")
        if found is None:
            found = self.new_part_maker() if self.new_part_maker else NewPart("", None, "none", False)
            object.__setattr__(self, "_new_part", found)
        return found

    @property
    def body_text(self) -> str:
        """The body as text. An HTML body is converted on first read only: processing stores the HTML itself,
        and the conversion was a tenth of a backlog's CPU."""
        if self.html_text_source is None:
            return self.plain_text
        text = self.__dict__.get("_body_text")
        if text is None:
            text = html_to_text(self.html_text_source).rstrip()
            text = (text + "\n\n" + self.text_appendix).strip() if self.text_appendix else text
            object.__setattr__(self, "_body_text", text)  # a cache: the dataclass stays frozen for its fields
        return text

    def header(self, name: str) -> str | None:
        """First decoded value of a header, case-insensitive."""
        low = name.lower()
        for key, value in self.headers:
            if key.lower() == low:
                return value
        return None
