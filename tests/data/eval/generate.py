"""Writes cases.jsonl: reply mails as real clients format them, each with its new part known by construction.

    .venv/bin/python tests/data/eval/generate.py

Independent of the parser (imports nothing from mailticket_tui): a case is assembled from parts, the new
part is the list of parts the sender typed, the rest (attribution, header block, quoted history, device
signature or "-- " block, which the shipped defaults strip) is known to be history or signature. Clients x
languages (langs.py) x text/HTML x top/bottom/inline posting, with deterministic variation (seeded by the
case id): wrapped attributions, CRLF, signatures, a date-and-colon sentence in the new part (false-positive
guard). README.md says where every format comes from.
"""
from __future__ import annotations

import html
import json
import random
import textwrap
from pathlib import Path

from langs import LANGS

HERE = Path(__file__).resolve().parent
NAMES = {  # (customer, agent) per language; Latin names elsewhere
    "ru": ("Анна Иванова", "Игорь Петров"), "uk": ("Олена Коваль", "Тарас Шевчук"), "bg": ("Мария Иванова", "Петър Георгиев"),
    "el": ("Μαρία Παπαδοπούλου", "Νίκος Γεωργίου"), "ja": ("山田 花子", "佐藤 健"), "zh": ("王伟", "李娜"),
    "ko": ("김민준", "이서연"), "he": ("דנה כהן", "יוסי לוי"), "ar": ("أحمد علي", "سارة حسن"),
}
LATIN = [("Anna Novak", "Tom Baker"), ("Maria Lopez", "Peter Weber"), ("Lena Berg", "Jan Kowalski"),
         ("Sofia Rossi", "Luc Martin"), ("Eva Horvat", "Mikko Virtanen")]
CLIENT_LANGS = {
    "yahoo": ("en", "de", "fr", "es", "it"), "proton": ("en", "de", "fr"), "lotus": ("en", "de", "fr"),
    "groupwise": ("en", "de"),
}
YAHOO = {
    "en": "On {wdl}, {monl} {d}, {y} at {h12}:{M}:{S} {ap} GMT+1, {name} <{email}> wrote:",
    "de": "Am {wdl}, {d}. {monl} {y} um {HH}:{M}:{S} MEZ hat {name} <{email}> Folgendes geschrieben:",
    "fr": "Le {wdl} {d} {monl} {y} à {HH}:{M}:{S} UTC+1, {name} <{email}> a écrit :",
    "es": "El {wdl}, {d} de {monl} de {y}, {HH}:{M}:{S} CET, {name} <{email}> escribió:",
    "it": "Il {wdl} {d} {monl} {y}, {HH}:{M}:{S} CET, {name} <{email}> ha scritto:",
}
PROTON = {
    "en": "On {wdl}, {monl} {d}th, {y} at {HH}:{M}, {name} <{email}> wrote:",
    "de": "Am {wdl}, {d}. {monl} {y} um {HH}:{M} schrieb {name} <{email}>:",
    "fr": "Le {wdl} {d} {monl} {y} à {HH}:{M}, {name} <{email}> a écrit :",
}
LOTUS = {
    "en": ("{name} <{email}> wrote on {dd}.{mm}.{y} {HH}:{M}:{S}:", "wrote"),
    "de": ("{name} <{email}> schrieb am {dd}.{mm}.{y} {HH}:{M}:{S}:", "schrieb"),
    "fr": ("{name} <{email}> a écrit sur {dd}/{mm}/{y} {HH}:{M}:{S} :", "a écrit"),
}


def words(value: str) -> list[str]:
    return [w.replace("_", " ") for w in value.split()]


def date_fields(lang: str, rng: random.Random) -> dict[str, str]:
    L = LANGS[lang]
    y, m, d = rng.choice((2023, 2024, 2025)), rng.randint(1, 12), rng.randint(1, 28)
    H, M, S = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    wd = rng.randint(0, 6)
    h12 = H % 12 or 12
    return dict(
        y=str(y), yy=f"{y % 100:02d}", m=str(m), mm=f"{m:02d}", d=str(d), dd=f"{d:02d}", H=str(H), HH=f"{H:02d}",
        M=f"{M:02d}", S=f"{S:02d}", h12=str(h12), ap="AM" if H < 12 else "PM", ap_el="π.μ." if H < 12 else "μ.μ.",
        ap_ko="오전" if H < 12 else "오후", ap_ar="ص" if H < 12 else "م", ap_ms="PG" if H < 12 else "PTG",
        wd=words(L["wd"])[wd], wdl=words(L["wdl"])[wd], mon=words(L["mon"])[m - 1], monl=words(L["monl"])[m - 1],
    )


