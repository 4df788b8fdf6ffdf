"""Incremental sync of `run --once` against the private Dovecot: a dropped connection mid-fetch, a
UIDVALIDITY change (re-key, never re-ticket, also when the re-keying pass is interrupted),
use_message_id_as_uid, the constant cost of a poll with nothing new, and the retention of records of
vanished messages."""
from __future__ import annotations

import os

from mailticket_tui.store.models import InboxState, MailMessage, Ticket

from .conftest import make_maildir
from .mailgen import make_mail
from .runner_support import Cli, age, inbox_toml, records, write_settings


def padded(subject: str, message_id: str, kb: int = 40) -> bytes:
    """A mail with an attachment of `kb` KB of random bytes, so a FETCH of it spans many packets."""
    return make_mail(subject=subject, message_id=message_id,
                     attachments=[("data.bin", "application/octet-stream", os.urandom(kb * 1024))])


def test_connection_cut_mid_fetch_marks_the_inbox_then_next_run_completes_once(
        mail_account, tmp_path, store_url, capsys, cut_proxy) -> None:
    for i in range(3):
        mail_account.append(padded(f"Cut {i}", f"<cut-{i}@acme.example>"))
    proxy = cut_proxy(mail_account.imap_port, cut_after=60_000)  # inside the bodies (~55 KB each)
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("support", "imap", mail_account, port=proxy.port), name="cut.toml"))
    for streak in (1, 2):
        code, out, _ = cli.run_once()
        assert code == 3, out
        assert out.count("\n") == 1 and out.startswith("support: ") and "ERROR" in out and "lost" in out
        state = InboxState.get()
        assert state.error_streak == streak and "lost" in state.last_error
        # nothing half-written: every record has its ticket, no error record, nothing counted twice
        assert all(r.status == "processed" and r.ticket_id for r in records())
        assert Ticket.select().count() == len(records()) < 3
    assert mail_account.message_count() == 3

    cli.use(write_settings(tmp_path, inbox_toml("support", "imap", mail_account), name="direct.toml"))
    code, out, _ = cli.run_once()
    assert code == 0, out
    assert sorted(t.title for t in Ticket.select()) == ["Cut 0", "Cut 1", "Cut 2"]
    assert len(records()) == 3
    state = InboxState.get()
    assert (state.error_streak, state.last_error) == (0, "") and state.last_success is not None
    assert cli.run_once()[1].startswith("support: read 0, processed 0")


def recreate(account, folder: str, raws: list[bytes]) -> None:
    account.delete_folder(folder)
    account.create_folder(folder)
    for raw in raws:
        account.append(raw, folder=folder)


def test_uidvalidity_change_rekeys_known_messages_and_tickets_only_new_ones(
        mail_account, tmp_path, store_url, capsys) -> None:
    mail_account.create_folder("Support")
    raws = [make_mail(subject=f"Known {i}", message_id=f"<known-{i}@acme.example>") for i in range(2)]
    for raw in raws + [make_mail(subject="Not restored", message_id="<lost@acme.example>")]:
        mail_account.append(raw, folder="Support")
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("support", "imap", mail_account, mailbox="Support")))
    assert cli.run_once()[0] == 0
    old_validity = mail_account.uidvalidity("Support")
    assert Ticket.select().count() == 3

    recreate(mail_account, "Support", raws + [make_mail(subject="Brand new", message_id="<new-1@acme.example>")])
    new_validity = mail_account.uidvalidity("Support")
    assert new_validity != old_validity
    code, out, _ = cli.run_once("-v")
    assert code == 0 and "UIDVALIDITY changed" in out and "re-keyed" in out
    assert sorted(t.title for t in Ticket.select()) == ["Brand new", "Known 0", "Known 1", "Not restored"]
    lost = MailMessage.get(MailMessage.subject == "Not restored")  # not in the new epoch: vanished, untouched
    assert lost.uidvalidity == old_validity and not lost.on_server and lost.vanished_at is not None
    rows = [r for r in records() if r.id != lost.id]
    assert len(rows) == 3 and {r.uidvalidity for r in rows} == {new_validity}
    assert sorted(int(r.key) for r in rows) == mail_account.uids("Support")
    assert all(r.on_server and r.status == "processed" for r in rows)
    assert InboxState.get().uidvalidity == new_validity
    assert cli.run_once()[1].startswith("support: read 0, processed 0")


def test_an_interrupted_rekeying_pass_is_finished_by_the_next_one(
        mail_account, tmp_path, store_url, capsys, cut_proxy) -> None:
    mail_account.create_folder("Support")
    raws = [padded(f"Known {i}", f"<k-{i}@acme.example>") for i in range(3)]
    for raw in raws:
        mail_account.append(raw, folder="Support")
    cli = Cli(store_url, capsys)
    direct = write_settings(tmp_path, inbox_toml("support", "imap", mail_account, mailbox="Support"))
    cli.use(direct)
    assert cli.run_once()[0] == 0
    recreate(mail_account, "Support", raws)

    proxy = cut_proxy(mail_account.imap_port, cut_after=60_000)  # the change is seen, then the link drops
    cli.use(write_settings(tmp_path, inbox_toml("support", "imap", mail_account, port=proxy.port,
                                                mailbox="Support"), name="cut.toml"))
    assert cli.run_once()[0] == 3
    cli.use(direct)
    assert cli.run_once()[0] == 0
    assert sorted(t.title for t in Ticket.select()) == ["Known 0", "Known 1", "Known 2"]
    new_validity = mail_account.uidvalidity("Support")
    assert len(records()) == 3 and {r.uidvalidity for r in records()} == {new_validity}


