"""New-part extraction: hand-written samples per client and language (text and HTML detectors)."""
from __future__ import annotations

import time

import pytest

from mailticket_tui.engine.parse import ParseOptions, extract_new_part

NEW = "Thanks, the printer works again.\nSee you tomorrow."
OLD = "The printer on floor 2 is broken.\nCan you look at it?"


def text_of(body: str, **opts) -> str:
    return extract_new_part(body, None, ParseOptions(**opts)).text


def squash(text: str) -> str:
    return " ".join(text.split())


# ------------------------------------------------------------------------------------------ plain text
@pytest.mark.parametrize(
    "intro",
    [
        "On Mon, Apr 2, 2012 at 6:26 PM, Megan One <megan@example.com> wrote:",
        "On Apr 2, 2012, at 18:26, Megan One <megan@example.com> wrote:",
        "Le lun. 2 avr. 2012 à 18:26, Megan One <megan@example.com> a écrit :",
        "Am Mo., 2. Apr. 2012 um 18:26 Uhr schrieb Megan One <megan@example.com>:",
        "El lun., 2 abr. 2012 a las 18:26, Megan One (<megan@example.com>) escribió:",
        "Il giorno lun 2 apr 2012 alle ore 18:26 Megan One <megan@example.com> ha scritto:",
        "Em seg., 2 de abr. de 2012 às 18:26, Megan One <megan@example.com> escreveu:",
        "Op ma 2 apr. 2012 om 18:26 schreef Megan One <megan@example.com>:",
        "Den man. 2. apr. 2012 kl. 18.26 skrev Megan One <megan@example.com>:",
        "Den mån 2 apr. 2012 kl 18:26 skrev Megan One <megan@example.com>:",
        "ma 2. huhtik. 2012 klo 18.26 Megan One <megan@example.com> kirjoitti:",
        "W dniu pon., 2.04.2012 o 18:26 Megan One <megan@example.com> napisał(a):",
        "пн, 2 апр. 2012 г. в 18:26, Megan One <megan@example.com>:",
        "2012年4月2日(月) 18:26 Megan One <megan@example.com>:",
        "Megan One <megan@example.com> ezt írta (időpont: 2012. ápr. 2., H 18:26):",
        "--- On Mon, 4/2/12, Megan One <megan@example.com> wrote:",
        "Megan One wrote:",
    ],
)
def test_on_wrote_in_many_languages(intro: str) -> None:
    body = f"{NEW}\n\n{intro}\n\n> {OLD.replace(chr(10), chr(10) + '> ')}\n"
    part = extract_new_part(body, None)
    assert squash(part.text) == squash(NEW)
    assert part.confident
    assert "printer on floor 2" in part.quoted_text


def test_on_wrote_wrapped_over_three_lines_without_quote_marks() -> None:
    body = f"{NEW}\n\nOn Wed, Dec 9, 2015 at 9:00 AM, Mister Example\n<mr@example.com>\nwrote:\n\n{OLD}\n"
    assert squash(text_of(body)) == squash(NEW)


@pytest.mark.parametrize(
    "header",
    [
        "From: Megan One <megan@example.com>\nSent: Monday, April 2, 2012 6:26 PM\nTo: Support\nSubject: Printer",
        "________________________________\nFrom: Megan One\nSent: Monday, April 2, 2012 6:26 PM\nTo: Support\n"
        "Subject: Printer",
        "-----Original Message-----\nFrom: Megan One\nSent: Monday\nTo: Support\nSubject: Printer",
        "De : Megan One\nEnvoyé : lundi 2 avril 2012 18:26\nÀ : Support\nObjet : Imprimante",
        "Von: Megan One\nGesendet: Montag, 2. April 2012 18:26\nAn: Support\nBetreff: Drucker",
        "Van: Megan One\nVerzonden: maandag 2 april 2012 18:26\nAan: Support\nOnderwerp: Printer",
        "Da: Megan One\nInviato: lunedì 2 aprile 2012 18:26\nA: Support\nOggetto: Stampante",
        "De: Megan One\nEnviado el: lunes, 2 de abril de 2012 18:26\nPara: Support\nAsunto: Impresora",
        "Fra: Megan One\nSendt: 2. april 2012 18:26\nTil: Support\nEmne: Printer",
        "Från: Megan One\nSkickat: den 2 april 2012 18:26\nTill: Support\nÄmne: Skrivare",
        "Lähettäjä: Megan One\nLähetetty: 2. huhtikuuta 2012 18.26\nVastaanottaja: Support\nAihe: Tulostin",
        "Od: Megan One\nWysłano: poniedziałek, 2 kwietnia 2012 18:26\nDo: Support\nTemat: Drukarka",
        "От: Megan One\nОтправлено: 2 апреля 2012 г. 18:26\nКому: Support\nТема: Принтер",
        "差出人: Megan One\n送信日時: 2012年4月2日 18:26\n宛先: Support\n件名: プリンタ",
        "*From:* Megan One [mailto:megan@example.com]\n*Sent:* Monday, April 2, 2012\n*To:* Support\n*Subject:* x",
        "From:\tMegan One/ACME@ACME\nTo:\tSupport\nDate:\t04/02/2012 06:26 PM\nSubject:\tPrinter",
        "-------- Original message --------\nFrom: Megan One <megan@example.com>\nDate: 02/04/2012 18:26",
    ],
)
def test_reply_header_blocks(header: str) -> None:
    body = f"{NEW}\n\n{header}\n\n{OLD}\n"
    part = extract_new_part(body, None)
    assert squash(part.text) == squash(NEW), part.method


