"""OAuth2 inboxes end to end, without the internet: consent (device code, browser with PKCE and the paste
fallback) against the local authorization server (tests/oauth_server.py), tokens sealed in the store and
refreshed once when due, and XOAUTH2 logins that the private Dovecot checks against that server's
introspection endpoint (tests/oauth_fixtures.py). SMTP XOAUTH2 against aiosmtpd checking the token there too.
"""
from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import os
import poplib
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from imapclient import IMAPClient

from mailticket_tui.cli import main
from mailticket_tui.engine.oauth import microsoft, sasl, tokens
from mailticket_tui.engine.oauth.client import OAuthError
from mailticket_tui.engine.sources.base import SourceError
from mailticket_tui.services import open_services
from mailticket_tui.settings import SettingsError, SmtpSettings
from mailticket_tui.store.models import Inbox, MailMessage, OAuthGrant, Ticket, utcnow

from .dovecot_server import free_ports
from .mailgen import make_mail
from .oauth_server import CLIENT_ID, AuthServer, MsHttpClient

pytest_plugins = ["tests.oauth_fixtures"]


def oauth_inbox(server: AuthServer, account, name: str = "support", protocol: str = "imap", device: bool = True,
                extra: str = "") -> str:
    port = account.imap_port if protocol == "imap" else account.pop3_port
    endpoint = (f'oauth_device_authorization_url = "{server.url}/device"' if device
                else f'oauth_authorization_url = "{server.url}/authorize"')
    return f"""
[[inbox]]
name = "{name}"
protocol = "{protocol}"
server = "{account.host}"
port = {port}
tls = "none"
login = "{account.login}"
auth = "oauth2"
oauth_provider = "generic"
oauth_client_id = "{CLIENT_ID}"
oauth_token_url = "{server.url}/token"
oauth_scopes = ["mail", "offline_access"]
{endpoint}
unknown_caller_behavior = "create_contact"
{extra}
"""


def password_inbox(account, name: str) -> str:
    return f"""
[[inbox]]
name = "{name}"
protocol = "imap"
server = "{account.host}"
port = {account.imap_port}
tls = "none"
login = "{account.login}"
password = "{account.password}"
unknown_caller_behavior = "create_contact"
"""


def consent_by_device_code(services, server: AuthServer, name: str, login: str) -> str:
    """What an admin does: start, read the code, approve it in the "browser", wait for the poll to end."""
    authorization, consent = services.start_authorization(name)
    assert consent.flow == "device" and consent.url == f"{server.url}/verify" and len(consent.user_code) == 8
    ticks: list[int] = []
    outcome: list[str] = []
    waiter = threading.Thread(target=lambda: outcome.append(authorization.wait(ticks.append)))
    waiter.start()
    time.sleep(0.3)
    server.approve(consent.user_code, login)
    waiter.join(30)
    authorization.close()
    assert outcome and "authorized" in outcome[0]
    assert ticks and all(0 < t <= 600 for t in ticks)  # the countdown the CLI and the TUI show
    return consent.user_code


def refresh_grants(server: AuthServer) -> int:
    return len(server.grants("refresh_token"))


def expire_cached_token(name: str, seconds_left: int = 0) -> None:
    inbox_id = Inbox.get(Inbox.name == name).id
    OAuthGrant.update(access_expires=utcnow() + dt.timedelta(seconds=seconds_left)).where(
        OAuthGrant.inbox == inbox_id).execute()


