"""The end-to-end path against the private Dovecot over IMAP: tickets from new mail, once, and threading."""
from __future__ import annotations

import json

from mailticket_tui.cli import main
from mailticket_tui.store.models import CaseLogEntry, MailMessage, Ticket

from .mailgen import make_mail


def imap_config(write_config, account, extra: str = "") -> str:
    return str(write_config(f"""
        [[inbox]]
        name = "support"
        protocol = "imap"
        server = "{account.host}"
        port = {account.imap_port}
        tls = "none"
        login = "{account.login}"
        password = "{account.password}"
        unknown_caller_behavior = "create_contact"
        title_pattern = '\\[(R-[0-9]{{6}})\\]'
        {extra}
        """))


def test_imap_run_once_creates_tickets_then_threads_replies(mail_account, write_config, store_url, capsys) -> None:
    mail_account.append(make_mail(subject="VPN is down", message_id="<vpn-1@acme.example>"))
    mail_account.append(make_mail(subject="Need a new laptop", sender="bob@acme.example"))
    config = imap_config(write_config, mail_account)
    assert main(["--config", config, "--db", store_url, "run", "--once"]) == 0
    assert "support: read 2, processed 2" in capsys.readouterr().out
    vpn = Ticket.get(Ticket.title == "VPN is down")

    # a reply through the stored Message-ID, one through the title pattern, and a second pass with nothing new
    mail_account.append(make_mail(subject="Re: VPN is down", body="Still down.\n\n> old text\n",
                                  in_reply_to="<vpn-1@acme.example>"))
    laptop = Ticket.get(Ticket.title == "Need a new laptop")
    mail_account.append(make_mail(subject=f"Re: [{laptop.ref}] Need a new laptop", sender="bob@acme.example",
                                  body="A 14 inch one please.\n"))
    assert main(["--config", config, "--db", store_url, "run", "--once"]) == 0
    assert "read 2, processed 2" in capsys.readouterr().out
    assert Ticket.select().count() == 2
    vpn_log = [e.html for e in CaseLogEntry.select().where(CaseLogEntry.ticket == vpn)]
    assert len(vpn_log) == 1 and "Still down." in vpn_log[0] and "old text" not in vpn_log[0]
    assert CaseLogEntry.select().where(CaseLogEntry.ticket == laptop).count() == 1

    assert main(["--config", config, "--db", store_url, "run", "--once"]) == 0
    assert "read 0, processed 0" in capsys.readouterr().out
    assert MailMessage.select().count() == 4
    assert mail_account.message_count() == 4  # email_storage = keep

    assert main(["--db", store_url, "tickets", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {t["title"] for t in listed} == {"VPN is down", "Need a new laptop"}
    assert set(listed[0]) >= {"ref", "class", "title", "status", "caller_email", "org", "origin", "created", "updated"}


def test_unreachable_imap_server_marks_the_inbox_and_exits_3(write_config, store_url, capsys) -> None:
    config = write_config("""
        [[inbox]]
        name = "down"
        protocol = "imap"
        server = "127.0.0.1"
        port = 1
        tls = "none"
        login = "x"
        password = "y"
        """)
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 3
    out = capsys.readouterr().out
    assert out.startswith("down: read 0") and "ERROR" in out
    assert main(["--db", store_url, "inbox", "list", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)[0]
    assert info["error_streak"] == 1 and info["last_error"]
