"""Which ticket a reply belongs to: our own Message-IDs (and a former iTop's, by legacy_ref), stored
Message-IDs, then the title pattern. Then the rules on what was found: class mismatch, resolved/closed
tickets (the inbox's `stimuli` for that state first, else closed_ticket_behavior), replies from strangers.
"""
from __future__ import annotations

from peewee import fn

from ...store.models import Ticket, TicketContact
from .. import records
from ..lifecycle import lifecycle
from ..people import find_persons
from ..parse import safe_regex
from ..threading import legacy_ref_from_message_id, store_secret, ticket_ref_from_message_id
from .context import Context, Outcome


def _thread_ids(ctx: Context) -> list[str]:
    ids = [ctx.parsed.in_reply_to] if ctx.parsed.in_reply_to else []
    ids += [r for r in reversed(ctx.parsed.references) if r not in ids]  # newest reference first
    return ids


def _by_our_ids(ctx: Context, ids: list[str]) -> Ticket | None:
    """Our signed Message-IDs (notifications we sent), then a former iTop's ids mapped by legacy_ref."""
    if not ids:
        return None
    secret = store_secret()
    for mid in ids:
        ref = ticket_ref_from_message_id(mid, secret)
        if ref:
            ticket = Ticket.get_or_none(Ticket.ref == ref)
            if ticket:
                ctx.note(f"related: {ref} from our Message-ID <{mid}>")
                return ticket
    legacy = {mid: key for mid in ids[:200] if (key := legacy_ref_from_message_id(mid))}
    if legacy:  # one query for all of them; the newest id that a ticket holds wins
        held = {t.legacy_ref: t for t in Ticket.select().where(Ticket.legacy_ref.in_(set(legacy.values()))
                                                         & (Ticket.legacy_ref != ""))  # the partial index's term
                .order_by(Ticket.id.desc())}
        for mid, key in legacy.items():
            if key in held:
                ctx.note(f"related: {held[key].ref} from the iTop Message-ID <{mid}> ({key})")
                return held[key]
    return None


def thread_tickets(parsed, hint: records.ThreadHint | None = None) -> dict[str, Ticket]:
    """The tickets the mail's In-Reply-To/References (newest first, 200 at most) thread to, by Message-ID;
    read once for both the wait-for-the-parent check and the related step (or taken from the runner's
    `hint` when it answers them all)."""
    newest_first = ([parsed.in_reply_to] if parsed.in_reply_to else []) + list(reversed(parsed.references))
    parents = list(dict.fromkeys(m for m in newest_first if m))[:200]
    answered = hint.answers(parents) if hint is not None and parents else None
    return answered if answered is not None else records.thread_tickets(parents)


def _by_stored_ids(ctx: Context, ids: list[str]) -> Ticket | None:
    if not ids or not ctx.settings.engine.aggregate_replies:
        return None
    threads = ctx.thread_tickets if ctx.thread_tickets is not None else thread_tickets(ctx.parsed)
    for mid in ids:
        if mid in threads:
            ticket = threads[mid]
            ctx.note(f"related: {ticket.ref} from stored Message-ID <{mid}>")
            return ticket
    return None


def _by_title(ctx: Context) -> Ticket | None:
    pattern = ctx.inbox.title_pattern
    if not pattern or not ctx.parsed.subject:
        return None
    flags = safe_regex.SETTING_FLAGS.get("title_pattern", 0)
    safe_regex.compile_pattern(pattern, flags)  # a PatternError is find_related's to report
    notes: list[str] = []
    match = safe_regex.search(pattern, ctx.parsed.subject, notes, flags)
    if notes:  # an admin's catastrophic title_pattern timed out: no match, said in the trace
        ctx.trace.extend(f"related: title_pattern ignored: {note}" for note in notes)
        return None
    if not match:
        ctx.note("related: title_pattern did not match the subject")
        return None
    candidates = [g for g in match.groups() if g] or [match.group(0)]
    prefix = lifecycle(ctx.inbox.target_class).prefix
    for value in candidates:
        for ref in (value, f"{prefix}{value}" if value.isdigit() else None):
            ticket = Ticket.get_or_none(fn.UPPER(Ticket.ref) == ref.upper()) if ref else None
            if ticket:
                ctx.note(f"related: {ticket.ref} from title_pattern (group {value!r})")
                return ticket
    ctx.note(f"related: title_pattern matched {candidates!r} but no such ticket")
    return None


