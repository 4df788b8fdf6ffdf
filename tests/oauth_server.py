"""A local OAuth2 authorization server for the tests: real HTTP on 127.0.0.1, no internet.

Endpoints (form POSTs answered with JSON, as RFC 6749/8628/7662 say):
* /device             device authorization (RFC 8628): device_code, user_code, verification_uri, interval
* /token              grants: device_code (authorization_pending until `approve`, slow_down `slow_downs`
                      times, access_denied after `deny`, expired_token after the code's life), refresh_token
                      (rotated on every use like Microsoft's; a spent or revoked one is invalid_grant),
                      authorization_code (with its PKCE S256 verifier and redirect_uri checked)
* /authorize          GET: a "browser" that consents for `next_login` and redirects (302) to redirect_uri
* /introspect         for Dovecot's oauth2 passdb: {"active": "true", "username": login} for a live token
* /ms/...             the same endpoints under Microsoft's paths, plus its OpenID discovery document, for
                      msal with its HTTP routed here (`ms_http_client`)
`requests` keeps every (path, form) received; `revoke`, `expire_early` and `refresh_delay` make the
failure cases. A token is live until its own expiry, or `expire_early` seconds after issue (the server's
clock runs ahead of ours).
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

CLIENT_ID = "mailticket-test-client"
MS_HOST = "https://login.microsoftonline.com"


@dataclass
class _Grant:
    login: str
    scope: str
    revoked: bool = False


@dataclass
class _DeviceCode:
    user_code: str
    scope: str
    expires_at: float
    login: str = ""
    denied: bool = False


@dataclass
class AuthServer:
    """The server's state; handlers read and change it under `lock`."""

    port: int = 0
    access_lifetime: int = 3600
    expire_early: float | None = None
    slow_downs: int = 0
    refresh_delay: float = 0.0
    device_lifetime: int = 600
    interval: int = 1
    next_login: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    devices: dict[str, _DeviceCode] = field(default_factory=dict)
    refresh_tokens: dict[str, _Grant] = field(default_factory=dict)
    access_tokens: dict[str, tuple[str, float, float]] = field(default_factory=dict)  # login, issued, expires
    codes: dict[str, tuple[str, str, str, str]] = field(default_factory=dict)  # login, scope, redirect, challenge
    _httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- the tests' side ------------------------------------------------------------------------------
    def approve(self, user_code: str, login: str) -> None:
        with self.lock:
            next(d for d in self.devices.values() if d.user_code == user_code).login = login

    def deny(self, user_code: str) -> None:
        with self.lock:
            next(d for d in self.devices.values() if d.user_code == user_code).denied = True

    def revoke(self, login: str) -> None:
        """The admin (or the user) revoked the app: refresh tokens die, access tokens too."""
        with self.lock:
            for grant in self.refresh_tokens.values():
                if grant.login == login:
                    grant.revoked = True
            self.access_tokens = {t: v for t, v in self.access_tokens.items() if v[0] != login}

    def grants(self, grant_type: str) -> list[dict[str, str]]:
        """The token requests of one grant type received so far."""
        return [form for path, form in self.requests if path.endswith("/token") and form.get("grant_type") == grant_type]

    def issue(self, login: str, scope: str = "mail") -> tuple[str, str]:
        """Tokens without a consent (a grant made earlier): (access token, refresh token)."""
        with self.lock:
            return self._issue(login, scope)

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.devices.clear()
            self.refresh_tokens.clear()
            self.access_tokens.clear()
            self.codes.clear()
            self.access_lifetime, self.expire_early, self.slow_downs = 3600, None, 0
            self.refresh_delay, self.device_lifetime, self.next_login = 0.0, 600, ""

    # -- token logic (called with `lock` held) --------------------------------------------------------
    def _issue(self, login: str, scope: str) -> tuple[str, str]:
        access, refresh = "at-" + secrets.token_urlsafe(16), "rt-" + secrets.token_urlsafe(16)
        now = time.time()
        self.access_tokens[access] = (login, now, now + self.access_lifetime)
        self.refresh_tokens[refresh] = _Grant(login, scope)
        return access, refresh

    def _token_answer(self, login: str, scope: str) -> tuple[int, dict]:
        access, refresh = self._issue(login, scope)
        return 200, {"access_token": access, "token_type": "Bearer", "expires_in": self.access_lifetime,
                     "refresh_token": refresh, "scope": scope}

    def live_login(self, token: str) -> str | None:
        with self.lock:
            entry = self.access_tokens.get(token)
        if entry is None:
            return None
        login, issued, expires = entry
        now = time.time()
        if now >= expires or (self.expire_early is not None and now >= issued + self.expire_early):
            return None
        return login

    def device(self, form: dict[str, str], base: str) -> tuple[int, dict]:
        if form.get("client_id") != CLIENT_ID:
            return 400, {"error": "invalid_client"}
        device_code = "dc-" + secrets.token_urlsafe(12)
        user_code = "".join(secrets.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(8))
        with self.lock:
            self.devices[device_code] = _DeviceCode(user_code, form.get("scope", ""), time.time() + self.device_lifetime)
        return 200, {"device_code": device_code, "user_code": user_code, "verification_uri": f"{base}/verify",
                     "expires_in": self.device_lifetime, "interval": self.interval,
                     "message": f"To sign in, open {base}/verify and enter the code {user_code}"}

    def token(self, form: dict[str, str]) -> tuple[int, dict]:
        if form.get("client_id") != CLIENT_ID:
            return 401, {"error": "invalid_client"}
        kind = form.get("grant_type")
        if kind == "urn:ietf:params:oauth:grant-type:device_code":
            return self._device_grant(form)
        if kind == "refresh_token":
            if self.refresh_delay:
                time.sleep(self.refresh_delay)  # a slow provider: two racing refreshers would overlap here
            with self.lock:
                grant = self.refresh_tokens.pop(form.get("refresh_token", ""), None)  # rotated: one use only
                if grant is None or grant.revoked:
                    return 400, {"error": "invalid_grant", "error_description": "AADSTS70000: token revoked"}
                return self._token_answer(grant.login, grant.scope)
        if kind == "authorization_code":
            with self.lock:
                entry = self.codes.pop(form.get("code", ""), None)
                if entry is None:
                    return 400, {"error": "invalid_grant"}
                login, scope, redirect, challenge = entry
                verifier = form.get("code_verifier", "").encode()
                expected = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()
                if expected != challenge or form.get("redirect_uri") != redirect:
                    return 400, {"error": "invalid_grant", "error_description": "PKCE or redirect_uri mismatch"}
                return self._token_answer(login, scope)
        return 400, {"error": "unsupported_grant_type"}

    def _device_grant(self, form: dict[str, str]) -> tuple[int, dict]:
        with self.lock:
            code = self.devices.get(form.get("device_code", ""))
            if code is None:
                return 400, {"error": "invalid_grant"}
            if self.slow_downs > 0:
                self.slow_downs -= 1
                return 400, {"error": "slow_down"}
            if time.time() >= code.expires_at:
                return 400, {"error": "expired_token"}
            if code.denied:
                return 400, {"error": "access_denied"}
            if not code.login:
                return 400, {"error": "authorization_pending"}
            del self.devices[form["device_code"]]
            return self._token_answer(code.login, code.scope)

    def authorize(self, query: dict[str, str]) -> str:
        """The browser's consent: the redirect URL with a code (or an error)."""
        redirect = query.get("redirect_uri", "")
        if query.get("client_id") != CLIENT_ID or query.get("code_challenge_method") != "S256":
            answer = {"error": "invalid_request", "state": query.get("state", "")}
        else:
            code = "ac-" + secrets.token_urlsafe(12)
            with self.lock:
                self.codes[code] = (self.next_login, query.get("scope", ""), redirect, query.get("code_challenge", ""))
            answer = {"code": code, "state": query.get("state", "")}
        return redirect + ("&" if "?" in redirect else "?") + urllib.parse.urlencode(answer)

    # -- life cycle -----------------------------------------------------------------------------------
    def start(self) -> "AuthServer":
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, daemon=True, name="oauth-test-server").start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()


