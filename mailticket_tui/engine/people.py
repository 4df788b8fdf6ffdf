"""Callers and contacts: lookup by address (case-insensitive), creation from an inbox's default values,
names taken from the display name when the defaults do not set them.
"""
from __future__ import annotations

import re

from ..store.models import Organization, Person

_NAME_FIELDS = ("first_name", "name", "phone")


def find_persons(email: str) -> list[Person]:
    """Every person with this address, active ones first, oldest first (a stable, explainable order)."""
    return list(
        Person.select()
        .where(Person.email == email.strip().lower())
        .order_by(Person.active.desc(), Person.id)
    )


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
    if value.isdigit():
        found = Organization.get_or_none(Organization.id == int(value))
        if found:
            return found
    from peewee import fn

    return Organization.get_or_none(fn.LOWER(Organization.name) == value.lower())


def org_for_domain(email: str, org_domains: dict[str, str]) -> Organization | None:
    """The organisation an admin mapped the sender's domain to; created on first use."""
    domain = email.rpartition("@")[2].lower()
    name = org_domains.get(domain)
    if not name:
        return None
    return find_org(name) or Organization.create(name=name, domains=f'["{domain}"]')


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
