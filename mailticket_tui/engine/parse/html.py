"""HTML <-> text for mail bodies: html2text with links as `text (url)`, nh3 sanitising, text to safe HTML.

Guards: <head>/<style>/<script>/comments are cut before conversion (they never leak into text); list and
blockquote nesting is flattened beyond MAX_HTML_NESTING, because html2text's output grows quadratically
with indentation (5 000 nested <li> gave 25 MB) and nh3 is super-linear on the same input. A body with more
markup than limits.MAX_HTML_MARKUP (tags + character references), or more than MAX_HTML_RICH characters,
skips html2text and nh3 altogether: plain_text_of(), a linear tag stripper, reads it and it is shown as
escaped text (one million `&amp;` took 22 s of CPU through html2text, a 300x300 table 6 s; the stripper
needs well under a second for either).
"""
from __future__ import annotations

import html as html_lib
import re
from functools import lru_cache

import html2text
import nh3

from . import limits

_NEST_TAG = re.compile(
    r"<(/?)(ul|ol|dl|blockquote|li|dd|dt|div|table|tbody|span|font|section|article|center)\b[^<>]{0,2000}>", re.I)
_ANCHOR = re.compile(r"<(/?)a\b([^<>]{0,4000})>", re.I)
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_TAG = re.compile(r"<[^<>]{0,4000}>")
_DROP_WITH_CONTENT = ("head", "style", "script", "title", "xml", "noscript", "template", "object", "iframe")
_ROW = re.compile(r"(<tr\b[^<>]{0,2000}>)", re.I)
_CELL = re.compile(r"(<t[dh]\b[^<>]{0,2000}>)", re.I)
_CODE_TAG = re.compile(r"<(/?)(?:tt|code)\b", re.I)
_MAX_NEST = 20  # deeper list/quote levels are flattened (see module docstring)
_MAX_ANCHOR_NEST = 50  # unclosed <a> deeper than this are dropped (each close joins the text it spans)
_BREAK_TAG = re.compile(
    r"<\s*/?\s*(?:p|div|br|li|tr|table|blockquote|pre|h[1-6]|hr|ul|ol|dl|dt|dd|center|section|article"
    r"|header|footer|body)\b[^<>]{0,4000}>", re.I)
_SPACES = re.compile(r"[ \t\u00a0]+")


def markup_count(html: str) -> int:
    """Tags and character references in `html` (what the HTML pipeline pays for, one by one)."""
    return html.count("<") + html.count("&")


def is_heavy(html: str) -> bool:
    """True when `html` is too big for the full pipeline (limits.MAX_HTML_RICH, limits.MAX_HTML_MARKUP)."""
    return len(html) > limits.MAX_HTML_RICH or markup_count(html) > limits.MAX_HTML_MARKUP


_COMMON_REFS = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&nbsp;", " "), ("&#39;", "'"))


def _unescape(text: str) -> str:
    """html.unescape, with the common references replaced in C first (its per-reference callback is the cost).
    Split on "&amp;" so "&amp;lt;" stays the literal "&lt;"."""
    out = []
    for piece in text.split("&amp;"):
        if "&" in piece:
            for ref, char in _COMMON_REFS:
                piece = piece.replace(ref, char)
            if "&" in piece:
                piece = html_lib.unescape(piece)
        out.append(piece)
    return "&".join(out)


