"""OAuth2 provider presets: the URLs, scopes and parameters Microsoft (through msal) and Google requests
carry, the settings rules of OAuth2 inboxes, and the SASL strings. Microsoft's requests really go out through
msal, routed to the local authorization server (tests/oauth_server.py), so what msal sends is checked."""
from __future__ import annotations

import base64
import hashlib
import threading
import time
import urllib.parse

from mailticket_tui.engine.oauth import browser_flow, microsoft, sasl
from mailticket_tui.engine.oauth.providers import provider_for
from mailticket_tui.settings import InboxSettings, SettingsError, settings_from_dict

from .oauth_server import CLIENT_ID, MsHttpClient

pytest_plugins = ["tests.oauth_fixtures"]

IMAP_SCOPE = "https://outlook.office.com/IMAP.AccessAsUser.All"
POP_SCOPE = "https://outlook.office.com/POP.AccessAsUser.All"
SMTP_SCOPE = "https://outlook.office.com/SMTP.Send"


def inbox(**values) -> InboxSettings:
    defaults = {"name": "m", "server": "outlook.office365.com", "login": "desk@contoso.example", "auth": "oauth2",
                "oauth_client_id": CLIENT_ID}
    return InboxSettings(**{**defaults, **values})


def test_microsoft_preset_endpoints_and_scopes_per_protocol() -> None:
    imap = provider_for(inbox(oauth_provider="microsoft", oauth_tenant="contoso.example"))
    base = "https://login.microsoftonline.com/contoso.example/oauth2/v2.0"
    assert (imap.token_url, imap.device_authorization_url, imap.authorization_url) == (
        f"{base}/token", f"{base}/devicecode", f"{base}/authorize")
    assert imap.flow == "device" and imap.authority == "https://login.microsoftonline.com/contoso.example"
    assert imap.scopes == (IMAP_SCOPE, SMTP_SCOPE, "offline_access")
    pop = provider_for(inbox(oauth_provider="microsoft", protocol="pop3"))
    assert pop.scopes == (POP_SCOPE, SMTP_SCOPE, "offline_access")
    assert pop.authority.endswith("/organizations")
    own = provider_for(inbox(oauth_provider="microsoft", oauth_scopes=("https://outlook.office.com/IMAP.AccessAsUser.All",)))
    assert own.scopes == (IMAP_SCOPE,)


def test_google_preset_uses_the_browser_with_pkce_and_offline_access() -> None:
    google = provider_for(inbox(oauth_provider="google", server="imap.gmail.com"))
    assert google.flow == "browser" and google.scopes == ("https://mail.google.com/",)
    assert google.token_url == "https://oauth2.googleapis.com/token"
    consent = browser_flow.begin(google, "123.apps.googleusercontent.com", "http://127.0.0.1:8765/")
    parts = urllib.parse.urlsplit(consent.url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://accounts.google.com/o/oauth2/v2/auth"
    assert query["access_type"] == "offline" and query["prompt"] == "consent"
    assert query["response_type"] == "code" and query["scope"] == "https://mail.google.com/"
    assert query["redirect_uri"] == "http://127.0.0.1:8765/" and query["state"] == consent.state
    challenge = base64.urlsafe_b64encode(hashlib.sha256(consent.verifier.encode()).digest()).rstrip(b"=").decode()
    assert query["code_challenge"] == challenge and query["code_challenge_method"] == "S256"


def test_generic_provider_prefers_the_device_grant() -> None:
    device = provider_for(inbox(oauth_provider="generic", oauth_token_url="https://idp/token",
                                oauth_device_authorization_url="https://idp/device",
                                oauth_authorization_url="https://idp/authorize", oauth_scopes=("mail",)))
    assert device.flow == "device" and device.scopes == ("mail",)
    browser = provider_for(inbox(oauth_provider="generic", oauth_token_url="https://idp/token",
                                 oauth_authorization_url="https://idp/authorize"))
    assert browser.flow == "browser" and browser.scopes == ()


def test_msal_device_flow_and_refresh_send_microsofts_parameters(oauth_server) -> None:
    provider = provider_for(inbox(oauth_provider="microsoft", oauth_tenant="contoso.example"))
    app = microsoft.application(provider, CLIENT_ID, http_client=MsHttpClient(oauth_server))
    code, flow = microsoft.start_device(app, provider)
    assert code.verification_uri == "https://login.microsoftonline.com/verify" and len(code.user_code) == 8
    device = next(f for p, f in oauth_server.requests if p.endswith("/devicecode"))
    paths = [p for p, _ in oauth_server.requests]
    assert "/ms/contoso.example/oauth2/v2.0/devicecode" in paths
    assert device["client_id"] == CLIENT_ID
    assert set(device["scope"].split()) == {IMAP_SCOPE, SMTP_SCOPE, "offline_access", "openid", "profile"}

    threading.Timer(0.5, oauth_server.approve, (code.user_code, "desk@contoso.example")).start()
    ticks: list[int] = []
    tokens = microsoft.poll_device(app, flow, code, ticks.append)
    assert tokens.refresh_token.startswith("rt-") and tokens.expires_at > time.time() + 3000 and ticks
    poll = next(f for p, f in oauth_server.requests if p == "/ms/contoso.example/oauth2/v2.0/token")
    assert poll["grant_type"] == "urn:ietf:params:oauth:grant-type:device_code" and poll["client_id"] == CLIENT_ID

    fresh = microsoft.refresh(app, provider, tokens.refresh_token)
    refresh = oauth_server.grants("refresh_token")[-1]
    assert refresh["refresh_token"] == tokens.refresh_token and refresh["client_id"] == CLIENT_ID
    assert IMAP_SCOPE in refresh["scope"].split() and fresh.access_token != tokens.access_token
    assert oauth_server.live_login(fresh.access_token) == "desk@contoso.example"


def test_oauth2_inbox_settings_rules() -> None:
    def problems(**values) -> list[str]:
        raw = {"name": "m", "server": "imap.example.com", "login": "a@example.com", "auth": "oauth2", **values}
        try:
            settings_from_dict({"inbox": [raw]})
        except SettingsError as exc:
            return exc.problems
        return []

    assert problems(oauth_client_id="x") == []
    assert problems() == ["settings: inbox[0] (m).oauth_client_id: missing; give the application (client) id "
                          "registered with microsoft"]
    generic = problems(oauth_client_id="x", oauth_provider="generic")
    assert any("oauth_token_url: required" in p for p in generic)
    assert any("oauth_device_authorization_url: give it or oauth_authorization_url" in p for p in generic)
    assert any("only one of oauth_client_secret_env" in p for p in problems(
        oauth_client_id="x", oauth_client_secret_env="A", oauth_client_secret_file="/f"))
    assert any("a Maildir has no login" in p for p in problems(oauth_client_id="x", protocol="maildir"))
    assert any("unknown value 'yahoo'" in p for p in problems(oauth_client_id="x", oauth_provider="yahoo"))


def test_sasl_initial_responses() -> None:
    assert sasl.xoauth2("a@b.example", "T0K") == b"user=a@b.example\x01auth=Bearer T0K\x01\x01"
    assert sasl.oauthbearer("a@b.example", "T0K") == b"n,a=a@b.example,\x01auth=Bearer T0K\x01\x01"
