"""Peewee models of the store: the mail side (inboxes, messages, leases, traces, outbox) and the ticket side.

All models bind to `database_proxy`; `store.db.open_store()` initialises it (SQLite or PostgreSQL).
Binary content (raw .eml, attachments) lives in the content-addressed `Blob` table, keyed by sha256:
it commits in the same transaction as the ticket work (no orphan files after a crash), deduplicates
identical attachments, and works unchanged when several machines share one PostgreSQL store.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import fields

from peewee import (
    SQL,
    BigIntegerField,
    BlobField,
    BooleanField,
    CharField,
    DatabaseProxy,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from ..setting_types import TYPES
from ..settings import InboxSettings

database_proxy = DatabaseProxy()


def utcnow() -> dt.datetime:
    """Naive UTC timestamps everywhere in the store (SQLite has no time zones)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def naive_utc(value: dt.datetime | None) -> dt.datetime | None:
    """A mail's Date (any offset) as the store keeps it."""
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value else None


class BaseModel(Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False
        only_save_dirty = True  # an UPDATE writes the fields that changed, not every column


class SchemaVersion(BaseModel):
    version = IntegerField()
    applied = DateTimeField(default=utcnow)


class SettingsEntry(BaseModel):
    """Global settings sections ([engine], [ticket_log], [smtp], [org_domains]) as JSON, owned by the store."""

    section = CharField(unique=True)
    data = TextField()


class Inbox(BaseModel):
    """One polled mailbox folder: a column per inbox setting, declared by the settings schema (settings.py,
    InboxSettings; each type says its column in setting_types.py). A new setting is a new column: the
    schema-drift test then asks for its migration step."""

    created = DateTimeField(default=utcnow)
    updated = DateTimeField(default=utcnow)


def _add_setting_columns(model: type[BaseModel], settings_class: type) -> None:
    for setting in fields(settings_class):
        spec = {**setting.metadata, "name": setting.name}
        model._meta.add_field(setting.name, TYPES[setting.metadata["kind"]].column(spec))


_add_setting_columns(Inbox, InboxSettings)


class InboxState(BaseModel):
    """Sync position and health of one inbox folder: what makes a poll with nothing new O(1)."""

    inbox = ForeignKeyField(Inbox, on_delete="CASCADE", backref="states")
    folder = CharField()
    uidvalidity = BigIntegerField(null=True)
    highest_uid = BigIntegerField(default=0)
    last_success = DateTimeField(null=True)
    last_attempt = DateTimeField(null=True)
    last_error = TextField(default="")
    error_streak = IntegerField(default=0)
    last_counters = TextField(default="{}")
    # FolderState.fingerprint of the last server listing a pass took in whole ("" = none): while the server
    # still shows it, an idle pass neither lists the folder nor compares it with the records (runner.py)
    listing = CharField(default="")

    class Meta:
        indexes = ((("inbox", "folder"), True),)


class InboxLease(BaseModel):
    """Who processes an inbox right now; a runner claims it atomically and renews it while working."""

    inbox = ForeignKeyField(Inbox, on_delete="CASCADE", unique=True)
    owner = CharField()
    expires = DateTimeField()


class OAuthGrant(BaseModel):
    """An OAuth2 inbox's consent: the refresh token and the cached access token, both sealed like passwords
    (store/secrets.py). `status` is authorized or needs_authorization (revoked or expired; `problem` says why)."""

    inbox = ForeignKeyField(Inbox, on_delete="CASCADE", unique=True)
    refresh_token = TextField(default="")
    access_token = TextField(default="")
    access_expires = DateTimeField(null=True)
    scopes = TextField(default="")
    account = CharField(default="")
    status = CharField(default="authorized")
    problem = TextField(default="")
    authorized = DateTimeField(default=utcnow)
    refreshed = DateTimeField(null=True)
    refreshing_until = DateTimeField(null=True)  # a runner refreshing the token holds the grant until then

    class Meta:
        table_name = "oauth_grant"


class DaemonPresence(BaseModel):
    """A daemon sharing the inboxes (`mailticket run`, the TUI's engine), seen alive until `expires`.
    Each takes at most its share of the active inboxes (active inboxes / live daemons, engine/presence.py)."""

    owner = CharField(unique=True)
    started = DateTimeField(default=utcnow)
    expires = DateTimeField()


class Blob(BaseModel):
    """Content-addressed bytes (raw messages, attachments, overflowing descriptions); read through
    store/blobs.py, which knows the codec. `sha256` and `size` are those of the original bytes."""

    sha256 = CharField(primary_key=True, max_length=64)
    size = BigIntegerField()
    data = BlobField()
    # 0: stored as they came, 1: zstd. An integer on purpose: SQLite stores 0 and 1 without data bytes, and a
    # column with bytes after a zeroblob() would make SQLite build the whole blob in memory (store/blobs.py).
    codec = IntegerField(default=0)


class Organization(BaseModel):
    name = CharField(unique=True)
    domains = TextField(default="[]")  # JSON list of mail domains mapped to this org
    code = CharField(default="")  # the organisation's short code (iTop's "code"), free text
    active = BooleanField(default=True)  # inactive: kept for history, offered to nobody


class Person(BaseModel):
    email = CharField(index=True)  # stored lower-case
    first_name = CharField(default="")
    name = CharField(default="")
    org = ForeignKeyField(Organization, null=True, on_delete="SET NULL")
    phone = CharField(default="")
    active = BooleanField(default=True)
    created = DateTimeField(default=utcnow)


class ExtraEmail(BaseModel):
    """A person's further addresses (stored lower-case): a row each, so a lookup by address stays indexed.
    An address belongs to one person at most (unique), whether as a primary or an extra one."""

    person = ForeignKeyField(Person, on_delete="CASCADE", backref="extra_emails")
    email = CharField(unique=True)


class Team(BaseModel):
    """A group of persons that tickets can be dispatched to."""

    name = CharField(unique=True)
    email = CharField(default="")
    created = DateTimeField(default=utcnow)


class TeamMember(BaseModel):
    team = ForeignKeyField(Team, on_delete="CASCADE", backref="members")
    person = ForeignKeyField(Person, on_delete="CASCADE", backref="teams")

    class Meta:
        indexes = ((("team", "person"), True),)


class Service(BaseModel):
    name = CharField(unique=True)


class Ticket(BaseModel):
    klass = CharField(column_name="class", index=True)
    ref = CharField(unique=True)
    title = CharField(max_length=255)
    description = TextField(default="")
    caller = ForeignKeyField(Person, null=True, on_delete="SET NULL")
    org = ForeignKeyField(Organization, null=True, on_delete="SET NULL")
    origin = CharField(default="mail")
    status = CharField(default="new", index=True)
    priority = IntegerField(default=4)
    urgency = IntegerField(default=4)
    impact = IntegerField(default=3)
    service = ForeignKeyField(Service, null=True, on_delete="SET NULL", index=False)  # partial index below
    inbox = ForeignKeyField(Inbox, null=True, on_delete="SET NULL")
    parent = ForeignKeyField("self", null=True, on_delete="SET NULL", backref="children", index=False)
    created = DateTimeField(default=utcnow, index=True)
    updated = DateTimeField(default=utcnow)
    closed = DateTimeField(null=True)
    team = ForeignKeyField(Team, null=True, on_delete="SET NULL", backref="tickets", index=False)
    agent = ForeignKeyField(Person, null=True, on_delete="SET NULL", backref="agent_tickets", index=False)
    service_subcategory = CharField(default="")  # free text, as named by the admin's default values
    extra = TextField(default="{}")  # JSON object of custom fields (name -> text)
    # the ticket's identity in a former iTop ("UserRequest::123"): replies to that iTop's notifications thread
    legacy_ref = CharField(default="")


# Columns empty on most tickets get partial indexes: a new ticket writes no page of them (each index page a
# commit touches is written to the WAL again), and lookups by a value still use them.
for _column in (Ticket.service, Ticket.parent, Ticket.team, Ticket.agent):
    Ticket.add_index(Ticket.index(_column, name=f"ticket_{_column.column_name}", where=_column.is_null(False)))
Ticket.add_index(Ticket.index(Ticket.legacy_ref, name="ticket_legacy_ref", where=Ticket.legacy_ref != ""))


class MailMessage(BaseModel):
    """One row per message seen on a server: its identity, state, decision trace and the ticket it fed."""

    inbox = ForeignKeyField(Inbox, on_delete="CASCADE", backref="messages", index=False)  # leads the indexes below
    folder = CharField(default="INBOX")
    uidvalidity = BigIntegerField(default=0)  # FolderState.epoch: 0 for POP3/Maildir, never NULL
    uid = BigIntegerField(null=True)
    key = CharField()  # IMAP UID, POP3 UIDL, Maildir name, or Message-ID when use_message_id_as_uid
    message_id = CharField(default="", index=True)
    sha256 = CharField(default="", index=True)
    size = BigIntegerField(default=0)
    date = DateTimeField(null=True, index=True)
    from_addr = CharField(default="")
    subject = TextField(default="")
    status = CharField(default="new", index=True)  # new processed error undesired ignored
    ticket = ForeignKeyField(Ticket, null=True, on_delete="SET NULL", backref="messages")
    error = TextField(default="")
    trace = TextField(default="")
    raw = ForeignKeyField(Blob, null=True, on_delete="SET NULL")
    first_seen = DateTimeField(default=utcnow)
    last_seen = DateTimeField(default=utcnow)
    processed_at = DateTimeField(null=True)
    disposition_pending = CharField(default="")  # "" | delete | move
    on_server = BooleanField(default=True)
    vanished_at = DateTimeField(null=True)
    # a copy of an already ticketed mail (same Message-ID in the same inbox): points at the original
    duplicate_of = ForeignKeyField("self", null=True, on_delete="SET NULL", backref="duplicates", index=False)
    # what this mail changed on its ticket, JSON {"who", "fields", "summary"}; "" when nothing (records.py)
    audit = TextField(default="")

    class Meta:
        # the last two serve the Mailbox's keyset pages (services.list_messages), any status or one status
        indexes = ((("inbox", "folder", "uidvalidity", "key"), True), (("inbox", "date", "id"), False),
                   (("inbox", "status", "date", "id"), False))


MailMessage.add_index(MailMessage.index(MailMessage.duplicate_of, name="mail_message_duplicate_of_id",
                                        where=MailMessage.duplicate_of.is_null(False)))
# What an idle pass asks, answered from the rows that need work, not from every record of the folder:
# records to retry, undesired mail to purge and old-epoch records still on the server (work); deletes and
# moves not done yet (pending: `disposition_pending > ''`); records of vanished mail past retention (vanished).
MailMessage.add_index(MailMessage.index(MailMessage.inbox, MailMessage.folder, MailMessage.on_server,
                                        MailMessage.uidvalidity, MailMessage.status, MailMessage.processed_at,
                                        name="mail_message_work"))
MailMessage.add_index(MailMessage.index(MailMessage.inbox, MailMessage.folder, MailMessage.uidvalidity,
                                        MailMessage.disposition_pending, name="mail_message_pending",
                                        where=MailMessage.disposition_pending > SQL("''")))
MailMessage.add_index(MailMessage.index(MailMessage.inbox, MailMessage.folder, MailMessage.on_server,
                                        MailMessage.status, MailMessage.vanished_at, name="mail_message_vanished"))


class MessageRef(BaseModel):
    """Message-ID -> ticket, for threading, for ids without a mail record: our own outgoing mail and mail
    whose record was deleted (moved here first); a mail record is its own thread entry (records.py)."""

    message_id = CharField()  # the unique (message_id, ticket) index serves lookups by id
    ticket = ForeignKeyField(Ticket, on_delete="CASCADE", backref="message_refs")
    created = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("message_id", "ticket"), True),)


