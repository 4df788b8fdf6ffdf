"""The people directory: persons (with their extra addresses), organisations and teams, one call per action.

Returns frozen dataclasses, never peewee rows; every refusal is a DirectoryError whose one line says what,
where and how to fix. Addresses are stored lower-case and belong to one person at most (primary or extra).
Importing files lives in directory_import.py, the persons that rejected mail waits for in unknown_callers.py.
Never imports textual or rich.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

from peewee import JOIN, IntegrityError, fn

from .engine.people import find_org, find_persons, names_from_display, org_domain_list
from .store.models import ExtraEmail, Organization, Person, Team, TeamMember, database_proxy

_ADDRESS = re.compile(r"^[^@\s<>,;\"'()\[\]]+@[^@\s<>,;\"'()\[\]]+$")
_DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
STATUSES = ("active", "inactive")


class DirectoryError(Exception):
    """A directory action that cannot be done; the message is the one line to show."""


# ------------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class PersonInfo:
    id: int
    first_name: str
    name: str
    email: str
    extra_emails: tuple[str, ...]
    phone: str
    org: str
    active: bool
    teams: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        return "active" if self.active else "inactive"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.name}".strip()

    def as_json(self) -> dict:
        return {"id": self.id, "first_name": self.first_name, "name": self.name, "email": self.email,
                "extra_emails": list(self.extra_emails), "phone": self.phone, "org": self.org or None,
                "status": self.status, "teams": list(self.teams)}


@dataclass(frozen=True)
class OrgInfo:
    id: int
    name: str
    code: str
    domains: tuple[str, ...]
    active: bool
    persons: int = 0

    @property
    def status(self) -> str:
        return "active" if self.active else "inactive"

    def as_json(self) -> dict:
        return {"id": self.id, "name": self.name, "code": self.code, "domains": list(self.domains),
                "status": self.status, "persons": self.persons}


@dataclass(frozen=True)
class TeamInfo:
    id: int
    name: str
    email: str
    members: tuple[str, ...]  # the members' primary addresses, in order

    def as_json(self) -> dict:
        return {"id": self.id, "name": self.name, "email": self.email, "members": list(self.members)}


# ------------------------------------------------------------------------------------------ checks
def clean_email(value: str, what: str = "email") -> str:
    """A single address, lower-case; anything else is refused with how to write it."""
    email = (value or "").strip().lower()
    invisible = any(unicodedata.category(c)[0] in "CZ" for c in email)  # controls, bidi overrides, spaces
    if invisible or not _ADDRESS.match(email) or len(email) > 255:
        raise DirectoryError(f"{what} {value!r} is not one mail address; write it as name@domain")
    return email


def clean_status(value: str) -> bool:
    """True for active; accepts iTop's "Active"/"Inactive" and yes/no words."""
    word = (value or "").strip().lower()
    if word in ("active", "yes", "true", "1", "enabled"):
        return True
    if word in ("inactive", "no", "false", "0", "disabled"):
        return False
    raise DirectoryError(f"status {value!r} is unknown; write active or inactive")


def clean_domains(values: list[str] | tuple[str, ...]) -> list[str]:
    """Mail domains, lower-case, without '@', each once, in the given order."""
    out: list[str] = []
    for value in values:
        domain = str(value).strip().lower().lstrip("@")
        if not domain:
            continue
        if not _DOMAIN.match(domain) or "." not in domain:
            raise DirectoryError(f"domain {value!r} is not a mail domain; write it as example.com")
        if domain not in out:
            out.append(domain)
    return out


def _number(text: str) -> int | None:
    """"12" -> 12; anything else (including non-ASCII digits such as "²") -> None."""
    return int(text) if text.isascii() and text.isdigit() else None


def _text(value: str | None, what: str) -> str:
    """One line of text: control characters and line breaks become spaces, runs of spaces one."""
    text = " ".join(_CONTROLS.sub(" ", value or "").split())
    if len(text) > 255:
        raise DirectoryError(f"{what} is longer than 255 characters; shorten it")
    return text


