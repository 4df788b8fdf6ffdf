"""One consent for one inbox, the same for `mailticket inbox authorize` and the TUI's inbox form.

Boundary: picks the flow the provider allows (device code: Microsoft through msal, generic RFC 8628;
browser with PKCE and a loopback redirect: Google, generic without a device endpoint), blocks in `wait`
until it is granted, declined, expired or cancelled, and stores the grant (tokens.save_grant). A browser on
another machine cannot reach our loopback: its redirected URL is pasted instead (`paste`). Callers run
`wait` off the UI thread; `cancel` may be called from any thread.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from ...settings import InboxSettings, SettingsError
from ...store.models import Inbox
from . import browser_flow, device_flow
from .client import OAuthError
from .device_flow import DeviceCode, Tick
from .providers import provider_for
from .tokens import client_secret, save_grant

BROWSER_SECONDS = 600  # how long a browser consent may take


@dataclass(frozen=True)
class Consent:
    """What the user is shown: a URL and, for the device grant, the code to type there."""

    flow: str  # device | browser
    url: str
    user_code: str
    expires_at: float

    def lines(self) -> list[str]:
        if self.flow == "device":
            return [f"Open {self.url}", f"and enter the code {self.user_code}"]
        return [f"Open this address in a browser and sign in:\n{self.url}",
                "If that browser runs on another machine, the page it is sent to afterwards will not load: "
                "paste that page's full address here."]


class Authorization:
    """A consent in progress for a saved inbox: `start`, then `wait` (or `paste`), `close` at the end."""

    def __init__(self, inbox: InboxSettings, http_client: Any = None) -> None:
        if inbox.auth != "oauth2":
            raise SettingsError([f"inbox {inbox.name}: auth is \"password\"; set auth = \"oauth2\" first"])
        row = Inbox.get_or_none(Inbox.name == inbox.name)
        if row is None:
            raise SettingsError([f"no inbox named {inbox.name!r}; save it first"])
        self.inbox, self.inbox_id = inbox, row.id
        self.provider = provider_for(inbox)
        self.secret = client_secret(inbox)
        self.cancelled = threading.Event()
        self._http_client = http_client
        self._code: DeviceCode | None = None
        self._msal: tuple[Any, dict] | None = None
        self._receiver: browser_flow.LoopbackReceiver | None = None
        self._consent: browser_flow.BrowserConsent | None = None
        self._pasted: list[str] = []

    def start(self) -> Consent:
        """Ask the provider for a code, or open the loopback and build the browser URL."""
        client_id = self.inbox.oauth_client_id
        if self.provider.flow == "device":
            if self.provider.name == "microsoft":
                from . import microsoft

                app = microsoft.application(self.provider, client_id, self._http_client)
                self._code, flow = microsoft.start_device(app, self.provider)
                self._msal = (app, flow)
            else:
                self._code = device_flow.start(self.provider.device_authorization_url, client_id,
                                               self.provider.scopes, self.secret)
            url = self._code.verification_uri
            return Consent("device", url, self._code.user_code, self._code.expires_at)
        self._receiver = browser_flow.LoopbackReceiver()
        self._consent = browser_flow.begin(self.provider, client_id, self._receiver.redirect_uri)
        return Consent("browser", self._consent.url, "", time.time() + BROWSER_SECONDS)

    def paste(self, url: str) -> None:
        """The redirected URL typed by the user (browser on another machine); `wait` takes it up."""
        if self._receiver is not None:
            self._pasted.append(url)
            self._receiver.arrived.set()

    def cancel(self) -> None:
        self.cancelled.set()
        if self._receiver is not None:
            self._receiver.arrived.set()

    def wait(self, tick: Tick | None = None) -> str:
        """Block until granted; store the grant; the line to show. OAuthError when declined/expired/cancelled."""
        if self._code is not None:
            if self._msal is not None:
                from . import microsoft

                tokens = microsoft.poll_device(*self._msal, self._code, tick, self.cancelled)
            else:
                tokens = device_flow.poll(self.provider.token_url, self._code, self.inbox.oauth_client_id,
                                          self.secret, tick, self.cancelled)
        else:
            tokens = browser_flow.exchange(self.provider, self._consent, self._redirect(tick),
                                           self.inbox.oauth_client_id, self.secret)
        if not tokens.refresh_token:
            raise OAuthError("invalid_grant", f"{self.provider.name} granted no refresh token; include offline "
                                              "access in the scopes and authorize again")
        save_grant(self.inbox_id, tokens, self.inbox.login)
        return f"inbox {self.inbox.name} authorized with {self.provider.name}; tokens stored encrypted"

    def _redirect(self, tick: Tick | None) -> str:
        """The code from the loopback or from a pasted URL, whichever comes first."""
        deadline = time.time() + BROWSER_SECONDS
        while True:
            left = int(deadline - time.time())
            if self.cancelled.is_set():
                raise OAuthError("cancelled", "authorization cancelled")
            if left <= 0:
                raise OAuthError("expired_token", "no answer from the browser in time; authorize again")
            if tick:
                tick(left)
            url = self._pasted.pop(0) if self._pasted else self._receiver.wait(min(1.0, left))
            if url:
                return browser_flow.code_from_redirect(self._consent, url)
            self._receiver.arrived.clear()

    def close(self) -> None:
        if self._receiver is not None:
            self._receiver.close()
