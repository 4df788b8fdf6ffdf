"""Built-in vocabulary of quoting styles: reply-header fields, "On ... wrote:" verbs, separators, forward
markers and mobile signatures, in the languages mail clients ship.

Every regex here runs on one line (length-capped by the caller) and has no nested quantifiers, so none can
backtrack catastrophically; user-configured patterns go through safe_regex instead.
"""
from __future__ import annotations

import re

# Field names of a quoted reply header block ("From: / Sent: / To: / Subject:"), lower-case, by role.
_FIELDS = {
    "from": "from de von van da fra från od от от кого lähettäjä feladó kimden 差出人 发件人 寄件者 寄件人 "
            "보낸사람 mittente remetente afsender avsändare avsender nadawca від odesílatel gönderen expéditeur "
            "absender afzender saatja siuntėjas αποστολέας 送信者 发信人 šalje de_la από מאת من dari từ"
            " nuo frá",
    "sent": "sent date envoyé envoyé_le date_d'envoi gesendet datum verzonden verzonden_op inviato data enviado "
            "enviada enviado_el fecha sendt dato skickat lähetetty päivämäärä wysłano wysłane data_wysłania "
            "отправлено дата 送信日時 日付 发送时间 時間 日期 寄件日期 보낸날짜 odesláno gönderildi tarih elküldve "
            "dátum trimis εστάλη sent_at gesendet_am enviada_em enviado_em verstuurd odoslané poslano στάλθηκε "
            "ημερομηνία надіслано נשלח أرسلت dikirim đã_gửi sent_on"
            " küldve enviat saadetud išsiųsta nosūtīts poslato изпратено",
    "to": "to à a an aan para til till vastaanottaja do кому 宛先 收件人 收件者 받는사람 komu kime címzett pro per "
          "destinatario destinatário empfänger destinataire προς prima către אל إلى kepada đến"
          " per_a adressaat kam saaja до",
    "cc": "cc bcc kopie copie kopia копия kopio másolat 抄送 副本 cci blind-copy",
    "subject": "subject objet betreff onderwerp oggetto asunto assunto emne ämne aihe temat тема 件名 主题 主旨 제목 "
               "předmět konu tárgy subiect θέμα sujet predmet נושא الموضوع perihal subjek chủ_đề"
               " assumpte teema tēma efni zadeva",
    "other": "reply-to importance priority attachments anlagen pièces_jointes allegati bijlagen adjuntos",
}
FIELD_ROLE: dict[str, str] = {}
for _role, _words in _FIELDS.items():
    for _word in _words.split():
        FIELD_ROLE.setdefault(_word.replace("_", " ").rstrip(":"), _role)

