"""Outlook's TNEF container (winmail.dat, application/ms-tnef): the files inside it, so a ticket gets the
real attachments instead of an opaque blob no one can open.

Decoding is tnefparse's (pure Python). It is given only bounded input: the object headers are walked here
first (cheap), because tnefparse copies the rest of the buffer for every object and has no limit of its
own; a container over the limits, or one it cannot read, stays as it came (the caller keeps winmail.dat).
"""
from __future__ import annotations

import logging
import struct

from tnefparse import TNEF

SIGNATURE = b"\x78\x9f\x3e\x22"
MAX_INPUT = 50_000_000  # bytes of one winmail.dat unpacked
MAX_OBJECTS = 2_000  # attributes in one container
MAX_FILES = 200  # files taken out of one container

logging.getLogger("tnefparse").setLevel(logging.ERROR)  # its checksum warnings would land in cron logs


def _objects(data: bytes) -> int:
    """How many attribute objects the container holds (level, id, type, length header; data; checksum)."""
    count, offset = 0, 6
    while offset + 11 <= len(data):
        (length,) = struct.unpack_from("<I", data, offset + 5)
        offset += length + 11
        count += 1
        if count > MAX_OBJECTS:
            break
    return count


def _name(att) -> str:
    name = att.long_filename() or att.name or ""
    if isinstance(name, bytes):
        name = name.decode("utf-8", "replace")
    return str(name).strip("\x00")


def unpack(payload: bytes) -> list[tuple[str, bytes]] | None:
    """(name, bytes) of each file inside, or None when this is not a TNEF container we can and may read."""
    if not payload.startswith(SIGNATURE) or len(payload) > MAX_INPUT or _objects(payload) > MAX_OBJECTS:
        return None
    try:
        container = TNEF(payload, do_checksum=False)
        files = [(_name(att), bytes(att.data)) for att in container.attachments[:MAX_FILES] if att.data]
    except Exception:  # noqa: BLE001 - a damaged container is kept whole, never a failed mail
        return None
    return files or None
