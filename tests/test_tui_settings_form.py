"""The global settings form ([engine], [smtp], [ticket_log], [org_domains]): opened with `g` in the Inboxes
mode or from the command palette, every field from the schema, settings.py's problems beside the fields and
nothing saved then, the SMTP password never shown back (kept when left empty, dropped on request), and
"Test SMTP" probing the values being edited against a real in-process SMTP server (aiosmtpd).
"""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from textual.widgets import Checkbox, Input, Select, Static

from mailticket_tui.app import build_app
from mailticket_tui.screens.settings_form import SettingsFormScreen
from mailticket_tui.settings import TICKET_CLASSES, EngineSettings, SmtpSettings, settings_to_dict

from .dovecot_server import free_ports
from .test_tui_support import maildir_inbox, make_maildir, open_store, screen_output, settle

SMTP = """
    [smtp]
    server = "smtp.example.test"
    login = "helpdesk@example.test"
    password = "hunter2"
    """


class Sink:
    def __init__(self) -> None:
        self.mails = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        self.mails += 1
        return "250 OK"


@pytest.fixture
def smtp_server():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_ports(1)[0])
    controller.start()
    yield controller.port, sink
    controller.stop()


def error(form: SettingsFormScreen, widget: str) -> str:
    box = form.query_one(f"#error-{widget}", Static)
    return str(box.visual) if box.display else ""


async def open_form(pilot) -> SettingsFormScreen:
    await settle(pilot)
    await pilot.press("g")
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, SettingsFormScreen)
    return form


async def test_every_global_setting_has_a_row(tmp_path: Path) -> None:
    app = build_app(open_store(tmp_path), start_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(pilot)
        for prefix, schema in (("engine-", EngineSettings), ("smtp-", SmtpSettings)):
            for f in fields(schema):
                assert form.query_one(f"#field-{prefix}{f.name}")
        for klass in TICKET_CLASSES:
            assert form.query_one(f"#field-ticket_log-{klass}", Select).value == "public_log"
        assert form.query_one("#field-org_domains")
        form.query_one("#field-engine-maximum_email_size", Input).focus()
        await pilot.pause()
        assert "engine.maximum_email_size:" in str(form.query_one("#field-doc", Static).visual)


async def test_edit_save_and_reload(tmp_path: Path) -> None:
    services = open_store(tmp_path, maildir_inbox("support", make_maildir(tmp_path / "M")))
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(pilot)
        form.query_one("#field-engine-periodicity", Input).value = "90"
        form.query_one("#field-smtp-server", Input).value = "smtp.example.test"
        form.query_one("#field-smtp-tls", Select).value = "ssl"
        form.query_one("#field-smtp-port", Input).value = "465"
        form.query_one("#field-ticket_log-Incident", Select).value = "private_log"
        form.query_one("#field-org_domains").text = "ACME.example: ACME Corp\n\n@beta.example:Beta"
        form.query_one("#field-engine-delimiter_patterns").text = "drop ^>.*$\nstop ^-- $"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, SettingsFormScreen)
    stored = services.reload()
    assert stored.engine.periodicity == 90
    assert (stored.smtp.server, stored.smtp.tls, stored.smtp.port) == ("smtp.example.test", "ssl", 465)
    assert stored.ticket_log["Incident"] == "private_log" and stored.ticket_log["UserRequest"] == "public_log"
    assert stored.org_domains == {"acme.example": "ACME Corp", "beta.example": "Beta"}
    assert stored.engine.delimiter_patterns == {"^>.*$": False, "^-- $": True}
    assert [i.name for i in stored.inboxes] == ["support"]  # inboxes untouched


async def test_bad_values_are_shown_beside_the_fields_and_not_saved(tmp_path: Path) -> None:
    services = open_store(tmp_path)
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(pilot)
        form.query_one("#field-engine-maximum_email_size", Input).value = "10Q"
        form.query_one("#field-engine-periodicity", Input).value = "45"
        form.query_one("#field-smtp-sender", Input).value = "not an address"
        form.query_one("#field-org_domains").text = "no colon here"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # not saved
        assert "'10Q' is not a size" in error(form, "engine-maximum_email_size")
        assert "not an email address" in error(form, "smtp-sender")
        assert "domain:organisation" in error(form, "org_domains")
        assert error(form, "engine-periodicity") == ""
        assert form.focused is form.query_one("#field-engine-maximum_email_size")  # the first problem
        form.query_one("#field-engine-maximum_email_size", Input).value = "20M"
        form.query_one("#field-smtp-sender", Input).value = ""
        form.query_one("#field-org_domains").text = ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, SettingsFormScreen)
    assert settings_to_dict(services.reload())["engine"]["maximum_email_size"] == "20M"


