"""New part of an HTML reply: client quote containers first, then the text detectors on what is left.

Structural detectors (first in document order wins; the history is cut from there to the end):
  Gmail `gmail_quote*` (class token), Outlook desktop (border-top divider holding a From: field), OWA and
  new Outlook (`divRplyFwdMsg`, `appendonsend`), Apple Mail (`blockquote type=cite`), Thunderbird
  (`moz-cite-prefix`), Yahoo (`yahoo_quoted`), Zimbra (`hr#zwchr`), bordered blockquotes (mail.ru, Yandex).
A quote container followed by real text is an inline reply: only it (and its attribution) is removed.
A gmail_quote container holding answers between its blockquotes is a Gmail inline reply: only the
blockquotes and the gmail_attr line go.
A heavy body (html.is_heavy: too many tags or characters for the element tree in bounded time) is read as
plain text by the text detectors alone, with a defect saying so.
Forward containers are kept. Then the reference's html_tags_to_remove applies (class matched by token,
not by exact attribute), the rest becomes text and text_reply finds Lotus/AOL/plain separators too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from . import limits
from .html import _drop_elements, flatten_nesting, html_to_text, is_heavy, markup_count, plain_text_of
from .html_tree import Element, parse_html, serialize
from .options import ParseOptions
from .patterns import FORWARD, field_role
from .signature import is_signature_element
from .text_reply import _Lines, intro_at, split_text

_QUOTE_CLASSES = {
    "gmail_quote": "gmail-html", "gmail_quote_container": "gmail-html", "x_gmail_quote": "gmail-html",
    "yahoo_quoted": "yahoo-html", "moz-cite-prefix": "thunderbird-html", "protonmail_quote": "proton-html",
    "outlookmessageheader": "outlook-html", "zmail_extra": "zoho-html",
}
_QUOTE_IDS = {
    "divrplyfwdmsg": "owa-html", "x_divrplyfwdmsg": "owa-html", "appendonsend": "owa-html",
    "x_appendonsend": "owa-html", "olk_src_body_section": "outlook-html", "zwchr": "zimbra-html",
    "stopspelling": "hotmail-html", "ecxstopspelling": "hotmail-html", "mail-editor-reference-message-container":
    "outlook-html", "divrplyfwdmsg_" : "owa-html",
}
_NO_INLINE = {"owa-html", "outlook-html", "zimbra-html", "thunderbird-html", "hotmail-html"}


@dataclass
class HtmlSplit:
    html: str
    text: str
    quoted: str
    method: str
    confident: bool
    forwarded: bool
    signature: str = ""


def _container_kind(el: Element) -> str | None:
    classes = {c[2:] if c.startswith("x_") else c for c in el.classes()}  # OWA prefixes x_ when quoting
    for cls in classes:
        if cls in _QUOTE_CLASSES:
            return _QUOTE_CLASSES[cls]
    ident = el.get("id").lower()
    ident = ident[2:] if ident.startswith("x_") else ident
    if el.get("name").lower() in ("quote", "quoted-content"):  # GMX / web.de
        return "gmx-html"
    if ident in _QUOTE_IDS or ident.endswith("yahoo_quoted"):
        return _QUOTE_IDS.get(ident, "yahoo-html")
    if el.tag == "blockquote":
        if el.get("type").lower() == "cite":
            return "apple-html"
        if "border-left" in el.get("style").lower() or any("quote" in c for c in classes):
            return "blockquote-html"
    if el.tag in ("div", "p", "table", "td") and "border-top" in el.get("style").lower().replace(" ", ""):
        head = el.text(600).strip()
        first = next((line for line in head.split("\n") if line.strip()), "")
        if field_role(first) == "from" or (field_role(first) and "from" in head.lower()):
            return "outlook-html"
    return None


def _is_forward(el: Element) -> bool:
    if "moz-forward-container" in el.classes():
        return True
    head = el.text(800)
    return any(FORWARD.match(line.strip()) for line in head.split("\n")[:8] if line.strip())


def _following_text(el: Element, limit: int = 3000) -> str:
    """Up to about `limit` characters of the text after `el` in document order (stops as soon as it has them:
    read for every inline quote, so it must not walk the rest of the document each time)."""
    out: list[str] = []
    size = 0
    node = el
    while node.parent is not None and size < limit:
        siblings = node.parent.children
        idx = next(i for i, c in enumerate(siblings) if c is node)
        for sib in siblings[idx + 1:]:
            piece = sib if isinstance(sib, str) else sib.text(limit - size)
            out.append(piece)
            size += len(piece)
            if size >= limit:
                break
        node = node.parent
    return "".join(out)


def _substantial(text: str) -> bool:
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if not lines or lines[0] in ("--", "-- ") or len(re.findall(r"\w", " ".join(lines))) < 3:
        return False
    return True


def _answers_inside(el: Element) -> bool:
    """Gmail inline reply: the gmail_quote container holds the answers between its quote blockquotes."""
    children = el.children
    first = next((k for k, c in enumerate(children) if isinstance(c, Element) and c.tag == "blockquote"), None)
    if first is None:
        return False
    rest = [c if isinstance(c, str) else c.text(3000) for c in children[first + 1:]
            if isinstance(c, str) or c.tag != "blockquote"]
    return _substantial("\n".join(rest))


def _drop_inner_quotes(el: Element) -> str:
    """Remove the attribution and the quote blockquotes of an inline-reply container; their text."""
    removed: list[str] = []
    kept: list[Element | str] = []
    for child in el.children:
        if isinstance(child, Element) and (child.tag == "blockquote" or "gmail_attr" in child.classes()):
            removed.append(child.text())
            child.parent = None
        else:
            kept.append(child)
    el.children = kept
    # what is left is the answer: drop the quote class so html_tags_to_remove does not delete it afterwards
    el.attrs["class"] = " ".join(c for c in el.get("class").split() if "quote" not in c.lower())
    return "\n".join(removed)


def _remove_previous_intro(el: Element) -> None:
    """Remove the attribution just before a quote ("On ..., X wrote:") when it is a sibling of its own."""
    parent = el.parent
    if parent is None:
        return
    idx = next(i for i, c in enumerate(parent.children) if c is el)
    for j in range(idx - 1, max(-1, idx - 6), -1):
        sib = parent.children[j]
        text = sib if isinstance(sib, str) else sib.text(600)
        if not text.strip():
            continue
        lines = [line.strip() for line in text.strip().split("\n") if line.strip()]
        tail = _Lines(lines[-3:])
        if any(intro_at(tail, k) for k in range(tail.n)):
            del parent.children[j]
        return


def _trim_trailing(root: Element) -> None:
    """Drop empty trailing elements (br, hr, empty divs) left after a cut."""
    node = root
    while True:
        while node.children:
            last = node.children[-1]
            if isinstance(last, str):
                if last.strip():
                    return
                node.children.pop()
                continue
            if last.tag in ("br", "hr") or (last.tag not in ("img",) and not last.text(200).strip()
                                             and not any(e.tag == "img" for e in last.iter())):
                node.children.pop()
                continue
            break
        if not node.children or isinstance(node.children[-1], str):
            return
        node = node.children[-1]


def _apply_configured(root: Element, options: ParseOptions, signatures: list[str]) -> bool:
    """Remove the configured tags; each parent's child list is rebuilt once (removing one by one is
    quadratic on thousands of siblings)."""
    rules = {tag.lower(): {c.lower() for c in classes} for tag, classes in options.html_tags_to_remove.items()}
    doomed: dict[int, Element] = {}
    for el in root.iter():
        rule = rules.get(el.tag)
        if rule is None or el.parent is None or any(id(a) in doomed for a in _ancestors(el)):
            continue
        if rule and not (el.classes() & rule):
            continue
        if _is_forward(el):
            continue
        if is_signature_element(el):
            signatures.append(el.text().strip())
        doomed[id(el)] = el
    parents = {id(el.parent): el.parent for el in doomed.values() if el.parent is not None}
    for parent in parents.values():
        parent.children = [c for c in parent.children if id(c) not in doomed]
    for el in doomed.values():
        el.parent = None
    return bool(doomed)


def _ancestors(el: Element, limit: int = 60):
    """Up to `limit` ancestors (the tree's depth is capped, but the walk need not go to the root)."""
    node = el.parent
    for _ in range(limit):
        if node is None:
            return
        yield node
        node = node.parent


def _cut_dom_at_line(root: Element, line: str, before_chars: int) -> bool:
    """Cut the DOM at the text node where `line` (a line of html_to_text output) starts."""
    want = " ".join(line.split())[:40]
    if not want:
        return False
    seen = 0
    stack: list[tuple[Element, int]] = [(root, 0)]
    while stack:
        el, i = stack.pop()
        if i >= len(el.children):
            continue
        stack.append((el, i + 1))
        child = el.children[i]
        if isinstance(child, Element):
            if child.tag not in ("style", "script", "head"):
                stack.append((child, 0))
            continue
        norm = " ".join(child.split())
        if norm and seen >= before_chars * 0.8 and (want.startswith(norm[:40]) or norm.startswith(want)):
            removed_tail = el.children[i:]
            el.children = el.children[:i]
            node = el
            while node.parent is not None:
                siblings = node.parent.children
                idx = next(k for k, c in enumerate(siblings) if c is node)
                node.parent.children = siblings[:idx + 1]
                node = node.parent
            return bool(removed_tail)
        seen += len(norm)
    return False


def split_html(html: str, options: ParseOptions, defects: list[str]) -> HtmlSplit:
    """Split an HTML body into the new part (HTML and text) and the quoted history (text)."""
    if is_heavy(html):
        defects.append(f"HTML body of {len(html)} characters with {markup_count(html)} tags and character "
                       f"references (limits {limits.MAX_HTML_RICH} and {limits.MAX_HTML_MARKUP}): read as plain text")
        split = split_text(plain_text_of(html), options, defects)
        return HtmlSplit("", split.new, split.quoted, split.method, split.confident, split.forwarded)
    full_html = flatten_nesting(_drop_elements(html, ("head", "style", "script", "title", "xml")))
    root = parse_html(full_html)
    method = "none"
    forwarded = False
    quoted_parts: list[str] = []
    signatures: list[str] = []
    inline = 0  # inline quotes removed so far (each costs a walk of its siblings; bounded per mail)
    for el in list(root.iter()):
        if el.parent is None and el is not root:
            continue  # already removed with an inline quote
        kind = _container_kind(el)
        if kind is None:
            continue
        if _is_forward(el):
            forwarded = True
            method = "forward"
            break
        if kind == "gmail-html" and el.tag == "div" and inline < limits.MAX_INLINE_QUOTES and _answers_inside(el):
            inline += 1
            quoted_parts.append(_drop_inner_quotes(el))
            method = kind
            continue
        if kind not in _NO_INLINE and inline < limits.MAX_INLINE_QUOTES and _substantial(_following_text(el)):
            inline += 1
            _remove_previous_intro(el)
            quoted_parts.append(el.text())
            el.remove()
            method = kind
            continue
        if kind == "thunderbird-html":
            nxt = _next_element(el)
            if nxt is not None and nxt.tag == "blockquote" and _substantial(_following_text(nxt)):
                quoted_parts.append(el.text() + nxt.text())
                el.remove()
                nxt.remove()
                method = kind
                continue
        removed = el.cut_from_here()
        quoted_parts.extend(r if isinstance(r, str) else r.text() for r in removed)
        method = kind
        break
    if not forwarded:
        if _apply_configured(root, options, signatures) and method == "none":
            method = "html-tags-to-remove"
    if method == "none" and not forwarded:
        kept_html, text = html, html_to_text(html)  # untouched: reuse the body's conversion
    else:
        _trim_trailing(root)
        kept_html = serialize(root)
        text = html_to_text(kept_html)
    split = split_text(text, options, defects) if not forwarded else None
    confident = True
    if split is not None:
        if split.forwarded:
            forwarded = True
            method = "forward" if method == "none" else method
        elif split.confident and split.method != "none" and split.new.strip() != text.strip():
            # first quoted line with words (a "* * *" rule or "----" has no text node to find)
            tail_first = next((ln for ln in split.quoted.split("\n") if re.search(r"\w", ln)), "")
            if _cut_dom_at_line(root, tail_first, len(" ".join(split.new.split()))):
                _trim_trailing(root)
                kept_html = serialize(root)
            else:
                kept_html = ""
            quoted_parts.insert(0, split.quoted)
            text = split.new
            method = split.method if method == "none" else method
    if not text.strip():
        text = html_to_text(full_html)
        return HtmlSplit(full_html, text, "", "none", False, forwarded)
    quoted = "\n".join(q.strip() for q in quoted_parts if q and q.strip())
    return HtmlSplit(kept_html, text, quoted, method, confident, forwarded, "\n".join(signatures))


def _next_element(el: Element) -> Element | None:
    parent = el.parent
    if parent is None:
        return None
    idx = next(i for i, c in enumerate(parent.children) if c is el)
    for sib in parent.children[idx + 1:]:
        if isinstance(sib, Element):
            return sib
        if sib.strip():
            return None
    return None