class Case:
    """One reply: the typed new part (lines), its signature, and the rest as the client writes it."""

    def __init__(self, cid: str, client: str, lang: str, fmt: str) -> None:
        self.id, self.client, self.lang, self.fmt = cid, client, lang, fmt
        self.rng = random.Random(cid)
        self.L = LANGS[lang]
        latin = LATIN[sum(map(ord, cid)) % len(LATIN)]
        self.me, self.agent = NAMES.get(lang, latin)
        self.agent_email = "support@helpdesk.example.org"
        self.when = date_fields(lang, self.rng)
        self.posting = "top"
        self.plan = self.rng.random() < 0.2

    def fmt_date(self, template: str) -> str:
        return template.format(name=self.agent, email=self.agent_email, **self.when)

    def paragraphs(self) -> list[str]:
        """What the sender typed, paragraph by paragraph (greeting, body, plan, closing with name)."""
        L, rng = self.L, self.rng
        body = list(L["body"])
        first = body[0] if rng.random() < 0.5 else " ".join(body[:2])
        paras = [L["greet"].format(self.agent.split()[0]), first]
        if len(body) > 2 and rng.random() < 0.6:
            paras.append(body[-1])
        if self.plan:
            p = date_fields(self.lang, rng)
            plan = L["plan"].format(**p)
            if rng.random() < 0.5:  # the same sentence naming a colleague by address: still the sender's text
                plan = plan[:-1].rstrip() + f" (Lager <lager@{self.me.split()[0].lower()}.example.com>):"
            paras.append(plan + "\n" + "\n".join(L["items"]))
        paras.append(L["close"] + "\n" + self.me.split()[0])
        return paras

    def quoted_lines(self) -> list[str]:
        L = self.L
        return [L["greet"].format(self.me.split()[0]), "", *L["quoted"], "", L["close"], self.agent]

    def signature(self) -> str:
        """A device line, an RFC 3676 block or nothing; the shipped defaults strip both kinds (not expected)."""
        roll = self.rng.random()
        if roll < 0.25:
            return self.L["android"] if self.client in ("samsung", "xiaomi", "k9", "fairemail") else self.L["device"]
        if roll < 0.4 and self.client in ("thunderbird", "k9", "gmail", "fairemail", "zimbra", "proton"):
            return f"-- \n{self.me}\nACME GmbH | +49 30 1234567"
        return ""

    def subject(self) -> str:
        return f"{self.L['re']}: [#4711] Drucker / printer"


# ---- plain text -------------------------------------------------------------------------------------------

def quote(lines: list[str], prefix: str = "> ") -> list[str]:
    return [(prefix + line) if line else prefix.rstrip() for line in lines]


def header_block(case: Case, labels: tuple[str, ...], sep: str, date_value: str, order: str = "fsts",
                 bold: bool = False) -> list[str]:
    f, s, t, c, subj = labels
    me = f"{case.agent} <{case.agent_email}>"
    lines = {"f": f"{f}: {me}", "s": f"{s}: {date_value}", "t": f"{t}: {case.me} <customer@example.com>",
             "c": f"{c}: team@example.com", "j": f"{subj}: {case.subject()}"}
    keys = {"fsts": "fstj", "fstcs": "fstcj", "ftss": "ftsj", "fdts": "fstj"}[order]
    out = [lines[k] for k in keys]
    return ([sep] if sep else []) + out


