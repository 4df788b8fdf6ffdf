"""Replies to our notifications, shaped as the usual mail clients write them, land on the right ticket by
header alone (no title_pattern, new subjects): Gmail (In-Reply-To + References, gmail_quote), Outlook
(Thread-Index and Thread-Topic, In-Reply-To, no References), Apple Mail (blockquote type=cite) and Thunderbird
(References folded with a tab). A former iTop's notification ids reach the ticket mapped to them with
`tickets legacy`; a forged or re-tagged id of ours threads nowhere."""
from __future__ import annotations

import base64
import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from mailticket_tui.cli import main
from mailticket_tui.services import open_services
from mailticket_tui.store.models import CaseLogEntry, Ticket

from .mailgen import make_mail
from .smtp_sink import smtp_sink

RULE = """
[[notification]]
name = "acknowledgement"
event = "created_by_mail"
"""


@pytest.fixture
def desk(write_config, maildir: Path, store_url: str):
    """Two tickets from two people, each acknowledged; yields (services, sink, base CLI args)."""
    with smtp_sink() as sink:
        config = write_config(f"""
[smtp]
server = "127.0.0.1"
port = {sink.port}
tls = "none"

[[inbox]]
name = "desk"
protocol = "maildir"
server = "{maildir}"
login = "support@desk.example"
unknown_caller_behavior = "create_contact"
{RULE}""")
        services = open_services(str(config), store_url)
        for n, sender in enumerate(("Alice <alice@acme.example>", "Bob <bob@acme.example>")):
            (maildir / "new" / f"{n}.M1.t").write_bytes(make_mail(sender=sender, subject=f"Request {n + 1}",
                                                                  message_id=f"<req{n + 1}@acme.example>"))
        services.run_once()
        assert [m["Subject"] for m in sink.messages] == ["[R-000001] Request 1", "[R-000002] Request 2"]
        yield services, sink, ["--config", str(config), "--db", store_url]


def reply(client: str, notification, sender: str, text: str) -> bytes:
    """`text` as `client` answers `notification` (an email.message from the SMTP sink)."""
    their_id, ours = notification["In-Reply-To"], notification["Message-ID"]
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@desk.example"
    msg["Subject"] = {"gmail": "Re: my printer", "outlook": "RE: follow-up", "apple": "Re: Request",
                      "thunderbird": "Re: news"}[client]
    msg["Date"] = format_datetime(dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.timezone.utc))
    msg["Message-ID"] = f"<{client}.{abs(hash(text))}@{sender.split('@')[1].rstrip('>')}>"
    quoted = "> " + notification.get_body(("plain",)).get_content().replace("\n", "\n> ")
    if client == "gmail":
        msg["In-Reply-To"] = ours
        msg["References"] = f"{their_id} {ours}"
        msg.set_content(f"{text}\n\nOn Fri, Nov 20, 2026 support wrote:\n{quoted}\n")
        msg.add_alternative(f'<div dir="ltr">{text}</div><br><div class="gmail_quote"><blockquote>'
                            "old</blockquote></div>", subtype="html")
    elif client == "outlook":
        msg["In-Reply-To"] = ours
        msg["Thread-Topic"] = notification["Subject"]
        msg["Thread-Index"] = base64.b64encode(b"\x01\xd9" + bytes(20)).decode()
        msg.set_content(f"{text}\n\nFrom: support@desk.example\nSent: Friday\nTo: you\nSubject: x\n\n{quoted}\n")
    elif client == "apple":
        msg["In-Reply-To"] = ours
        msg["References"] = f"{their_id} {ours}"
        msg.set_content(f"{text}\n\n> On 20 Nov 2026, at 09:31, support wrote:\n{quoted}\n")
        msg.add_alternative(f'<div>{text}</div><div><blockquote type="cite">old</blockquote></div>',
                            subtype="html")
    else:  # Thunderbird folds a long References header with a tab
        msg["In-Reply-To"] = ours
        msg["References"] = "FOLDED"
        msg.set_content(f"{text}\n\nOn 20/11/2026 09:31, support wrote:\n{quoted}\n")
        return bytes(msg).replace(b"References: FOLDED", f"References: {their_id}\n\t{ours}".encode(), 1)
    return bytes(msg)


