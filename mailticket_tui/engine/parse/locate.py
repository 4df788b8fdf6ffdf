"""An attachment read back from its raw mail: the file is stored once, inside the raw message.

A part's location is the byte offset where its headers start in the raw mail (`MimeNode.header_start`).
Reading it back builds the MIME tree again and decodes that part with the very code that decoded it at
intake (transfer_decode), so the bytes are the same; the caller checks them against the stored digest.
Only parts whose bytes are the raw mail's own have a location: files unpacked from a TNEF container or from
a base64-encoded attached message do not, and are stored as blobs of their own.
"""
from __future__ import annotations

from .decode import transfer_decode
from .mime import MimeNode, build_tree


def part_location(node: MimeNode, raw: bytes) -> int | None:
    """The offset that finds `node` again in `raw`, or None when its bytes are not raw's own."""
    return node.header_start if node.data is raw else None


def part_payload(raw: bytes, offset: int, padding_ends: bool = True) -> bytes | None:
    """The decoded bytes of the attachment part at `offset`, as the parser gave them (`padding_ends`: see
    decode.decode_base64); None when no part starts there."""
    for node in build_tree(raw, []).walk():  # parents first: the outermost entity starting there
        if node.header_start == offset and node.data is raw:
            return node.body if node.kind == "message" else transfer_decode(node, [], padding_ends)
    return None
