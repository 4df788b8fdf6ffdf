"""probe_smtp() (the settings form's "Test SMTP") against a real in-process SMTP server (aiosmtpd): it names
the step that failed (dns, connect, tls, starttls, auth) or reports the banner, the TLS version and the login;
it verifies certificates, never goes on in plain text when STARTTLS is asked for, and never sends mail."""
from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from mailticket_tui.engine.outbound import SmtpProbe, probe_smtp
from mailticket_tui.settings import SmtpSettings

from .dovecot_server import free_ports, make_certificates

LOGIN, PASSWORD = "helpdesk@desk.example", "s3cret-pw"


class Sink:
    """Counts DATA commands: a probe must never send one."""

    def __init__(self) -> None:
        self.mails = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        self.mails += 1
        return "250 OK"


def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        LOGIN.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers a failure with 535


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(ca, cert, key): a throw-away CA and a certificate for 127.0.0.1 signed by it."""
    return make_certificates(tmp_path_factory.mktemp("tls"))


def server_context(certificates) -> ssl.SSLContext:
    _, cert, key = certificates
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture
def start_server():
    """Start an aiosmtpd on a free loopback port with these SMTP parameters; returns (port, sink)."""
    controllers = []

    def start(**parameters) -> tuple[int, Sink]:
        sink = Sink()
        controller = Controller(sink, hostname="127.0.0.1", port=free_ports(1)[0], authenticator=authenticate,
                                **parameters)
        controller.start()
        controllers.append(controller)
        return controller.port, sink

    yield start
    for controller in controllers:
        controller.stop()


def smtp(port: int, **values) -> SmtpSettings:
    return SmtpSettings(**{"server": "127.0.0.1", "port": port, "tls": "none", **values})


def test_plain_server_with_login_is_ok_and_sends_nothing(start_server) -> None:
    port, sink = start_server(auth_require_tls=False)
    result = probe_smtp(smtp(port, login=LOGIN), PASSWORD, timeout=5)
    assert isinstance(result, SmtpProbe)
    assert (result.ok, result.stage, result.tls) == (True, "done", "none")
    assert result.banner and result.banner in result.message and f"127.0.0.1:{port}" in result.message
    assert result.auth == f"logged in as {LOGIN}" and "AUTH" in result.capabilities
    assert result.warning and "no TLS" in result.warning
    assert sink.mails == 0


def test_no_login_means_no_auth(start_server) -> None:
    port, _ = start_server()
    result = probe_smtp(smtp(port), "", timeout=5)
    assert result.ok and "without authentication" in result.auth


def test_wrong_password_is_the_auth_stage(start_server) -> None:
    port, _ = start_server(auth_require_tls=False)
    result = probe_smtp(smtp(port, login=LOGIN), "Wr0ng-pa55", timeout=5)
    assert (result.ok, result.stage) == (False, "auth")
    assert LOGIN in result.message and "535" in result.message and "Wr0ng-pa55" not in result.message


def test_starttls_not_offered_is_refused_not_downgraded(start_server) -> None:
    port, _ = start_server(auth_require_tls=False)  # no TLS context: no STARTTLS in the EHLO answer
    result = probe_smtp(smtp(port, tls="starttls", login=LOGIN), PASSWORD, timeout=5)
    assert (result.ok, result.stage) == (False, "starttls")
    assert "does not offer STARTTLS" in result.message and "plain text" in result.message
    assert result.auth == ""  # never logged in


def test_starttls_with_a_verified_certificate(start_server, certificates, monkeypatch) -> None:
    port, sink = start_server(tls_context=server_context(certificates))  # AUTH only after STARTTLS
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates[0]))  # the throw-away CA, trusted by this test only
    result = probe_smtp(smtp(port, tls="starttls", login=LOGIN), PASSWORD, timeout=5)
    assert (result.ok, result.stage) == (True, "done") and result.warning is None
    assert result.tls.startswith("TLSv1") and result.tls.endswith("(STARTTLS)")
    assert result.auth == f"logged in as {LOGIN}" and sink.mails == 0


def test_unknown_certificate_is_the_tls_stage(start_server, certificates) -> None:
    port, _ = start_server(tls_context=server_context(certificates))
    result = probe_smtp(smtp(port, tls="starttls", login=LOGIN), PASSWORD, timeout=5)
    assert (result.ok, result.stage) == (False, "tls") and "certificate verify failed" in result.message
    assert "verify_certificate = false" in result.message


def test_verification_off_is_ok_with_a_warning(start_server, certificates) -> None:
    port, _ = start_server(tls_context=server_context(certificates))
    result = probe_smtp(smtp(port, tls="starttls", login=LOGIN, verify_certificate=False), PASSWORD, timeout=5)
    assert result.ok and "verification is OFF" in result.warning


def test_implicit_tls(start_server, certificates, monkeypatch) -> None:
    # aiosmtpd counts only STARTTLS as TLS for its AUTH rule; the connection here is TLS from the start
    port, _ = start_server(ssl_context=server_context(certificates), auth_require_tls=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates[0]))
    result = probe_smtp(smtp(port, tls="ssl", login=LOGIN), PASSWORD, timeout=5)
    assert result.ok and result.tls.endswith("(implicit)") and result.auth == f"logged in as {LOGIN}"


def test_plain_login_refused_before_tls(start_server, certificates) -> None:
    port, _ = start_server(tls_context=server_context(certificates))  # AUTH needs TLS first
    result = probe_smtp(smtp(port, login=LOGIN), PASSWORD, timeout=5)
    assert (result.ok, result.stage) == (False, "auth") and "offers no AUTH" in result.message


def test_refused_port() -> None:
    (port,) = free_ports(1)
    result = probe_smtp(smtp(port), "", timeout=5)
    assert (result.ok, result.stage) == (False, "connect")
    assert "refused" in result.message and f"127.0.0.1:{port}" in result.message


def test_settings_problems_before_any_connection() -> None:
    assert probe_smtp(SmtpSettings(), "").stage == "settings"
    result = probe_smtp(smtp(70000), "")
    assert (result.ok, result.stage) == (False, "settings") and "not a TCP port" in result.message


def test_dns_failure() -> None:
    result = probe_smtp(SmtpSettings(server="smtp.nowhere.invalid", tls="none"), "", timeout=5)
    assert (result.ok, result.stage) == (False, "dns") and "smtp.nowhere.invalid" in result.message
