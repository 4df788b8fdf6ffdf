"""Mutation fuzzing kept as a test: corpus and generated mails with flipped bytes, cut tails, duplicated
boundaries and headers never make parse_message raise, hang, or lose its defects list."""
from __future__ import annotations

import random
import time

import pytest

from mailticket_tui.engine.parse import parse_message
from tests.parse_corpus import CORPUS

from .mailgen import make_mail


def seeds() -> list[bytes]:
    found = [p.read_bytes() for p in sorted((CORPUS / "emails").glob("*.eml"))][:60]
    found.append(make_mail(subject="seed", html="<p>hi</p>", attachments=[("a.pdf", "application/pdf", b"%PDF-1.4")]))
    return found


def mutate(raw: bytes, rng: random.Random) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 4)):
        choice = rng.random()
        if not data:
            break
        at = rng.randrange(len(data))
        if choice < 0.35:
            data[at] = rng.randrange(256)
        elif choice < 0.55:
            del data[at:]
        elif choice < 0.75:
            data[at:at] = rng.choice([b"\r\n--", b"\n\n", b"=?utf-8?b?", b"\x00", b"Content-Type: multipart/mixed; boundary=x\n"])
        else:
            span = data[at:at + rng.randint(1, 400)]
            data[at:at] = span * rng.randint(2, 20)
    return bytes(data)


@pytest.mark.timeout(120)
def test_mutated_mail_never_raises_or_hangs() -> None:
    rng = random.Random(20261127)
    base = seeds()
    slowest = 0.0
    for round_ in range(1500):
        raw = mutate(rng.choice(base), rng)
        started = time.perf_counter()
        parsed = parse_message(raw)
        slowest = max(slowest, time.perf_counter() - started)
        assert isinstance(parsed.defects, tuple) and isinstance(parsed.subject, str), round_
        assert "\n" not in parsed.subject and "\r" not in parsed.subject
        assert all("/" not in a.filename and "\x00" not in a.filename for a in parsed.attachments)
    assert slowest < 5.0, f"slowest mutated mail took {slowest:.2f} s"
