"""Importing persons from a file: CSV (an iTop person export as it is, with "First Name", "Last Name",
"Organization->Name", "Status"... or plain `first_name,name,email,organization` columns) or TOML
(`[[person]]` tables with the same keys).

Files are untrusted input: every bad row is reported with its line number (what, where, how to fix) and
skipped while the good rows go in. Idempotent by address: a person is found by its primary or extra address
and only the fields that differ are written; empty cells leave the stored value alone. A dry run does the
whole import in a transaction that is rolled back, so its figures are exactly what a real run would do.
Never imports textual or rich.
"""
from __future__ import annotations

import csv
import io
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from peewee import IntegrityError

from .directory import DirectoryError, clean_email, org_exists, person_values, write_person
from .engine.people import find_persons
from .store.models import Organization, database_proxy

# header (lower-case, spaces and underscores alike) -> person field. iTop exports either labels or codes.
_COLUMNS = {
    "first_name": "first_name", "first name": "first_name", "firstname": "first_name", "given name": "first_name",
    "name": "name", "last name": "name", "last_name": "name", "lastname": "name", "surname": "name",
    "family name": "name",
    "email": "email", "e-mail": "email", "email address": "email", "mail": "email",
    "extra_emails": "extra_emails", "extra emails": "extra_emails", "other emails": "extra_emails",
    "phone": "phone", "phone number": "phone", "telephone": "phone",
    "organization": "org", "organisation": "org", "org": "org", "org_id": "org", "org_name": "org",
    "organization->name": "org", "org_id->name": "org", "organization name": "org", "org_id_friendlyname": "org",
    "status": "status",
}
_LIST_SPLIT = re.compile(r"[;,\s]+")


@dataclass(frozen=True)
class ImportReport:
    """What an import did (or, dry, would do): created addresses, updated (address, fields), the number of
    persons already as the file says, one line per bad row, notes (ignored columns, created organisations)."""

    created: tuple[str, ...]
    updated: tuple[tuple[str, tuple[str, ...]], ...]
    unchanged: int
    errors: tuple[str, ...]
    notes: tuple[str, ...]
    dry_run: bool

    def line(self) -> str:
        verb = "would create" if self.dry_run else "created"
        if not self.created and not self.updated:
            head = f"nothing to change: {self.unchanged} person{'s' * (self.unchanged != 1)} already as in the file"
        else:
            head = (f"{verb} {len(self.created)}, {'would update' if self.dry_run else 'updated'} "
                    f"{len(self.updated)}, unchanged {self.unchanged}")
        bad = f"; {len(self.errors)} bad row{'s' * (len(self.errors) != 1)} skipped" if self.errors else ""
        dry = " (dry run: nothing written)" if self.dry_run else ""
        return head + bad + dry

    def as_json(self) -> dict:
        return {"dry_run": self.dry_run, "created": list(self.created),
                "updated": [{"email": e, "fields": list(f)} for e, f in self.updated],
                "unchanged": self.unchanged, "errors": list(self.errors), "notes": list(self.notes)}


@dataclass(frozen=True)
class _Row:
    line: int
    values: dict
    where: str


class _Rollback(Exception):
    """Ends a dry run's transaction."""


# ------------------------------------------------------------------------------------------ reading
def _read_text(path: Path, encoding: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DirectoryError(f"{path}: cannot read ({exc.strerror or exc}); check the path") from exc
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise DirectoryError(f"{path}:{line}: not {encoding} text; export the file as UTF-8 or give "
                             "--encoding (e.g. latin-1)") from exc
    except LookupError as exc:
        raise DirectoryError(f"unknown encoding {encoding!r}; give e.g. utf-8 or latin-1") from exc


def _field_of(header: str) -> str | None:
    """The person field a column header (or TOML key) names; None for one we do not know."""
    word = header.strip().lower()
    return _COLUMNS.get(" ".join(word.replace("_", " ").split())) or _COLUMNS.get(word)


def _csv_rows(path: Path, text: str, errors: list[str], notes: list[str]) -> list[_Row]:
    """Rows of a CSV file as person values (only the known columns, only non-empty cells)."""
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)  # iTop exports use "," by default, ";" in some locales
    reader = csv.reader(io.StringIO(text), delimiter=delimiter if first.count(delimiter) else ",")
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise DirectoryError(f"{path}: empty or unreadable; the first line names the columns "
                             "(e.g. first_name,name,email,organization)") from None
    fields = [_field_of(h) for h in header]
    ignored = [h for h, f in zip(header, fields) if f is None and h.strip()]
    if ignored:
        notes.append(f"{path}: columns ignored: {', '.join(ignored)}")
    if "email" not in fields:
        raise DirectoryError(f"{path}:1: no email column (found {', '.join(header) or 'none'}); "
                             "name one column Email")
    rows, previous_end = [], reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(f"{path}:{previous_end + 1}: unreadable CSV ({exc}); fix the quoting of that row")
            previous_end = reader.line_num
            continue
        line, previous_end = previous_end + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            errors.append(f"{path}:{line}: {len(cells)} values but {len(header)} columns; quote values that "
                          "contain the separator")
            continue
        values: dict = {}
        for field, cell in zip(fields, cells):
            if field and cell.strip() and field not in values:
                values[field] = cell.strip()
        rows.append(_Row(line, values, f"{path}:{line}"))
    return rows


