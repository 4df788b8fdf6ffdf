"""What `tickets show` and `outbox list` print, pinned byte for byte (JSON and text), and the frozen results
behind them: the JSON keys are a contract (DESIGN.md section 6), so a change of the service's return types must
leave these outputs as they are."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from mailticket_tui.cli import main
from mailticket_tui.services import open_services
from mailticket_tui.store.models import CaseLogEntry, Change, MailMessage, Outbox, Ticket

from .mailgen import make_mail

REF = "R-000003"
WHEN = dt.datetime(2026, 11, 20, 9, 30, 5)


@pytest.fixture
def desk(write_config, maildir: Path, store_url: str):
    """A store holding REF (a reply from a contact and a private operator entry in its case log, an attachment,
    two contacts, three history rows, a parent ticket) and two outbox rows (one sent, one waiting with an error);
    every date fixed so the output can be pinned."""
    config = write_config(f"""
        [[inbox]]
        name = "desk"
        protocol = "maildir"
        server = "{maildir}"
        login = "support@desk.example"
        unknown_caller_behavior = "create_contact"
        import_additional_contacts = "always"
        """)
    services = open_services(str(config), store_url)
    mails = [[make_mail(sender="Bob <bob@acme.example>", subject="Earlier issue", to="support@desk.example"),
              make_mail(sender="carol@acme.example", subject="Other issue", to="support@desk.example")],
             [make_mail(subject="Printer [bold]jams\x1b[2J", message_id="<first@acme.example>",
                        to="support@desk.example", cc="Bob <bob@acme.example>, carol@acme.example",
                        attachments=[("report.pdf", "application/pdf", b"%PDF-1")])],
             [make_mail(sender="Bob <bob@acme.example>", subject="Re: Printer jams", body="Mine too.\n",
                        message_id="<reply@acme.example>", in_reply_to="<first@acme.example>",
                        to="support@desk.example")]]
    for n, batch in enumerate(mails):
        for i, raw in enumerate(batch):
            (maildir / "new" / f"{n}{i}.M{n}{i}.t").write_bytes(raw)
        services.run_once()
    services.ticket_log(REF, "Called back.\x1b[31m red", public=False, who="operator")
    first = Ticket.get(Ticket.ref == REF)
    Ticket.update(created=WHEN, updated=WHEN).execute()
    Ticket.update(parent=Ticket.get(Ticket.ref == "R-000001")).where(Ticket.id == first.id).execute()
    for n, entry in enumerate(CaseLogEntry.select().order_by(CaseLogEntry.id)):
        CaseLogEntry.update(date=WHEN + dt.timedelta(minutes=n)).where(CaseLogEntry.id == entry.id).execute()
    Change.update(date=WHEN).execute()
    MailMessage.update(processed_at=WHEN).execute()  # the date of the audits the mail records carry
    Outbox.insert(kind="rejection", to_addr="x@else.example", from_addr="support@desk.example", subject="Re: hi",
                  message_id="<r1@desk.example>", created=WHEN, sent=WHEN, attempts=1).execute()
    Outbox.insert(kind="error_forward", to_addr="ops@desk.example", subject="error: \x1b[2Jboom",
                  message_id="<r2@desk.example>", created=WHEN, attempts=3,
                  last_error="SMTP 127.0.0.1:1: connection refused").execute()
    return services, ["--config", str(config), "--db", store_url]


def cli(capsys, *argv: str) -> str:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def printed(data) -> str:
    """What the CLI's --json prints for `data` (one line, UTF-8 kept)."""
    return json.dumps(data, ensure_ascii=False, indent=None) + "\n"


