"""One message, exactly once: parse, run the steps, and commit the ticket work together with the message's
new state in ONE transaction. The server is touched only after that commit (see runner.dispose).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from peewee import SQL

from ..settings import InboxSettings, Settings
from ..store import fast_sql
from ..store.blobs import put_blob
from ..store.models import InboxState, MailMessage, MessageRef, Ticket, database_proxy, naive_utc, utcnow
from . import faults
from .outbound import admin_report, enqueue, error_forward
from .parse import ParsedMail, parse_message
from .people import CallerCache
from .records import ThreadHint
from .steps import AbortProcessing, Context, Outcome, run_steps
from .steps.related import thread_tickets

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


class _RecordExists(Exception):
    """The message's record appeared while it was processed as new (a held reply, an operator's reset, another
    runner): the transaction is rolled back and the message processed again on its record."""


class _StepsFailed(Exception):
    """The steps ended in AbortProcessing or an unexpected error after writing: the whole transaction is
    rolled back (no savepoint on the common path) and the outcome recorded in a new one."""

    def __init__(self, outcome: Outcome, trace: list[str], planned_mail: list) -> None:
        super().__init__(outcome.reason)
        self.outcome, self.trace, self.planned_mail = outcome, trace, planned_mail


@dataclass(frozen=True)
class _Job:
    """One downloaded message and what its processing needs."""

    settings: Settings
    inbox: InboxSettings
    where: Located
    raw: bytes
    state: InboxState | None
    parsed: ParsedMail
    callers: CallerCache | None
    threads: ThreadHint | None


def process_message(settings: Settings, inbox: InboxSettings, where: Located, raw: bytes,
                    state: InboxState | None, callers: CallerCache | None = None,
                    threads: ThreadHint | None = None) -> MailMessage:
    """Process one downloaded message and commit; returns the committed row. Never raises for bad mail.
    `callers`: the pass's cache of persons found by address; `threads`: what the runner read of its parents."""
    job = _Job(settings, inbox, where, raw, state, parse_message(raw, settings.engine.parse_options()), callers,
               threads)
    known, failed = False, None
    for _attempt in range(4):  # a record found late, a lost prepared statement, then a failure: each once
        try:
            return _process(job, known, failed)
        except _RecordExists:
            known = True
        except fast_sql.PreparedStatementLost:
            pass  # rolled back; statements are plain from now on
        except _StepsFailed as exc:
            failed = exc
    raise AssertionError(f"{where}: processed four times without an outcome")  # pragma: no cover


def _process(job: _Job, known: bool, failed: _StepsFailed | None) -> MailMessage:
    """One transaction. A message first seen has its record written ONCE, at the end, with its outcome, its
    thread entry and its audit (records.py); the rows that point at it (its attachments) follow in one batch.
    A record already there (`known`),
    or one that notification rules must point at while they fire, is written first and updated at the end.
    `failed`: the outcome of steps that failed in an earlier attempt, recorded without running them again."""
    settings, inbox, where, raw, state, parsed = job.settings, job.inbox, job.where, job.raw, job.state, job.parsed
    with database_proxy.atomic():
        digest = parsed.sha256 or hashlib.sha256(raw).hexdigest()
        # Stored first (the record points at it); True means bytes never seen before, which cannot have fed
        # a ticket: the common case needs no identity query.
        bytes_seen = not put_blob(digest, raw)
        facts = {"sha256": digest, "raw": digest, **_header_fields(parsed)}
        values = {"inbox": where.inbox_id, "folder": where.folder, "uidvalidity": where.uidvalidity,
                  "key": where.key, "uid": where.uid, "size": where.size, **facts}
        if not known and not any(rule.active for rule in settings.notifications):
            row = MailMessage(**values)  # written at the end
        else:
            row = _new_record(values)
        if row is None:  # a record exists: done by another runner, or reset by an operator
            found = MailMessage.get(
                (MailMessage.inbox == where.inbox_id) & (MailMessage.folder == where.folder)
                & (MailMessage.uidvalidity == where.uidvalidity) & (MailMessage.key == where.key))
            if found.status != "new":
                return found
            row = found  # retried on its record, which keeps the ticket it fed
            for name, value in facts.items():
                setattr(row, name, value)
        fed = Ticket.get_or_none(Ticket.id == row.ticket_id) if row.ticket_id else None
        threads = {} if fed else thread_tickets(parsed, job.threads)
        ctx = Context(settings=settings, inbox=inbox, inbox_id=where.inbox_id, parsed=parsed,
                      message_row=row, fed_ticket=fed, thread_tickets=threads, callers=job.callers)
        twin, twin_ticket = (None, None) if fed or not bytes_seen else _ticketed_twin(
            where.inbox_id, row.id, facts["message_id"], digest)
        parent = None if fed or twin_ticket or threads else _unticketed_parent(where.inbox_id, row.id, parsed)
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
        elif failed is not None:
            outcome, ctx.trace, ctx.planned_mail = failed.outcome, failed.trace, failed.planned_mail
        else:
            outcome = _run_steps(ctx, where)
        purge_now = settings.engine.undesired_purge_delay == 0
        row.status = outcome.status
        row.ticket = outcome.ticket or fed
        row.error = outcome.reason if outcome.status in ("error", "undesired") else ""
        row.trace = "\n".join(ctx.trace + [f"outcome: {outcome.action} -> {outcome.status}: {outcome.reason}"])
        row.processed_at = utcnow()
        row.last_seen = utcnow()
        row.disposition_pending = _disposition(inbox, outcome, purge_now)
        _write_record(row)
        _write_after_record(ctx.after_record, row)
        if outcome.status == "error":
            ctx.planned_mail.extend(error_forward(inbox, row, ctx.trace))
        for plan in ctx.planned_mail:
            enqueue(plan, mail=row, ticket=row.ticket)
        if state is not None and where.uid is not None and where.uid > state.highest_uid:
            state.highest_uid = where.uid  # in memory: the runner saves it once per pass
        faults.hit("before_commit")
    faults.hit("after_commit")
    return row


