"""Services the TUI relies on beyond the CLI: renaming an inbox, testing unsaved inbox values, ticket detail."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from mailticket_tui.services import open_services
from mailticket_tui.settings import SettingsError
from mailticket_tui.store.models import MailMessage

from .mailgen import make_mail


def test_rename_keeps_message_records(write_config, maildir: Path, store_url: str) -> None:
    config = write_config(f"""
        [[inbox]]
        name = "old"
        protocol = "maildir"
        server = "{maildir}"
        unknown_caller_behavior = "create_contact"

        [[inbox]]
        name = "other"
        protocol = "maildir"
        server = "{maildir}"
        mailbox = "Other"
        active = false
        """)
    (maildir / "new" / "1.M1.t").write_bytes(make_mail(subject="kept"))
    services = open_services(str(config), store_url)
    services.run_once()
    services.rename_inbox("old", "new")
    assert services.settings.inbox("new") and services.settings.inbox("old") is None
    assert [m.inbox for m in services.list_messages()] == ["new"]
    assert services.run_once().results[0].counters.read == 0  # not processed again under the new name
    detail = services.get_ticket(services.list_tickets()[0].ref)
    assert detail.message_inboxes == ("new",) and len(detail.message_rows) == 1
    with pytest.raises(SettingsError, match="already used"):
        services.rename_inbox("new", "other")
    with pytest.raises(SettingsError, match="no inbox named"):
        services.rename_inbox("ghost", "x")
    assert MailMessage.select().count() == 1


def test_unsaved_values_are_tested_with_the_stored_password(mail_account, write_config, store_url: str) -> None:
    config = write_config(f"""
        [[inbox]]
        name = "imap"
        server = "{mail_account.host}"
        port = {mail_account.imap_port}
        tls = "none"
        login = "{mail_account.login}"
        password = "{mail_account.password}"
        """)
    services = open_services(str(config), store_url)
    form = replace(services.settings.inbox("imap"), password="", mailbox="INBOX")
    assert services.test_inbox_settings(form).ok
    missing = services.test_inbox_settings(replace(form, mailbox="Nope"))
    assert not missing.ok and missing.stage == "folder"
    wrong = services.test_inbox_settings(replace(form, password="wrong"))
    assert not wrong.ok and wrong.stage == "auth"


def test_rename_and_save_is_one_transaction(write_config, maildir: Path, store_url: str) -> None:
    config = write_config(f"""
        [[inbox]]
        name = "a"
        protocol = "maildir"
        server = "{maildir}"

        [[inbox]]
        name = "b"
        protocol = "maildir"
        server = "{maildir}"
        mailbox = "B"
        """)
    services = open_services(str(config), store_url)
    with pytest.raises(SettingsError, match="already used"):
        services.save_inbox(replace(services.settings.inbox("a"), name="b", trace=True), rename_from="a")
    assert services.settings.inbox("a") and not services.settings.inbox("b").trace
    services.save_inbox(replace(services.settings.inbox("a"), name="c", trace=True), rename_from="a")
    assert services.settings.inbox("a") is None and services.settings.inbox("c").trace


def test_listing_queries_do_not_grow_with_the_rows(write_config, maildir: Path, store_url: str) -> None:
    """No N+1: a page of messages or tickets, and a ticket's detail, cost a fixed number of queries."""
    from playhouse.test_utils import count_queries

    config = write_config(f"""
        [[inbox]]
        name = "local"
        protocol = "maildir"
        server = "{maildir}"
        unknown_caller_behavior = "create_contact"
        import_additional_contacts = "always"
        """)
    services = open_services(str(config), store_url)

    def costs() -> tuple[int, int, int]:
        with count_queries() as messages:
            services.list_messages(limit=50)
        with count_queries() as tickets:
            services.list_tickets(limit=50)
        with count_queries() as detail:
            services.get_ticket(first_ref)
        return messages.count, tickets.count, detail.count

    (maildir / "new" / "1.M1.t").write_bytes(make_mail(subject="first", message_id="<f@x>"))
    services.run_once()
    first_ref = services.list_tickets()[0].ref
    small = costs()
    for i in range(2, 12):
        (maildir / "new" / f"{i}.M{i}.t").write_bytes(make_mail(
            subject=f"more {i}", sender=f"u{i}@acme.example", in_reply_to="<f@x>" if i % 2 else None,
            attachments=[("a.txt", "text/plain", b"x")]))
    services.run_once()
    assert len(services.get_ticket(first_ref).case_log) == 5  # the detail grew, its cost did not
    assert costs() == small
