"""What a user can do, one call per action, for the CLI and the TUI alike.

Services open the unit of work, call the engine and return frozen dataclasses (never live peewee rows, so
the UI never runs a lazy query on its event loop). Never imports textual or rich.
"""
from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import re
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from peewee import JOIN, Tuple, fn

from .engine import leases, records
from .engine.events import EventSink, PassFinished, ignore_events
from .engine.lifecycle import lifecycle
from .engine import parse  # its modules load on first use (engine/parse/__init__.py): not for the first screen
from .engine.sources import SourceError, open_source
from .engine.tickets import (
    ENUMS,
    TicketError,
    add_log_entry,
    apply_stimulus,
    enum_label,
    record_change,
)
from .settings import (
    EngineSettings,
    InboxSettings,
    Settings,
    SettingsError,
    SmtpSettings,
    config_search_path,
    load_settings_file,
    settings_from_dict,
    settings_to_dict,
    without_secrets,
)
from .store import default_store_url, open_store
from .store.models import (
    Attachment,
    CaseLogEntry,
    DebugTrace,
    Inbox,
    InboxState,
    MailMessage,
    OAuthGrant,
    Organization,
    Outbox,
    Person,
    Service,
    Team,
    Ticket,
    TicketContact,
    database_proxy,
    utcnow,
)
from .store.settings_store import load_settings, save_inbox, save_settings, store_is_empty

if TYPE_CHECKING:  # the runner, the steps, notifications and mail sending load where they are used: not for a TUI's
    # first paint, nor for a CLI command that lists rows
    from .directory import PersonInfo
    from .engine.steps import Context
    from .unknown_callers import CallerPlan

PAGE = 50


# ------------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class InboxInfo:
    name: str
    protocol: str
    server: str
    port: int
    mailbox: str
    active: bool
    last_success: str | None
    last_error: str
    error_streak: int
    counts: dict[str, int]
    last_counters: dict[str, int] = field(default_factory=dict)  # of the last pass (read, processed, ...)
    last_attempt: str | None = None


@dataclass(frozen=True)
class MessageCursor:
    """A message's place in the Mailbox order, its sort key as stored: (date, id), date None for undated mail.

    Keyset pages start after or before a cursor, so a page costs the same wherever it is (no OFFSET scan) and
    rows added or removed elsewhere never shift it. `date` is the value the store returned, passed back as is.
    """

    date: Any
    id: int


@dataclass(frozen=True)
class MessageInfo:
    id: int
    inbox: str
    folder: str
    uid: int | None
    key: str
    message_id: str
    date: str | None
    from_addr: str
    subject: str
    size: int
    status: str
    ticket_ref: str | None
    error: str
    on_server: bool
    uidvalidity: int = 0  # the folder's UIDVALIDITY when it was seen; 0 for POP3 and Maildir
    duplicate_of: int | None = None  # the first record of the same mail, for a `duplicate`
    cursor: MessageCursor | None = field(default=None, compare=False, repr=False)  # where keyset pages start

    def as_json(self) -> dict:
        return {"id": self.id, "inbox": self.inbox, "folder": self.folder, "uid": self.uid,
                "message_id": self.message_id, "date": self.date, "from": self.from_addr, "subject": self.subject,
                "size": self.size, "status": self.status, "ticket_ref": self.ticket_ref, "error": self.error,
                "key": self.key, "on_server": self.on_server, "uidvalidity": self.uidvalidity,
                "duplicate_of": self.duplicate_of}


@dataclass(frozen=True)
class ActionResult:
    id: int
    ok: bool
    message: str


@dataclass(frozen=True)
class OutboxItem:
    """One outgoing mail: what was sent, what waits and why (`sent` is None while it waits)."""

    id: int
    kind: str
    to_addr: str
    from_addr: str
    subject: str
    message_id: str
    created: str | None
    sent: str | None
    attempts: int
    last_error: str

    def as_json(self) -> dict:
        return {"id": self.id, "kind": self.kind, "to": self.to_addr, "from": self.from_addr, "subject": self.subject,
                "message_id": self.message_id, "created": self.created, "sent": self.sent,
                "attempts": self.attempts, "last_error": self.last_error}


@dataclass(frozen=True)
class TicketSummary:
    ref: str
    klass: str
    title: str
    status: str
    caller_email: str
    org: str
    origin: str
    created: str
    updated: str
    priority: str = ""  # the label (critical, high, medium, low)
    team: str = ""
    agent: str = ""  # "First Last", else the address
    service: str = ""
    id: int = 0  # the store id: where the Tickets list's keyset pages start (not part of the JSON)

    def as_json(self) -> dict:
        return {"ref": self.ref, "class": self.klass, "title": self.title, "status": self.status,
                "caller_email": self.caller_email, "org": self.org, "origin": self.origin,
                "created": self.created, "updated": self.updated, "priority": self.priority, "team": self.team,
                "agent": self.agent, "service": self.service}


@dataclass(frozen=True)
class CaseLogItem:
    """One case log entry, its HTML turned to text; `author` is "name <email>"."""

    log: str  # public_log | private_log
    author: str
    date: str | None
    text: str
    message_id: str  # of the mail that wrote it; "" for an operator's entry
    html: str = ""  # as stored (sanitised): the TUI shows its cid: images in place; not in the JSON

    def as_json(self) -> dict:
        return {"log": self.log, "author": self.author, "date": self.date, "text": self.text,
                "message_id": self.message_id}


@dataclass(frozen=True)
class AttachmentItem:
    """An attachment's description; its bytes come from Services.attachment_bytes(id)."""

    id: int
    filename: str
    content_type: str  # what the bytes are (sniffed); declared_type is what the mail said
    size: int
    inline: bool
    content_id: str = ""
    declared_type: str = ""
    original_filename: str = ""
    content_id_aliases: tuple[str, ...] = ()  # Content-IDs of later parts with the same bytes
    message_id: str = ""  # of the mail it came from, while that mail's record is kept; not in the JSON

    def as_json(self) -> dict:
        return {"id": self.id, "filename": self.filename, "content_type": self.content_type, "size": self.size,
                "inline": self.inline, "content_id": self.content_id, "sniffed_type": self.content_type,
                "declared_type": self.declared_type, "original_filename": self.original_filename,
                "content_id_aliases": list(self.content_id_aliases)}


@dataclass(frozen=True)
class HistoryItem:
    """One audited change: a processed message or an operator's action."""

    date: str | None
    who: str
    fields: tuple[str, ...]  # the fields and logs it changed
    summary: str

    def as_json(self) -> dict:
        return {"date": self.date, "who": self.who, "fields": list(self.fields), "summary": self.summary}


