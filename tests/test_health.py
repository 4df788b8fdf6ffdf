"""Health at a glance (issue 14 point 1): per inbox, the connection and the messages kept apart, error reasons
grouped by class, what needs attention; `inbox list` shows it (its JSON only gains keys) and `status` exits 5
when something needs attention, for monitoring.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from mailticket_tui.cli import EXIT_ATTENTION, main
from mailticket_tui.services import health_summary, reason_class
from mailticket_tui.store.models import Inbox, InboxState, MailMessage, utcnow

from .test_tui_support import add_messages, maildir_inbox, make_maildir, open_store

OLD_KEYS = {"name", "protocol", "server", "port", "mailbox", "active", "last_success", "last_error", "error_streak",
            "counts"}


@pytest.mark.parametrize("text, expected", [
    # the texts the engine writes (engine/steps/, engine/process.py, engine/runner.py), variable parts varied
    ("unknown caller bob@example.org (unknown_caller_behavior = reject_email)", "unknown caller"),
    ("unknown caller eve@other.example (unknown_caller_behavior = reject_email)", "unknown caller"),
    ("message too big: 20971520 bytes (maximum_email_size 10M = 10485760 bytes); saved to /x.eml", "too big"),
    ("a reply to #12 (error), which has no ticket yet; retry #12 first, then this one (reset both)",
     "reply waits for its request"),
    ("internal error while processing: KeyError: 'x'", "internal error"),
    ("processed into R-000012, but move on the server failed: NO [TRYCREATE]; fix it, then reset this message",
     "server delete/move failed"),
    ("delete on the server failed: permission denied; fix it, then reset this message", "server delete/move failed"),
    ("unreadable message: empty message", "unreadable message"),
    ("no sender address in From", "no sender address"),
    ("ambiguous caller: 2 persons have the address a@b.c", "ambiguous caller"),
    ("R-000007 is closed: replies are rejected", "reply to a closed ticket"),
    ("bob@x.example may not update R-000001: not its caller or a contact", "sender may not update the ticket"),
    ("autoreply: Auto-Submitted: auto-replied", "auto-reply"),
    ("loop: sent from our own address help@example.org", "loop (our own address)"),
    ("subject matches undesired pattern '^Out Of Office'", "undesired subject"),
    ("", "no reason recorded"),
])
def test_reasons_are_classed_by_their_stable_start(text: str, expected: str) -> None:
    assert reason_class(text) == expected


def test_an_unknown_reason_groups_without_its_numbers_and_addresses() -> None:
    assert reason_class("quota exceeded 12: a@b.c") == reason_class("quota exceeded 13: d@e.f") == "quota exceeded n"


@pytest.fixture
def services(tmp_path: Path):
    services = open_store(tmp_path, maildir_inbox("support", make_maildir(tmp_path / "M"))
                          + maildir_inbox("sales", make_maildir(tmp_path / "S")))
    add_messages("support", 3, status="processed")
    add_messages("support", 12, status="error", error="unknown caller bob@x.example (unknown_caller_behavior = reject_email)")
    add_messages("support", 6, status="error", error="message too big: 123 bytes (maximum_email_size 10M = 10 bytes)")
    add_messages("support", 2, status="undesired", error="autoreply: Auto-Submitted: auto-replied")
    add_messages("sales", 2, status="processed")
    now = utcnow()
    for name in ("support", "sales"):
        InboxState.create(inbox=Inbox.get(Inbox.name == name), folder="INBOX", last_success=now - dt.timedelta(seconds=90),
                          last_attempt=now)
    return services


def test_health_keeps_connection_and_messages_apart(services) -> None:
    health = {h.name: h for h in services.health()}
    support, sales = health["support"], health["sales"]
    assert support.connection == sales.connection == "ok" and 90 <= support.lag_seconds < 200
    assert support.error_reasons == (("unknown caller", 12), ("too big", 6))
    assert support.undesired_reasons == (("auto-reply", 2),)
    assert support.messages_line() == "3 processed, 18 error (12 unknown caller, 6 too big), 2 undesired (2 auto-reply)"
    assert support.attention == ("18 in error (12 unknown caller, 6 too big)",) and not sales.attention
    assert health_summary(tuple(health.values())) == (
        "1 of 2 inboxes need attention · support: 18 in error (12 unknown caller, 6 too big)")


def test_failing_stale_and_waiting(services) -> None:
    sales = Inbox.get(Inbox.name == "sales")
    InboxState.update(error_streak=3, last_error="connection refused").where(InboxState.inbox == sales).execute()
    MailMessage.update(disposition_pending="move", on_server=True).where(MailMessage.inbox == sales).execute()
    health = {h.name: h for h in services.health()}
    assert health["sales"].connection == "failing" and health["sales"].waiting == 2
    assert health["sales"].attention == ("connection failing x3",)
    later = utcnow() + dt.timedelta(hours=2)
    health = {h.name: h for h in services.health(stale_after=3600, now=later)}
    assert health["support"].connection == "stale"
    assert health["support"].attention[0] == "no successful pass for 2h"


def test_inbox_list_json_only_adds_keys(services, tmp_path: Path, capsys) -> None:
    assert main(["--db", services.store_url, "inbox", "list", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    support = rows["support"]
    assert OLD_KEYS <= support.keys()
    assert support["counts"] == {"processed": 3, "error": 18, "undesired": 2}
    assert support["connection"] == "ok" and support["messages"]["error"] == 18 and support["messages"]["waiting"] == 0
    assert support["error_reasons"] == [{"reason": "unknown caller", "count": 12}, {"reason": "too big", "count": 6}]
    assert support["needs_attention"] is True and rows["sales"]["needs_attention"] is False


def test_inbox_list_text_starts_with_what_needs_attention(services, capsys) -> None:
    assert main(["--db", services.store_url, "inbox", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("1 of 2 inboxes need attention · support: 18 in error")
    assert "  messages:   3 processed, 18 error (12 unknown caller, 6 too big)" in "\n".join(lines)
    assert any(line.startswith("  connection: ok, last success ") for line in lines)


def test_status_exit_code_for_monitoring(services, capsys) -> None:
    assert main(["--db", services.store_url, "status", "--json"]) == EXIT_ATTENTION == 5
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["summary"].startswith("1 of 2 inboxes need attention")
    assert [i["name"] for i in report["inboxes"]] == ["sales", "support"]

    MailMessage.update(status="ignored").where(MailMessage.status == "error").execute()  # the operator dealt with them
    assert main(["--db", services.store_url, "status"]) == 0
    assert capsys.readouterr().out.startswith("all 2 inboxes OK")
    assert main(["--db", services.store_url, "status", "--stale-after", "10"]) == 5  # 90 s since the last success
    assert "no successful pass for 1m" in capsys.readouterr().out


async def test_inboxes_screen_shows_health_at_80_columns(services) -> None:
    from mailticket_tui.app import build_app

    from .test_tui_support import screen_output, settle

    app = build_app(services, start_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_output(app)[0]
        lines = text.splitlines()
        assert lines[1].strip().startswith("1 of 2 inboxes need attention · support: 18 in error")
        header = next(line for line in lines if "Connection" in line)
        assert "Messages" in header and "Errors" not in header
        row = next(line for line in lines if line.strip().startswith("support"))
        assert "ok · 1m" in row and "18 err (12 unknown caller, 6 too big)" in row
        assert app.screen.health["support"].count("error") == 18
        await pilot.press("down")  # the info line tells the highlighted inbox in full
        await settle(pilot)
        info = str(app.screen.query_one("#inbox-info").visual)
        assert "support · connection: ok, last success" in info and "18 error (12 unknown caller, 6 too big)" in info


async def test_failed_mails_are_two_keys_away_from_the_inboxes_screen(services) -> None:
    """Highlight the inbox, press x: its Mailbox, filtered to errors, with the reasons in the Error column."""
    from mailticket_tui.app import build_app
    from mailticket_tui.screens.mailbox import MailboxScreen

    from .test_tui_support import screen_output, settle

    app = build_app(services, start_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "x: the highlighted inbox's failed mails" in screen_output(app)[0]
        await pilot.press("down")  # support, the inbox with 18 errors
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MailboxScreen)
        assert (screen.query_state.inbox, screen.query_state.status) == ("support", "error")
        assert screen.rows and {row.status for row in screen.rows.values()} == {"error"}