# "On <date>, <name> wrote:" - the verb (possibly followed by the name/address, as in German/Danish).
INTRO_VERB = re.compile(
    r"(?:\bwrote|\bwrites|\ba\s+[ée]crit|\bschrieb|\bschreef|\bescribi[óo]|\bha\s+scritto|\bscrisse|\bescreveu"
    r"|\bskrev|\bkirjoitti|\bnapisał\(a\)|\bnapisała|\bnapisał|написал\(а\)|написала|написал|пишет|написав"
    r"|\bnapsal\(a\)|\bnapsala|\bnapsal|\byazdı|\bírta|έγραψε|\ba\s+scris|書きました|のメッセージ|写道|寫道|작성"
    r"|\bkirjutas|\brašė|\bpisze|\bpise|\bпише|\bnapísal\(a\)|\bnapísal|\bnapisao|\bnapisala|\brakstīja"
    r"|\bviết|\bmenulis|\bfolgendes\s+geschrieben|\bhet\s+volgende\s+geschreven|\bva\s+escriure|\bnapisal\(a\)|\bnapisal|написа|\bskrifaði|\bescribiu"
    r"|כתב|كتب|쓴\s*글|^quoting|^zitat\s+von|^citando|^citation\s+de|^cytuję)",
    re.I,
)
# Literal pieces, one inside every INTRO_VERB alternative: a C-speed `in` test that lets lines with no verb
# skip the alternation (case-insensitive matching costs ~5 us per alternative per line).
INTRO_VERB_HINTS = (
    "wrote", "writes", "crit", "schrieb", "schreef", "escribi", "scritto", "scrisse", "escreveu", "skrev",
    "kirjoitti", "napisa", "написа", "пишет", "napsal", "yazdı", "írta", "έγραψε", "scris", "書きました",
    "のメッセージ", "写道", "寫道", "작성", "kirjutas", "rašė", "pisze", "pise", "пише", "napísal", "rakstīja",
    "viết", "menulis", "escriure", "skrifaði", "כתב", "كتب", "쓴", "quoting", "zitat", "citando", "citation",
    "cytuję", "folgendes", "volgende",
)
INTRO_END = re.compile(r"(?:[:：]|\s-{2,})\s*$")
# Words an intro line may start with when its first line carries no digit.
INTRO_START = re.compile(
    r"^(?:-{2,}\s*)?(?:on|le|am|el|il|in\s+data|em|op|den|d\.|på|pe|ma|ti|ke|to|la|su|dnia|w\s+dniu|dne|dňa"
    r"|в|в\s+\S+|στις|在|于|el\s+día|the)\b",
    re.I,
)
HAS_TIME_OR_DATE = re.compile(
    r"\d{1,2}:\d{2}|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{4}年|\b(?:19|20)\d{2}\b"
)

# A line that starts with its date or time, after at most one word and a comma (a weekday: "ср, 30 апр.",
# "Wednesday, 17 November"), and one that ends with an address and a colon ("... <j@x.org>:").
DATED_START = re.compile(r"^(?:[^\W\d_]{1,12}\.?,\s*)?\d")
ADDRESS_COLON_END = re.compile(r"[^\s<>()\[\]@]{1,64}@[^\s<>()\[\]@:]{1,255}>?\s*[:：]$")

# A clock time ("10:14", "10.14", "10h14"): with a trailing colon above a quote, the attribution shape.
CLOCK_TIME = re.compile(r"(?<!\d)\d{1,2}[:.h]\d{2}(?!\d)")

