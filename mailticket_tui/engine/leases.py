"""Inbox leases in the store: a cron run, the TUI's background engine and a second machine on the same
PostgreSQL never process the same inbox at once. A crashed holder's lease simply expires.
A one-off pass (`run --once`) holds a lease for its pass; a daemon (engine/daemon.py) keeps the leases of the
inboxes it serves between passes and renews them all at once (renew_all).
"""
from __future__ import annotations

import datetime as dt
import os
import socket
import uuid

from peewee import IntegrityError

from ..store.models import InboxLease, database_proxy, utcnow


def new_owner(kind: str) -> str:
    """A lease owner name that says who holds it (shown when another run is skipped)."""
    return f"{kind}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def dead_local_holder(owner: str) -> bool:
    """A holder on this machine whose process is gone (a killed cron run) need not be waited for."""
    _, _, rest = owner.partition("@")
    host, _, pid = rest.partition(":")
    pid = pid.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim(inbox_id: int, owner: str, seconds: int) -> str | None:
    """Take the lease; returns None on success, else the current holder's name.

    An expired lease, or one held by a dead process of this machine, is taken over.
    """
    now = utcnow()
    expires = now + dt.timedelta(seconds=seconds)
    try:
        with database_proxy.atomic():
            stale = InboxLease.select().where(InboxLease.inbox == inbox_id).first()
            if stale and (stale.expires < now or dead_local_holder(stale.owner)):
                InboxLease.delete().where((InboxLease.id == stale.id) & (InboxLease.owner == stale.owner)).execute()
            InboxLease.create(inbox=inbox_id, owner=owner, expires=expires)
        return None
    except IntegrityError:
        holder = InboxLease.get_or_none(InboxLease.inbox == inbox_id)
        if holder and holder.owner == owner:
            renew(inbox_id, owner, seconds)
            return None
        return holder.owner if holder else "another runner"


def renew(inbox_id: int, owner: str, seconds: int) -> bool:
    """Extend our lease; False means we lost it (expired and taken) and must stop touching the inbox."""
    with database_proxy.atomic():
        updated = InboxLease.update(expires=utcnow() + dt.timedelta(seconds=seconds)).where(
            (InboxLease.inbox == inbox_id) & (InboxLease.owner == owner)
        ).execute()
    return bool(updated)


def renew_all(owner: str, seconds: float) -> int:
    """Extend every lease `owner` holds (a daemon between passes); how many it still holds."""
    with database_proxy.atomic():
        return InboxLease.update(expires=utcnow() + dt.timedelta(seconds=seconds)).where(
            InboxLease.owner == owner).execute()


def release(inbox_id: int, owner: str) -> None:
    with database_proxy.atomic():
        InboxLease.delete().where((InboxLease.inbox == inbox_id) & (InboxLease.owner == owner)).execute()
