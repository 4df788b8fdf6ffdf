"""The writing steps: create or update the ticket, attachments, additional contacts, stimuli, threading refs,
the audit trail and the notifications those events fire (Outbox rows in the same transaction). In a dry run
(replay) they only say what they would do.
"""
from __future__ import annotations

from ...store.models import Person, Ticket, naive_utc
from .. import records, tickets
from ..notifications import Cause, fire, lifecycle_event
from ..ticket_files import attach_files
from ..parse import sanitize_html, text_to_html
from ..people import create_person, persons_by_address
from ..tickets import (
    TicketError,
    add_contact,
    add_log_entry,
    apply_default_values,
    apply_stimulus,
    attachment_row,
    create_ticket,
)
from .context import Context, Outcome

NO_SUBJECT = "No subject"


def _title(ctx: Context) -> str:
    return ctx.parsed.subject.strip() or ctx.inbox.ticket_default_title or NO_SUBJECT


def _description(ctx: Context) -> str:
    """The whole body as HTML: the parser already sanitised an HTML body; a text body is converted."""
    parsed = ctx.parsed
    return parsed.body_html if parsed.body_html else text_to_html(parsed.body_text or "")


def _ensure_caller(ctx: Context) -> Person | None:
    if ctx.caller is None and ctx.caller_to_create and not ctx.dry_run:
        person, notes = create_person(ctx.sender_email, ctx.sender_name, ctx.inbox.caller_default_values,
                                      ctx.settings.org_domains)
        ctx.trace.extend(f"caller: {n}" for n in notes)
        ctx.note(f"caller: created person #{person.id} ({person.first_name} {person.name})")
        ctx.caller = person
    return ctx.caller


def create_or_update(ctx: Context) -> Outcome:
    if ctx.related is not None and ctx.fed_ticket is not None:
        return Outcome("skip", "processed", f"already fed {ctx.related.ref}; not applied twice", ctx.related)
    if ctx.related is not None:
        return _update(ctx, ctx.related)
    return _create(ctx)


def _create(ctx: Context) -> Outcome:
    title = _title(ctx)
    if ctx.dry_run:
        ctx.note(f"create: a new {ctx.inbox.target_class} titled {title!r}")
        return Outcome("create", "processed", "new ticket")
    caller = _ensure_caller(ctx)
    description = _description(ctx)
    ticket = create_ticket(ctx.inbox.target_class, title, description, caller, ctx.inbox_id, parent=ctx.parent)
    changed = ["title", "description", "caller_id", "org_id", "origin", "status"]
    if len(description) > tickets.DESCRIPTION_MAX:
        ctx.after_record.append(attachment_row(ticket, "original-description.html", "text/html",
                                               description.encode()))
        ctx.note(f"create: description longer than {tickets.DESCRIPTION_MAX} characters; the whole one is attached")
    if ctx.inbox.ticket_default_values:
        result = apply_default_values(ticket, ctx.inbox.ticket_default_values)
        ctx.trace.extend(f"defaults: {p}" for p in result.problems)
        if result.fatal:
            raise AbortProcessing(Outcome("reject", "error", f"ticket default values: {result.fatal}"))
        changed += result.applied
    ctx.note(f"create: {ticket.ref} {ticket.klass} for {ctx.sender_email}" +
             (f", linked to {ctx.parent.ref}" if ctx.parent else ""))
    _finish(ctx, ticket, changed, "created-by-mail", creating=True,
            no_files_yet=len(description) <= tickets.DESCRIPTION_MAX)
    return Outcome("create", "processed", f"created {ticket.ref}", ticket)


