"""The structural rules of issue 12: attributions, separators and device lines read by shape in any language,
structural bounces, and the linear fallback for heavy HTML; each with the false positive it must not make."""
from __future__ import annotations

import re

import pytest

from mailticket_tui.engine.parse import extract_new_part, parse_message
from mailticket_tui.engine.parse.html import is_heavy, plain_text_of
from mailticket_tui.engine.parse.patterns import INTRO_VERB, INTRO_VERB_HINTS, is_device_line

QUOTE = "> Bitte melden Sie sich erneut an.\n> Viele Grüße\n> Tom\n"


def new_text(body: str) -> str:
    return extract_new_part(body, None).text


@pytest.mark.parametrize("attribution", [
    "20.07.2024 11:38 kirjutas Mikko Virtanen:",  # Thunderbird, Estonian: verb after date, no address
    "ב-16/07/2025 15:51, יוסי לוי כתב/ה:",  # Hebrew
    "15 junio 2023 18:21:29 GMT+01:00, Luc Martin <support@example.org>",  # K-9: no verb, no colon
    "Jan Kowalski <support@example.org> · 2025-11-15 06:43:53:",  # name first, ISO date
    "2024-02-05T10:14:00+01:00, Peter Weber <p@example.org>:",  # ISO with offset
])
def test_attribution_by_shape_above_a_quote(attribution: str) -> None:
    body = f"Danke, jetzt geht es.\n\nPetra\n\n{attribution}\n{QUOTE}"
    assert new_text(body) == "Danke, jetzt geht es.\n\nPetra"


@pytest.mark.parametrize("sentence", [
    "As the contract of 05.02.2024 says:",  # a date and a colon above a quoted clause: no clock, no address
    "Parts arrive on 05.03.2024 at 10:14 (Stock <stock@example.org>):",  # the whole shape, but no quote below
])
def test_customer_sentences_with_dates_and_colons_stay(sentence: str) -> None:
    body = f"Hello,\n\n{sentence}\n- 2 toner\n- 1 drum\n\nRegards,\nAnna"
    assert new_text(body) == body


@pytest.mark.parametrize("attribution", [
    '12.03.2026, 09.15, "Ann - Lee" <ann@example.org>:',  # date first, no verb
    "2026-03-12 09:15 GMT+01:00 Ann Lee <ann@example.org>:",  # ISO date and zone
    "9:15 AM, March 12, 2026, Ann Lee <ann@example.org>:",  # time first
    "чт, 12 мар. 2026\u202fг. в 09:15, Ann Lee <ann@example.org>:",  # weekday, then the date
    "Thursday, 12 March 2026, 9:15 AM +0100 from ann@example.org <ann@example.org>:",
    "On Thu, 12 Mar 2026 09:15:00 +0100 Ann Lee <ann@example.org> wrote",  # the verb last, its colon lost
])
def test_attribution_without_a_quote_block_below(attribution: str) -> None:
    """Clients that quote without '>': a paragraph that starts with its date and ends with the sender's
    address and a colon (or an intro word, a date, the address and the verb last) starts the history."""
    body = f"Fixed on our side, thanks.\n\nBob\n\n{attribution}\n\nThe printer on floor 2 jams again."
    assert new_text(body) == "Fixed on our side, thanks.\n\nBob"


@pytest.mark.parametrize("sentence", [
    "12.03.2026, the supplier said (Stock <stock@example.org>):",  # ends in a bracket, not the address
    "On 12.03.2026 the supplier <stock@example.org> wrote",  # the verb last, but the paragraph goes on
])
def test_dated_customer_lines_without_a_quote_stay(sentence: str) -> None:
    body = f"Hello,\n\n{sentence}\nthat the toner ships on Friday.\n\nRegards,\nAnna"
    assert new_text(body) == body