def text_case(case: Case) -> tuple[str, str]:
    """(body, expected new part) for the plain-text clients."""
    L, rng, client = case.L, case.rng, case.client
    paras = case.paragraphs()
    sig = case.signature()
    new = "\n\n".join(paras)
    quoted = case.quoted_lines()
    long_date = case.fmt_date(L["outlook_date"])
    if client == "gmail":
        attr = case.fmt_date(L["gmail"])
        if len(attr) > 76 and rng.random() < 0.5:
            attr = "\n".join(textwrap.wrap(attr, 76))  # Gmail's text part wraps long attributions
        hist = [attr, "", *quote(quoted)]
    elif client == "apple":
        hist = [case.fmt_date(L["apple"]), "", *quote(quoted)]
    elif client == "ios":
        sig = sig or L["device"]
        hist = quote([case.fmt_date(L["apple"]), "", *quoted])
    elif client == "thunderbird":
        hist = [case.fmt_date(L["tbird"]), *quote(quoted)]
    elif client == "k9":
        hist = [case.fmt_date("{d} {monl} {y} {HH}:{M}:{S} GMT+01:00") + ", " + case.agent + " <" + case.agent_email
                + ">" + (":" if rng.random() < 0.5 else ""), *quote(quoted, ">")]
    elif client == "fairemail":
        hist = [case.fmt_date("{name} <{email}> · {y}-{mm}-{dd} {HH}:{M}:{S}") + (":" if rng.random() < 0.5 else ""),
                "", *quote(quoted)]
    elif client == "outlook":
        sep = "-----" + L["original"] + "-----" if rng.random() < 0.5 else ""
        hist = ["", *header_block(case, L["fields"], sep, long_date, rng.choice(("fsts", "fstcs"))), "", *quoted]
    elif client == "owa":
        hist = ["_" * 32, *header_block(case, L["fields"], "", long_date), "", *quoted]
    elif client == "outlook_mobile":
        sig = "Get Outlook for iOS<https://aka.ms/o0ukef>" if rng.random() < 0.5 else "Get Outlook for Android"
        hist = ["_" * 32, *header_block(case, L["fields"], "", case.fmt_date("{wdl}, {monl} {d}, {y} {h12}:{M}:{S} {ap}")
                                        if case.lang == "en" else long_date), "", *quoted]
    elif client == "yahoo":
        hist = [case.fmt_date(YAHOO[case.lang]), "", "", *quoted]
    elif client == "proton":
        hist = ["------- Original Message -------", case.fmt_date(PROTON[case.lang]), "", *quote(quoted)]
    elif client == "zimbra":
        f, s, t, c, subj = L["fields"]
        title = {"fr": "Mail original", "de": "Ursprüngliche Mail"}.get(case.lang, L["original"])
        hist = [f"----- {title} -----", f'{f}: "{case.agent}" <{case.agent_email}>',
                f'{t}: "{case.me}" <customer@example.com>', f"{s}: {long_date}:{case.when['S']}",
                f"{subj}: {case.subject()}", "", *quoted]
    elif client == "lotus":
        if rng.random() < 0.5:
            hist = [case.fmt_date(LOTUS[case.lang][0]), "", *quote(quoted)]
        else:
            verb = LOTUS[case.lang][1]
            hist = [f'-----"{case.agent}" <{case.agent_email}> {verb}: -----', "",
                    f"To: {case.me} <customer@example.com>", f"From: \"{case.agent}\" <{case.agent_email}>",
                    case.fmt_date("Date: {mm}/{dd}/{y} {h12}:{M}{ap}"), f"Subject: {case.subject()}", "", *quoted]
    elif client == "groupwise":
        stamp = case.fmt_date("{dd}.{mm}.{y} {HH}:{M}" if case.lang == "de" else "{m}/{d}/{y} {h12}:{M} {ap}")
        hist = [f'>>> "{case.agent}" <{case.agent_email}> {stamp} >>>', *quoted]
    elif client == "outlook_mac":
        f, s_, t, c, subj = L["fields"]
        hist = ["", f"{f}: {case.agent} <{case.agent_email}>", f"{L['date_field']}: {long_date}",
                f"{t}: {case.me} <customer@example.com>", f"{subj}: {case.subject()}", "", *quoted]
    elif client == "outlook_bold":
        f, s_, t, c, subj = L["fields"]  # Outlook's text part of an HTML mail keeps the bold labels as *...*
        hist = ["", f"*{f}:* {case.agent} <{case.agent_email}>", f"*{s_}:* {long_date}",
                f"*{t}:* {case.me} <customer@example.com>", f"*{subj}:* {case.subject()}", "", *quoted]
    elif client == "gmail_noaddr":
        attr = L["gmail"].replace(" (<{email}>)", "").replace(" <{email}>", "").replace(" ({email})", "")
        hist = [case.fmt_date(attr), "", *quote(quoted)]
    elif client in ("samsung", "xiaomi"):
        f, s, t, c, subj = L["fields"]
        if client == "xiaomi" and case.lang == "zh":
            title = "------------------ 原始邮件 ------------------"
        elif client == "xiaomi":
            title = "------------------ Original ------------------"
        else:
            title = f"-------- {L['original']} --------"
        stamp = case.fmt_date("{dd}/{mm}/{y} {HH}:{M} (GMT+01:00)")
        hist = [title, f"{f}: {case.agent} <{case.agent_email}> ", f"{L['date_field']}: {stamp} ",
                f"{t}: {case.me} <customer@example.com> ", f"{subj}: {case.subject()} ", "", *quoted]
    else:
        raise ValueError(client)
    history = "\n".join(hist)
    if case.posting == "bottom":
        attr_and_quote = history
        body = attr_and_quote + "\n\n" + new + ("\n\n" + sig if sig else "")
        return body, new
    if case.posting == "inline":
        answers = paras[1:-1] or [paras[0]]
        lines = [paras[0], "", hist[0]]
        q = quote(quoted)
        lines += [*q[:3], "", answers[0], "", *q[3:5]]
        for extra in answers[1:]:
            lines += ["", extra]
        lines += ["", paras[-1]]
        expected = "\n\n".join([paras[0], *answers, paras[-1]])
        return "\n".join(lines) + ("\n\n" + sig if sig else ""), expected
    body = new + ("\n\n" + sig if sig else "") + "\n\n" + history + "\n"
    return body, new