SHOW = {
    "ref": "R-000003", "class": "UserRequest", "title": "Printer [bold]jams [2J", "status": "new",
    "caller_email": "alice@acme.example", "org": "", "origin": "mail", "created": "2026-11-20 09:30:05",
    "updated": "2026-11-20 09:30:05", "priority": "low", "team": "", "agent": "", "service": "", "description": "<div>The printer on floor 3 jams.</div>",
    "contacts": ["bob@acme.example", "carol@acme.example"],
    "case_log": [
        {"log": "private_log", "author": "operator", "date": "2026-11-20 09:31:05",
         "text": "Called back.\x1b[31m red", "message_id": ""},
        {"log": "public_log", "author": "Bob <bob@acme.example>", "date": "2026-11-20 09:30:05", "text": "Mine too.",
         "message_id": "reply@acme.example"}],
    "attachments": [{"id": 1, "filename": "report.pdf", "content_type": "application/pdf", "size": 6, "inline": False,
                     "content_id": "", "sniffed_type": "application/pdf", "declared_type": "application/pdf",
                     "original_filename": "report.pdf", "content_id_aliases": []}],
    "history": [
        {"date": "2026-11-20 09:30:05", "who": "alice@acme.example",
         "fields": ["title", "description", "caller_id", "org_id", "origin", "status", "attachments", "contacts"],
         "summary": "created-by-mail from message <first@acme.example>"},
        {"date": "2026-11-20 09:30:05", "who": "bob@acme.example", "fields": ["public_log"],
         "summary": "updated-by-mail from message <reply@acme.example>"},
        {"date": "2026-11-20 09:30:05", "who": "operator", "fields": ["private_log"],
         "summary": "private_log entry by operator"}],
    "messages": ["first@acme.example", "reply@acme.example"],
    "parent": "R-000001",
    "stimuli": ["ev_assign", "ev_close", "ev_pending", "ev_resolve"],
    "mails": [
        {"id": 3, "inbox": "desk", "date": "2026-11-20 09:30:00", "from": "alice@acme.example",
         "subject": "Printer [bold]jams [2J", "status": "processed", "message_id": "first@acme.example"},
        {"id": 4, "inbox": "desk", "date": "2026-11-20 09:30:00", "from": "bob@acme.example",
         "subject": "Re: Printer jams", "status": "processed", "message_id": "reply@acme.example"}],
    "urgency": "low", "impact": "person", "service_subcategory": "", "agent_email": "", "extra": {}, "legacy_ref": "",
}

SHOW_TEXT = "\n".join([
    "R-000003 UserRequest [new] Printer [bold]jams [2J",
    "caller: alice@acme.example  org:   origin: mail  created: 2026-11-20 09:30:05  updated: 2026-11-20 09:30:05",
    "priority: low  urgency: low  impact: person",
    "follows: R-000001",
    "contacts: bob@acme.example, carol@acme.example",
    "",
    "The printer on floor 3 jams.",
    "",
    "--- 2026-11-20 09:31:05 private_log operator",
    "Called back.\\x1b[31m red",
    "",
    "--- 2026-11-20 09:30:05 public_log Bob <bob@acme.example>",
    "Mine too.",
    "",
    "attachment: report.pdf (application/pdf, 6 bytes)",
    "history: 2026-11-20 09:30:05 alice@acme.example: created-by-mail from message <first@acme.example> "
    "title,description,caller_id,org_id,origin,status,attachments,contacts",
    "history: 2026-11-20 09:30:05 bob@acme.example: updated-by-mail from message <reply@acme.example> public_log",
    "history: 2026-11-20 09:30:05 operator: private_log entry by operator private_log",
    "allowed stimuli: ev_assign, ev_close, ev_pending, ev_resolve",
    ""])

WAITING = {"id": 2, "kind": "error_forward", "to": "ops@desk.example", "from": "", "subject": "error: \x1b[2Jboom",
           "message_id": "<r2@desk.example>", "created": "2026-11-20 09:30:05", "sent": None, "attempts": 3,
           "last_error": "SMTP 127.0.0.1:1: connection refused"}
