"""Outgoing mail against a real SMTP server in-process (aiosmtpd): rejection replies to unknown senders,
error forwards to the admin, loop and flood guards, and nothing sent for auto-mail."""
from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from mailticket_tui.cli import main
from mailticket_tui.store.models import Outbox

from .dovecot_server import free_ports
from .mailgen import make_mail


class Collector:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server():
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_ports(1)[0])
    controller.start()
    yield controller, collector
    controller.stop()


def setup(write_config, maildir: Path, port: int, **inbox: str) -> Path:
    extra = "\n".join(f'{k} = "{v}"' for k, v in inbox.items())
    return write_config(f"""
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
        {extra}
        """)


def deliver(maildir: Path, n: int, raw: bytes) -> None:
    (maildir / "new" / f"{100 + n}.M{n}.test").write_bytes(raw)


def test_unknown_sender_gets_one_rejection_reply(smtp_server, write_config, maildir, store_url, capsys) -> None:
    controller, got = smtp_server
    config = setup(write_config, maildir, controller.port,
                   unknown_caller_rejection_reply="We only accept requests from customers.")
    injected = b"Subject: =?utf-8?q?Hello=0D=0ABcc=3A_victim=40else=2Eexample?="  # decodes to CR LF
    deliver(maildir, 1, make_mail(sender="Stranger <stranger@else.example>", subject="Hello",
                                  message_id="<s1@else.example>").replace(b"Subject: Hello", injected, 1))
    deliver(maildir, 2, make_mail(sender="ooo@else.example", subject="Out of office",
                                  headers={"Auto-Submitted": "auto-replied"}))
    deliver(maildir, 3, make_mail(sender="help@desk.example", subject="loop?"))
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    assert "outbox: sent 1" in capsys.readouterr().out
    assert len(got.messages) == 1
    reply = got.messages[0]
    assert reply["To"] == "stranger@else.example" and reply["From"] == "support@desk.example"
    assert reply["Auto-Submitted"] == "auto-replied" and reply["In-Reply-To"] == "<s1@else.example>"
    assert "\n" not in reply["Subject"] and reply["Subject"].startswith("Re: Hello") and reply["Bcc"] is None
    assert got.envelopes[0][1] == ["stranger@else.example"]
    assert "We only accept requests from customers." in reply.get_body(("plain",)).get_content()
    assert [a.get_filename() for a in reply.iter_attachments()] == ["Original-Message.eml"]
    # a second pass sends nothing more
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    assert len(got.messages) == 1


def test_replies_are_rate_limited_per_sender(smtp_server, write_config, maildir, store_url) -> None:
    controller, got = smtp_server
    config = setup(write_config, maildir, controller.port, unknown_caller_rejection_reply="No.")
    for n in range(5):
        deliver(maildir, n, make_mail(sender="pest@else.example", subject=f"spam {n}"))
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    assert len(got.messages) == 3


def test_failed_mail_is_forwarded_to_the_admin(smtp_server, write_config, maildir, store_url) -> None:
    controller, got = smtp_server
    config = setup(write_config, maildir, controller.port, behavior="update_only",
                   unknown_caller_behavior="create_contact", notify_errors_to="admin@desk.example",
                   notify_errors_from="robot@desk.example")
    deliver(maildir, 1, make_mail(subject="Nothing to update"))
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    assert len(got.messages) == 1
    forward = got.messages[0]
    assert forward["To"] == "admin@desk.example" and "nothing to update" in forward["Subject"]
    body = forward.get_body(("plain",)).get_content()
    assert "kept, marked as error" in body and "Decision trace" in body
    attachment = next(forward.iter_attachments())
    assert attachment.get_content_type() == "application/octet-stream"
    assert b"Subject: Nothing to update" in attachment.get_content()


def test_mail_waits_in_the_outbox_while_smtp_is_down(write_config, maildir, store_url, capsys) -> None:
    config = setup(write_config, maildir, free_ports(1)[0], unknown_caller_rejection_reply="No.")
    deliver(maildir, 1, make_mail(sender="x@else.example"))
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    out = capsys.readouterr().out
    assert "outbox: sent 0 - SMTP 127.0.0.1" in out
    row = Outbox.get()
    assert row.sent is None and row.to_addr == "x@else.example"


def test_too_big_message_is_reported_to_the_engine_admin(smtp_server, write_config, maildir, store_url) -> None:
    controller, got = smtp_server
    config = setup(write_config, maildir, controller.port)
    config.write_text(config.read_text().replace(
        "[smtp]", '[engine]\nmaximum_email_size = "2K"\nnotify_errors_to = "ops@desk.example"\n'
                  'notify_errors_from = "robot@desk.example"\n\n[smtp]'))
    deliver(maildir, 1, make_mail(subject="Huge", body="x" * 5000))
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    assert len(got.messages) == 1
    report = got.messages[0]
    assert report["To"] == "ops@desk.example" and "message too big" in report["Subject"]
    assert not list(report.iter_attachments())


def test_outbox_and_message_show_commands(write_config, maildir, store_url, tmp_path, capsys) -> None:
    import json

    config = setup(write_config, maildir, free_ports(1)[0], unknown_caller_behavior="reject_email",
                   unknown_caller_rejection_reply="No.")
    deliver(maildir, 1, make_mail(sender="x@else.example", subject="[bold]hi\x1b[2J"))
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    capsys.readouterr()
    assert main(["--db", store_url, "outbox", "list", "--pending", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["kind"] == "rejection" and row["to"] == "x@else.example" and row["sent"] is None
    assert row["attempts"] == 0  # the SMTP server was down: nothing was tried on this row yet
    assert main(["--db", store_url, "messages", "show", "1", "--eml", str(tmp_path / "m.eml")]) == 0
    shown = capsys.readouterr().out
    assert "status: error" in shown and "unknown caller" in shown and "\x1b" not in shown
    assert (tmp_path / "m.eml").read_bytes() == next((maildir / "new").iterdir()).read_bytes()
    assert main(["--db", store_url, "messages", "show", "99"]) == 2
