"""Stored HTML cut where its `cid:` images stand, so a viewer can show each image in place.

Returns plain data: ("text", readable text of the HTML between two images) and ("cid", the Content-ID)
pieces, in order; `resolve_cid` says which attachment a Content-ID names (its own, or an alias that a later
part with the same bytes added, engine/ticket_files.py). This module knows no store and no terminal.
"""
from __future__ import annotations

import re
from typing import Iterator, Sequence
from urllib.parse import unquote

from .parse import html_to_text

_SRC = re.compile(r"""\bsrc\s*=\s*(["']?)cid:([^"'\s>]{1,500})""", re.I)
_TAG_LIMIT = 2000  # characters of one <img ...> tag looked at


def cid_images(html: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, Content-ID) of each `<img>` whose source is cid:. Linear: each tag is found with str.find
    and only its own bounded text is matched, so hostile HTML (thousands of unclosed tags) cannot stall it."""
    low = html.lower()
    pos = low.find("<img")
    while pos >= 0:
        close = low.find(">", pos, pos + _TAG_LIMIT)
        if close < 0:
            pos = low.find("<img", pos + 4)
            continue
        match = _SRC.search(html, pos, close)
        if match:
            yield pos, close + 1, unquote(match.group(2))
        pos = low.find("<img", close)


MAX_IMAGES = 20  # cid images cut out of one HTML text; later ones stay in the text (html_to_text drops them)


def split_at_images(html: str) -> list[tuple[str, str]]:
    """[("text", ...), ("cid", ...), ...] in the order of the HTML; empty text pieces are left out."""
    html = html or ""
    parts: list[tuple[str, str]] = []
    start = 0
    for count, (begin, end, cid) in enumerate(cid_images(html)):
        if count >= MAX_IMAGES:
            break
        text = html_to_text(html[start:begin]).strip("\n")
        if text.strip():
            parts.append(("text", text))
        parts.append(("cid", cid))
        start = end
    tail = html_to_text(html[start:]).strip("\n")
    if tail.strip():
        parts.append(("text", tail))
    return parts


def drop_cid_images(html: str | None, cids: set[str]) -> str | None:
    """The HTML without the `<img>` elements whose cid: source is one of `cids`."""
    if not html or not cids:
        return html
    out, start = [], 0
    for begin, end, cid in cid_images(html):
        if cid in cids:
            out.append(html[start:begin])
            start = end
    return "".join(out) + html[start:] if out else html


def resolve_cid(attachments: Sequence, cid: str, message_id: str = ""):
    """The attachment (store row or services.AttachmentItem) a `cid:` names: own Content-ID first, then aliases.
    Two mails of a ticket may use one Content-ID for different images ("image001.png"): with the Message-ID of
    the mail whose HTML names it, that mail's own part comes first."""
    cid = cid.strip().strip("<>")
    if not cid:
        return None
    if message_id:
        for att in attachments:
            if att.content_id == cid and getattr(att, "message_id", "") == message_id:
                return att
    for att in attachments:
        if att.content_id == cid:
            return att
    for att in attachments:
        aliases = getattr(att, "content_id_aliases", ()) or ()
        if cid in (aliases.split() if isinstance(aliases, str) else aliases):
            return att
    return None
