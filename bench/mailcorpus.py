"""A realistic generated mail corpus for the benches, deterministic by (count, seed); a smaller count gives a
prefix of a larger one.

What a helpdesk mailbox receives: new requests and replies quoting earlier mails of the corpus
(In-Reply-To/References name them, so a ticket tool threads the reply onto the request's ticket), a few
auto-replies (RFC 3834 Auto-Submitted), several senders of a few companies, English and French bodies.
Formats: text/plain only, HTML with a text alternative (Gmail-, Outlook- and Thunderbird-shaped markup,
Outlook's style boilerplate and an inline cid: logo), HTML only. Charsets utf-8 and iso-8859-1, bodies
in quoted-printable, base64 or 8bit. About a fifth of the mails carry files: PDF-like binaries, real PNG
screenshots, docx-like zips, logs. Sizes have a long tail: most mails a few KB, some hundreds of KB, and
one in 200 carries a 1-4 MB file. Built with the stdlib `email` package only; knows nothing of MailTicket.
"""
from __future__ import annotations

import base64
import hashlib
import io
import random
import struct
import textwrap
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime

WORDS = {
    "en": ("printer network invoice password reset laptop screen broken urgent please thanks meeting server "
           "access account email phone update install license backup restore error message login vpn since "
           "yesterday the a to of and for is on with this that it not we you have be could check again office "
           "monitor cable docking station shared drive calendar outlook teams slow crash ticket").split(),
    "fr": ("imprimante réseau facture mot de passe réinitialiser portable écran cassé urgent merci réunion "
           "serveur accès compte courriel téléphone mise à jour installer licence sauvegarde restaurer erreur "
           "connexion depuis hier le la les des et pour est sur avec ce cela ne pas nous vous avoir être "
           "pourriez vérifier encore bureau câble station partagé agenda lenteur plantage élève où déjà").split(),
}
PEOPLE = [("Alice Martin", "en"), ("Bob Okafor", "en"), ("Chen Wei", "en"), ("Dana Schmidt", "en"),
          ("Émile Dupont", "fr"), ("Farah Haddad", "fr"), ("Gustav Nyström", "en"), ("Hana Nakamura", "en"),
          ("Ivan Petrov", "en"), ("Júlia Rossi", "fr"), ("Zoë Lefèvre", "fr"), ("François Côté", "fr"),
          ("Søren Ødegård", "en"), ("Łukasz Wróbel", "en"), ("Mary O'Neil", "en"), ("Renée Girard", "fr")]
DOMAINS = ["acme.example", "globex.example", "initech.example", "umbrella.example", "hooli.example"]
OUTLOOK_STYLE = ("<style><!--\n/* Font Definitions */\n@font-face {font-family:\"Cambria Math\"; panose-1:2 4 5 3 5 4 6 3 2 4;}\n"
                 "@font-face {font-family:Calibri; panose-1:2 15 5 2 2 2 4 3 2 4;}\n"
                 "p.MsoNormal, li.MsoNormal, div.MsoNormal {margin:0cm; font-size:11.0pt; font-family:\"Calibri\",sans-serif;}\n"
                 "a:link, span.MsoHyperlink {mso-style-priority:99; color:#0563C1; text-decoration:underline;}\n"
                 "span.EmailStyle17 {mso-style-type:personal-compose; font-family:\"Calibri\",sans-serif; color:windowtext;}\n"
                 ".MsoChpDefault {mso-style-type:export-only; font-family:\"Calibri\",sans-serif;}\n"
                 "@page WordSection1 {size:612.0pt 792.0pt; margin:72.0pt 72.0pt 72.0pt 72.0pt;}\n"
                 "div.WordSection1 {page:WordSection1;}\n--></style><!--[if gte mso 9]><xml>\n"
                 "<o:shapedefaults v:ext=\"edit\" spidmax=\"1026\" />\n</xml><![endif]--><!--[if gte mso 9]><xml>\n"
                 "<o:shapelayout v:ext=\"edit\"><o:idmap v:ext=\"edit\" data=\"1\" /></o:shapelayout></xml><![endif]-->")
START = datetime(2026, 9, 1, 8, 0, tzinfo=timezone(timedelta(hours=2)))


