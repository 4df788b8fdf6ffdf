"""A mail's attachments onto its ticket, inside the caller's transaction: each file once per ticket.

- The same bytes (sha256 of what is stored) already on the ticket, from an earlier mail or earlier in this
  one, add no row: the existing row gains the part's Content-ID as an alias, so `cid:` images of the new
  mail still resolve (the reference compares name, type, size and MD5 and only on updates; a renamed
  signature logo was stored again).
- Display names are unique per ticket: a generated `image001.png` takes the next free number
  (`image002.png`), any other name gets ` (2)`, ` (3)` before its extension. The original name is kept.
- Files over the size caps go to big_files_dir (big_files.py) and a `warning-<name>.txt` takes their place.
- Files not kept (excluded types, too big) are listed in one private case-log note, so the agent reading
  the ticket learns what the caller sent without reading the trace.
"""
from __future__ import annotations

import re
from typing import Callable

from ..store.models import Attachment, Ticket
from . import big_files
from .attachments import STORED, KeptAttachment
from .tickets import add_log_entry, store_blob

AUTHOR = "MailTicket"
_GENERATED = re.compile(r"^(?P<stem>[a-z]+)(?P<num>\d{3,})(?P<ext>\.[A-Za-z0-9]{1,20})?$")


def unique_name(name: str, taken: set[str]) -> str:
    """`name`, or the first free variant of it; `taken` holds lower-cased names and is updated."""
    candidate, n = name, 1
    generated = _GENERATED.match(name)
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    while candidate.lower() in taken:
        n += 1
        if generated:
            num = int(generated["num"]) + n - 1
            candidate = f"{generated['stem']}{num:03d}{generated['ext'] or ''}"
        else:
            candidate = f"{stem} ({n}).{ext}" if ext else f"{stem} ({n})"
    taken.add(candidate.lower())
    return candidate


def _add_alias(row: Attachment, cid: str) -> None:
    if not cid or cid == row.content_id or cid in row.content_id_aliases.split():
        return
    row.content_id_aliases = (row.content_id_aliases + " " + cid).strip()
    row.save(only=[Attachment.content_id_aliases])


def _insert(ticket: Ticket, name: str, kept: KeptAttachment, data: bytes, content_type: str, message) -> Attachment:
    row = Attachment(ticket=ticket, filename=name, content_type=content_type, size=len(data),
                     blob=store_blob(data), inline=kept.inline, content_id=kept.content_id,
                     original_filename=kept.original_filename[:255], declared_type=kept.declared_type[:255],
                     content_id_aliases="", message=message)
    row.save(force_insert=True)
    return row


def attach_files(ticket: Ticket, files: list[KeptAttachment], big_files_dir: str, message=None,
                 note: Callable[[str], None] = lambda line: None) -> bool:
    """Store the files the attachments step kept; True when the ticket's attachments changed."""
    if not files:
        return False  # most mail: no query
    rows = list(Attachment.select().where(Attachment.ticket == ticket).order_by(Attachment.id))
    by_sha = {row.blob_id: row for row in rows}
    by_digest: dict[str, Attachment] = {}  # this mail's parts by their bytes as they came (before a resize)
    taken = {row.filename.lower() for row in rows}
    changed, not_kept = False, []
    for kept in files:
        if kept.action in STORED or kept.action == "duplicate":
            known = by_digest.get(kept.digest) or by_sha.get(kept.sha256)
            if known is not None:
                _add_alias(known, kept.content_id)
                by_digest[kept.digest] = known
                note(f"attachment: {kept.filename!r} already on {ticket.ref} as {known.filename!r}; not added again")
                continue
            row = _insert(ticket, unique_name(kept.filename, taken), kept, kept.payload, kept.content_type, message)
            by_sha[row.blob_id] = by_digest[kept.digest] = row
            changed = True
        elif kept.action == "too_big":
            path, problem = big_files.save(big_files_dir, kept.digest, kept.filename, kept.payload)
            text = big_files.warning_text(kept.filename, kept.size, kept.content_type, kept.reason, path, problem)
            warning = KeptAttachment(f"warning-{kept.filename}.txt", "text/plain", text.encode(), False, "", "keep",
                                     "", "", "text/plain")
            _insert(ticket, unique_name(warning.filename, taken), warning, warning.payload, "text/plain", message)
            note(f"attachment: {kept.filename!r} too big: " + (f"saved to {path}" if path else f"not saved ({problem})"))
            not_kept.append(f"{kept.filename} ({kept.size} bytes): {kept.reason}; "
                            + (f"saved to {path}" if path else f"not saved: {problem}"))
            changed = True
        elif kept.action == "excluded":
            shown = kept.content_type + (f", declared {kept.declared_type}" if kept.declared_type != kept.content_type else "")
            not_kept.append(f"{kept.filename} ({shown}): {kept.reason}")
    if not_kept:
        items = "".join(f"<li>{_escape(line)}</li>" for line in not_kept)
        add_log_entry(ticket, "private_log", AUTHOR, "", f"<p>Attachments not kept from this mail:</p><ul>{items}</ul>",
                      getattr(message, "message_id", "") or "")
    return changed


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
