"""POP3 login methods as the reference names them (pop3_auth): AUTH PLAIN, LOGIN and CRAM-MD5 (RFC 5034)
against the private Dovecot over plain, STLS and implicit TLS; what is refused before any credential is
sent (a mechanism the server does not list, STLS missing, DIGEST-MD5); and the whole path from a settings
file to a ticket with pop3_auth = "CRAM-MD5"."""
from __future__ import annotations

import logging
import poplib
import socket
import threading

import pytest

from mailticket_tui.engine.sources import SourceConfig, SourceError, open_source
from mailticket_tui.store.models import Ticket

from .mailgen import make_mail
from .runner_support import Cli, inbox_toml, write_settings

SASL = ["PLAIN", "LOGIN", "CRAM-MD5"]


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    """Every command line the client sends (POP3_SSL inherits _putcmd, so all three TLS modes are seen)."""
    lines: list[str] = []
    original = poplib.POP3._putcmd

    def spy(self, line):
        lines.append(line)
        return original(self, line)

    monkeypatch.setattr(poplib.POP3, "_putcmd", spy)
    return lines


def pop3(account, **kw) -> SourceConfig:
    return account.source_config("pop3", **kw)


@pytest.mark.parametrize("tls", ["none", "starttls", "ssl"])
@pytest.mark.parametrize("method", SASL)
def test_sasl_login_over_every_tls_mode(mail_account, sent, method, tls):
    mail_account.append(make_mail(subject="hello"))
    with open_source(pop3(mail_account, pop3_auth=method, tls=tls)) as src:
        assert src.folder_state().count == 1
    verbs = [line.split(" ")[0] for line in sent]
    assert f"AUTH {method}" in sent
    assert "USER" not in verbs and "PASS" not in verbs and "APOP" not in verbs
    if tls == "starttls":  # credentials only after the TLS handshake
        assert verbs.index("STLS") < sent.index(f"AUTH {method}")
    assert not any(mail_account.password in line for line in sent)


def test_method_is_case_insensitive(mail_account, sent):
    with open_source(pop3(mail_account, pop3_auth="cram-md5")) as src:
        assert src.folder_state().count == 0
    assert "AUTH CRAM-MD5" in sent


@pytest.mark.parametrize("method", SASL)
def test_wrong_password_is_one_line_auth_error_without_the_password(mail_account, method, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SourceError) as err:
        with open_source(pop3(mail_account, pop3_auth=method, password="Wr0ng-pa55")):
            pass
    text = str(err.value)
    assert err.value.kind == "auth" and "\n" not in text
    assert f"refused login {mail_account.login!r} ({method})" in text and "check login and password" in text
    out, errout = capfd.readouterr()
    for seen in (text, caplog.text, out, errout):
        assert "Wr0ng-pa55" not in seen and mail_account.password not in seen


@pytest.mark.parametrize("method", SASL)
def test_mechanism_not_offered_is_refused_before_auth(fake_server, method):
    server = fake_server("pop3")  # its CAPA has USER, UIDL, TOP: no SASL line
    cfg = SourceConfig(name="t", protocol="pop3", server=server.host, port=server.port, tls="none",
                       login="bob", password="s3cret-pw", pop3_auth=method, timeout=5)
    with pytest.raises(SourceError) as err:
        with open_source(cfg):
            pass
    assert err.value.kind == "auth"
    assert f"does not offer AUTH {method} (its SASL mechanisms: none)" in str(err.value)
    assert "set pop3_auth to USER" in str(err.value)
    sent = b"".join(server.received)
    assert b"AUTH" not in sent and b"bob" not in sent and b"s3cret-pw" not in sent


def test_stls_missing_fails_before_auth(fake_server):
    server = fake_server("pop3")
    cfg = SourceConfig(name="t", protocol="pop3", server=server.host, port=server.port, tls="starttls",
                       login="bob", password="s3cret-pw", pop3_auth="PLAIN", timeout=5)
    with pytest.raises(SourceError) as err:
        with open_source(cfg):
            pass
    assert err.value.kind == "tls"
    sent = b"".join(server.received)
    assert b"AUTH" not in sent and b"s3cret-pw" not in sent


