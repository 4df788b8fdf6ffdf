"""S/MIME opaque signing: pull the signed MIME entity out of an application/pkcs7-mime signed-data blob.

A minimal BER/DER walker (definite and indefinite lengths, constructed OCTET STRINGs): ContentInfo ->
[0] SignedData -> encapContentInfo -> [0] eContent. The signature is not verified; the blob itself stays
an attachment. Anything unexpected returns None (the caller keeps the blob as an opaque attachment).
"""
from __future__ import annotations

_OID_SIGNED_DATA = bytes.fromhex("2a864886f70d010702")  # 1.2.840.113549.1.7.2
_MAX_NODES = 100_000


class _BerError(ValueError):
    pass


def _header(buf: bytes, pos: int) -> tuple[int, bool, int, int | None]:
    """(tag byte, constructed, content start, content length or None for indefinite)."""
    if pos + 2 > len(buf):
        raise _BerError("truncated")
    tag = buf[pos]
    constructed = bool(tag & 0x20)
    pos += 1
    if tag & 0x1F == 0x1F:  # high tag numbers: skip the continuation bytes
        while pos < len(buf) and buf[pos] & 0x80:
            pos += 1
        pos += 1
    first = buf[pos]
    pos += 1
    if first < 0x80:
        return tag, constructed, pos, first
    if first == 0x80:
        return tag, constructed, pos, None
    count = first & 0x7F
    if count > 4 or pos + count > len(buf):
        raise _BerError("bad length")
    length = int.from_bytes(buf[pos:pos + count], "big")
    return tag, constructed, pos + count, length


def _children(buf: bytes, start: int, length: int | None) -> list[tuple[int, bool, int, int, int]]:
    """Direct children of a constructed value: (tag, constructed, content start, content end, next)."""
    out = []
    pos = start
    end = len(buf) if length is None else start + length
    while pos < end and len(out) < _MAX_NODES:
        if length is None and buf[pos:pos + 2] == b"\x00\x00":
            break
        tag, constructed, cstart, clen = _header(buf, pos)
        if clen is None:
            cend, nxt = _skip_indefinite(buf, cstart)
        else:
            cend = cstart + clen
            nxt = cend
        if cend > len(buf):
            raise _BerError("overrun")
        out.append((tag, constructed, cstart, cend, nxt))
        pos = nxt
    return out


def _skip_indefinite(buf: bytes, start: int) -> tuple[int, int]:
    pos = start
    depth = 1
    steps = 0
    while depth and pos < len(buf):
        steps += 1
        if steps > _MAX_NODES:
            raise _BerError("too many nodes")
        if buf[pos:pos + 2] == b"\x00\x00":
            depth -= 1
            pos += 2
            if depth == 0:
                return pos - 2, pos
            continue
        tag, constructed, cstart, clen = _header(buf, pos)
        if clen is None:
            depth += 1
            pos = cstart
        else:
            pos = cstart + clen
    raise _BerError("unterminated")


def _octets(buf: bytes, tag: int, constructed: bool, start: int, end: int) -> bytes:
    if not constructed:
        return buf[start:end]
    out = bytearray()
    for ctag, ccons, cs, ce, _n in _children(buf, start, end - start):
        out.extend(_octets(buf, ctag, ccons, cs, ce))
    return bytes(out)


def signed_content(blob: bytes) -> bytes | None:
    """The encapsulated content of a PKCS#7/CMS SignedData, or None."""
    try:
        tag, _c, start, length = _header(blob, 0)
        top = _children(blob, start, length)
        if len(top) < 2 or blob[top[0][2]:top[0][3]] != _OID_SIGNED_DATA:
            return None
        explicit = _children(blob, top[1][2], top[1][3] - top[1][2])
        signed_data = _children(blob, explicit[0][2], explicit[0][3] - explicit[0][2])
        encap = signed_data[2]  # version, digestAlgorithms, encapContentInfo
        encap_items = _children(blob, encap[2], encap[3] - encap[2])
        if len(encap_items) < 2:
            return None  # detached signature: no content inside
        wrapper = _children(blob, encap_items[1][2], encap_items[1][3] - encap_items[1][2])
        ctag, ccons, cs, ce, _n = wrapper[0]
        return _octets(blob, ctag, ccons, cs, ce)
    except (_BerError, IndexError, ValueError):
        return None
