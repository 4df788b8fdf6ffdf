"""Microsoft Entra ID through msal, Microsoft's maintained library: the device code consent and the refresh.

Boundary: turns msal's dict answers into the package's DeviceCode/TokenSet/OAuthError. msal keeps its own
token cache per application object; we keep none of it: the store holds the refresh token (sealed) and the
cached access token, so every process (cron, the TUI, a second machine) shares one grant. msal adds
openid/profile/offline_access itself and refuses them in a scope list, so they are left out here.
`http_client` lets a caller route msal's requests (the tests send them to a local authorization server).
"""
from __future__ import annotations

import threading
import time
from typing import Any

import msal

from .client import OAuthError, TokenSet
from .device_flow import DeviceCode, Tick
from .providers import RESERVED_SCOPES, Provider


def application(provider: Provider, client_id: str, http_client: Any = None) -> msal.PublicClientApplication:
    """A public client: the device code grant exists only for those, and Entra refuses a client secret when
    refreshing a token it issued to a public client, so none is sent."""
    return msal.PublicClientApplication(client_id, authority=provider.authority, http_client=http_client, timeout=30)


def api_scopes(provider: Provider) -> list[str]:
    return [s for s in provider.scopes if s not in RESERVED_SCOPES]


def _tokens(answer: dict, asked_at: float) -> TokenSet:
    if "access_token" not in answer:
        error = str(answer.get("error") or "invalid_response")
        detail = str(answer.get("error_description") or "").splitlines()[:1]
        raise OAuthError(error, f"Microsoft refused: {error}" + (f" ({detail[0][:200]})" if detail else ""))
    return TokenSet.from_answer(answer, asked_at)


def start_device(app, provider: Provider) -> tuple[DeviceCode, dict]:
    """The user code to show, and msal's flow object that polling needs."""
    flow = app.initiate_device_flow(scopes=api_scopes(provider))
    if "user_code" not in flow:
        _tokens(flow, time.time())  # raises with Microsoft's error
    code = DeviceCode(str(flow["verification_uri"]), str(flow["user_code"]), float(flow["expires_at"]),
                      float(flow.get("interval") or 5), message=str(flow.get("message") or ""))
    return code, flow


def poll_device(app, flow: dict, code: DeviceCode, tick: Tick | None = None,
                cancelled: threading.Event | None = None) -> TokenSet:
    """msal polls (interval, slow_down); we count down and stop it when cancelled or expired."""
    cancelled = cancelled or threading.Event()

    def stop(_flow: dict) -> bool:
        if tick:
            tick(code.seconds_left())
        return cancelled.is_set() or code.seconds_left() <= 0

    answer = app.acquire_token_by_device_flow(flow, exit_condition=stop)
    if cancelled.is_set():
        raise OAuthError("cancelled", "authorization cancelled")
    if "access_token" not in answer and code.seconds_left() <= 0:
        raise OAuthError("expired_token", "the code expired before it was entered; authorize again")
    return _tokens(answer, time.time())


def refresh(app, provider: Provider, refresh_token: str) -> TokenSet:
    """A new access token (and Microsoft's rotated refresh token) from the stored refresh token."""
    asked_at = time.time()
    tokens = _tokens(app.acquire_token_by_refresh_token(refresh_token, scopes=api_scopes(provider)), asked_at)
    if not tokens.refresh_token:
        tokens = TokenSet(tokens.access_token, tokens.expires_at, refresh_token, tokens.scope)
    return tokens
