"""Ticket rules end to end: raw mails APPENDed to the private Dovecot, `run --once`, then the store.

Behaviours, classes, threading (our Message-IDs, stored Message-IDs, title pattern), closed tickets,
strangers, callers, default values, contacts, stimuli, audit.
"""
from __future__ import annotations

import json

import pytest

from mailticket_tui.cli import main
from mailticket_tui.engine.threading import make_message_id, store_secret
from mailticket_tui.engine.records import history, thread_tickets
from mailticket_tui.engine.ticket_files import attachment_bytes
from mailticket_tui.services import open_services
from mailticket_tui.store.models import (
    CaseLogEntry,
    ExtraEmail,
    MailMessage,
    MessageRef,
    Organization,
    Person,
    Service,
    Ticket,
    TicketContact,
)

from .desk import Desk
from .mailgen import make_mail


@pytest.fixture
def desk(mail_account, tmp_path):
    harness = Desk(mail_account, tmp_path)
    yield harness
    harness.close()


def log_texts(ticket: Ticket) -> list[str]:
    return [e.html for e in CaseLogEntry.select().where(CaseLogEntry.ticket == ticket).order_by(CaseLogEntry.id)]


# ---------------------------------------------------------------- behaviours and classes

def test_behaviour_both_creates_then_updates(desk: Desk) -> None:
    desk.send(make_mail(subject="Disk full", message_id="<d1@acme.example>"))
    desk.run()
    desk.send(make_mail(subject="Re: Disk full", body="Now at 100%.\n", in_reply_to="<d1@acme.example>"))
    desk.run()
    ticket = desk.ticket("Disk full")
    assert len(desk.tickets()) == 1 and "Now at 100%." in log_texts(ticket)[0]
    assert [e.summary.split()[0] for e in history(ticket.id)] == ["created-by-mail", "updated-by-mail"]


def test_behaviour_create_only_ignores_the_thread(desk: Desk) -> None:
    desk.configure(behavior="create_only")
    desk.send(make_mail(subject="Disk full", message_id="<d1@acme.example>"))
    desk.send(make_mail(subject="Re: Disk full", in_reply_to="<d1@acme.example>"))
    desk.run()
    assert len(desk.tickets()) == 2


def test_behaviour_update_only_without_ticket_is_an_error(desk: Desk) -> None:
    desk.configure(behavior="update_only")
    desk.send(make_mail(subject="Fresh request"))
    desk.run()
    row = desk.last_message()
    assert row.status == "error" and "nothing to update" in row.error and not desk.tickets()


@pytest.mark.parametrize(("klass", "prefix"), [("UserRequest", "R-"), ("Incident", "I-"), ("Change", "C-"),
                                               ("Problem", "P-")])
def test_each_class_has_its_prefix(desk: Desk, klass: str, prefix: str) -> None:
    desk.configure(target_class=klass)
    desk.send(make_mail(subject=f"A {klass}"))
    desk.run()
    ticket = desk.ticket(f"A {klass}")
    assert ticket.klass == klass and ticket.ref.startswith(prefix) and len(ticket.ref) == 8
    assert ticket.status == "new"


def test_update_of_a_ticket_of_another_class_is_an_error(desk: Desk) -> None:
    desk.configure(title_pattern=r"\[([RI]-\d{6})\]")
    desk.send(make_mail(subject="Outage"))
    desk.run()
    ref = desk.ticket("Outage").ref
    desk.configure(title_pattern=r"\[([RI]-\d{6})\]", target_class="Incident")
    desk.send(make_mail(subject=f"Re: [{ref}] Outage"))
    desk.run()
    row = desk.last_message()
    assert row.status == "error" and f"{ref} is a UserRequest" in row.error


# ---------------------------------------------------------------- threading

