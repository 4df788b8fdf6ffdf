"""Address headers (From, To, Cc, Reply-To) read strictly enough to decide "who sent this".

Python 3.11's parseaddr reads `victim@corp.com <attacker@evil.com>` as the victim (CVE-2023-27043).
Here the angle-bracket address always wins, and a display name that itself looks like an address is
recorded as a defect so the caller step can refuse to trust it. Encoded words are decoded only after the
list is split, so a decoded comma or bracket cannot create a second address.
"""
from __future__ import annotations

import re

from . import limits
from .headers import clean_line, decode_words, unfold
from .model import Address

# bounded repeats: an unbounded `[^@]+@` backtracks quadratically on a long token without '@'
_ADDR_SPEC = re.compile(r"[^\s<>()\[\],;:\"@]{1,64}@[^\s<>()\[\],;:\"@]{1,255}")
_COMMENT = re.compile(r"\((?:[^()\\]|\\.){0,500}\)")


def _split_list(value: str) -> list[str]:
    """Split on commas (and group ';') outside quotes, angle brackets and comments."""
    items: list[str] = []
    buf: list[str] = []
    quote = False
    angle = 0
    paren = 0
    escape = False
    for ch in value:
        if escape:
            buf.append(ch)
            escape = False
            continue
        if ch == "\\" and (quote or paren):
            buf.append(ch)
            escape = True
            continue
        if ch == '"' and not paren:
            quote = not quote
        elif not quote:
            if ch == "(":
                paren += 1
            elif ch == ")" and paren:
                paren -= 1
            elif ch == "<" and not paren:
                angle += 1
            elif ch == ">" and angle and not paren:
                angle -= 1
            elif ch in ",;" and not angle and not paren:
                items.append("".join(buf))
                buf = []
                continue
        buf.append(ch)
    items.append("".join(buf))
    return [item.strip() for item in items if item.strip()]


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = re.sub(r"\\(.)", r"\1", text[1:-1])
    return text.replace('"', "").strip()


def _one(item: str, defects: list[str], header: str) -> Address | None:
    if ":" in item and "<" not in item.split(":", 1)[0] and '"' not in item.split(":", 1)[0]:
        # group syntax "Team: a@b" - the display part before ':' names the group, not a mailbox
        item = item.split(":", 1)[1].strip()
        if not item:
            return None
    if "<" in item:
        lt = item.rfind("<")
        gt = item.find(">", lt)
        email = item[lt + 1:gt if gt > 0 else None].strip()
        name_part = item[:lt]
        trailing = item[gt + 1:] if gt > 0 else ""
        comments = _COMMENT.findall(name_part)
        name = _unquote(_COMMENT.sub(" ", name_part)) or (comments[0][1:-1].strip() if comments else "")
        if item.count("<") > 1 or _COMMENT.sub("", trailing).strip():
            defects.append(f"{header}: ambiguous address {clean_line(item, 120)!r}: angle-bracket address used")
        if _ADDR_SPEC.search(name.replace(" at ", "@")) and "@" in name:
            if name.lower() != email.lower():
                defects.append(f"{header}: display name looks like another address {clean_line(name, 120)!r}")
    else:
        comments = _COMMENT.findall(item)
        bare = _COMMENT.sub(" ", item).strip()
        found = _ADDR_SPEC.findall(bare)
        if len(found) > 1:
            defects.append(f"{header}: several addresses without separator {clean_line(item, 120)!r}")
        name = comments[0][1:-1].strip() if comments else ""
        if not found:
            # no addr-spec at all ("undisclosed recipients", "Moderator-Address"): a name, not an address
            return Address(name=clean_line(decode_words(_unquote(bare) or name), 200), email="")
        email = found[0]
    email = _COMMENT.sub("", email)  # obsolete syntax: comments inside the addr-spec
    email = clean_line("".join(email.split()), 320).strip("<>")
    if email.startswith("@") and ":" in email:  # obsolete source route <@relay:user@host>
        email = email.split(":", 1)[1]
    name = clean_line(decode_words(name), 200) if name else ""
    if email.lower().startswith("mailto:"):
        email = email[7:]
    if not email and not name:
        return None
    return Address(name=name, email=email)


def parse_address_list(value: str | None, defects: list[str], header: str = "address") -> tuple[Address, ...]:
    """All mailboxes of one address header, capped at MAX_ADDRESSES."""
    if not value:
        return ()
    value = unfold(value)
    items = _split_list(value)
    if len(items) > limits.MAX_ADDRESSES:
        defects.append(f"{header}: more than {limits.MAX_ADDRESSES} addresses: rest ignored")
        items = items[: limits.MAX_ADDRESSES]
    out = []
    for item in items:
        addr = _one(item, defects, header)
        if addr is not None:
            out.append(addr)
    return tuple(out)


def parse_msg_ids(value: str | None, limit: int = 200) -> tuple[str, ...]:
    """Message-IDs of References / In-Reply-To, without <>; tolerant of missing brackets."""
    if not value:
        return ()
    value = unfold(value)
    ids = re.findall(r"<([^<>\s]{1,998})>", value)
    if not ids:
        ids = [tok for tok in value.split() if "@" in tok]
    out: list[str] = []
    for mid in ids[:limit]:
        mid = clean_line(mid, 255)  # longer ids made every message collide in the reference (N°5934)
        if mid and mid not in out:
            out.append(mid)
    return tuple(out)
