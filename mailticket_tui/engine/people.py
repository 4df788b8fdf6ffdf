"""Callers and contacts: lookup by address (case-insensitive; a person's primary or extra addresses),
creation from an inbox's default values, names taken from the display name when the defaults do not set them,
the organisation from the sender's domain ([org_domains] first, then the organisations' own mail domains).
"""
from __future__ import annotations

import json
import re

from peewee import fn

from ..store import fast_sql
from ..store.models import ExtraEmail, Organization, Person

_NAME_FIELDS = ("first_name", "name", "phone")


def find_persons(email: str) -> list[Person]:
    """Every person with this address as primary or extra one, active ones first, oldest first (a stable,
    explainable order). Both lookups use an index (person.email, extra_email.email)."""
    email = email.strip().lower()

    def build(mark: str) -> str:  # the SQL text is made once (a query built per mail cost more than running it)
        return (f'SELECT {fast_sql.columns(Person, "p")} FROM "person" AS "p" WHERE "p"."email" = {mark} '
                f'OR "p"."id" IN (SELECT "person_id" FROM "extra_email" WHERE "email" = {mark}) '
                f'ORDER BY "p"."active" DESC, "p"."id"')

    return [fast_sql.instance(Person, row) for row in fast_sql.select(("find_persons",), build, [email, email])]


class CallerCache:
    """Persons found by address during one pass of one inbox: a backlog's repeat senders cost one query
    each, not one per mail. Only finds are kept (an unknown sender is asked again, so a person added
    meanwhile is seen at once; a person created by a mail is not kept either, as its transaction may still
    roll back) and the pass is short, so an edit made during it shows from the next pass."""

    def __init__(self) -> None:
        self._found: dict[str, list[Person]] = {}

    def find(self, email: str) -> list[Person]:
        key = email.strip().lower()
        if key not in self._found:
            persons = find_persons(key)
            if not persons:
                return persons
            self._found[key] = persons
        return list(self._found[key])


def persons_by_address(emails: list[str]) -> dict[str, Person]:
    """For each (lower-case) address that a person has, primary or extra, the person find_persons would put
    first (active first, oldest first): two queries per 500 addresses, not one per address."""
    holders: dict[str, list[Person]] = {}
    for start in range(0, len(emails), 500):
        chunk = emails[start:start + 500]
        for person in Person.select().where(Person.email.in_(chunk)).order_by(Person.id):
            holders.setdefault(person.email, []).append(person)
        for extra in (ExtraEmail.select(ExtraEmail, Person).join(Person)
                      .where(ExtraEmail.email.in_(chunk)).order_by(Person.id)):
            holders.setdefault(extra.email, []).append(extra.person)
    return {email: min(found, key=lambda p: (not p.active, p.id)) for email, found in holders.items()}


def known_addresses(emails: list[str]) -> set[str]:
    """Which of these (lower-case) addresses a person has, primary or extra: two queries per 500 addresses,
    not one per address."""
    known: set[str] = set()
    for start in range(0, len(emails), 500):
        chunk = emails[start:start + 500]
        known.update(e for (e,) in Person.select(Person.email).where(Person.email.in_(chunk)).tuples())
        known.update(e for (e,) in ExtraEmail.select(ExtraEmail.email).where(ExtraEmail.email.in_(chunk)).tuples())
    return known


def names_from_display(display: str, email: str) -> tuple[str, str]:
    """('John', 'Doe') from 'Doe, John', '"John Doe"', 'john.doe@x' ..."""
    display = re.sub(r"[\x00-\x1f\x7f]", "", display or "").strip().strip('"\'').strip()
    if display and "@" not in display:
        if "," in display:
            last, _, first = display.partition(",")
            return first.strip(), last.strip()
        parts = display.split()
        if len(parts) == 1:
            return "", parts[0]
        return " ".join(parts[:-1]), parts[-1]
    local = email.split("@")[0]
    pieces = [p for p in re.split(r"[._\-+]+", local) if p]
    if len(pieces) >= 2:
        return pieces[0].capitalize(), " ".join(p.capitalize() for p in pieces[1:])
    return "", local


def find_org(value: str) -> Organization | None:
    """An organisation by numeric id or by name (case-insensitive)."""
    value = value.strip()
    if value.isascii() and value.isdigit():
        found = Organization.get_or_none(Organization.id == int(value))
        if found:
            return found
    return Organization.get_or_none(fn.LOWER(Organization.name) == value.lower())


def org_for_domain(email: str, org_domains: dict[str, str]) -> Organization | None:
    """The organisation an admin mapped the sender's domain to ([org_domains]; created on first use), else the
    oldest active organisation that lists the domain among its own mail domains."""
    domain = email.rpartition("@")[2].lower()
    name = org_domains.get(domain)
    if not name:
        if not domain:
            return None
        # domains is a JSON list: the quoted domain narrows the rows, the exact check below settles it
        listing = (Organization.active == True) & Organization.domains.contains(f'"{domain}"')  # noqa: E712
        for org in Organization.select().where(listing).order_by(Organization.id):
            if domain in org_domain_list(org):
                return org
        return None
    return find_org(name) or Organization.create(name=name, domains=f'["{domain}"]')


def org_domain_list(org: Organization) -> list[str]:
    """An organisation's mail domains ([] when the stored JSON is unreadable: never a crash on old rows)."""
    try:
        value = json.loads(org.domains or "[]")
    except ValueError:
        return []
    return [str(d).lower() for d in value] if isinstance(value, list) else []


def create_person(email: str, display: str, defaults: dict[str, str], org_domains: dict[str, str]) -> tuple[Person, list[str]]:
    """A new person for an unknown sender; returns it and trace lines about ignored defaults."""
    notes: list[str] = []
    first, last = names_from_display(display, email)
    values: dict = {"email": email.strip().lower(), "first_name": first, "name": last or email}
    org = org_for_domain(email, org_domains)
    for key, value in defaults.items():
        if key in _NAME_FIELDS:
            values[key] = value
        elif key in ("org_id", "org"):
            found = find_org(value)
            if found:
                org = org or found
            else:
                notes.append(f"caller default {key}={value!r}: no such organisation, ignored")
        elif key == "email":
            notes.append("caller default email ignored: the sender's address is used")
        else:
            notes.append(f"caller default {key!r}: unknown person field, ignored")
    values["org"] = org
    return Person.create(**values), notes
