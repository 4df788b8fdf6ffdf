"""The first end-to-end path on a Maildir: run --once creates tickets, records messages, never twice."""
from __future__ import annotations

import json
from pathlib import Path

from mailticket_tui.cli import main
from mailticket_tui.store.models import MailMessage, Person, Ticket

from .mailgen import make_mail


def deliver(maildir: Path, name: str, raw: bytes) -> None:
    (maildir / "new" / name).write_bytes(raw)


def config_for(write_config, maildir: Path, extra: str = "") -> Path:
    return write_config(f"""
        [[inbox]]
        name = "local"
        protocol = "maildir"
        server = "{maildir}"
        unknown_caller_behavior = "create_contact"
        caller_default_values = {{ phone = "n/a" }}
        {extra}
        """)


def tickets_json(capsys, store_url: str) -> list[dict]:
    capsys.readouterr()
    assert main(["--db", store_url, "tickets", "list", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_run_once_creates_one_ticket_per_new_message(write_config, maildir: Path, store_url: str, capsys) -> None:
    deliver(maildir, "1.M1.test", make_mail(subject="Printer jams", sender="\"Doe, John\" <John.Doe@ACME.example>"))
    deliver(maildir, "2.M2.test", make_mail(subject="", body="No subject here\n", sender="bob@acme.example"))
    config = config_for(write_config, maildir)
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    summary = capsys.readouterr().out
    assert "local: read 2, processed 2, errors 0" in summary
    tickets = tickets_json(capsys, store_url)
    assert sorted(t["title"] for t in tickets) == ["No subject", "Printer jams"]
    assert {t["caller_email"] for t in tickets} == {"john.doe@acme.example", "bob@acme.example"}
    assert all(t["origin"] == "mail" and t["status"] == "new" and t["class"] == "UserRequest" for t in tickets)
    assert all(t["ref"].startswith("R-") and len(t["ref"]) == 8 for t in tickets)
    john = Person.get(Person.email == "john.doe@acme.example")
    assert (john.first_name, john.name, john.phone) == ("John", "Doe", "n/a")
    assert MailMessage.select().where(MailMessage.status == "processed").count() == 2

    # the next run does not process them again
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    assert "read 0, processed 0" in capsys.readouterr().out
    assert Ticket.select().count() == 2


def test_default_title_and_description(write_config, maildir: Path, store_url: str, capsys) -> None:
    deliver(maildir, "1.M1.test", make_mail(subject="  ", body="Line one\n<script>x</script>\n"))
    config = config_for(write_config, maildir, 'ticket_default_title = "Mail without subject"')
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    capsys.readouterr()
    assert main(["--db", store_url, "tickets", "show", Ticket.get().ref, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["title"] == "Mail without subject"
    assert "Line one" in shown["description"] and "<script>" not in shown["description"]
    assert shown["messages"] and shown["history"][0]["who"] == "alice@acme.example"


def test_known_caller_and_org(write_config, maildir: Path, store_url: str, capsys) -> None:
    config = config_for(write_config, maildir, "")
    config.write_text(config.read_text() + '\n[org_domains]\n"acme.example" = "ACME"\n')
    deliver(maildir, "1.M1.test", make_mail(sender="Alice <alice@acme.example>"))
    deliver(maildir, "2.M2.test", make_mail(sender="Alice <ALICE@acme.example>", subject="Second"))
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    assert Person.select().count() == 1
    tickets = tickets_json(capsys, store_url)
    assert {t["org"] for t in tickets} == {"ACME"} and len(tickets) == 2


def test_unknown_caller_rejected_is_an_error_record(write_config, maildir: Path, store_url: str, capsys) -> None:
    config = write_config(f"""
        [[inbox]]
        name = "local"
        protocol = "maildir"
        server = "{maildir}"
        """)
    deliver(maildir, "1.M1.test", make_mail(sender="stranger@elsewhere.example"))
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    capsys.readouterr()
    assert main(["--db", store_url, "messages", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1 and rows[0]["status"] == "error" and "unknown caller" in rows[0]["error"]
    assert set(rows[0]) >= {"id", "inbox", "folder", "uid", "message_id", "date", "from", "subject", "size",
                            "status", "ticket_ref", "error"}
    assert Ticket.select().count() == 0


def test_engine_debug_echoes_the_trace(write_config, maildir: Path, store_url: str, capsys) -> None:
    config = config_for(write_config, maildir)
    config.write_text("[engine]\ndebug = true\n" + config.read_text())
    deliver(maildir, "1.M1.test", make_mail(subject="traced"))
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    out = capsys.readouterr().out
    assert "local: message #1 (file 1.M1.test): processed -> R-" in out and "local: pass done" in out


def test_retention_is_the_longer_of_hours_and_days(write_config, maildir: Path, store_url: str, capsys) -> None:
    import datetime as dt

    from mailticket_tui.store.models import utcnow

    config = config_for(write_config, maildir)
    deliver(maildir, "1.M1.test", make_mail(subject="gone soon"))
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    (maildir / "new" / "1.M1.test").unlink()
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    MailMessage.update(vanished_at=utcnow() - dt.timedelta(days=2)).execute()
    text = config.read_text()
    config.write_text("[engine]\nvanished_retention_days = 1\nretention_period = 72\n" + text)
    assert main(["--config", str(config), "--db", store_url, "config", "import", str(config)]) == 0
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    assert MailMessage.select().count() == 1  # 72 hours win over 1 day
    config.write_text("[engine]\nvanished_retention_days = 1\nretention_period = 1\n" + text)
    assert main(["--config", str(config), "--db", store_url, "config", "import", str(config)]) == 0
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    assert MailMessage.select().count() == 0


def test_messages_list_pages(write_config, maildir: Path, store_url: str, capsys) -> None:
    for n in range(3):
        deliver(maildir, f"{n}.M{n}.test", make_mail(subject=f"page {n}"))
    config = config_for(write_config, maildir)
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    capsys.readouterr()
    pages = []
    for page in (1, 2):
        assert main(["--db", store_url, "messages", "list", "--limit", "2", "--page", str(page), "--json"]) == 0
        pages.append([m["subject"] for m in json.loads(capsys.readouterr().out)])
    assert pages == [["page 2", "page 1"], ["page 0"]]  # newest first