def test_our_own_message_ids_thread_and_forged_ones_do_not(desk: Desk) -> None:
    desk.send(make_mail(subject="Password reset"))
    desk.run()
    ticket = desk.ticket("Password reset")
    ours = make_message_id(ticket.ref, 7, "desk.example", store_secret())
    forged = ours[:-len("@desk.example") - 12] + "0" * 12 + "@desk.example"
    folded = f"References: <x@y>\n\t<{ours}>\nSubject:".encode()  # folded with a tab
    desk.send(make_mail(subject="Re: anything", body="via our id\n").replace(b"Subject:", folded, 1))
    desk.send(make_mail(subject="Sneaky", body="forged\n", in_reply_to=f"<{forged}>"))
    desk.run()
    assert [t.title for t in desk.tickets()] == ["Password reset", "Sneaky"]
    assert "via our id" in log_texts(ticket)[0]


def test_stored_message_id_threads_after_the_mail_left_the_server(desk: Desk) -> None:
    desk.configure(email_storage="delete")
    desk.send(make_mail(subject="Laptop broken", message_id="<lap-1@acme.example>"))
    desk.run()
    assert desk.account.message_count() == 0
    assert thread_tickets(["lap-1@acme.example"])  # the record, off the server, is the thread entry
    desk.send(make_mail(subject="Re: Laptop broken", body="Screen too.\n",
                        references="<other@x> <lap-1@acme.example>"))
    desk.run()
    assert len(desk.tickets()) == 1 and "Screen too." in log_texts(desk.ticket("Laptop broken"))[0]


def test_thread_and_history_outlive_the_mail_records(desk: Desk) -> None:
    """Deleting records (an operator, vanished_retention_days, the inbox itself) moves their thread entries
    and audits to message_ref and change first: replies still thread, the history keeps every line."""
    desk.configure(email_storage="delete")
    desk.send(make_mail(subject="Monitor dead", message_id="<mon-1@acme.example>"))
    desk.run()
    desk.send(make_mail(subject="Re: Monitor dead", body="Still dead.\n", message_id="<mon-2@acme.example>",
                        in_reply_to="<mon-1@acme.example>"))
    desk.run()
    ticket = desk.ticket("Monitor dead")
    before = [(e.who, e.fields, e.summary) for e in history(ticket.id)]
    assert len(before) == 2 and MessageRef.select().count() == 0
    ids = [r.id for r in MailMessage.select(MailMessage.id)]
    services = open_services(str(desk.config), desk.store)
    assert all(r.ok for r in services.delete_messages(ids))
    assert MailMessage.select().count() == 0
    assert [(e.who, e.fields, e.summary) for e in history(ticket.id)] == before
    assert {r.message_id for r in MessageRef.select()} == {"mon-1@acme.example", "mon-2@acme.example"}
    desk.send(make_mail(subject="Re: Re: Monitor dead", body="And smoking.\n", in_reply_to="<mon-2@acme.example>"))
    desk.run()
    assert len(desk.tickets()) == 1 and "And smoking." in log_texts(ticket)[-1]


def test_title_pattern_tries_every_group(desk: Desk) -> None:
    desk.configure(title_pattern=r"/(?:ticket (\d{6}))|\[(R-\d{6})\]/i")
    desk.send(make_mail(subject="Printer"))
    desk.run()
    ref = desk.ticket("Printer").ref
    desk.send(make_mail(subject=f"RE: [{ref}] Printer", body="first\n"))
    desk.send(make_mail(subject=f"About TICKET {ref[2:]}", body="second\n"))
    desk.send(make_mail(subject="About ticket 999999", body="third\n"))
    desk.run()
    assert len(desk.tickets()) == 2
    assert len(log_texts(desk.ticket("Printer"))) == 2


@pytest.mark.parametrize("rule", ["reopen", "new_linked", "reject"])
def test_reply_to_a_closed_ticket(desk: Desk, rule: str) -> None:
    desk.configure(closed_ticket_behavior=rule)
    desk.send(make_mail(subject="VPN", message_id="<vpn@acme.example>"))
    desk.run()
    ref = desk.ticket("VPN").ref
    assert main(["--db", desk.store, "tickets", "stimulus", ref, "ev_close"]) == 0
    desk.send(make_mail(subject="Re: VPN", body="again broken\n", in_reply_to="<vpn@acme.example>"))
    desk.run()
    old = Ticket.get(Ticket.ref == ref)
    row = desk.last_message()
    if rule == "reopen":
        assert old.status == "assigned" and "again broken" in log_texts(old)[0] and len(desk.tickets()) == 1
    elif rule == "new_linked":
        assert old.status == "closed" and len(desk.tickets()) == 2
        assert desk.tickets()[1].parent_id == old.id and row.status == "processed"
    else:
        assert row.status == "error" and "is closed" in row.error and len(desk.tickets()) == 1


