"""Attachment naming and typing: safe display names, content sniffing, exclusion by type.

A name from a mail is never a path: separators, drive letters, control and bidi characters, leading dots
and Windows device names are removed, length is capped keeping the extension, and an empty result gets a
generated `attachment-N.ext`. Files are stored by hash elsewhere (engine/attachments.py), never by name.
"""
from __future__ import annotations

import hashlib
import mimetypes
import re
import unicodedata

from . import limits
from .model import ParsedAttachment

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff<>:\"|?*]")
_DEVICES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
_SNIFF = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"PK\x03\x04", "application/zip"),
    (b"MZ", "application/x-msdownload"),
    (b"\x7fELF", "application/x-executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (b"\x78\x9f\x3e\x22", "application/ms-tnef"),
    (b"BM", "image/bmp"),
)
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


def safe_filename(name: str, index: int, content_type: str) -> str:
    """A display-safe file name; falls back to attachment-<index><ext>."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"^[A-Za-z]:", "", name)
    name = _UNSAFE.sub("", name).strip().lstrip(". ").rstrip(". ")
    stem, dot, ext = name.rpartition(".")
    if (stem if dot else name).lower() in _DEVICES:
        name = f"_{name}"
    if len(name) > limits.MAX_FILENAME:
        ext = f".{ext[:20]}" if dot and len(ext) <= 20 else ""
        name = name[: limits.MAX_FILENAME - len(ext)].rstrip() + ext
    if not name:
        ext = _EXT_FOR.get(content_type) or mimetypes.guess_extension(content_type, strict=False) or ".bin"
        name = f"attachment-{index}{ext}"
    return name


def sniff_type(payload: bytes, declared: str) -> str:
    """The real type when magic bytes contradict the declared one (e.g. an .exe sent as image/png)."""
    head = payload[:16]
    for magic, kind in _SNIFF:
        if head.startswith(magic):
            if kind == declared or (kind == "application/zip" and declared.endswith(("+zip", "openxmlformats"))):
                return declared
            if kind == "application/zip" and ("officedocument" in declared or "opendocument" in declared):
                return declared
            if kind == "image/bmp" and not declared.startswith("image/"):
                return declared  # "BM" is too short a magic to overrule a non-image label
            if kind == "application/x-ole-storage" and declared.startswith(("application/", "image/")):
                return declared  # .doc/.xls/.msg are OLE; keep the specific label
            if kind == "application/x-msdownload" and declared.startswith("text/"):
                return declared
            return kind
    return declared


def make_attachment(
    payload: bytes,
    original: str,
    content_type: str,
    index: int,
    inline: bool,
    content_id: str | None,
    excluded_types: tuple[str, ...],
) -> ParsedAttachment:
    """Build one ParsedAttachment; action 'excluded' when its (declared or sniffed) type is excluded."""
    declared = content_type
    real = sniff_type(payload, declared)
    filename = safe_filename(original, index, real)
    excluded = {t.strip().lower() for t in excluded_types}
    action, reason = "keep", ""
    hit = declared.lower() in excluded and declared or real.lower() in excluded and real
    if hit:
        action, reason = "excluded", f"type {hit} is in exclude_attachment_types"
    elif real != declared:
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
    )
