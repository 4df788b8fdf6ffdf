"""`mailticket replay`: the parse and decision steps with the inbox's settings, writing nothing."""
from __future__ import annotations

import json
from pathlib import Path

from mailticket_tui.cli import main
from mailticket_tui.store import open_store
from mailticket_tui.store.models import MailMessage, Person, Ticket, database_proxy

from .mailgen import make_mail

KEYS = {"file", "subject", "from", "to", "cc", "message_id", "in_reply_to", "references", "body_format", "body",
        "new_part", "attachments", "auto_submitted", "auto_kind", "undesired", "undesired_reason", "decision",
        "trace"}


def test_replay_json_has_exactly_the_contract_keys_and_writes_nothing(write_config, maildir: Path,
                                                                      store_url: str, tmp_path: Path,
                                                                      capsys) -> None:
    config = write_config(f"""
        [[inbox]]
        name = "local"
        protocol = "maildir"
        server = "{maildir}"
        unknown_caller_behavior = "create_contact"
        """)
    new = tmp_path / "new.eml"
    new.write_bytes(make_mail(subject="Broken chair", body="My chair broke.\n\nOn Mon, Bob wrote:\n> old\n",
                              attachments=[("../../etc/passwd", "text/plain", b"x")]))
    auto = tmp_path / "auto.eml"
    auto.write_bytes(make_mail(subject="Out of office", headers={"Auto-Submitted": "auto-replied"}))
    assert main(["--config", str(config), "--db", store_url, "replay", str(new), str(auto), "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    first, second = (json.loads(line) for line in lines)
    assert set(first) == KEYS and set(second) == KEYS
    assert first["decision"]["action"] == "create" and first["new_part"].strip() == "My chair broke."
    assert first["from"] == "alice@acme.example" and first["subject"] == "Broken chair"
    assert first["attachments"][0]["filename"] != "../../etc/passwd" and "/" not in first["attachments"][0]["filename"]
    assert set(first["attachments"][0]) == {"filename", "content_type", "size", "inline", "content_id", "action",
                                            "reason"}
    assert first["trace"] and any(line.startswith("caller:") for line in first["trace"])
    assert second["auto_submitted"] is True and second["auto_kind"] == "autoreply" and second["undesired"] is True
    assert second["decision"]["action"] == "reject"
    database_proxy.close()
    open_store(store_url)
    assert not Ticket.select().exists() and not Person.select().exists() and not MailMessage.select().exists()


def test_replay_text_output_and_unreadable_file(write_config, store_url: str, tmp_path: Path, capsys) -> None:
    mail = tmp_path / "m.eml"
    mail.write_bytes(make_mail(subject="[bold]x\x1b[2J"))
    assert main(["--db", store_url, "replay", str(mail), str(tmp_path / "missing.eml")]) == 2
    captured = capsys.readouterr()
    assert "subject: [bold]x" in captured.out and "\x1b" not in captured.out
    assert "missing.eml: cannot read" in captured.err