@pytest.mark.parametrize("rule", ["accept", "private", "reject"])
def test_reply_from_a_stranger(desk: Desk, rule: str) -> None:
    desk.configure(other_sender_behavior=rule)
    desk.send(make_mail(subject="Salary question", message_id="<sal@acme.example>"))
    desk.run()
    desk.send(make_mail(subject="Re: Salary question", sender="mallory@evil.example", body="forged reply\n",
                        in_reply_to="<sal@acme.example>"))
    desk.run()
    ticket = desk.ticket("Salary question")
    entries = list(CaseLogEntry.select().where(CaseLogEntry.ticket == ticket))
    if rule == "reject":
        assert not entries and desk.last_message().status == "error"
    else:
        assert len(entries) == 1 and entries[0].log == ("private_log" if rule == "private" else "public_log")


@pytest.mark.parametrize("replying_from", ["carol@acme.example", "Carol <Carol@Home.example>"])  # primary, extra
def test_a_contact_may_reply(desk: Desk, replying_from: str) -> None:
    carol = desk.person("carol@acme.example", name="Carol")
    ExtraEmail.create(person=carol, email="carol@home.example")
    desk.configure(other_sender_behavior="reject", import_additional_contacts="always")
    desk.send(make_mail(subject="Shared", cc="Carol <CAROL@acme.example>", message_id="<sh@acme.example>"))
    desk.run()
    desk.send(make_mail(subject="Re: Shared", sender=replying_from, body="me too\n",
                        in_reply_to="<sh@acme.example>"))
    desk.run()
    row = desk.last_message()
    assert row.status == "processed", row.error
    assert "is a contact of" in row.trace


def test_additional_contacts_found_by_their_extra_addresses(desk: Desk) -> None:
    dave = desk.person("dave@acme.example", name="Dave")
    ExtraEmail.create(person=dave, email="dave@home.example")
    twin = desk.person("erin@acme.example", name="Erin, inactive", active=False)
    erin = desk.person("erin@acme.example", name="Erin")
    desk.configure(import_additional_contacts="always")
    desk.send(make_mail(subject="Home address", cc="DAVE@home.example, erin@acme.example"))
    desk.send(make_mail(subject="Both addresses", cc="dave@home.example, dave@acme.example"))
    desk.run()

    def contacts(title: str) -> list[int]:
        return [c.person_id for c in TicketContact.select().where(TicketContact.ticket == desk.ticket(title))
                .order_by(TicketContact.person)]
    assert contacts("Home address") == sorted([dave.id, erin.id]) and twin.id not in contacts("Home address")
    assert contacts("Both addresses") == [dave.id]  # once


# ---------------------------------------------------------------- callers

def test_ambiguous_callers(desk: Desk) -> None:
    desk.person("twin@acme.example", name="Inactive", active=False)
    first = Person.create(email="twin@acme.example", name="Active one")
    Person.create(email="twin@acme.example", name="Active two")
    desk.send(make_mail(subject="Who am I", sender="twin@acme.example"))
    desk.run()
    row = desk.last_message()
    assert desk.ticket("Who am I").caller_id == first.id and "3 persons share" in row.trace
    desk.configure(ambiguous_caller_behavior="error")
    desk.send(make_mail(subject="Who am I again", sender="twin@acme.example"))
    desk.run()
    assert desk.last_message().status == "error" and "ambiguous caller" in desk.last_message().error