def test_inline_reply_keeps_answers_between_quotes() -> None:
    body = "Hi,\nOn Tue, 2011-03-01 at 18:02 +0530, Bob wrote:\n> question one?\n\nAnswer one.\n\n> question two?\n\nAnswer two.\n"
    text = text_of(body)
    assert "Answer one." in text and "Answer two." in text
    assert "question" not in text


def test_bottom_posted_reply() -> None:
    body = "On 04/02/2012 06:26 PM, Megan One wrote:\n> Hi\nHello there\n"
    assert text_of(body).strip() == "Hello there"


def test_forward_keeps_the_forwarded_content() -> None:
    body = f"FYI, see below.\n\n---------- Forwarded message ---------\nFrom: Megan <m@example.com>\n" \
           f"Date: Mon, Apr 2, 2012\nSubject: Printer\n\n{OLD}\n"
    part = extract_new_part(body, None)
    assert part.forwarded and "printer on floor 2" in part.text


def test_mobile_signature_ends_the_new_part() -> None:
    body = f"{NEW}\n\nSent from my iPhone\n\n{OLD}\n"
    part = extract_new_part(body, None)  # shipped default: the device line is removed, still reported
    assert squash(part.text) == squash(NEW)
    assert part.signature == "Sent from my iPhone"
    assert squash(text_of(body, strip_standard_signature=False)) == squash(NEW + " Sent from my iPhone")
    assert squash(text_of(body, strip_signature=True)) == squash(NEW)


@pytest.mark.parametrize(
    "device_line",
    [
        "Sent from my iPhone",
        "Sent from my Verizon Wireless BlackBerry",
        "Get Outlook for iOS<https://aka.ms/o0ukef>",
        "Gesendet von Outlook für Android<https://aka.ms/AAb9ysg>",
        "Envoyé de mon iPad",
        "Enviado desde mi teléfono Samsung Galaxy",
        "Inviato da iPhone",
        "Verzonden vanaf mijn iPhone",
        "Skickat från min iPhone",
        "Wysłane z mojego telefonu",
        "Отправлено с iPhone",
        "iPhoneから送信",
    ],
)
def test_device_line_removed_by_the_shipped_default(device_line: str) -> None:
    body = f"{NEW}\n\n{device_line}\n"
    assert squash(text_of(body)) == squash(NEW)
    assert device_line in text_of(body, strip_standard_signature=False)


def test_rfc3676_block_removed_by_default_kept_by_the_reference() -> None:
    body = f"{NEW}\n\n-- \nAlice Martin\nIT team\n"
    assert squash(text_of(body)) == squash(NEW)
    assert extract_new_part(body, None).signature.startswith("--")  # reported even when removed
    assert "Alice Martin" in text_of(body, strip_standard_signature=False)
    assert squash(text_of(body, strip_signature=True)) == squash(NEW)


@pytest.mark.parametrize(
    "body",
    [
        f"{NEW}\n\n-Alice Martin\n",          # a dash glued to a name: strip_signature only
        f"{NEW}\n\n__\nAlice Martin\n",       # not the RFC 3676 delimiter
        f"{NEW}\n\nThanks,\nAlice Martin\n",  # a closing is part of the message
    ],
)
def test_shipped_default_keeps_what_is_not_a_standard_signature(body: str) -> None:
    assert "Alice Martin" in text_of(body)


