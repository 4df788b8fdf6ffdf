"""A handful of snapshots at 80x24 and 120x36: fixed data, relative paths, no engine and no cursor blink, so
the pictures only change when the UI does. Update them with `pytest --snapshot-update` after a wanted change.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from mailticket_tui.app import build_app

from .test_tui_support import add_messages, add_ticket, maildir_inbox, make_maildir, open_store, settle


@pytest.fixture
def app(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_maildir(tmp_path / "Maildir")
    make_maildir(tmp_path / "Sales")  # one inbox per folder (settings refuse two on the same one)
    services = open_store(tmp_path, maildir_inbox("support", Path("Maildir")) + maildir_inbox("sales", Path("Sales")),
                          relative=True)
    ticket = add_ticket("R-000042", "Printer on floor 3 jams", inbox="support")
    add_messages("support", 30, subject="Printer jams #{n}", ticket=ticket)
    add_messages("support", 3, subject="Who are you? #{n}", status="error",
                 error="caller: unknown sender and unknown_caller_behavior = reject_email")
    return build_app(services, start_engine=False)


def steady(*keys: str):
    async def run_before(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        for widget in pilot.app.screen.query(Input):
            widget.cursor_blink = False
        await pilot.pause()
    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
def test_inboxes(snap_compare, app, size) -> None:
    assert snap_compare(app, terminal_size=size, run_before=steady())


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
def test_mailbox(snap_compare, app, size) -> None:
    assert snap_compare(app, terminal_size=size, run_before=steady("down", "enter"))


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
def test_failed_mails_from_the_inboxes_screen(snap_compare, app, size) -> None:
    """`x` on an inbox: its failed mails with their reasons (the Error column shows the reason's class)."""
    assert snap_compare(app, terminal_size=size, run_before=steady("down", "x"))


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
def test_message_detail(snap_compare, app, size) -> None:
    assert snap_compare(app, terminal_size=size, run_before=steady("down", "x", "enter"))


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
def test_trace(snap_compare, app, size) -> None:
    assert snap_compare(app, terminal_size=size, run_before=steady("4"))


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
def test_people(snap_compare, app, size) -> None:
    assert snap_compare(app, terminal_size=size, run_before=steady("5"))


def test_ticket_detail(snap_compare, app) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=steady("3", "enter"))


def test_inbox_form(snap_compare, app) -> None:
    assert snap_compare(app, terminal_size=(120, 36), run_before=steady("e"))
