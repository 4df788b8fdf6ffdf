"""New part of a plain-text reply: find where the quoted history starts, drop inline quotes.

Built-in detectors (patterns.py), scanned top-down, the first one wins:
  forward marker (keep everything) | "-----Original Message-----" (or any "----- <title> -----" followed
  by a From field) | a header wrapped in punctuation runs holding a date or address (">>> Bob <b@x> 2/5/2024
  10:14 AM >>>") | a reply-header block (also flattened onto one line)
  (From/Sent/To/Subject in many languages, optionally after a ____ or ---- line) | a mailing-list footer |
  an attribution (up to 3 wrapped lines: by its shape above a `>` block in any language, see intro_at;
  by a known verb elsewhere, or a paragraph starting with its date and ending with the sender's address and a
  colon) | a `>` block | a phone signature followed by more text.
A quote block followed by real text is an inline/bottom-posted reply: the block (and its intro) is dropped
and the scan goes on. The reference's configurable mechanisms (multiline and line delimiters, introductory
patterns) run too, through safe_regex; the earliest cut wins. An empty result falls back to the full text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import regex

from . import limits, safe_regex
from .options import ParseOptions
from .patterns import (
    ADDRESS_COLON_END, BIDI_MARKS, CLOCK_TIME, DASH_LINE, DASHED_TITLE, DATED_START, EMAIL_LIKE, FORWARD,
    HAS_TIME_OR_DATE, INTRO_END, INTRO_START,
    INTRO_VERB, INTRO_VERB_HINTS, LIST_FOOTER_HINT, LOTUS_INTRO, ORIGINAL_MESSAGE, QUOTE_LINE, SIG_DELIMITER,
    SHORT_RULE, UNDERSCORE_LINE, WRAPPED_HEADER, field_role, inline_header_roles, is_mobile_signature,
)


_DIGIT = re.compile(r"\d")
_VERB_TAIL = 160  # characters of an attribution searched for its verb (see _last_verb)
_STRIP = " \t\n\r\f\v" + BIDI_MARKS


@dataclass
class TextSplit:
    new: str
    quoted: str
    method: str
    confident: bool
    forwarded: bool = False


def normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\u00a0", " ").replace("\u202f", " ").replace("\ufeff", "")


class _Lines:
    """Lines with cached per-line facts (the scan looks at each line a few times)."""

    def __init__(self, lines: list[str]) -> None:
        self.raw = lines
        self.strip = [line.strip(_STRIP) for line in lines]
        self.n = len(lines)
        self._role: dict[int, str | None] = {}

    def blank(self, i: int) -> bool:
        return not self.strip[i]

    def quote(self, i: int) -> bool:
        return bool(QUOTE_LINE.match(self.raw[i]))

    def role(self, i: int) -> str | None:
        if i not in self._role:
            s = self.strip[i]
            self._role[i] = field_role(s) if s and (":" in s[:45] or "：" in s[:45]) else None
        return self._role[i]

    def next_nonblank(self, i: int, limit: int = 50) -> int | None:
        for j in range(i, min(self.n, i + limit)):
            if self.strip[j]:
                return j
        return None


def header_block_at(lines: _Lines, i: int) -> bool:
    """A quoted reply header (From/Sent/To/Subject...) starts at line i."""
    first = lines.role(i)
    if first is None:
        return False
    if first == "from" and len(inline_header_roles(lines.strip[i]) & {"sent", "to", "subject"}) >= 2:
        return True  # "From: x Sent: y To: z Subject: w" flattened onto one line
    roles = {first}
    j = i + 1
    loose = 0
    end = min(lines.n, i + 14)
    while j < end:
        if lines.blank(j):
            loose += 1
            if loose > 2:
                break
        else:
            role = lines.role(j)
            if role is None:
                loose += 1
                if loose > 3:
                    break
            else:
                roles.add(role)
                loose = 0
        j += 1
    if "from" not in roles:
        return False
    return bool(roles & {"sent", "subject"}) or len(roles) >= 3


_FIELD_LINE = re.compile(r"^\*?([^\W\d_][^:：*<>@\n]{0,24}?)\*?\s?[:：]\*?(?:\s+(.*))?$")


def field_block_at(lines: _Lines, i: int, after_separator: bool) -> bool:
    """A reply-header block in any language, by shape: 3+ consecutive "Label: value" lines (labels of 1-3
    words) whose values hold a date or time and addresses. After a separator line two fields and one address
    suffice; without one, the first value must be "Name <addr>", another value an address too, and a clock
    time must appear, so a customer's form ("Name: ...", "Email: a@b.org", "Date: 05.03.2024") stays."""
    values: list[str] = []
    for j in range(i, min(lines.n, i + 14)):
        s = lines.strip[j]
        if not s and values and j + 1 < lines.n and lines.strip[j + 1]:
            continue  # HTML turned into text puts a blank line between the fields
        match = _FIELD_LINE.match(s) if s and len(s) <= 400 else None
        if match is None or len(match.group(1).split()) > 3:
            break
        values.append(match.group(2) or "")
    if len(values) < (2 if after_separator else 3):
        return False
    addresses = sum(1 for v in values if EMAIL_LIKE.search(v))
    if after_separator:
        return addresses >= 1 and any(HAS_TIME_OR_DATE.search(v) for v in values)
    return (addresses >= 2 and "<" in values[0] and EMAIL_LIKE.search(values[0]) is not None
            and any(CLOCK_TIME.search(v) for v in values))


