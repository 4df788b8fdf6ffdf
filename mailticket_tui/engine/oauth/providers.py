"""OAuth2 provider presets: which endpoints, scopes and consent flow an inbox's `oauth_provider` means.

Boundary: pure data from the inbox settings; no network. Microsoft (Entra ID) allows the device
authorization grant (RFC 8628) for mail scopes, so a terminal shows a code; Google refuses its mail scope
to device clients, so it takes the authorization-code flow with PKCE and a loopback redirect. `generic`
reads the three endpoints from the settings and prefers the device grant when one is given.
One Microsoft token (resource outlook.office.com) and one Google token (https://mail.google.com/) cover
IMAP, POP3 and SMTP alike, so the default scopes include SMTP: the outbox can use the same account.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ...settings import InboxSettings

MICROSOFT_LOGIN = "https://login.microsoftonline.com"
MICROSOFT_RESOURCE = "https://outlook.office.com"
MICROSOFT_SCOPES = {"imap": "IMAP.AccessAsUser.All", "pop3": "POP.AccessAsUser.All", "smtp": "SMTP.Send"}
GOOGLE_AUTHORIZE = "https://accounts.google.com/o/oauth2/v2/auth"
GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"
GOOGLE_MAIL_SCOPE = "https://mail.google.com/"
# Scopes OpenID/Microsoft treat as protocol flags rather than API permissions (msal adds them itself).
RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access"})


@dataclass(frozen=True)
class Provider:
    """Where to send a consent and a refresh, and how the consent runs (`device` or `browser`)."""

    name: str
    token_url: str
    authorization_url: str = ""
    device_authorization_url: str = ""
    flow: str = "device"
    scopes: tuple[str, ...] = ()
    authorize_params: dict[str, str] = field(default_factory=dict)  # extra query parameters of the browser URL
    tenant: str = ""

    @property
    def authority(self) -> str:
        """Microsoft's authority URL for msal (the tenant's login endpoint)."""
        return f"{MICROSOFT_LOGIN}/{self.tenant}"


def default_scopes(provider: str, protocol: str) -> tuple[str, ...]:
    """The mail scopes a provider needs for this protocol, plus SMTP sending and a refresh token."""
    if provider == "microsoft":
        wanted = [MICROSOFT_SCOPES.get(protocol, MICROSOFT_SCOPES["imap"]), MICROSOFT_SCOPES["smtp"]]
        return tuple(f"{MICROSOFT_RESOURCE}/{s}" for s in wanted) + ("offline_access",)
    if provider == "google":
        return (GOOGLE_MAIL_SCOPE,)
    return ()


def provider_for(inbox: InboxSettings) -> Provider:
    """The preset (or the generic endpoints) of an OAuth2 inbox, with its scopes resolved."""
    scopes = tuple(inbox.oauth_scopes) or default_scopes(inbox.oauth_provider, inbox.protocol)
    if inbox.oauth_provider == "microsoft":
        base = f"{MICROSOFT_LOGIN}/{inbox.oauth_tenant or 'organizations'}/oauth2/v2.0"
        return Provider("microsoft", f"{base}/token", f"{base}/authorize", f"{base}/devicecode", "device", scopes,
                        tenant=inbox.oauth_tenant or "organizations")
    if inbox.oauth_provider == "google":
        # offline + consent: Google returns a refresh token only on a consent that asks for offline access
        return Provider("google", GOOGLE_TOKEN, GOOGLE_AUTHORIZE, "", "browser", scopes,
                        {"access_type": "offline", "prompt": "consent"})
    flow = "device" if inbox.oauth_device_authorization_url else "browser"
    return Provider("generic", inbox.oauth_token_url, inbox.oauth_authorization_url,
                    inbox.oauth_device_authorization_url, flow, scopes)
