"""Hostile and malformed mail: every case gives a ParsedMail with a clear defect, never a crash or a hang."""
from __future__ import annotations

import base64
import time

import pytest

from mailticket_tui.engine.parse import ParseOptions, parse_message

HEAD = b"From: Alice <alice@example.com>\r\nTo: support@example.com\r\nSubject: test\r\nMessage-ID: <a@b>\r\n"


def mail(body: bytes, headers: bytes = b"", ctype: bytes = b"text/plain; charset=utf-8") -> bytes:
    return HEAD + headers + b"Content-Type: " + ctype + b"\r\n\r\n" + body


def has_defect(parsed, word: str) -> bool:
    return any(word.lower() in d.lower() for d in parsed.defects)


@pytest.mark.timeout(10)
def test_markup_and_escapes_in_subject_and_names() -> None:
    raw = (b"From: \"[@click=app.quit]Boss[/] \x1b]52;c;ZXZpbA==\x07\" <boss@example.com>\r\n"
           b"Subject: =?utf-8?q?Re=3A_=5B/=5D_oops_=1B=5B2J_=E2=80=AE?= \x00hi\r\n"
           b"Content-Type: text/plain\r\n\r\nbody\r\n")
    parsed = parse_message(raw)
    assert parsed.error is None
    for text in (parsed.subject, parsed.from_.name):
        assert "\x1b" not in text and "\x00" not in text and "\x07" not in text and "\u202e" not in text
        assert "\r" not in text and "\n" not in text
    assert "[/]" in parsed.subject  # kept literally: escaping markup is the display layer's job


def test_encoded_subject_cannot_inject_headers() -> None:
    raw = mail(b"x", ctype=b"text/plain").replace(b"Subject: test", b"Subject: =?utf-8?q?hello=0D=0ABcc=3A_x=40evil?=")
    parsed = parse_message(raw)
    assert "\n" not in parsed.subject and "\r" not in parsed.subject and "Bcc" in parsed.subject


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "..\\..\\windows\\system32\\x.dll", "/etc/shadow", "C:\\boot.ini", ".hidden",
     "a\x00b.txt", "evil\u202egpj.exe", "CON", "x" * 10000 + ".pdf", "", "...", "=?utf-8?q?=2E=2E=2Fx?="],
    ids=lambda name: repr(name[:20]),
)
def test_path_traversal_and_odd_file_names(name: str) -> None:
    encoded = name.encode("utf-8")
    body = (b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Disposition: attachment; filename=\"" + encoded + b"\"\r\n\r\ndata\r\n--b--\r\n")
    parsed = parse_message(mail(body, ctype=b'multipart/mixed; boundary="b"'))
    (att,) = parsed.attachments
    assert att.filename and "/" not in att.filename and "\\" not in att.filename
    assert not att.filename.startswith(".") and "\x00" not in att.filename and "\u202e" not in att.filename
    assert len(att.filename) <= 200 and att.filename.upper() != "CON"


def test_rfc2231_traversal_name() -> None:
    body = (b"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment;"
            b" filename*=utf-8''..%2F..%2Fx%00y%E2%80%AEgpj.exe\r\n\r\ndata\r\n--b--\r\n")
    (att,) = parse_message(mail(body, ctype=b'multipart/mixed; boundary="b"')).attachments
    assert att.filename == "xygpj.exe"


@pytest.mark.timeout(20)
def test_thousand_nested_multiparts() -> None:
    depth = 1000
    opening = b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n" % (i, i + 1)
                       for i in range(depth))
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth + 1)))
    raw = mail(opening + b"--b%d\r\nContent-Type: text/plain\r\n\r\ndeep text" % depth + closing,
               ctype=b'multipart/mixed; boundary="b0"')
    start = time.perf_counter()
    parsed = parse_message(raw)
    assert time.perf_counter() - start < 5
    assert parsed.error is None and has_defect(parsed, "nesting")


@pytest.mark.timeout(30)
def test_fifty_thousand_parts() -> None:
    part = b"--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=p.txt\r\n\r\nx\r\n"
    raw = mail(part * 50_000 + b"--b--\r\n", ctype=b'multipart/mixed; boundary="b"')
    start = time.perf_counter()
    parsed = parse_message(raw)
    assert time.perf_counter() - start < 10
    assert has_defect(parsed, "parts")
    assert 0 < len(parsed.attachments) <= 5000


@pytest.mark.timeout(30)
def test_twenty_megabyte_header() -> None:
    raw = HEAD + b"X-Big: " + b"a" * (20 * 1024 * 1024) + b"\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
    start = time.perf_counter()
    parsed = parse_message(raw)
    assert time.perf_counter() - start < 10
    assert parsed.error is None and parsed.subject == "test"
    assert has_defect(parsed, "truncated") or has_defect(parsed, "too large")


@pytest.mark.timeout(30)
def test_many_header_lines_and_folds() -> None:
    raw = HEAD + b"X-Fold: a\r\n" + b" b\r\n" * 200_000 + b"".join(b"X-%d: v\r\n" % i for i in range(100_000))
    raw += b"Content-Type: text/plain\r\n\r\nbody\r\n"
    parsed = parse_message(raw)
    assert parsed.error is None and has_defect(parsed, "header")