def _quote_follows(lines: _Lines, j: int) -> bool:
    """The next non-blank line after line j (at most one blank line between) is a `>` quote."""
    nxt = lines.next_nonblank(j + 1, 2)
    return nxt is not None and lines.quote(nxt)


def _last_verb(joined: str) -> re.Match[str] | None:
    """The last attribution verb in `joined`. Only the head (anchored forms like "Quoting") and the last
    _VERB_TAIL characters are searched: the verb sits before at most a name and address, and the verb
    alternation costs ~2 us per character, which a flood of colon-ended lines would pay per line."""
    low = joined.lower()
    if not any(hint in low for hint in INTRO_VERB_HINTS):
        return None
    verb = None
    for verb in INTRO_VERB.finditer(joined, max(0, len(joined) - _VERB_TAIL)):
        pass
    if verb is None and len(joined) > _VERB_TAIL:
        verb = INTRO_VERB.match(joined, 0, 40)
    return verb


def intro_at(lines: _Lines, i: int, before_quote: bool = False) -> tuple[int, str] | None:
    """(lines count, kind) when an attribution ("On ... wrote:") of 1-3 lines starts at line i.

    Read by shape first, the verb list is extra evidence: directly above a `>` block, a short line with a
    date and an address, or a clock time and a trailing colon, is an attribution in any language and word
    order ("20.07.2024 11:38 kirjutas Mikko:", "15 junio 2023 18:21:29 GMT+01:00, Luc <l@x.org>"); "As the
    contract of 05.02.2024 says:" above a quoted clause is not. Without a quote block below only a known
    verb with a date or address counts (or, at the cut, a paragraph that starts with its date and ends with
    the address and a colon: _dated_address_header): a customer's "Parts arrive on 05.03.2024 at 10:14 (Stock
    <stock@x.org>):" has the whole shape of one, and stays.
    before_quote: a `>` block follows, so a bare "Bob wrote:" (no date, no address) is enough.
    """
    first = lines.strip[i]
    if not first or lines.quote(i) or len(first) > 300:
        return None
    # cheap reject: an attribution ends (within 3 lines) with ':' or a dash run, sits right above a quote, or
    # ends with its verb
    window = range(i, min(lines.n, i + 3))
    if not any(lines.strip[j].endswith((":", "：", "-")) for j in window) and not any(
            _quote_follows(lines, j) for j in window) and not _verb_ended(first):
        return None
    if LOTUS_INTRO.match(first):
        return 1, "verb"
    first_ok = bool(_DIGIT.search(first)) or bool(INTRO_START.match(first))
    # a wrapped attribution starts with its date, an address or an intro word, never with a bare "Hi,"
    first_in_block = first_ok or "@" in first
    parts: list[str] = []
    for k in range(3):
        j = i + k
        if j >= lines.n or lines.blank(j) or (k and lines.quote(j)):
            break
        parts.append(lines.strip[j])
        joined = " ".join(parts)
        if len(joined) > 400:
            break
        ends = bool(INTRO_END.search(joined))
        quoted = _quote_follows(lines, j)
        if not ends and not quoted:
            continue
        quoted = quoted and (k == 0 or first_in_block)
        if ends or (quoted and first_ok):  # above a quote, a dated "On 5 Mar 2024, Maria wrote" needs no colon
            verb = _last_verb(joined)
            if verb is not None and (
                    (first_ok and (_DIGIT.search(joined) or "@" in joined))
                    or ((before_quote or quoted) and len(joined) <= 120)):
                after = joined[verb.end():].rstrip(" -:：").strip()
                if (not after or "@" in after or "<" in after or (len(after) <= 40 and INTRO_START.match(first))
                        or (len(after) <= 60 and _DIGIT.search(after))):
                    return k + 1, "verb"
        if len(joined) > 250 or not HAS_TIME_OR_DATE.search(joined):
            continue
        address = EMAIL_LIKE.search(joined) is not None
        colon = joined.endswith((":", "："))
        if quoted and (address or (colon and CLOCK_TIME.search(joined))):
            return k + 1, "date"
        if colon and k <= 1 and (address or "<" in joined) and (k == 0 or first_in_block):
            return k + 1, "date"
    if _starts_paragraph(lines, i) and (i + 1 >= lines.n or lines.blank(i + 1)) and _verb_ended(first):
        return 1, "verb"
    return None