@lru_cache(maxsize=4)  # the body text, the body HTML and the new part all read the same heavy body
def plain_text_of(html: str) -> str:
    """Text of an HTML body in linear time: dropped elements and comments cut, block tags as line breaks,
    other tags removed, character references decoded. The fallback for heavy bodies (no links, no lists)."""
    html = _drop_elements(html[: limits.MAX_HTML_INPUT], _DROP_WITH_CONTENT)
    html = _TAG.sub("", _BREAK_TAG.sub("\n", html))
    text = _unescape(html).replace("\u200b", "")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def _drop_elements(html: str, tags: tuple[str, ...]) -> str:
    """Remove elements with their content using find() (linear, no regex backtracking on missing ends)."""
    low = html.lower()
    out: list[str] = []
    pos = 0
    found: dict[str, int] = {}  # next start of each tag at or after pos (-1: none left), so each scan is done once
    unclosed: set[str] = set()  # tags with no end tag left

    def next_start(tag: str) -> int:
        idx = found.get(tag, 0)
        if 0 <= idx < pos or tag not in found:
            idx = low.find("<" + tag, pos)
            while idx >= 0 and idx + len(tag) + 1 < len(low) and low[idx + len(tag) + 1] not in " \t\r\n>/":
                idx = low.find("<" + tag, idx + 1)
            found[tag] = idx
        return idx

    while True:
        best = -1
        best_tag = ""
        for tag in tags:
            idx = next_start(tag)
            if idx >= 0 and (best < 0 or idx < best):
                best, best_tag = idx, tag
        if best < 0:
            break
        out.append(html[pos:best])
        end = -1 if best_tag in unclosed else low.find("</" + best_tag, best)
        if end < 0:
            unclosed.add(best_tag)
            close = low.find(">", best)
            pos = len(html) if best_tag in ("style", "script", "head") or close < 0 else close + 1
            continue
        close = low.find(">", end)
        pos = len(html) if close < 0 else close + 1
    out.append(html[pos:])
    text = "".join(out)
    # comments, including Outlook's conditional ones
    low = text.lower()
    if "<!--" in low:
        parts: list[str] = []
        pos = 0
        while True:
            idx = text.find("<!--", pos)
            if idx < 0:
                break
            parts.append(text[pos:idx])
            end = text.find("-->", idx + 4)
            pos = len(text) if end < 0 else end + 3
        parts.append(text[pos:])
        text = "".join(parts)
    return text


_DEEP_CONTAINERS = {"div", "table", "span", "font", "section", "article", "center", "tbody"}
_MAX_CONTAINER_NEST = 300  # nh3 is super-linear on deep div nesting (50 000 levels: 4 s)


@lru_cache(maxsize=4)  # the body's sanitising and the reply split flatten the same HTML
def flatten_nesting(html: str, max_depth: int = _MAX_NEST) -> str:
    """Drop list/blockquote tags nested deeper than max_depth, and generic containers (div, table...)
    deeper than _MAX_CONTAINER_NEST; their text stays."""
    if len(_NEST_TAG.findall(html[:2_000_000])) < max_depth:
        return html
    depth = {"list": 0, "box": 0}
    out: list[str] = []
    pos = 0
    for match in _NEST_TAG.finditer(html):
        closing = bool(match.group(1))
        name = match.group(2).lower()
        group = "box" if name in _DEEP_CONTAINERS else "list"
        limit = _MAX_CONTAINER_NEST if group == "box" else max_depth
        keep = True
        if name not in ("li", "dd", "dt"):
            if closing:
                keep = depth[group] <= limit
                depth[group] = max(0, depth[group] - 1)
            else:
                depth[group] += 1
                keep = depth[group] <= limit
        elif depth["list"] > max_depth:
            keep = False
        out.append(html[pos:match.start()])
        if keep:
            out.append(match.group(0))
        elif not closing and name in ("li", "dd", "dt"):
            out.append("<br>")
        pos = match.end()
    out.append(html[pos:])
    return "".join(out)


def _inline_links(html: str) -> str:
    """Rewrite <a href=u>text</a> as `text (u)`, omitted when the text already is the address."""
    stack: list[str | None] = []
    out: list[str] = []
    pos = 0
    starts: list[int] = []
    for match in _ANCHOR.finditer(html):
        out.append(html[pos:match.start()])
        pos = match.end()
        if not match.group(1):
            if len(stack) >= _MAX_ANCHOR_NEST:
                continue
            href = _HREF.search(match.group(2))
            url = next((g for g in href.groups() if g is not None), "") if href else ""
            stack.append(html_lib.unescape(url).strip())
            starts.append(len(out))
            continue
        if not stack:
            continue
        url = stack.pop()
        start = starts.pop()
        inner = "".join(out[start:])
        text = html_lib.unescape(_TAG.sub("", inner)).strip()
        bare = url[7:] if url.lower().startswith("mailto:") else url
        if url and not url.startswith("#") and text and bare.rstrip("/") != text.rstrip("/") \
                and not url.lower().startswith(("javascript:", "cid:", "data:")):
            out.append(" (" + html_lib.escape(bare) + ")")
    out.append(html[pos:])
    return "".join(out)


