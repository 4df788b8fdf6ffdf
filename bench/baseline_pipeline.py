"""The backlog bench's baseline: the minimal pipeline a naive mail-to-ticket tool runs, in one function.

imapclient with imaplib's debug formatting off, `UID FETCH BODY.PEEK[]` in batches (100 messages or
20 MB, from `UID SEARCH ALL` and one `RFC822.SIZE` listing); the stdlib
`email.message_from_bytes(raw, policy=policy.default)`; the body by `get_body(('html', 'plain'))`, HTML
through html2text; attachments (`iter_attachments`) written as sha256-named files; then ONE peewee/SQLite transaction per message (WAL, synchronous=NORMAL, as
the project uses) that looks up the ticket of the mail it answers (In-Reply-To and References, one
indexed query), inserts the message with its raw bytes as a blob, a ticket or a log entry on the found
ticket, and one row per file. No auto-reply detection, no contacts, no reply-part extraction: the least a
tool must do to turn a backlog into tickets. Knows nothing of MailTicket.
"""
from __future__ import annotations

import hashlib
from email import message_from_bytes, policy
from pathlib import Path

from html2text import HTML2Text
from imapclient import IMAPClient
from peewee import (BlobField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model, SqliteDatabase,
                    TextField)

BATCH_MESSAGES = 100
BATCH_BYTES = 20 << 20

database = SqliteDatabase(None)


class Base(Model):
    class Meta:
        database = database


class Ticket(Base):
    title = TextField()
    caller = CharField()
    description = TextField()
    created = DateTimeField(null=True)


class Message(Base):
    uid = IntegerField(unique=True)
    message_id = CharField(index=True)
    sender = CharField()
    subject = TextField()
    date = DateTimeField(null=True)
    raw = BlobField()
    ticket = ForeignKeyField(Ticket)


class LogEntry(Base):
    ticket = ForeignKeyField(Ticket)
    message = ForeignKeyField(Message)
    author = CharField()
    text = TextField()


class StoredFile(Base):
    message = ForeignKeyField(Message)
    filename = CharField()
    content_type = CharField()
    size = IntegerField()
    sha256 = CharField()


def run_pipeline(host: str, port: int, login: str, password: str, store: Path) -> dict[str, int]:
    """Turn the INBOX into tickets in `store`/baseline.db (files under `store`/files); counts of rows."""
    files = store / "files"
    files.mkdir(parents=True, exist_ok=True)
    database.init(str(store / "baseline.db"), pragmas={"journal_mode": "wal", "synchronous": "normal",
                                                         "foreign_keys": 1})
    database.create_tables([Ticket, Message, LogEntry, StoredFile])
    client = IMAPClient(host, port, ssl=False, timeout=60)
    client._imap.debug = 0  # imaplib would otherwise format every multi-MB literal for a debug log
    client.login(login, password)
    client.select_folder("INBOX", readonly=True)
    sizes = client.fetch(client.search("ALL"), ["RFC822.SIZE"])
    for batch in _batches(sorted(sizes), {uid: data[b"RFC822.SIZE"] for uid, data in sizes.items()}):
        for uid, data in sorted(client.fetch(batch, ["BODY.PEEK[]"]).items()):
            store_message(uid, data[b"BODY[]"], files)
    client.logout()
    counts = {model.__name__: model.select().count() for model in (Ticket, Message, LogEntry, StoredFile)}
    database.close()
    return counts


def _batches(uids: list[int], sizes: dict[int, int]) -> list[list[int]]:
    batches: list[list[int]] = [[]]
    volume = 0
    for uid in uids:
        if batches[-1] and (len(batches[-1]) >= BATCH_MESSAGES or volume + sizes[uid] > BATCH_BYTES):
            batches.append([])
            volume = 0
        batches[-1].append(uid)
        volume += sizes[uid]
    return batches


def store_message(uid: int, raw: bytes, files: Path) -> None:
    """Parse one message, write its files, and store it in one transaction."""
    msg = message_from_bytes(raw, policy=policy.default)
    sender, subject = str(msg["From"] or ""), str(msg["Subject"] or "")
    message_id = str(msg["Message-ID"] or "").strip()
    parents = f"{msg['In-Reply-To'] or ''} {msg['References'] or ''}".split()
    date = msg["Date"].datetime if msg["Date"] else None
    body, text = msg.get_body(("html", "plain")), ""
    if body is not None:
        text = body.get_content()
        if body.get_content_subtype() == "html":
            converter = HTML2Text()
            converter.body_width = 0
            text = converter.handle(text)
    stored = []
    for part in msg.iter_attachments():
        data = part.get_payload(decode=True) or b""
        digest = hashlib.sha256(data).hexdigest()
        path = files / digest
        if not path.exists():
            path.write_bytes(data)
        stored.append({"filename": part.get_filename() or "", "content_type": part.get_content_type(),
                       "size": len(data), "sha256": digest})
    with database.atomic():
        parent = (Message.select(Message.ticket).where(Message.message_id.in_(parents)).first()
                  if parents else None)
        ticket_id = parent.ticket_id if parent else Ticket.insert(
            title=subject, caller=sender, description=text, created=date).execute()
        row = Message.insert(uid=uid, message_id=message_id, sender=sender, subject=subject, date=date, raw=raw,
                             ticket=ticket_id).execute()
        if parent:
            LogEntry.insert(ticket=ticket_id, message=row, author=sender, text=text).execute()
        for fields in stored:
            StoredFile.insert(message=row, **fields).execute()
