"""How a message is named to an operator, in one place: `#<store id>` (MailMessage.id, the number
`mailticket messages reset|ignore|delete ID` and the Mailbox's `#` column take), and apart from it the
server's own name for it, labelled by protocol so nobody mistakes one number for the other: `uid 17`
(IMAP), `uidl <key>` (POP3), `file <key>` (Maildir).

Returns raw text: keys come from servers, so callers pass the result through safe_text/clean like any other
server text.
"""
from __future__ import annotations

from ..engine.arrival import server_label as server_key


def server_line(protocol: str, key: str, uid: int | None, folder: str, on_server: bool,
                uidvalidity: int | None = None) -> str:
    """`uid 17 in INBOX (uidvalidity 42) · still on the server`: where the message is, or was, on the server.
    Only IMAP has folders and UIDVALIDITY worth naming (POP3 and Maildir records keep a placeholder)."""
    where = server_key(protocol, key, uid)
    if protocol == "imap":
        where += f" in {folder or 'INBOX'}"
        if uidvalidity:
            where += f" (uidvalidity {uidvalidity})"
    return f"{where} · {'still on the server' if on_server else 'no longer on the server'}"


def message_label(row_id: int | None, protocol: str, key: str) -> str:
    """`#12 (uid 17)`: an engine event's message, store id first; `(no record)` when none was stored."""
    number = f"#{row_id}" if row_id else "(no record)"
    return f"{number} ({server_key(protocol, key)})"
