"""Notifications ([[notification]] rules): what fires them, who receives them, what they say, and what a sent
one carries (our signed Message-ID, In-Reply-To and References to the ticket's thread, Auto-Submitted), read
back from a real SMTP server (aiosmtpd). Loop guards: no answer to auto-mail, never to our own addresses, a
cap per address. The Outbox rows commit with the work that caused them, or not at all."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from mailticket_tui.engine.notifications import PER_HOUR, render
from mailticket_tui.engine.outbound import send_outbox
from mailticket_tui.engine.threading import store_secret, ticket_ref_from_message_id
from mailticket_tui.services import TicketFilter, open_services
from mailticket_tui.settings import SettingsError, settings_from_dict
from mailticket_tui.store.models import Outbox, Person, Team, TeamMember, Ticket

from .mailgen import make_mail
from .smtp_sink import smtp_sink

ACK = """
[[notification]]
name = "acknowledgement"
event = "created_by_mail"
recipients = ["caller"]
subject = "[{ref}] {title}"
body = "Hello {caller_name},\\nwe opened {ref} ({status}, priority {priority}).\\n{link}\\n"
link = "https://desk.example/ticket/{ref}"
"""


@pytest.fixture
def sink():
    with smtp_sink() as running:
        yield running


def open_desk(write_config, maildir: Path, port: int, rules: str = ACK, **inbox: str):
    extra = "\n".join(f"{k} = {v}" for k, v in inbox.items())
    config = write_config(f"""
[smtp]
server = "127.0.0.1"
port = {port}
tls = "none"
sender = "helpdesk@desk.example"

[[inbox]]
name = "desk"
protocol = "maildir"
server = "{maildir}"
login = "support@desk.example"
aliases = ["help@desk.example"]
unknown_caller_behavior = "create_contact"
{extra}
{rules}
""")
    return open_services(str(config), f"sqlite:///{maildir.parent / 'store.db'}")


def deliver(services, maildir: Path, name: str, raw: bytes):
    (maildir / "new" / f"{name}.M1.test").write_bytes(raw)
    return services.run_once()


def test_the_caller_gets_an_acknowledgement_that_threads(sink, write_config, maildir) -> None:
    services = open_desk(write_config, maildir, sink.port)
    deliver(services, maildir, "1", make_mail(sender="Alice Martin <alice@acme.example>", subject="Printer jams",
                                              message_id="<req1@acme.example>"))
    (ack,) = sink.messages
    assert (ack["To"], ack["From"], ack["Subject"]) == ("alice@acme.example", "support@desk.example",
                                                        "[R-000001] Printer jams")
    assert sink.body(ack) == ("Hello Alice Martin,\nwe opened R-000001 (new, priority low).\n"
                              "https://desk.example/ticket/R-000001\n")
    assert ack["Auto-Submitted"] == "auto-replied"  # RFC 3834: a direct answer to the requester's mail
    assert ack["In-Reply-To"] == "<req1@acme.example>" and ack["References"] == "<req1@acme.example>"
    message_id = ack["Message-ID"].strip("<>")
    assert re.fullmatch(r"mt\.R-000001\.\d+\.[0-9a-f]{12}@desk\.example", message_id)
    assert ticket_ref_from_message_id(message_id, store_secret()) == "R-000001"
    row = Outbox.get()
    assert (row.kind, row.ticket.ref, row.mail.message_id, row.sent is not None) == (
        "notification", "R-000001", "req1@acme.example", True)
    assert "notify: acknowledgement: created_by_mail mail to alice@acme.example queued" in row.mail.trace


def test_an_update_notification_carries_the_whole_thread(sink, write_config, maildir) -> None:
    rules = ACK + """
[[notification]]
name = "update"
event = "updated_by_mail"
recipients = ["caller", "contacts"]
skip_author = true
body = "{log_author} wrote:\\n{log_entry}\\n"
"""
    services = open_desk(write_config, maildir, sink.port, rules, import_additional_contacts='"always"')
    bob = Person.create(email="bob@acme.example", first_name="Bob", name="Builder")
    deliver(services, maildir, "1", make_mail(message_id="<req1@acme.example>", cc="bob@acme.example"))
    deliver(services, maildir, "2", make_mail(sender="Bob <bob@acme.example>", subject="Re: Printer jams",
                                              body="Mine too.\n", message_id="<re2@acme.example>",
                                              in_reply_to="<req1@acme.example>"))
    ack, update = sink.messages
    assert update["To"] == "alice@acme.example" and not sink.to(bob.email), "skip_author: not to Bob himself"
    assert update["In-Reply-To"] == "<re2@acme.example>"
    assert update["References"] == f"<req1@acme.example> {ack['Message-ID']} <re2@acme.example>"
    assert sink.body(update) == "Bob wrote:\nMine too.\n"
    assert update["Message-ID"] != ack["Message-ID"]


def test_recipients_team_agent_contacts_fixed_and_never_ourselves(sink, write_config, maildir) -> None:
    rules = """