@pytest.mark.timeout(20)
def test_twenty_thousand_encoded_words() -> None:
    words = b" ".join(b"=?utf-8?q?w%d?=" % i for i in range(20_000))
    raw = mail(b"x").replace(b"Subject: test", b"Subject: " + words).replace(
        b"From: Alice", b"From: " + words[:200_000])
    start = time.perf_counter()
    parsed = parse_message(raw)
    assert time.perf_counter() - start < 5
    assert has_defect(parsed, "encoded words") and parsed.subject.startswith("w0w1")


@pytest.mark.timeout(20)
def test_ten_thousand_addresses() -> None:
    to = b", ".join(b"u%d@example.com" % i for i in range(10_000))
    parsed = parse_message(mail(b"x", headers=b"Cc: " + to + b"\r\n"))
    assert len(parsed.cc) == 1000 and has_defect(parsed, "addresses")


def test_cve_2023_27043_ambiguous_from() -> None:
    raw = mail(b"x").replace(b"From: Alice <alice@example.com>", b"From: victim@corp.com <attacker@evil.com>")
    parsed = parse_message(raw)
    assert parsed.from_.email == "attacker@evil.com"
    assert has_defect(parsed, "display name looks like another address")


def test_from_with_two_addresses_glued() -> None:
    raw = mail(b"x").replace(b"From: Alice <alice@example.com>", b"From: alice@example.org)<bob@example.org>")
    parsed = parse_message(raw)
    assert parsed.from_.email == "bob@example.org" and parsed.defects


@pytest.mark.parametrize("charset", [b"rot13", b"base64", b"zlib", b"hex", b"x-unknown", b"utf-8\x00", b"idna",
                                     b"utf-32", b"\xff\xfe"])
def test_hostile_charsets(charset: bytes) -> None:
    parsed = parse_message(mail("Grüße aus Köln".encode("latin-1"), ctype=b"text/plain; charset=" + charset))
    assert parsed.error is None and "K" in parsed.body_text


def test_wrong_declared_charset_and_utf8_mislabel() -> None:
    parsed = parse_message(mail("Grüße 😀".encode("utf-8"), ctype=b"text/plain; charset=iso-8859-1"))
    assert parsed.body_text == "Grüße 😀"
    parsed = parse_message(mail("Grüße".encode("cp1252"), ctype=b"text/plain; charset=utf-8"))
    assert "Gr" in parsed.body_text and parsed.defects


def test_broken_and_split_encoded_words() -> None:
    # "é€" with the euro sign's bytes split over two words, then junk
    subject = b"=?utf-8?B?w6k=?= =?utf-8?B?4g==?=\r\n =?utf-8?B?gqw=?= =?bogus?Q?x?= =?utf-8?Q?unterminated"
    parsed = parse_message(mail(b"x").replace(b"Subject: test", b"Subject: " + subject))
    assert parsed.subject.startswith("é€") and parsed.error is None


def test_malformed_base64_and_bad_cte() -> None:
    body = b"--b\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n" \
           + base64.b64encode(b"\x89PNG\r\n\x1a\nrest")[:-3] + b"!!*\r\n--b\r\nContent-Type: text/plain\r\n" \
           b"Content-Transfer-Encoding: x-wrong\r\n\r\nplain\r\n--b--\r\n"
    parsed = parse_message(mail(body, ctype=b'multipart/mixed; boundary="b"'))
    assert parsed.error is None and parsed.body_text == "plain"
    assert parsed.attachments[0].payload.startswith(b"\x89PNG") and has_defect(parsed, "base64")


def test_nul_bytes_everywhere() -> None:
    raw = mail(b"he\x00llo", headers=b"X-N: a\x00b\r\n").replace(b"Subject: test", b"Subject: t\x00est")
    parsed = parse_message(raw)
    assert "\x00" not in parsed.subject and "\x00" not in parsed.body_text


def test_missing_headers_missing_boundary_bad_date() -> None:
    parsed = parse_message(b"Date: not a date\r\nContent-Type: multipart/mixed\r\n\r\nno parts here\r\n")
    assert parsed.error is None and parsed.date is None and parsed.from_ is None
    assert has_defect(parsed, "date") and has_defect(parsed, "boundary")


@pytest.mark.parametrize("raw", [b"", b"\r\n\r\n", b"\xff\xfe\x00garbage" * 100, b"--\r\n--\r\n", b":\r\n:::"])
def test_garbage_never_raises(raw: bytes) -> None:
    parsed = parse_message(raw)
    assert parsed.sha256 and parsed.size == len(raw)


def test_parse_never_raises_even_on_wrong_input_type() -> None:
    parsed = parse_message("not bytes")  # type: ignore[arg-type]
    assert parsed.error is None and parsed.body_text == "not bytes"  # text is taken as the message's bytes


