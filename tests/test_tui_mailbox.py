"""Mailbox mode: pages from the store, filters, multi-select with reset/ignore/delete (confirmed, outcome
per message), live updates from the engine, and the message detail (trace, headers, replay, save .eml).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from textual.widgets import Input, Static

from mailticket_tui.app import build_app
from mailticket_tui.engine.events import MessageHandled
from mailticket_tui.screens import mode_screen
from mailticket_tui.screens.confirm import ConfirmScreen
from mailticket_tui.screens.mailbox import PAGE, MailboxScreen
from mailticket_tui.screens.message_detail import MessageDetailScreen
from mailticket_tui.screens.outcome import OutcomeScreen
from mailticket_tui.screens.save_file import SaveFileScreen
from mailticket_tui.store.models import MailMessage
from mailticket_tui.widgets import dates
from mailticket_tui.widgets.engine_status import describe_event
from mailticket_tui.widgets.message_ref import server_line

from .test_tui_support import (WHEN, add_messages, add_ticket, mail_bytes, maildir_inbox, make_maildir, open_store,
                               settle)


def info(app) -> str:
    return str(app.screen.query_one("#mailbox-info", Static).visual)


def test_one_message_number_and_a_labelled_server_key() -> None:
    assert server_line("imap", "17", 17, "INBOX", True, 1712) == (
        "uid 17 in INBOX (uidvalidity 1712) · still on the server")
    assert server_line("imap", "<a@b>", 17, "Support", True) == (
        "uid 17, message-id <a@b> in Support · still on the server")
    assert server_line("pop3", "UIDL-9", None, "INBOX", False) == "uidl UIDL-9 · no longer on the server"
    assert server_line("maildir", "1.M1.host:2,S", None, "", True) == "file 1.M1.host:2,S · still on the server"
    event = MessageHandled("support", 12, "17", "processed", "R-000001", "created")
    assert describe_event(event, now=0, protocol_of=lambda inbox: "imap").endswith(
        "support: message #12 (uid 17) -> processed R-000001 created")
    assert "message #12 (key 17)" in describe_event(event, now=0)  # protocol unknown: neutral label


async def test_pages_through_the_store_and_filters(tmp_path: Path) -> None:
    services = open_store(tmp_path, maildir_inbox("support", make_maildir(tmp_path / "M")))
    add_messages("support", 430, subject="Printer jams #{n}")
    add_messages("support", 20, subject="Disk full #{n}", status="error", error="boom")
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # open the inbox under the cursor
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MailboxScreen)
        assert PAGE == 100
        assert screen.table.row_count == 100 and "rows 1-100 of 450" in info(app)
        assert screen.table.row_keys[0] == "450"  # newest first
        assert str(screen.table.ordered_columns[0].label).strip() == "#"  # first: visible at 80 columns
        assert str(screen.table.get_cell("450", "id")).strip() == "450"  # the store id, not the server's UID
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert "rows 101-200 of 450" in info(app)
        for _ in range(4):  # one more than there are pages: stays on the last
            await pilot.press("right_square_bracket")
            await settle(pilot)
        assert "rows 401-450 of 450" in info(app) and screen.table.row_count == 50
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert "rows 301-400" in info(app)

        await pilot.press("slash")
        await pilot.press(*"status:error disk")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.table.row_count == 20 and "rows 1-20" in info(app)
        assert {r.status for r in screen.rows.values()} == {"error"}
        await pilot.press("slash")
        screen.query_one("#mailbox-filter", Input).value = "#7"  # text only: the status filter goes
        await pilot.press("enter")
        await settle(pilot)
        subjects = [r.subject for r in screen.rows.values()]
        assert all("#7" in s for s in subjects) and {"Disk full #7", "Printer jams #7"} <= set(subjects)


async def test_select_then_ignore_reset_and_delete_with_confirmation(tmp_path: Path) -> None:
    services = open_store(tmp_path, maildir_inbox("support", make_maildir(tmp_path / "M")))
    ids = add_messages("support", 5, status="error", error="no caller")
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await app.open_mailbox("support")
        await settle(pilot)
        screen = app.screen
        await pilot.press("space", "space")  # the two newest
        assert set(screen.selected) == {ids[-1], ids[-2]}
        await pilot.press("i")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, OutcomeScreen)
        assert [(r.id, r.ok) for r in app.screen.results] == [(ids[-2], True), (ids[-1], True)]
        await pilot.press("escape")
        await settle(pilot)
        assert screen.rows[ids[-1]].status == "ignored" and not screen.selected

        await pilot.press("r", "n")  # refused: nothing happens
        await settle(pilot)
        assert MailMessage.get_by_id(ids[-1]).status == "ignored"
        under_cursor = int(screen.table.current_key)  # still on the server: vanished mail is not retried
        MailMessage.update(on_server=True).where(MailMessage.id == under_cursor).execute()
        await pilot.press("r", "y")  # the row under the cursor (no selection): back to new
        await settle(pilot)
        assert isinstance(app.screen, OutcomeScreen) and app.screen.results[0].ok
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("a", "d", "y")  # the whole page
        await settle(pilot)
        assert len(app.screen.results) == 5 and all(r.ok for r in app.screen.results)
        assert "already gone from the server" in app.screen.results[0].message
        await pilot.press("escape")
        await settle(pilot)
        assert screen.table.row_count == 0 and MailMessage.select().count() == 0


async def test_selection_is_kept_across_pages_and_counted(tmp_path: Path) -> None:
    services = open_store(tmp_path, maildir_inbox("support", make_maildir(tmp_path / "M")))
    ids = add_messages("support", PAGE + 50, status="error", error="no caller")
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await app.open_mailbox("support")
        await settle(pilot)
        screen = app.screen
        await pilot.press("space")  # the newest message, on page 1
        assert "1 selected" in info(app)  # counted at once, not at the next load
        await pilot.press("right_square_bracket")
        await settle(pilot)
        await pilot.press("space", "space")  # the two newest of page 2
        assert set(screen.selected) == {ids[-1], ids[-PAGE - 1], ids[-PAGE - 2]}
        assert "3 selected (2 on this page" in info(app)
        await pilot.press("a")  # the whole page 2 (50 rows) ...
        assert len(screen.selected) == 51
        await pilot.press("a")  # ... and unselected again: page 1's selection stays
        assert set(screen.selected) == {ids[-1]} and "1 selected (0 on this page" in info(app)
        second = int(screen.table.current_key)
        subject = screen.rows[second].subject
        await pilot.press("space")
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert "✓" in str(screen.table.get_cell(str(ids[-1]), "id"))  # still shown as selected on its page
        await pilot.press("i")  # applies to both pages' selection
        assert isinstance(app.screen, ConfirmScreen)
        question = str(app.screen.query_one("#question", Static).visual)
        assert "Ignore 2 message(s)?" in question
        assert f"#{second} {subject}" in question  # named although on another page
        await pilot.press("y")
        await settle(pilot)
        assert sorted(r.id for r in app.screen.results if r.ok) == sorted([ids[-1], second])
        await pilot.press("escape")
        await settle(pilot)
        assert not screen.selected and "selected" not in info(app)
        assert {MailMessage.get_by_id(i).status for i in (ids[-1], second)} == {"ignored"}
        await pilot.press("space", "u")
        assert not screen.selected


async def test_relative_dates_follow_the_clock_while_the_list_stays_open(tmp_path: Path, monkeypatch) -> None:
    """The Mailbox and Tickets lists redraw their "5 min ago" cells on the clock's tick, without a query."""
    clock = [WHEN.replace(tzinfo=dt.timezone.utc) + dt.timedelta(minutes=5)]
    monkeypatch.setattr(dates, "utc_now", lambda: clock[0])
    monkeypatch.setattr(mode_screen, "CLOCK_TICK", 0.05)
    services = open_store(tmp_path, maildir_inbox("support", make_maildir(tmp_path / "M")))
    add_messages("support", 1)  # dated WHEN
    add_ticket()  # updated WHEN
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(120, 24)) as pilot:
        await app.open_mailbox("support")
        await settle(pilot)
        mailbox = app.screen
        assert str(mailbox.table.get_cell("1", "date")).strip() == "5 min ago"
        await app.switch_mode("tickets")
        await settle(pilot)
        tickets = app.screen
        assert str(tickets.table.get_cell("R-000001", "updated")).strip() == "5 min ago"
        clock[0] += dt.timedelta(hours=2)
        for _ in range(100):
            await pilot.pause(0.05)
            if str(tickets.table.get_cell("R-000001", "updated")).strip() == "2 h ago":
                break
        assert str(tickets.table.get_cell("R-000001", "updated")).strip() == "2 h ago"
        assert str(mailbox.table.get_cell("1", "date")).strip() == "5 min ago"  # not shown: not redrawn
        await app.switch_mode("mailbox")
        await pilot.pause()
        assert str(mailbox.table.get_cell("1", "date")).strip() == "2 h ago"  # shown again: redrawn at once
        await pilot.press("q")


