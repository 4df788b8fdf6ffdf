"""Which parts are the body and which are attachments (the JMAP body-structure rules, RFC 8621 4.1.4).

Every leaf ends up somewhere: text/plain and text/html inline parts are body parts (several are joined,
so Apple Mail's HTML split around images is kept whole); everything else - text/calendar, extra named
text parts, images, signatures, TNEF, message/rfc822 - is an attachment. Embedded messages are also kept
so their text can be read, and S/MIME opaque-signed content replaces its container.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .decode import transfer_decode
from .headers import parse_content_header
from .mime import MimeNode, _Context, build_tree
from .smime import signed_content


@dataclass
class Structure:
    text_body: list[MimeNode] = field(default_factory=list)
    html_body: list[MimeNode] = field(default_factory=list)
    attachments: list[MimeNode] = field(default_factory=list)
    messages: list[MimeNode] = field(default_factory=list)  # roots of embedded messages (readable text)


def _disposition(node: MimeNode) -> str:
    value = (node.header("content-disposition") or "").strip().lower()
    return value.split(";", 1)[0].strip()


def part_name(node: MimeNode) -> str:
    """Attachment name: Content-Disposition filename (RFC 2231 / encoded words), else Content-Type name."""
    disp = node.header("content-disposition")
    if disp:
        _main, params = parse_content_header("x/x;" + disp.split(";", 1)[1] if ";" in disp else "x/x")
        if params.get("filename"):
            return params["filename"]
    return node.params.get("name", "")


def _inline_media(ctype: str) -> bool:
    return ctype.startswith(("image/", "audio/", "video/"))


def _is_signed_pkcs7(node: MimeNode) -> bool:
    if node.ctype not in ("application/pkcs7-mime", "application/x-pkcs7-mime"):
        return False
    smime = node.params.get("smime-type", "").lower()
    return smime == "signed-data" or (not smime and part_name(node).lower().endswith(".p7m"))


def classify(root: MimeNode, defects: list[str]) -> Structure:
    """Walk the tree once and sort leaves into body and attachments."""
    out = Structure()
    if root.kind == "leaf" and root.ctype not in ("text/plain", "text/html") and not _is_signed_pkcs7(root):
        # A message whose only part is not text: keep it as an attachment, body empty.
        _leaf(root, out, defects)
        return out
    _walk([root], "mixed", False, out, out.text_body, out.html_body, defects)
    return out


def _leaf(node: MimeNode, out: Structure, defects: list[str]) -> None:
    """A part that is not body text: an attachment; embedded messages are also kept for their text."""
    if node.kind == "message":
        out.attachments.append(node)
        if node.children:
            out.messages.append(node.children[0])
        return
    if node.ctype in ("message/rfc822", "message/global"):
        # base64/qp-encoded embedded message: decode, then parse it as its own tree
        sub = build_tree(transfer_decode(node, defects), defects, node.depth + 1, _Context(defects))
        out.attachments.append(node)
        out.messages.append(sub)
        return
    out.attachments.append(node)


def _walk(parts: list[MimeNode], parent_type: str, in_alt: bool, out: Structure,
          text_body: list[MimeNode] | None, html_body: list[MimeNode] | None, defects: list[str]) -> None:
    """RFC 8621 parseStructure: text/html inline parts become body parts, everything else attachments."""
    text_len = len(text_body) if text_body is not None else -1
    html_len = len(html_body) if html_body is not None else -1
    for i, node in enumerate(parts):
        if node.kind == "multipart":
            sub = node.ctype.split("/", 1)[1]
            _walk(node.children, sub, in_alt or sub == "alternative", out, text_body, html_body, defects)
            continue
        if _is_signed_pkcs7(node):
            content = signed_content(transfer_decode(node, defects))
            out.attachments.append(node)
            if content:
                sub = build_tree(content, defects, node.depth + 1, _Context(defects))
                _walk([sub], "mixed", in_alt, out, text_body, html_body, defects)
            else:
                defects.append("S/MIME signed-data without readable content: kept as attachment")
            continue
        disp = _disposition(node)
        ctype = node.ctype
        is_inline = (
            disp != "attachment"
            and (ctype in ("text/plain", "text/html") or _inline_media(ctype))
            and (i == 0 or (parent_type != "related" and (_inline_media(ctype) or not part_name(node))))
        )
        if node.kind == "message" or not is_inline:
            _leaf(node, out, defects)
            continue
        if parent_type == "alternative":
            if ctype == "text/plain" and text_body is not None:
                text_body.append(node)
            elif ctype == "text/html" and html_body is not None:
                html_body.append(node)
            elif ctype not in ("text/plain", "text/html"):
                out.attachments.append(node)
            continue
        if in_alt:
            if ctype == "text/plain":
                html_body = None
            if ctype == "text/html":
                text_body = None
        if text_body is not None:
            text_body.append(node)
        if html_body is not None:
            html_body.append(node)
        if _inline_media(ctype):
            out.attachments.append(node)
    if parent_type == "alternative" and text_body is not None and html_body is not None:
        if text_len == len(text_body) and html_len != len(html_body):
            text_body.extend(html_body[html_len:])
        if html_len == len(html_body) and text_len != len(text_body):
            html_body.extend(text_body[text_len:])