def test_a_nested_multipart_reusing_its_parents_boundary() -> None:
    """Its delimiters are read as its own first: text, HTML and the file all found, the defect named."""
    body = (b"--b\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
            b"plain\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--b--\r\n\r\n--b\r\n"
            b"Content-Type: application/zip; name=\"a.zip\"\r\n\r\nPK\r\n--b--\r\n")
    parsed = parse_message(mail(body, ctype=b'multipart/mixed; boundary="b"'))
    assert parsed.text_plain.strip() == "plain" and [a.filename for a in parsed.attachments] == ["a.zip"]
    assert has_defect(parsed, "StartBoundaryNotFoundDefect")


@pytest.mark.timeout(30)
def test_html_bombs() -> None:
    html = b"<ul><li>" * 50_000 + b"x" + b"</li></ul>" * 50_000
    start = time.perf_counter()
    parsed = parse_message(mail(html, ctype=b"text/html"))
    assert time.perf_counter() - start < 10
    assert len(parsed.body_text) < 100_000 and parsed.error is None


def test_every_part_is_reachable() -> None:
    inner = b"From: bob@example.com\r\nSubject: inner\r\nContent-Type: text/plain\r\n\r\ninner text\r\n"
    body = (b"--b\r\nContent-Type: text/plain\r\n\r\nmain text\r\n"
            b"--b\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
            b"--b\r\nContent-Type: text/plain; name=notes.txt\r\n\r\nextra\r\n"
            b"--b\r\nContent-Type: message/rfc822\r\n\r\n" + inner +
            b"--b\r\nContent-Type: application/ms-tnef; name=winmail.dat\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.b64encode(b"\x78\x9f\x3e\x22tnef") + b"\r\n--b--\r\n")
    parsed = parse_message(mail(body, ctype=b'multipart/mixed; boundary="b"'))
    names = [a.filename for a in parsed.attachments]
    assert "notes.txt" in names and "winmail.dat" in names
    assert any(n.endswith(".ics") for n in names) and any(n.endswith(".eml") for n in names)
    assert "main text" in parsed.body_text and "inner text" in parsed.body_text


def test_multipart_signed_body_and_signature() -> None:
    body = (b"--s\r\nContent-Type: text/plain\r\n\r\nsigned body\r\n--s\r\nContent-Type: application/pkcs7-signature;"
            b" name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--s--\r\n")
    parsed = parse_message(mail(body, ctype=b'multipart/signed; protocol="application/pkcs7-signature"; boundary="s"'))
    assert parsed.body_text == "signed body" and [a.filename for a in parsed.attachments] == ["smime.p7s"]


def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 128:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def test_opaque_smime_signed_data_is_unwrapped() -> None:
    entity = b"Content-Type: text/plain\r\n\r\nthe signed words\r\n"
    oid_signed = _der(0x06, bytes.fromhex("2a864886f70d010702"))
    oid_data = _der(0x06, bytes.fromhex("2a864886f70d010701"))
    encap = _der(0x30, oid_data + _der(0xA0, _der(0x04, entity)))
    signed = _der(0x30, _der(0x02, b"\x01") + _der(0x31, b"") + encap + _der(0x31, b""))
    blob = _der(0x30, oid_signed + _der(0xA0, signed))
    raw = mail(base64.b64encode(blob), headers=b"Content-Transfer-Encoding: base64\r\n",
               ctype=b'application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"')
    parsed = parse_message(raw)
    assert parsed.body_text == "the signed words"
    assert [a.filename for a in parsed.attachments] == ["smime.p7m"]


def test_excluded_attachment_types_case_insensitive() -> None:
    body = (b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: Application/EXE; name=a.exe\r\n\r\nMZ"
            b"\r\n--b--\r\n")
    parsed = parse_message(mail(body, ctype=b'multipart/mixed; boundary="b"'), ParseOptions())
    assert parsed.attachments[0].action == "excluded"


def test_lying_content_type_is_sniffed() -> None:
    body = (b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: image/png; name=cat.png\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(b"MZ\x90\x00evil") + b"\r\n--b--\r\n")
    att = parse_message(mail(body, ctype=b'multipart/mixed; boundary="b"')).attachments[0]
    assert att.content_type == "application/x-msdownload" and att.declared_type == "image/png"


@pytest.mark.timeout(20)
def test_long_lines_do_not_backtrack() -> None:
    body = b"hello\r\n> quoted\r\n" + b"> " * 500_000 + b"\r\nmore\r\n" + b" " * 1_000_000 + b"x\r\n"
    raw = mail(body).replace(b"From: Alice <alice@example.com>", b"From: " + b"a" * 60_000)
    start = time.perf_counter()
    parsed = parse_message(raw)
    assert time.perf_counter() - start < 5 and parsed.error is None


@pytest.mark.parametrize("text, expected", [
    ("a\ud800b\x1b[31m  x", "a\ufffdb [31m x"),  # a lone high surrogate, a control, two spaces
    ("caf\udcc3\udca9 \udfff", "caf\u00e9 \ufffd"),  # escaped UTF-8 bytes kept, a stray low surrogate replaced
    ("ok \udce9", "ok \ufffd"),  # an escaped byte that is not UTF-8
])
def test_clean_line_never_raises_on_surrogates(text: str, expected: str) -> None:
    from mailticket_tui.engine.parse.headers import clean_line

    assert clean_line(text) == expected