class CaseLogEntry(BaseModel):
    ticket = ForeignKeyField(Ticket, on_delete="CASCADE", backref="case_log")
    log = CharField(default="public_log")  # public_log | private_log
    author_name = CharField(default="")
    author_email = CharField(default="")
    date = DateTimeField(default=utcnow)
    html = TextField(default="")
    message_id = CharField(default="")


class TicketContact(BaseModel):
    ticket = ForeignKeyField(Ticket, on_delete="CASCADE", backref="contacts")
    person = ForeignKeyField(Person, on_delete="CASCADE")

    class Meta:
        indexes = ((("ticket", "person"), True),)


class Attachment(BaseModel):
    ticket = ForeignKeyField(Ticket, on_delete="CASCADE", backref="attachments")
    filename = CharField()
    content_type = CharField(default="application/octet-stream")
    size = BigIntegerField(default=0)
    blob = ForeignKeyField(Blob, on_delete="RESTRICT")
    inline = BooleanField(default=False)
    content_id = CharField(default="")
    message = ForeignKeyField(MailMessage, null=True, on_delete="SET NULL")
    created = DateTimeField(default=utcnow)
    original_filename = CharField(default="")  # as the mail named it (filename is the cleaned, unique one)
    declared_type = CharField(default="")  # the Content-Type as written; content_type is what the bytes are
    content_id_aliases = TextField(default="")  # Content-IDs of later parts with the same bytes, space-separated
    # Where the bytes are: part "" -> the whole blob is the file; part "<offset>" -> the blob is the raw mail
    # and the file is its MIME part whose headers start at that byte offset (stored once, read back decoded).
    part = CharField(default="")
    digest = CharField(default="")  # sha256 of the file's bytes ("" on rows older than step 11: blob_id is it)


