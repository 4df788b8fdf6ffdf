"""Signatures of the newest message: the "-- " block and phone/app lines ("Sent from my iPhone").

Only unambiguous markers count: a closing like "Thanks, Alex" is part of the message, not a signature to
strip. Detection never changes the text; ParseOptions.strip_signature decides whether it is removed.
"""
from __future__ import annotations

from .html_tree import Element
import re

from .patterns import SIG_DELIMITER, is_mobile_signature

# "-Abhishek Kona": a dash glued to a short name, alone on the last line after a blank line.
_DASH_NAME = re.compile(r"^-\w[\w.' -]{0,40}$")

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
    if (len(nonblank) > 1 and _DASH_NAME.match(s) and len(s.split()) <= 4 and last > 0
            and not lines[last - 1].strip()):
        return s
    return ""


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
