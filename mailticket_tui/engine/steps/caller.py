"""Who wrote: find the caller by address (case-insensitive), settle ambiguity by setting, or plan a creation."""
from __future__ import annotations

from ..people import find_persons
from .context import Context, Outcome


def find_caller(ctx: Context) -> Outcome | None:
    email = ctx.sender_email
    persons = find_persons(email)
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
        return Outcome("reject", "error", f"unknown caller {email} (unknown_caller_behavior = reject_email)")
    ctx.caller_to_create = True
    ctx.note(f"caller: unknown sender {email}; a person will be created")
    return None