# ---- HTML -------------------------------------------------------------------------------------------------

def esc(text: str) -> str:
    return html.escape(text, quote=False)


def html_paras(paras: list[str], style: str) -> str:
    """The typed paragraphs as the client's editor writes them."""
    out = []
    for k, para in enumerate(paras):
        lines = para.split("\n")
        if style == "outlook":
            out += [f'<p class="MsoNormal">{esc(line)}<o:p></o:p></p>' for line in lines]
            out.append('<p class="MsoNormal"><o:p>&nbsp;</o:p></p>')
        elif style == "thunderbird":
            out.append("<p>" + "<br>\n".join(esc(line) for line in lines) + "</p>")
        else:
            out += [f"<div>{esc(line)}</div>" for line in lines]
            if k < len(paras) - 1:
                out.append("<div><br></div>")
    return "\n".join(out)


def html_quoted(lines: list[str]) -> str:
    return "\n".join(f"<div>{esc(line)}</div>" if line else "<div><br></div>" for line in lines)


def outlook_fields_html(case: Case, date_value: str) -> str:
    f, s, t, c, subj = case.L["fields"]
    return (f"<b>{esc(f)}:</b> {esc(case.agent)} &lt;{case.agent_email}&gt;<br>\n<b>{esc(s)}:</b> {esc(date_value)}<br>\n"
            f"<b>{esc(t)}:</b> {esc(case.me)} &lt;customer@example.com&gt;<br>\n<b>{esc(subj)}:</b> "
            f"{esc(case.subject())}")