def test_a_header_without_a_blank_line_above_keeps_the_body_line_above() -> None:
    body = ("Line one.\n\nLine two of the answer, the last one.\n"
            "On Thu, Mar 12, 2026 at 9:15 AM, Ann Lee <ann@example.org> wrote:\n> the old question\n")
    assert new_text(body) == "Line one.\n\nLine two of the answer, the last one."


def test_a_short_rule_above_a_header_block_starts_the_history() -> None:
    history = ("====\n\nMessage du : 12/03/2026 09:15\nDe : \"Ann Lee\" <ann@example.org>\nA : desk@example.org\n"
               "Sujet : Imprimante\n\nL'imprimante bloque.")
    assert new_text(f"C'est réparé.\n\n{history}") == "C'est réparé."
    table = "Totals\n====\nToner: 3\nDrums: 4\nPaper: 10\n\nThanks"  # a short rule under a title: no header
    assert new_text(table) == table


@pytest.mark.parametrize("last, signature", [("/John", "/John"), ("-Anna", "-Anna"), ("/etc/hosts", "")])
def test_a_name_glued_to_a_dash_or_slash_signs_off(last: str, signature: str) -> None:
    assert extract_new_part(f"I will call you tomorrow.\n\n{last}\n", None).signature == signature


def test_apple_mail_dutch_attribution_without_a_quote_block() -> None:
    body = ("Het werkt weer.\n\nOp 17-feb.-2026, om 13:18 heeft Anna Lee <anna@example.org> het volgende "
            "geschreven:\n\nDe printer loopt vast.\n")
    assert new_text(body) == "Het werkt weer."


def test_a_flattened_header_under_a_rule_in_html() -> None:
    html = ("<p>Reply</p><div><hr/><div><font><b>From: bob@example.org</b> <b>Date: Thu, 12 Mar 2026 08:07:12 "
            "-0700</b></font></div><div>Quoted message</div></div>")
    assert extract_new_part(None, html).text == "Reply"


@pytest.mark.parametrize("line, kept", [
    ("Fixed now. On Thu, 12 Mar 2026 at 09:15, Ann Lee <ann@example.org> wrote:", "Fixed now."),
    ("Fixed now--- On Thu, 12 Mar 2026 at 09:15, ann@example.org wrote:", "Fixed now"),
    ("Fixed now - really--- On Thu, 12 Mar 2026 at 09:15, ann@example.org wrote:", "Fixed now - really"),
])
def test_an_attribution_glued_to_the_last_words(line: str, kept: str) -> None:
    """Joined by a client or an HTML-to-text step: the words before the attribution stay new text."""
    assert new_text(f"Hello Ann,\n\n{line}\n> Does it print?\n") == f"Hello Ann,\n\n{kept}"


@pytest.mark.parametrize("attribution", [
    "На 3 май 2026 г., в 18:33, Петър <p@example.org> написа:",  # an intro word we lack, then a date
    "佐藤 健 wrote on 2026/03/12 10:13:",  # name, verb, then the date
])
def test_whole_attributions_are_not_split(attribution: str) -> None:
    assert new_text(f"Благодаря.\n\n{attribution}\n> Въпрос\n") == "Благодаря."


OWN_HEADER = ("From: Jan Nowak <jan@example.org>\nSent: Wednesday, 11 March 2026 12:00\nTo: Desk <desk@example.org>\n"
              "Subject: Re: Printer\n\n")


def test_the_mails_own_header_pasted_on_top() -> None:
    """An exported mail starts with its own From/Sent/To/Subject: the new part is what follows, up to the
    history; with no history below, the block may be the quoted mail itself and the text is kept whole."""
    body = ("Hi Anna,\n\nthe printer works again.\n\nJan\n\n"
            "On Tue, 10 Mar 2026 at 14:00, Anna Lee <anna@example.org> wrote:\n> Does it print?\n")
    assert new_text(OWN_HEADER + body) == "Hi Anna,\n\nthe printer works again.\n\nJan"
    alone = OWN_HEADER + "The printer jams.\n"
    assert new_text(alone) == alone.strip()