class Change(BaseModel):
    """Audit of operator actions and of deleted mail records (moved here first); a mail's work is audited
    on its record (MailMessage.audit, records.py). Stores before step 11 hold one row per processed mail."""

    ticket = ForeignKeyField(Ticket, on_delete="CASCADE", backref="changes")
    who = CharField(default="")
    date = DateTimeField(default=utcnow)
    fields = TextField(default="[]")  # JSON list of changed fields / log entries
    summary = TextField(default="")
    message = ForeignKeyField(MailMessage, null=True, on_delete="SET NULL")


class TicketEvent(BaseModel):
    """created-by-mail / updated-by-mail / stimulus:ev_x / log:public_log, as releases up to step 10 wrote
    them. No longer written: the Change row of the same work says the same (its summary starts with the
    event), and notifications fire in that transaction. Kept so older stores keep their history."""

    ticket = ForeignKeyField(Ticket, on_delete="CASCADE", backref="events")
    kind = CharField()
    date = DateTimeField(default=utcnow)
    message = ForeignKeyField(MailMessage, null=True, on_delete="SET NULL")
    consumed = BooleanField(default=False)


class DebugTrace(BaseModel):
    """Rolling per-inbox trace lines, bounded in bytes (the reference keeps 500 KB)."""

    inbox = ForeignKeyField(Inbox, on_delete="CASCADE", backref="trace_lines")
    date = DateTimeField(default=utcnow, index=True)
    line = TextField()