def test_device_code_consent_then_imap_pass_logs_in_with_xoauth2(oauth_server, oauth_account, write_config,
                                                                   store_url, capsys) -> None:
    oauth_server.slow_downs = 1  # the first poll is told to slow down: the interval grows by 5 s
    config = write_config(oauth_inbox(oauth_server, oauth_account))
    services = open_services(str(config), store_url)
    assert main(["--config", str(config), "--db", store_url, "inbox", "list"]) == 0
    assert "needs authorization (OAuth2): run `mailticket inbox authorize support`" in capsys.readouterr().out

    consent_by_device_code(services, oauth_server, "support", oauth_account.login)
    polls = [f for p, f in oauth_server.requests if p == "/token"]
    assert polls[0]["grant_type"] == "urn:ietf:params:oauth:grant-type:device_code"
    device_request = next(f for p, f in oauth_server.requests if p == "/device")
    assert device_request == {"client_id": CLIENT_ID, "scope": "mail offline_access"}

    grant = OAuthGrant.get()
    assert grant.status == "authorized" and grant.refresh_token.startswith("enc:v1:")
    plain_refresh = next(iter(oauth_server.refresh_tokens))
    assert plain_refresh not in grant.refresh_token and "at-" not in grant.access_token

    oauth_account.append(make_mail(subject="Mailbox on Microsoft 365"))
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    out = capsys.readouterr().out
    assert "support: read 1, processed 1" in out and plain_refresh not in out
    assert Ticket.get().title == "Mailbox on Microsoft 365"
    introspected = [f["token"] for p, f in oauth_server.requests if p == "/introspect"]
    assert introspected and all(t.startswith("at-") for t in introspected)  # Dovecot asked the server
    assert refresh_grants(oauth_server) == 0  # the fresh access token was used, not refreshed


def test_access_token_is_cached_then_refreshed_shortly_before_expiry(oauth_server, oauth_account, write_config,
                                                                     store_url) -> None:
    services = open_services(str(write_config(oauth_inbox(oauth_server, oauth_account))), store_url)
    consent_by_device_code(services, oauth_server, "support", oauth_account.login)
    inbox = services.inbox_settings("support")
    first = tokens.access_token(inbox)
    assert tokens.access_token(inbox) == first and refresh_grants(oauth_server) == 0

    expire_cached_token("support", seconds_left=tokens.MARGIN - 20)  # still valid, but within the margin
    assert oauth_server.live_login(first) == oauth_account.login
    second = tokens.access_token(inbox)
    assert second != first and refresh_grants(oauth_server) == 1
    assert tokens.access_token(inbox) == second and refresh_grants(oauth_server) == 1
    # the rotated refresh token was stored: the next refresh uses it (the server refuses a spent one)
    expire_cached_token("support")
    assert tokens.access_token(inbox) not in (first, second) and refresh_grants(oauth_server) == 2
    assert OAuthGrant.get().status == "authorized"


def test_revoked_grant_needs_authorization_and_the_other_inboxes_go_on(oauth_server, oauth_dovecot, write_config,
                                                                      store_url, capsys) -> None:
    oauth_user, password_user = oauth_dovecot.add_user(), oauth_dovecot.add_user()
    config = write_config(oauth_inbox(oauth_server, oauth_user, "cloud") + password_inbox(password_user, "local"))
    services = open_services(str(config), store_url)
    consent_by_device_code(services, oauth_server, "cloud", oauth_user.login)
    oauth_server.revoke(oauth_user.login)
    expire_cached_token("cloud")
    password_user.append(make_mail(subject="Still works"))

    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 3
    out = capsys.readouterr().out
    assert "local: read 1, processed 1" in out
    line = ("inbox cloud needs authorization (the provider refused the refresh token: invalid_grant); "
            "run `mailticket inbox authorize cloud`")
    assert line in out
    assert OAuthGrant.get().status == "needs_authorization"

    assert main(["--config", str(config), "--db", store_url, "status"]) == 5
    status = capsys.readouterr().out
    assert "connection: needs authorization: " + line in status
    assert main(["--config", str(config), "--db", store_url, "inbox", "list", "--json"]) == 0
    listed = {i["name"]: i for i in json.loads(capsys.readouterr().out)}
    assert listed["cloud"]["connection"] == "needs authorization" and listed["local"]["connection"] == "ok"
    # a second pass does not hammer the provider: the grant is known lost
    before = refresh_grants(oauth_server)
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 3
    assert refresh_grants(oauth_server) == before

    consent_by_device_code(open_services(str(config), store_url), oauth_server, "cloud", oauth_user.login)
    oauth_user.append(make_mail(subject="Back again"))
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    assert "cloud: read 1, processed 1" in capsys.readouterr().out


