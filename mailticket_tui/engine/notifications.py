"""Notifications: the [[notification]] rules turned into Outbox rows (what iTop's triggers and mail actions do
for "created by mail", "updated by mail", lifecycle changes and case log entries).

`fire` runs INSIDE the transaction of the work that caused the event (a processed mail, or an operator's
stimulus or log entry through services, beside its Change row): it writes one Outbox row per
recipient, so the mail exists exactly when the work committed; outbound.send_outbox sends it afterwards.
Each row carries our signed Message-ID (threading.make_message_id: a reply to it finds the ticket by header
alone; it is also kept as a MessageRef of the ticket, so the runner knows a reply's parent), In-Reply-To the
mail that caused it (else the ticket's newest Message-ID) and References the ticket's thread (its MessageRef
ids, earlier notifications included). Guards: nothing in answer to auto-mail, never to our own addresses, at most
PER_HOUR notifications per address an hour. Knows nothing of SMTP, Textual or the CLI.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from peewee import fn

from ..settings import NotificationRule, Settings
from ..store.models import (
    Inbox,
    MailMessage,
    MessageRef,
    Organization,
    Outbox,
    Person,
    Service,
    Team,
    TeamMember,
    Ticket,
    TicketContact,
    utcnow,
)
from . import records
from .outbound import one_line, own_addresses
from .parse import html_to_text
from .threading import make_message_id, store_secret
from .tickets import enum_label

PER_HOUR = 10  # notifications to one address in an hour: a loop or a storm stops there
THREAD_IDS = 20  # References kept: the first id (the request) and the newest ones
STIMULUS_EVENTS = {"ev_assign": "assigned", "ev_reassign": "assigned", "ev_resolve": "resolved",
                   "ev_close": "closed", "ev_reopen": "reopened"}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Cause:
    """Who or what caused the event: the mail (None for an operator), its author, the new log entry."""

    author_email: str = ""
    author_name: str = ""
    log_html: str = ""
    message: MailMessage | None = None
    auto: bool = False  # the causing mail was auto-submitted: it is never answered


def lifecycle_event(stimulus: str) -> str | None:
    """The notification event of a stimulus (ev_resolve -> resolved), None for those without one."""
    return STIMULUS_EVENTS.get(stimulus)


def render(template: str, values: dict[str, str]) -> str:
    """{name} -> its value; values are inserted as data, never scanned again (a subject holding "{ref}" stays)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def fire(settings: Settings, ticket: Ticket, event: str, cause: Cause) -> list[str]:
    """Plan the mail of every active rule for `event` on `ticket`; returns one trace line per decision.
    No rule for the event (the default: none at all): no query."""
    rules = [r for r in settings.notifications if r.active and r.event == event]
    if not rules:
        return []
    inbox_name = Inbox.select(Inbox.name).where(Inbox.id == ticket.inbox_id).scalar() if ticket.inbox_id else None
    rules = [r for r in rules if not r.inboxes or inbox_name in r.inboxes]
    if not rules:
        return []
    if cause.auto:
        return [f"notify: {event}: not sent, the mail that caused it is auto-submitted"]
    values = _values(ticket, event, cause)
    in_reply_to, refs = _thread(ticket, cause)
    inbox = settings.inbox(inbox_name) if inbox_name else None
    own = own_addresses(settings)
    notes: list[str] = []
    planned: list[tuple[NotificationRule, str]] = []
    for rule in rules:
        for address in _recipients(rule, ticket):
            if rule.skip_author and address == cause.author_email.lower():
                continue
            if address in own:
                notes.append(f"notify: {rule.name or event}: not to {address}, one of our own addresses (mail loop)")
                continue
            planned.append((rule, address))
    recent = _recent_counts({a for _, a in planned})
    secret = store_secret()
    for rule, address in planned:
        if recent.get(address, 0) >= PER_HOUR:
            notes.append(f"notify: {rule.name or event}: not to {address}, already {PER_HOUR} notifications "
                         "to it this hour")
            continue
        sender = rule.from_addr or (inbox.login if inbox and "@" in inbox.login else "") or settings.smtp.sender
        if "@" not in sender:
            notes.append(f"notify: {rule.name or event}: not to {address}, no sender address (set the rule's "
                         "from_addr or [smtp] sender)")
            continue
        recent[address] = recent.get(address, 0) + 1
        message_id = make_message_id(ticket.ref, secrets.randbelow(10 ** 12), sender.rpartition("@")[2], secret)
        texts = {**values, "link": render(rule.link, values) if rule.link else f"Ticket {ticket.ref}"}
        Outbox.create(kind="notification", to_addr=address, from_addr=sender,
                      subject=one_line(render(rule.subject, texts), 250), body=render(rule.body, texts),
                      message_id=message_id,
                      in_reply_to=in_reply_to, thread_refs=refs, ticket=ticket, mail=cause.message)
        # a known parent: a reply naming only this id is not held back as waiting for its request
        MessageRef.insert(message_id=message_id, ticket=ticket).on_conflict_ignore().execute()
        notes.append(f"notify: {rule.name or event}: {event} mail to {address} queued")
    return notes