@pytest.mark.parametrize(("display", "first", "last"), [
    ('"Doe, John" <x@acme.example>', "John", "Doe"),
    ("x@acme.example", "", "x"),
    ("john.doe@acme.example", "John", "Doe"),
    ("=?utf-8?q?Fran=C3=A7oise_M=C3=BCller?= <x@acme.example>", "Françoise", "Müller"),
])
def test_new_caller_names_from_the_display_name(desk: Desk, display: str, first: str, last: str) -> None:
    desk.send(make_mail(subject="hello", sender=display))
    desk.run()
    person = Ticket.get().caller
    assert (person.first_name, person.name) == (first, last)


def test_caller_defaults_and_org_by_domain(desk: Desk) -> None:
    desk.configure(caller_default_values={"first_name": "Unknown", "phone": "000"},
                   org_domains={"acme.example": "ACME"})
    desk.send(make_mail(subject="hi", sender="New Person <newbie@acme.example>"))
    desk.run()
    person = Person.get(Person.email == "newbie@acme.example")
    assert (person.first_name, person.name, person.phone, person.org.name) == ("Unknown", "Person", "000", "ACME")
    assert Ticket.get().org.name == "ACME"


def test_unknown_caller_rejected(desk: Desk) -> None:
    desk.configure(unknown_caller_behavior="reject_email")
    desk.send(make_mail(subject="spam?", sender="who@nowhere.example"))
    desk.run()
    assert desk.last_message().status == "error" and not Person.select().exists()


# ---------------------------------------------------------------- creation mapping

def test_default_values_by_id_by_name_and_invalid(desk: Desk) -> None:
    desk.run()
    email_service = Service.create(name="Email")
    Service.create(name="Network")
    org = Organization.create(name="Demo Org")
    desk.configure(ticket_default_values=f"service_id:{email_service.id}\npriority:High\norg_id:demo org")
    desk.send(make_mail(subject="by id"))
    desk.run()
    ticket = desk.ticket("by id")
    assert (ticket.service_id, ticket.priority, ticket.org_id) == (email_service.id, 2, org.id)

    desk.configure(ticket_default_values={"service_id": "NETWORK", "urgency": "1", "colour": "blue"})
    desk.send(make_mail(subject="by name"))
    desk.run()
    ticket = desk.ticket("by name")
    assert ticket.service.name == "Network" and ticket.urgency == 1
    assert "unknown ticket field" in desk.last_message().trace  # reported, not fatal

    desk.configure(ticket_default_values={"org_id": "No Such Org"})
    desk.send(make_mail(subject="invalid mandatory"))
    desk.run()
    row = desk.last_message()
    assert row.status == "error" and "No Such Org" in row.error
    assert not Ticket.select().where(Ticket.title == "invalid mandatory").exists()


def test_long_title_is_cut_safely_and_html_is_sanitised(desk: Desk) -> None:
    title = "Ünïcödé 😀 " * 40
    html = '<p onclick="x()">Hello <img src="http://tracker.example/p.gif"><script>alert(1)</script></p>'
    desk.send(make_mail(subject=title, html=html))
    desk.run()
    ticket = Ticket.get()
    assert len(ticket.title) <= 255 and ticket.title.startswith("Ünïcödé 😀")
    for bad in ("onclick", "<script", "tracker.example"):
        assert bad not in ticket.description


# ---------------------------------------------------------------- update mapping, contacts, stimuli

def test_update_goes_to_the_configured_log_with_author_and_message_id(desk: Desk) -> None:
    desk.configure(engine={}, title_pattern=r"\[(R-\d{6})\]")
    desk.send(make_mail(subject="Leak"))
    desk.run()
    ticket = desk.ticket("Leak")
    desk.config.write_text(desk.config.read_text().replace("[org_domains]", '[ticket_log]\nUserRequest = "private_log"\n\n[org_domains]'))
    main(["--db", desk.store, "config", "import", str(desk.config)])
    desk.send(make_mail(subject=f"Re: [{ticket.ref}] Leak", sender="Alice Martin <alice@acme.example>",
                        message_id="<leak-2@acme.example>", body="Water everywhere.\n\n> quoted\n"))
    desk.run()
    entry = CaseLogEntry.get(CaseLogEntry.ticket == ticket)
    assert (entry.log, entry.author_name, entry.author_email, entry.message_id) == (
        "private_log", "Alice Martin", "alice@acme.example", "leak-2@acme.example")
    assert "Water everywhere." in entry.html and "quoted" not in entry.html
    assert Ticket.get_by_id(ticket.id).title == "Leak"


