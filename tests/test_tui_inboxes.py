"""Inboxes mode: the list, the edit form (every field, settings.py's validation beside the fields, masked
password never shown back, cleared on request), rename (records follow), test connection of the values
being edited, activate/deactivate and delete with confirmation.
"""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from textual.widgets import Checkbox, Input, Select, Static

from mailticket_tui.app import build_app
from mailticket_tui.screens.confirm import ConfirmScreen
from mailticket_tui.screens.inbox_form import InboxFormScreen, grouped_fields
from mailticket_tui.settings import InboxSettings
from mailticket_tui.store.models import Inbox, MailMessage, Ticket

from .test_tui_app import closed_port
from .test_tui_support import add_messages, add_ticket, maildir_inbox, make_maildir, open_store, screen_output, settle


def test_the_form_groups_every_inbox_setting() -> None:
    shown = [f.name for _, group in grouped_fields() for f in group]
    assert sorted(shown) == sorted(f.name for f in fields(InboxSettings))
    assert [title for title, _ in grouped_fields()][:5] == [
        "Mailbox configuration", "Emails in error", "Behaviour on incoming emails", "Unknown callers",
        "Additional contacts"]


async def test_new_inbox_is_validated_beside_the_fields_then_saved(tmp_path: Path) -> None:
    maildir = make_maildir(tmp_path / "Maildir")
    services = open_store(tmp_path, maildir_inbox("support", maildir))
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, InboxFormScreen)
        form.query_one("#field-name", Input).value = "support"  # duplicate
        form.query_one("#field-port", Input).value = "70000"
        form.query_one("#field-title_pattern", Input).value = "R-(["
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form  # not saved

        def error(name: str) -> str:
            box = form.query_one(f"#error-{name}", Static)
            return str(box.visual) if box.display else ""

        assert "duplicate inbox name" in error("name")
        assert "not a TCP port" in error("port")
        assert "invalid regular expression" in error("title_pattern")
        assert "missing" in error("server") and "missing" in error("login")
        form.query_one("#field-name", Input).value = "sales"
        form.query_one("#field-port", Input).value = "993"
        form.query_one("#field-title_pattern", Input).value = r"R-(\d{6})"
        form.query_one("#field-server", Input).value = "imap.example.test"
        form.query_one("#field-login", Input).value = "sales@example.test"
        form.query_one("#field-password", Input).value = "s3cret"
        form.query_one("#field-ticket_default_values").text = "service_id:153\norg_id:Demo"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, InboxFormScreen)
        saved = services.inbox_settings("sales")
        assert (saved.port, saved.password, saved.ticket_default_values) == (
            993, "s3cret", {"service_id": "153", "org_id": "Demo"})
        assert app.screen.table.row_keys == ["sales", "support"]


async def test_password_is_never_shown_back_and_kept_when_left_empty(tmp_path: Path) -> None:
    services = open_store(tmp_path, """
        [[inbox]]
        name = "mail"
        server = "imap.example.test"
        login = "me@example.test"
        password = "hunter2"
        """)
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        form = app.screen
        password = form.query_one("#field-password", Input)
        assert password.value == "" and password.password
        text, _ = screen_output(app)
        assert "hunter2" not in text and "password (set)" in text
        form.query_one("#field-mailbox", Input).value = "Support"
        await pilot.press("ctrl+s")
        await settle(pilot)
    inbox = services.inbox_settings("mail")
    assert (inbox.password, inbox.mailbox) == ("hunter2", "Support")


async def test_toggle_delete_and_test_connection(tmp_path: Path) -> None:
    maildir = make_maildir(tmp_path / "Maildir")
    services = open_store(tmp_path, maildir_inbox("local", maildir) + f"""
        [[inbox]]
        name = "remote"
        server = "127.0.0.1"
        port = {closed_port()}
        tls = "none"
        login = "x@example.test"
        password = "pw"
        """)
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        info = app.screen.query_one("#inbox-info", Static)
        await pilot.press("t")  # cursor on "local" (a Maildir): OK
        await settle(pilot)
        assert "local: OK" in str(info.visual)
        await pilot.press("down", "t")
        await settle(pilot)
        assert "remote: FAILED at" in str(info.visual) and "refused" in str(info.visual)

        await pilot.press("a")  # deactivate "remote"
        await settle(pilot)
        assert services.inbox_settings("remote").active is False
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert services.settings.inbox("remote") is not None
        await pilot.press("d", "y")
        await settle(pilot)
        assert services.settings.inbox("remote") is None
        assert app.screen.table.row_keys == ["local"]