[[notification]]
name = "dispatch"
event = "created_by_mail"
recipients = ["team", "agent", "contacts", "ops@desk.example", "help@desk.example", "caller"]
"""
    services = open_desk(write_config, maildir, sink.port, rules, import_additional_contacts='"always"',
                         ticket_default_values='{ team = "Network", agent = "Nina Agent" }')
    network = Team.create(name="Network", email="")
    for address, first in (("tom@desk.example", "Tom"), ("una@desk.example", "Una")):
        TeamMember.create(team=network, person=Person.create(email=address, first_name=first, name="Member"))
    Person.create(email="nina@desk.example", first_name="Nina", name="Agent")
    Person.create(email="gone@acme.example", name="Gone", active=False)
    Person.create(email="carol@acme.example", name="Carol")
    deliver(services, maildir, "1", make_mail(cc="carol@acme.example, gone@acme.example"))
    assert sorted(m["To"] for m in sink.messages) == [
        "alice@acme.example", "carol@acme.example", "nina@desk.example", "ops@desk.example", "tom@desk.example",
        "una@desk.example"]
    trace = Outbox.get(Outbox.to_addr == "ops@desk.example").mail.trace
    assert "not to help@desk.example, one of our own addresses (mail loop)" in trace
    Team.update(email="network@desk.example").execute()
    deliver(services, maildir, "2", make_mail(subject="second"))
    assert [m["To"] for m in sink.messages[6:] if "second" in m["Subject"]].count("network@desk.example") == 1


def test_operator_actions_notify_and_their_rows_commit_with_the_action(sink, write_config, maildir) -> None:
    rules = """
[[notification]]
name = "resolved"
event = "resolved"
subject = "Resolved: [{ref}] {title}"
body = "{log_author}"

[[notification]]
name = "log"
event = "log_entry"
body = "{log_author}: {log_entry}"