def html_case(case: Case) -> tuple[str, str]:
    L, client = case.L, case.client
    paras = case.paragraphs()
    sig = case.signature()
    quoted = html_quoted(case.quoted_lines())
    long_date = case.fmt_date(L["outlook_date"])
    head = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body>'
    if client == "gmail":
        if sig.startswith("-- "):
            sig_html = ('<br clear="all"><div><br></div><span class="gmail_signature_prefix">-- </span><br>'
                        '<div dir="ltr" class="gmail_signature">' + "<br>".join(map(esc, sig.split("\n")[1:])) + "</div>")
        else:
            sig_html = f"<div><br></div><div>{esc(sig)}</div>" if sig else ""
        body = (f'<div dir="ltr">{html_paras(paras, "div")}{sig_html}</div><br><div class="gmail_quote">'
                f'<div dir="ltr" class="gmail_attr">{esc(case.fmt_date(L["gmail"]))}<br></div>'
                f'<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid '
                f'rgb(204,204,204);padding-left:1ex">{quoted}</blockquote></div>')
    elif client == "outlook":
        body = (f'<div class="WordSection1">{html_paras(paras, "outlook")}<div><div style="border:none;border-top:'
                f'solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class="MsoNormal">'
                f'{outlook_fields_html(case, long_date)}<o:p></o:p></p></div></div>'
                f'<p class="MsoNormal"><o:p>&nbsp;</o:p></p>{quoted}</div>')
    elif client in ("owa", "outlook_mobile"):
        sig_html = ""
        if client == "outlook_mobile":
            sig_html = ('<div id="ms-outlook-mobile-signature"><div><br></div>Get <a href="https://aka.ms/o0ukef">'
                        'Outlook for iOS</a></div>')
        body = (f'<div style="font-family:Calibri,Helvetica,sans-serif">{html_paras(paras, "div")}</div>{sig_html}'
                f'<hr style="display:inline-block;width:98%" tabindex="-1"><div id="divRplyFwdMsg" dir="ltr">'
                f'<font face="Calibri, sans-serif" style="font-size:11pt" color="#000000">'
                f'{outlook_fields_html(case, long_date)}</font><div>&nbsp;</div></div><div>{quoted}</div>')
    elif client == "apple":
        body = (f'<div>{html_paras(paras, "div")}</div><div><br><blockquote type="cite"><div>'
                f'{esc(case.fmt_date(L["apple"]))}</div><br class="Apple-interchange-newline">{quoted}'
                f'</blockquote></div>')
    elif client == "ios":
        sig = sig or L["device"]
        body = (f'<div dir="ltr">{html_paras(paras, "div")}</div><div dir="ltr"><br><div dir="ltr">{esc(sig)}</div>'
                f'<div dir="ltr"><br><blockquote type="cite">{esc(case.fmt_date(L["apple"]))}<br><br></blockquote></div>'
                f'<blockquote type="cite"><div dir="ltr">{quoted}</div></blockquote></div>')
    elif client == "thunderbird":
        sig_html = (f'<pre class="moz-signature" cols="72">{esc(sig)}</pre>' if sig.startswith("-- ")
                    else (f"<p>{esc(sig)}</p>" if sig else ""))
        body = (f'{html_paras(paras, "thunderbird")}\n{sig_html}<div class="moz-cite-prefix">'
                f'{esc(case.fmt_date(L["tbird"]))}<br></div><blockquote type="cite" cite="mid:abc@example.org">'
                f'{quoted}</blockquote>')
    elif client == "yahoo":
        body = (f'<div class="ydp3f5e yahoo-style-wrap">{html_paras(paras, "div")}</div>'
                f'<div id="yahoo_quoted_4711" class="yahoo_quoted"><div style="font-family:Helvetica,Arial;'
                f'font-size:13px;color:#26282a;"><div>{esc(case.fmt_date(YAHOO[case.lang]))}</div>'
                f'<div><br></div><div><br></div><div><div dir="ltr">{quoted}</div></div></div></div>')
    elif client == "proton":
        body = (f'<div style="font-family:Arial,sans-serif;font-size:14px">{html_paras(paras, "div")}</div>'
                f'<div class="protonmail_quote">------- Original Message -------<br>'
                f'{esc(case.fmt_date(PROTON[case.lang]))}<br><br><blockquote class="protonmail_quote" type="cite">'
                f'{quoted}</blockquote><br></div>')
    elif client == "zimbra":
        f, s, t, c, subj = L["fields"]
        body = (f'<div style="font-family:arial,helvetica,sans-serif">{html_paras(paras, "div")}<br><hr id="zwchr">'
                f'<div style="color:#000;font-weight:normal"><b>{esc(f)}: </b>"{esc(case.agent)}" &lt;'
                f'{case.agent_email}&gt;<br><b>{esc(t)}: </b>"{esc(case.me)}" &lt;customer@example.com&gt;<br>'
                f'<b>{esc(s)}: </b>{esc(long_date)}<br><b>{esc(subj)}: </b>{esc(case.subject())}<br></div><br>'
                f'{quoted}</div>')
    elif client == "samsung":
        f, s, t, c, subj = L["fields"]
        sig = sig or L["android"]
        stamp = case.fmt_date("{dd}/{mm}/{y} {HH}:{M} (GMT+01:00)")
        body = (f'<div dir="auto">{html_paras(paras, "div")}</div><div dir="auto"><br></div>'
                f'<div id="composer_signature" dir="auto"><div style="font-size:85%;color:#575757" dir="auto">'
                f'{esc(sig)}</div></div><div dir="auto"><br></div><div align="left" dir="auto" '
                f'style="font-size:100%;color:#000000"><div>-------- {esc(L["original"])} --------</div>'
                f'<div>{esc(f)}: {esc(case.agent)} &lt;{case.agent_email}&gt; </div><div>{esc(L["date_field"])}: '
                f'{esc(stamp)} </div><div>{esc(t)}: {esc(case.me)} &lt;customer@example.com&gt; </div><div>'
                f'{esc(subj)}: {esc(case.subject())} </div><div><br></div></div>{quoted}')
    elif client == "gmail_inline":
        answers = paras[1:-1] or [paras[0]]
        q = case.quoted_lines()
        inner = '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid #ccc">'
        parts = [f'{inner}{html_quoted(q[:3])}</blockquote>', f"<div>{esc(answers[0])}</div><br>"]
        for extra in answers[1:]:
            parts += [f'{inner}{html_quoted(q[3:5])}</blockquote>', f"<div>{esc(extra)}</div><br>"]
        parts.append("<div>" + "<br>".join(map(esc, paras[-1].split("\n"))) + "</div>")
        body = (f'<div dir="ltr">{esc(paras[0])}</div><br><div class="gmail_quote"><div dir="ltr" '
                f'class="gmail_attr">{esc(case.fmt_date(L["gmail"]))}<br></div>{"".join(parts)}</div>')
        return head + body + "</body></html>", "\n\n".join([paras[0], *answers, paras[-1]])
    elif client == "thunderbird_bottom":
        body = (f'<div class="moz-cite-prefix">{esc(case.fmt_date(L["tbird"]))}<br></div><blockquote type="cite" '
                f'cite="mid:abc@example.org">{quoted}</blockquote>{html_paras(paras, "thunderbird")}')
    else:
        raise ValueError(client)
    return head + body + "</body></html>", "\n\n".join(paras)