def test_use_message_id_as_uid_identifies_mail_by_message_id(mail_account, tmp_path, store_url, capsys) -> None:
    raw = make_mail(subject="Gmail label", message_id="<label-1@acme.example>")
    first_uid = mail_account.append(raw)
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("support", "imap", mail_account), use_message_id_as_uid=True))
    assert cli.run_once()[0] == 0
    (row,) = records()
    assert row.key == "<label-1@acme.example>" and row.uid == first_uid

    # the same message comes back under a new UID (Gmail relabels, a client re-uploads): not new
    mail_account.append(raw)
    client = mail_account.imap()
    client.select_folder("INBOX")
    client.delete_messages([first_uid])
    client.expunge()
    client.unselect_folder()
    code, out, _ = cli.run_once()
    assert code == 0 and out.startswith("support: read 0, processed 0"), out
    assert Ticket.select().count() == 1 and len(records()) == 1

    mail_account.append(make_mail(subject="Another", message_id="<label-2@acme.example>"))
    assert cli.run_once()[1].startswith("support: read 1, processed 1")
    assert Ticket.select().count() == 2


def test_a_poll_with_nothing_new_costs_the_same_whatever_the_mailbox_size(
        mail_account, tmp_path, store_url, capsys, cut_proxy) -> None:
    proxy = cut_proxy(mail_account.imap_port)  # no cut: a byte counter
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("support", "imap", mail_account, port=proxy.port)))

    def idle_poll_bytes() -> int:
        before = proxy.bytes_from_server
        code, out, _ = cli.run_once()
        assert code == 0 and out.startswith("support: read 0"), out
        return proxy.bytes_from_server - before

    mail_account.append(make_mail(subject="One"))
    assert cli.run_once()[0] == 0
    small = idle_poll_bytes()
    for i in range(40):
        mail_account.append(make_mail(subject=f"More {i}"))
    assert cli.run_once()[1].startswith("support: read 40")
    large = idle_poll_bytes()
    # A listing of the 40 messages (sizes and Message-IDs) alone would be ~4 KB more; what differs is
    # only numbers and the odd untagged line (RECENT, UNSEEN) in answers of the same commands.
    assert abs(large - small) < 256, (small, large)


def test_records_of_vanished_messages_are_kept_for_the_retention(
        mail_account, tmp_path, store_url, capsys, maildir) -> None:
    # IMAP, email_storage = delete: the record outlives the message for vanished_retention_days
    mail_account.append(make_mail(subject="Deleted after processing"))
    cli = Cli(store_url, capsys)
    strict_dir = make_maildir(tmp_path / "Strict")
    imap = inbox_toml("support", "imap", mail_account, email_storage="delete")
    local = inbox_toml("local", "maildir", maildir=maildir)
    strict = inbox_toml("strict", "maildir", maildir=strict_dir, behavior="update_only")  # no related ticket: error
    cli.use(write_settings(tmp_path, imap, local, strict, vanished_retention_days=10))
    (maildir / "new" / "1.M1.test").write_bytes(make_mail(subject="Kept, then removed by hand"))
    (strict_dir / "new" / "2.M2.test").write_bytes(make_mail(subject="Nothing to update"))
    assert cli.run_once()[0] == 0
    assert mail_account.message_count() == 0
    for path in [*(maildir / "new").iterdir(), *(strict_dir / "new").iterdir()]:  # an operator empties them
        path.unlink()
    assert cli.run_once()[0] == 0
    rows = records()
    assert len(rows) == 3 and not any(r.on_server for r in rows) and all(r.vanished_at for r in rows)

    age(MailMessage.vanished_at, 9)
    assert cli.run_once()[0] == 0
    assert len(records()) == 3
    age(MailMessage.vanished_at, 11)
    assert cli.run_once()[0] == 0
    left = records()
    # processed records go after the retention; an error record stays until an operator acts
    assert [r.status for r in left] == ["error"], [(r.subject, r.status, r.error) for r in left]
    assert Ticket.select().count() == 2


def test_messages_deleted_by_another_client_are_noticed(mail_account, tmp_path) -> None:
    """Incremental IMAP never lists the folder; a COUNT mismatch makes it reconcile once."""
    from mailticket_tui.cli import main
    from mailticket_tui.store.models import MailMessage

    from .mailgen import make_mail

    for i in range(3):
        mail_account.append(make_mail(subject=f"other client {i}", message_id=f"<oc{i}@acme.example>"))
    config = tmp_path / "oc.toml"
    config.write_text(f"""
[[inbox]]
name = "oc"
server = "{mail_account.host}"
port = {mail_account.imap_port}
tls = "none"
login = "{mail_account.login}"
password = "{mail_account.password}"
unknown_caller_behavior = "create_contact"
""")
    store = f"sqlite:///{tmp_path / 'oc.db'}"
    assert main(["--config", str(config), "--db", store, "run", "--once"]) == 0
    client = mail_account.imap()
    client.select_folder("INBOX")
    first = sorted(client.search("ALL"))[0]
    client.delete_messages([first])
    client.expunge()
    client.unselect_folder()
    assert main(["--config", str(config), "--db", store, "run", "--once"]) == 0
    gone = MailMessage.get(MailMessage.subject == "other client 0")
    assert not gone.on_server and gone.vanished_at is not None
    assert MailMessage.select().where(MailMessage.on_server == True).count() == 2  # noqa: E712