[[notification]]
name = "private"
event = "private_log_entry"
recipients = ["ops@desk.example"]
body = "{log_entry}"
"""
    services = open_desk(write_config, maildir, sink.port, rules)
    deliver(services, maildir, "1", make_mail(message_id="<req1@acme.example>"))
    assert Outbox.select().count() == 0 and not sink.messages  # no rule for creation: nothing unasked
    services.ticket_log("R-000001", "We ordered a new drum.", who="Olga")
    services.ticket_log("R-000001", "internal note", public=False, who="Olga")
    services.ticket_stimulus("R-000001", "ev_resolve", who="Olga")
    assert [(o.kind, o.to_addr, o.sent) for o in Outbox.select().order_by(Outbox.id)] == [
        ("notification", "alice@acme.example", None), ("notification", "ops@desk.example", None),
        ("notification", "alice@acme.example", None)]
    assert send_outbox(services.settings) == (3, None)
    log, private, resolved = sink.messages
    assert sink.body(log) == "Olga: We ordered a new drum.\n" and sink.body(private) == "internal note\n"
    assert resolved["Subject"] == "Resolved: [R-000001] Printer jams" and sink.body(resolved) == "Olga\n"
    assert resolved["Auto-Submitted"] == "auto-generated"  # an operator's action, not an answer to a mail
    assert resolved["In-Reply-To"] == "<req1@acme.example>"
    assert ticket_ref_from_message_id(resolved["Message-ID"], store_secret()) == "R-000001"


def test_no_answer_to_auto_mail_and_a_cap_per_address(sink, write_config, maildir) -> None:
    services = open_desk(write_config, maildir, sink.port, auto_mail_behavior='"process"')
    deliver(services, maildir, "0", make_mail(subject="Out of office", headers={"Auto-Submitted": "auto-replied"}))
    assert Ticket.select().count() == 1 and not sink.messages
    assert "auto-submitted" in Ticket.get().messages.get().trace
    for n in range(PER_HOUR + 2):
        (maildir / "new" / f"{n + 1}.M1.test").write_bytes(make_mail(subject=f"request {n}"))
    services.run_once()
    assert len(sink.to("alice@acme.example")) == PER_HOUR
    traces = "\n".join(t.messages.get().trace for t in Ticket.select())
    assert traces.count(f"already {PER_HOUR} notifications to it this hour") == 2


def test_a_rolled_back_message_leaves_no_notification(sink, write_config, maildir) -> None:
    services = open_desk(write_config, maildir, sink.port, ticket_default_values='{ team = "Nope" }')
    deliver(services, maildir, "1", make_mail())
    (row,) = services.list_messages()
    assert row.status == "error" and row.error == "ticket default values: default team='Nope': no team with that " \
                                                  "id or name"
    assert Outbox.select().count() == 0 and Ticket.select().count() == 0 and not sink.messages


def test_inactive_rules_and_other_inboxes_send_nothing(sink, write_config, maildir) -> None:
    rules = ACK.replace('name = "acknowledgement"', 'name = "off"\nactive = false') + ACK.replace(
        "recipients", 'inboxes = ["other"]\nrecipients')
    services = open_desk(write_config, maildir, sink.port, rules)
    deliver(services, maildir, "1", make_mail())
    assert Ticket.select().count() == 1 and Outbox.select().count() == 0


def test_templates_insert_mail_text_as_data() -> None:
    values = {"ref": "R-000001", "title": "{ref} and {link}\r\nBcc: victim@else.example"}
    assert render("[{ref}] {title} {unknown}", values) == \
        "[R-000001] {ref} and {link}\r\nBcc: victim@else.example {unknown}"


def test_hostile_subject_stays_one_header_line(sink, write_config, maildir) -> None:
    services = open_desk(write_config, maildir, sink.port)
    injected = b"Subject: =?utf-8?q?Hi=0D=0ABcc=3A_victim=40else=2Eexample?="
    deliver(services, maildir, "1", make_mail(subject="Hi").replace(b"Subject: Hi", injected, 1))
    (ack,) = sink.messages
    assert ack["Bcc"] is None and "\n" not in ack["Subject"] and sink.rcpts == [["alice@acme.example"]]


@pytest.mark.parametrize(("rule", "problem"), [
    ({"recipients": ["caller", "the boss"]},
     "notification[0].recipients[1]: 'the boss' is neither one of caller, contacts, team, agent nor an email"),
    ({"subject": "[{reff}] {title}"}, "notification[0].subject: unknown placeholder {reff} (did you mean 'ref'?)"),
    ({"event": "created"}, "notification[0].event: unknown value 'created' (did you mean 'created_by_mail'?)"),
])
def test_bad_rules_are_refused_with_their_key_path(rule, problem) -> None:
    with pytest.raises(SettingsError) as caught:
        settings_from_dict({"notification": [rule]}, "f.toml")
    assert caught.value.problems[0].startswith(f"f.toml: {problem}")


def test_rules_round_trip_through_the_store(write_config, maildir, sink) -> None:
    services = open_desk(write_config, maildir, sink.port)
    (rule,) = services.reload().notifications
    assert (rule.name, rule.event, rule.recipients, rule.active) == ("acknowledgement", "created_by_mail",
                                                                      ("caller",), True)
    assert services.export_config()["notification"][0]["link"] == "https://desk.example/ticket/{ref}"


def test_a_private_entry_never_goes_out_to_the_caller(sink, write_config, maildir) -> None:
    rules = """
[[notification]]
name = "update"
event = "updated_by_mail"
body = "[{log_entry}]"
"""
    services = open_desk(write_config, maildir, sink.port, rules, other_sender_behavior='"private"')
    deliver(services, maildir, "1", make_mail(message_id="<req1@acme.example>", body="Public request.\n"))
    deliver(services, maildir, "2", make_mail(subject="Re: Printer jams", body="Earlier public reply.\n",
                                              in_reply_to="<req1@acme.example>"))
    deliver(services, maildir, "3", make_mail(sender="stranger@else.example", subject="Re: Printer jams",
                                              body="Secret internal remark.\n", in_reply_to="<req1@acme.example>"))
    assert services.get_ticket("R-000001").case_log[0].log == "private_log"
    public, private = sink.messages
    assert sink.body(public) == "[Earlier public reply.]\n"
    assert private["To"] == "alice@acme.example" and sink.body(private) == "[]\n"


def test_the_same_on_postgresql(sink, write_config, maildir, pg_store) -> None:
    """Rules, caps (a grouped count), default values by name and the list's joins on the other backend."""
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
ticket_default_values = {{ team = "network", agent = "Nina Agent", priority = "high" }}
{ACK}""")
    services = open_services(str(config), pg_store)
    Team.create(name="Network")
    Person.create(email="nina@desk.example", first_name="Nina", name="Agent")
    deliver(services, maildir, "1", make_mail(message_id="<req1@acme.example>"))
    (ack,) = sink.messages
    assert ticket_ref_from_message_id(ack["Message-ID"], store_secret()) == "R-000001"
    (row,) = services.list_tickets()
    assert (row.team, row.agent, row.priority) == ("Network", "Nina Agent", "high")
    found = services.list_tickets(TicketFilter(agent="nina agent", team="NET", priority="2"))
    assert [t.ref for t in found] == ["R-000001"]
