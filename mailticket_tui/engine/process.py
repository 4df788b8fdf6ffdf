"""One message, exactly once: parse, run the steps, and commit the ticket work together with the message's
new state in ONE transaction. The server is touched only after that commit (see runner.dispose).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from ..settings import InboxSettings, Settings
from ..store.models import Blob, InboxState, MailMessage, MessageRef, Ticket, database_proxy, naive_utc, utcnow
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


def leave_action(inbox: InboxSettings, status: str) -> str:
    """What the server should do with a message in this state ("" | delete | move), per the inbox's
    settings; undesired mail leaves on its own schedule (undesired_purge_delay)."""
    if status in ("processed", "duplicate"):
        return {"keep": "", "delete": "delete", "move": "move"}[inbox.email_storage]
    if status == "error":
        return "delete" if inbox.error_behavior == "delete" else ""
    return ""


def _disposition(inbox: InboxSettings, outcome: Outcome, purge_now: bool) -> str:
    """What the server should do with the message once the work is committed."""
    if outcome.status == "undesired":
        return "delete" if purge_now or outcome.delete_from_server else ""
    return leave_action(inbox, outcome.status)


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
        # Read before this mail's own copy is stored: bytes never seen cannot have fed a ticket (the common
        # case, one primary-key lookup), so the identity query below runs only for bytes seen before.
        bytes_seen = Blob.select().where(Blob.sha256 == digest).exists()
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
        twin, twin_ticket = (None, None) if fed or not bytes_seen else _ticketed_twin(
            where.inbox_id, row.id, facts["message_id"], digest)
        parent = None if fed or twin_ticket else _unticketed_parent(where.inbox_id, row.id, parsed)
        try:
            if twin_ticket is not None:
                row.duplicate_of = twin
                first = f"#{twin.id}" if twin else "a mail whose record has expired"
                outcome = Outcome("skip", "duplicate", f"the same mail (Message-ID and content) as {first}, "
                                  f"which fed {twin_ticket.ref}; not ticketed again", twin_ticket)
                ctx.note(f"identity: {outcome.reason}")
            elif parent is not None:
                outcome = Outcome("reject", "error", f"a reply to #{parent.id} ({parent.status}), which has no "
                                  f"ticket yet; retry #{parent.id} first, then this one (reset both)")
                ctx.note(f"related: {outcome.reason}")
            else:
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


def _ticketed_twin(inbox_id: int, row_id: int, message_id: str,
                   digest: str) -> tuple[MailMessage | None, Ticket | None]:
    """(first record, ticket) of the same mail (same Message-ID, same bytes) already ticketed in this inbox,
    whatever the server numbering did since (UIDVALIDITY change, re-delivery).

    Once that record has expired (vanished_retention_days), the identity is still known: the Message-ID
    stays in MessageRef with its ticket, and the raw bytes stay in the content-addressed Blob table
    (the caller asks only for bytes already there before this mail)."""
    found = (MailMessage.select(MailMessage.id, MailMessage.ticket).where(  # two columns: cheap to build
        (MailMessage.sha256 == digest) & (MailMessage.inbox == inbox_id) & (MailMessage.message_id == message_id)
        & (MailMessage.id != row_id) & MailMessage.duplicate_of.is_null() & MailMessage.ticket.is_null(False))
        .order_by(MailMessage.id).tuples().first())
    if found is not None:
        return MailMessage.get_by_id(found[0]), Ticket.get_by_id(found[1])
    if not message_id:
        return None, None
    ticket = (Ticket.select().join(MessageRef).where(
        (MessageRef.message_id == message_id) & (Ticket.inbox == inbox_id)).order_by(Ticket.id).first())
    return None, ticket


def _unticketed_parent(inbox_id: int, row_id: int, parsed) -> MailMessage | None:
    """The request this reply answers when it is here but made no ticket (failed, ignored, not yet
    processed): the reply waits for it instead of becoming a ticket of its own, so retrying both gives the
    same tickets as a clean run. None when a parent already threads to a ticket."""
    parents = [m for m in ([parsed.in_reply_to] if parsed.in_reply_to else []) + list(parsed.references) if m][:200]
    if not parents or MessageRef.select().where(MessageRef.message_id.in_(parents)).exists():
        return None
    return (MailMessage.select(MailMessage.id, MailMessage.status).where(
        (MailMessage.inbox == inbox_id) & (MailMessage.message_id.in_(parents)) & (MailMessage.id != row_id)
        & MailMessage.ticket.is_null()
        & (MailMessage.status.in_(["new", "error", "ignored"]))).order_by(MailMessage.id).first())


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
