"""Which daemons share the inboxes right now, and how many inboxes each should hold.

Every daemon (`mailticket run`, the TUI's engine) renews a row of `daemon_presence` a few times per
`lease_seconds`; a row not renewed for that long is a dead daemon, ignored and eventually deleted. A daemon
holds at most its share, ceil(active inboxes / live daemons): one holding more releases inboxes that are not
in a pass, one holding less claims free ones. Presence only spreads the load; the inbox leases (leases.py)
alone keep two runners off one inbox, so a wrong count can make the spread uneven, never unsafe.
"""
from __future__ import annotations

import datetime as dt
import math

from ..store.models import DaemonPresence, database_proxy, utcnow
from .leases import dead_local_holder


def beat(owner: str, seconds: float) -> None:
    """Say we are alive for `seconds` more (insert or renew our row); drop rows long dead."""
    now = utcnow()
    expires = now + dt.timedelta(seconds=seconds)
    with database_proxy.atomic():
        updated = DaemonPresence.update(expires=expires).where(DaemonPresence.owner == owner).execute()
        if not updated:
            DaemonPresence.insert(owner=owner, started=now, expires=expires).on_conflict_ignore().execute()
        DaemonPresence.delete().where(DaemonPresence.expires < now - dt.timedelta(days=1)).execute()


def live() -> int:
    """How many daemons are alive now (at least 1: the caller beats before asking); a row of a dead process
    of this machine does not count, so its share is taken over at once."""
    owners = DaemonPresence.select(DaemonPresence.owner).where(DaemonPresence.expires >= utcnow()).tuples()
    return max(1, sum(1 for (owner,) in owners if not dead_local_holder(owner)))


def is_live(owner: str) -> bool:
    """`owner` is a daemon alive now (its row renewed, its process not known dead): the inboxes it holds are
    served, so a one-off run has nothing to do there."""
    row = DaemonPresence.get_or_none((DaemonPresence.owner == owner) & (DaemonPresence.expires >= utcnow()))
    return row is not None and not dead_local_holder(owner)


def leave(owner: str) -> None:
    """A clean stop: the others may take our share at once instead of after lease_seconds."""
    with database_proxy.atomic():
        DaemonPresence.delete().where(DaemonPresence.owner == owner).execute()


def share(active: int, daemons: int) -> int:
    """The most inboxes one of `daemons` daemons should hold."""
    return math.ceil(active / max(1, daemons))
