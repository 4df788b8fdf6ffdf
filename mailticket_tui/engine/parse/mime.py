"""MIME structure: raw bytes -> a tree of MimeNode, in one pass, without recursion on the input's depth.

Why not the stdlib tree: it raises RecursionError near depth 1000, has no part-count cap, reads only the
first Content-Type of a part, and gives up on boundary damage that real mail is full of. This scanner:
- finds delimiter lines with bytes.find (only lines starting with "--" are candidates), checking the
  innermost open boundary first so a boundary that is a prefix of another still nests right;
- lets an outer delimiter close inner multiparts whose close delimiter is missing;
- guesses a missing boundary from the body, and turns a multipart with no delimiter into one opaque leaf;
- stops at MAX_DEPTH / MAX_PARTS with a defect (the deeper content stays inside one leaf).
Payload decoding is elsewhere (decode.py); nodes only hold offsets into the shared buffer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import limits
from .headers import parse_content_header, parse_header_block


@dataclass(eq=False)
class MimeNode:
    data: bytes = field(repr=False)
    headers: list[tuple[str, str]]
    ctype: str
    params: dict[str, str]
    body_start: int
    depth: int
    kind: str = "leaf"  # leaf | multipart | message
    body_end: int | None = None
    children: list["MimeNode"] = field(default_factory=list)
    header_start: int = 0

    def header(self, name: str, last: bool = True) -> str | None:
        """A header's raw (unfolded, undecoded) value; MIME headers use the last occurrence like the reference."""
        low = name.lower()
        found = None
        for key, value in self.headers:
            if key.lower() == low:
                if not last:
                    return value
                found = value
        return found

    @property
    def body_span(self) -> tuple[int, int]:
        """(start, end) of the body in `data`: decoders read it there in place of a copy (`body`)."""
        end = len(self.data) if self.body_end is None else self.body_end
        return self.body_start, max(end, self.body_start)

    @property
    def body(self) -> bytes:
        start, end = self.body_span
        return self.data[start:end]

    @property
    def raw(self) -> bytes:
        """Header and body bytes of this entity (for message/rfc822 attachments)."""
        end = len(self.data) if self.body_end is None else self.body_end
        return self.data[self.header_start:max(end, self.header_start)]

    def walk(self):
        """Depth-first, iterative (the tree depth is bounded, but keep the habit)."""
        todo = [self]
        while todo:
            node = todo.pop()
            yield node
            todo.extend(reversed(node.children))


@dataclass
class _Context:
    defects: list[str]
    parts: int = 0
    truncated: bool = False


_TYPE_RE = re.compile(r"^[a-z0-9!#$&^_.+-]{1,60}/[a-z0-9!#$&^_.+-]{1,120}$")


def _entity(data: bytes, start: int, depth: int, default: str, ctx: _Context) -> MimeNode:
    headers, body_start = parse_header_block(data, start, len(data), ctx.defects)
    ctx.parts += 1
    raw_ct = None
    for key, value in headers:
        if key.lower() == "content-type":
            if raw_ct is not None:
                ctx.defects.append("duplicate Content-Type: last one used")
            raw_ct = value
    ctype, params = parse_content_header(raw_ct) if raw_ct else (default, {})
    if not _TYPE_RE.match(ctype):
        if raw_ct:
            ctx.defects.append(f"invalid Content-Type {ctype[:60]!r}: {default} assumed")
        ctype = default
    node = MimeNode(data=data, headers=headers, ctype=ctype, params=params, body_start=body_start,
                    depth=depth, header_start=start)
    cte = (node.header("content-transfer-encoding") or "").strip().lower()
    if ctype.startswith("multipart/"):
        node.kind = "multipart"
    elif ctype in ("message/rfc822", "message/global") and cte in ("", "7bit", "8bit", "binary"):
        node.kind = "message"
    return node


def _guess_boundary(node: MimeNode) -> bytes | None:
    window = node.data[node.body_start:node.body_start + 65536]
    match = re.search(rb"(?m)^--([^\r\n]{1,200}?)(?:--)?[ \t]*\r?$", window)
    return match.group(1).strip() if match else None


