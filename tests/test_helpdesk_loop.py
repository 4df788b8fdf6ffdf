"""The helpdesk loop of issue 11, end to end against the private Dovecot (IMAP) and a real SMTP server
(aiosmtpd): a person imported from CSV writes in and gets an acknowledgement; replies to it written the way
Gmail, Outlook and Thunderbird write them all land on that ticket; an operator resolves it through the
services and the caller is told; the caller answers that mail and the ticket reopens (stimuli resolved ->
ev_reopen)."""
from __future__ import annotations

from pathlib import Path

from mailticket_tui.cli import main
from mailticket_tui.engine.threading import store_secret, ticket_ref_from_message_id
from mailticket_tui.services import open_services
from mailticket_tui.store.models import CaseLogEntry, Outbox, Ticket

from .mailgen import make_mail
from .smtp_sink import smtp_sink
from .test_reply_threading_clients import reply


def test_request_acknowledgement_replies_resolution_and_reopening(mail_account, tmp_path: Path, capsys) -> None:
    store = f"sqlite:///{tmp_path / 'desk.db'}"
    people = tmp_path / "people.csv"
    people.write_text("First Name,Last Name,Email,Organization->Name\nAlice,Martin,alice@acme.example,ACME Corp\n",
                      encoding="utf-8")
    with smtp_sink() as sink:
        config = tmp_path / "desk.toml"
        config.write_text(f"""
[smtp]
server = "127.0.0.1"
port = {sink.port}
tls = "none"

[[inbox]]
name = "desk"
protocol = "imap"
server = "{mail_account.host}"
port = {mail_account.imap_port}
tls = "none"
login = "{mail_account.login}"
password = "{mail_account.password}"
unknown_caller_behavior = "reject_email"
stimuli = {{ resolved = "ev_reopen" }}

[[notification]]
name = "acknowledgement"
event = "created_by_mail"
body = "Hello {{caller_name}}, we opened {{ref}}."

[[notification]]
name = "resolved"
event = "resolved"
subject = "Resolved: [{{ref}}] {{title}}"
body = "{{log_author}} resolved {{ref}}. Reply if it is not."
""", encoding="utf-8")
        base = ["--config", str(config), "--db", store]
        assert main([*base, "people", "import", str(people), "--create-orgs"]) == 0  # the directory knows Alice
        capsys.readouterr()

        mail_account.append(make_mail(sender="Alice Martin <alice@acme.example>", subject="VPN drops every hour",
                                      to=mail_account.login, message_id="<vpn1@acme.example>"))
        assert main([*base, "run", "--once"]) == 0
        (ticket,) = Ticket.select()
        assert ticket.caller.email == "alice@acme.example" and ticket.org.name == "ACME Corp"
        (ack,) = sink.messages
        assert (ack["To"], ack["Subject"]) == ("alice@acme.example", f"[{ticket.ref}] VPN drops every hour")
        assert sink.body(ack) == f"Hello Alice Martin, we opened {ticket.ref}.\n"
        assert ticket_ref_from_message_id(ack["Message-ID"], store_secret()) == ticket.ref
        assert ack["In-Reply-To"] == "<vpn1@acme.example>" and ack["Auto-Submitted"] == "auto-replied"

        for client in ("gmail", "outlook", "thunderbird"):
            mail_account.append(reply(client, ack, "Alice Martin <alice@acme.example>", f"More details ({client})"))
        assert main([*base, "run", "--once"]) == 0
        assert Ticket.select().count() == 1
        services = open_services(str(config), store)
        assert [e.text for e in reversed(services.get_ticket(ticket.ref).case_log)] == [
            f"More details ({c})" for c in ("gmail", "outlook", "thunderbird")]
        assert CaseLogEntry.select().where(CaseLogEntry.ticket != ticket).count() == 0
        assert len(sink.messages) == 1  # no rule for updates: nobody is mailed unasked

        assert services.ticket_stimulus(ticket.ref, "ev_resolve", who="Olga Operator") == "resolved"
        assert Outbox.select().where(Outbox.sent.is_null()).count() == 1  # committed with the stimulus
        assert main([*base, "run", "--once"]) == 0  # the next pass sends it
        resolved = sink.messages[1]
        assert (resolved["To"], resolved["Subject"]) == ("alice@acme.example",
                                                          f"Resolved: [{ticket.ref}] VPN drops every hour")
        assert sink.body(resolved) == f"Olga Operator resolved {ticket.ref}. Reply if it is not.\n"
        assert resolved["Auto-Submitted"] == "auto-generated"

        mail_account.append(reply("gmail", resolved, "Alice Martin <alice@acme.example>", "Still dropping."))
        assert main([*base, "run", "--once"]) == 0
        ticket = Ticket.get_by_id(ticket.id)
        assert (ticket.status, Ticket.select().count()) == ("assigned", 1)
        detail = services.get_ticket(ticket.ref)
        assert detail.case_log[0].text == "Still dropping." and detail.summary.status == "assigned"
        assert detail.history[-1].summary.endswith("ev_reopen: resolved -> assigned")
        assert [h.who for h in detail.history if "ev_resolve" in h.summary] == ["Olga Operator"]