def test_digest_md5_is_refused_before_connecting(fake_server):
    server = fake_server("pop3")
    cfg = SourceConfig(name="t", protocol="pop3", server=server.host, port=server.port, tls="none",
                       login="bob", password="s3cret-pw", pop3_auth="DIGEST-MD5", timeout=5)
    with pytest.raises(SourceError) as err:
        with open_source(cfg):
            pass
    text = str(err.value)
    assert err.value.kind == "auth" and "\n" not in text
    assert "obsolete (RFC 6331)" in text and 'pop3_auth = "CRAM-MD5"' in text
    assert server.received == []  # not even CAPA: no connection was made


def test_unknown_method_is_refused_before_connecting(fake_server):
    server = fake_server("pop3")
    cfg = SourceConfig(name="t", protocol="pop3", server=server.host, port=server.port, tls="none",
                       login="bob", password="s3cret-pw", pop3_auth="GSSAPI", timeout=5)
    with pytest.raises(SourceError) as err:
        with open_source(cfg):
            pass
    assert err.value.kind == "auth" and "USER, APOP, PLAIN, LOGIN, CRAM-MD5" in str(err.value)
    assert server.received == []


class ChallengingServer:
    """A POP3 line server offering one SASL mechanism and answering every AUTH line with `challenge`."""

    def __init__(self, mechanism: str, challenge: bytes) -> None:
        self.mechanism, self.challenge = mechanism, challenge
        self.received: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        conn, _ = self._listener.accept()
        with conn, conn.makefile("rwb", buffering=0) as f:
            f.write(b"+OK ready\r\n")
            in_auth = False
            for line in iter(f.readline, b""):
                self.received.append(line)
                command = line.strip().upper()
                if command == b"CAPA":
                    f.write(b"+OK\r\nUSER\r\nSASL " + self.mechanism.encode() + b"\r\n.\r\n")
                elif command.startswith(b"AUTH") or (in_auth and command != b"*"):
                    in_auth = True
                    f.write(b"+ " + self.challenge + b"\r\n")
                elif command == b"*":
                    f.write(b"-ERR cancelled\r\n")
                    in_auth = False
                else:
                    f.write(b"-ERR no\r\n")

    def close(self) -> None:
        self._listener.close()
        self._thread.join(timeout=2)


@pytest.mark.parametrize("mechanism, challenge, answers", [
    ("CRAM-MD5", b"!!not base64!!", 0),  # an undecodable challenge: cancelled at once
    ("LOGIN", b"VXNlcm5hbWU6", 2),  # "Username:" for ever: login and password, then cancelled
    ("CRAM-MD5", b"PDEyMzRAZXhhbXBsZT4=", 1),  # a second challenge after the response: cancelled
])
def test_unanswerable_challenges_cancel_the_exchange(mechanism, challenge, answers):
    server = ChallengingServer(mechanism, challenge)
    cfg = SourceConfig(name="t", protocol="pop3", server="127.0.0.1", port=server.port, tls="none",
                       login="bob", password="s3cret-pw", pop3_auth=mechanism, timeout=5)
    try:
        with pytest.raises(SourceError) as err:
            with open_source(cfg):
                pass
    finally:
        server.close()
    assert err.value.kind == "auth" and f"AUTH {mechanism} challenge this client cannot answer" in str(err.value)
    auth = server.received.index(f"AUTH {mechanism}\r\n".encode())
    assert len(server.received[auth + 1:]) == answers + 1 and server.received[-1] == b"*\r\n"
    assert not any(b"s3cret-pw" in line for line in server.received)  # base64 on the wire, never in clear


def test_run_once_with_cram_md5_from_the_settings(mail_account, tmp_path, store_url, capsys, sent):
    mail_account.append(make_mail(subject="Printer on fire"))
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("pop", "pop3", mail_account, pop3_auth="CRAM-MD5")))
    code, out, err = cli.run_once()
    assert code == 0, out + err
    assert [t.title for t in Ticket.select()] == ["Printer on fire"]
    assert "AUTH CRAM-MD5" in sent


def test_engine_pop3_auth_option_applies_to_inboxes_left_at_user(mail_account, tmp_path, store_url, capsys, sent):
    mail_account.append(make_mail(subject="Through the engine default"))
    cli = Cli(store_url, capsys)
    cli.use(write_settings(tmp_path, inbox_toml("pop", "pop3", mail_account), pop3_auth_option="LOGIN"))
    code, out, err = cli.run_once()
    assert code == 0, out + err
    assert Ticket.select().count() == 1 and "AUTH LOGIN" in sent
