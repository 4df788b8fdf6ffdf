"""Server arrival order, and the replies of a pass that must wait for their request.

A pass handles a folder's mail in the order the server received it: IMAP by UID as a number (never as
text: "10" < "2"), POP3 by maildrop position, Maildir by delivery time. Retries of reset records join
that order instead of running after the new mail, so "fix the setting, reset all errors" gives the
same tickets as one clean run. A reply whose parent Message-ID is not known yet may answer a request
that comes later in the same pass (mail copied in out of order, a request that failed and was reset):
it is held back to the end of the pass, then processed in arrival order.
"""
from __future__ import annotations

import re
from typing import Iterable

from .parse.addresses import parse_msg_ids
from .sources import RemoteMessage

HEADER_SCAN = 65536  # the header block is looked for in this many leading bytes
_PARENT_FIELD = re.compile(rb"^(?:in-reply-to|references)[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.I | re.M)


def arrival_order(messages: Iterable[RemoteMessage], protocol: str) -> list[RemoteMessage]:
    """IMAP messages by UID (numerically; keys without a UID keep their listed place at the end);
    the other protocols are listed in arrival order already."""
    listed = list(messages)
    if protocol != "imap":
        return listed
    return sorted(listed, key=lambda m: (m.uid is None, m.uid or 0))


def thread_parents(raw: bytes) -> tuple[str, ...]:
    """Message-IDs named by In-Reply-To and References, read from the header block only (cheap: no
    MIME parsing; the full parse happens when the message is processed)."""
    head = raw[:HEADER_SCAN]
    end = re.search(rb"\r?\n\r?\n", head)
    if end:
        head = head[:end.start()]
    ids: list[str] = []
    for match in _PARENT_FIELD.finditer(head):
        for mid in parse_msg_ids(match.group(1).decode("ascii", "replace")):
            if mid not in ids:
                ids.append(mid)
    return tuple(ids)


def server_label(protocol: str, key: str, uid: int | None = None) -> str:
    """The server's name for a message, labelled by protocol, kept apart from the store's message number
    (#id): `uid 17` (IMAP), `uidl <key>` (POP3), `file <key>` (Maildir). An IMAP key that is not the UID is
    the Message-ID (`use_message_id_as_uid`); an unknown protocol (inbox deleted meanwhile) gets `key`."""
    if protocol == "imap":
        if uid is None:
            return f"uid {key}" if key.isdigit() else f"message-id {key}"
        return f"uid {uid}" if key in ("", str(uid)) else f"uid {uid}, message-id {key}"
    if protocol == "pop3":
        return f"uidl {key}"
    if protocol == "maildir":
        return f"file {key}"
    return f"key {key}"
