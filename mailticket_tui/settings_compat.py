"""Settings written the reference's way (iTop "Mail to ticket automation") read as our schema expects.

Job: rewrite the spellings of a parsed TOML document that an iTop admin would use into ours, and say what
was rewritten: one note per translation, with its key path ("inbox[0] (support).active: "yes" read as
true"). Boundary: spellings only. Validation stays settings.py's: an unknown key, a value of the wrong type
or an ambiguous one passes through untouched and is reported there (with "did you mean"). The schema is
read from the settings dataclasses and their field metadata, never listed here. Never imports textual/rich.

What is translated (reference/combodo.md section 2):
* keys written with hyphens (`introductory-patterns`, `email-storage`, `[ticket-log]`) at every level of
  the schema: section names, the keys of [store], [engine], [smtp] and of each [[inbox]]. Only when the
  snake_case name is a setting and is not also written; keys inside value tables (ticket_log classes,
  org_domains domains, patterns, tags, default values) are data and never touched. A field's metadata
  "ref" (the reference's name for it, when ours differs) is read as that field too.
* booleans of "bool" fields: the reference's enum yes/no (an inbox's active and trace), "true"/"false",
  "on"/"off", "1"/"0" (any case) and the integers 1/0. Except aggregate_replies: the reference compares it
  with `=== true`, so "true" or 1 there means off while the writer meant on; that one is left to the
  validator.
* enum values matched case-insensitively with the field's choices ("Delete", "cram-md5", "normalchange").
* integers written as digit strings (the reference declares inline_image_max_width as '500').
* a list written as one comma-separated string (the reference's body_parts_order 'text/html,text/plain').
Also noted, without translating: pop3_auth DIGEST-MD5, accepted as the reference's spelling and refused at
login (obsolete, RFC 6331; engine/sources/pop3.py says which method to use instead).

`settings.settings_from_dict` calls `accept_reference_spellings` first, so every path (config import, the
store, the TUI form) reads these spellings silently; `config check` collects the notes through
`load_settings_file_with_notes` and prints them.
"""
from __future__ import annotations

import json
import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import fields, is_dataclass
from functools import cache
from pathlib import Path
from typing import Any, Iterator, get_args, get_type_hints

from .settings import InboxSettings, Settings, inbox_label, load_settings_file, settings_from_dict

_TRUE = frozenset({"yes", "true", "on", "1"})
_FALSE = frozenset({"no", "false", "off", "0"})
# The reference reads these with a strict `=== true`: any other spelling silently means false there.
STRICT_BOOLS = frozenset({"aggregate_replies"})
OBSOLETE_VALUES = {
    "DIGEST-MD5": "is obsolete (RFC 6331): accepted as the reference's spelling, but the login will be refused; "
                  "use CRAM-MD5, or PLAIN or USER with tls = \"ssl\" or \"starttls\"",
}
_ARRAY_SECTIONS = {"inboxes": "inbox", "notifications": "notification"}  # Settings field -> its TOML array of tables ([[inbox]])
_DIGITS = re.compile(r"\s*[0-9]+\s*")

_collector: ContextVar[list[str] | None] = ContextVar("reference_spelling_notes", default=None)


@cache
def _schema() -> tuple[dict[str, type], tuple[str, ...]]:
    """(TOML section -> its settings dataclass, every section name), read from the Settings dataclass."""
    hints = get_type_hints(Settings)
    tables: dict[str, type] = {}
    names = []
    for f in fields(Settings):
        name = _ARRAY_SECTIONS.get(f.name, f.name)
        names.append(name)
        kind = next((a for a in get_args(hints[f.name]) if is_dataclass(a)), hints[f.name])
        if is_dataclass(kind):
            tables[name] = kind
    return tables, tuple(names)


