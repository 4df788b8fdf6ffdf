"""Hostile text through every screen: markup, click actions, escape sequences (CSI, OSC 0/8/52), C1, bidi
overrides and NUL in subjects, names, addresses, file names, errors, traces and inbox names. The app keeps
running, shows the text literally, and no escape byte reaches the terminal.
"""
from __future__ import annotations

from pathlib import Path

from textual.widgets import Log

from mailticket_tui.app import build_app
from mailticket_tui.engine.events import MessageHandled, OutboxSent, TraceLine
from mailticket_tui.screens.help import HelpScreen
from mailticket_tui.screens.inbox_form import InboxFormScreen
from mailticket_tui.screens.inboxes import InboxesScreen
from mailticket_tui.screens.mailbox import MailboxScreen
from mailticket_tui.screens.message_detail import MessageDetailScreen
from mailticket_tui.screens.outcome import OutcomeScreen
from mailticket_tui.screens.ticket_detail import TicketDetailScreen
from mailticket_tui.screens.tickets import TicketsScreen
from mailticket_tui.screens.trace import INDENT, TraceScreen
from mailticket_tui.services import ActionResult
from mailticket_tui.store.models import DebugTrace, Inbox, InboxState

from .test_tui_support import (
    FORBIDDEN,
    HOSTILE,
    HOSTILE_SUBJECT,
    WHEN,
    add_messages,
    add_ticket,
    make_maildir,
    open_store,
    screen_output,
    settle,
)

PAYLOADS = ("\x1b[2J", "\x1b]0;", "\x1b]52;", "\x1b]8;;", "\x9b", "\x1b[31m")
NAME = "evil[b]x[/b][/]"


def assert_inert(app, where: str) -> None:
    assert app.is_running, f"the app died on {where}"
    text, terminal = screen_output(app)
    assert not any(ch in text for ch in FORBIDDEN), (where, text)
    assert not any(p in terminal for p in PAYLOADS), where


async def test_hostile_text_through_every_screen(tmp_path: Path) -> None:
    maildir = make_maildir(tmp_path / "M")
    services = open_store(tmp_path, f"""
        [[inbox]]
        name = '{NAME}'
        protocol = "maildir"
        server = "{maildir}"
        trace = true
        """)
    inbox = Inbox.get(Inbox.name == NAME)
    InboxState.create(inbox=inbox, folder="INBOX", last_error=HOSTILE_SUBJECT, error_streak=3, last_attempt=WHEN)
    for line in HOSTILE:
        DebugTrace.create(inbox=inbox, line=line)
    ticket = add_ticket("R-000001", HOSTILE_SUBJECT, caller="x\x1b]52;c;Zg==\x07@evil.example", inbox=NAME,
                        attachment_name="..\u202egpj.exe\x1b[2J[@click=app.quit]", log_text=HOSTILE_SUBJECT)
    for value in HOSTILE:
        add_messages(NAME, 1, subject=value, sender=value, error=value, status="error", ticket=ticket,
                     raw=f"Subject: {value}\r\nFrom: {value}\r\n\r\nbody".encode())

    app = build_app(services, start_engine=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, InboxesScreen)
        assert_inert(app, "inboxes")
        assert "[@click=app.quit]CLICK ME[/]" in screen_output(app)[0]  # literal, as typed
        assert app.engine_view.inboxes[0].error == HOSTILE_SUBJECT  # the stored last pass, in the status bar
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, InboxFormScreen)
        assert_inert(app, "inbox form")
        await pilot.press("escape")

        await app.open_mailbox(NAME)
        await settle(pilot)
        assert isinstance(app.screen, MailboxScreen) and app.screen.table.row_count == len(HOSTILE)
        assert_inert(app, "mailbox")
        await pilot.click("#mailbox-table", offset=(50, 2))  # on a "[@click=app.quit]" subject: no action
        await pilot.click("#mailbox-table", offset=(50, 3))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MessageDetailScreen)
        assert_inert(app, "message detail")
        await pilot.press("w")
        await settle(pilot)
        assert_inert(app, "message replay")
        await pilot.press("escape", "space", "i")
        await settle(pilot)
        assert_inert(app, "confirm")
        await pilot.press("y")
        await settle(pilot)
        assert_inert(app, "outcome")
        await pilot.press("escape")
        app.push_screen(OutcomeScreen("hostile", [ActionResult(1, False, value) for value in HOSTILE]))
        await settle(pilot)
        assert_inert(app, "outcome of hostile server errors")
        await pilot.press("escape")

        await pilot.press("3")
        await settle(pilot)
        assert isinstance(app.screen, TicketsScreen)
        assert_inert(app, "tickets")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        for tab in range(6):
            assert_inert(app, f"ticket tab {tab}")
            await pilot.press("right_square_bracket")
            await settle(pilot)
        await pilot.press("escape", "4")
        await settle(pilot)
        assert isinstance(app.screen, TraceScreen)
        for value in HOSTILE:  # the engine's live events carry server text too
            app._engine_report(TraceLine(NAME, value))
            app._engine_report(MessageHandled(NAME, 1, value, "error", None, value))
            app._engine_report(OutboxSent(0, value))  # an SMTP server's answer, shown in the status bar too
        await settle(pilot)
        shown = app.screen.query_one("#trace-engine-log", Log).lines  # long lines wrap: continuations indented
        assert len([line for line in shown if not line.startswith(INDENT)]) == 3 * len(HOSTILE)
        assert_inert(app, "trace")
        app.notify(HOSTILE_SUBJECT, markup=False)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "1")
        await settle(pilot)
        assert_inert(app, "back to inboxes")
        assert app.is_running
        await pilot.press("q")
    assert app.return_code == 0
