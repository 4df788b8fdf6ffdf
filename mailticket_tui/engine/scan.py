"""A live look at an inbox's server folder, for the Mailbox view: messages not seen yet are recorded as
`new` (with their headers, so the operator sees them before they are processed) and records of messages
gone from the server are marked vanished.

It holds the inbox lease like a pass, never downloads a body, and changes nothing on the server. A `new`
record is exactly what a pass retries, so the next pass processes these messages once, as usual.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..settings import InboxSettings, Settings
from ..store.models import Inbox, InboxState, MailMessage, database_proxy, naive_utc, utcnow
from . import leases
from .parse import parse_message
from .runner import source_config
from .sources import open_source

HEADER_LIMIT = 500  # unseen messages whose headers are read per scan (newest first); the rest wait for a pass


@dataclass(frozen=True)
class ScanResult:
    listed: int
    recorded: int
    vanished: int
    note: str


def scan_folder(settings: Settings, inbox: InboxSettings) -> ScanResult:
    """List the folder and join it with the store; raises SourceError/SettingsError on connection trouble."""
    row = Inbox.get(Inbox.name == inbox.name)
    owner = leases.new_owner("scan")
    holder = leases.claim(row.id, owner, settings.engine.lease_seconds)
    if holder is not None:
        return ScanResult(0, 0, 0, f"not scanned: {holder} is processing this inbox")
    try:
        with open_source(source_config(inbox, settings)) as source:
            return _join(source, row, inbox)
    finally:
        leases.release(row.id, owner)


def _join(source, row: Inbox, inbox: InboxSettings) -> ScanResult:
    folder = inbox.mailbox or "INBOX"
    folder_state = source.folder_state()
    uidvalidity = folder_state.epoch
    state = InboxState.get_or_none(InboxState.inbox == row.id, InboxState.folder == folder)
    if folder_state.uidvalidity is not None and state is not None and state.uidvalidity not in (None, uidvalidity):
        return ScanResult(0, 0, 0, "not scanned: the folder's UIDVALIDITY changed; the next pass re-keys it first")
    listed = source.list_all()
    known = dict(MailMessage.select(MailMessage.key, MailMessage.on_server).where(
        (MailMessage.inbox == row.id) & (MailMessage.folder == folder)
        & (MailMessage.uidvalidity == uidvalidity)).tuples())
    present = {m.key for m in listed}
    gone = [key for key, on_server in known.items() if on_server and key not in present]
    unseen = [m for m in listed if m.key not in known][-HEADER_LIMIT:]
    with database_proxy.atomic():
        for start in range(0, len(gone), 500):
            MailMessage.update(on_server=False, vanished_at=utcnow(), disposition_pending="").where(
                (MailMessage.inbox == row.id) & (MailMessage.folder == folder)
                & (MailMessage.uidvalidity == uidvalidity) & MailMessage.key.in_(gone[start:start + 500])).execute()
    for remote in unseen:
        head = parse_message(source.fetch_headers(remote.key))
        MailMessage.insert(
            inbox=row.id, folder=folder, uidvalidity=uidvalidity, key=remote.key, uid=remote.uid, size=remote.size,
            status="new", message_id=(head.message_id or "")[:255], subject=head.subject[:2000],
            from_addr=(head.from_.email if head.from_ else "")[:255], date=naive_utc(head.date),
            trace="seen on the server by a scan; processed by the next pass",
        ).on_conflict_ignore().execute()
    return ScanResult(len(listed), len(unseen), len(gone), "")
