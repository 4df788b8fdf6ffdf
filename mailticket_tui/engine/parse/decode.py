"""Content-Transfer-Encoding and charset decoding of one leaf part, tolerant of what real mail does wrong.

base64 with junk characters or bad padding, quoted-printable with stray '=', uuencode, unknown or
misspelt encodings, a base64 label on plain text: each gives best-effort bytes and a defect, never an
exception. Text parts then go through charsets.decode_text and lose NUL bytes and Outlook's stray NBSPs.
"""
from __future__ import annotations

import base64
import binascii

from .charsets import decode_text
from .headers import strip_controls
from .mime import MimeNode

_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_B64_WS = b" \t\r\n\x0b\x0c"
_NOT_B64 = bytes(b for b in range(256) if b not in _B64_ALPHABET)  # bytes.translate: C speed, no regex


def _b64(body: bytes, defects: list[str]) -> bytes:
    junk = len(body.translate(None, _B64_ALPHABET + _B64_WS))
    clean = body.translate(None, _NOT_B64)
    if junk:
        if junk * 4 > len(clean) + junk:
            # Far too much non-base64: the label lies, the content is plain.
            defects.append("Content-Transfer-Encoding base64 on non-base64 content: used as is")
            return body
        defects.append("InvalidBase64CharactersDefect: invalid characters in base64 content skipped")
    clean = clean.replace(b"=", b"") if b"=" in clean[:-2] else clean.rstrip(b"=")
    if len(clean) % 4 == 1:
        defects.append("InvalidBase64LengthDefect: truncated base64 content, last character dropped")
        clean = clean[:-1]
    try:
        return base64.b64decode(clean + b"=" * (-len(clean) % 4))
    except (binascii.Error, ValueError):
        defects.append("undecodable base64 content: used as is")
        return body


def _uu(body: bytes, defects: list[str]) -> bytes:
    out = bytearray()
    started = False
    for line in body.splitlines():
        if not started:
            started = line.startswith(b"begin ")
            continue
        if line.strip() in (b"end", b"`"):
            break
        try:
            out.extend(binascii.a2b_uu(line))
        except binascii.Error:
            defects.append("bad uuencoded line skipped")
    return bytes(out) if started else body


_SAMPLE = 65536


def _b64_clean(view: memoryview) -> bytes | None:
    """Fast path for well-formed base64 (the big attachments): decoded straight from the shared buffer, no
    copy of the encoded text. None when the content looks unusual, for _b64 to handle with its defects."""
    sample = bytes(view[:_SAMPLE])
    tail = bytes(view[-_SAMPLE:]).rstrip(_B64_WS)
    if sample.translate(None, _B64_ALPHABET + _B64_WS) or b"=" in tail.rstrip(b"=") or b"=" in sample[:-2]:
        return None
    try:
        return binascii.a2b_base64(view)  # skips the line breaks; raises on bad padding or length
    except (binascii.Error, ValueError):
        return None


def transfer_decode(node: MimeNode, defects: list[str]) -> bytes:
    """The part's payload bytes. Text-ish encodings get transport line ends canonicalised to LF."""
    cte = (node.header("content-transfer-encoding") or "").strip().lower().strip('"')
    if "64" in cte:
        if cte != "base64":
            defects.append(f"Content-Transfer-Encoding {cte[:30]!r} read as base64")
        end = len(node.data) if node.body_end is None else node.body_end
        view = memoryview(node.data)[node.body_start:max(end, node.body_start)]
        decoded = _b64_clean(view) if len(view) > _SAMPLE else None
        return decoded if decoded is not None else _b64(node.body, defects)
    body = node.body
    if "quoted" in cte or cte == "qp":
        body = body.replace(b"\r\n", b"\n")
        try:
            return binascii.a2b_qp(body)
        except (binascii.Error, ValueError):
            defects.append("undecodable quoted-printable content: used as is")
            return body
    if "uue" in cte:
        return _uu(body, defects)
    if cte not in ("", "7bit", "8bit", "binary", "7-bit", "8-bit"):
        defects.append(f"unknown Content-Transfer-Encoding {cte[:30]!r}: used as is")
    return body


def clean_text(text: str) -> str:
    """Remove NUL and control bytes; Outlook's stray NBSP and zero-width joiners become plain spaces."""
    text = strip_controls(text)
    if "\u00a0" in text or "\u202f" in text:
        text = text.replace("\u00a0", " ").replace("\u202f", " ")
    return text


def text_of(node: MimeNode, defects: list[str], normalise_newlines: bool = True) -> str:
    """Decoded text of a text/* leaf. base64 payload bytes are kept as written unless normalise_newlines."""
    payload = transfer_decode(node, defects)
    text = decode_text(payload, node.params.get("charset"), defects)
    text = strip_controls(text)
    if normalise_newlines:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    elif "64" not in (node.header("content-transfer-encoding") or ""):
        text = text.replace("\r\n", "\n")
    return text
