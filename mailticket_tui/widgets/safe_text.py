"""The one place where text from mail or a server becomes displayable: literal, and inert for the terminal.

Subjects, names, addresses, file names, bodies and server errors go through `clean()` (a str) or
`safe_text()` (a rich Text, which Textual never parses as markup). Control characters are made visible
instead of being sent to the terminal: C0 (ESC, NUL, BEL...) become their Unicode "control picture"
(ESC -> U+241B), DEL, C1 (incl. U+009B, the 8-bit CSI) and invisible format characters (bidi overrides such
as U+202E, zero-width characters, BOM) become `\\x9b` / `\\u202e`. An escape sequence therefore shows as
harmless text (`␛]52;c;...`) and never reaches the terminal. Used by every widget of the TUI.
"""
from __future__ import annotations

import re

from rich.text import Text

# C0 except tab/newline, DEL, C1, and the format (Cf) characters that reorder or hide text.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\U000110bd\U0001d173-\U0001d17a\U000e0000-\U000e007f"
    "\ud800-\udfff]"
)
CELL_LIMIT = 300  # a 2 MB subject must not make a table cell measure 2 MB of text


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # U+2400.. control pictures: ␀ ␛ ␇
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def clean(value: object, *, multiline: bool = False, limit: int | None = None) -> str:
    """`value` as text safe for a terminal; one line unless `multiline` (then CR LF -> LF, tabs kept).

    `limit` truncates (with an ellipsis) before cleaning so huge headers stay cheap.
    """
    text = "" if value is None else value if isinstance(value, str) else str(value)
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    else:
        text = text.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")
    return _UNSAFE.sub(_visible, text)


def safe_text(value: object, style: str = "", *, multiline: bool = False, limit: int | None = CELL_LIMIT) -> Text:
    """A rich Text of the cleaned value: shown literally by DataTable, Static, Label, OptionList."""
    return Text(clean(value, multiline=multiline, limit=limit), style=style, no_wrap=not multiline, end="")
