"""Which attachments a ticket keeps, decided per file before anything is written.

In mail order, each parsed attachment gets one action:
- excluded: its declared or sniffed type is in exclude_attachment_types (decided by the parser);
- too_big: over attachment_maximum_size, or over attachments_maximum_total once the files before it are
  counted; the bytes go to big_files_dir (engine/big_files.py) and a warning file takes their place;
- dropped: an image smaller than images_minimum_size on either side (a signature logo);
- resized: an image bigger than images_maximum_size, scaled down (engine/images.py);
- duplicate: the same bytes (sha256) earlier in the same mail;
- keep: everything else, including images Pillow cannot read (kept as plain files, never dropped).
Images are judged on their real format and size read by Pillow under a budget, never on the label.
Dropped and not-stored inline images also lose their `<img src="cid:...">` in the stored HTML
(`unresolved_cids`), so no broken image is left behind. Whether the ticket already holds the same bytes
is engine/ticket_files.py's business (it needs the store).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from functools import cached_property

from . import images

STORED = ("keep", "resized")


@dataclass(frozen=True)
class KeptAttachment:
    """One attachment as the step decided it; `payload` is what would be stored (a resized image's new bytes)."""

    filename: str
    content_type: str
    payload: bytes
    inline: bool
    content_id: str
    action: str  # keep | resized | excluded | too_big | dropped | duplicate
    reason: str
    original_filename: str = ""
    declared_type: str = ""
    digest: str = ""  # sha256 of the payload as it came (before a resize)
    location: int | None = None  # the part's place in the raw mail while payload is its bytes (parse/locate.py)

    @property
    def size(self) -> int:
        return len(self.payload)

    @cached_property
    def sha256(self) -> str:
        """Of what is stored: the digest as it came unless the payload was replaced (a resized image)."""
        return self.digest if self.digest and self.action != "resized" else hashlib.sha256(self.payload).hexdigest()


@dataclass(frozen=True)
class Limits:
    """The engine settings the decisions read: image sizes (WxH) and byte caps."""

    minimum: tuple[int, int] | None = None
    maximum: tuple[int, int] | None = None
    per_file: int = 0  # bytes; 0 = no cap
    per_mail: int = 0


def _image_rules(kept: KeptAttachment, limits: Limits) -> KeptAttachment:
    info = images.inspect(kept.payload)
    if info is None:
        if kept.content_type.startswith("image/"):
            return replace(kept, reason=(kept.reason + "; " if kept.reason else "")
                           + "not an image Pillow could read safely: kept as a plain file")
        return kept
    size = f"{info.width}x{info.height}"
    if limits.minimum and (info.width < limits.minimum[0] or info.height < limits.minimum[1]):
        return replace(kept, action="dropped", reason=f"image {size} below images_minimum_size "
                       f"{limits.minimum[0]}x{limits.minimum[1]} (signature logo)")
    if limits.maximum and (info.width > limits.maximum[0] or info.height > limits.maximum[1]):
        smaller = images.shrink(kept.payload, info, limits.maximum)
        if smaller is None:
            return replace(kept, reason=f"image {size} over images_maximum_size but not resizable: kept as it came")
        return replace(kept, payload=smaller, content_type=images.FORMATS.get(info.format, kept.content_type),
                       location=None, action="resized",
                       reason=f"image {size} scaled to fit {limits.maximum[0]}x{limits.maximum[1]}")
    return kept


def filter_attachments(parsed_attachments, limits: Limits) -> list[KeptAttachment]:
    """Decide each attachment's fate; the order of the mail is kept."""
    result: list[KeptAttachment] = []
    seen: set[str] = set()
    total = 0
    for att in parsed_attachments:
        kept = KeptAttachment(att.filename, att.content_type, att.payload, att.inline, att.content_id or "",
                              att.action, att.reason, att.original_filename, att.declared_type or att.content_type,
                              att.sha256, att.location)
        if kept.action == "keep" and att.sha256 in seen:
            kept = replace(kept, action="duplicate", reason="the same content earlier in this mail")
        elif kept.action == "keep" and limits.per_file and att.size > limits.per_file:
            kept = replace(kept, action="too_big", reason=f"{att.size} bytes, over attachment_maximum_size")
        elif kept.action == "keep" and limits.per_mail and total + att.size > limits.per_mail:
            kept = replace(kept, action="too_big", reason=f"{att.size} bytes after {total} bytes of attachments, "
                                                          "over attachments_maximum_total")
        elif kept.action == "keep":
            kept = _image_rules(kept, limits)
        if kept.action in STORED:
            seen.add(att.sha256)
            total += kept.size
        result.append(kept)
    return result


def unresolved_cids(kept: list[KeptAttachment]) -> set[str]:
    """Content-IDs whose image will not be on the ticket (dropped, excluded, too big) and that no stored
    file of the mail carries either."""
    stored = {k.content_id for k in kept if k.action in STORED or k.action == "duplicate"}
    return {k.content_id for k in kept if k.content_id and k.action not in STORED and k.action != "duplicate"} - stored