# "-----Original Message-----" and friends (a reply separator).
ORIGINAL_MESSAGE = re.compile(
    r"^[\s>]*[-_=*]*\s*(?:original\s+message|ursprüngliche\s+nachricht|message\s+d['’]origine"
    r"|mensaje\s+original|messaggio\s+originale|oorspronkelijk\s+bericht|origineel\s+bericht"
    r"|mensagem\s+original|oprindelig\s+meddelelse|oprindelig\s+besked|ursprungligt\s+meddelande"
    r"|opprinnelig\s+melding|alkuperäinen\s+viesti|wiadomość\s+oryginalna|oryginalna\s+wiadomość"
    r"|исходное\s+сообщение|původní\s+zpráva|eredeti\s+üzenet|orijinal\s+mesaj|原始邮件|元のメッセージ"
    r"|원본\s+메시지|reply\s+message|original\s+e-?mail|原始郵件|ursprüngliche\s+mail|mail\s+original|özgün\s+ileti"
    r"|pôvodná\s+správa|mesaj\s+original|αρχικό\s+μήνυμα|izvorna\s+poruka|originalna\s+poruka"
    r"|початкове\s+повідомлення|оригінальне\s+повідомлення|הודעה\s+מקורית|الرسالة\s+الأصلية|pesan\s+asli"
    r"|tin\s+nhắn\s+gốc|originalnachricht|ursprungligt\s+e-?postmeddelande)\s*[-_=*]*\s*$",
    re.I,
)
# Forward markers: what follows is forwarded content, not quoted history.
FORWARD = re.compile(
    r"^[\s>]*(?:[-_=*]{2,}\s*(?:forwarded\s+message|weitergeleitete\s+nachricht|message\s+transf[ée]r[ée]"
    r"|mensaje\s+reenviado|messaggio\s+inoltrato|doorgestuurd\s+bericht|mensagem\s+encaminhada"
    r"|videresendt\s+meddelelse|videresendt\s+besked|vidarebefordrat\s+meddelande|videresendt\s+melding"
    r"|välitetty\s+viesti|wiadomość\s+przekazana|przekazana\s+wiadomość|пересылаемое\s+сообщение"
    r"|пересланное\s+сообщение|転送されたメッセージ|转发的邮件|forwarded\s+by|forwarded\s+e-?mail)"
    r"|begin\s+forwarded\s+message\s*:|anfang\s+der\s+weitergeleiteten\s+nachricht\s*:"
    r"|début\s+du\s+message\s+réexpédié\s*:|inicio\s+del\s+mensaje\s+reenviado\s*:)",
    re.I,
)
# "Sent from my iPhone" and the other phone/app signatures (short lines only, see signature.py).
MOBILE_SIGNATURE = re.compile(
    r"^\s*(?:sent\s+(?:from|with|via|using)|get\s+outlook\s+for|envoyé\s+(?:de|depuis|avec)|gesendet\s+(?:von|mit|vom)"
    r"|von\s+meinem|enviado\s+(?:desde|de|do|con)|inviato\s+da|verzonden\s+(?:met|vanaf|van)|verstuurd\s+vanaf"
    r"|skickat\s+från|sendt\s+fra|lähetetty|wysłane\s+z|отправлено\s+(?:с|из)|odesláno\s+z|iphoneから送信"
    r"|从我的|envoyé\s+à\s+partir|sent\s+on\s+the\s+go)\b[^,;!?]{0,70}$",
    re.I,
)
# "----- <title> -----" in any language: a separator when a reply-header field line follows (text_reply).
# Rule characters of separator lines: ASCII, and the dashes, box lines and full-width forms CJK clients use.
_RULE = "-=_*~\u2014\u2013\u2015\u2500\u2501\uff3f\uff1d\uff5e"
DASHED_TITLE = re.compile(rf"^[{_RULE}]{{3,}}\s?[^{_RULE}\d:@<>]{{2,40}}?\s?[{_RULE}]{{3,}}$")
# Bidirectional formatting marks RTL clients wrap around attribution lines (invisible, never content).
BIDI_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c"
SIG_DELIMITER = re.compile(r"^(?:--|-- |—\s?|__)\s*$")
UNDERSCORE_LINE = re.compile(r"^\s*_{2,}\s*$")
# "====", "***": a rule too short for DASH_LINE, a separator only when a reply-header block follows it.
SHORT_RULE = re.compile(rf"^\s*[{_RULE}]{{3,4}}\s*$")
DASH_LINE = re.compile(rf"^\s*(?:[{_RULE}]{{5,}}|\*\s\*\s\*(?:\s\*)*)\s*$")  # also html2text's <hr>
# A header line wrapped in runs of one punctuation character (GroupWise ">>> Name <addr> 2/5/2024 10:14 AM >>>",
# Lotus "-----Name <addr> wrote: -----"): a separator in any language when it holds a date/time or an address.
WRAPPED_HEADER = re.compile(r"^([-=*_>~#])\1{2,}\s?(?P<inner>[^\n]{4,240}?)\s?\1{3,}$")
LOTUS_INTRO = re.compile(r"^-{3,}.{1,200}\b(?:wrote|schrieb|a\s+écrit)\s*:?\s*-{3,}$", re.I)
URL_IN_LINE = re.compile(r"[(<\[]?https?://[^\s)>\]]{0,500}[)>\]]?")
LIST_FOOTER_HINT = re.compile(
    r"mailing\s+list|listinfo|unsubscribe|you\s+received\s+this\s+message\s+because|reply\s+to\s+this\s+email"
    r"\s+directly|view\s+it\s+on\s+github",
    re.I,
)
EMAIL_LIKE = re.compile(r"[^\s<>()\[\]@]{1,64}@[^\s<>()\[\]@]{1,255}")
QUOTE_LINE = re.compile(r"^[ \t]{0,3}>")