def _update(ctx: Context, ticket: Ticket) -> Outcome:
    log = "private_log" if ctx.private_reply else ctx.settings.ticket_log.get(ticket.klass, "public_log")
    new_part = ctx.parsed.new_part
    ctx.trace.extend(f"parse: new part: {problem}" for problem in new_part.defects)
    if ctx.dry_run:
        ctx.note(f"update: {ticket.ref}, new part ({len(new_part.text)} chars, {new_part.method}) into {log}")
        return Outcome("update", "processed", f"update {ticket.ref}", ticket)
    _ensure_caller(ctx)
    body = sanitize_html(new_part.html) if new_part.html else text_to_html(new_part.text)
    add_log_entry(ticket, log, ctx.sender_name, ctx.sender_email, body, ctx.parsed.message_id or "",
                  date=naive_utc(ctx.parsed.date))
    ctx.note(f"update: {ticket.ref}: new part ({new_part.method}) added to {log}")
    changed = [log]
    before = ticket.status
    if ctx.reopen:
        stimulus = ctx.inbox.reopen_stimulus
        state = apply_stimulus(ticket, stimulus)
        ctx.note(f"update: {ticket.ref} reopened with {stimulus} -> {state}")
    else:
        stimulus = _stimuli(ctx, ticket)
    if stimulus:
        changed.append("status")
    public = body if log == "public_log" else ""  # a private entry's text never goes out in a notification
    _finish(ctx, ticket, changed, "updated-by-mail", creating=False, log_html=public,
            transition=f"{stimulus}: {before} -> {ticket.status}" if stimulus else "")
    if stimulus:
        event = lifecycle_event(stimulus)
        if event:
            ctx.trace.extend(fire(ctx.settings, ticket, event, _cause(ctx, public)))
    return Outcome("update", "processed", f"updated {ticket.ref}", ticket)


def _stimuli(ctx: Context, ticket: Ticket) -> str | None:
    """The inbox's stimulus for the ticket's state (resolved -> ev_reopen...), applied; None when none applies."""
    stimulus = ctx.inbox.stimuli.get(ticket.status)
    if not stimulus:
        return None
    try:
        state = apply_stimulus(ticket, stimulus)
    except TicketError as exc:
        ctx.note(f"stimulus: {exc}; not applied")
        return None
    ctx.note(f"stimulus: {stimulus} applied -> {state}")
    return stimulus


def _cause(ctx: Context, log_html: str = "") -> Cause:
    parsed = ctx.parsed
    return Cause(ctx.sender_email, ctx.sender_name, log_html, ctx.message_row,
                 bool(parsed.auto_submitted or parsed.auto_kind))


def _finish(ctx: Context, ticket: Ticket, changed: list[str], event: str, creating: bool, log_html: str = "",
            transition: str = "", no_files_yet: bool = False) -> None:
    """What both creation and update do after the main write; `no_files_yet`: the ticket is new and holds
    no attachment (no query for the ones it has)."""
    files = attach_files(ticket, ctx.attachments, ctx.settings.engine.big_files_dir, ctx.message_row, ctx.note,
                         new_ticket=no_files_yet)
    if files.changed:
        changed.append("attachments")
    ctx.after_record.extend(files.rows)
    changed += _contacts(ctx, ticket, creating)
    # the record of this mail is the thread entry of its Message-ID and the audit of this work (records.py)
    summary = f"{event} from message <{ctx.parsed.message_id or '?'}>" + (f"; {transition}" if transition else "")
    ctx.message_row.audit = records.audit_text(ctx.sender_email, changed, summary)
    ctx.trace.extend(fire(ctx.settings, ticket, "created_by_mail" if creating else "updated_by_mail",
                          _cause(ctx, log_html)))


def _contacts(ctx: Context, ticket: Ticket, creating: bool) -> list[str]:
    mode = ctx.inbox.import_additional_contacts
    if mode == "never" or (mode == "only_on_creation" and not creating) or (mode == "only_on_update" and creating):
        return []
    own = {a.lower() for a in (ctx.inbox.login, *ctx.inbox.aliases) if a}
    own.add(ctx.sender_email)
    wanted = {a.email.strip().lower() for a in (*ctx.parsed.to, *ctx.parsed.cc) if a.email}
    wanted -= own
    if not wanted:
        return []
    found = {p.id: p for p in persons_by_address(sorted(wanted)).values()}  # by a primary or an extra address
    linked = [p for p in sorted(found.values(), key=lambda p: (not p.active, p.id)) if add_contact(ticket, p)]
    if linked:
        ctx.note(f"contacts: linked {', '.join(p.email for p in linked)}")
        return ["contacts"]
    return []


class AbortProcessing(Exception):
    """Raised inside the transaction to roll the ticket work back and end with an outcome."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.reason)
        self.outcome = outcome