SENT = {"id": 1, "kind": "rejection", "to": "x@else.example", "from": "support@desk.example", "subject": "Re: hi",
        "message_id": "<r1@desk.example>", "created": "2026-11-20 09:30:05", "sent": "2026-11-20 09:30:05",
        "attempts": 1, "last_error": ""}

OUTBOX_TEXT = (
    "    2 error_forward ops@desk.example               error: \\x1b[2Jboom                       "
    "pending (3 attempts) SMTP 127.0.0.1:1: connection refused\n"
    "    1 rejection     x@else.example                 Re: hi                                   "
    "sent 2026-11-20 09:30:05\n")


def test_tickets_show_prints_the_same_bytes(desk, capsys) -> None:
    _, base = desk
    assert cli(capsys, *base, "tickets", "show", REF, "--json") == printed(SHOW)
    assert cli(capsys, *base, "tickets", "show", REF) == SHOW_TEXT


def test_outbox_list_prints_the_same_bytes(desk, capsys) -> None:
    _, base = desk
    assert cli(capsys, *base, "outbox", "list", "--json") == printed([WAITING, SENT])
    assert cli(capsys, *base, "outbox", "list", "--pending", "--json") == printed([WAITING])
    assert cli(capsys, *base, "outbox", "list") == OUTBOX_TEXT


def frozen_all_the_way(value) -> None:
    """No dict or list anywhere in a result: frozen dataclasses, tuples and scalars only."""
    assert not isinstance(value, (dict, list, set)), value
    if dataclasses.is_dataclass(value):
        assert type(value).__dataclass_params__.frozen, type(value).__name__
        for f in dataclasses.fields(value):
            frozen_all_the_way(getattr(value, f.name))
    elif isinstance(value, tuple):
        for item in value:
            frozen_all_the_way(item)


def test_results_are_frozen_dataclasses_with_the_json_shape(desk) -> None:
    services, _ = desk
    detail = services.get_ticket(REF)
    frozen_all_the_way(detail)
    assert detail.as_json() == SHOW
    entry = detail.case_log[1]
    assert (entry.log, entry.author, entry.text, entry.message_id) == (
        "public_log", "Bob <bob@acme.example>", "Mine too.", "reply@acme.example")
    (attachment,) = detail.attachments
    assert (attachment.id, attachment.filename, attachment.inline) == (1, "report.pdf", False)
    assert detail.history[0].fields[-1] == "contacts" and detail.history[2].who == "operator"
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.text = "changed"  # type: ignore[misc]
    rows = services.list_outbox()
    frozen_all_the_way(tuple(rows))
    assert [r.as_json() for r in rows] == [WAITING, SENT]
    assert rows[0].sent is None and rows[0].to_addr == "ops@desk.example"
    assert rows[1].from_addr == "support@desk.example"
    assert [r.id for r in services.list_outbox(pending_only=True)] == [2]


def test_ticket_mails_come_by_date_then_id_and_the_older_keys_keep_their_order(desk) -> None:
    """`mails` is ordered by the mail's date (an undated one by when it was first seen, the same on SQLite
    and PostgreSQL, which sort NULLs apart), ties by id; `messages` and `message_rows` stay in id order."""
    from mailticket_tui.store.models import MailMessage

    services, _ = desk
    MailMessage.update(date=WHEN - dt.timedelta(days=1)).where(MailMessage.id == 4).execute()
    detail = services.get_ticket(REF)
    assert [m.id for m in detail.mails] == [4, 3]
    assert detail.message_rows == (3, 4) and detail.messages == ("first@acme.example", "reply@acme.example")
    assert detail.message_inboxes == ("desk", "desk")
    MailMessage.update(date=None, first_seen=WHEN + dt.timedelta(days=1)).where(MailMessage.id == 4).execute()
    detail = services.get_ticket(REF)
    assert [(m.id, m.date) for m in detail.mails] == [(3, "2026-11-20 09:30:00"), (4, None)]
    assert detail.as_json()["mails"][1]["date"] is None