class Outbox(BaseModel):
    """Mail to send (error forwards, rejection replies, notifications), committed with the work that caused it."""

    kind = CharField()
    to_addr = TextField()
    from_addr = CharField(default="")
    subject = TextField(default="")
    body = TextField(default="")
    message_id = CharField(default="")
    in_reply_to = CharField(default="")
    thread_refs = TextField(default="")  # the References header: Message-IDs of the ticket's thread, in <>
    attach_original = BooleanField(default=False)  # the raw mail of `mail` goes along as an .eml
    ticket = ForeignKeyField(Ticket, null=True, on_delete="SET NULL")
    mail = ForeignKeyField(MailMessage, null=True, on_delete="SET NULL")
    created = DateTimeField(default=utcnow)
    sent = DateTimeField(null=True)
    claimed_until = DateTimeField(null=True)  # a sender holds the row until then (no double sending)
    attempts = IntegerField(default=0)
    last_error = TextField(default="")


ALL_MODELS: list[type[BaseModel]] = [
    SchemaVersion,
    SettingsEntry,
    Inbox,
    InboxState,
    InboxLease,
    OAuthGrant,
    DaemonPresence,
    Blob,
    Organization,
    Person,
    ExtraEmail,
    Team,
    TeamMember,
    Service,
    Ticket,
    MailMessage,
    MessageRef,
    CaseLogEntry,
    TicketContact,
    Attachment,
    Change,
    TicketEvent,
    DebugTrace,
    Outbox,
]
