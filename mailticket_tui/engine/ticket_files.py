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

import hashlib
import re
from dataclasses import dataclass, field
from typing import Callable

from ..store.blobs import read_blob
from ..store.models import Attachment, Ticket
from . import big_files
from .attachments import STORED, KeptAttachment
from .parse.locate import part_payload
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
    if row.id is not None:  # a file of an earlier mail; this mail's own rows are written with the alias
        row.save(only=[Attachment.content_id_aliases])


def _row(ticket: Ticket, name: str, kept: KeptAttachment, data: bytes, content_type: str, message) -> Attachment:
    """One unsaved attachment row. A part of the mail as it came points into the mail's raw blob (stored
    once); anything else (a resized image, a warning file, a file unpacked from TNEF) gets a blob of its own."""
    digest = kept.sha256
    raw_digest = getattr(message, "raw_id", None)
    if kept.location is not None and raw_digest and kept.action == "keep":
        blob, part = raw_digest, str(kept.location)
    else:
        blob, part = store_blob(data, digest), ""
    return Attachment(ticket=ticket, filename=name, content_type=content_type, size=len(data),
                      blob=blob, part=part, digest=digest, inline=kept.inline, content_id=kept.content_id,
                      original_filename=kept.original_filename[:255], declared_type=kept.declared_type[:255],
                      content_id_aliases="")


class AttachmentUnreadable(Exception):
    """An attachment's bytes cannot be read back as they were stored."""


def attachment_bytes(row: Attachment) -> bytes:
    """The file's bytes: its own blob, or its part decoded again from the raw mail, checked against the
    digest taken at intake."""
    stored = read_blob(row.blob_id)
    if stored is None:
        raise AttachmentUnreadable(f"attachment #{row.id} {row.filename!r}: its stored bytes are missing")
    if not row.part:
        return stored
    for padding_ends in (True, False):  # False: base64 decoded past a padding, as earlier releases stored it
        data = part_payload(stored, int(row.part), padding_ends)
        if data is not None and hashlib.sha256(data).hexdigest() == row.digest:
            return data
    raise AttachmentUnreadable(f"attachment #{row.id} {row.filename!r}: the part read back from its mail "
                               "does not match what was received")


@dataclass
class FilesPlan:
    """What attach_files decided: the new rows (unsaved: written with the mail's record) and whether the
    ticket's attachments changed."""

    rows: list[Attachment] = field(default_factory=list)
    changed: bool = False


def attach_files(ticket: Ticket, files: list[KeptAttachment], big_files_dir: str, message=None,
                 note: Callable[[str], None] = lambda line: None, new_ticket: bool = False) -> FilesPlan:
    """Decide the rows for the files the attachments step kept (their bytes are stored now, the rows come
    back unsaved). A ticket created by this mail has no files yet: nothing to read."""
    plan = FilesPlan()
    if not files:
        return plan  # most mail: no query
    rows = [] if new_ticket else list(Attachment.select().where(Attachment.ticket == ticket).order_by(Attachment.id))
    by_sha = {row.digest or row.blob_id: row for row in rows}
    by_digest: dict[str, Attachment] = {}  # this mail's parts by their bytes as they came (before a resize)
    taken = {row.filename.lower() for row in rows}
    not_kept = []
    for kept in files:
        if kept.action in STORED or kept.action == "duplicate":
            known = by_digest.get(kept.digest) or by_sha.get(kept.sha256)
            if known is not None:
                _add_alias(known, kept.content_id)
                by_digest[kept.digest] = known
                note(f"attachment: {kept.filename!r} already on {ticket.ref} as {known.filename!r}; not added again")
                continue
            row = _row(ticket, unique_name(kept.filename, taken), kept, kept.payload, kept.content_type, message)
            by_sha[row.digest] = by_digest[kept.digest] = row
            plan.rows.append(row)
        elif kept.action == "too_big":
            path, problem = big_files.save(big_files_dir, kept.digest, kept.filename, kept.payload)
            text = big_files.warning_text(kept.filename, kept.size, kept.content_type, kept.reason, path, problem)
            warning = KeptAttachment(f"warning-{kept.filename}.txt", "text/plain", text.encode(), False, "", "keep",
                                     "", "", "text/plain")
            plan.rows.append(_row(ticket, unique_name(warning.filename, taken), warning, warning.payload,
                                  "text/plain", message))
            note(f"attachment: {kept.filename!r} too big: " + (f"saved to {path}" if path else f"not saved ({problem})"))
            not_kept.append(f"{kept.filename} ({kept.size} bytes): {kept.reason}; "
                            + (f"saved to {path}" if path else f"not saved: {problem}"))
        elif kept.action == "excluded":
            shown = kept.content_type + (f", declared {kept.declared_type}" if kept.declared_type != kept.content_type else "")
            not_kept.append(f"{kept.filename} ({shown}): {kept.reason}")
    plan.changed = bool(plan.rows)
    if not_kept:
        items = "".join(f"<li>{_escape(line)}</li>" for line in not_kept)
        add_log_entry(ticket, "private_log", AUTHOR, "", f"<p>Attachments not kept from this mail:</p><ul>{items}</ul>",
                      getattr(message, "message_id", "") or "")
    return plan


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