@pytest.mark.parametrize(
    "body",
    [
        "On the surface this looks like a header.\nOn average it works.\n",
        "Here are timestamps:\n2024-01-15 14:30:25\n01/15/2024 at 2:30 PM\n",
        "The report was sent from my iPhone app to all users.\nSent from my desk, which is nicer.\n",
        "I wanted to discuss this with regards to the payment.\n",
        "I'm writing because of:\n-- first point\n-- second point\n\nThanks!",
        "Check https://example.com/on-date-someone-wrote-about-parsing please.\n",
    ],
)
def test_no_false_positive_on_plain_content(body: str) -> None:
    part = extract_new_part(body, None)
    assert squash(part.text) == squash(body)


def test_everything_quoted_falls_back_to_full_text() -> None:
    body = "On Mon, Apr 2, 2012 at 6:26 PM, Megan <m@example.com> wrote:\n> only quoted\n"
    part = extract_new_part(body, None)
    assert part.text.strip() and "only quoted" in part.text
    assert not part.confident


def test_configured_patterns_and_bad_patterns_do_not_break() -> None:
    opts = ParseOptions(multiline_delimiter_patterns=(r"\n== cut here ==\n", "([unclosed"),
                        delimiter_patterns={r"^#.*$": False, r"^STOP$": True})
    body = "keep me\n# drop me\nkeep too\n\n== cut here ==\nold stuff\n"
    text = extract_new_part(body, None, opts).text
    assert "keep me" in text and "keep too" in text and "drop me" not in text and "old stuff" not in text


@pytest.mark.timeout(10)
def test_catastrophic_user_pattern_is_time_bounded() -> None:
    opts = ParseOptions(multiline_delimiter_patterns=(r"^(a|aa)+$",))
    start = time.perf_counter()
    extract_new_part("a" * 40 + "!", None, opts)
    assert time.perf_counter() - start < 3


@pytest.mark.timeout(20)
def test_pathological_text_is_fast() -> None:
    body = "Hi\n" + (">" * 5000 + "\n" + "x" * 5000 + "\n") * 100 + ("On " + "1 " * 20000 + "\n") * 20
    start = time.perf_counter()
    extract_new_part(body, None)
    assert time.perf_counter() - start < 5


# ------------------------------------------------------------------------------------------------ HTML
MINE = "<div>Hi. I am fine.</div><div><br></div><div>Thanks,</div><div>Alex</div>"


def html_part(body: str, **opts):
    return extract_new_part(None, body, ParseOptions(**opts))


def test_gmail_quote_by_class_token() -> None:
    html = (f'<div dir="ltr">{MINE}</div><br><div class="gmail_quote gmail_quote_container">'
            '<div dir="ltr" class="gmail_attr">On Thu, Jun 26, 2014 at 2:14 PM, Sasha &lt;s@example.com&gt; '
            'wrote:<br></div><blockquote class="gmail_quote">Hello! How are you?</blockquote></div>')
    part = html_part(html, html_tags_to_remove={})
    assert squash(part.text) == "Hi. I am fine. Thanks, Alex"
    assert part.method == "gmail-html" and "How are you" not in (part.html or "")


def test_outlook_desktop_border_top_divider() -> None:
    html = ('<div class="WordSection1"><p class="MsoNormal">Hi. I am fine.<o:p></o:p></p>'
            '<p class="MsoNormal">Thanks, Alex</p><p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
            "<div><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in'>"
            '<p class="MsoNormal"><b>From:</b> Sasha &lt;s@example.com&gt;<br><b>Sent:</b> Thursday<br>'
            '<b>To:</b> Alex<br><b>Subject:</b> Hello</p></div></div>'
            '<p class="MsoNormal">Hello! How are you?</p></div>')
    part = html_part(html)
    assert squash(part.text) == "Hi. I am fine. Thanks, Alex"
    assert part.method == "outlook-html"


def test_outlook_french_divider() -> None:
    html = (f'{MINE}<div style="border:none;border-top:solid #B5C4DF 1.0pt">'
            '<p><b>De :</b> Sasha<br><b>Envoyé :</b> jeudi<br><b>À :</b> Alex<br><b>Objet :</b> Salut</p></div>'
            '<p>Bonjour ! Comment vas-tu ?</p>')
    assert "Comment" not in html_part(html).text


