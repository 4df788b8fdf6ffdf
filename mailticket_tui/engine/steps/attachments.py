"""The attachments step: excluded types, signature logos dropped, big images scaled (engine/attachments.py)."""
from __future__ import annotations

from ..attachments import filter_attachments
from .context import Context, Outcome


def check_attachments(ctx: Context) -> Outcome | None:
    engine = ctx.settings.engine
    ctx.attachments = filter_attachments(ctx.parsed.attachments, engine.images_minimum_size or None,
                                         engine.images_maximum_size or None)
    for att in ctx.attachments:
        if att.action != "keep":
            ctx.note(f"attachment: {att.filename!r} {att.action}: {att.reason}")
    kept = sum(a.action in ("keep", "resized") for a in ctx.attachments)
    ctx.note(f"attachments: {kept} of {len(ctx.attachments)} kept")
    return None
