"""Pillow under a budget: read an image's real size, shrink a big one. Image headers are hostile input.

Pillow's own guard (MAX_IMAGE_PIXELS, 89M by default) only warns below twice its limit; it is lowered here
for the whole process (the TUI's image widget decodes through Pillow too), DecompressionBombWarning is
turned into an error, and every open checks the pixel count itself. Frames are counted up to a cap (an animated GIF of 10,000 frames
is a bomb by frame count). Anything Pillow cannot read safely gives None: the caller keeps the bytes as a
plain file, never drops them silently and never crashes on them.
"""
from __future__ import annotations

import io
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from PIL import Image, ImageOps

MAX_PIXELS = 40_000_000  # per frame; a 97-byte PNG claiming 20000x20000 is refused at open()
MAX_FRAMES = 500
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# Process-wide and once (warnings.catch_warnings is not thread-safe, and the TUI decodes in threads);
# the explicit pixel check in _guarded refuses the same images even where a test runner resets filters.
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp", "BMP": "image/bmp"}
_KEEP_INFO = ("transparency",)  # what a resized image keeps of its metadata: nothing but its transparency


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int
    frames: int


@contextmanager
def _guarded(payload: bytes) -> Iterator[Image.Image]:
    with Image.open(io.BytesIO(payload), formats=list(FORMATS)) as img:
        if img.width * img.height > MAX_PIXELS or img.width <= 0 or img.height <= 0:
            raise Image.DecompressionBombError(f"{img.width}x{img.height} is over {MAX_PIXELS} pixels")
        yield img


def _frames(img: Image.Image) -> int:
    """Frames up to MAX_FRAMES + 1 (seeking stops there, whatever the file claims)."""
    if not getattr(img, "is_animated", False):
        return 1
    count = 1
    try:
        while count <= MAX_FRAMES:
            img.seek(count)
            count += 1
    except EOFError:
        pass
    img.seek(0)
    return count


def inspect(payload: bytes) -> ImageInfo | None:
    """Format, size and frame count, or None for a broken, unsupported or over-budget image."""
    try:
        with _guarded(payload) as img:
            frames = _frames(img)
            if frames > MAX_FRAMES:
                return None
            return ImageInfo(img.format or "", img.width, img.height, frames)
    except Exception:  # noqa: BLE001 - OSError, SyntaxError, struct.error, bomb errors...: a file, not an image
        return None


def shrink(payload: bytes, info: ImageInfo, box: tuple[int, int]) -> bytes | None:
    """The image scaled to fit `box` (aspect kept), EXIF orientation applied, metadata stripped, same format.
    None when it cannot be done safely (truncated data, an animation: those stay as they came)."""
    if info.frames > 1:
        return None
    try:
        with _guarded(payload) as img:
            img.load()
            upright = ImageOps.exif_transpose(img)
            upright.thumbnail(box)
            upright.info = {k: v for k, v in upright.info.items() if k in _KEEP_INFO}
            out = io.BytesIO()
            options = {"quality": 85} if info.format == "JPEG" else {}
            upright.save(out, format=info.format, **options)
            return out.getvalue()
    except Exception:  # noqa: BLE001 - a truncated or hostile image is kept as the sender sent it
        return None


def preview(payload: bytes, box: tuple[int, int]) -> tuple[ImageInfo, Image.Image] | None:
    """A decoded copy for display (first frame, upright, RGB or RGBA, at most `box`), with the original's
    info; None for anything inspect() refuses or Pillow cannot decode."""
    info = inspect(payload)
    if info is None:
        return None
    try:
        with _guarded(payload) as img:
            img.seek(0)
            img.load()
            upright = ImageOps.exif_transpose(img)
            upright.thumbnail(box)
            return info, upright.convert("RGBA" if "A" in upright.getbands() or "transparency" in upright.info
                                         else "RGB")
    except Exception:  # noqa: BLE001 - a broken image is shown as its placeholder line
        return None
