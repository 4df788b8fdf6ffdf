"""A live scan of the server folder: unseen messages appear as new with their headers, vanished ones are
marked, nothing is downloaded or changed on the server, and the next pass processes each new one once."""
from __future__ import annotations

import json

from mailticket_tui.cli import main
from mailticket_tui.store.models import MailMessage, Ticket

from .desk import Desk
from .mailgen import make_mail


def test_scan_shows_unseen_mail_then_a_pass_processes_it_once(mail_account, tmp_path, capsys) -> None:
    desk = Desk(mail_account, tmp_path)
    try:
        for i in range(3):
            desk.send(make_mail(subject=f"old {i}"))
        desk.run()
        desk.send(make_mail(subject="unseen A", sender="Ann <ann@acme.example>"))
        desk.send(make_mail(subject="unseen B"))
        client = mail_account.imap()
        client.select_folder("INBOX")
        client.delete_messages([sorted(client.search("ALL"))[0]])
        client.expunge()
        client.unselect_folder()
        seen_before = mail_account.flags(sorted(mail_account.uids())[-1])
        capsys.readouterr()
        assert main(["--db", desk.store, "messages", "scan", "desk"]) == 0
        assert "4 on the server, 2 new recorded, 1 gone" in capsys.readouterr().out
        assert main(["--db", desk.store, "messages", "list", "--status", "new", "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert sorted(r["subject"] for r in rows) == ["unseen A", "unseen B"]
        assert {r["from"] for r in rows} == {"ann@acme.example", "alice@acme.example"}
        assert not MailMessage.get(MailMessage.subject == "old 0").on_server
        assert mail_account.flags(sorted(mail_account.uids())[-1]) == seen_before  # nothing read or flagged
        assert Ticket.select().count() == 3
        desk.run()
        assert sorted(t.title for t in Ticket.select()) == ["old 0", "old 1", "old 2", "unseen A", "unseen B"]
        assert MailMessage.select().where(MailMessage.status == "new").count() == 0
        assert MailMessage.select().count() == 5
    finally:
        desk.close()
