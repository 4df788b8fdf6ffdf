"""Header blocks: split raw bytes into (name, value) fields and decode RFC 2047 encoded words.

Works on bytes so a header block is read once, with caps (limits.py) applied before any decoding: the
stdlib's policy.default is quadratic in encoded words and ~8 MB of heap per MB of header, which is the
cost this module avoids. Raw 8-bit header bytes are read as UTF-8 (RFC 6532), damage becoming U+FFFD.
"""
from __future__ import annotations

import base64
import binascii
import re

from . import limits
from .charsets import codec_for, decode_text

_FIELD_NAME = re.compile(rb"^([!-9;-~]{1,200})[ \t]*:")
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,60})\?([bBqQ])\?([^?]{0,2000}?)\?=")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_ALL = re.compile(r"[\x00-\x1f\x7f\x80-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def parse_header_block(data: bytes, start: int, end: int, defects: list[str]) -> tuple[list[tuple[str, str]], int]:
    """Read header fields from data[start:end]; return (fields, body_start).

    The block ends at the first empty line, or at the first line that is neither a field nor a
    continuation (that line then starts the body, like the stdlib's MissingHeaderBodySeparatorDefect).
    """
    fields: list[tuple[str, bytes]] = []
    pos = start
    block_limit = start + limits.MAX_HEADER_BLOCK
    if data.startswith(b"From ", start):  # mbox separator line before the headers
        nl = data.find(b"\n", start, end)
        pos = end if nl < 0 else nl + 1
    truncated = False
    while pos < end:
        nl = data.find(b"\n", pos, end)
        line_end = end if nl < 0 else nl + 1
        line = data[pos:line_end].rstrip(b"\r\n")
        if not line:
            pos = line_end
            break
        if line[:1] in (b" ", b"\t"):
            if fields:
                name, value = fields[-1]
                if len(value) < limits.MAX_HEADER_VALUE:
                    fields[-1] = (name, value + b"\n" + line)
                elif not truncated:
                    truncated = True
                    defects.append(f"header {name} longer than {limits.MAX_HEADER_VALUE} bytes: truncated")
            pos = line_end
            continue
        match = _FIELD_NAME.match(line)
        if match is None:
            defects.append("MissingHeaderBodySeparatorDefect: header block not ended by an empty line")
            break
        if len(fields) >= limits.MAX_HEADER_LINES or pos > block_limit:
            if not truncated:
                defects.append("header block too large: rest of the headers ignored")
                truncated = True
            pos = line_end
            continue
        name = match.group(1).decode("ascii", "replace").strip()
        value = line[match.end():]
        if len(value) > limits.MAX_HEADER_VALUE:
            defects.append(f"header {name} longer than {limits.MAX_HEADER_VALUE} bytes: truncated")
            value = value[: limits.MAX_HEADER_VALUE]
        fields.append((name, value))
        pos = line_end
    else:
        pos = end
    return [(name, _bytes_to_str(value)) for name, value in fields], pos


def _bytes_to_str(value: bytes) -> str:
    # surrogateescape keeps raw 8-bit bytes recoverable: inside an encoded word they are read in the
    # word's charset; elsewhere fix_surrogates() turns them into UTF-8 or U+FFFD.
    if value.isascii():
        return value.decode("ascii")
    return value.decode("utf-8", "surrogateescape")


_LONE_SURROGATE = re.compile("[\ud800-\udc7f\udd00-\udfff]")  # surrogates that are not escaped bytes


def fix_surrogates(text: str) -> str:
    """Turn surrogate-escaped raw bytes back into text (valid UTF-8 kept, the rest U+FFFD); any other lone
    surrogate (from a caller's own decoding) becomes U+FFFD too."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        text = _LONE_SURROGATE.sub("\ufffd", text)
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def unfold(value: str) -> str:
    """Join continuation lines (folding whitespace becomes the whitespace that followed the break)."""
    return value.replace("\r", "").replace("\n", "").strip()


def _decode_word_bytes(encoding: str, text: str, defects: list[str]) -> bytes:
    if encoding in "bB":
        clean = re.sub(r"[^A-Za-z0-9+/]", "", text)
        clean = clean[: len(clean) - len(clean) % 4] if len(clean) % 4 == 1 else clean
        try:
            return base64.b64decode(clean + "=" * (-len(clean) % 4))
        except (binascii.Error, ValueError):
            defects.append("bad base64 in an encoded word")
            return text.encode("ascii", "replace")
    raw = text.replace("_", " ").encode("utf-8", "surrogateescape")
    try:
        return binascii.a2b_qp(raw)
    except (binascii.Error, ValueError):
        return raw


def decode_words(value: str, defects: list[str] | None = None) -> str:
    """Decode RFC 2047 encoded words (also split across lines, adjacent, with wrong or unknown charsets).

    Adjacent words of one charset are joined before decoding, so a multi-byte character split over two
    words survives. At most MAX_ENCODED_WORDS are decoded; the rest of the value is kept literally.
    """
    sink: list[str] = defects if defects is not None else []
    value = unfold(value) if "\n" in value or "\r" in value else value.strip()
    if "=?" not in value:
        return fix_surrogates(value)
    out: list[str] = []
    pending_cs: str | None = None
    pending: bytearray = bytearray()
    pos = 0
    count = 0

    def flush() -> None:
        nonlocal pending_cs
        if pending_cs is not None:
            out.append(decode_text(bytes(pending), pending_cs))
            pending.clear()
            pending_cs = None

    for match in _ENCODED_WORD.finditer(value):
        count += 1
        if count > limits.MAX_ENCODED_WORDS:
            sink.append(f"more than {limits.MAX_ENCODED_WORDS} encoded words: rest left encoded")
            break
        gap = value[pos:match.start()]
        charset = match.group(1).split("*", 1)[0].lower()
        if gap.strip() or pos == 0:
            flush()
            out.append(gap)
        elif charset != pending_cs:
            flush()  # whitespace between two encoded words is dropped (RFC 2047 section 6.2)
        if codec_for(charset) is None:
            sink.append(f"unknown charset {charset[:40]!r} in an encoded word")
        pending_cs = charset
        pending.extend(_decode_word_bytes(match.group(2), match.group(3), sink))
        pos = match.end()
    flush()
    out.append(value[pos:])
    return fix_surrogates("".join(out))


_SPACES = re.compile(r"\s{2,}")


def clean_line(text: str, limit: int = 2000) -> str:
    """One-line field for display and storage: no CR/LF, no control or bidi characters, no NUL."""
    if text.isprintable() and "  " not in text:
        # the usual field, in one C-level scan: isprintable() is False for every character _CONTROL_ALL takes
        # out, for surrogates and for every space but " "
        return text.strip()[:limit]
    text = _CONTROL_ALL.sub(" ", fix_surrogates(text))
    return _SPACES.sub(" ", text).strip()[:limit]


def strip_controls(text: str) -> str:
    """Multi-line text: drop NUL and C0 controls except tab and newline."""
    return _CONTROL.sub("", text) if _CONTROL.search(text) else text


# ---------------------------------------------------------------- structured parameters (RFC 2045/2231)

_PARAM = re.compile(r"""([!#$%&'*+.0-9A-Z^_`a-z|~-]{1,80})\s*=\s*("(?:[^"\\]|\\.){0,4000}"?|[^;\s"]{0,4000})""")


def parse_content_header(value: str) -> tuple[str, dict[str, str]]:
    """Split `type/sub; a=b; c*=utf-8''x` into a lower-cased main value and decoded parameters.

    Tolerant: a missing ';' between parameters, RFC 2231 continuations and charsets, and encoded words
    inside quoted names (a common violation) are all accepted.
    """
    value = unfold(value)
    head, _, rest = value.partition(";")
    main = head.strip().lower()
    if " " in main or "\t" in main:  # `multipart/mixed boundary="x"` without the ';'
        main = main.split(None, 1)[0]
        rest = head.strip()[len(main):] + ";" + rest
    pieces: dict[str, dict[int, tuple[str, bool]]] = {}
    params: dict[str, str] = {}
    for match in _PARAM.finditer(rest):
        name = match.group(1).lower()
        raw = match.group(2)
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1] if raw.endswith('"') and len(raw) > 1 else raw[1:])
        star = re.fullmatch(r"(.+?)\*(\d+)?(\*)?", name)
        if star:
            base, index, encoded = star.group(1), star.group(2), star.group(3)
            if index is None:  # name*=charset'lang'value
                pieces.setdefault(base, {})[0] = (raw, True)
            else:
                pieces.setdefault(base, {})[int(index)] = (raw, bool(encoded))
            continue
        params.setdefault(name, raw)
    for base, parts in pieces.items():
        params[base] = _join_2231(parts)
    for key in ("name", "filename"):
        if key in params:
            params[key] = decode_words(params[key])
    return main, params


def _join_2231(parts: dict[int, tuple[str, bool]]) -> str:
    charset = None
    chunks = bytearray()
    for index in sorted(parts)[:200]:
        raw, encoded = parts[index]
        if encoded and index == sorted(parts)[0] and raw.count("'") >= 2:
            charset, _lang, raw = raw.split("'", 2)
        if encoded:
            chunks.extend(_percent_decode(raw))
        else:
            chunks.extend(raw.encode("utf-8", "surrogateescape"))
    return decode_text(bytes(chunks), charset or "utf-8")


def _percent_decode(text: str) -> bytes:
    out = bytearray()
    i = 0
    raw = text.encode("utf-8", "surrogateescape")
    while i < len(raw):
        if raw[i] == 0x25 and i + 2 < len(raw) and re.fullmatch(rb"[0-9A-Fa-f]{2}", raw[i + 1:i + 3]):
            out.append(int(raw[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return bytes(out)