async def test_rows_follow_the_engine_live(tmp_path: Path) -> None:
    maildir = make_maildir(tmp_path / "M")
    services = open_store(tmp_path, maildir_inbox("support", maildir))
    app = build_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        while not (app.engine_view.state and app.engine_view.state.passes):  # the first pass found nothing
            await pilot.pause(0.05)
        await app.open_mailbox("support")
        await settle(pilot)
        screen = app.screen
        assert screen.table.row_count == 0
        for n in range(3):
            (maildir / "new" / f"{n}.M{n}.test").write_bytes(mail_bytes(f"Live #{n}"))
        app.action_poll_now()
        for _ in range(200):
            await settle(pilot)
            if screen.table.row_count == 3 and all(r.status == "processed" for r in screen.rows.values()):
                break
        assert sorted(r.subject for r in screen.rows.values()) == ["Live #0", "Live #1", "Live #2"]
        await pilot.press("q")


async def test_message_detail_replay_and_save(tmp_path: Path) -> None:
    services = open_store(tmp_path, maildir_inbox("support", make_maildir(tmp_path / "M"))
                          + maildir_inbox("sales", make_maildir(tmp_path / "S")))
    add_messages("sales", 1)  # so that the store id (2) and the server's key (1) differ
    raw = mail_bytes("Printer jams on floor 3")
    [message_id] = add_messages("support", 1, status="error", error="caller unknown", raw=raw)
    assert message_id == 2
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await app.open_mailbox("support", message_id)
        await settle(pilot)
        assert isinstance(app.screen, MessageDetailScreen)
        text = " ".join(str(w.visual) for w in app.screen.query(Static))
        assert text.startswith(f"Message #{message_id}\n")  # the store id, as `messages reset ID` takes it
        assert "Server: file 1 · no longer on the server" in text  # the server's key, labelled, apart
        assert "caller unknown" in text and "decision: error" in text
        assert "Subject: Printer jams on floor 3" in text  # raw headers
        await pilot.press("w")
        await settle(pilot)
        replay = str(app.screen.query_one("#detail-replay", Static).visual)
        assert "What would happen now" in replay and "decision: create" in replay
        await pilot.press("s")
        assert isinstance(app.screen, SaveFileScreen)
        target = tmp_path / "saved.eml"
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        assert target.read_bytes() == raw
        await pilot.press("escape")
        assert isinstance(app.screen, MailboxScreen)


async def test_scan_shows_server_mail_not_processed_yet(tmp_path: Path) -> None:
    maildir = make_maildir(tmp_path / "M")
    services = open_store(tmp_path, maildir_inbox("support", maildir))
    for n in range(2):
        (maildir / "new" / f"{n}.M{n}.test").write_bytes(mail_bytes(f"Waiting #{n}"))
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.open_mailbox("support")
        await settle(pilot)
        screen = app.screen
        assert screen.table.row_count == 0
        await pilot.press("s")
        for _ in range(100):
            await settle(pilot)
            if screen.table.row_count == 2:
                break
        assert sorted((r.subject, r.status) for r in screen.rows.values()) == [
            ("Waiting #0", "new"), ("Waiting #1", "new")]
        assert MailMessage.select().where(MailMessage.status == "new").count() == 2
        await pilot.press("q")