async def test_rename_keeps_message_records_and_tickets(tmp_path: Path) -> None:
    services = open_store(tmp_path, maildir_inbox("support", make_maildir(tmp_path / "M"))
                          + maildir_inbox("sales", make_maildir(tmp_path / "S")))
    ticket = add_ticket("R-000001", inbox="support")
    add_messages("support", 3, ticket=ticket)
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("down", "e")  # "support" (after "sales")
        form = app.screen
        assert isinstance(form, InboxFormScreen)
        name = form.query_one("#field-name", Input)
        assert not name.disabled
        name.value = "sales"  # taken: said beside the field, nothing saved
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form and "duplicate inbox name" in str(form.query_one("#error-name", Static).visual)
        name.value = "helpdesk"
        form.query_one("#field-mailbox", Input).value = "Support"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, InboxFormScreen)
        assert services.settings.inbox("support") is None
        assert services.inbox_settings("helpdesk").mailbox == "Support"  # renamed, then saved
        assert app.screen.table.row_keys == ["helpdesk", "sales"]
        renamed = Inbox.get(Inbox.name == "helpdesk")
        assert MailMessage.select().where(MailMessage.inbox == renamed).count() == 3
        assert Ticket.get(Ticket.ref == "R-000001").inbox_id == renamed.id
        assert app.screen.inboxes["helpdesk"].counts == {"processed": 3}


async def test_test_connection_probes_the_values_being_edited(tmp_path: Path, monkeypatch) -> None:
    maildir = make_maildir(tmp_path / "Maildir")
    services = open_store(tmp_path, maildir_inbox("local", tmp_path / "missing") + """
        [[inbox]]
        name = "mail"
        server = "imap.example.test"
        login = "me@example.test"
        password = "hunter2"
        """)
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("e")  # "local", whose saved folder does not exist
        form = app.screen
        doc = form.query_one("#field-doc", Static)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert "local: FAILED" in str(doc.visual)
        form.query_one("#field-server", Input).value = str(maildir)  # not saved: tested as typed
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert "local: OK" in str(doc.visual)
        assert services.inbox_settings("local").server == str(tmp_path / "missing")
        await pilot.press("escape")

        tested: list = []
        real_probe = services.test_inbox_settings

        def probe(inbox):
            tested.append(inbox)
            return real_probe(inbox)

        monkeypatch.setattr(services, "test_inbox_settings", probe)
        await pilot.press("down", "e")  # "mail": an empty password field tests with the stored password
        form = app.screen
        form.query_one("#field-server", Input).value = "127.0.0.1"
        form.query_one("#field-port", Input).value = str(closed_port())
        form.query_one("#field-tls", Select).value = "none"
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert (tested[-1].server, tested[-1].password) == ("127.0.0.1", "hunter2")
        assert "mail: FAILED at" in str(form.query_one("#field-doc", Static).visual)
        form.query_one("#field-port", Input).value = "99999"  # invalid: shown, not tested
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert len(tested) == 1 and "not a TCP port" in str(form.query_one("#error-port", Static).visual)
        await pilot.press("escape")

        await pilot.press("n")  # a new inbox can be tested before it is ever saved
        form = app.screen
        form.query_one("#field-name", Input).value = "fresh"
        form.query_one("#field-protocol", Select).value = "maildir"
        form.query_one("#field-server", Input).value = str(maildir)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert "fresh: OK" in str(form.query_one("#field-doc", Static).visual)
        assert services.settings.inbox("fresh") is None


async def test_clear_password_switches_to_password_env(tmp_path: Path, monkeypatch) -> None:
    services = open_store(tmp_path, """
        [[inbox]]
        name = "mail"
        server = "imap.example.test"
        login = "me@example.test"
        password = "hunter2"
        """)
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        form = app.screen
        form.query_one("#field-password_env", Input).value = "MT_MAIL_PASSWORD"
        await pilot.press("ctrl+s")  # the stored password is still there: two sources
        await pilot.pause()
        assert app.screen is form and "only one of password" in str(form.query_one("#form-errors", Static).visual)
        form.query_one("#field-password", Input).focus()
        await pilot.press("tab", "space")  # the "clear" box sits right after the password field
        assert form.query_one("#clear-password", Checkbox).value
        assert "cleared on save" in form.query_one("#field-password", Input).placeholder
        form.query_one("#field-password_env", Input).value = ""
        await pilot.press("ctrl+t")  # cleared and nothing else given: not tested with the old password
        await settle(pilot)
        assert "password cleared" in str(form.query_one("#field-doc", Static).visual)
        form.query_one("#field-password_env", Input).value = "MT_MAIL_PASSWORD"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, InboxFormScreen)
    inbox = services.inbox_settings("mail")
    assert (inbox.password, inbox.password_env) == ("", "MT_MAIL_PASSWORD")


async def test_no_clear_box_without_a_stored_password(tmp_path: Path) -> None:
    services = open_store(tmp_path, maildir_inbox("local", make_maildir(tmp_path / "M")))
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        assert not app.screen.query("#clear-password")
        await pilot.press("escape")