def test_wrapped_header_separator() -> None:
    body = 'Thanks!\n\nAnna\n\n>>> "Peter Weber" <p@example.org> 3/14/2024 7:32 AM >>>\nHi Anna,\nplease retry.\n'
    assert new_text(body) == "Thanks!\n\nAnna"


@pytest.mark.parametrize("line", ["iPhone'umdan gönderildi", "Odoslané z iPhonu", "发自我的小米手机",
                                  "Poslano s mog Galaxyja", "Von meinem Samsung Galaxy Smartphone gesendet."])
def test_device_lines_in_any_language_are_stripped(line: str) -> None:
    message = "Hi Tom,\n\nit works now.\n\nCheers,\nAnna"
    assert new_text(f"{message}\n\n{line}") == message


@pytest.mark.parametrize("line", ["My Galaxy phone won't sync", "My iPhone is broken"])
def test_device_sentences_stay(line: str) -> None:
    body = f"Hi,\n\nthe app crashes on start.\n\n{line}"
    assert new_text(body) == body
    assert not is_device_line("My Galaxy phone won't sync")


def test_every_attribution_verb_has_a_hint() -> None:
    """The C-speed prefilter may only skip lines the verb regex cannot match."""
    for alternative in INTRO_VERB.pattern[3:-1].split("|"):
        literal = re.sub(r"\\[bs]\+?|\^|\\[()]|\(a\)|\\", " ", alternative)
        literal = literal.replace("[ée]", "é").replace("[óo]", "ó").lower()
        assert any(hint in literal for hint in INTRO_VERB_HINTS), alternative


BOUNCE_REPORT = (
    "From: Mail System <mailadmin@mx1.example.jp>\nTo: support@example.com\nSubject: Zustellung gescheitert\n"
    "Message-ID: <r1@mx1.example.jp>\n\nDie Nachricht konnte nicht zugestellt werden.\n\n"
    "  550 5.1.1 <tanaka@example.co.jp>... User unknown\n\n------ Originalnachricht ------\n"
    "Received: from mail.example.com by mx1.example.jp; Tue, 05 Mar 2024 10:14:20 +0900\n"
    "From: Support <support@example.com>\nTo: tanaka@example.co.jp\nSubject: Ihre Anfrage\n"
).encode()


def test_bounce_without_dsn_structure() -> None:
    parsed = parse_message(BOUNCE_REPORT)
    assert parsed.auto_kind == "bounce" and "5.1.1" in parsed.auto_reason


def test_a_forwarded_report_is_not_a_bounce() -> None:
    raw = BOUNCE_REPORT.replace(b"Subject: Zustellung gescheitert", b"Subject: Fwd: Zustellung gescheitert")
    raw = raw.replace(b"mailadmin@mx1.example.jp", b"linda@customer.example.org")
    assert parse_message(raw).auto_kind is None


def _mta_mail(headers: str, body: str = "The mail could not be delivered.\n", original: bool = False) -> bytes:
    head = "Date: Thu, 12 Mar 2026 09:15:00 +0100\nTo: desk@example.org\nMessage-ID: <n1@mx.example.org>\n"
    if not original:
        return f"{head}{headers}\nContent-Type: text/plain\n\n{body}".encode()
    return (f"{head}{headers}\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
            f"Content-Type: text/plain\n\n{body}\n--b\nContent-Type: message/rfc822\n\n"
            "From: desk@example.org\nTo: gone@example.net\nSubject: Your ticket\n\nHello\n--b--\n").encode()


@pytest.mark.parametrize("raw", [
    _mta_mail("From: MAILER-DAEMON <>\nSubject: Mail delivery failed"),  # the null sender in From
    _mta_mail("Return-Path: <>\nAuto-Submitted: auto-replied\nFrom: Mail Delivery System <mailer-daemon@mx.example"
              ".org>\nSubject: Mail failure - malformed recipient address"),  # the MTA's identity beats Auto-Submitted
    _mta_mail("Return-Path: <>\nFrom: no-reply@mx.example.org\nSubject: Mail", original=True),  # returns the mail
    _mta_mail("From: post_master@sms.example.net\nSubject: Re:Your ticket",
              "Error: Invalid user address\n550 - Requested action not taken: no such user here\n"),
], ids=["null-sender-in-from", "mta-identity-over-auto-submitted", "null-sender-returning-the-mail", "post_master"])
def test_bounces_by_their_sender(raw: bytes) -> None:
    assert parse_message(raw).auto_kind == "bounce"