# ------------------------------------------------------------------------------------------ lookups
def _person(key: str | int) -> Person:
    """A person by number or by one of its addresses."""
    text = str(key).strip().lstrip("#")
    number = _number(text)
    if number is not None:
        found = Person.get_or_none(Person.id == number)
        if found:
            return found
        raise DirectoryError(f"no person #{text}; see `mailticket people list`")
    persons = find_persons(text)
    if not persons:
        raise DirectoryError(f"no person with the address {text!r}; see `mailticket people list` "
                             "or add one with `mailticket people add`")
    if len(persons) > 1:
        ids = ", ".join(f"#{p.id}" for p in persons)
        raise DirectoryError(f"{len(persons)} persons have the address {text!r} ({ids}); name one by its number")
    return persons[0]


def _org(key: str) -> Organization:
    """An organisation by number, name or code (case-insensitive)."""
    text = str(key).strip()
    org = find_org(text) or (Organization.select().where(fn.LOWER(Organization.code) == text.lower())
                             .order_by(Organization.id).first() if text else None)
    if org is None:
        raise DirectoryError(f"no organisation {text!r}; see `mailticket orgs list` or add it with "
                             f"`mailticket orgs add {text!r}`")
    return org


def org_exists(key: str) -> bool:
    try:
        _org(key)
    except DirectoryError:
        return False
    return True


def _team(key: str) -> Team:
    text = str(key).strip()
    number = _number(text)
    team = (Team.get_or_none(Team.id == number) if number is not None else None) or Team.get_or_none(
        fn.LOWER(Team.name) == text.lower())
    if team is None:
        raise DirectoryError(f"no team {text!r}; see `mailticket teams list`")
    return team


def _address_owner(email: str) -> Person | None:
    persons = find_persons(email)
    return persons[0] if persons else None


# ------------------------------------------------------------------------------------------ persons
def _person_infos(rows: list[Person]) -> list[PersonInfo]:
    """PersonInfo for a page of persons: their extra addresses and teams in one query each, not per row."""
    ids = [p.id for p in rows]
    extras: dict[int, list[str]] = {}
    teams: dict[int, list[str]] = {}
    if ids:
        for person_id, email in (ExtraEmail.select(ExtraEmail.person, ExtraEmail.email)
                                 .where(ExtraEmail.person.in_(ids)).order_by(ExtraEmail.email).tuples()):
            extras.setdefault(person_id, []).append(email)
        for person_id, name in (TeamMember.select(TeamMember.person, Team.name).join(Team)
                                .where(TeamMember.person.in_(ids)).order_by(Team.name).tuples()):
            teams.setdefault(person_id, []).append(name)
    return [PersonInfo(p.id, p.first_name, p.name, p.email, tuple(extras.get(p.id, ())), p.phone,
                       getattr(p, "org_name", None) or "", bool(p.active), tuple(teams.get(p.id, ())))
            for p in rows]


def _persons_query():
    return (Person.select(Person, Organization.name.alias("org_name"))
            .join(Organization, JOIN.LEFT_OUTER, on=(Person.org == Organization.id)).objects())


def list_persons(search: str = "", status: str = "", org: str = "", offset: int = 0,
                 limit: int | None = None) -> list[PersonInfo]:
    """Persons by name, then first name, then number; `search` looks in names, addresses (extra ones too),
    phone and organisation; `status` is active or inactive."""
    query = _persons_query()
    if search.strip():
        like = f"%{search.strip()}%"
        extra = ExtraEmail.select(ExtraEmail.person).where(ExtraEmail.email ** like)
        query = query.where((Person.first_name ** like) | (Person.name ** like) | (Person.email ** like)
                            | (Person.phone ** like) | (Organization.name ** like) | Person.id.in_(extra))
    if status:
        query = query.where(Person.active == clean_status(status))
    if org:
        query = query.where(Person.org == _org(org).id)
    query = query.order_by(fn.LOWER(Person.name), fn.LOWER(Person.first_name), Person.id)
    if limit:
        query = query.offset(offset).limit(limit)
    return _person_infos(list(query))


