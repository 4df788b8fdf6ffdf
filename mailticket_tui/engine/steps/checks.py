"""First steps: the message is readable, not machine-generated or undesired, and not our own mail (a loop)."""
from __future__ import annotations

from ..outbound import own_addresses
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
    """Machine-generated mail per auto_mail_behavior; then the undesired subject patterns, which apply to
    every mail that goes on, including auto-mail processed under auto_mail_behavior = process."""
    parsed = ctx.parsed
    if parsed.auto_kind:
        behavior = ctx.inbox.auto_mail_behavior
        reason = f"{parsed.auto_kind}: {parsed.auto_reason}"
        if behavior != "process":
            ctx.note(f"auto-mail: {reason}; auto_mail_behavior = {behavior}, no ticket touched, never answered")
            if behavior == "ignored":
                return Outcome("reject", "ignored", reason)
            return Outcome("reject", "undesired", reason, delete_from_server=behavior == "delete")
        ctx.note(f"auto-mail: {reason}; processed (auto_mail_behavior = process), never answered")
    if parsed.undesired:
        ctx.note(f"undesired: {parsed.undesired_reason}")
        return Outcome("reject", "undesired", parsed.undesired_reason or "undesired")
    if not parsed.auto_kind:
        ctx.note("auto-mail: none detected")
    return None


def check_own_address(ctx: Context) -> Outcome | None:
    """Mail from one of our own addresses is a loop (our reply or forward coming back, an inbox feeding
    another), never a ticket and never answered: it is set aside as undesired.

    Only From is compared. Sender and Return-Path name the agent that transported the mail, and for a customer's
    mail that agent is often us: an alias run as a group or list (Google Groups sets Sender to the group), or a
    server-side forward between our mailboxes (Return-Path becomes the forwarding mailbox). Comparing them would
    drop genuine requests; what we send ourselves always carries our address in From.
    """
    sender = ctx.sender_email
    if sender and sender in own_addresses(ctx.settings):
        ctx.note(f"loop: From {sender} is one of our own addresses; no ticket, never answered")
        return Outcome("reject", "undesired", f"loop: sent from our own address {sender}")
    ctx.note("loop: the sender is not one of our own addresses")
    return None