async def test_bad_value_leaves_the_store_unchanged(tmp_path: Path) -> None:
    services = open_store(tmp_path)
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(pilot)
        form.query_one("#field-engine-maximum_email_size", Input).value = "10Q"
        form.query_one("#field-engine-periodicity", Input).value = "45"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
    stored = settings_to_dict(services.reload())["engine"]
    assert (stored["periodicity"], stored["maximum_email_size"]) == (30, "10M")


async def test_smtp_password_is_never_shown_back_kept_then_cleared(tmp_path: Path) -> None:
    services = open_store(tmp_path, SMTP)
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(120, 36)) as pilot:
        form = await open_form(pilot)
        password = form.query_one("#field-smtp-password", Input)
        assert password.value == "" and password.password
        form.query_one("#form").scroll_to_widget(password, animate=False)
        await pilot.pause()
        text, _ = screen_output(app)
        assert "hunter2" not in text and "password (set)" in text
        form.query_one("#field-smtp-sender", Input).value = "helpdesk@example.test"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert (services.settings.smtp.password, services.settings.smtp.sender) == ("hunter2", "helpdesk@example.test")

        form = await open_form(pilot)
        form.query_one("#clear-smtp-password", Checkbox).value = True
        await pilot.pause()
        assert "cleared on save" in form.query_one("#field-smtp-password", Input).placeholder
        form.query_one("#field-smtp-password_env", Input).value = "MT_SMTP_PASSWORD"
        await pilot.press("ctrl+s")
        await settle(pilot)
    stored = services.reload().smtp
    assert (stored.password, stored.password_env) == ("", "MT_SMTP_PASSWORD")


async def test_test_smtp_probes_the_values_being_edited(tmp_path: Path, smtp_server) -> None:
    port, sink = smtp_server
    services = open_store(tmp_path, SMTP)
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(pilot)
        form.query_one("#field-smtp-server", Input).value = "127.0.0.1"
        form.query_one("#field-smtp-port", Input).value = str(port)
        form.query_one("#field-smtp-tls", Select).value = "none"
        form.query_one("#field-smtp-login", Input).value = ""
        await pilot.press("ctrl+t")
        await settle(pilot)
        result = str(form.query_one("#smtp-test", Static).visual)
        assert "SMTP: OK" in result and f"127.0.0.1:{port}" in result and "TLS: none" in result
        assert "SMTP: OK" in str(form.query_one("#field-doc", Static).visual)
        assert sink.mails == 0
        assert services.settings.smtp.server == "smtp.example.test"  # tested, not saved

        form.query_one("#field-smtp-tls", Select).value = "starttls"  # not offered by this server
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert "FAILED at starttls" in str(form.query_one("#smtp-test", Static).visual)

        form.query_one("#field-smtp-port", Input).value = "99999"
        await pilot.press("ctrl+t")
        await settle(pilot)
        # the schema refuses it first: shown beside the field, nothing is probed
        assert "fix the SMTP problems shown" in str(form.query_one("#smtp-test", Static).visual)
        assert "not a TCP port" in error(form, "smtp-port")
        form.query_one("#field-smtp-port", Input).value = str(port)

        form.query_one("#field-smtp-sender", Input).value = "not an address"  # invalid: shown, not tested
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert "fix the SMTP problems" in str(form.query_one("#smtp-test", Static).visual)
        assert "not an email address" in error(form, "smtp-sender")


async def test_a_test_that_cannot_start_is_shown_in_the_form(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("MT_UNSET_SMTP_PASSWORD", raising=False)
    app = build_app(open_store(tmp_path), start_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(pilot)
        form.query_one("#field-smtp-server", Input).value = "127.0.0.1"
        form.query_one("#field-smtp-password_env", Input).value = "MT_UNSET_SMTP_PASSWORD"
        await pilot.press("ctrl+t")
        await settle(pilot)
        line = str(form.query_one("#smtp-test", Static).visual)
        assert "could not test SMTP" in line and "MT_UNSET_SMTP_PASSWORD is not set" in line
        assert app.screen is form


async def test_the_command_palette_opens_it(tmp_path: Path) -> None:
    app = build_app(open_store(tmp_path), start_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3", "ctrl+p")  # from another mode
        await pilot.press(*"global settings")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SettingsFormScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, SettingsFormScreen)


def test_snapshot_80x24(snap_compare, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_maildir(tmp_path / "Maildir")
    services = open_store(tmp_path, maildir_inbox("support", Path("Maildir")) + SMTP, relative=True)

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        for widget in pilot.app.screen.query(Input):
            widget.cursor_blink = False
        await pilot.pause()

    assert snap_compare(build_app(services, start_engine=False), terminal_size=(80, 24), run_before=run_before)