@cache
def _spellings(cls: type) -> tuple[dict[str, str], dict[str, Any]]:
    """(other spelling -> field name, field name -> field) of one settings dataclass."""
    known = {f.name: f for f in fields(cls)}
    other: dict[str, str] = {}
    for f in known.values():
        ref = f.metadata.get("ref")
        if isinstance(ref, str) and ref and ref not in known:
            other[ref] = f.name
    return other, known


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _rename(table: dict, known: set[str], other: dict[str, str], path: str, notes: list[str]) -> dict:
    """The table with reference-spelled keys renamed, in the same order; a clash keeps the key as written."""
    prefix = f"{path}." if path else ""
    out: dict = {}
    for key, value in table.items():
        ours = None
        if isinstance(key, str) and key not in known:
            ours = other.get(key) or other.get(key.replace("-", "_"))
            if ours is None and key.replace("-", "_") in known:
                ours = key.replace("-", "_")
        if ours and ours not in table and ours not in out:
            out[ours] = value
            notes.append(f"{prefix}{key}: read as {ours} (reference spelling)")
        else:
            out[key] = value
    return out


def _value(name: str, meta: Any, value: Any) -> tuple[bool, Any]:
    """(translated?, value) for one setting's value, by the kind its metadata declares."""
    kind, choices = meta.get("kind"), meta.get("choices") or ()
    if kind == "bool" and name not in STRICT_BOOLS:
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return True, value.strip().lower() in _TRUE
        if type(value) is int and value in (0, 1):
            return True, value == 1
    elif kind == "enum" and isinstance(value, str) and value not in choices:
        same = [c for c in choices if c.casefold() == value.strip().casefold()]
        if len(same) == 1:
            return True, same[0]
    elif kind == "int" and isinstance(value, str) and _DIGITS.fullmatch(value):
        return True, int(value)
    elif kind == "str_list" and isinstance(value, str):
        return True, [part.strip() for part in value.split(",") if part.strip()]
    return False, value


def _translate_table(cls: type, table: dict, path: str, notes: list[str]) -> dict:
    other, known = _spellings(cls)
    out = _rename(table, set(known), other, path, notes)
    for name, value in out.items():
        f = known.get(name)
        if f is None:
            continue
        changed, new = _value(name, f.metadata, value)
        if changed:
            out[name] = new
            notes.append(f"{path}.{name}: {_show(value)} read as {_show(new)}")
        if isinstance(new, str) and new in OBSOLETE_VALUES and new in (f.metadata.get("choices") or ()):
            notes.append(f"{path}.{name}: {_show(new)} {OBSOLETE_VALUES[new]}")
    return out


def translate_reference_spellings(doc: dict) -> tuple[dict, list[str]]:
    """A new document with the reference's spellings rewritten into ours, and one note per translation.
    Never changes what a value means: anything unknown or ambiguous is left as written for the validator."""
    if not isinstance(doc, dict):
        return doc, []
    tables, sections = _schema()
    notes: list[str] = []
    out = _rename(doc, set(sections), {}, "", notes)
    for section, value in out.items():
        cls = tables.get(section)
        if cls is None:
            continue
        if isinstance(value, dict):
            out[section] = _translate_table(cls, value, section, notes)
        elif isinstance(value, list):
            out[section] = [
                _translate_table(cls, raw, inbox_label(i, raw.get("name")) if cls is InboxSettings
                                 else f"{section}[{i}]", notes) if isinstance(raw, dict) else raw
                for i, raw in enumerate(value)]
    return out, notes


def accept_reference_spellings(doc: dict) -> dict:
    """What settings_from_dict reads first: the translated document. The notes go to whoever collects
    them (`config check`, through the functions below); everyone else reads these spellings silently."""
    translated, notes = translate_reference_spellings(doc)
    collector = _collector.get()
    if collector is not None:
        collector.extend(notes)
    return translated


@contextmanager
def _collecting() -> Iterator[list[str]]:
    notes: list[str] = []
    token = _collector.set(notes)
    try:
        yield notes
    finally:
        _collector.reset(token)


def settings_from_dict_with_notes(data: dict, source: str = "settings") -> tuple[Settings, list[str]]:
    """settings_from_dict, plus the notes of what it read as a reference spelling."""
    with _collecting() as notes:
        settings = settings_from_dict(data, source)
    return settings, notes


def load_settings_file_with_notes(path: str | Path) -> tuple[Settings, list[str]]:
    """load_settings_file (same reading, same errors), plus the notes of what it read as a reference spelling."""
    with _collecting() as notes:
        settings = load_settings_file(path)
    return settings, notes
