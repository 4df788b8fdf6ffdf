"""Content-Transfer-Encoding and charset decoding of one leaf part, tolerant of what real mail does wrong.

base64 with junk characters or bad padding, quoted-printable with stray '=', uuencode, unknown or
misspelt encodings, a base64 label on plain text: each gives best-effort bytes and a defect, never an
exception. Text parts then go through charsets.decode_text and lose NUL bytes and Outlook's stray NBSPs.

Memory: an encoded part is read in place from the raw message (offsets into the shared buffer), CHUNK bytes
at a time, into one output buffer that becomes the result without a copy (_output/_result). So the raw
message is the only whole copy of the encoded text, and a 24 MB attachment costs its decoded size plus a few
chunks. The chunked decoders give exactly the bytes of the whole-text rules each one states
(tests/test_decode_stream.py compares them with the stdlib on random and hostile input).
"""
from __future__ import annotations

import binascii
import io
from collections.abc import Iterator

from .charsets import decode_text
from .headers import strip_controls
from .mime import MimeNode

CHUNK = 1 << 18  # encoded bytes decoded at a time: ~1 MB of transient copies, no slower than bigger pieces
_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_B64_WS = b" \t\r\n\x0b\x0c"
_NOT_B64 = bytes(b for b in range(256) if b not in _B64_ALPHABET)  # bytes.translate: C speed, no regex
_NOT_B64_DATA = _NOT_B64 + b"="


def _output(capacity: int) -> io.BytesIO:
    """An empty BytesIO whose buffer already holds `capacity` bytes. Writes land in place, and _result() hands
    that very buffer over as the bytes object; a bytearray (bytes(...) at the end) or a buffer grown write by
    write (realloc may move it) would cost a second whole copy of the decoded part."""
    out = io.BytesIO()
    if capacity > 0:
        out.seek(capacity - 1)
        out.write(b"\0")
        out.seek(0)
    return out


def _result(out: io.BytesIO) -> bytes:
    """What was written to an _output(): cut to the write position, then shrunk in place (no copy)."""
    out.truncate()
    return out.getvalue()


def _pieces(data: bytes, start: int, end: int, size: int) -> Iterator[bytes]:
    """data[start:end] as copies of at most `size` bytes each."""
    for pos in range(start, end, size):
        yield data[pos:min(pos + size, end)]


def _line_pieces(data: bytes, start: int, end: int, size: int) -> Iterator[bytes]:
    """data[start:end] as copies of about `size` bytes that end right after an LF, so that line-oriented
    decoders see every line (and every CRLF) whole. A line longer than `size` is one piece of its own."""
    pos = start
    while pos < end:
        cut = min(pos + size, end)
        if cut < end:
            nl = data.rfind(b"\n", pos, cut)
            if nl < 0:
                nl = data.find(b"\n", cut, end)
            cut = end if nl < 0 else nl + 1
        yield data[pos:cut]
        pos = cut


def _last_characters(data: bytes, start: int, end: int, count: int, chunk: int) -> bytes:
    """The last `count` base64 characters of data[start:end], read backwards in windows growing to `chunk`."""
    found = b""
    window = 64
    while len(found) < count and end > start:
        low = max(start, end - window)
        found = data[low:end].translate(None, _NOT_B64) + found
        end, window = low, min(window * 2, chunk)
    return found[-count:]


def _padded_end(data: bytes, first_equal: int, at: int, end: int) -> int | None:
    """The count of base64 characters up to the end of the padding, when the first '=' (the `first_equal`th
    character, at byte `at`) completes a group: third in its group and followed by another '=', or fourth."""
    if first_equal < 0 or first_equal % 4 < 2:
        return None
    if first_equal % 4 == 3:
        return first_equal + 1
    following = data[at + 1:min(end, at + 1 + 256)].translate(None, _NOT_B64)[:1]  # whitespace, junk skipped
    return first_equal + 2 if following == b"=" else None


