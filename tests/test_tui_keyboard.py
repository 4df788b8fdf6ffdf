"""Keyboard alone (issue 14 point 5): Escape leaves every search or filter input for the table or log, digits
typed in an input stay text and the mode keys work again after Escape; checkboxes differ on and off.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Checkbox, DataTable, Input, Log

from mailticket_tui.app import build_app
from mailticket_tui.screens.inbox_form import InboxFormScreen
from mailticket_tui.screens.inboxes import InboxesScreen
from mailticket_tui.screens.mailbox import MailboxScreen
from mailticket_tui.screens.tickets import TicketsScreen
from mailticket_tui.screens.trace import TraceScreen
from mailticket_tui.widgets.settings_fields import FlagBox

from .test_tui_support import add_messages, add_ticket, maildir_inbox, make_maildir, open_store, settle


@pytest.fixture
def app(tmp_path: Path):
    services = open_store(tmp_path, maildir_inbox("support", make_maildir(tmp_path / "M")))
    add_messages("support", 3, ticket=add_ticket("R-000001", inbox="support"))
    return build_app(services, start_engine=False)


@pytest.mark.parametrize("mode, screen_type, input_id, home_type, next_mode, next_type", [
    ("4", TraceScreen, "#trace-search", Log, "1", InboxesScreen),
    ("2", MailboxScreen, "#mailbox-filter", DataTable, "3", TicketsScreen),
    ("3", TicketsScreen, "#tickets-filter", DataTable, "4", TraceScreen),
])
async def test_escape_leaves_the_input_and_mode_keys_work_again(app, mode, screen_type, input_id, home_type,
                                                                next_mode, next_type) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(mode)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, screen_type)
        await pilot.press("slash", "p", "1", "2")  # digits in an input are text, not mode keys
        await settle(pilot)
        box = screen.query_one(input_id, Input)
        assert app.screen is screen and app.focused is box and box.value == "p12"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.focused, home_type) and box.value == "p12"  # left, what was typed stays
        await pilot.press("slash", "enter")  # Enter applies the search or filter and leaves too
        await settle(pilot)
        assert isinstance(app.focused, home_type)
        await pilot.press(next_mode)
        await settle(pilot)
        assert isinstance(app.screen, next_type)


async def test_trace_search_enter_then_escape_then_mode_key(app) -> None:
    """The reported sequence: `/text` + Enter, Escape, then 1 goes to Inboxes (it typed digits before)."""
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("4", "slash", *"text", "enter", "escape")
        await settle(pilot)
        assert app.screen.query_one("#trace-search", Input).value == "text"
        await pilot.press("1")
        await settle(pilot)
        assert isinstance(app.screen, InboxesScreen)


async def test_escape_from_a_select_returns_to_the_table(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        app.screen.query_one("#mailbox-status").focus()
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.focused, DataTable)


async def test_checkboxes_look_different_on_and_off(app) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, InboxFormScreen)
        active = form.query_one("#field-active", Checkbox)
        trace = form.query_one("#field-trace", Checkbox)
        assert isinstance(active, FlagBox) and active.value and not trace.value
        assert str(active.render()).strip() == "[x] yes" and str(trace.render()).strip() == "[ ] no"
        assert active.has_class("-on") and not trace.has_class("-on")
        active.focus()
        await pilot.press("space")  # toggled by keyboard: the look follows
        await settle(pilot)
        assert not active.value and str(active.render()).strip() == "[ ] no" and not active.has_class("-on")
        await pilot.press("escape")