def find_related(ctx: Context) -> Outcome | None:
    if ctx.fed_ticket is not None:
        ctx.related = ctx.fed_ticket
        ctx.note(f"related: this message already fed {ctx.fed_ticket.ref} (before a reset)")
        return None
    ids = _thread_ids(ctx)
    try:
        ticket = _by_our_ids(ctx, ids) or _by_stored_ids(ctx, ids) or _by_title(ctx)
    except safe_regex.PatternError as exc:  # settings validation refuses it; a hand-edited store may not have
        return Outcome("reject", "error", f"title_pattern is invalid: {exc}")
    behavior = ctx.inbox.behavior
    if ticket is None:
        ctx.note("related: no related ticket")
        if behavior == "update_only":
            return Outcome("reject", "error", "nothing to update: no related ticket (behavior = update_only)")
        return None
    if behavior == "create_only":
        ctx.note(f"related: {ticket.ref} ignored (behavior = create_only)")
        return None
    if ticket.klass != ctx.inbox.target_class:
        return Outcome("reject", "error",
                       f"related ticket {ticket.ref} is a {ticket.klass}; this inbox handles {ctx.inbox.target_class}")
    return _closed_rule(ctx, ticket) or _sender_rule(ctx, ticket)


def _closed_rule(ctx: Context, ticket: Ticket) -> Outcome | None:
    cycle = lifecycle(ticket.klass)
    if ticket.status not in cycle.done_states:
        ctx.related = ticket
        return None
    stimulus = ctx.inbox.stimuli.get(ticket.status)
    if stimulus and cycle.target(ticket.status, stimulus) is not None:
        # the admin said what a reply does in this state (e.g. resolved -> ev_reopen): that wins over
        # closed_ticket_behavior, which decides only for states without a stimulus
        ctx.related = ticket
        ctx.note(f"related: {ticket.ref} is {ticket.status}; stimuli[{ticket.status}] = {stimulus} applies")
        return None
    if stimulus:
        ctx.note(f"related: stimuli[{ticket.status}] = {stimulus} is not a transition of {ticket.klass}; "
                 f"closed_ticket_behavior decides")
    rule = ctx.inbox.closed_ticket_behavior
    if rule == "reject":
        ctx.note(f"related: {ticket.ref} is {ticket.status}; closed_ticket_behavior = reject")
        return Outcome("reject", "error", f"{ticket.ref} is {ticket.status}: replies are rejected")
    if rule == "reopen":
        if cycle.target(ticket.status, ctx.inbox.reopen_stimulus) is None:
            ctx.note(f"related: {ticket.ref} is {ticket.status} and {ctx.inbox.reopen_stimulus} is not allowed; new ticket")
            ctx.parent = ticket
            return None
        ctx.related, ctx.reopen = ticket, True
        ctx.note(f"related: {ticket.ref} is {ticket.status}; it will be reopened ({ctx.inbox.reopen_stimulus})")
        return None
    ctx.parent = ticket
    ctx.note(f"related: {ticket.ref} is {ticket.status}; a new ticket linked to it will be created")
    return None


def _sender_rule(ctx: Context, ticket: Ticket) -> Outcome | None:
    if ctx.related is None:
        return None
    if ctx.caller is not None and ctx.caller.id == ticket.caller_id:
        return None  # the caller replying (the common case: no query)
    email = ctx.sender_email
    owners = [p.id for p in find_persons(email)]  # whoever has the address, as a primary or an extra one
    if ticket.caller_id in owners:
        return None  # the caller's own address, under another person record than the one found
    if owners and TicketContact.select().where((TicketContact.ticket == ticket)
                                               & TicketContact.person.in_(owners)).exists():
        ctx.note(f"sender: {email} is a contact of {ticket.ref}")
        return None
    rule = ctx.inbox.other_sender_behavior
    ctx.note(f"sender: {email} is neither the caller nor a contact of {ticket.ref}; other_sender_behavior = {rule}")
    if rule == "reject":
        return Outcome("reject", "error", f"{email} may not update {ticket.ref}: not its caller or a contact")
    ctx.private_reply = rule == "private"
    return None