@pytest.mark.parametrize("client", ["gmail", "outlook", "apple", "thunderbird"])
def test_a_reply_to_a_notification_lands_on_its_ticket(client, desk, maildir) -> None:
    services, sink, _ = desk
    (maildir / "new" / "r.M1.t").write_bytes(reply(client, sink.messages[1], "Bob <bob@acme.example>",
                                                   f"Answer from {client}"))
    services.run_once()
    assert Ticket.select().count() == 2
    entry = CaseLogEntry.get()
    assert (entry.ticket.ref, entry.author_email) == ("R-000002", "bob@acme.example")
    assert services.get_ticket("R-000002").case_log[0].text == f"Answer from {client}"
    trace = services.list_messages(status="processed")[0]
    assert "related: R-000002 from our Message-ID" in services.message_detail(trace.id)[1]


def test_outlook_reply_threads_by_our_id_alone(desk, maildir) -> None:
    """Outlook sends no References: only our signed In-Reply-To names the ticket (not a stored id)."""
    services, sink, _ = desk
    raw = reply("outlook", sink.messages[0], "alice@acme.example", "thanks")
    assert b"\nReferences:" not in raw and b"\nThread-Index:" in raw
    (maildir / "new" / "r.M1.t").write_bytes(raw)
    services.run_once()
    assert CaseLogEntry.get().ticket.ref == "R-000001"


def test_forged_or_retagged_ids_do_not_thread(desk, maildir) -> None:
    services, sink, _ = desk
    ours = sink.messages[0]["Message-ID"].strip("<>")  # mt.R-000001.<serial>.<tag>@desk.example
    _, ref, serial, tag = ours.split("@")[0].split(".")
    other_ticket = f"mt.R-000002.{serial}.{tag}@desk.example"  # R-000001's tag on another ref
    forged = f"mt.R-000001.{serial}.{'0' * 12}@desk.example"
    for n, mid in enumerate((other_ticket, forged)):
        (maildir / "new" / f"f{n}.M1.t").write_bytes(make_mail(sender="mallory@evil.example", subject="hi",
                                                               in_reply_to=f"<{mid}>"))
    services.run_once()
    assert Ticket.select().count() == 4 and CaseLogEntry.select().count() == 0


def test_replies_to_a_former_itops_notifications_find_the_migrated_ticket(desk, maildir, capsys) -> None:
    services, _, base = desk
    assert main([*base, "tickets", "legacy", "R-000002", "UserRequest::4711"]) == 0
    assert "R-000002: legacy ref UserRequest::4711" in capsys.readouterr().out
    mails = [make_mail(sender="bob@acme.example", subject="Re: old iTop ticket",
                       in_reply_to="<iTop_UserRequest_4711_1700000000.123456@prod.openitop.org>",
                       references="<iTop_UserRequest_4711@prod.openitop.org>"),
             make_mail(sender="bob@acme.example", subject="RE: again",
                       references="<iTop_UserRequest_4711@prod.openitop.org>"),
             make_mail(sender="bob@acme.example", subject="Re: not migrated",
                       in_reply_to="<iTop_UserRequest_99_1700000000.5@prod.openitop.org>")]
    for n, raw in enumerate(mails):
        (maildir / "new" / f"i{n}.M1.t").write_bytes(raw)
    services.run_once()
    assert [e.ticket.ref for e in CaseLogEntry.select().order_by(CaseLogEntry.id)] == ["R-000002", "R-000002"]
    assert Ticket.select().count() == 3  # the id no ticket holds made a new ticket
    assert services.get_ticket("R-000002").legacy_ref == "UserRequest::4711"
    history = services.get_ticket("R-000002").history
    assert any(h.fields == ("legacy_ref",) and h.summary == "legacy ref set to UserRequest::4711" for h in history)


def test_a_legacy_ref_is_checked(desk, capsys) -> None:
    _, _, base = desk
    assert main([*base, "tickets", "legacy", "R-000001", "UserRequest-12"]) == 2
    assert capsys.readouterr().err.strip().endswith(
        "legacy ref 'UserRequest-12' is not CLASS::ID; write it as iTop names it, e.g. UserRequest::123")
    assert main([*base, "tickets", "legacy", "R-000001", "Incident::7"]) == 0
    assert main([*base, "tickets", "legacy", "R-000002", "Incident::007"]) == 2
    assert "R-000001 already has the legacy ref Incident::7; clear it there first" in capsys.readouterr().err
