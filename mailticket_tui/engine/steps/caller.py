"""Who wrote: find the caller by address (case-insensitive), settle ambiguity by setting, or plan a creation."""
from __future__ import annotations

from ..outbound import PlannedMail, own_addresses, reply_allowed
from ..people import find_persons
from .context import Context, Outcome


def _plan_rejection_reply(ctx: Context, email: str) -> None:
    """The inbox's unknown_caller_rejection_reply, unless it would feed a loop or flood the sender."""
    text = ctx.inbox.unknown_caller_rejection_reply
    if not text.strip():
        return
    if ctx.parsed.auto_kind:
        ctx.note(f"reply: not sent (the mail is machine-generated: {ctx.parsed.auto_kind})")
        return
    refused = reply_allowed(email, own_addresses(ctx.settings))
    if refused:
        ctx.note(f"reply: not sent ({refused})")
        return
    sender = ctx.inbox.login if "@" in ctx.inbox.login else ctx.settings.smtp.sender
    subject = ctx.parsed.subject or "your message"
    ctx.planned_mail.append(PlannedMail("rejection", email, sender, f"Re: {subject}", text,
                                        ctx.parsed.message_id or "", attach_original=True))
    ctx.note(f"reply: the rejection reply will be sent to {email}")


def find_caller(ctx: Context) -> Outcome | None:
    email = ctx.sender_email
    persons = ctx.callers.find(email) if ctx.callers is not None else find_persons(email)
    if len(persons) > 1:
        if ctx.inbox.ambiguous_caller_behavior == "error":
            ctx.note(f"caller: {len(persons)} persons share {email}; ambiguous_caller_behavior = error")
            return Outcome("reject", "error", f"ambiguous caller: {len(persons)} persons have the address {email}")
        chosen = persons[0]
        ctx.note(f"caller: WARNING {len(persons)} persons share {email}; took person #{chosen.id} (first active)")
        ctx.caller = chosen
        return None
    if persons:
        ctx.caller = persons[0]
        ctx.note(f"caller: found person #{persons[0].id} for {email}")
        return None
    if ctx.inbox.unknown_caller_behavior == "reject_email":
        ctx.note(f"caller: unknown sender {email}; unknown_caller_behavior = reject_email")
        _plan_rejection_reply(ctx, email)
        return Outcome("reject", "error", f"unknown caller {email} (unknown_caller_behavior = reject_email)")
    ctx.caller_to_create = True
    ctx.note(f"caller: unknown sender {email}; a person will be created")
    return None
