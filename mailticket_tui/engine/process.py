"""One message, exactly once: parse, run the steps, and commit the ticket work together with the message's
new state in ONE transaction. The server is touched only after that commit (see runner.dispose).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from ..settings import InboxSettings, Settings
from ..store.models import InboxState, MailMessage, Ticket, database_proxy, naive_utc, utcnow
from . import faults
from .outbound import admin_report, enqueue, error_forward
from .parse import parse_message
from .steps import AbortProcessing, Context, Outcome, run_steps
from .tickets import store_blob

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Located:
    """Where a message lives on the server."""

    inbox_id: int
    folder: str
    uidvalidity: int | None
    key: str
    uid: int | None
    size: int


def _disposition(inbox: InboxSettings, outcome: Outcome, purge_now: bool) -> str:
    """What the server should do with the message once the work is committed."""
    if outcome.status == "processed":
        return {"keep": "", "delete": "delete", "move": "move"}[inbox.email_storage]
    if outcome.status == "error":
        return "delete" if inbox.error_behavior == "delete" else ""
    if outcome.status == "undesired":
        return "delete" if purge_now or outcome.delete_from_server else ""
    return ""


def _header_fields(parsed) -> dict:
    sender = parsed.from_
    return {
        "message_id": (parsed.message_id or "")[:255],
        "date": naive_utc(parsed.date),
        "from_addr": (sender.email if sender else "")[:255],
        "subject": parsed.subject[:2000],
    }


def process_message(settings: Settings, inbox: InboxSettings, where: Located, raw: bytes,
                    state: InboxState | None) -> MailMessage:
    """Process one downloaded message and commit; returns the committed row. Never raises for bad mail."""
    parsed = parse_message(raw, settings.engine.parse_options())
    with database_proxy.atomic():
        # (id, status) first: the usual answer is "no record yet", and a whole row costs more to read
        found = MailMessage.select(MailMessage.id, MailMessage.status).where(
            (MailMessage.inbox == where.inbox_id) & (MailMessage.folder == where.folder)
            & (MailMessage.uidvalidity == where.uidvalidity) & (MailMessage.key == where.key)
        ).tuples().first()
        if found is not None and found[1] != "new":
            return MailMessage.get_by_id(found[0])  # another runner or an earlier crash-free pass did it
        digest = parsed.sha256 or hashlib.sha256(raw).hexdigest()
        facts = {"sha256": digest, "raw": store_blob(raw, digest), **_header_fields(parsed)}
        if found is None:
            row = MailMessage.create(inbox=where.inbox_id, folder=where.folder, uidvalidity=where.uidvalidity,
                                     key=where.key, uid=where.uid, size=where.size, **facts)
        else:  # reset by an operator: retried on its record, which keeps the ticket it fed
            row = MailMessage.get_by_id(found[0])
            for name, value in facts.items():
                setattr(row, name, value)
        fed = Ticket.get_or_none(Ticket.id == row.ticket_id) if row.ticket_id else None
        ctx = Context(settings=settings, inbox=inbox, inbox_id=where.inbox_id, parsed=parsed,
                      message_row=row, fed_ticket=fed)
        try:
            with database_proxy.atomic():
                outcome = run_steps(ctx)
        except AbortProcessing as abort:
            outcome = abort.outcome
        except Exception as exc:  # a bug or a store hiccup on one message must not stop the pass
            log.exception("processing %s failed", where)
            outcome = Outcome("reject", "error", f"internal error while processing: {type(exc).__name__}: {exc}")
            ctx.note(f"error: {outcome.reason}")
        purge_now = settings.engine.undesired_purge_delay == 0
        row.status = outcome.status
        row.ticket = outcome.ticket or fed
        row.error = outcome.reason if outcome.status in ("error", "undesired") else ""
        row.trace = "\n".join(ctx.trace + [f"outcome: {outcome.action} -> {outcome.status}: {outcome.reason}"])
        row.processed_at = utcnow()
        row.last_seen = utcnow()
        row.disposition_pending = _disposition(inbox, outcome, purge_now)
        row.save(only=row.dirty_fields)  # identity and header facts were written by create()
        if outcome.status == "error":
            ctx.planned_mail.extend(error_forward(inbox, row, ctx.trace))
        for plan in ctx.planned_mail:
            enqueue(plan, mail=row, ticket=row.ticket)
        if state is not None and where.uid is not None and where.uid > state.highest_uid:
            state.highest_uid = where.uid
            state.save(only=[InboxState.highest_uid])
        faults.hit("before_commit")
    faults.hit("after_commit")
    return row


def record_error(where: Located, reason: str, settings: Settings, inbox: InboxSettings, state: InboxState | None,
                 message_id: str = "", subject: str = "", from_addr: str = "") -> MailMessage:
    """An error record for a message that was not (or could not be) downloaded, e.g. too big; the inbox's
    error forward and the engine-level admin report (notify_errors_to of [engine]) are queued with it."""
    with database_proxy.atomic():
        row, _ = MailMessage.get_or_create(
            inbox=where.inbox_id, folder=where.folder, uidvalidity=where.uidvalidity, key=where.key,
            defaults={"uid": where.uid, "size": where.size},
        )
        row.status, row.error = "error", reason
        row.message_id, row.subject, row.from_addr = message_id[:255], subject[:2000], from_addr[:255]
        row.trace = f"outcome: reject -> error: {reason}"
        row.processed_at = row.last_seen = utcnow()
        row.disposition_pending = "delete" if inbox.error_behavior == "delete" else ""
        row.save()
        for plan in error_forward(inbox, row, [reason]) + admin_report(settings.engine, inbox.name, row):
            enqueue(plan, mail=row)
        if state is not None and where.uid is not None and where.uid > state.highest_uid:
            state.highest_uid = where.uid
            state.save(only=[InboxState.highest_uid])
    return row