def _starts_paragraph(lines: _Lines, i: int) -> bool:
    """Line i starts a paragraph (the text's first line, or a blank line above it)."""
    return i == 0 or lines.blank(i - 1)


def _verb_ended(line: str) -> bool:
    """"On Wed, 14 Nov 2018 08:14:43 -0200 John Doe <john@doe.com> wrote", alone between blank lines: an intro
    word, a date, the address, the verb last (its colon lost)."""
    if not (INTRO_START.match(line) and _DIGIT.search(line) and EMAIL_LIKE.search(line)):
        return False
    verb = _last_verb(line)
    return verb is not None and not line[verb.end():].strip(" -")


def _dated_address_header(line: str) -> bool:
    """"30.09.2017, 18.30, "John - Doe" <j@x.org>:", "ср, 30 апр. 2025 г. в 15:19, John <j@x.org>:": a line that
    starts with its date (after at most a weekday) and ends with the sender's address and a colon is an
    attribution with or without a `>` block below; a customer's "Parts arrive on 05.03.2024 (Stock
    <s@x.org>):" starts with words and is not."""
    return bool(DATED_START.match(line) and ADDRESS_COLON_END.search(line))


def _wrapped_header(line: str) -> bool:
    """">>> Name <addr> 2/5/2024 10:14 AM >>>": a header wrapped in punctuation runs, with a date or address."""
    match = WRAPPED_HEADER.match(line)
    return match is not None and bool(HAS_TIME_OR_DATE.search(match.group("inner"))
                                      or EMAIL_LIKE.search(match.group("inner")))


def _quote_block_end(lines: _Lines, i: int) -> int:
    j = i
    while j < lines.n:
        if lines.quote(j):
            j += 1
            continue
        if j + 1 < lines.n and lines.quote(j + 1) and not lines.blank(j) and j > i and lines.quote(j - 1):
            j += 1  # a quoted line re-wrapped without its '>' (the sender's client broke it)
            continue
        if lines.blank(j):
            nxt = lines.next_nonblank(j, 5)
            if nxt is not None and lines.quote(nxt):
                j = nxt
                continue
        break
    return j


def _is_boundary(lines: _Lines, k: int) -> bool:
    s = lines.strip[k]
    if len(s) > 300:  # separators and attributions are short; long lines never are (and stay linear)
        return False
    return bool(
        SIG_DELIMITER.match(s) or DASH_LINE.match(s) or UNDERSCORE_LINE.match(s) or ORIGINAL_MESSAGE.match(s)
        or FORWARD.match(s) or is_mobile_signature(s) or LIST_FOOTER_HINT.search(s)
        or header_block_at(lines, k) or intro_at(lines, k)
    )


def _substantial_after(lines: _Lines, j: int) -> bool:
    """Real new text follows a quote block (so the quote was inline, not the start of the history)."""
    for k in range(j, min(lines.n, j + 400)):
        if lines.blank(k):
            continue
        if lines.quote(k) or _is_boundary(lines, k):
            return False
        if len(lines.strip[k]) >= 2:
            return True
    return False


def _footer_follows(lines: _Lines, i: int) -> bool:
    seen = 0
    for k in range(i + 1, min(lines.n, i + 8)):
        if lines.blank(k):
            continue
        seen += 1
        if LIST_FOOTER_HINT.search(lines.strip[k]):
            return True
        if seen >= 3:
            break
    return False


