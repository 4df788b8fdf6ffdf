"""Ticket work inside the caller's transaction: create, log, stimuli, contacts, attachments, audit, events.

Every function here writes through peewee and expects to run inside `database.atomic()` opened by the
processing step or the service that calls it; none commits on its own.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from peewee import PostgresqlDatabase, fn

from ..store import fast_sql
from ..store.blobs import put_blob
from ..store.models import (
    Attachment,
    CaseLogEntry,
    Change,
    Person,
    Service,
    Team,
    Ticket,
    TicketContact,
    database_proxy,
    utcnow,
)
from .lifecycle import lifecycle
from .parse import sanitize_html
from .people import find_org

TITLE_MAX = 255
DESCRIPTION_MAX = 1_000_000  # characters of HTML kept in the field; the rest stays as an attached original


class TicketError(Exception):
    """An operation the ticket's class or lifecycle does not allow; the message says why."""


@dataclass(frozen=True)
class DefaultsResult:
    applied: list[str]
    problems: list[str]
    fatal: str | None


def cut_title(text: str, limit: int = TITLE_MAX) -> str:
    """Cut to `limit` characters without splitting a character, on a word boundary when one is near."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 0.7 else cut).rstrip() + "…"


def fit_description(html: str) -> str:
    """The field's share of a long description: cut, then sanitised again so no tag is left half-open."""
    return html if len(html) <= DESCRIPTION_MAX else sanitize_html(html[:DESCRIPTION_MAX])


def store_blob(data: bytes, digest: str | None = None) -> str:
    """Content-addressed: the same bytes are stored once; returns the key (the sha256), not the bytes."""
    digest = digest or hashlib.sha256(data).hexdigest()
    put_blob(digest, data)
    return digest


def create_ticket(klass: str, title: str, description_html: str, caller: Person | None, inbox_id: int | None,
                  origin: str = "mail", parent: Ticket | None = None) -> Ticket:
    """Insert the ticket with its id-based ref (R-000123) in ONE statement: the id is drawn inside the
    INSERT (the table's sequence on PostgreSQL; max + 1 on SQLite, whose writers are serialised), so no
    placeholder ref and no second UPDATE."""
    cycle = lifecycle(klass)
    now = utcnow()
    ticket = Ticket(klass=klass, title=cut_title(title), description=fit_description(description_html),
                    caller=caller, org=caller.org_id if caller else None, origin=origin, status=cycle.initial,
                    inbox=inbox_id, parent=parent, created=now, updated=now)
    names = [name for name in Ticket._meta.sorted_field_names if name not in ("id", "ref")]
    fields = [Ticket._meta.fields[name] for name in names]
    params = [field.db_value(ticket.__data__.get(field.name)) for field in fields]  # ids: no lazy loads
    columns = ", ".join(f'"{field.column_name}"' for field in fields)
    db = database_proxy.obj
    if isinstance(db, PostgresqlDatabase):
        drawn = "SELECT nextval(pg_get_serial_sequence('ticket', 'id')) AS n"
        ref = "%s || lpad(n::text, greatest(6, length(n::text)), '0')"
        mark = "%s"
    else:
        drawn = 'SELECT COALESCE(MAX("id"), 0) + 1 AS n FROM "ticket"'
        ref = "? || printf('%06d', n)"
        mark = "?"
    sql = (f'INSERT INTO "ticket" ("id", "ref", {columns}) SELECT n, {ref}, {", ".join([mark] * len(fields))} '
           f'FROM ({drawn}) AS drawn RETURNING "id", "ref"')
    ticket.id, ticket.ref = fast_sql.execute(sql, [cycle.prefix, *params]).fetchone()
    ticket._dirty.clear()
    return ticket


ENUMS = {"priority": {"critical": 1, "high": 2, "medium": 3, "low": 4},
         "urgency": {"critical": 1, "high": 2, "medium": 3, "low": 4},
         "impact": {"department": 1, "service": 2, "person": 3}}
_MANDATORY = ("title", "caller_id", "org_id")
# attcode without _id -> what the value names; a name matching nothing there is an error on the message
_EXTERNAL = {"org": "organisation", "caller": "person", "agent": "person", "team": "team", "service": "service"}


def enum_label(field: str, code: int) -> str:
    """'medium' for priority 3; the code itself when it has no label."""
    return next((label for label, value in ENUMS[field].items() if value == code), str(code))


def find_team(value: str) -> Team | None:
    """A team by numeric id or by name (case-insensitive)."""
    found = Team.get_or_none(Team.id == int(value)) if value.isdigit() else None
    return found or Team.get_or_none(fn.LOWER(Team.name) == value.lower())


def find_service(value: str) -> Service | None:
    """A service by numeric id or by name (case-insensitive)."""
    found = Service.get_or_none(Service.id == int(value)) if value.isdigit() else None
    return found or Service.get_or_none(fn.LOWER(Service.name) == value.lower())


