"""Trace mode: the stored debug trace of an inbox, live lines and the engine's event log, searchable."""
from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Log

from mailticket_tui.app import build_app
from mailticket_tui.screens.trace import INDENT, wrapped
from mailticket_tui.screens.trace import TraceScreen

from .test_tui_support import mail_bytes, maildir_inbox, make_maildir, open_store, settle


def lines(app, log_id: str) -> list[str]:
    return list(app.screen.query_one(log_id, Log).lines)


async def test_stored_trace_live_events_and_search(tmp_path: Path) -> None:
    maildir = make_maildir(tmp_path / "M")
    (maildir / "new" / "1.M1.test").write_bytes(mail_bytes("First"))
    services = open_store(tmp_path, maildir_inbox("support", maildir, "trace = true"))
    services.run_once()  # a pass before the TUI: its trace is in the store
    app = build_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        assert isinstance(app.screen, TraceScreen)
        stored = lines(app, "#trace-inbox-log")
        assert any("pass done" in line for line in stored)

        (maildir / "new" / "2.M2.test").write_bytes(mail_bytes("Second"))
        app.action_poll_now()
        for _ in range(200):
            await settle(pilot)
            if any("read 1" in line for line in lines(app, "#trace-engine-log")):
                break
        assert any("pass started: support" in line for line in lines(app, "#trace-engine-log"))
        handled = [line for line in lines(app, "#trace-engine-log") if "support: message #" in line]
        assert handled and "(file 2.M2.test" in handled[-1]  # store id first, the server key labelled
        assert len(lines(app, "#trace-inbox-log")) > len(stored)  # followed live

        app.screen.query_one("#trace-search", Input).value = "PASS DONE"
        await settle(pilot)
        inbox_lines, engine_lines = lines(app, "#trace-inbox-log"), lines(app, "#trace-engine-log")
        # a line longer than the log is wrapped: its continuation is indented, never past the right edge
        width = app.screen.query_one("#trace-inbox-log").scrollable_content_region.width
        for shown in (inbox_lines, engine_lines):
            assert shown and all("pass done" in line or line.startswith(INDENT) for line in shown)
            assert any(line.startswith(INDENT) for line in shown) and max(map(len, shown)) < width
        await pilot.press("q")


def test_wrapped_lines_keep_every_character_and_indent_continuations() -> None:
    line = "2026-11-30 12:00:00 pass done: " + "read 1, processed 1, errors 0, " * 5
    out = wrapped([line, "short", "esc \x1b[2J"], 40)
    assert all(len(piece) <= 40 for piece in out) and out[1].startswith(INDENT)
    assert " ".join(out[:-2]).split() == line.split()  # nothing lost
    assert out[-2] == "short" and "\x1b" not in out[-1]
    assert wrapped([line], 10) == [line]  # too narrow to wrap: left as it is (the Log scrolls)