def _builtin_cut(lines: _Lines, dropped: set[int]) -> tuple[int | None, str, bool]:
    """(cut line, method, forwarded) from the built-in detectors."""
    i = 0
    limit = min(lines.n, limits.MAX_LINE_SCAN)
    method = "none"
    while i < limit:
        s = lines.strip[i]
        if not s:
            i += 1
            continue
        if len(s) <= 200 and FORWARD.match(s):
            return None, "forward", True
        if len(s) <= 200 and ORIGINAL_MESSAGE.match(s):
            return i, "original-message", False
        if len(s) <= 60 and DASHED_TITLE.match(s):  # "----- <title> -----" in a language we lack
            nxt = lines.next_nonblank(i + 1, 3)
            if nxt is not None and (lines.role(nxt) == "from" or header_block_at(lines, nxt)
                                    or field_block_at(lines, nxt, True)):
                return i, "original-message", False
        if len(s) <= 250 and s[:1] in "-=*_>~#" and _wrapped_header(s):
            return i, "separator", False
        if DASH_LINE.match(s) or UNDERSCORE_LINE.match(s) or SHORT_RULE.match(s):
            nxt = lines.next_nonblank(i + 1, 4)
            if nxt is not None and (header_block_at(lines, nxt) or field_block_at(lines, nxt, True)
                                    or _flat_header_after_rule(lines, nxt)):
                return i, "outlook-header", False
            if not SHORT_RULE.match(s) and _footer_follows(lines, i):
                return i, "list-footer", False
        elif SIG_DELIMITER.match(s) and _footer_follows(lines, i):  # "—" + "Reply to this email directly..."
            return i, "list-footer", False
        if header_block_at(lines, i) or ((i == 0 or lines.blank(i - 1)) and field_block_at(lines, i, False)):
            return i, "reply-header", False
        ahead = lines.next_nonblank(i + 1, 6)
        quote_next = ahead is not None and lines.quote(ahead)
        intro = None if lines.quote(i) else intro_at(lines, i, quote_next)
        if intro is not None:
            size, kind = intro
            nxt = lines.next_nonblank(i + size, 6)
            if nxt is not None and lines.quote(nxt):
                end = _quote_block_end(lines, nxt)
                if _substantial_after(lines, end):
                    dropped.update(range(i, end))
                    method = "inline-quote"
                    i = end
                    continue
                return i, "on-wrote", False
            if kind == "verb" or nxt is None or (size == 1 and _starts_paragraph(lines, i)
                                                 and _dated_address_header(lines.strip[i])):
                return i, "on-wrote", False
        if lines.quote(i):
            end = _quote_block_end(lines, i)
            if _substantial_after(lines, end):
                dropped.update(range(i, end))
                method = "inline-quote"
                i = end
                continue
            return i, "quote", False
        if is_mobile_signature(s):
            nxt = lines.next_nonblank(i + 1, 30)
            if nxt is not None:
                return i + 1, "mobile-signature", False
        i += 1
    return None, method, False


def _configured_cut(text: str, lines: _Lines, options: ParseOptions, defects: list[str]) -> int | None:
    best: int | None = None
    for pattern in options.multiline_delimiter_patterns:
        match = safe_regex.search(pattern, text, defects)
        if match is None:
            continue
        start = match.start()
        line = text.count("\n", 0, start + 1 if text[start:start + 1] == "\n" else start)
        if best is None or line < best:
            best = line
    return best


def _is_intro_line(line: str, options: ParseOptions, defects: list[str]) -> bool:
    s = line.strip()
    if not s:
        return False
    for pattern in options.introductory_patterns:
        if safe_regex.search(pattern, s, defects, regex.IGNORECASE):
            return True
    return False


def split_text(text: str, options: ParseOptions, defects: list[str]) -> TextSplit:
    """Split a plain-text body into the new part and the quoted history."""
    text = normalise(text)
    rest = ""
    if len(text) > limits.MAX_REPLY_INPUT:
        text, rest = text[: limits.MAX_REPLY_INPUT], text[limits.MAX_REPLY_INPUT:]
    lines = _Lines(_unglue_intros(text.split("\n")))
    dropped: set[int] = set()
    cut, method, forwarded = _builtin_cut(lines, dropped)
    top = _own_header_end(lines, cut, method)
    if top is not None:  # the mail's own header block pasted on top: the new part follows it, up to the history
        after = _Lines(lines.raw[top:])
        later_dropped: set[int] = set()
        later, later_method, later_forwarded = _builtin_cut(after, later_dropped)
        if later is not None and not later_forwarded:
            dropped = set(range(top)) | {top + k for k in later_dropped}
            cut, method = top + later, later_method
    if forwarded:
        return TextSplit(text.strip() + rest, "", "forward", True, True)
    configured = _configured_cut(text, lines, options, defects)
    if configured is not None and (cut is None or configured < cut):
        cut, method = configured, "multiline-pattern"
    end = lines.n if cut is None else cut
    kept: list[int] = []
    scanned = min(end, limits.MAX_LINE_SCAN)  # configured patterns: bounded work per mail
    for k in range(scanned):
        if k in dropped:
            continue
        if not lines.strip[k]:
            kept.append(k)
            continue
        stop = False
        for pattern, is_stop in options.delimiter_patterns.items():
            if safe_regex.search(pattern, lines.strip[k], defects):
                if kept and _is_intro_line(lines.raw[kept[-1]], options, defects):
                    dropped.add(kept.pop())
                dropped.add(k)
                stop = bool(is_stop)
                break
        if stop:
            end = k
            method = "delimiter-pattern"
            break
        if k not in dropped:
            kept.append(k)
    else:
        kept.extend(k for k in range(scanned, end) if k not in dropped)
    # trailing separators, blank lines and a dangling attribution line belong to the history
    while kept:
        last = lines.strip[kept[-1]]
        if (not last or DASH_LINE.match(last) or UNDERSCORE_LINE.match(last)
                or _is_intro_line(last, options, defects)):
            dropped.add(kept.pop())
            continue
        size = _dangling_intro(lines, kept)
        if not size:
            break
        for _ in range(size):
            dropped.add(kept.pop())
    new = "\n".join(lines.raw[k].rstrip() for k in kept).strip("\n")
    quoted_idx = sorted(dropped | set(range(end, lines.n)))
    quoted = "\n".join(lines.raw[k] for k in quoted_idx).strip("\n") + rest
    if not new.strip():
        return TextSplit(text.strip() + rest, "", "none", False)
    if method == "none" and quoted.strip():
        method = "delimiter-pattern"
    return TextSplit(new, quoted, method, True)


