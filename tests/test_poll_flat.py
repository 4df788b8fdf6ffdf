"""An idle pass does the same store work whatever the kept mail (issue 17), and skipping an unchanged folder
loses nothing: mail deleted by other clients is still noticed, new mail still processed, reset records
retried, a changed email_storage still applied.

Store work is counted, never timed: SQL statements (peewee's execute_sql) and SQLite virtual machine
instructions (sqlite3's progress handler, called at every instruction): a query reading every kept record
costs instructions per record, so 30 and 1,000 kept messages give different counts unless every query of
the pass reads only the rows that need work.
"""
from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from peewee import Database

from mailticket_tui.engine.events import MessageHandled
from mailticket_tui.engine.runner import run_pass, source_config
from mailticket_tui.engine.sources import SourceConfig, open_source
from mailticket_tui.engine.sources.maildir import SETTLE
from mailticket_tui.settings import load_settings_file
from mailticket_tui.store.db import open_store
from mailticket_tui.store.models import Inbox, InboxState, MailMessage, database_proxy, utcnow
from mailticket_tui.store.settings_store import load_settings, save_settings

from .conftest import make_maildir
from .mailgen import make_mail
from .runner_support import Cli, inbox_toml, records, write_settings

PROTOCOLS = ("imap", "pop3", "maildir")


@contextmanager
def store_work(db: Database) -> Iterator[dict[str, int]]:
    """Count the statements and SQLite VM instructions run inside the block (this thread's connection)."""
    counts = {"statements": 0, "instructions": 0}
    original = db.execute_sql

    def counting(sql, *args, **kwargs):
        counts["statements"] += 1
        return original(sql, *args, **kwargs)

    def instruction() -> int:
        counts["instructions"] += 1
        return 0  # go on

    connection = db.connection()
    db.execute_sql = counting
    connection.set_progress_handler(instruction, 1)
    try:
        yield counts
    finally:
        connection.set_progress_handler(None, 1)
        del db.execute_sql


def aged(folder: Path) -> None:
    """Make a Maildir's folders look changed a minute ago, as between two polls of a quiet inbox."""
    past = time.time() - 60
    for sub in ("new", "cur"):
        os.utime(folder / sub, (past, past))


def fill_server(protocol: str, count: int, account, maildir: Path) -> None:
    if protocol == "maildir":
        stamp = int(time.time()) - count - 60
        for i in range(count):
            raw = make_mail(subject=f"Kept {i}", message_id=f"<kept-{i}@acme.example>")
            (maildir / "new" / f"{stamp + i}.M{i}P1.test,S={len(raw)}").write_bytes(raw)
        aged(maildir)
        return
    client = account.imap()
    for i in range(count):
        client.append("INBOX", make_mail(subject=f"Kept {i}", message_id=f"<kept-{i}@acme.example>"))


def kept_store(tmp_path: Path, protocol: str, count: int, account, name: str) -> Database:
    """A store whose keep inbox has `count` messages on the server, all recorded as processed (as passes
    leave them), after the pass that takes the server in."""
    maildir = make_maildir(tmp_path / f"Maildir-{name}")
    fill_server(protocol, count, account, maildir)
    config = write_settings(tmp_path, inbox_toml("kept", protocol, account, maildir=maildir, email_storage="keep"),
                            name=f"{name}.toml")
    db = open_store(f"sqlite:///{tmp_path / f'{name}.db'}")
    save_settings(load_settings_file(config))
    settings = load_settings()
    with open_source(source_config(settings.inbox("kept"), settings)) as source:
        epoch = source.folder_state().epoch
        listed = source.list_all()
    assert len(listed) == count
    inbox = Inbox.get(Inbox.name == "kept")
    MailMessage.insert_many([dict(inbox=inbox.id, folder="INBOX", uidvalidity=epoch, key=m.key, uid=m.uid, size=m.size,
                                  status="processed", processed_at=utcnow(), on_server=True) for m in listed]).execute()
    InboxState.create(inbox=inbox.id, folder="INBOX", uidvalidity=epoch,
                      highest_uid=max((m.uid or 0) for m in listed))
    idle_pass(db)  # takes the server in (POP3 and Maildir: one full listing)
    return db