@dataclass(frozen=True)
class Mail:
    """One generated message: its bytes (LF line ends), kind (request | reply | autoreply), Message-ID and
    number of attached files."""

    raw: bytes
    kind: str
    message_id: str
    files: int


@dataclass
class _Sent:
    message_id: str
    references: list[str]
    subject: str
    sender: tuple[str, str, str]  # name, address, language
    when: datetime
    text: str


def build(count: int, seed: int = 1) -> list[Mail]:
    """`count` mails: ~55 % new requests, ~42 % replies to an earlier mail, ~3 % auto-replies."""
    rng = random.Random(seed)
    senders = [(name, _address(rng, name, domain), lang)
               for domain in DOMAINS for name, lang in rng.sample(PEOPLE, 5)]
    logos = {domain: _png(rng, 180, 60, 2_000) for domain in DOMAINS}
    sent: list[_Sent] = []
    mails = []
    for i in range(count):
        when = START + timedelta(minutes=7 * i + rng.randint(0, 6))
        roll = rng.random()
        if roll < 0.03:
            mails.append(_autoreply(rng, rng.choice(senders), when, rng.choice(sent).subject if sent else "Ticket"))
            continue
        reply_to = rng.choice(sent[-150:]) if sent and roll < 0.45 else None
        if reply_to is None:
            sender = rng.choice(senders)
        elif rng.random() < 0.8:
            sender = reply_to.sender
        else:  # a colleague answers in the thread
            sender = rng.choice([s for s in senders if s[1].split("@")[1] == reply_to.sender[1].split("@")[1]])
        mail, record = _mail(rng, i, sender, when, reply_to, logos)
        sent.append(record)
        mails.append(mail)
    return mails


def _address(rng: random.Random, name: str, domain: str) -> str:
    plain = unicodedata.normalize("NFKD", name.lower().replace("ł", "l").replace("ø", "o").replace(" ", "."))
    local = "".join(c for c in plain if c.isascii() and (c.isalnum() or c == "."))
    return f"{local}{rng.randint(1, 9) if rng.random() < 0.2 else ''}@{domain}"


def _text(rng: random.Random, lang: str, paragraphs: int) -> str:
    words = WORDS[lang]
    paras = []
    for _ in range(paragraphs):
        sentences = [" ".join(rng.choice(words) for _ in range(rng.randint(6, 18))).capitalize() + rng.choice(".?!.")
                     for _ in range(rng.randint(2, 5))]
        paras.append(" ".join(sentences))
    return "\n\n".join(paras)


def _headers(rng: random.Random, msg: EmailMessage, sender: tuple[str, str, str], when: datetime) -> None:
    domain = sender[1].split("@")[1]
    for hop in range(rng.randint(2, 4)):
        stamp = format_datetime(when - timedelta(seconds=hop * rng.randint(1, 5)))
        msg["Received"] = (f"from mail{hop}.{domain} (mail{hop}.{domain} [198.51.100.{rng.randint(1, 254)}]) "
                           f"by mx.example.test (Postfix) with ESMTPS id {rng.getrandbits(40):X} "
                           f"for <support@example.test>; {stamp}")
    msg["Authentication-Results"] = f"mx.example.test; dkim=pass header.d={domain}; spf=pass smtp.mailfrom={domain}"
    msg["DKIM-Signature"] = (f"v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s=sel1; "
                             f"h=from:to:subject:date:message-id; bh={base64.b64encode(rng.randbytes(32)).decode()}; "
                             f"b={' '.join(textwrap.wrap(base64.b64encode(rng.randbytes(256)).decode(), 70))}")
    msg["From"] = f"{sender[0]} <{sender[1]}>"
    msg["To"] = "Support <support@example.test>"
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<{rng.getrandbits(64):016x}.{rng.getrandbits(20)}@{domain}>"
    msg["MIME-Version"] = "1.0"


def _autoreply(rng: random.Random, sender: tuple[str, str, str], when: datetime, subject: str) -> Mail:
    msg = EmailMessage()
    _headers(rng, msg, sender, when)
    msg["Subject"] = ("Réponse automatique : " if sender[2] == "fr" else "Automatic reply: ") + subject
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(f"I am out of the office until {format_datetime(when + timedelta(days=5))[:16]} with limited "
                    "access to email. For urgent matters please call the front desk.\n")
    return Mail(bytes(msg), "autoreply", msg["Message-ID"], 0)


