"""The `ca_file` setting (inbox and [smtp]): a PEM bundle of extra CAs trusted on top of the system's.

Against the private Dovecot's own CA (IMAP) and a throw-away CA in front of aiosmtpd (SMTP): with ca_file the
certificate verifies, without it the error names ca_file, and a missing file is one line naming the key.
"""
from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from mailticket_tui.engine.outbound import CaFileError, _ssl_context, probe_smtp
from mailticket_tui.engine.runner import source_config
from mailticket_tui.engine.sources import SourceError, open_source
from mailticket_tui.settings import Settings, SmtpSettings, settings_from_dict

from .dovecot_server import free_ports, make_certificates


def inbox_settings(account, **values):
    """The account as a settings file would describe it (implicit TLS), through the validator."""
    inbox = {"name": "support", "protocol": "imap", "server": account.host, "port": account.imaps_port,
             "tls": "ssl", "login": account.login, "password": account.password, **values}
    settings = settings_from_dict({"inbox": [inbox]})
    return settings.inboxes[0], settings


def test_inbox_ca_file_is_a_setting_with_an_empty_default():
    inbox = {"name": "a", "server": "imap.example.com", "login": "a@example.com", "password_env": "A"}
    settings = settings_from_dict({"inbox": [{**inbox, "ca_file": "/etc/ca.pem"}],
                                   "smtp": {"ca_file": "/etc/smtp-ca.pem"}})
    assert settings.inboxes[0].ca_file == "/etc/ca.pem" and settings.smtp.ca_file == "/etc/smtp-ca.pem"
    assert Settings().smtp.ca_file == "" and settings_from_dict({"inbox": [inbox]}).inboxes[0].ca_file == ""


def test_inbox_with_ca_file_verifies_the_private_dovecot(mail_account):
    inbox, settings = inbox_settings(mail_account, ca_file=str(mail_account.ca_file))
    config = source_config(inbox, settings)
    assert config.ca_file == str(mail_account.ca_file)
    with open_source(config) as src:
        assert src.tls_version and src.tls_version.startswith("TLSv1")


def test_inbox_without_ca_file_fails_naming_ca_file(mail_account):
    inbox, settings = inbox_settings(mail_account)
    with pytest.raises(SourceError) as err:
        with open_source(source_config(inbox, settings)):
            pass
    assert err.value.kind == "tls" and "certificate verify failed" in str(err.value)
    assert "ca_file" in str(err.value) and "\n" not in str(err.value)


def test_inbox_missing_ca_file_is_one_line_naming_the_key(mail_account, tmp_path):
    inbox, settings = inbox_settings(mail_account, ca_file=str(tmp_path / "nope.pem"))
    with pytest.raises(SourceError) as err:
        with open_source(source_config(inbox, settings)):
            pass
    assert err.value.kind == "tls" and "ca_file" in str(err.value) and "nope.pem" in str(err.value)
    assert "\n" not in str(err.value)


# ------------------------------------------------------------------------------------------ SMTP


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> tuple[Path, Path, Path]:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_smtp(certificates):
    """An aiosmtpd with implicit TLS on a free loopback port; yields its port."""
    _, cert, key = certificates
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    class Sink:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
            return "250 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=free_ports(1)[0], ssl_context=context)
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


def test_smtp_ca_file_verifies(tls_smtp, certificates):
    result = probe_smtp(SmtpSettings(server="127.0.0.1", port=tls_smtp, tls="ssl", ca_file=str(certificates[0])),
                        "", timeout=5)
    assert (result.ok, result.stage) == (True, "done") and result.tls.startswith("TLSv1")


def test_smtp_without_ca_file_names_it(tls_smtp):
    result = probe_smtp(SmtpSettings(server="127.0.0.1", port=tls_smtp, tls="ssl"), "", timeout=5)
    assert (result.ok, result.stage) == (False, "tls") and "[smtp] ca_file" in result.message


def test_smtp_missing_ca_file_is_one_line_naming_the_key(tmp_path):
    smtp = SmtpSettings(server="127.0.0.1", port=465, tls="ssl", ca_file=str(tmp_path / "nope.pem"))
    result = probe_smtp(smtp, "", timeout=5)
    assert (result.ok, result.stage) == (False, "settings")
    assert "[smtp] ca_file" in result.message and "nope.pem" in result.message and "\n" not in result.message
    with pytest.raises(CaFileError, match=r"\[smtp\] ca_file"):
        _ssl_context(smtp)


# ------------------------------------------------------------------------------------------ the inbox form


async def test_form_asks_before_saving_after_a_failed_test(tmp_path):
    from textual.widgets import Input, Static

    from mailticket_tui.app import build_app
    from mailticket_tui.screens.confirm import ConfirmScreen
    from mailticket_tui.screens.inbox_form import InboxFormScreen

    from .test_tui_support import maildir_inbox, make_maildir, open_store, settle

    maildir = make_maildir(tmp_path / "Maildir")
    services = open_store(tmp_path, maildir_inbox("local", tmp_path / "missing"))
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        form = app.screen
        assert form.query("#field-ca_file")
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert "local: FAILED" in str(form.query_one("#field-doc", Static).visual)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and "failed" in str(app.screen.question)
        await pilot.press("n")  # not saved: back in the form, values kept
        await settle(pilot)
        assert app.screen is form
        form.query_one("#field-server", Input).value = str(maildir)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert "local: OK" in str(form.query_one("#field-doc", Static).visual)
        await pilot.press("ctrl+s")  # the last test passed: saved without a question
        await settle(pilot)
        assert not isinstance(app.screen, (ConfirmScreen, InboxFormScreen))
    assert services.inbox_settings("local").server == str(maildir)


async def test_form_saves_after_a_failed_test_when_confirmed(tmp_path):
    from textual.widgets import Input

    from mailticket_tui.app import build_app
    from mailticket_tui.screens.confirm import ConfirmScreen
    from mailticket_tui.screens.inbox_form import InboxFormScreen

    from .test_tui_support import maildir_inbox, open_store, settle

    services = open_store(tmp_path, maildir_inbox("local", tmp_path / "missing"))
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        form = app.screen
        form.query_one("#field-ca_file", Input).value = "/etc/ssl/extra.pem"
        await pilot.press("ctrl+t")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert not isinstance(app.screen, (ConfirmScreen, InboxFormScreen))
    assert services.inbox_settings("local").ca_file == "/etc/ssl/extra.pem"


def test_probe_text_puts_the_warning_first_and_keeps_long_capability_lists_whole():
    from rich.console import Console

    from mailticket_tui.engine.outbound import SmtpProbe
    from mailticket_tui.widgets.probe_result import probe_text

    capabilities = tuple(f"X-CAPABILITY-{n}" for n in range(40))  # ~640 characters
    result = SmtpProbe(True, "done", "127.0.0.1:465: hello", tls="TLSv1.3", capabilities=capabilities,
                       warning="certificate verification is OFF: anyone on the path can pose as the server")
    text = probe_text("SMTP", result)
    lines = text.plain.splitlines()
    assert lines[0].startswith("warning: certificate verification is OFF") and lines[1].startswith("SMTP: OK")
    assert lines[2].startswith("capabilities: ") and lines[2].endswith("X-CAPABILITY-39")
    console = Console(width=80, record=True)
    console.print(text)
    rendered = console.export_text().splitlines()
    assert rendered[0].startswith("warning:") and len(rendered) > 4 and max(map(len, rendered)) <= 80
    assert probe_text("SMTP", SmtpProbe(False, "tls", "bad", warning="no TLS")).plain.splitlines()[0] == "warning: no TLS"