def idle_pass(db: Database) -> dict[str, int]:
    database_proxy.initialize(db)
    settings = load_settings()
    with store_work(db) as counts:
        (result,) = run_pass(settings).results
    assert result.error is None and result.counters.read == 0, result
    return counts


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_idle_pass_does_the_same_store_work_at_30_and_1000_kept_messages(
        protocol, dovecot, tmp_path) -> None:
    small = kept_store(tmp_path, protocol, 30, dovecot.add_user(), "small")
    large = kept_store(tmp_path, protocol, 1000, dovecot.add_user(), "large")
    work = {name: idle_pass(db) for name, db in (("small", small), ("large", large))}
    assert work["small"]["statements"] == work["large"]["statements"], work
    # one more B-tree level costs no instruction; reading the kept records would cost thousands
    assert abs(work["small"]["instructions"] - work["large"]["instructions"]) < 50, work
    assert idle_pass(large) == work["large"]  # and the next idle pass does the same again
    small.close()
    large.close()


def pop3_or_maildir(protocol: str, mail_account, maildir: Path, **fields) -> str:
    return inbox_toml("support", protocol, mail_account, maildir=maildir, **fields)


def deliver(protocol: str, mail_account, maildir: Path, subject: str, n: int) -> None:
    raw = make_mail(subject=subject, message_id=f"<{subject.replace(' ', '-')}@acme.example>")
    if protocol == "maildir":
        (maildir / "new" / f"{int(time.time()) - 100 + n}.M{n}P9.test").write_bytes(raw)
        aged(maildir)  # even a change older than SETTLE is seen: the folder's mtime moved
    else:
        mail_account.append(raw)


def remove_first(protocol: str, mail_account, maildir: Path) -> None:
    """Another client deletes the oldest message."""
    if protocol == "maildir":
        min((maildir / "new").iterdir()).unlink()
        past = time.time() - 30
        for sub in ("new", "cur"):
            os.utime(maildir / sub, (past, past))
        return
    client = mail_account.imap()
    client.select_folder("INBOX")
    client.delete_messages([min(client.search("ALL"))])
    client.expunge()
    client.unselect_folder()


def listing(name: str = "support") -> str:
    return InboxState.get(InboxState.inbox == Inbox.get(Inbox.name == name).id).listing


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_skipping_an_unchanged_folder_still_sees_what_changed(
        protocol, mail_account, maildir, tmp_path, store_url, capsys) -> None:
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, pop3_or_maildir(protocol, mail_account, maildir)))
    for n in range(3):
        deliver(protocol, mail_account, maildir, f"First {n}", n)
    assert cli.run_once()[1].startswith("support: read 3, processed 3")
    assert cli.run_once()[1].startswith("support: read 0")
    assert listing(), "an idle pass records the listing it took in"

    # new mail after an unchanged folder
    deliver(protocol, mail_account, maildir, "Later", 5)
    assert cli.run_once()[1].startswith("support: read 1, processed 1")

    # another client deletes a message: its record is marked vanished
    remove_first(protocol, mail_account, maildir)
    assert cli.run_once()[0] == 0
    gone = MailMessage.get(MailMessage.subject == "First 0")
    assert not gone.on_server and gone.vanished_at is not None
    assert sorted(r.subject for r in records() if r.on_server) == ["First 1", "First 2", "Later"]

    # one deleted, one new: the count stays, the fingerprint does not (IMAP lists only the new mail in
    # that pass, and notices the delete in the next one, which finds STATUS changed)
    remove_first(protocol, mail_account, maildir)
    deliver(protocol, mail_account, maildir, "Replacement", 7)
    assert cli.run_once()[1].startswith("support: read 1, processed 1")
    assert cli.run_once()[1].startswith("support: read 0")
    assert sorted(r.subject for r in records() if r.on_server) == ["First 2", "Later", "Replacement"]

    # an operator resets a record while the folder stays as it was: retried from the store
    again = MailMessage.get(MailMessage.subject == "Later")
    assert cli.run_once()[1].startswith("support: read 0")
    code, _, err = cli("messages", "reset", str(again.id))
    assert code == 0, err
    assert cli.run_once()[1].startswith("support: read 1")
    assert MailMessage.get_by_id(again.id).status == "processed"
    assert len(records()) == 5