def _mail(rng: random.Random, i: int, sender: tuple[str, str, str], when: datetime, parent: _Sent | None,
          logos: dict[str, bytes]) -> tuple[Mail, _Sent]:
    name, addr, lang = sender
    msg = EmailMessage()
    _headers(rng, msg, sender, when)
    long_body = rng.random() < 0.03
    text = _text(rng, lang, rng.randint(15, 60) if long_body else rng.randint(1, 4)) + f"\n\n-- \n{name}\n"
    client = rng.choice(("gmail", "outlook", "thunderbird"))
    quote_html = ""
    if parent is None:
        subject = " ".join(rng.choice(WORDS[lang]) for _ in range(rng.randint(3, 7))).capitalize() + f" #{i}"
        references: list[str] = []
    else:
        subject = parent.subject if parent.subject.startswith(("Re: ", "RE: ")) else f"Re: {parent.subject}"
        references = (parent.references + [parent.message_id])[-10:]
        msg["In-Reply-To"] = parent.message_id
        msg["References"] = " ".join(references)
        quoted = parent.text[:6000]
        intro = f"On {format_datetime(parent.when)[:16]}, {parent.sender[0]} <{parent.sender[1]}> wrote:"
        if client == "outlook":
            header = (f"From: {parent.sender[0]} <{parent.sender[1]}>\nSent: {format_datetime(parent.when)}\n"
                      f"To: Support <support@example.test>\nSubject: {parent.subject}")
            text += f"\n________________________________\n{header}\n\n{quoted}\n"
            quote_html = f"<div><hr>{_paras(header)}</div>{_paras(quoted)}"
        else:
            text += f"\n{intro}\n" + "\n".join(f"> {line}" if line else ">" for line in quoted.splitlines()) + "\n"
            cls = "gmail_quote" if client == "gmail" else "moz-cite-prefix"
            quote_html = f'<div class="{cls}">{intro}<br></div><blockquote type="cite">{_paras(quoted)}</blockquote>'
    msg["Subject"] = subject
    if client == "outlook":
        msg["Thread-Index"] = rng.randbytes(22).hex()
        msg["X-MS-Exchange-Organization-SCL"] = "1"
    elif client == "thunderbird":
        msg["User-Agent"] = "Mozilla/5.0 Thunderbird/128.3.1"
    charset = "iso-8859-1" if rng.random() < (0.35 if lang == "fr" else 0.1) else "utf-8"
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        charset = "utf-8"
    cte = rng.choice(["quoted-printable", "quoted-printable", "base64", "8bit"] if charset == "utf-8"
                     else ["quoted-printable", "8bit"])
    form = rng.random()
    body = _paras(text.split("\n\n-- \n")[0]) + f"<p>-- <br>{name}</p>"
    logo = client == "outlook" and rng.random() < 0.5
    if logo:
        body += '<p><img src="cid:logo@company" width="180" height="60" alt="logo"></p>'
    html = _html(client, body + quote_html)
    if form < 0.3:
        msg.set_content(text, charset=charset, cte=cte)
    elif form < 0.88:
        msg.set_content(text, charset=charset, cte=cte)
        msg.add_alternative(html, subtype="html", charset=charset, cte=cte)
    else:
        msg.set_content(html, subtype="html", charset=charset, cte=cte)
    if logo and msg.is_multipart():
        msg.get_payload()[1].add_related(logos[addr.split("@")[1]], "image", "png", cid="<logo@company>",
                                         filename="image001.png")
    files = 0
    if rng.random() < 0.2 or i % 200 == 137:
        for n in range(rng.choice((1, 1, 1, 2, 3))):
            size = rng.randint(800_000, 2_900_000) if i % 200 == 137 and n == 0 else min(
                int(rng.lognormvariate(10.6, 1.3)), 2_900_000)
            _attach(rng, msg, max(size, 300), i, n)
            files += 1
    for k, part in enumerate(p for p in msg.walk() if p.is_multipart()):  # else the stdlib draws them at random
        part.set_boundary(f"----=_Part_{i}_{k}")
    record = _Sent(msg["Message-ID"], references, subject, sender, when, text)
    return Mail(bytes(msg), "request" if parent is None else "reply", msg["Message-ID"], files), record