def person_infos(ids: list[int]) -> list[PersonInfo]:
    """These persons, by number (three queries whatever their number)."""
    return _person_infos(list(_persons_query().where(Person.id.in_(ids)).order_by(Person.id))) if ids else []


def get_person(key: str | int) -> PersonInfo:
    person = _person(key)
    return _person_infos(list(_persons_query().where(Person.id == person.id)))[0]


def _check_addresses(addresses: list[str], person_id: int | None) -> None:
    """Each address belongs to one person at most: refuse one another person already has."""
    if len(set(addresses)) != len(addresses):
        raise DirectoryError("the same address is given twice; give each address once")
    for email in addresses:
        owner = _address_owner(email)
        if owner is not None and owner.id != person_id:
            raise DirectoryError(f"{email} already belongs to person #{owner.id} ({owner.first_name} {owner.name}"
                                 f"); edit that person instead, or remove the address there first")


PERSON_FIELDS = ("first_name", "name", "email", "phone", "org", "status", "extra_emails")


def person_values(values: dict) -> dict:
    """Checked column values from user input (`org` by number, name or code, "" = none; `status`)."""
    unknown = sorted(set(values) - set(PERSON_FIELDS))
    if unknown:
        raise DirectoryError(f"unknown person field {unknown[0]!r}; known: {', '.join(PERSON_FIELDS)}")
    out: dict = {}
    for key in ("first_name", "name", "phone"):
        if key in values:
            out[key] = _text(values[key], key.replace("_", " "))
    if "email" in values:
        out["email"] = clean_email(values["email"])
    if "org" in values:
        out["org"] = _org(values["org"]).id if str(values["org"] or "").strip() else None
    if "status" in values:
        out["active"] = clean_status(values["status"])
    if "extra_emails" in values:
        out["extra_emails"] = [clean_email(e, "extra email") for e in values["extra_emails"] if str(e).strip()]
    return out


def _changed(person: Person, values: dict) -> list[str]:
    """The fields `values` would change on this person (in PERSON_FIELDS order)."""
    current = {"first_name": person.first_name, "name": person.name, "email": person.email, "phone": person.phone,
               "org": person.org_id, "active": bool(person.active)}
    changed = [k for k, v in values.items() if k in current and current[k] != v]
    if "extra_emails" in values:
        have = sorted(e.email for e in ExtraEmail.select().where(ExtraEmail.person == person.id))
        if have != sorted(values["extra_emails"]):
            changed.append("extra_emails")
    names = {"active": "status"}
    return [names.get(k, k) for k in changed]


def write_person(values: dict, person: Person | None = None) -> tuple[Person, list[str]]:
    """Create (person None) or update a person from checked values; returns it and the fields changed.
    Runs inside the caller's transaction."""
    extra = values.pop("extra_emails", None)
    primary = values.get("email", person.email if person else "")
    if extra is None and person is not None and primary != person.email:  # an extra address made the primary one
        current = [e.email for e in ExtraEmail.select().where(ExtraEmail.person == person.id).order_by(ExtraEmail.id)]
        extra = [e for e in current if e != primary] if primary in current else None
    addresses = [primary] + (extra if extra is not None else [])
    if extra is not None and primary in extra:
        raise DirectoryError(f"{primary} is the primary address; list only other addresses as extra")
    _check_addresses(addresses if extra is not None else [primary], person.id if person else None)
    if person is None:
        if not values.get("name") and not values.get("first_name"):
            values["first_name"], values["name"] = names_from_display("", primary)
        person = Person.create(**{k: v for k, v in values.items() if k != "org"}, org=values.get("org"))
        changed = ["created"]
    else:
        changed = _changed(person, {**values, **({"extra_emails": extra} if extra is not None else {})})
        for key, value in values.items():
            setattr(person, "org_id" if key == "org" else key, value)
        if values:
            person.save()
    if extra is not None:
        ExtraEmail.delete().where((ExtraEmail.person == person.id) & ExtraEmail.email.not_in(extra)).execute()
        have = {e.email for e in ExtraEmail.select().where(ExtraEmail.person == person.id)}
        for email in extra:
            if email not in have:
                ExtraEmail.create(person=person.id, email=email)
    return person, changed


