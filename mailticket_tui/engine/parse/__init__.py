"""Reading mail right: MIME decoding, HTML to text, reply (new part) extraction, auto-mail detection.

Headless: this package never imports textual or rich. Public API (used by the runner, replay and tickets):
parse_message, extract_new_part, html_to_text, sanitize_html, text_to_html and the result dataclasses.
"""
from __future__ import annotations

from .html import html_to_text, sanitize_html, text_to_html
from .message import parse_message
from .model import Address, NewPart, ParsedAttachment, ParsedMail
from .options import ParseOptions
from .reply import extract_new_part

__all__ = [
    "Address",
    "NewPart",
    "ParseOptions",
    "ParsedAttachment",
    "ParsedMail",
    "extract_new_part",
    "html_to_text",
    "parse_message",
    "sanitize_html",
    "text_to_html",
]