_WORD_START = re.compile(r"(?<=\S)(?:\s*-{2,}\s*|\s+)(?=\S)")


def _unglue_intros(raw: list[str]) -> list[str]:
    """Lines with an attribution glued to the sender's last words split in two (see _split_glued)."""
    out: list[str] = []
    for i, line in enumerate(raw):
        out.extend(_split_glued(line, raw[i + 1] if i + 1 < len(raw) else ""))
    return out


def _split_glued(line: str, nxt: str) -> list[str]:
    """"reply On Wed, Apr 4, 2012 at 3:59 PM, bob@x.org wrote:" above a quote: the sender's last words and the
    attribution on one line (a client or an HTML-to-text step joined them). The line is split where a whole
    attribution with its verb starts (an intro word, after a space or a dash run) when what precedes it has no
    digit, address, bracket or verb: "На 3 май 2025 г., в 18:33, Name <a@b> написа:" (an intro word we lack
    before a date), "Name <a@b> · 2025-11-15 06:43:" and "Name wrote on 2024/12/24 10:13:" stay whole."""
    s = line.strip(_STRIP)
    if (not s.endswith((":", "："))) or len(s) > 300 or not QUOTE_LINE.match(nxt) or QUOTE_LINE.match(line) \
            or INTRO_START.match(s) or DATED_START.match(s):
        return [line]
    for gap in _WORD_START.finditer(s):
        head, tail = s[:gap.start()].rstrip(" -"), s[gap.start():].strip()
        if not head or _DIGIT.search(head) or "@" in head or "<" in head:
            return [line]
        if _last_verb(head) is not None:
            return [line]
        found = intro_at(_Lines([tail, nxt]), 0, True) if INTRO_START.match(tail) else None
        if found is not None and found[1] == "verb":
            return [head, tail]
    return [line]


def _flat_header_after_rule(lines: _Lines, i: int) -> bool:
    """Under a rule: "From: bob@x.org Date: Thu, 24 Mar 2016 08:07" on one line (HTML that put the fields in
    inline elements): From with an address and one more field is enough there."""
    return (lines.role(i) == "from" and EMAIL_LIKE.search(lines.strip[i]) is not None
            and len(inline_header_roles(lines.strip[i]) - {"from"}) >= 1)


def _own_header_end(lines: _Lines, cut: int | None, method: str) -> int | None:
    """Where a reply-header block that opens the text ends (its first blank line), else None. Such a block is
    either the whole text quoted with nothing new above it, or the mail's own From/Sent/To/Subject pasted on
    top (an exported or printed mail): split_text takes the second reading only when a history follows."""
    if cut is None or method != "reply-header" or lines.next_nonblank(0, cut + 1) != cut:
        return None
    return next((j for j in range(cut + 1, min(lines.n, cut + 16)) if lines.blank(j)), None)


def _dangling_intro(lines: _Lines, kept: list[int]) -> int:
    """Line count of an attribution ("... wrote:" / "<date>, <addr>:") ending the kept lines, else 0."""
    for size in (1, 2, 3):
        if len(kept) < size:
            return 0
        start = kept[-size]
        if kept[-size:] != list(range(start, start + size)):
            return 0
        found = intro_at(lines, start)
        if found is not None and found[0] == size:
            return size
    return 0
