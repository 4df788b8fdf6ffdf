"""The authorization-code grant with PKCE (RFC 7636) and a loopback redirect (RFC 8252), for providers that
refuse the device grant for mail (Google).

Boundary: builds the consent URL, waits for the redirect on 127.0.0.1 (an ephemeral port, one request, then
closed), or takes the redirected URL pasted by a user whose browser runs on another machine (the redirect
then fails to load there, but its address bar holds the code), and exchanges the code. The `state` value
is checked on both paths, so a foreign redirect cannot inject a code.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer

from .client import OAuthError, TokenSet, token_request
from .providers import Provider

LOOPBACK = "127.0.0.1"
_DONE_PAGE = b"<html><body>MailTicket got the authorization; you can close this page.</body></html>"


@dataclass(frozen=True)
class BrowserConsent:
    """One consent in progress: the URL to open and what the exchange needs back."""

    url: str
    redirect_uri: str
    state: str = field(repr=False)
    verifier: str = field(repr=False)


def begin(provider: Provider, client_id: str, redirect_uri: str) -> BrowserConsent:
    """The consent URL with a fresh state and PKCE S256 challenge."""
    if not provider.authorization_url:
        raise OAuthError("invalid_request", "no authorization endpoint: set oauth_authorization_url")
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(16)
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
             "scope": " ".join(provider.scopes), "state": state, "code_challenge": challenge,
             "code_challenge_method": "S256", **provider.authorize_params}
    separator = "&" if "?" in provider.authorization_url else "?"
    return BrowserConsent(provider.authorization_url + separator + urllib.parse.urlencode(query), redirect_uri,
                          state, verifier)


def code_from_redirect(consent: BrowserConsent, url: str) -> str:
    """The code in a redirected URL (pasted, or received on the loopback); refuses a wrong state or an error."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url.strip()).query)
    if query.get("error"):
        raise OAuthError(query["error"][0], f"the provider refused the consent: {query['error'][0]}; "
                                            "authorize again and accept")
    if query.get("state", [""])[0] != consent.state:
        raise OAuthError("invalid_state", "that URL is not the answer to this consent (state differs); paste the "
                                          "address the browser was sent to after this consent")
    if not query.get("code"):
        raise OAuthError("invalid_request", "that URL holds no code; paste the full address the browser was sent to")
    return query["code"][0]


def exchange(provider: Provider, consent: BrowserConsent, code: str, client_id: str,
             client_secret: str = "") -> TokenSet:
    """Trade the code (with the PKCE verifier) for tokens."""
    return token_request(provider.token_url, {"grant_type": "authorization_code", "code": code,
                                              "redirect_uri": consent.redirect_uri,
                                              "code_verifier": consent.verifier}, client_id, client_secret)


class LoopbackReceiver:
    """A one-shot HTTP listener on 127.0.0.1 that keeps the first redirect's URL."""

    def __init__(self) -> None:
        received: list[str] = []
        arrived = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's hook name
                if "code=" in self.path or "error=" in self.path:
                    received.append(self.path)
                    arrived.set()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(_DONE_PAGE)))
                self.end_headers()
                self.wfile.write(_DONE_PAGE)

            def log_message(self, *args: object) -> None:  # the code must not reach stderr
                pass

        self._server = HTTPServer((LOOPBACK, 0), Handler)
        self._received, self.arrived = received, arrived
        self.redirect_uri = f"http://{LOOPBACK}:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="oauth-loopback")
        self._thread.start()

    def wait(self, timeout: float) -> str | None:
        """The redirected URL, or None after `timeout` seconds (or once closed)."""
        if self.arrived.wait(timeout) and self._received:
            return self.redirect_uri.rstrip("/") + self._received[0]
        return None

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.arrived.set()
