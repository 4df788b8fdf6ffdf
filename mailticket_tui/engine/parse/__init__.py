"""Reading mail right: MIME decoding, HTML to text, reply (new part) extraction, auto-mail detection.

Headless: this package never imports textual or rich. Public API (used by the runner, replay and tickets):
parse_message, extract_new_part, html_to_text, sanitize_html, text_to_html and the result dataclasses.
"""
from __future__ import annotations

import importlib
from typing import Any

# name -> the submodule that defines it, imported on first use: `settings` needs only parse.options, and
# the TUI's first screen none of the parser (HTML, MIME and reply modules cost a tenth of a second)
_EXPORTS = {
    "Address": "model", "NewPart": "model", "ParsedAttachment": "model", "ParsedMail": "model",
    "ParseOptions": "options", "extract_new_part": "reply", "html_to_text": "html", "parse_message": "message",
    "sanitize_html": "html", "text_to_html": "html",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value