def find_person(value: str) -> Person | None:
    """A person by numeric id, by address, or by "First Last" / last name (case-insensitive; active, then oldest
    first, as the caller lookup orders them)."""
    value = value.strip()
    if value.isdigit():
        found = Person.get_or_none(Person.id == int(value))
        if found:
            return found
    if "@" in value:
        return Person.select().where(Person.email == value.lower()).order_by(Person.active.desc(), Person.id).first()
    full = fn.LOWER(fn.TRIM(Person.first_name.concat(" ").concat(Person.name)))
    return (Person.select().where((full == value.lower()) | (fn.LOWER(Person.name) == value.lower()))
            .order_by(Person.active.desc(), Person.id).first())


_FINDERS = {"organisation": find_org, "person": find_person, "team": find_team, "service": find_service}


def apply_default_values(ticket: Ticket, defaults: dict[str, str]) -> DefaultsResult:
    """The inbox's ticket_default_values: every ticket field; external keys (org, caller, agent, team,
    service) by id or by name, enums by code or label, `contacts` a comma-separated list of persons,
    `extra.NAME` a custom field. An unknown field or enum value is traced and skipped (as the reference
    does); a name that matches nothing in an external key or in contacts, or a bad mandatory field, is
    `fatal`: the message goes to error with that one line rather than a ticket dispatched to nobody."""
    applied: list[str] = []
    problems: list[str] = []
    fatal = None
    extra = json.loads(ticket.extra or "{}")
    for key, value in defaults.items():
        key, value = key.strip(), value.strip()
        if key.startswith("extra.") and len(key) > len("extra."):
            extra[key[len("extra."):]] = value
            applied.append(key)
            continue
        error = _apply_one(ticket, key, value)
        if error is None:
            applied.append(key)
        else:
            problems.append(error)
            if fatal is None and (key in _MANDATORY or key.removesuffix("_id") in _EXTERNAL or key == "contacts"):
                fatal = error
    if extra:
        ticket.extra = json.dumps(extra, sort_keys=True)
    ticket.save()
    return DefaultsResult(applied, problems, fatal)


def _apply_one(ticket: Ticket, key: str, value: str) -> str | None:
    base = key.removesuffix("_id")
    if base in _EXTERNAL:
        kind = _EXTERNAL[base]
        found = _FINDERS[kind](value)
        if found is None:
            return f"default {key}={value!r}: no {kind} with that id or name"
        setattr(ticket, base, found)
    elif key == "contacts":
        for name in filter(None, (part.strip() for part in value.split(","))):
            person = find_person(name)
            if person is None:
                return f"default contacts: no person {name!r} (give an id, an address or a name)"
            add_contact(ticket, person)
    elif base == "service_subcategory":
        ticket.service_subcategory = value
    elif key == "description":
        ticket.description = fit_description(sanitize_html(value))
    elif key in ENUMS:
        codes = ENUMS[key]
        if value.isdigit() and int(value) in codes.values():
            setattr(ticket, key, int(value))
        elif value.lower() in codes:
            setattr(ticket, key, codes[value.lower()])
        else:
            return f"default {key}={value!r}: not a valid value ({', '.join(codes)} or their codes)"
    elif key in ("title", "origin"):
        setattr(ticket, key, cut_title(value) if key == "title" else value)
    elif key == "status":
        if value not in lifecycle(ticket.klass).states:
            return f"default status={value!r}: not a state of {ticket.klass}"
        ticket.status = value
    else:
        return f"default {key!r}: unknown ticket field"
    return None


def add_log_entry(ticket: Ticket, log: str, author_name: str, author_email: str, html: str,
                  message_id: str = "", date=None) -> None:
    fast_sql.insert(CaseLogEntry, {"ticket": ticket.id, "log": log, "author_name": author_name,
                                   "author_email": author_email, "html": html, "message_id": message_id,
                                   "date": date or utcnow()})
    fast_sql.update_by_id(Ticket, ticket.id, {"updated": utcnow()})


def apply_stimulus(ticket: Ticket, stimulus: str) -> str:
    """Move the ticket through its lifecycle; raises TicketError when the transition does not exist."""
    cycle = lifecycle(ticket.klass)
    target = cycle.target(ticket.status, stimulus)
    if target is None:
        allowed = ", ".join(cycle.stimuli_from(ticket.status)) or "none"
        raise TicketError(f"{ticket.ref} is {ticket.status}: {stimulus} is not allowed (allowed: {allowed})")
    ticket.status = target
    ticket.updated = utcnow()
    ticket.closed = utcnow() if target == cycle.closed_state else None
    ticket.save()
    return target


def add_contact(ticket: Ticket, person: Person) -> bool:
    """Link a person; False when already linked or when it is the caller."""
    if ticket.caller_id == person.id:
        return False
    inserted = TicketContact.insert(ticket=ticket, person=person).on_conflict_ignore().execute()
    return bool(inserted)


def attachment_row(ticket: Ticket, filename: str, content_type: str, data: bytes) -> Attachment:
    """An unsaved attachment row for `data`, whose bytes are stored (content-addressed) now."""
    digest = hashlib.sha256(data).hexdigest()
    return Attachment(ticket=ticket, filename=filename, content_type=content_type, size=len(data),
                      blob=store_blob(data, digest), digest=digest)


def record_change(ticket: Ticket, who: str, changed: list[str], summary: str) -> None:
    """The audit row of an operator's action (a mail's work is audited on its record: engine/records.py)."""
    Change.insert(ticket=ticket, who=who, fields=json.dumps(changed), summary=summary).execute()
