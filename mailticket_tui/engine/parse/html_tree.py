"""A small, forgiving HTML element tree (stdlib html.parser) for the reply detectors.

Only what the detectors need: tags, attributes, text, parent links, document-order walks, "cut from here
to the end of the document", and serialisation back to HTML. Depth is capped (deeper tags are flattened
into their ancestor) so hostile nesting cannot blow the stack of the recursive helpers.
"""
from __future__ import annotations

import html as html_lib
from html.parser import HTMLParser

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
         "track", "wbr"}
_AUTO_CLOSE = {"p": {"p", "div", "table", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"},
               "li": {"li"}, "td": {"td", "th", "tr"}, "th": {"td", "th", "tr"}, "tr": {"tr"},
               "option": {"option"}, "dt": {"dt", "dd"}, "dd": {"dt", "dd"}}
_MAX_DEPTH = 400
BLOCKS = {"p", "div", "br", "li", "tr", "table", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6",
          "hr", "ul", "ol", "dl", "dt", "dd", "center", "section", "article", "header", "footer", "body"}


class Element:
    __slots__ = ("tag", "attrs", "children", "parent")

    def __init__(self, tag: str, attrs: dict[str, str], parent: "Element | None") -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[Element | str] = []
        self.parent = parent

    def classes(self) -> set[str]:
        return {c.lower() for c in self.attrs.get("class", "").split()}

    def get(self, name: str) -> str:
        return self.attrs.get(name, "")

    def iter(self):
        """Elements in document order (iterative)."""
        stack: list[Element] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(child for child in reversed(node.children) if isinstance(child, Element))

    def text(self, limit: int = 1_000_000) -> str:
        """Text content with block boundaries as newlines."""
        out: list[str] = []
        size = 0
        stack: list[Element | str] = [self]
        while stack and size < limit:
            node = stack.pop()
            if isinstance(node, str):
                out.append(node)
                size += len(node)
                continue
            if node.tag in ("style", "script", "head", "title"):
                continue
            if node.tag in BLOCKS:
                out.append("\n")
            stack.extend(reversed(node.children))
        return "".join(out)

    def remove(self) -> None:
        if self.parent is not None:
            self.parent.children = [c for c in self.parent.children if c is not self]
            self.parent = None

    def cut_from_here(self) -> list["Element | str"]:
        """Remove this element and everything after it in document order; return what was removed."""
        removed: list[Element | str] = []
        node: Element = self
        first = True
        while node.parent is not None:
            parent = node.parent
            idx = next(i for i, c in enumerate(parent.children) if c is node)
            start = idx if first else idx + 1
            removed.extend(parent.children[start:])
            parent.children = parent.children[:start]
            first = False
            node = parent
        return removed


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {}, None)
        self.cur = self.root
        self.depth = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        tag = tag.lower()
        closers = _AUTO_CLOSE.get(tag)
        if closers is None and tag in _AUTO_CLOSE["p"]:
            closers = None
        if self.cur.tag == "p" and tag in _AUTO_CLOSE["p"]:
            self._close_current()
        elif closers and self.cur.tag in closers and tag in ("li", "td", "th", "tr", "option", "dt", "dd"):
            self._close_current()
        attr_map = {k.lower(): (v or "") for k, v in attrs[:50]}
        if self.depth >= _MAX_DEPTH:
            return  # flatten: children of too-deep elements attach to the deepest allowed one
        node = Element(tag, attr_map, self.cur)
        self.cur.children.append(node)
        if tag not in _VOID:
            self.cur = node
            self.depth += 1

    def handle_startendtag(self, tag: str, attrs) -> None:
        self.handle_starttag(tag, attrs)
        if tag.lower() not in _VOID and self.cur.tag == tag.lower():
            self._close_current()

    def _close_current(self) -> None:
        if self.cur.parent is not None:
            self.cur = self.cur.parent
            self.depth -= 1

    def handle_endtag(self, tag: str) -> None:
        tag = tag.lower()
        node = self.cur
        steps = 0
        while node is not self.root and node.tag != tag and steps < 50:
            node = node.parent
            steps += 1
        if node is self.root or node.tag != tag:
            return  # stray end tag
        while self.cur is not node:
            self._close_current()
        self._close_current()

    def handle_data(self, data: str) -> None:
        if data:
            self.cur.children.append(data)


def parse_html(html: str) -> Element:
    builder = _Builder()
    try:
        builder.feed(html)
        builder.close()
    except Exception:  # noqa: BLE001 - html.parser on garbage: keep what was built
        pass
    return builder.root


def serialize(node: Element | str) -> str:
    """HTML text of a node (escaped text, quoted attributes)."""
    out: list[str] = []
    stack: list[tuple[Element | str, bool]] = [(node, False)]
    while stack:
        item, closing = stack.pop()
        if isinstance(item, str):
            out.append(html_lib.escape(item, quote=False))
            continue
        if closing:
            out.append(f"</{item.tag}>")
            continue
        if item.tag != "#root":
            attrs = "".join(f' {k}="{html_lib.escape(v, quote=True)}"' for k, v in item.attrs.items()
                            if k.replace("-", "").replace("_", "").replace(":", "").isalnum())
            out.append(f"<{item.tag}{attrs}>")
            if item.tag in _VOID:
                continue
            stack.append((item, True))
        for child in reversed(item.children):
            stack.append((child, False))
    return "".join(out)
