"""The OAuth 2.0 device authorization grant (RFC 8628) for a terminal: show a URL and a code, poll.

Boundary: the generic protocol over client.py (generic providers, the tests' local server); Microsoft's
goes through msal (microsoft.py) but reports through the same `DeviceCode` and `tick` callback, so the CLI
and the TUI show one thing. Polling honours the server's interval, adds 5 s on every slow_down, stops at
the code's expiry, and stops at once when `cancelled` is set.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from .client import OAuthError, TokenSet, post_form, token_request

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
Tick = Callable[[int], None]  # seconds left before the code expires


@dataclass(frozen=True)
class DeviceCode:
    """What the user needs (URL and code) and what polling needs (the device code, interval, expiry)."""

    verification_uri: str
    user_code: str
    expires_at: float
    interval: float = 5.0
    device_code: str = field(default="", repr=False)
    verification_uri_complete: str = ""
    message: str = ""

    def seconds_left(self, now: float | None = None) -> int:
        return max(0, int(self.expires_at - (time.time() if now is None else now)))

    def instructions(self) -> str:
        """The one line a user acts on."""
        return f"open {self.verification_uri} and enter the code {self.user_code}"


def start(device_url: str, client_id: str, scopes: tuple[str, ...], client_secret: str = "") -> DeviceCode:
    """Ask the device authorization endpoint for a user code."""
    asked_at = time.time()
    answer = post_form(device_url, {"client_id": client_id, "client_secret": client_secret,
                                    "scope": " ".join(scopes)})
    for key in ("device_code", "user_code", "verification_uri"):
        if not answer.get(key):
            raise OAuthError("invalid_response", f"{device_url}: the answer has no {key}")
    return DeviceCode(str(answer["verification_uri"]), str(answer["user_code"]),
                      asked_at + float(answer.get("expires_in") or 900), float(answer.get("interval") or 5),
                      str(answer["device_code"]), str(answer.get("verification_uri_complete") or ""))


def poll(token_url: str, code: DeviceCode, client_id: str, client_secret: str = "", tick: Tick | None = None,
         cancelled: threading.Event | None = None) -> TokenSet:
    """Poll until the user grants (TokenSet), denies, the code expires, or `cancelled` is set (OAuthError)."""
    cancelled = cancelled or threading.Event()
    interval = code.interval
    while True:
        left = code.seconds_left()
        if left <= 0:
            raise OAuthError("expired_token", "the code expired before it was entered; authorize again")
        if tick:
            tick(left)
        if cancelled.wait(min(interval, left)):
            raise OAuthError("cancelled", "authorization cancelled")
        try:
            return token_request(token_url, {"grant_type": DEVICE_GRANT, "device_code": code.device_code},
                                 client_id, client_secret)
        except OAuthError as exc:
            if exc.error == "authorization_pending":
                continue
            if exc.error == "slow_down":  # RFC 8628 section 3.5: add 5 seconds to the interval for good
                interval += 5
                continue
            if exc.error == "access_denied":
                raise OAuthError("access_denied", "the consent was declined; authorize again and accept") from None
            raise