def test_clock_skew_a_refused_cached_token_is_refreshed_once_and_retried(oauth_server, oauth_account,
                                                                          write_config, store_url, capsys) -> None:
    config = write_config(oauth_inbox(oauth_server, oauth_account))
    services = open_services(str(config), store_url)
    consent_by_device_code(services, oauth_server, "support", oauth_account.login)
    # The server's clock runs ahead: its tokens die 1 s after issue although expires_in says an hour.
    oauth_server.expire_early = 1.0
    time.sleep(1.2)
    oauth_account.append(make_mail(subject="Skewed"))
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    assert "support: read 1, processed 1" in capsys.readouterr().out
    assert refresh_grants(oauth_server) == 1


def test_two_runners_refreshing_at_once_make_one_refresh(oauth_server, oauth_account, write_config,
                                                         store_url) -> None:
    services = open_services(str(write_config(oauth_inbox(oauth_server, oauth_account))), store_url)
    consent_by_device_code(services, oauth_server, "support", oauth_account.login)
    expire_cached_token("support")
    oauth_server.refresh_delay = 0.5  # wide enough for the second runner to arrive during the first refresh
    inbox = services.inbox_settings("support")
    got: list[str] = []
    errors: list[BaseException] = []

    def runner() -> None:
        try:
            got.append(tokens.access_token(inbox))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=runner) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(got) == 3 and len(set(got)) == 1
    assert refresh_grants(oauth_server) == 1  # a second refresh would have spent the rotated token
    assert OAuthGrant.get().status == "authorized" and OAuthGrant.get().refreshing_until is None


def test_switching_an_inbox_from_password_to_oauth2_processes_nothing_again(oauth_server, oauth_account,
                                                                           write_config, store_url, capsys) -> None:
    oauth_account.append(make_mail(subject="Before the switch", message_id="<a@x>"))
    oauth_account.append(make_mail(subject="Also before", message_id="<b@x>"))
    config = write_config(password_inbox(oauth_account, "support"))
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    assert "read 2, processed 2" in capsys.readouterr().out
    records = {(m.uidvalidity, m.key) for m in MailMessage.select()}

    switched = write_config(oauth_inbox(oauth_server, oauth_account), name="switched.toml")
    assert main(["--db", store_url, "config", "import", str(switched)]) == 0
    services = open_services(None, store_url)
    assert services.inbox_settings("support").auth == "oauth2"
    consent_by_device_code(services, oauth_server, "support", oauth_account.login)
    oauth_account.append(make_mail(subject="After the switch"))
    capsys.readouterr()
    assert main(["--db", store_url, "run", "--once"]) == 0
    assert "support: read 1, processed 1" in capsys.readouterr().out
    assert Ticket.select().count() == 3
    assert records < {(m.uidvalidity, m.key) for m in MailMessage.select()}
    assert any(p == "/introspect" for p, _ in oauth_server.requests)  # really logged in with the token


def test_pop3_inbox_logs_in_with_auth_xoauth2(oauth_server, oauth_account, write_config, store_url, capsys) -> None:
    config = write_config(oauth_inbox(oauth_server, oauth_account, protocol="pop3"))
    services = open_services(str(config), store_url)
    consent_by_device_code(services, oauth_server, "support", oauth_account.login)
    oauth_account.append(make_mail(subject="Over POP3"))
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    assert "support: read 1, processed 1" in capsys.readouterr().out
    oauth_server.revoke(oauth_account.login)  # the token dies at the server: Dovecot now refuses it
    assert main(["--db", store_url, "inbox", "test", "support"]) == 3
    assert "refused login" in capsys.readouterr().err


def test_browser_consent_with_pkce_through_the_loopback(oauth_server, oauth_account, write_config,
                                                        store_url) -> None:
    services = open_services(str(write_config(oauth_inbox(oauth_server, oauth_account, device=False))), store_url)
    oauth_server.next_login = oauth_account.login
    authorization, consent = services.start_authorization("support")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(consent.url).query))
    assert consent.flow == "browser" and query["code_challenge_method"] == "S256"
    assert query["redirect_uri"].startswith("http://127.0.0.1:") and query["scope"] == "mail offline_access"
    result: list[str] = []
    waiter = threading.Thread(target=lambda: result.append(authorization.wait()))
    waiter.start()
    urllib.request.urlopen(consent.url, timeout=10).read()  # the browser: consent, then the 302 to our loopback
    waiter.join(20)
    authorization.close()
    assert result and OAuthGrant.get().status == "authorized"
    exchange = oauth_server.grants("authorization_code")[0]
    assert exchange["redirect_uri"] == query["redirect_uri"] and len(exchange["code_verifier"]) >= 43
    assert tokens.access_token(services.inbox_settings("support")).startswith("at-")


