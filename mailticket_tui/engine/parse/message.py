"""parse_message(): raw bytes -> ParsedMail. The one entry point the runner, replay and tickets use.

Order: MIME tree (mime.py, capped) -> top headers decoded (subject, addresses, ids, date) -> body parts and
attachments (structure.py) -> body by body_parts_order -> new part (reply.py) -> auto-mail verdict.
Any exception is caught here and becomes ParsedMail.error with the defects gathered so far.
"""
from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import replace
from datetime import datetime, timezone
from functools import partial
from email.utils import parsedate_to_datetime

from .addresses import parse_address_list, parse_msg_ids
from .attachments import make_attachment
from .locate import part_location
from .autodetect import detect
from .charsets import decode_text
from .decode import text_of, transfer_decode
from .headers import clean_line, decode_words, fix_surrogates
from .html import html_to_text, sanitize_html, text_to_html
from .mime import MimeNode, build_tree
from .model import Address, NewPart, ParsedAttachment, ParsedMail
from .options import ParseOptions
from .reply import extract_new_part
from .structure import Structure, _disposition, classify, part_name
from .tnef import SIGNATURE as TNEF_SIGNATURE
from .tnef import unpack as unpack_tnef

_META_CHARSET = re.compile(rb"""<meta[^>]{0,300}?charset\s*=\s*["']?([A-Za-z0-9_.:-]{1,40})""", re.I)
_NOT_BLANK = re.compile(rb"[^ \t\n\r\x0b\x0c]")  # what bytes.strip() keeps


def _html_of(node: MimeNode, defects: list[str]) -> str:
    if "charset" not in node.params:
        payload = transfer_decode(node, defects)
        meta = _META_CHARSET.search(payload[:4096])
        if meta:
            return decode_text(payload, meta.group(1).decode("ascii", "replace"), defects)
    return text_of(node, defects)


def _join_text(nodes: list[MimeNode], defects: list[str]) -> str:
    out = []
    for node in nodes:
        if node.ctype == "text/plain":
            out.append(text_of(node, defects))
        elif node.ctype == "text/html":
            out.append(html_to_text(_html_of(node, defects)))
    return "\n\n".join(part for part in out if part.strip())


def _join_html(nodes: list[MimeNode], defects: list[str]) -> str:
    out = []
    for node in nodes:
        if node.ctype == "text/html":
            out.append(_html_of(node, defects))
        elif node.ctype == "text/plain":
            out.append(text_to_html(text_of(node, defects)))
        elif node.ctype.startswith("image/"):
            cid = (node.header("content-id") or "").strip().strip("<>")
            if cid:
                out.append(f'<img src="cid:{cid}" alt="{clean_line(part_name(node), 100)}">')
    return "\n".join(out)


def _date(value: str | None, defects: list[str]) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(" ".join(value.split())[:200])
    except (TypeError, ValueError, IndexError, OverflowError):
        parsed = None
    if parsed is None:
        defects.append(f"unparsable Date {clean_line(value, 60)!r}")
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def _attachments(structure: Structure, options: ParseOptions, defects: list[str],
                 raw: bytes) -> list[ParsedAttachment]:
    """Every attachment part, in mail order; a TNEF winmail.dat gives the files inside it instead."""
    found: list[tuple[bytes, str, str, bool, str | None, int | None]] = []
    for node in structure.attachments:
        if node.kind == "message":
            payload = node.body
            ctype = node.ctype
        else:
            payload = transfer_decode(node, defects)
            ctype = node.ctype if not node.ctype.startswith("multipart/") else "application/octet-stream"
        name = part_name(node)
        if not name and node.kind == "message" and node.children:
            subject = decode_words(node.children[0].header("subject", last=False) or "")
            name = (clean_line(subject, 100) + ".eml") if subject.strip() else ""
        cid = (node.header("content-id") or "").strip().strip("<>") or None
        inline = _disposition(node) != "attachment"
        cid = clean_line(cid, 300).replace(" ", "") if cid else None
        inner = unpack_tnef(payload) if payload.startswith(TNEF_SIGNATURE) else None
        if inner:
            defects.append(f"TNEF {clean_line(name, 60) or 'winmail.dat'}: {len(inner)} file(s) unpacked")
            found.extend((data, inner_name, mimetypes.guess_type(inner_name, strict=False)[0] or "application/octet-stream",
                          False, None, None) for inner_name, data in inner)
        else:
            found.append((payload, name, ctype, inline, cid, part_location(node, raw)))
    out: list[ParsedAttachment] = []
    unnamed: dict[str, int] = {}
    for payload, name, ctype, inline, cid, location in found:
        name = re.sub(r"[\x00-\x1f\x7f]", "", fix_surrogates(name))[:1000]
        main = ctype.split("/", 1)[0]
        unnamed[main] = unnamed.get(main, 0) + (0 if name else 1)
        out.append(make_attachment(payload, name, ctype, unnamed[main] or 1, inline, cid,
                                   options.exclude_attachment_types, location))
    return out


def _embedded_text(structure: Structure, defects: list[str]) -> str:
    """Readable text of attached messages (forward as attachment), appended under a marker."""
    chunks = []
    for sub in structure.messages[:20]:
        inner = classify(sub, defects)
        body = _join_text(inner.text_body or inner.html_body, defects)
        head = []
        for field in ("From", "Date", "Subject"):
            value = sub.header(field, last=False)
            if value:
                head.append(f"{field}: {clean_line(decode_words(value), 300)}")
        chunks.append("---------- Attached message ----------\n" + "\n".join(head) + "\n\n" + body.strip())
    return "\n\n".join(chunks)


