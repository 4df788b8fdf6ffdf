"""Attachment naming and typing: safe display names, content sniffing (sniff.py), exclusion by type.

A name from a mail is never a path: separators, drive letters, control and bidi characters, leading dots
and Windows device names are removed, length is capped keeping the extension, and an empty result gets a
generated name as the reference makes them, `image001.png`, `application002.pdf` (numbered per main type
within the mail; engine/ticket_files.py keeps names unique per ticket). The original name is kept apart.
Files are stored by hash (the Blob table), never by name.
"""
from __future__ import annotations

import hashlib
import mimetypes
import re
import unicodedata

from . import limits
from .model import ParsedAttachment
from .sniff import canonical, real_type, type_matches

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff<>:\"|?*]")
_DEVICES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}  # controls, bidi and zero-width format characters, surrogates
_MAX_BYTES = 255
_EXT_FOR = {
    "message/rfc822": ".eml",
    "message/global": ".eml",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
    "application/ms-tnef": ".dat",
    "application/pkcs7-mime": ".p7m",
    "application/pkcs7-signature": ".p7s",
    "application/pgp-signature": ".asc",
    "image/jpeg": ".jpg",
}


def generated_name(index: int, content_type: str) -> str:
    """`image001.png`: the main type, a three-digit number, the subtype's usual extension."""
    main = re.sub(r"[^a-z0-9]", "", content_type.split("/", 1)[0].lower())[:20] or "file"
    ext = _EXT_FOR.get(content_type) or mimetypes.guess_extension(content_type, strict=False) or ".bin"
    return f"{main}{index:03d}{ext}"


def safe_filename(name: str, index: int, content_type: str) -> str:
    """A display-safe file name; falls back to generated_name(index, content_type)."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"^[A-Za-z]:", "", name)
    name = _UNSAFE.sub("", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _INVISIBLE).strip().lstrip(". ").rstrip(". ")
    stem, dot, ext = name.rpartition(".")
    if name.split(".", 1)[0].strip().lower() in _DEVICES:  # Windows reserves "PRN.anything" too
        name = f"_{name}"
    suffix = f".{ext}" if dot and stem and len(ext) <= 20 else ""
    while len(name) > limits.MAX_FILENAME or len(name.encode("utf-8")) > _MAX_BYTES:
        # 180 four-byte characters would not fit a file system's 255 bytes either; the extension stays
        name = name[: min(len(name) - 1, limits.MAX_FILENAME) - len(suffix)].rstrip() + suffix
    return name or generated_name(index, content_type)


def make_attachment(
    payload: bytes,
    original: str,
    content_type: str,
    index: int,
    inline: bool,
    content_id: str | None,
    excluded_types: tuple[str, ...],
    location: int | None = None,
) -> ParsedAttachment:
    """Build one ParsedAttachment; action 'excluded' when its declared or sniffed type is excluded.
    `index` numbers a generated name (unnamed parts); `location` finds the part in the raw mail again."""
    declared = content_type
    real = real_type(payload, declared)
    filename = safe_filename(original, index, real)
    action, reason = "keep", ""
    hit = type_matches(excluded_types, declared, real)
    if hit:
        action, reason = "excluded", f"type {hit} is in exclude_attachment_types"
    elif real != canonical(declared):
        reason = f"declared {declared}, content is {real}"
    return ParsedAttachment(
        filename=filename,
        original_filename=original,
        content_type=real,
        size=len(payload),
        payload=payload,
        inline=inline,
        content_id=content_id,
        sha256=hashlib.sha256(payload).hexdigest(),
        action=action,
        reason=reason,
        declared_type=declared,
        location=location,
    )
