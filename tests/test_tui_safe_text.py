"""The one safe-text helper, the filter syntax, and the headless-boundary of the background engine."""
from __future__ import annotations

import subprocess
import sys

from rich.text import Text

from mailticket_tui.widgets.filter_query import parse_filter
from mailticket_tui.widgets.safe_text import clean, safe_text

from .test_tui_support import FORBIDDEN, HOSTILE


def test_clean_makes_every_control_visible_and_keeps_markup_literal() -> None:
    for value in HOSTILE:
        out = clean(value)
        assert not any(ch in out for ch in FORBIDDEN), repr(out)
        assert "\n" not in out
    assert clean("[@click=app.quit]x[/]") == "[@click=app.quit]x[/]"
    assert clean("a\x1b[2Jb") == "a␛[2Jb"
    assert clean("\x9b") == "\\x9b" and clean("\u202e") == "\\u202e" and clean("\x00") == "␀"
    assert clean("\U000e0041") == "\\U000e0041"  # invisible tag characters too


def test_clean_multiline_keeps_lines_and_normalises_breaks() -> None:
    assert clean("a\r\nb\rc\td", multiline=True) == "a\nb\nc    d"
    assert clean("a\r\nb\nc") == "a b c"


def test_clean_limit_and_non_strings() -> None:
    assert clean("x" * 10, limit=3) == "xxx…"
    assert clean(None) == "" and clean(42) == "42"


def test_safe_text_is_a_plain_text_object() -> None:
    text = safe_text("[bold]x[/] \x1b]52;c;Zg==\x07")
    assert isinstance(text, Text) and text.spans == []
    assert text.plain == "[bold]x[/] ␛]52;c;Zg==␇"


def test_parse_filter() -> None:
    assert parse_filter('status:error  "disk full" x', ("status",)) == ({"status": "error"}, "disk full x")
    assert parse_filter("class:Incident caller:bob unknown:1 'open", ("class", "caller")) == (
        {"class": "Incident", "caller": "bob"}, "unknown:1 'open")


def test_headless_modules_do_not_import_textual_or_rich() -> None:
    code = ("import sys, mailticket_tui.engine.background, mailticket_tui.services; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