def _new_part(text: str | None, html: str | None, options: ParseOptions) -> NewPart:
    """The new part, cut when first read (ParsedMail.new_part); what went wrong cutting it is kept in its
    `defects`, never raised."""
    problems: list[str] = []
    try:
        found = extract_new_part(text, html, options, problems)
    except Exception as exc:  # noqa: BLE001 - the parser never raises, lazily neither
        problems.append(f"new part: {type(exc).__name__}: {clean_line(str(exc), 200)}")
        found = NewPart(text or "", None, "none", False)
    return replace(found, defects=tuple(problems)) if problems else found


def parse_message(raw: bytes, options: ParseOptions | None = None) -> ParsedMail:
    """Parse one raw message. Never raises: failures become `error` plus `defects`."""
    options = options or ParseOptions()
    defects: list[str] = []
    try:
        raw = bytes(raw) if not isinstance(raw, bytes) else raw
    except Exception:  # noqa: BLE001 - str or junk given instead of bytes
        raw = str(raw).encode("utf-8", "replace")
    size = len(raw)
    digest = hashlib.sha256(raw).hexdigest()
    if not _NOT_BLANK.search(raw):  # raw.strip() would copy the whole message
        return ParsedMail(size=size, sha256=digest, error="empty message", defects=("empty message",))
    try:
        return _parse(raw, options, defects, size, digest)
    except Exception as exc:  # noqa: BLE001 - one bad mail must become an error record, not a crash
        defects.append(f"parser failure: {type(exc).__name__}")
        return ParsedMail(size=size, sha256=digest, defects=tuple(defects),
                          error=f"unreadable message ({type(exc).__name__}: {clean_line(str(exc), 200)})")


def _parse(raw: bytes, options: ParseOptions, defects: list[str], size: int, digest: str) -> ParsedMail:
    root = build_tree(raw, defects)
    top = root.headers
    if not top:
        defects.append("no header found")

    def first(name: str) -> str | None:
        return root.header(name, last=False)

    subject = clean_line(decode_words(first("Subject") or "", defects), 1000)
    from_list = parse_address_list(first("From"), defects, "From")
    if len(from_list) > 1:
        defects.append(f"From has {len(from_list)} addresses: first one used")
    from_ = from_list[0] if from_list else None
    sender = parse_address_list(first("Sender"), defects, "Sender")
    reply_to = parse_address_list(first("Reply-To"), defects, "Reply-To")
    rp_raw = first("Return-Path")
    return_path = clean_line(rp_raw, 320).strip("<> ") if rp_raw is not None else None
    candidates: list[Address] = []
    for addr in (*from_list, *sender):
        if addr.email and addr.key not in {c.key for c in candidates}:
            candidates.append(addr)
    message_ids = parse_msg_ids(first("Message-ID"), 1)
    in_reply = parse_msg_ids(first("In-Reply-To"), 1)
    structure = classify(root, defects)
    text_nodes = [n for n in structure.text_body if n.ctype in ("text/plain", "text/html")]
    html_nodes = structure.html_body
    first_plain = next((n for n in structure.text_body if n.ctype == "text/plain"), None)
    text_plain = text_of(first_plain, [], normalise_newlines=False) if first_plain is not None else None
    has_html = any(n.ctype == "text/html" for n in html_nodes)
    has_text = bool(text_nodes)
    body_format, body_text, body_html, raw_html = "none", "", None, None
    for wanted in options.body_parts_order:
        wanted = wanted.strip().lower()
        if wanted == "text/html" and has_html:
            raw_html = _join_html(html_nodes, defects)
            body_format, body_html = "html", sanitize_html(raw_html)  # its text: ParsedMail.body_text, on demand
            break
        if wanted == "text/plain" and has_text:
            body_format, body_text = "text", _join_text(text_nodes, defects)
            break
    if body_format == "none" and (has_html or has_text):
        body_format, body_text = "text", _join_text(text_nodes or html_nodes, defects)
    if body_format == "html":
        plain_alt = _join_text([n for n in text_nodes if n.ctype == "text/plain"], defects) or None
        new_part = partial(_new_part, plain_alt, raw_html, options)
    else:
        new_part = partial(_new_part, body_text, None, options)
    body_text = body_text.rstrip()
    embedded = _embedded_text(structure, defects)
    if embedded and raw_html is None:
        body_text = (body_text + "\n\n" + embedded).strip()
    from_email = from_.email if from_ else ""
    verdict = detect(top, root, subject, from_email, options.undesired_subject_patterns, defects)
    headers = tuple((clean_line(k, 100), clean_line(decode_words(v), 4000)) for k, v in top[:500])
    error = None
    if not top and not (body_text.strip() or (raw_html or "").strip()) and not structure.attachments:
        error = "no headers and no content: not a mail message"
    return ParsedMail(
        subject=subject, from_=from_, sender_candidates=tuple(candidates), to=parse_address_list(first("To"), defects, "To"),
        cc=parse_address_list(first("Cc"), defects, "Cc"), reply_to=reply_to, return_path=return_path,
        message_id=message_ids[0] if message_ids else None, in_reply_to=in_reply[0] if in_reply else None,
        references=parse_msg_ids(first("References")), date=_date(first("Date"), defects), headers=headers,
        body_format=body_format, plain_text=body_text, html_text_source=raw_html,
        text_appendix=embedded if raw_html is not None else "",
        body_html=body_html, text_plain=text_plain,
        new_part_maker=new_part, attachments=tuple(_attachments(structure, options, defects, raw)),
        auto_submitted=verdict.auto_submitted, auto_kind=verdict.kind, auto_reason=verdict.reason,
        undesired=verdict.undesired, undesired_reason=verdict.undesired_reason,
        bounce_status=verdict.bounce_status, bounce_recipients=verdict.bounce_recipients,
        defects=tuple(dict.fromkeys(defects))[:200], error=error, size=size, sha256=digest,
    )
