"""Which attachments a ticket keeps: excluded types (decided by the parser), signature-logo images below
images_minimum_size, and images above images_maximum_size scaled down.

Image headers are never trusted: Pillow reads them under a pixel budget, and anything it cannot read
safely is kept as an ordinary file (never dropped silently, never decoded without a bound).
"""
from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass, replace

from PIL import Image

MAX_PIXELS = 40_000_000  # a decompression bomb claims more; it is kept as a file, not decoded
_RESIZABLE = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif"}


@dataclass(frozen=True)
class KeptAttachment:
    filename: str
    content_type: str
    payload: bytes
    inline: bool
    content_id: str
    action: str  # keep | excluded | dropped | resized
    reason: str

    @property
    def size(self) -> int:
        return len(self.payload)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.payload).hexdigest()


def _image_size(payload: bytes) -> tuple[str, tuple[int, int]] | None:
    """(format, (w, h)) read from the header only, or None when it is not an image Pillow trusts."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(payload)) as img:
                if img.format not in _RESIZABLE or img.width * img.height > MAX_PIXELS:
                    return None
                return img.format, img.size
    except Exception:  # noqa: BLE001 - any unreadable image is just a file
        return None


def _shrink(payload: bytes, fmt: str, box: tuple[int, int]) -> bytes | None:
    try:
        with Image.open(io.BytesIO(payload)) as img:
            img.thumbnail(box)
            out = io.BytesIO()
            img.save(out, format=fmt)
            return out.getvalue()
    except Exception:  # noqa: BLE001 - a truncated image stays as it came
        return None


def filter_attachments(parsed_attachments, minimum: tuple[int, int] | None,
                       maximum: tuple[int, int] | None) -> list[KeptAttachment]:
    """Decide each attachment's fate; the order of the mail is kept."""
    result = []
    for att in parsed_attachments:
        kept = KeptAttachment(att.filename, att.content_type, att.payload, att.inline, att.content_id or "",
                              att.action, att.reason)
        if att.action != "keep":
            result.append(kept)
            continue
        probe = _image_size(att.payload) if att.content_type.startswith("image/") or att.inline else None
        if probe:
            fmt, (width, height) = probe
            if minimum and (width < minimum[0] or height < minimum[1]):
                kept = replace(kept, action="dropped", reason=f"image {width}x{height} below images_minimum_size")
            elif maximum and (width > maximum[0] or height > maximum[1]):
                smaller = _shrink(att.payload, fmt, maximum)
                if smaller is not None:
                    kept = replace(kept, payload=smaller, content_type=_RESIZABLE[fmt], action="resized",
                                   reason=f"image {width}x{height} scaled to fit {maximum[0]}x{maximum[1]}")
        result.append(kept)
    return result
