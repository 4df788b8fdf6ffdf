"""An OAuth2 inbox's grant in the store: the access token every connection uses, refreshed once when due.

Boundary: the store's `oauth_grant` row and the refresh; the consent itself is authorize.py's.
* Both tokens are sealed like passwords (store/secrets.py); neither is ever logged or shown.
* The access token is reused until MARGIN seconds before its expiry (computed from the provider's relative
  `expires_in` and our own clock), not refreshed on every connection.
* One refresher at a time: a runner claims the grant (an atomic conditional UPDATE of `refreshing_until`,
  expiring like an inbox lease) before it refreshes, and re-reads it once it holds the claim: whoever waited
  gets the token the first one stored. Providers that rotate refresh tokens (Microsoft) would otherwise see
  the second refresh with a spent token and revoke the grant.
* A refused grant (invalid_grant: revoked, expired, password changed) marks the inbox needs_authorization
  with one line; that inbox fails with SourceError("auth"), the others go on.
"""
from __future__ import annotations

import datetime as dt
import time

from ...settings import InboxSettings, SettingsError, resolve_secret
from ...store.models import Inbox, OAuthGrant, database_proxy, utcnow
from ...store.secrets import seal, unseal
from ..sources.base import SourceError
from .client import OAuthError, TokenSet
from .providers import provider_for

MARGIN = 60  # seconds before expiry a cached access token is retired
CLAIM_SECONDS = 60  # how long a refresher holds the grant (a crashed one's claim expires)
WAIT_SECONDS = 45.0  # how long a second runner waits for the first one's refresh


def client_secret(inbox: InboxSettings) -> str:
    """The client secret from its environment variable or file ('' for public clients)."""
    return resolve_secret("", inbox.oauth_client_secret_env, inbox.oauth_client_secret_file,
                          f"inbox {inbox.name}.oauth_client_secret")


def needs_authorization(name: str, problem: str) -> str:
    """The one line an admin acts on."""
    return f"inbox {name} needs authorization ({problem}); run `mailticket inbox authorize {name}`"


def save_grant(inbox_id: int, tokens: TokenSet, account: str = "") -> None:
    """Store a fresh consent (replacing any earlier grant of the inbox)."""
    values = {"refresh_token": seal(tokens.refresh_token), "access_token": seal(tokens.access_token),
              "access_expires": _as_store_time(tokens.expires_at), "scopes": tokens.scope, "account": account,
              "status": "authorized", "problem": "", "authorized": utcnow(), "refreshed": None,
              "refreshing_until": None}
    with database_proxy.atomic():
        OAuthGrant.delete().where(OAuthGrant.inbox == inbox_id).execute()
        OAuthGrant.create(inbox=inbox_id, **values)


def grant_status(inbox_id: int) -> tuple[str, str]:
    """(status, problem): authorized, needs_authorization, or never_authorized."""
    grant = OAuthGrant.get_or_none(OAuthGrant.inbox == inbox_id)
    if grant is None:
        return "never_authorized", "no consent yet"
    return grant.status, grant.problem


def access_token(inbox: InboxSettings, force_refresh: bool = False) -> str:
    """A usable access token for the inbox; SourceError("auth") when it needs a new consent."""
    row = Inbox.get_or_none(Inbox.name == inbox.name)
    if row is None:
        raise SourceError("auth", needs_authorization(inbox.name, "save the inbox first, then authorize it"))
    seen = _grant(row.id, inbox.name)
    if not force_refresh and _usable(seen):
        return unseal(seen.access_token, f"inbox {inbox.name} access token")
    deadline = time.monotonic() + WAIT_SECONDS
    while not _claim(seen.id):
        time.sleep(0.2)
        current = _grant(row.id, inbox.name)
        if _usable(current) and (not force_refresh or current.refreshed != seen.refreshed):
            return unseal(current.access_token, f"inbox {inbox.name} access token")
        if time.monotonic() > deadline:
            raise SourceError("timeout", f"inbox {inbox.name}: another runner has been refreshing its OAuth2 "
                                         "token for too long; retry later")
    try:
        current = _grant(row.id, inbox.name)
        if _usable(current) and (not force_refresh or current.refreshed != seen.refreshed):
            return unseal(current.access_token, f"inbox {inbox.name} access token")  # refreshed while we waited
        return _refresh(inbox, current)
    finally:
        with database_proxy.atomic():
            OAuthGrant.update(refreshing_until=None).where(OAuthGrant.id == seen.id).execute()


def _grant(inbox_id: int, name: str) -> OAuthGrant:
    grant = OAuthGrant.get_or_none(OAuthGrant.inbox == inbox_id)
    if grant is None:
        raise SourceError("auth", needs_authorization(name, "no consent yet"))
    if grant.status != "authorized":
        raise SourceError("auth", needs_authorization(name, grant.problem or "the grant was refused"))
    return grant


def _usable(grant: OAuthGrant) -> bool:
    return bool(grant.access_token and grant.access_expires
                and grant.access_expires - dt.timedelta(seconds=MARGIN) > utcnow())


def _claim(grant_id: int) -> bool:
    now = utcnow()
    with database_proxy.atomic():
        return bool(OAuthGrant.update(refreshing_until=now + dt.timedelta(seconds=CLAIM_SECONDS)).where(
            (OAuthGrant.id == grant_id)
            & (OAuthGrant.refreshing_until.is_null() | (OAuthGrant.refreshing_until < now))).execute())


def _refresh(inbox: InboxSettings, grant: OAuthGrant) -> str:
    """Refresh with the provider (msal for Microsoft); store the new tokens or mark the grant lost."""
    refresh_token = unseal(grant.refresh_token, f"inbox {inbox.name} refresh token")
    if not refresh_token:
        return _lost(inbox, grant, "no refresh token was granted (the consent lacked offline access)")
    try:
        secret = client_secret(inbox)
    except SettingsError as exc:
        raise SourceError("auth", str(exc)) from None
    provider = provider_for(inbox)
    try:
        if provider.name == "microsoft":
            from . import microsoft

            tokens = microsoft.refresh(microsoft.application(provider, inbox.oauth_client_id), provider,
                                       refresh_token)
        else:
            from .client import refresh

            tokens = refresh(provider.token_url, refresh_token, inbox.oauth_client_id, secret, provider.scopes)
    except OAuthError as exc:
        if exc.grant_lost:
            return _lost(inbox, grant, f"the provider refused the refresh token: {exc.error}")
        transient = not exc.error or exc.error.startswith("http_5") or exc.error == "temporarily_unavailable"
        raise SourceError("refused" if transient else "auth",
                          f"inbox {inbox.name}: token refresh failed: {exc}; retried at the next pass") from None
    with database_proxy.atomic():
        OAuthGrant.update(refresh_token=seal(tokens.refresh_token), access_token=seal(tokens.access_token),
                          access_expires=_as_store_time(tokens.expires_at), refreshed=utcnow(),
                          scopes=tokens.scope or grant.scopes).where(OAuthGrant.id == grant.id).execute()
    return tokens.access_token


def _lost(inbox: InboxSettings, grant: OAuthGrant, problem: str) -> str:
    with database_proxy.atomic():
        OAuthGrant.update(status="needs_authorization", problem=problem, access_token="",
                          access_expires=None).where(OAuthGrant.id == grant.id).execute()
    raise SourceError("auth", needs_authorization(inbox.name, problem))


def _as_store_time(epoch: float) -> dt.datetime:
    """A time.time() value as the store's naive UTC."""
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).replace(tzinfo=None)