@dataclass(frozen=True)
class TicketMail:
    """One source mail of a ticket, as its Mails tab lists it; `inbox` and `id` open it in the Mailbox."""

    id: int
    inbox: str
    date: str | None  # the mail's Date header, UTC
    from_addr: str
    subject: str
    status: str
    message_id: str

    def as_json(self) -> dict:
        return {"id": self.id, "inbox": self.inbox, "date": self.date, "from": self.from_addr,
                "subject": self.subject, "status": self.status, "message_id": self.message_id}


@dataclass(frozen=True)
class TicketDetail:
    summary: TicketSummary
    description: str
    description_text: str
    contacts: tuple[str, ...]
    case_log: tuple[CaseLogItem, ...]  # newest first
    attachments: tuple[AttachmentItem, ...]
    history: tuple[HistoryItem, ...]  # oldest first
    messages: tuple[str, ...]
    message_rows: tuple[int, ...]
    stimuli: tuple[str, ...]
    parent: str | None
    message_inboxes: tuple[str, ...] = ()  # the inbox of each of message_rows
    mails: tuple[TicketMail, ...] = ()  # the source mails by date (then id); messages/message_rows are by id
    urgency: str = ""
    impact: str = ""
    service_subcategory: str = ""
    agent_email: str = ""
    extra: tuple[tuple[str, str], ...] = ()  # custom fields, by name
    legacy_ref: str = ""  # "UserRequest::123": the ticket in a former iTop

    def as_json(self) -> dict:
        return {**self.summary.as_json(), "description": self.description, "contacts": list(self.contacts),
                "case_log": [e.as_json() for e in self.case_log],
                "attachments": [a.as_json() for a in self.attachments],
                "history": [c.as_json() for c in self.history], "messages": list(self.messages), "parent": self.parent,
                "stimuli": list(self.stimuli), "mails": [m.as_json() for m in self.mails], "urgency": self.urgency,
                "impact": self.impact, "service_subcategory": self.service_subcategory,
                "agent_email": self.agent_email, "extra": dict(self.extra), "legacy_ref": self.legacy_ref}


@dataclass(frozen=True)
class TicketFilter:
    klass: str = ""
    status: str = ""
    caller: str = ""
    org: str = ""
    inbox: str = ""
    text: str = ""
    team: str = ""  # part of the team's name
    agent: str = ""  # part of the agent's address or name
    service: str = ""  # part of the service's name
    priority: str = ""  # a label (high) or its code (2)


def _iso(value) -> str | None:
    return value.isoformat(sep=" ", timespec="seconds") if value else None


# ------------------------------------------------------------------------------------------ health
# An error or undesired reason's class, from the stable start of the text the engine writes (engine/process.py,
# engine/steps/, engine/runner.py); the variable rest (addresses, sizes, refs, exception text) is dropped. The
# first pattern that matches wins; a text none matches falls back to `_fallback_reason`.
_REASON_CLASSES: tuple[tuple[re.Pattern, str], ...] = tuple((re.compile(p, re.IGNORECASE), label) for p, label in (
    (r"^unknown caller\b|\bunknown (caller|sender)\b", "unknown caller"),
    (r"^ambiguous caller\b", "ambiguous caller"),
    (r"^message too big\b", "too big"),
    (r"^a reply to #\d+", "reply waits for its request"),
    (r"^internal error\b", "internal error"),
    (r"\b(delete|move) on the server failed\b", "server delete/move failed"),
    (r"^unreadable message\b|^empty message\b", "unreadable message"),
    (r"^no sender address\b", "no sender address"),
    (r"^title_pattern is invalid\b", "invalid title_pattern"),
    (r"^nothing to update\b", "nothing to update (update_only)"),
    (r"^related ticket \S+ is an? \w+", "related ticket of another class"),
    (r"^\S+ is \w+: replies are rejected", "reply to a closed ticket"),
    (r"\bmay not update\b", "sender may not update the ticket"),
    (r"^ticket default values\b", "ticket default values"),
    (r"^autoreply\b", "auto-reply"),
    (r"^bounce\b", "bounce"),
    (r"^list\b", "mailing list"),
    (r"^spam\b", "spam"),
    (r"^loop\b", "loop (our own address)"),
    (r"^subject matches undesired pattern\b", "undesired subject"),
))
ATTENTION_STATUSES = ("error",)  # message states that need an operator (ignored, duplicate, undesired do not)


def reason_class(text: str) -> str:
    """The class of an error or undesired reason, e.g. "unknown caller" for
    "unknown caller bob@x (unknown_caller_behavior = reject_email)": what `status` and the Inboxes screen count."""
    text = " ".join((text or "").split())
    if not text:
        return "no reason recorded"
    for pattern, label in _REASON_CLASSES:
        if pattern.search(text):
            return label
    return _fallback_reason(text)


def _fallback_reason(text: str) -> str:
    """An unknown text: its words before the first colon (or its first four), numbers, refs and addresses
    masked, so that "foo 12: x" and "foo 13: y" count together."""
    head = text.split(":", 1)[0] if ":" in text[:60] else " ".join(text.split()[:4])
    head = re.sub(r"\S+@\S+", "ADDR", head)
    head = re.sub(r"\b[A-Z]-\d+\b|#?\d+", "N", head)
    return head.strip().lower()[:60] or "other"


