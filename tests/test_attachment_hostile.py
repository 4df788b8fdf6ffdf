"""Hostile attachments: decompression bombs (by claimed size, by frame count), truncated and fake images,
and 1,000 hostile file names. Each is kept as a plain file or dropped with a reason, never a crash; no file
is written outside the store and big_files_dir; no shown name carries a path, control or bidi character."""
from __future__ import annotations

import base64
import os
import random
import time
import unicodedata
from pathlib import Path
from urllib.parse import quote

from mailticket_tui.engine import images
from mailticket_tui.engine.attachments import Limits, filter_attachments
from mailticket_tui.engine.parse import parse_message
from mailticket_tui.store.models import Attachment, MailMessage, Ticket

from .attachment_fixtures import gif_frames, html_mail, image, png_claiming
from .test_attachment_rules import run

LIMITS = Limits(minimum=(100, 20), maximum=(800, 600))
HOSTILE_PARTS = ["../", "..\\", "/etc/passwd", "C:\\x", "\x00", "\u202e", "\u200f", "\u2066", "\x1b[2J", "\x9b",
                 "CON", "PRN.txt", ".", "..", " ", "\ufeff", "\n", "\r", "~", "%2e%2e%2f", "\u0085", "\U0001F600",
                 "a" * 300, "x.exe", ".jpg", "<>:\"|?*"]


def hostile_names(count: int) -> list[str]:
    rng = random.Random(13)
    return ["".join(rng.choice(HOSTILE_PARTS) for _ in range(rng.randint(1, 6))) for _ in range(count)]


def rfc2231_mail(files: list[tuple[str, str, bytes]]) -> bytes:
    """One part per file, each name RFC 2231-encoded (so NUL, CR, LF and bidi characters reach the parser)."""
    parts = [b"--b\r\nContent-Type: text/plain\r\n\r\nmany files\r\n"]
    for name, ctype, data in files:
        encoded = quote(name.encode("utf-8", "surrogatepass"), safe="").encode()
        parts.append(b"--b\r\nContent-Type: " + ctype.encode() + b"\r\nContent-Transfer-Encoding: base64\r\n"
                     b"Content-Disposition: attachment; filename*=utf-8''" + encoded + b"\r\n\r\n"
                     + base64.encodebytes(data) + b"\r\n")
    return (b"From: Alice <alice@acme.example>\r\nTo: support@example.test\r\nSubject: names\r\n"
            b"Message-ID: <names@acme.example>\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + b"".join(parts) + b"--b--\r\n")


def _decide(payload: bytes, ctype: str = "image/png"):
    raw = html_mail("<p>x</p>", attachments=[("pic.png", ctype, payload)])
    (att,) = parse_message(raw).attachments
    start = time.perf_counter()
    (kept,) = filter_attachments([att], LIMITS)
    return kept, time.perf_counter() - start


def test_bomb_by_claimed_size_is_kept_as_a_plain_file() -> None:
    bomb = png_claiming(20000, 20000)
    kept, seconds = _decide(bomb)
    assert kept.action == "keep" and kept.payload == bomb and "plain file" in kept.reason
    assert seconds < 1 and images.inspect(bomb) is None


def test_bomb_in_pillows_warning_band_is_refused() -> None:
    # 8000 x 6000 = 48M pixels: over our 40M budget, under Pillow's default error threshold
    assert images.inspect(png_claiming(8000, 6000)) is None
    assert images.inspect(png_claiming(6000, 6000)) is not None  # 36M: a real (if large) image


def test_bomb_by_frame_count_is_kept_as_a_plain_file() -> None:
    many = gif_frames(images.MAX_FRAMES + 50, size=(200, 60))
    kept, seconds = _decide(many, "image/gif")
    assert kept.action == "keep" and kept.payload == many and seconds < 5
    few = gif_frames(3, size=(1200, 900))
    kept, _ = _decide(few, "image/gif")
    assert kept.action == "keep" and "not resizable" in kept.reason  # animations are never re-encoded


def test_truncated_and_fake_images_are_kept_not_crashed() -> None:
    jpeg = image(1600, 1200, "JPEG")
    for payload in (jpeg[: len(jpeg) // 3], jpeg[:20], b"", b"GIF89a\xff\xff\xff\xff", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
                    b"not an image at all"):
        kept, _ = _decide(payload, "image/jpeg")
        assert kept.action == "keep" and kept.payload == payload


def test_hostile_images_through_a_whole_run(tmp_path, store_url, capsys) -> None:
    jpeg = image(1600, 1200, "JPEG")
    raw = html_mail("<p>bombs</p>", attachments=[
        ("bomb.png", "image/png", png_claiming(20000, 20000)), ("frames.gif", "image/gif", gif_frames(600)),
        ("cut.jpg", "image/jpeg", jpeg[: len(jpeg) // 2]), ("fake.png", "image/png", b"\x89PNG junk")])
    run(tmp_path, store_url, capsys, [raw], images_maximum_size="800x600")
    assert MailMessage.get().status == "processed"
    assert sorted(a.filename for a in Attachment.select()) == ["bomb.png", "cut.jpg", "fake.png", "frames.gif"]


def _files(root: Path) -> set[str]:
    return {os.path.join(d, f) for d, _dirs, names in os.walk(root) for f in names}


def test_thousand_hostile_names(tmp_path, store_url, capsys) -> None:
    names = hostile_names(1000)
    files = [(name, "application/octet-stream", f"file {i}".encode() + (b"#" * 3000 if i % 2 else b""))
             for i, name in enumerate(names)]
    raw = rfc2231_mail(files)
    outside = tmp_path / "outside"
    outside.mkdir()
    os.chdir(outside)  # a relative path in a name would land here
    before = _files(tmp_path)
    big_dir = tmp_path / "big"
    run(tmp_path, store_url, capsys, [raw], attachment_maximum_size="2K", big_files_dir=str(big_dir))
    assert MailMessage.get().status == "processed" and Ticket.select().count() == 1
    stored = [a.filename for a in Attachment.select()]
    assert len(stored) == 1000 and len({n.lower() for n in stored}) == 1000  # unique per ticket
    for name in stored:
        assert "/" not in name and "\\" not in name and not name.startswith(".") and name.strip() == name
        assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name), repr(name)
        assert len(name.encode()) <= 255 and name.split(".")[0].upper() not in ("CON", "PRN")
    written = _files(tmp_path) - before  # the test's own tree: cwd, Maildir, store, big_files_dir
    allowed = (str(big_dir) + os.sep, str(tmp_path / "store.db"), str(tmp_path / "Maildir"), str(tmp_path / "mailticket"))
    assert [p for p in written if not p.startswith(allowed)] == []
    assert list(outside.iterdir()) == []
    assert len(list(big_dir.iterdir())) == 500 and all(p.parent == big_dir for p in big_dir.iterdir())


def test_cid_scanning_is_linear_on_hostile_html() -> None:
    from mailticket_tui.engine.inline_parts import drop_cid_images, split_at_images

    for html in ("<img src=cid:" * 80_000, "<img " * 200_000, "<img" + " a=b" * 300_000 + ">"):
        start = time.perf_counter()
        assert drop_cid_images(html, {"x"}) == html
        split_at_images(html)
        assert time.perf_counter() - start < 5
    assert drop_cid_images('<p>a<IMG alt="l" src="cid:x%40y">b<img src="cid:z"></p>', {"x@y"}) == \
        '<p>ab<img src="cid:z"></p>'