TEXT_CLIENTS = ("gmail", "apple", "ios", "thunderbird", "k9", "fairemail", "outlook", "owa", "outlook_mobile",
                "yahoo", "proton", "zimbra", "lotus", "groupwise", "samsung", "xiaomi", "outlook_mac", "outlook_bold",
                "gmail_noaddr")
HTML_CLIENTS = ("gmail", "outlook", "owa", "outlook_mobile", "apple", "ios", "thunderbird", "yahoo", "proton",
                "zimbra", "samsung", "gmail_inline", "thunderbird_bottom")


def build() -> list[dict]:
    cases = []
    for fmt, clients in (("text", TEXT_CLIENTS), ("html", HTML_CLIENTS)):
        for client in clients:
            for lang in CLIENT_LANGS.get(client, tuple(LANGS)):
                case = Case(f"{fmt}-{client}-{lang}", client, lang, fmt)
                if fmt == "text" and client in ("gmail", "thunderbird", "k9", "apple") and case.rng.random() < 0.3:
                    case.posting = "inline" if case.rng.random() < 0.5 else "bottom"
                body, expected = text_case(case) if fmt == "text" else html_case(case)
                if fmt == "text" and case.rng.random() < 0.15:
                    body = body.replace("\n", "\r\n")
                cases.append(dict(id=case.id, client=client, lang=lang, format=fmt, posting=case.posting,
                                  plan_sentence=case.plan, body=body, new_part=expected))
    return cases


if __name__ == "__main__":
    rows = build()
    with open(HERE / "cases.jsonl", "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} cases, {len({r['lang'] for r in rows})} languages, "
          f"{len({r['client'] for r in rows})} clients -> {HERE / 'cases.jsonl'}")