def add_person(values: dict) -> PersonInfo:
    """A new person; its address (and extra ones) must not belong to anyone yet."""
    if not str(values.get("email") or "").strip():
        raise DirectoryError("a person needs an email; give --email name@domain")
    with database_proxy.atomic():
        person, _ = write_person(person_values(values))
    return get_person(person.id)


def edit_person(key: str | int, values: dict) -> tuple[PersonInfo, list[str]]:
    """Change the given fields; returns the person and the fields that really changed."""
    with database_proxy.atomic():
        person = _person(key)
        try:
            person, changed = write_person(person_values(values), person)
        except IntegrityError as exc:  # a concurrent writer took an address meanwhile
            raise DirectoryError(f"person #{person.id}: {exc}; try again") from exc
    return get_person(person.id), changed


def set_person_active(key: str | int, active: bool) -> tuple[PersonInfo, bool]:
    """(Re)activate or deactivate; returns the person and whether anything changed. A deactivated person is
    kept (tickets keep their caller); mail from them is still recognised."""
    with database_proxy.atomic():
        person = _person(key)
        changed = bool(person.active) != active
        if changed:
            person.active = active
            person.save()
    return get_person(person.id), changed


# ------------------------------------------------------------------------------------------ organisations
def _org_info(org: Organization, persons: int = 0) -> OrgInfo:
    return OrgInfo(org.id, org.name, org.code, tuple(org_domain_list(org)), bool(org.active), persons)


def list_orgs(search: str = "", status: str = "") -> list[OrgInfo]:
    """Organisations by name, each with its number of persons (one grouped query)."""
    query = Organization.select()
    if search.strip():
        like = f"%{search.strip()}%"
        query = query.where((Organization.name ** like) | (Organization.code ** like)
                            | (Organization.domains ** like))
    if status:
        query = query.where(Organization.active == clean_status(status))
    counts = dict(Person.select(Person.org, fn.COUNT(Person.id)).where(Person.org.is_null(False))
                  .group_by(Person.org).tuples())
    return [_org_info(o, counts.get(o.id, 0)) for o in query.order_by(fn.LOWER(Organization.name), Organization.id)]


def get_org(key: str) -> OrgInfo:
    org = _org(key)
    return _org_info(org, Person.select().where(Person.org == org.id).count())


def _org_values(values: dict) -> dict:
    out: dict = {}
    if "name" in values:
        out["name"] = _text(values["name"], "name")
        if not out["name"]:
            raise DirectoryError("an organisation needs a name")
    if "code" in values:
        out["code"] = _text(values["code"], "code")
    if "domains" in values:
        out["domains"] = json.dumps(clean_domains(values["domains"]))
    if "status" in values:
        out["active"] = clean_status(values["status"])
    return out


def _check_org_name(name: str, org_id: int | None) -> None:
    other = Organization.get_or_none(fn.LOWER(Organization.name) == name.lower())
    if other is not None and other.id != org_id:
        raise DirectoryError(f"organisation {other.name!r} exists already (#{other.id}); pick another name")


def add_org(values: dict) -> OrgInfo:
    checked = _org_values(values)
    if "name" not in checked:
        raise DirectoryError("an organisation needs a name")
    with database_proxy.atomic():
        _check_org_name(checked["name"], None)
        org = Organization.create(**checked)
    return get_org(str(org.id))