def _open(node: MimeNode, stack: list[tuple[bytes, MimeNode]], ctx: _Context) -> int:
    """Register a freshly read entity; return where scanning continues (its body, or a nested body)."""
    while True:
        if node.kind == "leaf":
            return node.body_start
        if node.depth >= limits.MAX_DEPTH:
            if not ctx.truncated:
                ctx.defects.append(f"MIME nesting deeper than {limits.MAX_DEPTH}: inner parts kept unparsed")
                ctx.truncated = True
            node.kind = "leaf"
            return node.body_start
        if node.kind == "message":
            inner = _entity(node.data, node.body_start, node.depth + 1, "text/plain", ctx)
            node.children.append(inner)
            node = inner
            continue
        boundary = node.params.get("boundary", "").encode("utf-8", "replace").strip()
        if not boundary:
            boundary = _guess_boundary(node) or b""
            if boundary:
                ctx.defects.append("NoBoundaryInMultipartDefect: boundary guessed from the body")
        if not boundary:
            node.kind = "leaf"
            ctx.defects.append("NoBoundaryInMultipartDefect: multipart without boundary kept as one part")
            return node.body_start
        if any(mark == boundary for mark, _ in stack):
            ctx.defects.append(f"StartBoundaryNotFoundDefect: {node.ctype} reuses the boundary of a part around it"
                               " (RFC 2046 forbids it); its delimiters are read as its own first")
        stack.append((boundary, node))
        return node.body_start


def _close(node: MimeNode, end: int) -> None:
    """Set the end offset of an entity and of its still-open last descendants."""
    todo = [node]
    while todo:
        cur = todo.pop()
        if cur.body_end is None:
            cur.body_end = max(end, cur.body_start)
        if cur.children and cur.children[-1].body_end is None:
            todo.append(cur.children[-1])


def build_tree(data: bytes, defects: list[str], depth: int = 0, ctx: _Context | None = None) -> MimeNode:
    """Parse one message (or one embedded entity) into a MimeNode tree. Never raises on bad input."""
    ctx = ctx or _Context(defects)
    root = _entity(data, 0, depth, "text/plain", ctx)
    stack: list[tuple[bytes, MimeNode]] = []
    pos = _open(root, stack, ctx)
    size = len(data)
    while stack:
        if pos < size and data.startswith(b"--", pos) and (pos == 0 or data[pos - 1] == 0x0A):
            idx = pos
        else:
            found = data.find(b"\n--", max(pos - 1, 0))
            if found < 0:
                break
            idx = found + 1
        nl = data.find(b"\n", idx)
        line_end = size if nl < 0 else nl + 1
        line = data[idx:line_end].rstrip(b" \t\r\n")
        level = -1
        closing = False
        for i in range(len(stack) - 1, -1, -1):
            mark = stack[i][0]
            if line == b"--" + mark:
                level = i
                break
            if line == b"--" + mark + b"--":
                level, closing = i, True
                break
        if level < 0:
            pos = line_end
            continue
        cend = idx
        if cend and data[cend - 1] == 0x0A:
            cend -= 1
            if cend and data[cend - 1] == 0x0D:
                cend -= 1
        while len(stack) - 1 > level:
            _mark, inner = stack.pop()
            defects.append(f"CloseBoundaryNotFoundDefect: {inner.ctype} ended by an outer boundary")
            _close(inner, cend)
        _mark, node = stack[level]
        if node.children:
            _close(node.children[-1], cend)
        if closing:
            stack.pop()
            node.body_end = line_end
            pos = line_end
            continue
        if ctx.parts >= limits.MAX_PARTS:
            defects.append(f"more than {limits.MAX_PARTS} MIME parts: the rest was not parsed")
            ctx.truncated = True
            for _m, open_node in stack:
                open_node.body_end = cend
            stack.clear()
            break
        default = "message/rfc822" if node.ctype == "multipart/digest" else "text/plain"
        child = _entity(data, line_end, node.depth + 1, default, ctx)
        node.children.append(child)
        pos = _open(child, stack, ctx)
    for _mark, node in stack:
        defects.append(f"CloseBoundaryNotFoundDefect: {node.ctype} has no closing boundary")
    _close(root, size)
    for node in list(root.walk()):
        if node.kind == "multipart" and not node.children:
            defects.append(f"StartBoundaryNotFoundDefect, MultipartInvariantViolationDefect: {node.ctype} has no"
                           " part (boundary missing or wrong); kept as one part")
            node.kind = "leaf"
    return root