def test_additional_contacts_exclude_caller_inbox_and_aliases(desk: Desk) -> None:
    for email in ("bob@acme.example", "helpdesk-alias@acme.example", "carol@acme.example"):
        desk.person(email)
    desk.configure(import_additional_contacts="only_on_creation", aliases=["HELPDESK-alias@acme.example"])
    desk.send(make_mail(subject="Team issue", to=f"{desk.account.login}, Bob <BOB@acme.example>",
                        cc="helpdesk-alias@acme.example, carol@acme.example, ghost@acme.example, bob@acme.example",
                        message_id="<team@acme.example>"))
    desk.run()
    ticket = desk.ticket("Team issue")
    contacts = sorted(c.person.email for c in TicketContact.select().where(TicketContact.ticket == ticket))
    assert contacts == ["bob@acme.example", "carol@acme.example"]
    desk.person("dave@acme.example")
    desk.send(make_mail(subject="Re: Team issue", cc="dave@acme.example", in_reply_to="<team@acme.example>"))
    desk.run()
    assert TicketContact.select().where(TicketContact.ticket == ticket).count() == 2  # only_on_creation


def test_stimuli_on_and_off_a_valid_transition(desk: Desk) -> None:
    desk.configure(stimuli="pending:ev_reopen\nnew:ev_close_typo")
    desk.send(make_mail(subject="Wait", message_id="<w@acme.example>"))
    desk.run()
    ticket = desk.ticket("Wait")
    desk.send(make_mail(subject="Re: Wait", in_reply_to="<w@acme.example>"))
    desk.run()
    assert "ev_close_typo is not allowed" in desk.last_message().trace
    assert Ticket.get_by_id(ticket.id).status == "new"
    assert main(["--db", desk.store, "tickets", "stimulus", ticket.ref, "ev_pending"]) == 0
    desk.send(make_mail(subject="Re: Wait", in_reply_to="<w@acme.example>"))
    desk.run()
    assert Ticket.get_by_id(ticket.id).status == "assigned"


