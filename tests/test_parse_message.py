"""parse_message fields: headers, addresses, ids, dates, body choice, attachments, auto-mail verdicts."""
from __future__ import annotations

import pytest

from mailticket_tui.engine.parse import ParseOptions, parse_message

ALT = (b"From: =?utf-8?q?Doe=2C_J=C3=BCrgen?= <J.Doe@Example.com>\r\nTo: a@x.org, \"B, C\" <b@x.org>\r\n"
       b"Cc: undisclosed-recipients:;\r\nSubject: =?iso-8859-1?q?Gr=FC=DFe?=\r\n =?utf-8?b?IPCfmIA=?=\r\n"
       b"Message-ID: <id1@x>\r\nIn-Reply-To: <id0@x>\r\nReferences: <r1@x> <id0@x>\r\n"
       b"Date: Tue, 3 Apr 2012 16:55:26 +0400\r\nContent-Type: multipart/alternative; boundary=\"a\"\r\n\r\n"
       b"--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain \xc3\xa9\r\n"
       b"--a\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>html <b>\xc3\xa9</b><img src=\"http://t/x.gif\">"
       b"<script>x()</script></p>\r\n--a--\r\n")


def test_headers_addresses_ids_and_date() -> None:
    parsed = parse_message(ALT)
    assert parsed.subject == "Grüße 😀"
    assert parsed.from_.name == "Doe, Jürgen" and parsed.from_.email == "J.Doe@Example.com"
    assert parsed.from_.key == "j.doe@example.com"
    assert [a.email for a in parsed.to] == ["a@x.org", "b@x.org"] and parsed.to[1].name == "B, C"
    assert parsed.message_id == "id1@x" and parsed.in_reply_to == "id0@x"
    assert parsed.references == ("r1@x", "id0@x")
    assert parsed.date is not None and parsed.date.utcoffset() is not None
    assert parsed.sha256 and parsed.size == len(ALT) and parsed.error is None


def test_body_parts_order() -> None:
    html_first = parse_message(ALT)
    assert html_first.body_format == "html" and "html é" in html_first.body_text
    assert "script" not in html_first.body_html and "http://t/x.gif" not in html_first.body_html
    assert html_first.text_plain.startswith("plain é")
    text_first = parse_message(ALT, ParseOptions(body_parts_order=("text/plain", "text/html")))
    assert text_first.body_format == "text" and text_first.body_text == "plain é"


def _auto(extra: bytes, ctype: bytes = b"text/plain", body: bytes = b"hi", subject: bytes = b"Re: hello"):
    raw = (b"From: someone@example.com\r\nSubject: " + subject + b"\r\n" + extra + b"Content-Type: " + ctype
           + b"\r\n\r\n" + body)
    return parse_message(raw)


@pytest.mark.parametrize(
    ("extra", "kind"),
    [
        (b"Auto-Submitted: auto-replied\r\n", "autoreply"),
        (b"Auto-Submitted: auto-generated\r\n", "autoreply"),
        (b"X-Autoreply: yes\r\n", "autoreply"),
        (b"X-Autorespond: on\r\n", "autoreply"),
        (b"Precedence: auto_reply\r\n", "autoreply"),
        (b"X-Auto-Response-Suppress: All\r\n", "autoreply"),
        (b"Return-Path: <>\r\n", "autoreply"),
        (b"Precedence: bulk\r\n", "list"),
        (b"List-Id: <dev.lists.example.com>\r\n", "list"),
        (b"List-Unsubscribe: <mailto:u@example.com>\r\n", "list"),
        (b"Precedence: junk\r\n", "spam"),
        (b"X-Spam-Flag: YES\r\n", "spam"),
    ],
)
def test_auto_headers(extra: bytes, kind: str) -> None:
    parsed = _auto(extra)
    assert parsed.auto_submitted and parsed.auto_kind == kind and parsed.auto_reason


def test_auto_submitted_no_and_plain_reply_are_human() -> None:
    assert not _auto(b"Auto-Submitted: no\r\n").auto_submitted
    assert _auto(b"").auto_kind is None


def test_dsn_bounce_reads_status_and_recipient() -> None:
    body = (b"--r\r\nContent-Type: text/plain\r\n\r\nDelivery failed\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\n"
            b"Reporting-MTA: dns; mx.example.com\r\n\r\nFinal-Recipient: rfc822; lost@example.org\r\n"
            b"Action: failed\r\nStatus: 5.1.1\r\n\r\n--r--\r\n")
    parsed = _auto(b"", b'multipart/report; report-type=delivery-status; boundary="r"', body,
                   b"Undelivered Mail Returned to Sender")
    assert parsed.auto_kind == "bounce" and parsed.bounce_status == "5.1.1"
    assert parsed.bounce_recipients == ("lost@example.org",) and "5.1.1" in parsed.auto_reason


def test_mdn_and_mailer_daemon() -> None:
    mdn = _auto(b"", b'multipart/report; report-type=disposition-notification; boundary="r"',
                b"--r\r\nContent-Type: message/disposition-notification\r\n\r\nx\r\n--r--\r\n")
    assert mdn.auto_kind == "autoreply"
    raw = b"From: MAILER-DAEMON@mx.example.com\r\nSubject: failure notice\r\n\r\nsorry"
    assert parse_message(raw).auto_kind == "bounce"


def test_undesired_subject_patterns() -> None:
    opts = ParseOptions(undesired_subject_patterns=("^Out Of Office", "([bad"))
    parsed = parse_message(b"From: a@b.c\r\nSubject: out of office until Monday\r\n\r\nx", opts)
    assert parsed.undesired and "Out Of Office" in parsed.undesired_reason
