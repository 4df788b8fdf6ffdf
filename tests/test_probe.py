"""test_connection() names the step that failed: dns, connect, tls, auth, folder; or done."""
from __future__ import annotations

from dataclasses import replace

import pytest

from mailticket_tui.engine.sources.base import SourceConfig
from mailticket_tui.engine.sources.probe import ProbeResult, test_connection as probe
from tests.dovecot_server import free_ports, make_message


def test_imap_ok_reports_count_capabilities_and_plaintext_warning(mail_account):
    mail_account.append(make_message(1))
    result = probe(mail_account.source_config())
    assert isinstance(result, ProbeResult)
    assert (result.ok, result.stage, result.message_count, result.tls) == (True, "done", 1, "none")
    assert "IMAP4REV1" in result.capabilities
    assert result.warning and "no TLS" in result.warning


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
@pytest.mark.parametrize("tls", ["ssl", "starttls"])
def test_tls_ok_without_warning(mail_account, protocol, tls):
    result = probe(mail_account.source_config(protocol, tls=tls))
    assert result.ok and result.stage == "done" and result.warning is None
    assert result.tls.startswith("TLSv1") and ("implicit" if tls == "ssl" else "STARTTLS") in result.tls


def test_verification_off_warns(mail_account):
    result = probe(mail_account.source_config(tls="ssl", ca_file="", verify_certificate=False))
    assert result.ok and "certificate verification is OFF" in result.warning


def test_dns_failure():
    cfg = SourceConfig(name="t", protocol="imap", server="mail.nowhere.invalid", tls="ssl")
    result = probe(cfg)
    assert (result.ok, result.stage) == (False, "dns") and "mail.nowhere.invalid" in result.message


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_refused_port(protocol):
    (port,) = free_ports(1)
    cfg = SourceConfig(name="t", protocol=protocol, server="127.0.0.1", port=port, tls="none", timeout=5)
    result = probe(cfg)
    assert (result.ok, result.stage) == (False, "connect") and "refused" in result.message
    assert f"127.0.0.1:{port}" in result.message


def test_unknown_ca_is_tls_stage(mail_account):
    result = probe(mail_account.source_config(tls="ssl", ca_file=""))
    assert (result.ok, result.stage) == (False, "tls") and "certificate verify failed" in result.message


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_wrong_password_is_auth_stage(mail_account, protocol):
    result = probe(mail_account.source_config(protocol, password="Wr0ng-pa55"))
    assert (result.ok, result.stage) == (False, "auth")
    assert "Wr0ng-pa55" not in result.message and mail_account.login in result.message


def test_missing_folder_is_folder_stage(mail_account):
    result = probe(mail_account.source_config(mailbox="Ghost"))
    assert (result.ok, result.stage) == (False, "folder") and "Ghost" in result.message


def test_maildir_ok_and_missing(tmp_path):
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "md" / sub).mkdir(parents=True)
    cfg = SourceConfig(name="m", protocol="maildir", server=str(tmp_path / "md"), tls="none")
    ok = probe(cfg)
    assert ok.ok and ok.message_count == 0 and ok.warning is None
    missing = probe(replace(cfg, mailbox="Nope"))
    assert (missing.ok, missing.stage) == (False, "folder")


def test_probe_changes_nothing(mail_account):
    uid = mail_account.append(make_message(1))
    assert probe(mail_account.source_config()).ok
    assert probe(mail_account.source_config("pop3")).ok
    assert mail_account.uids() == [uid] and b"\\Seen" not in mail_account.flags(uid)
