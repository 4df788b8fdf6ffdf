"""The stdlib as an oracle: on well-formed mail (no defects seen by `email` with policy.default), our
parser agrees with it on subject, sender, Message-ID, date and the text of a plain single-part body.
Our own MIME scanner exists for what the stdlib cannot take (depth, part counts, damaged boundaries);
on everything else it must read the same thing."""
from __future__ import annotations

import email
import email.policy
import email.utils

import pytest

from mailticket_tui.engine.parse import parse_message
from tests.parse_corpus import CORPUS

from .mailgen import make_mail


def samples() -> list[tuple[str, bytes]]:
    found = [(p.name, p.read_bytes()) for p in sorted((CORPUS / "emails").glob("*.eml"))]
    found += [(f"generated-{i}", make_mail(subject=s, sender=f, body=b)) for i, (s, f, b) in enumerate([
        ("Réunion à 10h — ordre du jour", "Élodie Dupré <elodie@exemple.fr>", "Bonjour,\n\nÀ demain.\n"),
        ("日本語の件名", "山田 太郎 <taro@example.jp>", "よろしくお願いします。\n"),
        ("Emoji 😀 subject", "\"Doe, John\" <john@example.com>", "Line\n"),
    ])]
    return found


def oracle(raw: bytes):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if msg.defects or any(part.defects for part in msg.walk()):
        return None
    try:
        subject = str(msg["subject"] or "")
        raw_from = str(email.message_from_bytes(raw, policy=email.policy.compat32)["from"] or "")  # as written
        sender = email.utils.parseaddr(raw_from)[1]
        if "@" not in sender or "@" in raw_from.split("<")[0] and "<" in raw_from:
            sender = ""  # not an address, or the CVE-2023-27043 shape where the stdlib picks the wrong one
        body = msg.get_content() if not msg.is_multipart() and msg.get_content_type() == "text/plain" else None
    except (LookupError, ValueError, TypeError, AttributeError):
        return None
    if "\ufffd" in subject:
        return None
    return msg, subject, sender, body


def well_formed() -> list[tuple[str, bytes]]:
    """Only mail the stdlib reads without a defect can serve as an oracle."""
    return [(name, raw) for name, raw in samples() if oracle(raw) is not None]


@pytest.mark.parametrize(("name", "raw"), well_formed(), ids=[n for n, _ in well_formed()])
def test_agrees_with_the_stdlib_on_well_formed_mail(name: str, raw: bytes) -> None:
    msg, subject, sender, body = oracle(raw)
    ours = parse_message(raw)
    assert " ".join(ours.subject.split()) == " ".join(subject.split())
    if sender:
        assert ours.from_ is not None and ours.from_.email.lower() == sender.lower()
    if msg["message-id"]:
        assert ours.message_id == str(msg["message-id"]).strip().strip("<>")
    if msg["date"]:
        try:
            expected = email.utils.parsedate_to_datetime(str(msg["date"]))
        except (TypeError, ValueError):
            expected = None
        if expected is not None and expected.tzinfo is not None:
            assert ours.date == expected
    if body is not None:
        assert " ".join(ours.text_plain.split()) == " ".join(body.split())