@pytest.mark.parametrize("protocol", ("pop3", "maildir"))
def test_a_pass_cut_short_records_no_listing_so_the_next_one_lists_the_rest(
        protocol, mail_account, maildir, tmp_path, store_url, capsys) -> None:
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, pop3_or_maildir(protocol, mail_account, maildir)))
    for n in range(3):
        deliver(protocol, mail_account, maildir, f"Queued {n}", n)
    stop = threading.Event()

    def stop_after_the_first(event: object) -> None:
        if isinstance(event, MessageHandled):
            stop.set()

    run_pass(load_settings(), sink=stop_after_the_first, stop=stop)
    assert [r.subject for r in records()] == ["Queued 0"] and listing() == ""
    assert cli.run_once()[1].startswith("support: read 2, processed 2")
    assert listing() and cli.run_once()[1].startswith("support: read 0")


@pytest.mark.parametrize("protocol", ("pop3", "maildir"))
def test_switching_a_keep_inbox_to_delete_empties_an_unchanged_folder(
        protocol, mail_account, maildir, tmp_path, store_url, capsys) -> None:
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, pop3_or_maildir(protocol, mail_account, maildir)))
    for n in range(2):
        deliver(protocol, mail_account, maildir, f"Kept {n}", n)
    assert cli.run_once()[1].startswith("support: read 2, processed 2")
    assert cli.run_once()[1].startswith("support: read 0")
    cli.use(write_settings(tmp_path, pop3_or_maildir(protocol, mail_account, maildir, email_storage="delete"),
                           name="delete.toml"))
    assert cli.run_once()[0] == 0
    on_server = (len(list((maildir / "new").iterdir())) if protocol == "maildir"
                 else mail_account.message_count())
    assert on_server == 0
    assert not any(r.on_server for r in records())


def test_a_maildir_changed_within_the_settle_time_gives_no_fingerprint(maildir) -> None:
    config = SourceConfig(name="md", protocol="maildir", server=str(maildir), tls="none")
    (maildir / "new" / "1764500000.M1P1.test").write_bytes(make_mail())
    with open_source(config) as source:
        assert source.poll_state().fingerprint == ""  # just changed: the clock may not tick before the next
        aged(maildir)
        settled = source.poll_state()
        assert settled.fingerprint and settled.count is None
        os.utime(maildir / "cur", (time.time() - SETTLE - 1,) * 2)
        assert source.poll_state().fingerprint not in ("", settled.fingerprint)


def test_maildir_listing_takes_sizes_and_order_from_the_names(maildir) -> None:
    (maildir / "new" / "1764500002.M2P1.test,S=7").write_bytes(b"x" * 99)  # the name is believed
    (maildir / "cur" / "1764500001.M1P1.test,S=5:2,S").write_bytes(b"x" * 5)
    (maildir / "new" / "1764500003.M3P1.test").write_bytes(b"x" * 3)  # no ,S=: stat
    with open_source(SourceConfig(name="md", protocol="maildir", server=str(maildir), tls="none")) as source:
        assert [(m.key, m.size) for m in source.list_all()] == [
            ("1764500001.M1P1.test,S=5", 5), ("1764500002.M2P1.test,S=7", 7), ("1764500003.M3P1.test", 3)]