def _handler(server: AuthServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            form = {k: v[0] for k, v in urllib.parse.parse_qs(body).items()}
            path = urllib.parse.urlsplit(self.path).path
            with server.lock:
                server.requests.append((path, form))
            if path == "/introspect":
                login = server.live_login(form.get("token", ""))
                self._send(200, {"active": "true", "username": login} if login else {"active": "false"})
            elif path.endswith("/devicecode") or path == "/device":
                base = MS_HOST if path.startswith("/ms/") else server.url
                self._send(*server.device(form, base))
            elif path.endswith("/token"):
                self._send(*server.token(form))
            else:
                self._send(404, {"error": "not_found"})

        def do_GET(self) -> None:  # noqa: N802
            parts = urllib.parse.urlsplit(self.path)
            query = {k: v[0] for k, v in urllib.parse.parse_qs(parts.query).items()}
            with server.lock:
                server.requests.append((parts.path, query))
            if parts.path == "/authorize":
                self._send(302, {}, {"Location": server.authorize(query)})
            elif parts.path.startswith("/ms/") and parts.path.endswith("/.well-known/openid-configuration"):
                tenant = parts.path.split("/")[2]
                base = f"{MS_HOST}/{tenant}/oauth2/v2.0"
                self._send(200, {"issuer": f"{MS_HOST}/{tenant}/v2.0", "authorization_endpoint": f"{base}/authorize",
                                 "token_endpoint": f"{base}/token", "device_authorization_endpoint": f"{base}/devicecode"})
            else:
                self._send(404, {"error": "not_found"})

        def log_message(self, *args: object) -> None:
            pass

    return Handler


class MsHttpClient(requests.Session):
    """msal's HTTP client in the tests: Microsoft's login host is routed to the local server's /ms/ paths."""

    def __init__(self, server: AuthServer) -> None:
        super().__init__()
        self.base = f"{server.url}/ms"

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        if url.startswith(MS_HOST):
            url = self.base + url[len(MS_HOST):]
        return super().request(method, url, *args, **kwargs)
