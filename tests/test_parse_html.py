"""HTML to text, sanitising and text to HTML."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from mailticket_tui.engine.parse import html_to_text, sanitize_html, text_to_html


def test_links_lists_and_line_breaks() -> None:
    html = ('<p>See <a href="https://example.com/doc">the doc</a> or <a href="mailto:a@b.c">a@b.c</a>.</p>'
            "<ul><li>one</li><li>two</li></ul><div>line1<br>line2</div>")
    text = html_to_text(html)
    assert "the doc (https://example.com/doc)" in text
    assert "a@b.c (" not in text
    assert "* one" in text and "* two" in text
    assert "line1\nline2" in text


def test_head_style_script_never_leak() -> None:
    html = ("<html><head><title>SECRET TITLE</title><style type='text/css'>p{color:red}</style></head>"
            "<body><script>alert('x')</script><!-- hidden comment --><p>visible</p><style>.a{}</style></body></html>")
    text = html_to_text(html)
    assert text.strip() == "visible"


def test_markdown_escapes_are_removed() -> None:
    assert html_to_text("<p>- item * star_under 1. one</p>") == "- item * star_under 1. one"


@pytest.mark.timeout(30)
def test_deep_nested_lists_do_not_blow_up() -> None:
    html = "<ul><li>" * 5000 + "deep" + "</li></ul>" * 5000
    start = time.perf_counter()
    text = html_to_text(html)
    assert time.perf_counter() - start < 5 and len(text) < 50_000 and "deep" in text
    start = time.perf_counter()
    clean = sanitize_html(html)
    assert time.perf_counter() - start < 5 and "deep" in clean


def test_sanitize_removes_active_and_remote_content() -> None:
    html = ('<p onclick="x()">Hi<script>alert(1)</script><img src="https://tracker.example/p.gif">'
            '<img src="cid:logo@x"><img src="data:image/png;base64,AAAA"><a href="javascript:evil()">j</a>'
            '<iframe src="https://x"></iframe><form><input></form><a href="https://ok.example">ok</a></p>')
    clean = sanitize_html(html)
    for bad in ("onclick", "script", "tracker.example", "javascript:", "iframe", "<form", "<input"):
        assert bad not in clean
    assert 'src="cid:logo@x"' in clean and "data:image/png" in clean and 'href="https://ok.example"' in clean


def test_text_to_html_escapes_and_keeps_lines() -> None:
    html = text_to_html("a <b>\n[@click=app.quit] & more")
    assert "&lt;b&gt;" in html and "<br>" in html and "&amp;" in html


def test_parse_package_is_headless() -> None:
    code = ("import sys, mailticket_tui.engine.parse as p; "
            "p.parse_message(b'Subject: x\\r\\n\\r\\nhi'); "
            "bad=[m for m in sys.modules if m.split('.')[0] in ('textual','rich')]; print(bad); sys.exit(bool(bad))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