def test_owa_divrplyfwdmsg() -> None:
    html = (f'<div>{MINE}</div><hr style="display:inline-block;width:98%" tabindex="-1">'
            '<div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Sasha<br><b>Sent:</b> Thursday</div>'
            '<div>Hello! How are you?</div>')
    part = html_part(html)
    assert squash(part.text) == "Hi. I am fine. Thanks, Alex"
    assert part.method == "owa-html"


def test_apple_mail_blockquote_type_cite() -> None:
    html = (f'<body>{MINE}<div><br><blockquote type="cite"><div>On 26 Jun 2014, at 14:14, Sasha '
            '&lt;s@example.com&gt; wrote:</div><br><div>Hello! How are you?</div></blockquote></div></body>')
    part = html_part(html, html_tags_to_remove={})
    assert squash(part.text) == "Hi. I am fine. Thanks, Alex"
    assert part.method == "apple-html"


def test_apple_mail_intro_outside_the_blockquote_is_removed() -> None:
    html = (f'{MINE}<div><br><div>On 26 Jun 2014, at 14:14, Sasha &lt;s@example.com&gt; wrote:</div>'
            '<br><blockquote type="cite"><div>Hello! How are you?</div></blockquote></div>')
    assert squash(html_part(html, html_tags_to_remove={}).text) == "Hi. I am fine. Thanks, Alex"


def test_thunderbird_moz_cite_prefix() -> None:
    html = (f'<body>{MINE}<div class="moz-cite-prefix">On 26/06/2014 14:14, Sasha wrote:<br></div>'
            '<blockquote type="cite" cite="mid:x@y">Hello! How are you?</blockquote></body>')
    part = html_part(html, html_tags_to_remove={})
    assert squash(part.text) == "Hi. I am fine. Thanks, Alex"
    assert part.method == "thunderbird-html"


def test_thunderbird_bottom_post_keeps_the_answer() -> None:
    html = ('<body><div class="moz-cite-prefix">On 26/06/2014 14:14, Sasha wrote:<br></div>'
            '<blockquote type="cite">Hello! How are you?</blockquote>I am fine, thanks.<br></body>')
    part = html_part(html, html_tags_to_remove={})
    assert squash(part.text) == "I am fine, thanks."


def test_gmail_forward_is_kept() -> None:
    html = ('<div dir="ltr">FYI<br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
            '---------- Forwarded message ---------<br>From: Sasha<br>Date: Thu</div><div>The content</div></div></div>')
    part = html_part(html)
    assert part.forwarded and "The content" in part.text


def test_html_text_level_separator_is_cut_in_html_too() -> None:
    html = ('<font>Hello<br><br><div>-----Original Message-----<br>From: bob<br>To: x<br>Sent: Mon<br>'
            'Subject: Test<br><br>Hi</div></font>')
    part = html_part(html)
    assert part.text.strip() == "Hello"
    assert "Original" not in (part.html or "")


def test_html_signature_kept_and_stripped() -> None:
    html = f'{MINE}<div class="gmail_signature">Alex Martin<br>IT team</div>'
    assert "Alex Martin" in html_part(html).text


@pytest.mark.parametrize(
    ("body", "closing"),
    [
        ("Hej,\n\nSvar.\n\nKh\nPeter\n", "Kh\nPeter"),
        ("Czesc Anno,\n\nJak się masz?\n\nPozdrawiam,\nJan\n", "Pozdrawiam,\nJan"),
        ("Hallo,\n\nerledigt.\n\nMit freundlichen Grüßen\nHans Müller\nIT-Leitung\n",
         "Mit freundlichen Grüßen\nHans Müller\nIT-Leitung"),
        ("Добрый день.\n\nГотово.\n\nС уважением,\nИван Петров\n", "С уважением,\nИван Петров"),
    ],
)
def test_closing_and_name_detected_by_shape_and_kept(body: str, closing: str) -> None:
    part = extract_new_part(body, None)
    assert part.signature == closing
    assert squash(part.text) == squash(body)  # a closing belongs to the message: never removed


@pytest.mark.parametrize(
    "body",
    [
        "Hello\n\nThe printer works.\nSee you tomorrow.\n",   # sentences, not a closing
        "Hi,\n\nsee below.\n\nthanks\nbob\n",                  # lower-case name: not a name line
        "Hi\n\nI wanted to ask:\nIs it done?\n",
        "Thanks,\nAlex\n",                                     # nothing before it: the whole message
    ],
)
def test_no_closing_without_its_shape(body: str) -> None:
    assert extract_new_part(body, None).signature == ""
