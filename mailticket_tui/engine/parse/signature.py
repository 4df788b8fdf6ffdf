"""Signatures of the newest message: the "-- " block and phone/app lines ("Sent from my iPhone").

Device lines come from a phrase list (patterns.is_mobile_signature) or, in any other language, by shape
(patterns.is_device_line: a short line naming a device or mail app) when they stand after a sign-off.
Only unambiguous markers count for removal: a closing ("Thanks," then "Alex") is part of the message;
find_closing() reports it by shape, in any language, but nothing removes it. Detection never changes the
text; ParseOptions decides what is removed: strip_signature every signature find_signature() detects,
strip_standard_signature (the shipped default) only the kinds is_standard_signature() names, a device line
or an RFC 3676 "-- " block.
"""
from __future__ import annotations

from .html_tree import Element
import re

from .patterns import SIG_DELIMITER, is_device_line, is_mobile_signature

# "-Abhishek Kona", "/John" (the Nordic sign-off): a dash or slash glued to a short name, alone on the last line
# after a blank line.
_DASH_NAME = re.compile(r"^[-/]\w[\w.' -]{0,40}$")

_MAX_SIGNATURE_LINES = 15
HTML_SIGNATURE_CLASSES = {"moz-signature", "gmail_signature", "applemailsignature", "x_gmail_signature"}
HTML_SIGNATURE_IDS = {"signature", "x_signature", "applemailsignature", "ms-outlook-mobile-signature",
                      "x_ms-outlook-mobile-signature", "oc-signature"}


def find_signature(text: str) -> str:
    """The signature block at the end of `text` (with its delimiter line), or ''."""
    lines = text.split("\n")
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    if not nonblank:
        return ""
    last = nonblank[-1]
    for i in range(last, max(-1, last - _MAX_SIGNATURE_LINES - 1), -1):
        if SIG_DELIMITER.match(lines[i].strip()) and lines[i].strip() not in ("__", "—"):
            if any(line.strip() for line in lines[:i]):
                return "\n".join(lines[i:last + 1]).strip("\n")
            return ""
    s = lines[last].strip()
    if len(nonblank) > 1 and is_mobile_signature(s):
        return s
    if len(nonblank) > 2 and not lines[last - 1].strip() and is_device_line(s) and _signs_off(lines[nonblank[-2]]):
        return s  # a device line in a language the phrase list lacks: its own paragraph after a sign-off
    if (len(nonblank) > 1 and _DASH_NAME.match(s) and len(s.split()) <= 4 and last > 0
            and not lines[last - 1].strip()):
        return s
    return ""


def _signs_off(line: str) -> bool:
    """A name or a closing ("Lena", "Cu stimă,"): short, no sentence end. What a device line follows, where a
    sentence ("The app crashes.") would make the short line after it part of the message."""
    s = line.strip()
    return 0 < len(s) <= 40 and len(s.split()) <= 4 and not s.endswith((".", "?", "!", "。", "？", "！"))


# RFC 3676 section 4.3: "-- " alone on a line; many clients lose the trailing space, so "--" counts too.
_RFC3676_DELIMITER = re.compile(r"^--[ \t]?$")


def is_standard_signature(signature: str) -> bool:
    """True for a signature found by find_signature() that is machine-made or explicitly delimited: a device
    line ("Sent from my iPhone", "iPhone'umdan gönderildi", with or without a link) or a block opened by the
    RFC 3676 delimiter. A "-Name" line or a "__"/"—" block is left to strip_signature."""
    if not signature:
        return False
    lines = signature.split("\n")
    if _RFC3676_DELIMITER.match(lines[0].rstrip("\r")) and len(lines) > 1:
        return True
    return len(lines) == 1 and (is_mobile_signature(lines[0].strip()) or is_device_line(lines[0].strip()))


_CLOSING_LINE = re.compile(r"^[^\W\d_][^\d@<>:;.!?()\[\]]{0,29}$")  # "Kh", "Best regards,", "Pozdrawiam,"
_NAME_WORD = re.compile(r"^[^\W\d_][\w'.-]*$")


def _is_name_word(word: str) -> bool:
    """"Peter", "O'Neil", "Müller", "山田太郎": a word that starts with a capital or an uncased letter."""
    return bool(_NAME_WORD.match(word)) and not word[0].islower()


def find_closing(text: str) -> str:
    """A closing greeting with a name at the very end, found by shape in any language ("Kh\nPeter",
    "Pozdrawiam,\nJan", "Best regards,\nTom Baker\nHead of Sales"): the last paragraph has 2-3 lines, a
    short first line without sentence punctuation, then a name of 1-4 capitalised words, then at most one
    title line. Reported as the signature only: a closing is part of the message and is never removed."""
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", text.strip()) if p.strip()]
    if len(paragraphs) < 2:
        return ""
    lines = [line.strip() for line in paragraphs[-1].split("\n")]
    if not 2 <= len(lines) <= 3 or not _CLOSING_LINE.match(lines[0]) or len(lines[0].split()) > 4:
        return ""
    if lines[0].rstrip(",")[:1].islower():
        return ""
    name = lines[1].split()
    if not 1 <= len(name) <= 4 or not all(_is_name_word(word) for word in name):
        return ""
    if len(lines) == 3 and (len(lines[2]) > 80 or lines[2][-1:] in "?!:"):
        return ""
    return "\n".join(lines)


def strip_signature_text(text: str, signature: str) -> str:
    if signature and text.rstrip().endswith(signature):
        return text.rstrip()[: -len(signature)].rstrip()
    return text


def is_signature_element(node: Element) -> bool:
    """Client-marked signature containers (Thunderbird, Gmail, Apple Mail, Outlook)."""
    if node.classes() & HTML_SIGNATURE_CLASSES:
        return True
    if node.get("id").lower() in HTML_SIGNATURE_IDS:
        return True
    return node.get("data-smartmail") == "gmail_signature"
