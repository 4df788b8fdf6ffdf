"""Server arrival order for every pass: UIDs compared as numbers, retries in their place among new mail,
and a reply that arrived before its request waits for it within the pass (private Dovecot over IMAP)."""
from __future__ import annotations

from mailticket_tui.engine.arrival import arrival_order, server_label, thread_parents
from mailticket_tui.engine.sources import RemoteMessage
from mailticket_tui.store.models import Ticket

from .mailgen import make_mail
from .runner_support import Cli, inbox_toml, records, write_settings

THREADS = 6  # 12 messages: UIDs 10, 11 and 12 sort before 2 as text


def test_imap_order_is_numeric_and_other_protocols_keep_the_listing() -> None:
    listed = [RemoteMessage(str(uid), 10, uid) for uid in (10, 2, 11, 1)]
    assert [m.uid for m in arrival_order(listed, "imap")] == [1, 2, 10, 11]
    assert arrival_order(listed, "pop3") == listed


def test_thread_parents_reads_folded_headers_only() -> None:
    raw = (b"Subject: x\r\nIn-Reply-To: <a@x>\r\nReferences: <r@x>\r\n\t<a@x>\r\n\r\n"
           b"References: <body@x>\r\n")
    assert thread_parents(raw) == ("a@x", "r@x")
    assert thread_parents(b"Subject: none\r\n\r\nIn-Reply-To: <b@x>\r\n") == ()


def test_server_labels_name_the_protocol_identity() -> None:
    assert server_label("imap", "17", 17) == "uid 17"
    assert server_label("pop3", "000001a") == "uidl 000001a"
    assert server_label("maildir", "1.M1.host") == "file 1.M1.host"


def seed(account) -> None:
    """Requests and their replies; the first thread's reply is delivered before its request."""
    for t in range(THREADS):
        request = make_mail(subject=f"Order {t}", sender=f"user{t}@acme.example", message_id=f"<ord-{t}@acme.example>",
                            body=f"Request {t}.\n")
        reply = make_mail(subject=f"Re: Order {t}", sender=f"user{t}@acme.example", body=f"Reply {t}.\n",
                          message_id=f"<ord-re-{t}@acme.example>", in_reply_to=f"<ord-{t}@acme.example>")
        for raw in ((reply, request) if t == 0 else (request, reply)):
            account.append(raw)


def expect_one_ticket_per_thread() -> None:
    tickets = list(Ticket.select().order_by(Ticket.id))
    assert sorted(t.title for t in tickets) == [f"Order {t}" for t in range(THREADS)]
    assert all(len(t.case_log) == 1 for t in tickets)
    assert all(r.status == "processed" for r in records())


def test_held_reply_threads_in_one_clean_pass(mail_account, tmp_path, store_url, capsys) -> None:
    seed(mail_account)
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("support", "imap", mail_account)))
    code, out, _ = cli.run_once("-v")
    assert code == 0 and "message uid 1: a reply to mail not known yet; held back" in out, out
    expect_one_ticket_per_thread()


def test_reset_all_errors_retries_in_arrival_order(mail_account, tmp_path, store_url, capsys) -> None:
    seed(mail_account)
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("support", "imap", mail_account,
                                                unknown_caller_behavior="reject_email")))
    assert cli.run_once()[0] == 0
    assert {r.status for r in records()} == {"error"} and Ticket.select().count() == 0
    cli.use(write_settings(tmp_path, inbox_toml("support", "imap", mail_account)))  # the admin fixes it
    ids = sorted((r.id for r in records()), reverse=True)  # the order an operator selects them in is no order
    code, out, _ = cli("messages", "reset", *map(str, ids))
    assert code == 0, out
    code, out, _ = cli.run_once("-v")
    assert code == 0, out
    expect_one_ticket_per_thread()
    # the trace names each message by its store number, the server UID labelled beside it
    assert "message #12 (uid 12): processed" in out, out


def test_uidvalidity_change_with_a_reply_to_mail_we_never_saw(mail_account, tmp_path, store_url, capsys) -> None:
    """A reply whose parent was never ours is held back in a normal pass; after a UIDVALIDITY change the
    re-keying pass must give it its new key once, not a placeholder beside its old record."""
    from .test_runner_sync import recreate

    mail_account.create_folder("Support")
    raws = [make_mail(subject="Re: elsewhere", message_id="<re-out@acme.example>",
                      in_reply_to="<outside@elsewhere.example>"),
            make_mail(subject="Plain request", message_id="<plain@acme.example>")]
    for raw in raws:
        mail_account.append(raw, folder="Support")
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("support", "imap", mail_account, mailbox="Support")))
    code, out, _ = cli.run_once("-v")
    assert code == 0 and "held back" in out, out
    recreate(mail_account, "Support", raws)
    code, out, _ = cli.run_once("-v")
    assert code == 0 and "re-keyed, not processed again" in out, out
    assert sorted(t.title for t in Ticket.select()) == ["Plain request", "Re: elsewhere"]
    assert len(records()) == 2 and all(r.status == "processed" and r.on_server for r in records())
    assert cli.run_once()[0] == 0 and len(records()) == 2
