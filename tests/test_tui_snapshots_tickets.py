"""Snapshots of the Tickets mode and the ticket detail (overview and Mails tab) at 80x24 and 120x36: the
columns chosen for the width, the title taking the rest, dates with their year or relative, the footer's keys.

Fixed data, relative paths, no engine, no cursor blink; the clock (widgets/dates.utc_now) is pinned, and
the time zone is UTC for every test (conftest.py), so relative dates read the same in every run. Update with `pytest --snapshot-update` after a
wanted change, and read the SVG's text: nothing may be cut at the right edge.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mailticket_tui.app import build_app
from mailticket_tui.store.models import MailMessage, Ticket
from mailticket_tui.widgets import dates

from .test_tui_snapshots import steady
from .test_tui_support import WHEN, add_messages, add_ticket, maildir_inbox, make_maildir, open_store

NOW = WHEN + dt.timedelta(days=10, hours=3)  # 2026-11-30 12:30 UTC
SIZES = [(80, 24), (120, 36)]
TICKETS = [  # ref, title, caller, class, status, last update before NOW
    ("R-000007", "Printer on floor 3 jams every morning since the toner was replaced", "alice@acme.example",
     "UserRequest", "new", dt.timedelta(minutes=5)),
    ("I-000003", "VPN drops every 20 minutes for the whole sales team in Lyon", "bob.builder@sales.acme.example",
     "Incident", "assigned", dt.timedelta(hours=3)),
    ("R-000006", "Access to the shared drive", "carol@acme.example", "UserRequest", "pending", dt.timedelta(days=2)),
    ("C-000002", "Replace the core switch in room B12", "dave@acme.example", "Change", "implemented",
     dt.timedelta(days=10)),
    ("R-000001", "Old request from last year", "erin@acme.example", "UserRequest", "closed", dt.timedelta(days=400)),
]


@pytest.fixture
def app(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(dates, "utc_now", lambda: NOW.replace(tzinfo=dt.timezone.utc))
    make_maildir(tmp_path / "Maildir")
    make_maildir(tmp_path / "Sales")
    services = open_store(tmp_path, maildir_inbox("support", Path("Maildir")) + maildir_inbox("sales", Path("Sales")),
                          relative=True)
    for ref, title, caller, klass, status, age in reversed(TICKETS):
        add_ticket(ref, title, caller=caller, klass=klass, status=status, inbox="support")
        Ticket.update(updated=NOW - age).where(Ticket.ref == ref).execute()
    first = Ticket.get(Ticket.ref == "R-000007")
    add_messages("support", 2, subject="Printer jams again, floor 3, tray {n} (the big one near the window)",
                 sender="Alice Martin <alice@acme.example>", ticket=first)
    [other] = add_messages("sales", 1, subject="Re: Printer jams", sender="bob.builder@sales.acme.example",
                           status="error", ticket=first)
    MailMessage.update(date=WHEN - dt.timedelta(days=300)).where(MailMessage.id == other).execute()
    return build_app(services, start_engine=False)


@pytest.mark.parametrize("size", SIZES)
def test_tickets_mode(snap_compare, app, size) -> None:
    assert snap_compare(app, terminal_size=size, run_before=steady("3"))


@pytest.mark.parametrize("size", SIZES)
def test_ticket_detail_overview(snap_compare, app, size) -> None:
    assert snap_compare(app, terminal_size=size, run_before=steady("3", "enter"))


@pytest.mark.parametrize("size", SIZES)
def test_ticket_detail_mails(snap_compare, app, size) -> None:
    assert snap_compare(app, terminal_size=size, run_before=steady("3", "enter", "left_square_bracket"))