def _run_steps(ctx: Context, where: Located) -> Outcome:
    """The steps' outcome; a failure after writes leaves through _StepsFailed, rolling everything back."""
    try:
        return run_steps(ctx)
    except AbortProcessing as abort:
        raise _StepsFailed(abort.outcome, ctx.trace, ctx.planned_mail) from abort
    except fast_sql.PreparedStatementLost:
        raise  # not the mail's fault: process_message runs it again
    except Exception as exc:  # a bug or a store hiccup on one message must not stop the pass
        log.exception("processing %s failed", where)
        outcome = Outcome("reject", "error", f"internal error while processing: {type(exc).__name__}: {exc}")
        ctx.note(f"error: {outcome.reason}")
        raise _StepsFailed(outcome, ctx.trace, ctx.planned_mail) from exc


def _write_record(row: MailMessage) -> None:
    """INSERT a record seen for the first time (raises _RecordExists, rolling the work back, when one
    appeared meanwhile), else UPDATE what changed on it."""
    if row.id is not None:
        row.save(only=row.dirty_fields)
        return
    values = {name: value for name, value in row.__data__.items() if name != "id"}
    new_id = fast_sql.insert_returning_id(MailMessage, values, ignore=True)
    if new_id is None:
        raise _RecordExists(row.key)
    row.id = new_id
    row._dirty.clear()


def _write_after_record(rows: list, record: MailMessage) -> None:
    """Rows the steps built that point at the record (attachments): one INSERT per table."""
    by_model: dict[type, list[dict]] = {}
    for item in rows:
        item.message = record.id
        model = type(item)
        names = [f.name for f in model._meta.sorted_fields if f.name != "id"]
        by_model.setdefault(model, []).append({name: item.__data__.get(name) for name in names})
    for model, batch in by_model.items():
        fast_sql.insert_many(model, batch)


def _new_record(values: dict) -> MailMessage | None:
    """The message's record, inserted now in one statement; None when one exists already (no error, no
    exception to recover from inside the transaction)."""
    new_id = fast_sql.insert_returning_id(MailMessage, values, ignore=True)
    if new_id is None:
        return None
    row = MailMessage(id=new_id, **values)
    row._dirty.clear()  # what the INSERT wrote; only later changes are saved
    return row


def _not_itself(row_id: int | None):
    """Leaves the message's own record out; a record not written yet (None) cannot be among the rows."""
    return MailMessage.id != row_id if row_id is not None else SQL("1 = 1")


def _ticketed_twin(inbox_id: int, row_id: int | None, message_id: str,
                   digest: str) -> tuple[MailMessage | None, Ticket | None]:
    """(first record, ticket) of the same mail (same Message-ID, same bytes) already ticketed in this inbox,
    whatever the server numbering did since (UIDVALIDITY change, re-delivery).

    Once that record has expired (vanished_retention_days), the identity is still known: the Message-ID
    stays in MessageRef with its ticket, and the raw bytes stay in the content-addressed Blob table
    (the caller asks only for bytes already there before this mail)."""
    found = (MailMessage.select(MailMessage.id, MailMessage.ticket).where(  # two columns: cheap to build
        (MailMessage.sha256 == digest) & (MailMessage.inbox == inbox_id) & (MailMessage.message_id == message_id)
        & _not_itself(row_id) & MailMessage.duplicate_of.is_null() & MailMessage.ticket.is_null(False))
        .order_by(MailMessage.id).tuples().first())
    if found is not None:
        return MailMessage.get_by_id(found[0]), Ticket.get_by_id(found[1])
    if not message_id:
        return None, None
    ticket = (Ticket.select().join(MessageRef).where(
        (MessageRef.message_id == message_id) & (Ticket.inbox == inbox_id)).order_by(Ticket.id).first())
    return None, ticket


def _unticketed_parent(inbox_id: int, row_id: int | None, parsed) -> MailMessage | None:
    """The request this reply answers when it is here but made no ticket (failed, ignored, not yet
    processed): the reply waits for it instead of becoming a ticket of its own, so retrying both gives the
    same tickets as a clean run. The caller asks only when no parent threads to a ticket."""
    named = ([parsed.in_reply_to] if parsed.in_reply_to else []) + list(parsed.references)
    parents = [m for m in named if m and m != parsed.message_id][:200]  # a mail naming itself is no reply
    if not parents:
        return None
    return (MailMessage.select(MailMessage.id, MailMessage.status).where(
        (MailMessage.inbox == inbox_id) & (MailMessage.message_id.in_(parents)) & _not_itself(row_id)
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