def test_audit_change_per_message_and_tickets_show(desk: Desk, capsys) -> None:
    desk.send(make_mail(subject="Audit me", message_id="<a1@acme.example>"))
    desk.run()
    desk.send(make_mail(subject="Re: Audit me", in_reply_to="<a1@acme.example>", body="more\n"))
    desk.run()
    ticket = desk.ticket("Audit me")
    assert len(history(ticket.id)) == 2
    assert main(["--db", desk.store, "tickets", "log", ticket.ref, "--private", "internal note"]) == 0
    capsys.readouterr()
    assert main(["--db", desk.store, "tickets", "show", ticket.ref, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [c["log"] for c in shown["case_log"]] == ["private_log", "public_log"]  # newest first
    assert len(shown["history"]) == 3 and shown["messages"] == ["a1@acme.example", MailMessage.select().order_by(
        MailMessage.id.desc()).get().message_id]
    assert main(["--db", desk.store, "tickets", "stimulus", ticket.ref, "ev_plan"]) == 2
    assert "not allowed" in capsys.readouterr().err


@pytest.mark.parametrize(("rule", "known", "status", "on_server", "tickets"), [
    ("undesired", True, "undesired", 1, 0), ("delete", True, "undesired", 0, 0), ("ignored", True, "ignored", 1, 0),
    ("process", True, "processed", 1, 1), ("process", False, "error", 1, 0)])
def test_auto_mail_behaviour(desk: Desk, rule: str, known: bool, status: str, on_server: int, tickets: int) -> None:
    from mailticket_tui.store.models import Outbox

    desk.configure(auto_mail_behavior=rule, unknown_caller_behavior="reject_email",
                   unknown_caller_rejection_reply="never sent to robots")
    if known:
        desk.person("robot@acme.example")
    desk.send(make_mail(subject="Automatic reply: away", sender="robot@acme.example",
                        headers={"Auto-Submitted": "auto-replied"}))
    desk.run()
    row = desk.last_message()
    assert (row.status, desk.account.message_count(), len(desk.tickets())) == (status, on_server, tickets)
    assert "autoreply" in row.trace
    assert not Outbox.select().exists()  # a machine is never answered


def test_overflowing_description_is_kept_whole_as_an_attachment(desk: Desk, monkeypatch) -> None:
    from mailticket_tui.engine import tickets
    from mailticket_tui.store.models import Attachment

    monkeypatch.setattr(tickets, "DESCRIPTION_MAX", 200)
    body = "".join(f"<p>paragraph {i} <b>bold</b></p>" for i in range(40))
    desk.send(make_mail(subject="Long one", html=body))
    desk.run()
    ticket = desk.ticket("Long one")
    assert len(ticket.description) <= 220 and ticket.description.count("<b>") == ticket.description.count("</b>")
    original = Attachment.get(Attachment.ticket == ticket, Attachment.filename == "original-description.html")
    assert b"paragraph 39" in attachment_bytes(original)
    assert "the whole one is attached" in desk.last_message().trace


# ---------------------------------------------------------------- loops: mail from our own addresses

def test_mail_from_our_own_address_is_a_loop_never_a_ticket_nor_answered(desk: Desk) -> None:
    from mailticket_tui.store.models import Outbox

    desk.configure(aliases=["Help@example.test"], unknown_caller_behavior="reject_email",
                   unknown_caller_rejection_reply="would loop")
    desk.send(make_mail(subject="Our own reply", sender=f"Support <{desk.account.login.upper()}>"))
    desk.send(make_mail(subject="Via the alias", sender="help@EXAMPLE.test"))
    desk.run()
    rows = list(MailMessage.select().order_by(MailMessage.id))
    assert [(r.status, r.error) for r in rows] == [
        ("undesired", f"loop: sent from our own address {desk.account.login.lower()}"),
        ("undesired", "loop: sent from our own address help@example.test")]
    trace = rows[0].trace.splitlines()
    steps = [line.split(":")[0] for line in trace]
    assert steps.index("auto-mail") < steps.index("loop") and "caller" not in steps  # before the caller step
    assert not desk.tickets() and not Person.select().exists() and not Outbox.select().exists()


def test_a_customer_who_copies_our_address_is_processed(desk: Desk) -> None:
    desk.configure(aliases=["help@example.test"])
    desk.send(make_mail(subject="Copying you", to="someone@acme.example",
                        cc=f"{desk.account.login}, help@example.test",
                        headers={"Sender": desk.account.login, "Return-Path": "<help@example.test>"}))
    desk.run()
    row = desk.last_message()
    assert row.status == "processed" and "loop: the sender is not one of our own addresses" in row.trace
    assert desk.ticket("Copying you").caller.email == "alice@acme.example"


def test_aliases_of_other_inboxes_and_our_smtp_sender_count_too(desk: Desk, tmp_path) -> None:
    desk.configure()
    desk.config.write_text(desk.config.read_text() + f"""
[[inbox]]
name = "sales"
protocol = "maildir"
server = "{tmp_path / 'sales'}"
active = false
aliases = ["Sales@acme.example"]
notify_errors_from = "errors@acme.example"

[smtp]
sender = "noreply@acme.example"
""")
    for sender in ("sales@ACME.example", "noreply@acme.example", "errors@acme.example", "bob@acme.example"):
        desk.send(make_mail(subject=f"from {sender}", sender=sender))
    desk.run()
    outcomes = [(r.from_addr.lower(), r.status) for r in MailMessage.select().order_by(MailMessage.id)]
    assert outcomes == [("sales@acme.example", "undesired"), ("noreply@acme.example", "undesired"),
                        ("errors@acme.example", "undesired"), ("bob@acme.example", "processed")]
    assert [t.title for t in desk.tickets()] == ["from bob@acme.example"]
