"""Pytest plugin for the OAuth2 tests: the local authorization server and a private Dovecot that checks
XOAUTH2/OAUTHBEARER logins against it.

* `auth_server` (session; reset for each test through `oauth_server`): tests/oauth_server.AuthServer.
* `oauth_dovecot` (session): tests.dovecot_server.DovecotServer whose config adds Dovecot's `oauth2` passdb
  (introspection against `auth_server`) for the token mechanisms, beside the passwd-file passdb the helper
  accounts use for PLAIN. So a token login succeeds exactly when the local server calls the token live.
"""
from __future__ import annotations

import os
from typing import Iterator

import pytest

from tests.dovecot_server import DovecotServer, MailAccount, missing_reason
from tests.oauth_server import AuthServer


class OAuthDovecot(DovecotServer):
    """The suite's private Dovecot plus an oauth2 passdb pointing at the local authorization server."""

    introspection_url: str = ""

    def _write_config(self) -> None:
        super()._write_config()
        oauth_conf = self.root / "etc" / "oauth2.conf"
        oauth_conf.write_text(f"introspection_mode = post\nintrospection_url = {self.introspection_url}\n"
                              "username_attribute = username\nactive_attribute = active\nactive_value = true\n")
        text = self.conf.read_text()
        text = text.replace("auth_mechanisms = plain login apop cram-md5",
                            "auth_mechanisms = plain login apop cram-md5 xoauth2 oauthbearer")
        oauth_passdb = (f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
                        f"  args = {oauth_conf}\n}}\npassdb {{\n  driver = passwd-file\n"
                        "  mechanisms = plain login apop cram-md5\n")
        assert "passdb {\n  driver = passwd-file\n" in text
        self.conf.write_text(text.replace("passdb {\n  driver = passwd-file\n", oauth_passdb, 1))


@pytest.fixture(scope="session")
def auth_server() -> Iterator[AuthServer]:
    server = AuthServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def oauth_server(auth_server: AuthServer) -> AuthServer:
    auth_server.reset()
    return auth_server


@pytest.fixture(scope="session")
def oauth_dovecot(auth_server: AuthServer) -> Iterator[OAuthDovecot]:
    reason = missing_reason()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    OAuthDovecot.introspection_url = f"{auth_server.url}/introspect"
    server = OAuthDovecot.start_new()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def oauth_account(oauth_dovecot: OAuthDovecot) -> Iterator[MailAccount]:
    account = oauth_dovecot.add_user()
    try:
        yield account
    finally:
        account.close()
