"""The chunked decoders (engine/parse/decode.py) give the very bytes, and the very defects, of decoding the
whole encoded text at once with the stdlib, whatever the chunk size and wherever its boundaries fall.

The references below are the whole-text rules written plainly over base64.b64decode, binascii.a2b_qp /
quopri and binascii.a2b_uu. Small chunk sizes (1, 3, 4, 5, 7, 64...) put boundaries inside lines, CRLF pairs,
'=XX' escapes and base64 groups. No timing and no memory measurement here: bench/bench_big_mail.py does that.
"""
from __future__ import annotations

import base64
import binascii
import quopri
import random

import pytest

from mailticket_tui.engine.parse.decode import decode_base64, decode_quoted_printable, decode_uu

CHUNKS = (1, 2, 3, 4, 5, 7, 13, 64, 76, 77, 1000, 1 << 20)
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_WS = b" \t\r\n\x0b\x0c"


def whole_base64(body: bytes) -> tuple[bytes, list[str]]:
    """The rules decode_base64 states, applied to the whole text at once."""
    defects: list[str] = []
    junk = len(body.translate(None, _ALPHABET + _WS))
    clean = bytes(b for b in body if b in _ALPHABET)
    if junk:
        if junk * 4 > len(clean) + junk:
            return body, ["Content-Transfer-Encoding base64 on non-base64 content: used as is"]
        defects.append("InvalidBase64CharactersDefect: invalid characters in base64 content skipped")
    first = clean.find(b"=")
    if first >= 0 and (first % 4 == 3 or (first % 4 == 2 and clean[first + 1:first + 2] == b"=")):
        if first + (1 if first % 4 == 3 else 2) < len(clean):  # padding that completes a group ends the data
            defects.append("base64 content after its padding ignored")
        clean = clean[:first]
    else:
        clean = clean.replace(b"=", b"") if b"=" in clean[:-2] else clean.rstrip(b"=")
    if len(clean) % 4 == 1:
        defects.append("InvalidBase64LengthDefect: truncated base64 content, last character dropped")
        clean = clean[:-1]
    try:
        return base64.b64decode(clean + b"=" * (-len(clean) % 4)), defects
    except (binascii.Error, ValueError):
        return body, defects + ["undecodable base64 content: used as is"]


def whole_uu(body: bytes) -> tuple[bytes, list[str]]:
    defects: list[str] = []
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
    return (bytes(out) if started else body), defects


def test_padding_ends_the_data_as_the_stdlib_has_it() -> None:
    defects: list[str] = []
    body = b"ecO2dMOkIHZhYW4uCg== ignored\r\n"
    assert decode_base64(body, 0, len(body), defects) == binascii.a2b_base64(body) == "yötä vaan.\n".encode()
    assert defects == ["base64 content after its padding ignored"]


def wrap(text: bytes, width: int, eol: bytes) -> bytes:
    if not width:
        return text
    return eol.join(text[i:i + width] for i in range(0, len(text), width)) + eol


def in_context(body: bytes, rng: random.Random) -> tuple[bytes, int, int]:
    """The body inside a bigger buffer, as a part sits inside its raw mail."""
    head, tail = bytes(rng.randrange(256) for _ in range(rng.randrange(5))), b"\r\n--b--\r\n"
    return head + body + tail, len(head), len(head) + len(body)


def check_base64(body: bytes, rng: random.Random, chunks: tuple[int, ...] = CHUNKS) -> None:
    expected, expected_defects = whole_base64(body)
    data, start, end = in_context(body, rng)
    for chunk in chunks:
        defects: list[str] = []
        assert decode_base64(data, start, end, defects, chunk) == expected, (chunk, body[:200])
        assert defects == expected_defects, (chunk, body[:200])


def _encoded(rng: random.Random, size: int) -> bytes:
    return base64.b64encode(rng.randbytes(size))


@pytest.mark.parametrize("width", [76, 64, 72, 75, 77, 1, 3, 0])
@pytest.mark.parametrize("eol", [b"\r\n", b"\n"])
def test_base64_well_formed_lines(width: int, eol: bytes) -> None:
    rng = random.Random(width * 7 + len(eol))
    for size in (0, 1, 2, 3, 4, 5, 47, 57, 58, 300, 4099):
        payload = rng.randbytes(size)
        body = wrap(base64.b64encode(payload), width, eol)
        check_base64(body, rng)
        defects: list[str] = []
        assert decode_base64(body, 0, len(body), defects, 64) == payload
        assert defects == []


def test_base64_big_part_matches_stdlib_with_default_chunk() -> None:
    rng = random.Random(1)
    payload = rng.randbytes(3_000_001)
    for body in (base64.encodebytes(payload), wrap(base64.b64encode(payload), 76, b"\r\n"),
                 base64.b64encode(payload)):
        defects: list[str] = []
        assert decode_base64(body, 0, len(body), defects) == payload == base64.b64decode(body)
        assert defects == []


