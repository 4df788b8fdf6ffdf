"""Builders for the attachment tests: real images made with Pillow, HTML mails with cid: images, a TNEF
container, hostile images (bombs by claimed size and by frame count, truncated data). Our own bytes only."""
from __future__ import annotations

import io
import struct
import zlib
from email.message import EmailMessage
from email.utils import make_msgid

from PIL import Image

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run"


def image(width: int, height: int, fmt: str = "PNG", color: tuple[int, int, int] = (200, 30, 30),
          orientation: int | None = None) -> bytes:
    img = Image.new("RGB", (width, height), color)
    img.putpixel((0, 0), (0, 0, 0))  # a marker that shows which corner ends up where
    out = io.BytesIO()
    extra = {}
    if orientation:
        exif = Image.Exif()
        exif[0x0112] = orientation
        exif[0x010F] = "SecretCam"  # Make: metadata that must not survive a resize
        extra["exif"] = exif.tobytes()
    img.save(out, format=fmt, **extra)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height (a decompression bomb by claimed size)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def gif_frames(count: int, size: tuple[int, int] = (200, 60)) -> bytes:
    """An animated GIF of `count` frames (a bomb by frame count when count is large)."""
    frames = [Image.new("P", size, i % 2) for i in range(count)]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=10, loop=0)
    return out.getvalue()


def tnef(files: list[tuple[str, bytes]]) -> bytes:
    """A minimal winmail.dat: signature, key, then per file the render, title and data attributes."""
    def attribute(level: int, name: int, kind: int, data: bytes) -> bytes:
        return struct.pack("<BHHI", level, name, kind, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)
    out = b"\x78\x9f\x3e\x22" + struct.pack("<H", 0x1234)
    out += attribute(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))  # TNEF version
    for name, data in files:
        out += attribute(2, 0x9002, 0x0006, b"\x01\x00" + b"\x00" * 12)
        out += attribute(2, 0x8010, 0x0001, name.encode() + b"\x00")
        out += attribute(2, 0x800F, 0x0006, data)
    return out


def html_mail(html: str, inline: list[tuple[str, str, str, bytes]] = (),
              attachments: list[tuple[str, str, bytes]] = (), subject: str = "Printer jams",
              sender: str = "Alice Martin <alice@acme.example>", message_id: str | None = None,
              in_reply_to: str | None = None) -> bytes:
    """text + HTML alternative, the HTML with related inline parts (cid, filename or "", type, bytes)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@example.test"
    msg["Subject"] = subject
    msg["Date"] = "Fri, 20 Nov 2026 09:30:00 +0000"
    msg["Message-ID"] = message_id or make_msgid(domain="acme.example")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content("See the HTML part.\n")
    msg.add_alternative(html, subtype="html")
    html_part = msg.get_payload()[1]
    for cid, filename, ctype, data in inline:
        main, _, sub = ctype.partition("/")
        html_part.add_related(data, maintype=main, subtype=sub, cid=f"<{cid}>",
                              **({"filename": filename} if filename else {}))
    for filename, ctype, data in attachments:
        main, _, sub = ctype.partition("/")
        msg.add_attachment(data, maintype=main, subtype=sub, filename=filename)
    return bytes(msg)