def decode_base64(data: bytes, start: int, end: int, defects: list[str], chunk: int = CHUNK,
                  padding_ends: bool = True) -> bytes:
    """base64 payload of data[start:end], by the whole-text rules:
    - whitespace is skipped; other non-alphabet bytes ("junk") are skipped with a defect, unless they are over
      a quarter of the non-whitespace bytes: then the label lies and the content is used as is;
    - padding that completes a group ("xxx=", "xx==") ends the data, as the stdlib decoder has it: what follows
      is ignored (defect: "ecO2dMOkIHZhYW4uCg== ignored" is one line of UTF-8, not one with junk bytes after);
    - any other '=' before the last two base64 characters makes every '=' dropped, else trailing '=' are dropped;
    - a character beyond a multiple of four is dropped (defect), then the padding it needs is added;
    - content the stdlib still refuses (an '=' left next to the end) is used as is.
    A first pass counts what those rules need; a second decodes whole 4-character groups chunk by chunk.
    `padding_ends=False` is the rule before this release (every '=' dropped there too): attachments stored
    since then are checked against the bytes it gave (ticket_files.attachment_bytes).
    """
    junk = clean = equals = 0
    first_equal = first_equal_at = -1
    for pos in range(start, end, chunk):
        stop = min(pos + chunk, end)
        other = data[pos:stop].translate(None, _B64_ALPHABET)  # whitespace and junk: a few bytes per line
        junk += len(other.translate(None, _B64_WS))
        equal = data.find(b"=", pos, stop) if first_equal < 0 else -1
        if equal >= 0:
            first_equal = clean + len(data[pos:equal].translate(None, _NOT_B64))
            first_equal_at = equal
        if first_equal >= 0:
            equals += data.count(b"=", pos, stop)
        clean += stop - pos - len(other)
    if junk:
        if junk * 4 > clean + junk:
            defects.append("Content-Transfer-Encoding base64 on non-base64 content: used as is")
            return data[start:end]
        defects.append("InvalidBase64CharactersDefect: invalid characters in base64 content skipped")
    padded_end = _padded_end(data, first_equal, first_equal_at, end) if padding_ends else None
    drop_all = padded_end is None and 0 <= first_equal < clean - 2
    if padded_end is not None:
        if padded_end < clean:
            defects.append("base64 content after its padding ignored")
        length = first_equal
    elif drop_all:
        length = clean - equals
    else:  # any '=' is among the last two characters
        last_two = _last_characters(data, start, end, 2, chunk)
        length = clean - (len(last_two) - len(last_two.rstrip(b"=")))
    if length % 4 == 1:
        defects.append("InvalidBase64LengthDefect: truncated base64 content, last character dropped")
        length -= 1
    # Groups before `tail` hold no '=' and decode on their own; the tail (4 to 7 characters, where a
    # remaining '=' can only be) is decoded last, with its padding, as the whole text would end.
    tail = max(0, (length - 4) // 4 * 4)
    out = _output(length // 4 * 3 + 2)
    pending = b""
    taken = decoded = 0
    for piece in _pieces(data, start, end, chunk):
        kept = piece.translate(None, _NOT_B64_DATA if drop_all else _NOT_B64)[:length - taken]
        taken += len(kept)
        pending += kept
        ready = min(tail, taken // 4 * 4) - decoded
        if ready > 0:
            out.write(binascii.a2b_base64(memoryview(pending)[:ready]))
            pending = pending[ready:]
            decoded += ready
    try:
        out.write(binascii.a2b_base64(pending + b"=" * (-length % 4)))
    except (binascii.Error, ValueError):
        defects.append("undecodable base64 content: used as is")
        out.close()  # its buffer goes before the copy is made
        return data[start:end]
    return _result(out)


def decode_quoted_printable(data: bytes, start: int, end: int, defects: list[str], chunk: int = CHUNK) -> bytes:
    """quoted-printable payload of data[start:end]: CRLF made LF, then binascii.a2b_qp, piece by piece at line
    ends (a2b_qp keeps no state across a line end)."""
    out = _output(end - start)
    try:
        for piece in _line_pieces(data, start, end, chunk):
            out.write(binascii.a2b_qp(piece.replace(b"\r\n", b"\n")))
    except (binascii.Error, ValueError):
        defects.append("undecodable quoted-printable content: used as is")
        return data[start:end].replace(b"\r\n", b"\n")
    return _result(out)


def decode_uu(data: bytes, start: int, end: int, defects: list[str], chunk: int = CHUNK) -> bytes:
    """uuencoded payload of data[start:end]: the lines between `begin ...` and `end`, a bad line skipped with
    a defect; content without a `begin` line is used as is."""
    out: io.BytesIO | None = None
    for piece in _line_pieces(data, start, end, chunk):
        for line in piece.splitlines():
            if out is None:
                out = _output((end - start) * 3 // 4) if line.startswith(b"begin ") else None
                continue
            if line.strip() in (b"end", b"`"):
                return _result(out)
            try:
                out.write(binascii.a2b_uu(line))
            except binascii.Error:
                defects.append("bad uuencoded line skipped")
    return data[start:end] if out is None else _result(out)


def transfer_decode(node: MimeNode, defects: list[str], padding_ends: bool = True) -> bytes:
    """The part's payload bytes. Text-ish encodings get transport line ends canonicalised to LF
    (`padding_ends`: see decode_base64)."""
    cte = (node.header("content-transfer-encoding") or "").strip().lower().strip('"')
    start, end = node.body_span
    if "64" in cte:
        if cte != "base64":
            defects.append(f"Content-Transfer-Encoding {cte[:30]!r} read as base64")
        return decode_base64(node.data, start, end, defects, padding_ends=padding_ends)
    if "quoted" in cte or cte == "qp":
        return decode_quoted_printable(node.data, start, end, defects)
    if "uue" in cte:
        return decode_uu(node.data, start, end, defects)
    if cte not in ("", "7bit", "8bit", "binary", "7-bit", "8-bit"):
        defects.append(f"unknown Content-Transfer-Encoding {cte[:30]!r}: used as is")
    return node.body


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
