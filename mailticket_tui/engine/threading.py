"""Our own Message-IDs: they name the ticket and carry a short HMAC, so a reply threads by header alone
and a guessed or forged id (R-000001 with a wrong tag) is rejected.

The ids of a former iTop's notifications are read too (`legacy_ref_from_message_id`): after a migration, a
ticket whose `legacy_ref` holds the iTop class and id ("UserRequest::123", `tickets legacy`) still receives
the replies to mail that iTop sent. Those ids carry no signature, as in iTop itself: anyone can write one,
so they only ever reach tickets an admin gave a legacy ref.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from ..store.models import SettingsEntry, database_proxy

_OURS = re.compile(r"^mt\.([RICP]-\d{6})\.(\d+)\.([0-9a-f]{12})@(.+)$", re.IGNORECASE)
# iTop's notification ids: <iTop_{Class}_{id}_{microtime}@{env}.openitop.org> and, in References and
# In-Reply-To, the same without the time part (reference/combodo.md section 4.1)
_ITOP = re.compile(r"^iTop_([A-Za-z][A-Za-z0-9]*)_([0-9]+)(?:_[^@]*)?@[^@]+$")


_secrets: dict[tuple[str, str], bytes] = {}


def store_secret() -> bytes:
    """The per-store HMAC key, created once, then remembered for this process (it never changes)."""
    db = database_proxy.obj
    cache_key = (type(db).__name__, str(db.database))
    if cache_key in _secrets:
        return _secrets[cache_key]
    entry = SettingsEntry.get_or_none(SettingsEntry.section == "thread_secret")
    if entry is None:
        SettingsEntry.insert(section="thread_secret", data=secrets.token_hex(32)).on_conflict_ignore().execute()
        entry = SettingsEntry.get(SettingsEntry.section == "thread_secret")
    _secrets[cache_key] = bytes.fromhex(entry.data)
    return _secrets[cache_key]


def _tag(secret: bytes, ref: str, serial: int) -> str:
    return hmac.new(secret, f"{ref.upper()}.{serial}".encode(), hashlib.sha256).hexdigest()[:12]


def make_message_id(ref: str, serial: int, domain: str, secret: bytes) -> str:
    """A Message-ID (without <>) for mail we send about ticket `ref`."""
    return f"mt.{ref}.{serial}.{_tag(secret, ref, serial)}@{domain}"


def ticket_ref_from_message_id(message_id: str, secret: bytes) -> str | None:
    """The ticket ref named by one of our Message-IDs, or None (not ours, or the tag does not verify)."""
    match = _OURS.match(message_id.strip().strip("<>"))
    if not match:
        return None
    ref, serial, tag = match.group(1).upper(), int(match.group(2)), match.group(3).lower()
    return ref if hmac.compare_digest(tag, _tag(secret, ref, serial)) else None


def split_references(value: str) -> list[str]:
    """Message-IDs out of a References/In-Reply-To value (folding, tabs and junk between ids tolerated)."""
    return [m.strip() for m in re.findall(r"<([^<>\s]+)>", value or "")] or [
        tok for tok in (value or "").split() if "@" in tok
    ]


def legacy_ref_from_message_id(message_id: str) -> str | None:
    """"UserRequest::123" for an iTop notification id (<iTop_UserRequest_123_...@env.openitop.org>), else None."""
    match = _ITOP.match(message_id.strip().strip("<>"))
    return f"{match.group(1)}::{int(match.group(2))}" if match else None
