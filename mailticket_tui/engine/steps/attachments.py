"""The attachments step: decide each file's fate (engine/attachments.py), apply the inbox's choice for
excluded types (drop the file, or set the whole mail aside), and take the `<img src="cid:...">` of images
that will not be on the ticket out of the HTML that will be stored. Writes nothing (apply.py stores).
"""
from __future__ import annotations

from dataclasses import replace

from ..attachments import STORED, Limits, filter_attachments, unresolved_cids
from ..inline_parts import drop_cid_images
from .context import Context, Outcome



def check_attachments(ctx: Context) -> Outcome | None:
    engine = ctx.settings.engine
    limits = Limits(engine.images_minimum_size or None, engine.images_maximum_size or None,
                    int(engine.attachment_maximum_size), int(engine.attachments_maximum_total))
    ctx.attachments = filter_attachments(ctx.parsed.attachments, limits)
    for att in ctx.attachments:
        if att.action != "keep" or att.reason:
            ctx.note(f"attachment: {att.filename!r} {att.action}" + (f": {att.reason}" if att.reason else ""))
    excluded = [a for a in ctx.attachments if a.action == "excluded"]
    if excluded and ctx.inbox.excluded_attachment_behavior == "set_aside":
        first = excluded[0]
        return Outcome("reject", "error", f"attachment {first.filename!r} ({first.content_type}) is of an excluded "
                       "type: mail set aside (excluded_attachment_behavior = set_aside)")
    cids = unresolved_cids(ctx.attachments)
    if cids:
        parsed = ctx.parsed
        ctx.parsed = replace(parsed, body_html=drop_cid_images(parsed.body_html, cids),
                             new_part_given=replace(parsed.new_part, html=drop_cid_images(parsed.new_part.html, cids)))
        ctx.note(f"attachments: {len(cids)} inline image(s) not kept; their <img> removed from the stored HTML")
    kept = sum(a.action in STORED for a in ctx.attachments)
    ctx.note(f"attachments: {kept} of {len(ctx.attachments)} kept")
    return None