def edit_org(key: str, values: dict) -> tuple[OrgInfo, list[str]]:
    checked = _org_values(values)
    with database_proxy.atomic():
        org = _org(key)
        if "name" in checked:
            _check_org_name(checked["name"], org.id)
        changed = [("status" if k == "active" else k) for k, v in checked.items() if getattr(org, k) != v]
        for k, v in checked.items():
            setattr(org, k, v)
        if changed:
            org.save()
    return get_org(str(org.id)), changed


def set_org_active(key: str, active: bool) -> tuple[OrgInfo, bool]:
    with database_proxy.atomic():
        org = _org(key)
        changed = bool(org.active) != active
        if changed:
            org.active = active
            org.save()
    return get_org(str(org.id)), changed


# ------------------------------------------------------------------------------------------ teams
def _team_infos(teams: list[Team]) -> list[TeamInfo]:
    members: dict[int, list[str]] = {}
    ids = [t.id for t in teams]
    if ids:
        for team_id, email in (TeamMember.select(TeamMember.team, Person.email).join(Person)
                               .where(TeamMember.team.in_(ids)).order_by(Person.email, Person.id).tuples()):
            members.setdefault(team_id, []).append(email)
    return [TeamInfo(t.id, t.name, t.email, tuple(members.get(t.id, ()))) for t in teams]


def list_teams() -> list[TeamInfo]:
    return _team_infos(list(Team.select().order_by(fn.LOWER(Team.name), Team.id)))


def get_team(key: str) -> TeamInfo:
    return _team_infos([_team(key)])[0]


def _team_values(values: dict) -> dict:
    out: dict = {}
    if "name" in values:
        out["name"] = _text(values["name"], "name")
        if not out["name"]:
            raise DirectoryError("a team needs a name")
    if "email" in values:
        out["email"] = clean_email(values["email"]) if str(values["email"] or "").strip() else ""
    return out


def _check_team_name(name: str, team_id: int | None) -> None:
    other = Team.get_or_none(fn.LOWER(Team.name) == name.lower())
    if other is not None and other.id != team_id:
        raise DirectoryError(f"team {other.name!r} exists already (#{other.id}); pick another name")


def add_team(values: dict) -> TeamInfo:
    checked = _team_values(values)
    if "name" not in checked:
        raise DirectoryError("a team needs a name")
    with database_proxy.atomic():
        _check_team_name(checked["name"], None)
        team = Team.create(**checked)
    return get_team(str(team.id))


def edit_team(key: str, values: dict) -> tuple[TeamInfo, list[str]]:
    checked = _team_values(values)
    with database_proxy.atomic():
        team = _team(key)
        if "name" in checked:
            _check_team_name(checked["name"], team.id)
        changed = [k for k, v in checked.items() if getattr(team, k) != v]
        for k, v in checked.items():
            setattr(team, k, v)
        if changed:
            team.save()
    return get_team(str(team.id)), changed


def delete_team(key: str) -> TeamInfo:
    """Delete a team and its memberships (the persons stay); returns what it was."""
    with database_proxy.atomic():
        info = get_team(key)
        Team.delete().where(Team.id == info.id).execute()
    return info


def change_members(key: str, persons: list[str], add: bool) -> tuple[TeamInfo, list[str]]:
    """Add or remove persons (by number or address); returns the team and the addresses that changed.
    An unknown person refuses the whole change (nothing half done)."""
    with database_proxy.atomic():
        team = _team(key)
        chosen = [_person(p) for p in persons]
        current = {m.person_id for m in TeamMember.select().where(TeamMember.team == team.id)}
        changed = []
        for person in chosen:
            if add and person.id not in current:
                TeamMember.create(team=team.id, person=person.id)
                current.add(person.id)
                changed.append(person.email)
            elif not add and person.id in current:
                TeamMember.delete().where((TeamMember.team == team.id) & (TeamMember.person == person.id)).execute()
                current.discard(person.id)
                changed.append(person.email)
    return get_team(str(team.id)), changed
