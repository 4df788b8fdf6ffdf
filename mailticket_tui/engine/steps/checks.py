"""First steps: the message is readable, and it is not machine-generated or undesired."""
from __future__ import annotations

from .context import Context, Outcome


def check_readable(ctx: Context) -> Outcome | None:
    parsed = ctx.parsed
    if parsed.error:
        ctx.note(f"parse: cannot use this message: {parsed.error}")
        return Outcome("reject", "error", f"unreadable message: {parsed.error}")
    defects = f" ({len(parsed.defects)} defects: {', '.join(parsed.defects[:3])})" if parsed.defects else ""
    ctx.note(f"parse: {parsed.body_format} body, {len(parsed.attachments)} attachments{defects}")
    if not ctx.sender_email:
        ctx.note("sender: no usable From address")
        return Outcome("reject", "error", "no sender address in From")
    return None


def check_auto_mail(ctx: Context) -> Outcome | None:
    parsed = ctx.parsed
    if parsed.auto_kind:
        behavior = ctx.inbox.auto_mail_behavior
        reason = f"{parsed.auto_kind}: {parsed.auto_reason}"
        if behavior == "process":
            ctx.note(f"auto-mail: {reason}; processed (auto_mail_behavior = process), never answered")
            return None
        ctx.note(f"auto-mail: {reason}; auto_mail_behavior = {behavior}, no ticket touched, never answered")
        if behavior == "ignored":
            return Outcome("reject", "ignored", reason)
        return Outcome("reject", "undesired", reason, delete_from_server=behavior == "delete")
    if parsed.undesired:
        ctx.note(f"undesired: {parsed.undesired_reason}")
        return Outcome("reject", "undesired", parsed.undesired_reason or "undesired")
    ctx.note("auto-mail: none detected")
    return None