@pytest.mark.parametrize("body", [
    b"QUJD", b"QUJD\n", b"QUI", b"QUI=", b"QQ", b"QQ==", b"QQ=", b"Q", b"QUJDR", b"QUJDRA=",  # padding
    b"QUJD=A", b"QUJD=A==", b"QUJDRU=A", b"QU=JD", b"QQ==QUJD", b"QUJD==\nQUJD", b"=", b"==", b"===",
    b"=QUJD", b"QUJD=", b"QUJD==", b"QUJD===", b"QU JD\tRE\r\nVG", b"Q U J D", b" \r\n\t",
    b"ecO2dMOkIHZhYW4uCg== ignored", b"QUI=QQ==", b"QQ=\r\n=QkI=", b"QQ= QkI=",  # padding that ends the data
    b"QUJD!RE", b"QUJD*$RE==", b"!!!!QUJD", b"Hello, plain text mislabelled as base64.\n",
    b"QUJD\x00\xff\x80RUZH", b"\xff" * 10, b"", b"-", b"QUJD-_RUZH", b"QUJD\x0b\x0cRUZH",
])
def test_base64_hostile_cases(body: bytes) -> None:
    check_base64(body, random.Random(len(body)))


def test_base64_random_hostile_mixtures() -> None:
    """Valid base64 with junk, stray '=' and whitespace sprinkled in, at random places and rates."""
    rng = random.Random(17)
    noise = b"= \t\r\n\x0b\x0c!*-_.\x00\xff\x80~@"
    for case in range(400):
        body = bytearray(wrap(_encoded(rng, rng.randrange(0, 400)), rng.choice((0, 4, 7, 64, 76)),
                              rng.choice((b"\n", b"\r\n"))))
        for _ in range(rng.choice((0, 1, 2, 5, 30, 200))):
            body.insert(rng.randrange(len(body) + 1), rng.choice(noise))
        if case % 5 == 0:  # missing or extra padding, cut anywhere
            del body[rng.randrange(len(body) + 1):]
        check_base64(bytes(body), rng, (1, 3, 4, 5, 13, 64, 1 << 20))


def test_base64_random_bytes() -> None:
    rng = random.Random(5)
    for _ in range(200):
        body = bytes(rng.choice(_ALPHABET + _WS + b"!\x00") for _ in range(rng.randrange(60)))
        check_base64(body, rng, (1, 2, 4, 5, 1 << 20))


def check_qp(body: bytes, rng: random.Random) -> None:
    expected = binascii.a2b_qp(body.replace(b"\r\n", b"\n"))
    assert expected == quopri.decodestring(body.replace(b"\r\n", b"\n"))
    data, start, end = in_context(body, rng)
    for chunk in CHUNKS:
        defects: list[str] = []
        assert decode_quoted_printable(data, start, end, defects, chunk) == expected, (chunk, body[:200])
        assert defects == []


@pytest.mark.parametrize("eol", [b"\r\n", b"\n"])
def test_quoted_printable_matches_stdlib(eol: bytes) -> None:
    rng = random.Random(len(eol))
    for _ in range(50):
        text = rng.randbytes(rng.randrange(2000)).replace(b"\r", b"")  # quopri keeps a CR as it is
        body = quopri.encodestring(text).replace(b"\n", eol)
        check_qp(body, rng)
        assert decode_quoted_printable(body, 0, len(body), [], 7) == text


@pytest.mark.parametrize("body", [
    b"", b"=", b"==", b"=\n", b"=\r\n", b"=\r", b"a=\rskipped\nb", b"=4", b"=41", b"=4G", b"=g1", b"=GG\n",
    b"soft=\r\nbreak", b"soft =\nbreak\n", b"a=\r\r\nb", b"=\r\n=\r\n=", b"line\rwith CR only=\rx\n",
    b"trailing space \r\ntab\t\r\n", b"x" * 300 + b"=3D" + b"y" * 300, b"=3d=3D=e9=E9\n", b"==41\n",
    b"no line break at all =41 and = stray " * 40,
])
def test_quoted_printable_hostile_cases(body: bytes) -> None:
    check_qp(body, random.Random(len(body)))


def test_quoted_printable_random_bytes() -> None:
    rng = random.Random(9)
    for _ in range(300):
        body = bytes(rng.choice(b"=\r\n \tA3dfG_?") for _ in range(rng.randrange(80)))
        check_qp(body, rng)


def check_uu(body: bytes, rng: random.Random) -> None:
    expected, expected_defects = whole_uu(body)
    data, start, end = in_context(body, rng)
    for chunk in CHUNKS:
        defects: list[str] = []
        assert decode_uu(data, start, end, defects, chunk) == expected, (chunk, body[:200])
        assert defects == expected_defects


@pytest.mark.parametrize("eol", [b"\r\n", b"\n", b"\r"])
def test_uu_matches_stdlib(eol: bytes) -> None:
    rng = random.Random(len(eol))
    for size in (0, 1, 44, 45, 46, 1000):
        payload = rng.randbytes(size)
        lines = [binascii.b2a_uu(payload[i:i + 45]).rstrip(b"\n") for i in range(0, size, 45)]
        body = eol.join([b"begin 644 file.bin", *lines, b"`", b"end", b"trailing"]) + eol
        check_uu(body, rng)
        assert decode_uu(body, 0, len(body), [], 5) == payload


@pytest.mark.parametrize("body", [
    b"", b"no begin line\nM86)C\n", b"begin 644 x\n", b"begin 644 x\n!!!bad\x00line\nend\n",
    b"begin 644 x\r\n#86)C\r\n end \r\nafter\n", b"begin 644 x\n\n\nM\n", b"\n\nbegin 644 x\n#86)C",
])
def test_uu_hostile_cases(body: bytes) -> None:
    check_uu(body, random.Random(len(body)))