@dataclass(frozen=True)
class InboxHealth:
    """One inbox at a glance: its connection (the last passes) and its messages (their states), kept apart,
    and what of both needs an operator (`attention`, empty when all is well).

    connection: ok | failing (the last pass failed; error_streak in a row) | stale (no success for longer than
    `stale_after` seconds) | never polled | inactive | needs authorization (an OAuth2 inbox without a live
    consent: never authorized, or its grant was revoked or expired). waiting: processed or failed mail whose delete or move on
    the server is not confirmed yet. Reasons are (class, count), most frequent first."""

    info: InboxInfo
    connection: str
    lag_seconds: int | None  # since the last successful pass; None when there was none
    waiting: int
    error_reasons: tuple[tuple[str, int], ...]
    undesired_reasons: tuple[tuple[str, int], ...]
    attention: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def needs_attention(self) -> bool:
        return bool(self.attention)

    def count(self, status: str) -> int:
        return self.info.counts.get(status, 0)

    def messages_line(self) -> str:
        """"3 new, 18 processed, 18 error (12 unknown caller, 6 too big), 2 undesired", empty states left out."""
        parts = []
        for status in ("new", "processed", "error", "undesired", "ignored", "duplicate"):
            n = self.count(status)
            if not n:
                continue
            reasons = self.error_reasons if status == "error" else (
                self.undesired_reasons if status == "undesired" else ())
            parts.append(f"{n} {status}" + (f" ({reasons_line(reasons)})" if reasons else ""))
        if self.waiting:
            parts.append(f"{self.waiting} waiting for the server")
        return ", ".join(parts) or "no message"

    def connection_line(self) -> str:
        """"ok, last success 2026-11-30 11:00:00 (lag 2m)", "failing x3: <error>", ..."""
        lag = f" (lag {format_lag(self.lag_seconds)})" if self.lag_seconds is not None else ""
        if self.connection == "failing":
            return f"failing x{self.info.error_streak}: {self.info.last_error}"
        if self.connection == "never polled":
            return "never polled"
        if self.connection == "needs authorization":
            return "needs authorization" + (f": {self.info.last_error}" if self.info.last_error else
                                            f" (OAuth2): run `mailticket inbox authorize {self.info.name}`")
        return f"{self.connection}, last success {self.info.last_success or 'never'}{lag}"

    def as_json(self) -> dict:
        """The `inbox list --json` object: InboxInfo's keys, then the health keys (added, never renamed)."""
        i = self.info
        return {"name": i.name, "protocol": i.protocol, "server": i.server, "port": i.port, "mailbox": i.mailbox,
                "active": i.active, "last_success": i.last_success, "last_error": i.last_error,
                "error_streak": i.error_streak, "counts": i.counts, "last_attempt": i.last_attempt,
                "connection": self.connection, "lag_seconds": self.lag_seconds,
                "messages": {s: self.count(s) for s in ("new", "processed", "error", "undesired", "ignored",
                                                        "duplicate")} | {"waiting": self.waiting},
                "error_reasons": [{"reason": r, "count": n} for r, n in self.error_reasons],
                "undesired_reasons": [{"reason": r, "count": n} for r, n in self.undesired_reasons],
                "needs_attention": self.needs_attention, "attention": list(self.attention)}


def reasons_line(reasons: tuple[tuple[str, int], ...], limit: int = 3) -> str:
    """"12 unknown caller, 6 too big" (the `limit` most frequent, then "+N more")."""
    shown = ", ".join(f"{n} {r}" for r, n in reasons[:limit])
    rest = sum(n for _, n in reasons[limit:])
    return shown + (f", {rest} other" if rest else "")