def test_browser_on_another_machine_pastes_the_redirected_url(oauth_server, oauth_account, write_config,
                                                              store_url) -> None:
    services = open_services(str(write_config(oauth_inbox(oauth_server, oauth_account, device=False))), store_url)
    oauth_server.next_login = oauth_account.login
    authorization, consent = services.start_authorization("support")
    parts = urllib.parse.urlsplit(consent.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", f"{parts.path}?{parts.query}")
    redirected = conn.getresponse().getheader("Location")  # the page that would not load on the other machine
    conn.close()
    forged = redirected.replace("state=", "state=x")
    result: list[object] = []

    def wait() -> None:
        try:
            result.append(authorization.wait())
        except OAuthError as exc:
            result.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    authorization.paste(forged)
    waiter.join(10)
    assert isinstance(result[0], OAuthError) and result[0].error == "invalid_state"
    assert OAuthGrant.select().count() == 0
    authorization.close()

    authorization, consent = services.start_authorization("support")
    parts = urllib.parse.urlsplit(consent.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", f"{parts.path}?{parts.query}")
    authorization.paste(conn.getresponse().getheader("Location"))
    conn.close()
    assert "authorized" in authorization.wait()
    authorization.close()
    assert OAuthGrant.get().status == "authorized"


def test_declined_and_expired_device_codes_say_so(oauth_server, oauth_account, write_config, store_url) -> None:
    services = open_services(str(write_config(oauth_inbox(oauth_server, oauth_account))), store_url)
    authorization, consent = services.start_authorization("support")
    oauth_server.deny(consent.user_code)
    with pytest.raises(OAuthError, match="declined"):
        authorization.wait()
    oauth_server.device_lifetime = 2
    authorization, consent = services.start_authorization("support")
    with pytest.raises(OAuthError, match="expired"):
        authorization.wait()
    assert OAuthGrant.select().count() == 0


def test_cli_authorize_prints_url_and_code_and_waits(oauth_server, oauth_account, write_config, store_url) -> None:
    config = write_config(oauth_inbox(oauth_server, oauth_account))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, "-m", "mailticket_tui", "--config", str(config), "--db", store_url,
                             "inbox", "authorize", "support"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, env=env)
    first, second = proc.stdout.readline(), proc.stdout.readline()
    assert first.strip() == f"Open {oauth_server.url}/verify"
    code = second.strip().rsplit(" ", 1)[1]
    oauth_server.approve(code, oauth_account.login)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "inbox support authorized with generic; tokens stored encrypted" in out
    assert "at-" not in out + err and "rt-" not in out + err and err == ""  # no countdown off a terminal


def test_smtp_xoauth2_uses_the_inbox_token_checked_by_the_server(oauth_server, oauth_account, write_config,
                                                                 store_url) -> None:
    class TokenChecker:
        async def auth_XOAUTH2(self, server, args):  # noqa: N802 - aiosmtpd's hook name
            fields = dict(f.split("=", 1) for f in base64.b64decode(args[1]).decode().split("\x01") if "=" in f)
            token = fields.get("auth", "").removeprefix("Bearer ")
            ok = oauth_server.live_login(token) == fields.get("user")
            return AuthResult(success=ok, auth_data=fields.get("user"))

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            return "250 OK"

    controller = Controller(TokenChecker(), hostname="127.0.0.1", port=free_ports(1)[0], auth_require_tls=False)
    controller.start()
    try:
        services = open_services(str(write_config(oauth_inbox(oauth_server, oauth_account))), store_url)
        smtp = SmtpSettings(server="127.0.0.1", port=controller.port, tls="none", login=oauth_account.login,
                            auth="oauth2")
        with pytest.raises(SourceError, match="needs authorization"):
            services.test_smtp_settings(smtp)
        consent_by_device_code(services, oauth_server, "support", oauth_account.login)
        probe = services.test_smtp_settings(smtp)
        assert probe.ok and probe.auth == f"logged in as {oauth_account.login} (XOAUTH2)", probe.message
        oauth_server.revoke(oauth_account.login)  # the cached token dies at the server: the login is refused
        refused = services.test_smtp_settings(smtp)
        assert not refused.ok and refused.stage == "auth"
        other = SmtpSettings(server="127.0.0.1", port=controller.port, tls="none", login="nobody@example.test",
                             auth="oauth2")
        with pytest.raises(SettingsError, match="there is none"):
            services.test_smtp_settings(other)
    finally:
        controller.stop()


def test_oauthbearer_strings_are_accepted_by_dovecot(oauth_server, oauth_account) -> None:
    """The RFC 7628 twin, used where a server offers OAUTHBEARER and not XOAUTH2 (POP3: our own SASL string)."""
    access, _ = oauth_server.issue(oauth_account.login)
    pop = poplib.POP3(oauth_account.host, oauth_account.pop3_port, timeout=10)
    assert pop._shortcmd("AUTH OAUTHBEARER").startswith(b"+")
    pop._putcmd(base64.b64encode(sasl.oauthbearer(oauth_account.login, access)).decode())
    assert pop._getresp().startswith(b"+OK")
    pop.quit()
    imap = IMAPClient(oauth_account.host, oauth_account.imap_port, ssl=False, timeout=10)
    imap.oauthbearer_login(oauth_account.login, access)
    assert imap.select_folder("INBOX")[b"UIDVALIDITY"]
    imap.logout()


def test_authorize_refuses_a_password_inbox_in_one_line(oauth_account, write_config, store_url, capsys) -> None:
    config = write_config(password_inbox(oauth_account, "support"))
    assert main(["--config", str(config), "--db", store_url, "inbox", "authorize", "support"]) == 2
    assert capsys.readouterr().err == ('mailticket: inbox support: auth is "password"; set auth = "oauth2" '
                                       'first\n')


def test_microsoft_inbox_consent_refresh_and_login_through_msal(oauth_server, oauth_account, write_config,
                                                                store_url, capsys, monkeypatch) -> None:
    """The Microsoft preset end to end: msal's requests go to the local server (MsHttpClient), the grant is
    stored, the runner's refresh goes through msal too, and Dovecot accepts the refreshed token."""
    config = write_config(f"""
[[inbox]]
name = "m365"
protocol = "imap"
server = "{oauth_account.host}"
port = {oauth_account.imap_port}
tls = "none"
login = "{oauth_account.login}"
auth = "oauth2"
oauth_provider = "microsoft"
oauth_tenant = "contoso.example"
oauth_client_id = "{CLIENT_ID}"
unknown_caller_behavior = "create_contact"
""")
    services = open_services(str(config), store_url)
    authorization, consent = services.start_authorization("m365", http_client=MsHttpClient(oauth_server))
    assert consent.flow == "device" and consent.url == "https://login.microsoftonline.com/verify"
    threading.Timer(0.3, oauth_server.approve, (consent.user_code, oauth_account.login)).start()
    assert "authorized with microsoft" in authorization.wait()
    authorization.close()

    plain = microsoft.application
    monkeypatch.setattr(microsoft, "application",
                        lambda provider, client_id, http_client=None: plain(provider, client_id, MsHttpClient(oauth_server)))
    expire_cached_token("m365")
    oauth_account.append(make_mail(subject="Through Exchange Online"))
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    assert "m365: read 1, processed 1" in capsys.readouterr().out
    refresh = [f for p, f in oauth_server.requests if p == "/ms/contoso.example/oauth2/v2.0/token"
               and f.get("grant_type") == "refresh_token"]
    assert len(refresh) == 1 and "https://outlook.office.com/IMAP.AccessAsUser.All" in refresh[0]["scope"]