def _recipients(rule: NotificationRule, ticket: Ticket) -> list[str]:
    """The rule's addresses for this ticket, in the rule's order, each once; inactive persons left out."""
    found: list[str] = []
    for who in rule.recipients:
        if who == "caller" and ticket.caller_id:
            found += _active_emails(Person.select(Person.email).where(Person.id == ticket.caller_id))
        elif who == "agent" and ticket.agent_id:
            found += _active_emails(Person.select(Person.email).where(Person.id == ticket.agent_id))
        elif who == "contacts":
            found += _active_emails(Person.select(Person.email).join(TicketContact)
                                    .where(TicketContact.ticket == ticket).order_by(Person.email))
        elif who == "team" and ticket.team_id:
            team_email = Team.select(Team.email).where(Team.id == ticket.team_id).scalar()
            found += [team_email] if team_email else _active_emails(
                Person.select(Person.email).join(TeamMember).where(TeamMember.team == ticket.team_id)
                .order_by(Person.email))
        elif "@" in who:
            found.append(who)
    seen: set[str] = set()
    return [a for a in (x.strip().lower() for x in found) if a and not (a in seen or seen.add(a))]


def _active_emails(query) -> list[str]:
    return [p.email for p in query.where(Person.active == True)]  # noqa: E712


def _recent_counts(addresses: set[str]) -> dict[str, int]:
    """Notifications to each address in the last hour, in one grouped query."""
    if not addresses:
        return {}
    since = utcnow() - dt.timedelta(hours=1)
    rows = (Outbox.select(Outbox.to_addr, fn.COUNT(Outbox.id)).where(
        (Outbox.kind == "notification") & Outbox.to_addr.in_(sorted(addresses)) & (Outbox.created > since))
        .group_by(Outbox.to_addr).tuples())
    return dict(rows)


def _thread(ticket: Ticket, cause: Cause) -> tuple[str, str]:
    """(In-Reply-To, References): the causing mail (else the newest mail the requesters sent) and the
    ticket's thread."""
    ids = records.thread_ids(ticket.id)
    ids = [clean for clean in (one_line(m, 250).strip("<> ") for m in ids) if clean and " " not in clean]
    if len(ids) > THREAD_IDS:
        ids = ids[:1] + ids[-(THREAD_IDS - 1):]
    parent = one_line(cause.message.message_id, 250).strip("<> ") if cause.message is not None else ""
    if not parent or " " in parent:  # an operator's action: it answers the newest mail of the requesters
        theirs = [m for m in ids if not m.startswith("mt.")] or ids
        parent = theirs[-1] if theirs else ""
    if parent and parent not in ids:
        ids.append(parent)
    return parent, " ".join(f"<{m}>" for m in ids)


def _values(ticket: Ticket, event: str, cause: Cause) -> dict[str, str]:
    """Every placeholder's text for this ticket and event (a few primary-key reads, once per event)."""
    def person(pid: int | None) -> Person | None:
        return Person.get_or_none(Person.id == pid) if pid else None

    caller, agent = person(ticket.caller_id), person(ticket.agent_id)
    org = Organization.get_or_none(Organization.id == ticket.org_id) if ticket.org_id else None
    service = Service.get_or_none(Service.id == ticket.service_id) if ticket.service_id else None
    team = Team.get_or_none(Team.id == ticket.team_id) if ticket.team_id else None
    # {log_entry} is only ever the entry the cause wrote, and the engine passes none for a private one: a
    # private entry reaches a private_log_entry rule, never the caller by way of another event
    log_html, log_author = cause.log_html, cause.author_name or cause.author_email
    return {
        "ref": ticket.ref, "title": ticket.title, "status": ticket.status, "class": ticket.klass, "event": event,
        "caller_name": _name(caller), "caller_email": caller.email if caller else "",
        "org": org.name if org else "", "priority": enum_label("priority", ticket.priority),
        "urgency": enum_label("urgency", ticket.urgency), "impact": enum_label("impact", ticket.impact),
        "service": service.name if service else "", "service_subcategory": ticket.service_subcategory,
        "team": team.name if team else "", "agent": _name(agent), "origin": ticket.origin,
        "description": html_to_text(ticket.description).strip()[:5000],
        "log_entry": html_to_text(log_html).strip()[:5000] if log_html else "", "log_author": log_author,
    }


def _name(person: Person | None) -> str:
    if person is None:
        return ""
    return " ".join(p for p in (person.first_name, person.name) if p).strip() or person.email
