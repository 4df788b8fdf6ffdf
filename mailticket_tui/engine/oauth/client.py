"""A small RFC 6749 client: form POSTs to a token (or device authorization) endpoint, JSON answers.

Boundary: HTTP only, with a timeout; knows nothing of the store. Used for generic providers, Google, and
every refresh that is not Microsoft's (msal does those, microsoft.py). Errors keep the server's `error`
code (invalid_grant, authorization_pending, slow_down...) so callers decide; the text never carries a
token or the client secret.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

TIMEOUT = 30.0
# The grant is gone for good: only a new consent helps (RFC 6749 section 5.2).
GRANT_LOST = frozenset({"invalid_grant", "unauthorized_client", "invalid_client", "access_denied", "expired_token"})


class OAuthError(Exception):
    """The endpoint refused or could not be reached; `error` is the RFC 6749 code ("" when unreachable)."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error

    @property
    def grant_lost(self) -> bool:
        return self.error in GRANT_LOST


@dataclass(frozen=True)
class TokenSet:
    """What a token endpoint granted. `expires_at` is local wall-clock time (time.time()) computed from the
    relative `expires_in` when the answer arrived, so a provider's clock never matters."""

    access_token: str = field(repr=False)
    expires_at: float
    refresh_token: str = field(default="", repr=False)
    scope: str = ""

    @classmethod
    def from_answer(cls, answer: dict, asked_at: float) -> "TokenSet":
        if not answer.get("access_token"):
            raise OAuthError("invalid_response", "the token endpoint answered without an access_token")
        return cls(str(answer["access_token"]), asked_at + float(answer.get("expires_in") or 3600),
                   str(answer.get("refresh_token") or ""), str(answer.get("scope") or ""))


def post_form(url: str, data: dict[str, str], timeout: float = TIMEOUT) -> dict:
    """POST `data` form-encoded; the JSON object answered. An OAuth error answer raises OAuthError."""
    body = urllib.parse.urlencode({k: v for k, v in data.items() if v}).encode()
    request = urllib.request.Request(url, data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - http(s) URL from settings
            return _json(answer.read(), url)
    except urllib.error.HTTPError as exc:
        payload = _json(exc.read(), url, strict=False)
        error = str(payload.get("error") or f"http_{exc.code}")
        detail = str(payload.get("error_description") or exc.reason or "").splitlines()[0:1]
        raise OAuthError(error, f"{url}: {error}" + (f" ({detail[0][:200]})" if detail else "")) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise OAuthError("", f"cannot reach {url} ({reason}); check the network and the endpoint") from None


def _json(raw: bytes, url: str, strict: bool = True) -> dict:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        value = None
    if not isinstance(value, dict):
        if strict:
            raise OAuthError("invalid_response", f"{url}: the answer is not a JSON object")
        return {}
    return value


def token_request(token_url: str, data: dict[str, str], client_id: str, client_secret: str = "") -> TokenSet:
    """One grant at the token endpoint (client credentials in the body, RFC 6749 section 2.3.1)."""
    asked_at = time.time()
    answer = post_form(token_url, {**data, "client_id": client_id, "client_secret": client_secret})
    return TokenSet.from_answer(answer, asked_at)


def refresh(token_url: str, refresh_token: str, client_id: str, client_secret: str = "",
            scopes: tuple[str, ...] = ()) -> TokenSet:
    """The refresh_token grant; a provider that does not rotate refresh tokens keeps the old one."""
    tokens = token_request(token_url, {"grant_type": "refresh_token", "refresh_token": refresh_token,
                                       "scope": " ".join(scopes)}, client_id, client_secret)
    if not tokens.refresh_token:
        tokens = TokenSet(tokens.access_token, tokens.expires_at, refresh_token, tokens.scope)
    return tokens