def test_a_null_sender_vacation_reply_stays_an_auto_reply() -> None:
    raw = _mta_mail("Return-Path: <>\nFrom: Anna <anna@example.net>\nSubject: Away until Monday",
                    "I am away until Monday.\n")
    assert parse_message(raw).auto_kind == "autoreply"


def test_heavy_html_is_read_as_text() -> None:
    html = "<p>Hello &amp; welcome</p>" + "<span>x</span>" * 20_000 + "<p>On Mon, 1 Jan 2024 at 10:00, a@b.c wrote:</p>"
    assert is_heavy(html) and plain_text_of(html).startswith("Hello & welcome")
    defects: list[str] = []
    part = extract_new_part(None, html, defects=defects)
    assert part.text.startswith("Hello & welcome") and "wrote:" not in part.text
    assert any("read as plain text" in d for d in defects)


@pytest.mark.parametrize("history", [
    "-----Mesazhi origjinal-----\nNga: Jan <jan@example.org>\nDërguar: e premte, 8 korrik 2024 20:00\n"
    "Për: Lena <lena@example.com>\nSubjekti: Printeri",  # a titled separator and labels no list holds
    "No: Tom Baker <tom@example.org>\nNosūtīts: sestdiena, 2023. gada 4. marts 05:39\n"
    "Kam: Anna <anna@example.com>\nTēma: RE: Printeris",  # no separator: "Name <addr>" first, a clock time
])
def test_reply_header_block_by_shape(history: str) -> None:
    body = f"Paldies!\n\nAnna\n\n{history}\n\nLūdzu, piesakieties vēlreiz.\n"
    assert new_text(body) == "Paldies!\n\nAnna"


def test_a_customer_form_with_time_and_address_stays() -> None:
    body = ("New support request\n\nName: Maria Lopez\nEmail: maria.lopez@example.org\nPhone: +44 20 7946 0000\n"
            "Date: 05.03.2024 10:14\nSubject: Printer jam\n\nThe printer jams on every page.")
    assert new_text(body) == body


def test_dated_attribution_without_colon_and_cjk_rules() -> None:
    assert new_text(f"Fine.\n\nOn 5 Mar 2024 10:14, Maria wrote\n{QUOTE}") == "Fine."
    body = ("了解しました。\n\n＿＿＿＿＿＿＿＿＿＿\n差出人: 佐藤 <sato@example.jp>\n送信日時: 2024年3月5日 10:14\n"
            "宛先: support@example.com\n件名: RE: 請求書\n\n前のメール")
    assert new_text(body) == "了解しました。"


def test_an_undated_as_x_wrote_above_a_quote_stays() -> None:
    body = "Hi,\n\nAs John wrote\n> the printer is broken\n\nI can confirm that.\n\nAnna"
    assert new_text(body) == "Hi,\n\nAs John wrote\n\nI can confirm that.\n\nAnna"


@pytest.mark.parametrize("header", ["X-Mail-Autoreply: yes", "X-Autoreply-From: anna@example.org",
                                    "X-Apple-Action: vacation", "X-Vacation: 1"])
def test_pre_rfc3834_auto_reply_headers(header: str) -> None:
    raw = (f"From: Anna <anna@example.org>\nTo: support@example.com\nSubject: Re: [#4711] Drucker\n{header}\n"
           "Message-ID: <v1@example.org>\n\nIch bin bis Montag nicht erreichbar.\n").encode()
    assert parse_message(raw).auto_kind == "autoreply"