def _toml_rows(path: Path, text: str, errors: list[str]) -> list[_Row]:
    """`[[person]]` tables; line numbers from their headers (each entry is reported where it starts)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DirectoryError(f"{path}: not valid TOML ({exc}); fix it or use CSV") from exc
    unknown = sorted(set(doc) - {"person"})
    if unknown or not isinstance(doc.get("person", []), list):
        raise DirectoryError(f"{path}: expected [[person]] tables, found {', '.join(unknown) or 'person'}; "
                             "write each person as a [[person]] table")
    entries = doc.get("person", [])
    starts = [i + 1 for i, line in enumerate(text.splitlines()) if re.match(r"^\s*\[\[\s*person\s*\]\]", line)]
    if len(starts) != len(entries):  # written as an inline array: no header to point at, count them instead
        starts = []
    rows = []
    for index, entry in enumerate(entries):
        line = starts[index] if starts else 0
        where = f"{path}:{line}" if starts else f"{path}: person #{index + 1}"
        if not isinstance(entry, dict):
            errors.append(f"{where}: not a table; write it as [[person]] with key = value lines")
            continue
        values: dict = {}
        problem = ""
        for key, value in entry.items():
            field = _field_of(key)
            if field == "extra_emails" and isinstance(value, list):
                value = ",".join(str(v) for v in value)
            if field is None:
                problem = (f"unknown key {key!r}; known: first_name, name, email, extra_emails, phone, "
                           "organization, status")
            elif not isinstance(value, (str, int)) or isinstance(value, bool):
                problem = f"{key} must be text; quote it"
            elif str(value).strip():
                values[field] = str(value).strip()
            if problem:
                errors.append(f"{where}: {problem}")
                break
        if not problem:
            rows.append(_Row(line, values, where))
    return rows


# ------------------------------------------------------------------------------------------ applying
def _apply(row: _Row, where: str, create_orgs: bool, notes: list[str]) -> tuple[str, str, list[str]]:
    """(action, address, fields) for one row: action is created, updated or unchanged."""
    values = dict(row.values)
    if "email" not in values:
        raise DirectoryError("no email; every person needs one (the key that makes imports idempotent)")
    email = clean_email(values["email"])
    if "extra_emails" in values:
        values["extra_emails"] = [e for e in _LIST_SPLIT.split(values["extra_emails"]) if e]
    org = values.get("org")
    if org and not org_exists(org):
        if not create_orgs:
            raise DirectoryError(f"organisation {org!r} does not exist; add it with `mailticket orgs add {org!r}`, "
                                 "or give --create-orgs")
        Organization.create(name=" ".join(org.split())[:255])
        notes.append(f"{where}: organisation {org!r} created")
    checked = person_values(values)
    persons = find_persons(email)
    if len(persons) > 1:
        raise DirectoryError(f"{len(persons)} persons have {email}; merge them or edit one "
                             "(`mailticket people edit ID`) before importing")
    person = persons[0] if persons else None
    if person is not None and person.email != email:  # found by an extra address: keep the primary one
        checked.pop("email")
    _, changed = write_person(checked, person)
    if person is None:
        return "created", email, []
    return ("updated" if changed else "unchanged"), email, changed


def import_persons(path: str, dry_run: bool = False, create_orgs: bool = False,
                   encoding: str = "utf-8-sig") -> ImportReport:
    """Import a CSV or TOML file of persons (by extension: .toml is TOML, anything else CSV)."""
    file = Path(path)
    errors: list[str] = []
    notes: list[str] = []
    text = _read_text(file, encoding)
    rows = _toml_rows(file, text, errors) if file.suffix.lower() == ".toml" else _csv_rows(file, text, errors, notes)
    created: list[str] = []
    updated: list[tuple[str, tuple[str, ...]]] = []
    unchanged = 0
    seen: dict[str, int] = {}
    try:
        with database_proxy.atomic():
            for row in rows:
                where = row.where
                email = str(row.values.get("email", "")).strip().lower()
                if email and email in seen:
                    errors.append(f"{where}: {email} is already at {seen[email]}; keep one entry per person")
                    continue
                try:
                    with database_proxy.atomic():  # a savepoint: a bad row leaves nothing behind
                        action, email, changed = _apply(row, where, create_orgs, notes)
                except DirectoryError as exc:
                    errors.append(f"{where}: {exc}")
                    continue
                except IntegrityError as exc:
                    errors.append(f"{where}: refused by the store ({exc}); fix the row")
                    continue
                seen[email] = f"line {row.line}" if row.line else row.where.rpartition(": ")[2]
                if action == "created":
                    created.append(email)
                elif action == "updated":
                    updated.append((email, tuple(changed)))
                else:
                    unchanged += 1
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    errors.sort(key=_line_of)
    return ImportReport(tuple(created), tuple(updated), unchanged, tuple(errors), tuple(notes), dry_run)


def _line_of(error: str) -> int:
    """Errors in file order (CSV reading errors come first otherwise)."""
    match = re.search(r":(\d+): ", error)
    return int(match.group(1)) if match else 0