def _paras(text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in escaped.split("\n\n"))


def _html(client: str, body: str) -> str:
    if client == "outlook":
        return (f'<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>'
                f'<meta http-equiv="Content-Type" content="text/html; charset=utf-8">{OUTLOOK_STYLE}</head>'
                f'<body lang="EN-US" link="#0563C1"><div class="WordSection1">'
                f'{body.replace("<p>", "<p class=MsoNormal>")}</div></body></html>')
    return f'<html><head></head><body><div dir="ltr">{body}</div></body></html>'


def _attach(rng: random.Random, msg: EmailMessage, size: int, i: int, n: int) -> None:
    kind = rng.random()
    if kind < 0.4:
        data = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + rng.randbytes(size) + b"\n%%EOF\n"
        msg.add_attachment(data, "application", "pdf", filename=f"invoice-{i}-{n}.pdf")
    elif kind < 0.7:
        width, height = rng.choice(((800, 600), (1280, 720), (1366, 768), (1920, 1080)))
        msg.add_attachment(_png(rng, width, height, size), "image", "png", filename=f"screenshot-{i}-{n}.png")
    elif kind < 0.85:
        msg.add_attachment(_docx(rng, size), "application", "vnd.openxmlformats-officedocument.wordprocessingml.document",
                           filename=f"report-{i}-{n}.docx")
    else:
        line = "2026-09-01 08:00:{:02d} ERROR svc[{}]: request {} failed: timeout after 30s\n"
        text = "".join(line.format(k % 60, rng.randint(100, 999), k) for k in range(max(1, min(size, 400_000) // 70)))
        msg.add_attachment(text, filename=f"service-{i}-{n}.log")


def _png(rng: random.Random, width: int, height: int, size: int) -> bytes:
    """A valid RGB PNG of about `size` bytes: noisy rows (incompressible) over a flat background."""
    row = width * 3
    noisy = max(1, min(height, size // row))
    flat = b"\x00" + b"\xf0\xf0\xf0" * width
    pixels = b"".join(b"\x00" + rng.randbytes(row) for _ in range(noisy)) + flat * (height - noisy)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels, 6))
            + chunk(b"IEND", b""))


def _docx(rng: random.Random, size: int) -> bytes:
    """A zip shaped like a .docx: content types, a document of words, an embedded image blob."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        def put(name: str, data: bytes, method: int = zipfile.ZIP_DEFLATED) -> None:
            archive.writestr(zipfile.ZipInfo(name, (2026, 9, 1, 8, 0, 0)), data, compress_type=method)

        put("[Content_Types].xml", b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>')
        words = " ".join(rng.choice(WORDS["en"]) for _ in range(400))
        put("word/document.xml", f"<w:document><w:body><w:p><w:r><w:t>{words}</w:t></w:r></w:p></w:body>"
            "</w:document>".encode())
        put("word/media/image1.bin", rng.randbytes(size), zipfile.ZIP_STORED)
    return out.getvalue()


def describe(mails: list[Mail]) -> str:
    """One line: count, volume, kinds and the size distribution."""
    sizes = sorted(len(m.raw) for m in mails)
    digest = hashlib.sha256()
    for mail in mails:
        digest.update(mail.raw)
    kinds = {k: sum(1 for m in mails if m.kind == k) for k in ("request", "reply", "autoreply")}
    at = lambda q: sizes[min(len(sizes) - 1, int(q * len(sizes)))] / 1e3  # noqa: E731
    return (f"{len(mails)} mails, {sum(sizes) / 1e6:.1f} MB: {kinds['request']} requests, {kinds['reply']} replies, "
            f"{kinds['autoreply']} auto-replies, {sum(1 for m in mails if m.files)} with files; size median "
            f"{at(0.5):.1f} KB, p90 {at(0.9):.0f} KB, p99 {at(0.99):.0f} KB, max {sizes[-1] / 1e6:.2f} MB, "
            f"{sum(1 for s in sizes if s > 1e6)} over 1 MB; sha256 {digest.hexdigest()[:16]}")