def field_role(line: str) -> str | None:
    """Role of a reply-header field line ("From: x" -> "from"), or None."""
    if len(line) > 400:
        return None
    stripped = line.strip().lstrip(">").strip().lstrip("*").strip()
    for colon in (":", "："):
        idx = stripped.find(colon, 0, 40)
        if idx > 0:
            key = stripped[:idx].replace("*", "").strip().lower()
            key = " ".join(key.split())
            role = FIELD_ROLE.get(key)
            if role is None and " " in key:
                role = FIELD_ROLE.get(key.replace(" ", ""))
            if role:
                return role
    return None


# "Key: " labels inside one line (a header block whose line breaks were lost); keys of 1-3 short words.
_INLINE_LABEL = re.compile(r"(?:^|\s)([^\s:：]{1,20}(?:\s[^\s:：]{1,12}){0,2})\s?[:：]\s")


def inline_header_roles(line: str) -> set[str]:
    """Roles of the field labels found inside one line ("From: a Sent: b To: c" -> {from, sent, to})."""
    roles: set[str] = set()
    if len(line) > 600 or line.count(":") + line.count("：") < 3:
        return roles
    for match in _INLINE_LABEL.finditer(line):
        key = match.group(1).lower().strip("*")
        # the label is the last 1-3 words before the colon; try the shortest first
        words = key.split()
        for size in range(1, len(words) + 1):
            role = FIELD_ROLE.get(" ".join(words[-size:]))
            if role:
                roles.add(role)
                break
    return roles


# Device and mail-app names: the one part of a device signature every language shares ("Sent from my iPhone",
# "iPhone'umdan gönderildi", "发自我的小米手机", "Poslano s mog Galaxyja").
_DEVICE_NAME = re.compile(
    r"iphon|ipad|ipod|android|galaxy|samsung|xiaomi|redmi|huawei|oneplus|blackberry|windows\s?phone"
    r"|outlook|mail\s+(?:for|para|pour|für)\s+windows|yahoo\s?mail|proton\s?mail|tutanota|fairemail|k-9"
    r"|bluemail|smartphone|小米|华为|手机|手機|携帯|スマホ|휴대폰|모바일",
    re.I,
)
_SENTENCE_MARKS = re.compile(r"[?!,;:？！，；：]|\.\S")


def is_device_line(line: str) -> bool:
    """A device or app signature in any language, by shape: a short line (at most 7 words, 60 characters,
    links removed) that names a device or mail app, with at most two words after that name ("... Galaxy
    Smartphone gesendet", "iPhone'umdan gönderildi") and no sentence punctuation inside; "My Galaxy phone
    won't sync" is a sentence. Only trusted after a closing at the very end of a message
    (signature.find_signature); is_mobile_signature() is the strict phrase form."""
    if len(line) > 300:
        return False
    bare = URL_IN_LINE.sub("", line).strip().rstrip(".")
    if not bare or len(bare) > 60 or len(bare.split()) > 7 or _SENTENCE_MARKS.search(bare):
        return False
    last = None
    for last in _DEVICE_NAME.finditer(bare):
        pass
    if last is None:
        return False
    end = last.end()
    while end < len(bare) and not bare[end].isspace():  # the rest of the word holding the name ("iPhonu")
        end += 1
    return len(bare[end:].split()) <= 2


def is_mobile_signature(line: str) -> bool:
    """"Sent from my iPhone"-style line (links removed first; sentences with commas are not signatures)."""
    if len(line) > 300:
        return False
    bare = URL_IN_LINE.sub("", line).strip()
    return len(bare) <= 90 and bool(MOBILE_SIGNATURE.match(bare))