def _converter() -> html2text.HTML2Text:
    conv = html2text.HTML2Text()
    conv.body_width = 0
    conv.ignore_links = True
    conv.ignore_images = True
    conv.ignore_emphasis = True
    conv.ignore_tables = True
    conv.unicode_snob = True
    conv.single_line_break = False
    return conv


_MD_ESCAPE = re.compile(r"\\([-*_`#+.!\[\]()\\>|])")


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: paragraphs, line breaks, lists, `> ` quotes, links as text (url)."""
    if not html:
        return ""
    if is_heavy(html):
        return plain_text_of(html)
    return _html_to_text_cached(html)


@lru_cache(maxsize=8)  # the body text and the new-part path convert the same HTML of one message
def _html_to_text_cached(html: str) -> str:
    try:
        html = html[: limits.MAX_HTML_INPUT]
        html = _drop_elements(html, _DROP_WITH_CONTENT)
        html = flatten_nesting(html)
        html = _inline_links(html)
        html = _CELL.sub(r"\1 ", _ROW.sub(r"<br>\1", html))  # tables are flattened: keep cells apart
        html = _CODE_TAG.sub(r"<\1span", html)  # no markdown backticks around <tt>/<code>
        text = _converter().handle(html)
    except Exception:  # noqa: BLE001 - html2text on hostile input: fall back to tag stripping
        text = html_lib.unescape(_TAG.sub(" ", html))
    text = _MD_ESCAPE.sub(r"\1", text)
    text = text.replace("\u00a0", " ").replace("\u200b", "")
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n")


def _attribute_filter(element: str, attribute: str, value: str) -> str | None:
    if element == "img" and attribute == "src":
        low = value.strip().lower()
        if low.startswith("cid:") or low.startswith("data:image/"):
            return value
        return None  # remote images are tracking pixels and leak the reader's address
    if attribute == "href" and value.strip().lower().startswith(("javascript:", "vbscript:", "data:")):
        return None
    return value


_ALLOWED_TAGS = set(nh3.ALLOWED_TAGS) | {"font", "tfoot"}
_ALLOWED_ATTRS = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
_ALLOWED_ATTRS.setdefault("a", set()).update({"href", "title"})
_ALLOWED_ATTRS.setdefault("img", set()).update({"src", "alt", "width", "height", "title"})
_ALLOWED_ATTRS.setdefault("font", set()).update({"color", "face", "size"})
_ALLOWED_ATTRS.setdefault("td", set()).update({"valign", "width"})
_ALLOWED_ATTRS.setdefault("th", set()).update({"valign", "width"})
_ALLOWED_ATTRS.setdefault("table", set()).update({"width", "border", "cellpadding", "cellspacing"})


def sanitize_html(html: str) -> str:
    """Allow-listed HTML for storage and display: no script/style/iframe/forms, no event handlers, no
    javascript: links, no remote images (only cid: and data:image/ sources survive)."""
    if not html:
        return ""
    if is_heavy(html):
        return text_to_html(plain_text_of(html))
    try:
        html = html[: limits.MAX_HTML_INPUT]
        html = _drop_elements(html, ("head", "style", "script", "title", "xml"))
        html = flatten_nesting(html)
        return nh3.clean(
            html,
            tags=_ALLOWED_TAGS,
            attributes=_ALLOWED_ATTRS,
            url_schemes={"http", "https", "mailto", "cid", "data", "tel"},
            attribute_filter=_attribute_filter,
            link_rel="noopener noreferrer nofollow",
            strip_comments=True,
        ).strip()
    except Exception:  # noqa: BLE001 - never store unsanitised markup: fall back to escaped text
        return text_to_html(html_to_text(html))


def text_to_html(text: str) -> str:
    """Escaped HTML of a text body; line breaks kept, nothing interpreted as markup."""
    if not text:
        return ""
    escaped = html_lib.escape(text.replace("\r\n", "\n").replace("\r", "\n"), quote=True)
    return "<div>" + escaped.replace("\n", "<br>\n") + "</div>"
