"""Bytes -> str for mail: declared charset first, with fallbacks when the declaration is missing or lies.

Never raises. Python codecs that are not text encodings (rot13, base64, zlib, hex...) are refused, since a
hostile Content-Type may name them; unknown names fall back to UTF-8 / charset-normalizer / cp1252.
"""
from __future__ import annotations

import codecs
from functools import lru_cache

# Names mail software writes that Python does not know, or knows under another (often narrower) name.
_ALIASES = {
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "x-sjis": "cp932",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-mac-roman": "mac-roman",
    "macintosh": "mac-roman",
    "iso-8859-1": "cp1252",  # what senders mean by latin-1 in practice (C1 range is cp1252)
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
    "x-user-defined": "cp1252",
    "ascii-8bit": "cp1252",
    "136": "big5",  # Outlook code page numbers seen in the wild
    "big5-hkscs": "big5hkscs",
}
# Codecs that exist in Python but must not be used for mail text (bytes-to-bytes or surprising errors).
_REFUSED = {"idna", "punycode", "raw_unicode_escape", "unicode_escape", "mbcs", "oem"}


@lru_cache(maxsize=256)
def codec_for(name: str | None) -> str | None:
    """Python codec name for a MIME charset name, or None when unusable."""
    if not name:
        return None
    clean = name.strip().strip("\"'").lower().split("*", 1)[0]  # RFC 2231 "utf-8*en"
    if not clean or "\x00" in clean or len(clean) > 40:
        return None
    clean = _ALIASES.get(clean, clean)
    try:
        info = codecs.lookup(clean)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _REFUSED:
        return None
    return info.name


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def guess_decode(data: bytes) -> str:
    """Decode bytes of unknown charset: UTF-8 if valid, else charset-normalizer's best guess, else cp1252."""
    if data.isascii() or _is_utf8(data):
        return data.decode("utf-8", "replace")
    if len(data) >= 32:
        try:
            from charset_normalizer import from_bytes  # local: import cost paid only for odd mail

            best = from_bytes(data[:200_000]).best()
            if best is not None and best.encoding:
                codec = codec_for(best.encoding)
                if codec:
                    return data.decode(codec, "replace")
        except Exception:  # noqa: BLE001 - a guesser must never break parsing
            pass
    return data.decode("cp1252", "replace")


def decode_text(data: bytes, charset: str | None, defects: list[str] | None = None) -> str:
    """Decode a text part. Declared charset when it decodes cleanly; UTF-8 when a single-byte label hides
    valid UTF-8; otherwise a guess. Undecodable bytes become U+FFFD."""
    if not data:
        return ""
    codec = codec_for(charset)
    if charset and codec is None and defects is not None:
        defects.append(f"unknown charset {charset[:40]!r}: guessed")
    if codec is None:
        return guess_decode(data)
    if codec == "ascii":
        return data.decode("ascii") if data.isascii() else guess_decode(data)
    if codec in ("cp1252", "iso8859-15", "iso8859-2") and not data.isascii() and _is_utf8(data):
        # A single-byte label on valid multi-byte UTF-8 is a mislabel far more often than real text.
        return data.decode("utf-8")
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        if defects is not None:
            defects.append(f"text not valid {codec}: decoded with fallback")
        if codec == "utf-8" and _mostly_utf8(data):
            return data.decode("utf-8", "replace")
        return guess_decode(data)
    except Exception:  # noqa: BLE001 - odd codecs (utf-32, cp codecs) raise other errors on junk
        return guess_decode(data)


def _mostly_utf8(data: bytes) -> bool:
    """True when the bytes are UTF-8 with a few broken sequences (keep UTF-8, replace the damage)."""
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    return bad * 20 < max(1, sum(1 for ch in text if ord(ch) > 127))