def format_lag(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def health_summary(items: tuple[InboxHealth, ...] | list[InboxHealth]) -> str:
    """The line at the top: what needs attention, or that nothing does."""
    if not items:
        return "no inbox configured"
    flagged = [h for h in items if h.needs_attention]
    if not flagged:
        return "the inbox is OK" if len(items) == 1 else f"all {len(items)} inboxes OK"
    count = f"{len(flagged)} of {len(items)} inboxes need" if len(items) > 1 else "the inbox needs"
    return f"{count} attention · " + "; ".join(f"{h.name}: {', '.join(h.attention)}" for h in flagged)


# ------------------------------------------------------------------------------------------ services
@dataclass
class Services:
    """The store and its settings, opened once; every method is one user action."""

    store_url: str
    settings: Settings
    config_path: Path | None = None
    warnings: list[str] = field(default_factory=list)

    def reload(self) -> Settings:
        self.settings = load_settings(self.store_url)
        return self.settings

    # -- configuration ----------------------------------------------------------------------------
    def import_config(self, path: str) -> Settings:
        """Upsert the file by inbox name. Refused (SettingsError, nothing written) when an inbox of the file
        would read the same folder as a stored inbox the file does not replace: one inbox per folder."""
        save_settings(load_settings_file(path), source=str(path))
        return self.reload()

    def export_config(self, with_secrets: bool = False) -> dict:
        settings = self.settings if with_secrets else without_secrets(self.settings)
        data = settings_to_dict(settings, with_secrets)
        data["store"]["url"] = "" if not with_secrets and "@" in self.store_url else self.store_url
        return data

    # -- inboxes ----------------------------------------------------------------------------------
    def list_inboxes(self) -> list[InboxInfo]:
        states = {s.inbox_id: s for s in InboxState.select()}
        counts: dict[int, dict[str, int]] = {}
        for inbox_id, status, n in (MailMessage.select(MailMessage.inbox, MailMessage.status, fn.COUNT(MailMessage.id))
                                    .group_by(MailMessage.inbox, MailMessage.status).tuples()):
            counts.setdefault(inbox_id, {})[status] = n
        out = []
        for row in Inbox.select().order_by(Inbox.name):
            state = states.get(row.id)
            out.append(InboxInfo(row.name, row.protocol, row.server, row.port, row.mailbox, row.active,
                                 _iso(state.last_success) if state else None, state.last_error if state else "",
                                 state.error_streak if state else 0, counts.get(row.id, {}),
                                 json.loads(state.last_counters or "{}") if state else {},
                                 _iso(state.last_attempt) if state else None))
        return out

    def health(self, stale_after: int | None = None, now: dt.datetime | None = None) -> tuple[InboxHealth, ...]:
        """Every inbox's connection and message state, with error reasons grouped by class (reason_class) and
        what needs attention: a failing or stale connection of an active inbox, messages in error. A connection
        is stale when no pass succeeded for `stale_after` seconds (default: 3 periodicities, at least 10 min)."""
        now = now or utcnow()
        stale_after = stale_after if stale_after is not None else max(3 * int(self.settings.engine.periodicity), 600)
        reasons: dict[tuple[int, str], dict[str, int]] = {}
        # grouped by the text's start: few rows however many messages share a reason
        head = fn.SUBSTR(MailMessage.error, 1, 80)
        for inbox_id, status, text, n in (MailMessage.select(MailMessage.inbox, MailMessage.status, head,
                                                              fn.COUNT(MailMessage.id))
                                          .where(MailMessage.status.in_(["error", "undesired"]))
                                          .group_by(MailMessage.inbox, MailMessage.status, head).tuples()):
            bucket = reasons.setdefault((inbox_id, status), {})
            label = reason_class(text)
            bucket[label] = bucket.get(label, 0) + n
        waiting = dict(MailMessage.select(MailMessage.inbox, fn.COUNT(MailMessage.id))
                       .where((MailMessage.disposition_pending != "") & (MailMessage.on_server == True))  # noqa: E712
                       .group_by(MailMessage.inbox).tuples())
        ids = dict(Inbox.select(Inbox.name, Inbox.id).tuples())
        grants = {g.inbox_id: g for g in OAuthGrant.select(OAuthGrant.inbox, OAuthGrant.status)}
        out = []
        for info in self.list_inboxes():
            inbox_id = ids.get(info.name)
            lag = None
            if info.last_success:
                lag = max(0, int((now - dt.datetime.fromisoformat(info.last_success)).total_seconds()))
            settings = self.settings.inbox(info.name)
            grant = grants.get(inbox_id)
            if not info.active:
                connection = "inactive"
            elif settings and settings.auth == "oauth2" and (grant is None or grant.status != "authorized"):
                connection = "needs authorization"
            elif info.error_streak:
                connection = "failing"
            elif lag is None:
                connection = "never polled"
            elif lag > stale_after:
                connection = "stale"
            else:
                connection = "ok"

            def ranked(status: str) -> tuple[tuple[str, int], ...]:
                bucket = reasons.get((inbox_id, status), {})
                return tuple(sorted(bucket.items(), key=lambda item: (-item[1], item[0])))

            errors = ranked("error")
            attention = []
            if connection == "needs authorization":
                attention.append(f"needs authorization: run `mailticket inbox authorize {info.name}`")
            elif connection == "failing":
                attention.append(f"connection failing x{info.error_streak}")
            elif connection == "stale":
                attention.append(f"no successful pass for {format_lag(lag)}")
            if info.counts.get("error"):
                attention.append(f"{info.counts['error']} in error ({reasons_line(errors)})")
            out.append(InboxHealth(info, connection, lag, waiting.get(inbox_id, 0), errors, ranked("undesired"),
                                   tuple(attention)))
        return tuple(out)

    def inbox_settings(self, name: str) -> InboxSettings:
        inbox = self.settings.inbox(name)
        if inbox is None:
            raise SettingsError([f"no inbox named {name!r}; see `mailticket inbox list`"])
        return inbox

    def save_inbox(self, inbox: InboxSettings, rename_from: str | None = None) -> None:
        """Insert or update by name; with `rename_from`, rename that inbox first, all in one transaction.
        Refused with a one-line SettingsError (the form shows it) when another inbox reads the same folder."""
        from .store.settings_store import check_one_inbox_per_folder

        with database_proxy.atomic():
            check_one_inbox_per_folder(inbox, (rename_from,) if rename_from else ())
            if rename_from is not None and rename_from != inbox.name:
                self._rename(rename_from, inbox.name)
            save_inbox(inbox)
        self.reload()

    def delete_inbox(self, name: str) -> None:
        """The inbox and its mail records go; its tickets keep their threads and history (records.py)."""
        with database_proxy.atomic():
            records.delete_records(MailMessage.inbox.in_(Inbox.select(Inbox.id).where(Inbox.name == name)))
            Inbox.delete().where(Inbox.name == name).execute()
        self.reload()

    def rename_inbox(self, old: str, new: str) -> None:
        """A new name for the same inbox: its message records, state and tickets stay attached."""
        with database_proxy.atomic():
            self._rename(old, new)
        self.reload()

    @staticmethod
    def _rename(old: str, new: str) -> None:
        if not new.strip():
            raise SettingsError(["inbox name: must not be empty"])
        if Inbox.select().where(Inbox.name == new).exists():
            raise SettingsError([f"inbox name: {new!r} is already used by another inbox"])
        if not Inbox.update(name=new, updated=utcnow()).where(Inbox.name == old).execute():
            raise SettingsError([f"no inbox named {old!r}; see `mailticket inbox list`"])

    def start_authorization(self, name: str, http_client: Any = None):
        """Begin the OAuth2 consent of a saved inbox: (the Authorization to `wait` on off the UI thread, the
        Consent to show). SettingsError when the inbox is not an OAuth2 one; OAuthError from the provider."""
        from .engine.oauth.authorize import Authorization

        authorization = Authorization(self.inbox_settings(name), http_client)
        try:
            return authorization, authorization.start()
        except BaseException:
            authorization.close()
            raise

    def test_inbox(self, name: str):
        """Connect, log in, select the folder of a saved inbox."""
        return self.test_inbox_settings(self.inbox_settings(name))

    def test_inbox_settings(self, inbox: InboxSettings):
        """The same for values not saved yet (the form); an empty password uses the stored one."""
        from .engine.sources.probe import test_connection

        stored = self.settings.inbox(inbox.name)
        if stored and not (inbox.password or inbox.password_env or inbox.password_file):
            inbox = replace(inbox, password=stored.password, password_env=stored.password_env,
                            password_file=stored.password_file)
        from .engine.runner import source_config

        return test_connection(source_config(inbox, self.settings))

    # -- global settings --------------------------------------------------------------------------
    def save_global_settings(self, engine: EngineSettings, smtp: SmtpSettings, ticket_log: dict[str, str],
                             org_domains: dict[str, str]) -> Settings:
        """Replace [engine], [smtp], [ticket_log] and [org_domains]; inboxes are not touched. Validated by
        settings.py over the whole document (the stored inboxes included) before anything is written:
        SettingsError, with key paths such as `engine.maximum_email_size`, when it does not pass.
        `smtp.password` is stored as given, empty included: a caller keeping the stored password passes it
        back (the form does when its field is left empty). Takes effect on the engine's next pass."""
        from .store.settings_store import save_global_sections

        edited = replace(self.settings, engine=engine, smtp=smtp, ticket_log=dict(ticket_log),
                         org_domains=dict(org_domains))
        document = settings_to_dict(edited, with_secrets=True)
        document.pop("store")  # the store's URL is not a setting the store holds
        save_global_sections(settings_from_dict(document))
        return self.reload()

    def test_smtp_settings(self, smtp: SmtpSettings):
        """Connect, secure, log in and QUIT with these [smtp] values (saved or not); no mail is sent. The
        password is resolved as for sending (by value, password_env or password_file): an unset variable or an
        unreadable file raises SettingsError; a server problem comes back as the probe's result."""
        from .engine.outbound import probe_smtp, smtp_secret

        return probe_smtp(smtp, smtp_secret(smtp, self.settings))

    # -- engine -----------------------------------------------------------------------------------
    def run_once(self, only: list[str] | None = None, sink: EventSink = ignore_events,
                 stop: threading.Event | None = None, owner: str | None = None, hold: bool = False,
                 turn: Callable[[], bool] | None = None) -> PassFinished:
        """One pass with the store's current settings; `hold` keeps the leases and `turn` may end an inbox's
        pass between two messages (a daemon's passes)."""
        from .engine.runner import run_pass

        self.reload()
        return run_pass(self.settings, only, owner, sink, stop, hold, turn)

    def trace_lines(self, name: str, limit: int = 5000) -> list[str]:
        inbox = Inbox.get_or_none(Inbox.name == name)
        if inbox is None:
            raise SettingsError([f"no inbox named {name!r}; see `mailticket inbox list`"])
        rows = (DebugTrace.select(DebugTrace.date, DebugTrace.line).where(DebugTrace.inbox == inbox)
                .order_by(DebugTrace.id.desc()).limit(limit).tuples())
        return [f"{_iso(date)} {line}" for date, line in reversed(list(rows))]

    # -- messages ---------------------------------------------------------------------------------
    def list_messages(self, inbox: str = "", status: str = "", text: str = "", offset: int = 0,
                      limit: int | None = PAGE, by_date: bool = False, *, after: MessageCursor | None = None,
                      before: MessageCursor | None = None, last: bool = False) -> list[MessageInfo]:
        """Newest first: by store id (arrival here), or by the mail's Date (`by_date`, what a Date column
        shows; undated mail last, arrival breaking ties).

        Keyset pages, always in the Date order: the `limit` rows `after` a row's cursor, the `limit` rows just
        `before` it, or the `last` `limit` rows (`by_date` with neither and no offset: the first page). Each
        starts where the mail_message (inbox, [status,] date, id) indexes hold its cursor, so the last page
        costs what the first does; `offset` (the CLI's --page) reads and skips every row before its page."""
        # Ticket.id too: a joined instance without its id would blank the row's ticket_id (peewee).
        query = _message_filters(MailMessage.select(MailMessage, Inbox.name, Ticket.id, Ticket.ref)
                                 .join(Inbox).switch(MailMessage).join(Ticket, JOIN.LEFT_OUTER), inbox, status, text)
        if after or before or last or (by_date and limit and not offset):
            if offset or not limit or (after and before):
                raise ValueError("a keyset page takes a limit and one starting point, no offset")
            return [_message_info(r) for r in _keyset_page(query, limit, after, before, last)]
        order = (MailMessage.date.desc(nulls="LAST"), MailMessage.id.desc()) if by_date else (MailMessage.id.desc(),)
        query = query.order_by(*order).offset(offset)
        if limit:
            query = query.limit(limit)
        return [_message_info(r) for r in query]

    def count_messages(self, inbox: str = "", status: str = "", text: str = "",
                       before: MessageCursor | None = None) -> int:
        """How many messages match; with `before`, how many come before that cursor in the Date order (where a
        keyset page starts, for "rows 201-300 of 1234"). Reads every matching index entry: the TUI counts in
        a worker once the page is shown."""
        query = _message_filters(MailMessage.select(), inbox, status, text)
        if before is None:
            return query.count()
        return sum(query.where(condition).count() for condition, _ in _keyset_ranges(before, forward=False))

    def scan_mailbox(self, name: str):
        """The server folder joined with the store now (see engine/scan.py): unseen messages appear as new."""
        from .engine.scan import scan_folder

        return scan_folder(self.settings, self.inbox_settings(name))

    def message_detail(self, message_id: int) -> tuple[MessageInfo, str, bytes | None]:
        row = (MailMessage.select(MailMessage, Inbox.name, Ticket.id, Ticket.ref).join(Inbox).switch(MailMessage)
               .join(Ticket, JOIN.LEFT_OUTER).where(MailMessage.id == message_id).first())
        if row is None:
            raise KeyError(f"no message #{message_id}")
        from .store.blobs import read_blob

        return _message_info(row), row.trace, read_blob(row.raw_id) if row.raw_id else None

    def reset_messages(self, ids: list[int]) -> list[ActionResult]:
        """Back to new, keeping the ticket link so a retry never creates a second ticket."""
        return self._set_status(ids, "new", ("error", "undesired", "ignored", "processed", "duplicate"))

    def ignore_messages(self, ids: list[int]) -> list[ActionResult]:
        return self._set_status(ids, "ignored", ("new", "error", "undesired", "processed", "duplicate"))

    def _set_status(self, ids: list[int], status: str, allowed: tuple[str, ...]) -> list[ActionResult]:
        results = []
        for message_id in ids:
            with database_proxy.atomic():
                row = MailMessage.get_or_none(MailMessage.id == message_id)
                if row is None:
                    results.append(ActionResult(message_id, False, "no such message"))
                    continue
                if row.status not in allowed:
                    results.append(ActionResult(message_id, False, f"is {row.status}; nothing to do"))
                    continue
                if status == "new" and not row.on_server:  # a pass retries only what the server still has
                    results.append(ActionResult(message_id, False, f"is {row.status} and gone from the server "
                                                                   "(vanished); nothing to retry"))
                    continue
                before = row.status
                row.status, row.error = status, ""
                row.disposition_pending = ""
                row.trace += f"\noperator: {before} -> {status}"
                row.save()
            results.append(ActionResult(message_id, True, f"{before} -> {status}"))
        return results

    def delete_messages(self, ids: list[int]) -> list[ActionResult]:
        """From the server first, then the record; a failed server delete leaves the record and says so.

        The inbox's lease is held meanwhile, so a running pass never sees a message vanish under it.
        """
        rows = list(MailMessage.select().where(MailMessage.id.in_(ids)))
        results = [ActionResult(i, False, "no such message") for i in ids if i not in {r.id for r in rows}]
        by_inbox: dict[int, list[MailMessage]] = {}
        for row in rows:
            by_inbox.setdefault(row.inbox_id, []).append(row)
        owner = leases.new_owner("delete")
        for inbox_id, group in by_inbox.items():
            holder = leases.claim(inbox_id, owner, self.settings.engine.lease_seconds)
            if holder is not None:
                results += [ActionResult(r.id, False, f"inbox busy ({holder} holds it); try again") for r in group]
                continue
            try:
                results += self._delete_group(inbox_id, group)
            finally:
                leases.release(inbox_id, owner)
        return sorted(results, key=lambda r: ids.index(r.id) if r.id in ids else 0)

    def _delete_group(self, inbox_id: int, group: list[MailMessage]) -> list[ActionResult]:
        from .engine.runner import source_config

        inbox = self.inbox_settings(Inbox.get_by_id(inbox_id).name)
        on_server = [r for r in group if r.on_server]
        try:
            if on_server:
                with open_source(source_config(inbox, self.settings)) as source:
                    current = source.folder_state().epoch
                    if any(r.uidvalidity != current for r in on_server):
                        raise SourceError("protocol", "the folder's UIDVALIDITY changed; run a pass first")
                    source.delete([r.key for r in on_server])
        except (SourceError, SettingsError, OSError) as exc:
            return [ActionResult(r.id, False, f"server delete failed, record kept: {exc}") for r in group]
        with database_proxy.atomic():
            records.delete_records(MailMessage.id.in_([r.id for r in group]))
        return [ActionResult(r.id, True, "deleted from the server and the store" if r.on_server
                             else "record deleted (already gone from the server)") for r in group]

    # -- outbox -----------------------------------------------------------------------------------
    # -- unknown callers --------------------------------------------------------------------------
    def unknown_caller_plan(self, ids: list[int] | None = None, inbox: str = "") -> CallerPlan:
        """Of these messages (or every message of `inbox` in error), those rejected as unknown callers and the
        persons their retry needs: what the "create and retry" confirmations count."""
        from .unknown_callers import caller_plan

        return caller_plan(lambda error: reason_class(error) == "unknown caller", ids, inbox)

    def create_callers_and_retry(self, plan: CallerPlan) -> tuple[list[PersonInfo], list[ActionResult]]:
        """Create the missing persons, then reset the mails through reset_messages (the ticket link is kept):
        the next pass makes one ticket per mail and finds its caller instead of creating a second one."""
        from .unknown_callers import create_callers

        created = create_callers(plan, self.settings)
        return created, self.reset_messages(list(plan.messages))

    def list_outbox(self, pending_only: bool = False, limit: int = 500) -> list[OutboxItem]:
        """Outgoing mail, newest first: what was sent, what waits and why."""
        query = Outbox.select().order_by(Outbox.id.desc()).limit(limit)
        if pending_only:
            query = query.where(Outbox.sent.is_null())
        return [OutboxItem(o.id, o.kind, o.to_addr, o.from_addr, o.subject, o.message_id, _iso(o.created),
                           _iso(o.sent), o.attempts, o.last_error) for o in query]

    # -- tickets ----------------------------------------------------------------------------------
    def list_tickets(self, filters: TicketFilter = TicketFilter(), offset: int = 0, limit: int | None = PAGE, *,
                     after: int | None = None, before: int | None = None, last: bool = False) -> list[TicketSummary]:
        """Newest first (by id). Keyset pages as list_messages has them, the cursor being a ticket's id: the
        `limit` tickets `after` or just `before` it, or the `last` ones; `offset` is the CLI's --page."""
        agent = Person.alias("agent")
        query = (Ticket.select(Ticket, Person.email.alias("caller_email"), Organization.name.alias("org_name"),
                               Team.name.alias("team_name"), Service.name.alias("service_name"),
                               agent.email.alias("agent_email"), agent.first_name.alias("agent_first"),
                               agent.name.alias("agent_last"))
                 .join(Person, JOIN.LEFT_OUTER, on=(Ticket.caller == Person.id))
                 .switch(Ticket).join(Organization, JOIN.LEFT_OUTER, on=(Ticket.org == Organization.id))
                 .switch(Ticket).join(Team, JOIN.LEFT_OUTER, on=(Ticket.team == Team.id))
                 .switch(Ticket).join(Service, JOIN.LEFT_OUTER, on=(Ticket.service == Service.id))
                 .switch(Ticket).join(agent, JOIN.LEFT_OUTER, on=(Ticket.agent == agent.id)))
        if filters.klass:
            query = query.where(Ticket.klass == filters.klass)
        if filters.status:
            query = query.where(Ticket.status == filters.status)
        if filters.caller:
            query = query.where(Person.email ** f"%{filters.caller}%")
        if filters.org:
            query = query.where(Organization.name ** f"%{filters.org}%")
        if filters.inbox:
            query = query.where(Ticket.inbox.in_(Inbox.select(Inbox.id).where(Inbox.name == filters.inbox)))
        if filters.team:
            query = query.where(Team.name ** f"%{filters.team}%")
        if filters.service:
            query = query.where(Service.name ** f"%{filters.service}%")
        if filters.agent:
            like = f"%{filters.agent}%"
            query = query.where(agent.email ** like | agent.name ** like
                                | agent.first_name.concat(" ").concat(agent.name) ** like)
        if filters.priority:
            query = query.where(Ticket.priority == priority_code(filters.priority))
        if filters.text:
            like = f"%{filters.text}%"
            query = query.where(Ticket.title ** like | Ticket.ref ** like | Ticket.description ** like)
        if before is not None or last:  # read upwards from the cursor (or the oldest), then turned around
            if offset or not limit or after is not None:
                raise ValueError("a keyset page takes a limit and one starting point, no offset")
            query = query.where(Ticket.id > before) if before is not None else query
            return [_ticket_summary(t) for t in query.order_by(Ticket.id).limit(limit).objects()][::-1]
        if after is not None:
            query = query.where(Ticket.id < after)
        query = query.order_by(Ticket.id.desc()).offset(offset)
        if limit:
            query = query.limit(limit)
        return [_ticket_summary(t) for t in query.objects()]

    def get_ticket(self, ref: str) -> TicketDetail:
        ticket = _ticket(ref)
        contacts = tuple(p.email for p in Person.select(Person.email).join(TicketContact)
                         .where(TicketContact.ticket == ticket).order_by(Person.email))
        log = tuple(CaseLogItem(e.log, f"{e.author_name} <{e.author_email}>" if e.author_email else e.author_name,
                                _iso(e.date),
                                parse.html_to_text(e.html), e.message_id, e.html)
                    for e in CaseLogEntry.select().where(CaseLogEntry.ticket == ticket)
                    .order_by(CaseLogEntry.date.desc(), CaseLogEntry.id.desc()))
        attachments = tuple(AttachmentItem(a.id, a.filename, a.content_type, a.size, a.inline, a.content_id,
                                           a.declared_type, a.original_filename, tuple(a.content_id_aliases.split()),
                                           a.mail_message_id or "")
                            for a in Attachment.select(Attachment.id, Attachment.filename, Attachment.content_type,
                                                       Attachment.size, Attachment.inline, Attachment.content_id,
                                                       Attachment.declared_type, Attachment.original_filename,
                                                       Attachment.content_id_aliases,
                                                       MailMessage.message_id.alias("mail_message_id"))
                            .join(MailMessage, JOIN.LEFT_OUTER, on=Attachment.message == MailMessage.id)
                            .where(Attachment.ticket == ticket).order_by(Attachment.id).objects())
        history = tuple(HistoryItem(_iso(e.date), e.who, e.fields, e.summary) for e in records.history(ticket.id))
        # one query: a mail without a Date sorts by when it was seen (NULLs sort differently per database)
        mails = tuple(TicketMail(m.id, m.inbox.name, _iso(m.date), m.from_addr, m.subject, m.status, m.message_id)
                      for m in MailMessage.select(MailMessage.id, MailMessage.date, MailMessage.from_addr,
                                                  MailMessage.subject, MailMessage.status, MailMessage.message_id,
                                                  Inbox.name)
                      .join(Inbox).where(MailMessage.ticket == ticket)
                      .order_by(fn.COALESCE(MailMessage.date, MailMessage.first_seen), MailMessage.id))
        messages = sorted(mails, key=lambda m: m.id)
        summary = list_one(ticket)
        return TicketDetail(summary, ticket.description, parse.html_to_text(ticket.description), contacts, log,
                            attachments, history, tuple(m.message_id for m in messages),
                            tuple(m.id for m in messages), tuple(lifecycle(ticket.klass).stimuli_from(ticket.status)),
                            ticket.parent.ref if ticket.parent_id else None, tuple(m.inbox for m in messages), mails,
                            **_detail_fields(ticket))

    def attachment_bytes(self, attachment_id: int) -> tuple[str, bytes]:
        from .engine.ticket_files import attachment_bytes

        att = Attachment.get_by_id(attachment_id)
        return att.filename, attachment_bytes(att)

    def ticket_stimulus(self, ref: str, stimulus: str, who: str | None = None) -> str:
        """Apply a stimulus, signed by `who` (else the login name); its notifications commit with it."""
        from .engine.notifications import Cause, fire, lifecycle_event

        who = operator_name(who)
        with database_proxy.atomic():
            ticket = _ticket(ref)
            state = apply_stimulus(ticket, stimulus)
            record_change(ticket, who, ["status"], f"{stimulus} -> {state}")
            event = lifecycle_event(stimulus)
            if event:
                fire(self.settings, ticket, event, Cause(author_name=who))
            if ticket.closed:
                _release_kept_mail(ticket)
        return state

    def ticket_log(self, ref: str, text: str, public: bool = True, who: str | None = None) -> None:
        """Add a case log entry signed by `who` (else the login name); its notifications commit with it."""
        from .engine.notifications import Cause, fire

        who = operator_name(who)
        log = "public_log" if public else "private_log"
        html = parse.text_to_html(text)
        with database_proxy.atomic():
            ticket = _ticket(ref)
            add_log_entry(ticket, log, who, "", html)
            record_change(ticket, who, [log], f"{log} entry by {who}")
            fire(self.settings, ticket, "log_entry" if public else "private_log_entry",
                 Cause(author_name=who, log_html=html))

    def ticket_legacy_ref(self, ref: str, legacy: str, who: str | None = None) -> str:
        """Give a ticket its identity in a former iTop ("UserRequest::123", "" to clear it): mail answering
        that iTop's notifications (<iTop_UserRequest_123_...@...>) then threads to this ticket."""
        who = operator_name(who)
        legacy = legacy.strip()
        if legacy and not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*::[0-9]+", legacy):
            raise TicketError(f"legacy ref {legacy!r} is not CLASS::ID; write it as iTop names it, e.g. UserRequest::123")
        legacy = re.sub(r"::0*(?=\d)", "::", legacy)
        with database_proxy.atomic():
            ticket = _ticket(ref)
            holder = Ticket.get_or_none((Ticket.legacy_ref == legacy) & (Ticket.legacy_ref != "")
                                                & (Ticket.id != ticket.id)) if legacy else None
            if holder is not None:
                raise TicketError(f"{holder.ref} already has the legacy ref {legacy}; clear it there first")
            Ticket.update(legacy_ref=legacy, updated=utcnow()).where(Ticket.id == ticket.id).execute()
            record_change(ticket, who, ["legacy_ref"], f"legacy ref set to {legacy or '(none)'}")
        return legacy

    def delete_ticket(self, ref: str) -> None:
        with database_proxy.atomic():
            ticket = _ticket(ref)
            _release_kept_mail(ticket)
            ticket.delete_instance()

    # -- replay -----------------------------------------------------------------------------------
    def replay(self, path: str, inbox_name: str | None = None) -> dict:
        """What would happen to this mail now, with the inbox's settings; writes nothing."""
        from .engine.steps import AbortProcessing, Context, run_steps

        raw = Path(path).read_bytes()
        inbox = self.inbox_settings(inbox_name) if inbox_name else (
            self.settings.inboxes[0] if self.settings.inboxes else InboxSettings(name="(none)", server="-"))
        parsed = parse.parse_message(raw, self.settings.engine.parse_options())
        ctx = Context(settings=self.settings, inbox=inbox, inbox_id=None, parsed=parsed, dry_run=True)
        with database_proxy.atomic() as txn:
            try:
                outcome = run_steps(ctx)
            except AbortProcessing as abort:
                outcome = abort.outcome
            txn.rollback()  # belt and braces: a dry run never writes
        return replay_json(path, parsed, outcome, ctx)


def operator_name(who: str | None = None) -> str:
    """Who signs an operator's action: the name given (`--as NAME`), else the login name of the process."""
    if who and who.strip():
        from .engine.outbound import one_line

        return one_line(who, 100)
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in this environment (a container without a passwd entry)
        return "operator"


def list_one(ticket: Ticket) -> TicketSummary:
    caller = Person.get_or_none(Person.id == ticket.caller_id) if ticket.caller_id else None
    org = Organization.get_or_none(Organization.id == ticket.org_id) if ticket.org_id else None
    team = Team.get_or_none(Team.id == ticket.team_id) if ticket.team_id else None
    agent = Person.get_or_none(Person.id == ticket.agent_id) if ticket.agent_id else None
    service = Service.get_or_none(Service.id == ticket.service_id) if ticket.service_id else None
    agent_name = (" ".join(p for p in (agent.first_name, agent.name) if p) or agent.email) if agent else ""
    return TicketSummary(ticket.ref, ticket.klass, ticket.title, ticket.status, caller.email if caller else "",
                         org.name if org else "", ticket.origin, _iso(ticket.created) or "", _iso(ticket.updated) or "",
                         enum_label("priority", ticket.priority), team.name if team else "", agent_name,
                         service.name if service else "", ticket.id)


def _ticket_summary(t: Ticket) -> TicketSummary:
    """From a row selected with caller_email, org_name, team_name, service_name and agent_* aliases (no lazy
    foreign-key reads)."""
    agent = " ".join(p for p in (t.agent_first, t.agent_last) if p) or t.agent_email or ""
    return TicketSummary(t.ref, t.klass, t.title, t.status, t.caller_email or "", t.org_name or "", t.origin,
                         _iso(t.created) or "", _iso(t.updated) or "", enum_label("priority", t.priority),
                         t.team_name or "", agent, t.service_name or "", t.id)


def _detail_fields(ticket: Ticket) -> dict:
    """The ticket fields TicketDetail adds to the summary's: labels, the agent's address, custom fields."""
    agent_email = Person.select(Person.email).where(Person.id == ticket.agent_id).scalar() if ticket.agent_id else ""
    return {"urgency": enum_label("urgency", ticket.urgency), "impact": enum_label("impact", ticket.impact),
            "service_subcategory": ticket.service_subcategory, "agent_email": agent_email or "",
            "extra": tuple(sorted((str(k), str(v)) for k, v in json.loads(ticket.extra or "{}").items())),
            "legacy_ref": ticket.legacy_ref}


def priority_code(text: str) -> int:
    """'high' or '2' -> 2; a TicketError naming the choices otherwise."""
    text = text.strip().lower()
    if text.isdigit() and int(text) in ENUMS["priority"].values():
        return int(text)
    if text in ENUMS["priority"]:
        return ENUMS["priority"][text]
    raise TicketError(f"unknown priority {text!r}; use one of {', '.join(ENUMS['priority'])} or 1-4")


def _message_filters(query, inbox: str, status: str, text: str):
    """The Mailbox filters; the inbox by a scalar subquery, so `inbox_id = ?` leads an index range."""
    if inbox:
        query = query.where(MailMessage.inbox == Inbox.select(Inbox.id).where(Inbox.name == inbox))
    if status:
        query = query.where(MailMessage.status == status)
    if text:
        like = f"%{text}%"
        query = query.where(MailMessage.subject ** like | MailMessage.from_addr ** like | MailMessage.error ** like)
    return query


def _keyset_ranges(cursor: MessageCursor | None, forward: bool) -> list[tuple[Any, bool]]:
    """The rows after (`forward`) or before a cursor in the Date order, as index ranges read in turn, nearest
    first: (condition, descending). Dated mail comes first by (date, id), then undated mail by id; a row value
    never compares with NULL, so each part is its own range instead of one NULLS LAST expression that no
    index serves on both backends."""
    dated, undated = MailMessage.date.is_null(False), MailMessage.date.is_null()
    key = Tuple(MailMessage.date, MailMessage.id)
    if forward:
        if cursor is None:
            return [(dated, True), (undated, True)]
        if cursor.date is None:
            return [(undated & (MailMessage.id < cursor.id), True)]
        return [(dated & (key < Tuple(cursor.date, cursor.id)), True), (undated, True)]
    if cursor is None:
        return [(undated, False), (dated, False)]
    if cursor.date is None:
        return [(undated & (MailMessage.id > cursor.id), False), (dated, False)]
    return [(dated & (key > Tuple(cursor.date, cursor.id)), False)]


def _keyset_page(query, limit: int, after: MessageCursor | None, before: MessageCursor | None,
                 last: bool) -> list[MailMessage]:
    """`limit` rows from a starting point, in the Date order. Going back (`before`, `last`) reads the order
    reversed with LIMIT, then turns the rows around: the last page is as cheap as the first."""
    forward = before is None and not last
    rows: list[MailMessage] = []
    for condition, descending in _keyset_ranges(after if forward else before, forward):
        if len(rows) == limit:
            break
        order = (MailMessage.date.desc(), MailMessage.id.desc()) if descending else (MailMessage.date, MailMessage.id)
        rows.extend(query.where(condition).order_by(*order).limit(limit - len(rows)))
    return rows if forward else rows[::-1]


def _message_info(r: MailMessage) -> MessageInfo:
    return MessageInfo(r.id, r.inbox.name, r.folder, r.uid, r.key, r.message_id, _iso(r.date), r.from_addr,
                       r.subject, r.size, r.status, r.ticket.ref if r.ticket_id else None, r.error, r.on_server,
                       r.uidvalidity, r.duplicate_of_id, MessageCursor(r.date, r.id))


def _ticket(ref: str) -> Ticket:
    ticket = Ticket.get_or_none(fn.UPPER(Ticket.ref) == ref.strip().upper())
    if ticket is None:
        raise TicketError(f"no ticket {ref!r}; see `mailticket tickets list`")
    return ticket


def _release_kept_mail(ticket: Ticket) -> None:
    """A closed or deleted ticket lets its kept mail leave the server (done by the next pass)."""
    kept = Inbox.select(Inbox.id).where(Inbox.email_storage == "keep")
    MailMessage.update(disposition_pending="delete").where(
        (MailMessage.ticket == ticket) & (MailMessage.on_server == True)  # noqa: E712
        & (MailMessage.inbox.in_(kept)) & (MailMessage.status == "processed")).execute()


def replay_json(path: str, parsed, outcome, ctx: Context) -> dict:
    """The `replay --json` object of DESIGN.md section 6 (attachment actions as the steps decided them)."""
    def addrs(items) -> list[str]:
        return [a.email for a in items]

    return {
        "file": str(path), "subject": parsed.subject, "from": parsed.from_.email if parsed.from_ else None,
        "to": addrs(parsed.to), "cc": addrs(parsed.cc), "message_id": parsed.message_id,
        "in_reply_to": parsed.in_reply_to, "references": list(parsed.references), "body_format": parsed.body_format,
        "body": parsed.body_text, "new_part": parsed.new_part.text,
        "attachments": [{"filename": a.filename, "content_type": a.content_type, "size": a.size, "inline": a.inline,
                         "content_id": a.content_id or None, "action": a.action, "reason": a.reason}
                        for a in (ctx.attachments or parsed.attachments)],
        "auto_submitted": bool(parsed.auto_submitted), "auto_kind": parsed.auto_kind,
        "undesired": bool(parsed.undesired or parsed.auto_kind), "undesired_reason": parsed.undesired_reason or parsed.auto_reason,
        "decision": {"action": outcome.action, "ticket_ref": outcome.ticket.ref if outcome.ticket else None,
                     "reason": outcome.reason},
        "trace": ctx.trace,
    }


# ------------------------------------------------------------------------------------------ opening
def open_services(config: str | None = None, db: str | None = None,
                  warn: Callable[[str], None] = lambda line: None) -> Services:
    """Find the settings file and the store, bootstrap an empty store from the file, load the settings.

    Raises SettingsError (exit 2) or StoreError (exit 4) with one-line messages.
    """
    path = config_search_path(config)
    file_settings = load_settings_file(path) if path else None
    url = db or os.environ.get("MAILTICKET_DB") or (file_settings.store.url if file_settings else "") or default_store_url()
    open_store(url)
    if file_settings is not None:
        if store_is_empty():
            save_settings(file_settings)
        elif config and _differs(file_settings, load_settings(url)):
            warn(f"mailticket: {path} differs from the settings in the store, which stay in use; "
                 f"run `mailticket config import {path}` to apply it")
    return Services(url, load_settings(url), path)


def _comparable(settings: Settings) -> dict:
    """Settings as compared for the "file differs" notice: inboxes keyed by name (their order in a file
    means nothing), passwords by value left out (the store keeps them encrypted; an export shows none)."""
    doc = settings_to_dict(without_secrets(settings))
    doc.pop("store")
    doc["inbox"] = {inbox["name"]: inbox for inbox in doc["inbox"]}
    return doc


def _differs(file_settings: Settings, stored: Settings) -> bool:
    """Does the file say something the store does not hold? Inboxes only in the store don't count."""
    wanted, held = _comparable(file_settings), _comparable(stored)
    held["inbox"] = {name: inbox for name, inbox in held["inbox"].items() if name in wanted["inbox"]}
    return wanted != held
