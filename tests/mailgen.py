"""Small builders of realistic raw mails for tests (our own text, no corpus copies)."""
from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid


def make_mail(sender: str = "Alice Martin <alice@acme.example>", subject: str = "Printer jams",
              body: str = "The printer on floor 3 jams.\n", to: str = "support@example.test",
              message_id: str | None = None, in_reply_to: str | None = None, references: str | None = None,
              headers: dict[str, str] | None = None, html: str | None = None,
              attachments: list[tuple[str, str, bytes]] = (), cc: str | None = None,
              date: dt.datetime | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.timezone.utc))
    msg["Message-ID"] = message_id or make_msgid(domain="acme.example")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    for filename, ctype, data in attachments:
        main, _, sub = ctype.partition("/")
        msg.add_attachment(data, maintype=main, subtype=sub, filename=filename)
    return bytes(msg)
