"""The value types of settings: how one TOML value is checked and turned into the typed object the engine
reads (sizes in bytes, durations in seconds, pixel sizes, patterns through the engine's one compiler), how it
is written back (TOML, the store's JSON sections), which store column holds it, and how the example file
and the docs describe it.

A setting declares its type by name (`spec(kind, ...)` in settings.py); TYPES maps the name to one of the
classes below. A new kind of value is one class here, never a branch in the validator, the store or a form.
Never imports textual or rich.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable

from peewee import BooleanField, CharField, Field, IntegerField, TextField

from .engine.parse.safe_regex import SETTING_FLAGS, pattern_error

Problems = list[str]
_SIZE_RE = re.compile(r"^\s*(\d+)\s*([KMG]?)B?\s*$", re.IGNORECASE)
_WXH_RE = re.compile(r"^\s*(\d+)\s*x\s*(\d+)\s*$", re.IGNORECASE)
_DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$", re.IGNORECASE)
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
UNIT_NAMES = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class Size(int):
    """A size in bytes that remembers how it was written ("10M"), so an export says what the admin wrote."""

    text: str

    def __new__(cls, text: str | int) -> "Size":
        if isinstance(text, bool) or not isinstance(text, (str, int)):
            raise ValueError(f"{text!r} is not a size; write a number with an optional K, M or G suffix, e.g. '10M'")
        match = _SIZE_RE.match(str(text))
        if not match:
            raise ValueError(f"{text!r} is not a size; write a number with an optional K, M or G suffix, e.g. '10M'")
        value = super().__new__(cls, int(match.group(1)) * 1024 ** " KMG".index((match.group(2) or " ").upper()))
        value.text = str(text)
        return value


class Duration(int):
    """A duration in seconds that remembers how it was written: a bare number is in the setting's own unit
    (the reference's: periodicity in seconds, retention_period in hours...), or a number with s, m, h or d."""

    text: str | int

    def __new__(cls, written: str | int, unit: str = "s") -> "Duration":
        match = None if isinstance(written, bool) else _DURATION_RE.match(str(written))
        if match is None:
            raise ValueError(f"{written!r} is not a duration; write a number of {UNIT_NAMES[unit]}, or a number "
                             "with s, m, h or d, e.g. '90s', '2h', '7d'")
        seconds = int(match.group(1)) * UNIT_SECONDS[(match.group(2) or unit).lower()]
        value = super().__new__(cls, seconds)
        value.text = written
        return value

    def in_unit(self, unit: str) -> float:
        return int(self) / UNIT_SECONDS[unit]


def parse_wxh(text: str) -> tuple[int, int] | None:
    """'100x20' -> (100, 20); '' -> None; raises ValueError otherwise."""
    if not text.strip():
        return None
    match = _WXH_RE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a size in pixels; write WIDTHxHEIGHT, e.g. '100x20'")
    return int(match.group(1)), int(match.group(2))


def parse_kv_lines(text: str) -> dict[str, str]:
    """The reference's 'field:value' lines (lines without ':' are reported by the validator)."""
    result: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip():
            key, _, value = line.partition(":")
            result[key.strip()] = value.strip()
    return result


class SettingType:
    """One kind of value. `check` returns the typed value, or None after appending a problem."""

    name = ""
    accepts = ""  # what the docs and the example file say it takes

    def check(self, value: Any, path: str, problems: Problems, spec: dict) -> Any:
        raise NotImplementedError

    def plain(self, value: Any) -> Any:
        """The TOML/JSON form of a typed value (what `config export` writes)."""
        return value

    def column(self, spec: dict) -> Field:
        """The store column of an inbox setting of this kind."""
        return CharField(default="", unique=spec.get("unique", False))

    def to_column(self, value: Any) -> Any:
        return self.plain(value)

    def from_column(self, raw: Any, spec: dict) -> Any:
        problems: Problems = []
        value = self.check(raw, "store", problems, spec)
        if problems:  # the store only holds values that passed this check; say so if that ever breaks
            raise ValueError(problems[0])
        return value

    @staticmethod
    def wrong(value: Any, path: str, problems: Problems, expected: str) -> None:
        problems.append(f"{path}: expected {expected}, got {type(value).__name__} {value!r}")


class IntType(SettingType):
    name, accepts = "int", "a whole number, 0 or more"

    def check(self, value, path, problems, spec):
        if isinstance(value, bool) or not isinstance(value, int):
            return self.wrong(value, path, problems, "an integer")
        if value < 0:
            return problems.append(f"{path}: must not be negative, got {value}")
        return value

    def column(self, spec):
        return IntegerField(default=0)


class BoolType(SettingType):
    name, accepts = "bool", "true or false"

    def check(self, value, path, problems, spec):
        return value if isinstance(value, bool) else self.wrong(value, path, problems, "true or false")

    def column(self, spec):
        return BooleanField(default=False)


class StrType(SettingType):
    name, accepts = "str", "a string"

    def check(self, value, path, problems, spec):
        return value if isinstance(value, str) else self.wrong(value, path, problems, "a string")


class TextType(StrType):
    """A string of several lines (a reply text): a TEXT column, a text area in forms."""

    name, accepts = "text", "a string, several lines allowed"

    def column(self, spec):
        return TextField(default="")


class SecretType(StrType):
    name, accepts = "secret", "a string (stored encrypted; prefer the _env or _file variant)"


class EmailType(StrType):
    name, accepts = "email", "an email address, or empty"

    def check(self, value, path, problems, spec):
        value = super().check(value, path, problems, spec)
        if value and not _EMAIL_RE.match(value):
            return problems.append(f"{path}: {value!r} is not an email address")
        return value


class EnumType(StrType):
    name, accepts = "enum", "one of the listed values"

    def check(self, value, path, problems, spec):
        import difflib

        value = super().check(value, path, problems, spec)
        if value is None:
            return None
        choices = spec["choices"]
        if value not in choices:
            close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            return problems.append(f"{path}: unknown value {value!r}{hint}; choose one of {', '.join(choices)}")
        return value


class SizeType(SettingType):
    name, accepts = "size", "bytes, with an optional K, M or G suffix (powers of 1024), e.g. \"10M\"; 0 = no limit"

    def check(self, value, path, problems, spec):
        try:
            return Size(value)
        except ValueError as exc:
            return problems.append(f"{path}: {exc}")

    def plain(self, value):
        return value.text if isinstance(value, Size) else value


class DurationType(SettingType):
    name = "duration"
    accepts = "a number in the setting's unit, or with s, m, h or d (\"90s\", \"2h\", \"7d\")"

    def check(self, value, path, problems, spec):
        try:
            return Duration(value, spec.get("unit", "s"))
        except ValueError as exc:
            return problems.append(f"{path}: {exc}")

    def plain(self, value):
        return value.text if isinstance(value, Duration) else value

    def column(self, spec):
        return CharField(default="")

    def to_column(self, value):
        return str(self.plain(value))

    def from_column(self, raw, spec):
        return Duration(int(raw) if str(raw).isdigit() else raw, spec.get("unit", "s"))


class PixelsType(SettingType):
    name, accepts = "wxh", "WIDTHxHEIGHT in pixels, e.g. \"100x20\", or empty"

    def check(self, value, path, problems, spec):
        if not isinstance(value, str):
            return self.wrong(value, path, problems, "a string like '100x20'")
        try:
            return parse_wxh(value) or ()
        except ValueError as exc:
            return problems.append(f"{path}: {exc}")

    def plain(self, value):
        return f"{value[0]}x{value[1]}" if value else ""


class PatternType(StrType):
    """A pattern checked by the engine's own compiler: accepted here means it runs there."""

    name, accepts = "regex", "a Python regular expression, or the reference's /pattern/flags form"

    def check(self, value, path, problems, spec):
        value = super().check(value, path, problems, spec)
        return value if value is not None and valid_pattern(value, path, problems, spec) else None


class JsonColumn(SettingType):
    """Lists and tables live in one TEXT column as JSON."""

    empty: Any = ()

    def column(self, spec):
        return TextField(default=json.dumps(self.plain(self.empty)))

    def to_column(self, value):
        return json.dumps(self.plain(value))

    def from_column(self, raw, spec):
        return super().from_column(json.loads(raw) if raw else self.plain(self.empty), spec)


class StrListType(JsonColumn):
    name, accepts = "str_list", "a list of strings"

    def check(self, value, path, problems, spec):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return self.wrong(value, path, problems, "a list of strings")
        return tuple(value)

    def plain(self, value):
        return list(value)


class EmailListType(StrListType):
    name, accepts = "email_list", "a list of email addresses"

    def check(self, value, path, problems, spec):
        value = super().check(value, path, problems, spec)
        bad = [(i, v) for i, v in enumerate(value or ()) if not _EMAIL_RE.match(v)]
        for i, address in bad:
            problems.append(f"{path}[{i}]: {address!r} is not an email address")
        return None if bad else value


class PatternListType(StrListType):
    name, accepts = "regex_list", "a list of patterns (Python regular expressions or /pattern/flags)"

    def check(self, value, path, problems, spec):
        value = super().check(value, path, problems, spec)
        if value is None or not all([valid_pattern(v, f"{path}[{i}]", problems, spec) for i, v in enumerate(value)]):
            return None
        return value


class MappingType(JsonColumn):
    name, accepts = "kv", "a table of field = \"value\", or the reference's \"field:value\" lines in one string"
    empty: Any = {}

    def check(self, value, path, problems, spec):
        if isinstance(value, str):
            bad = [line for line in value.splitlines() if line.strip() and ":" not in line]
            if bad:
                return problems.append(f"{path}: line {bad[0]!r} is not 'field:value'")
            return parse_kv_lines(value)
        if not isinstance(value, dict) or not all(isinstance(v, (str, int)) for v in value.values()):
            return self.wrong(value, path, problems, "a table of strings or 'field:value' lines")
        return {str(k): str(v) for k, v in value.items()}

    def plain(self, value):
        return dict(value)


class DelimitersType(JsonColumn):
    name, accepts = "delimiters", "a table of pattern = true (stop here) or false (drop this line)"
    empty: Any = {}

    def check(self, value, path, problems, spec):
        if not isinstance(value, dict) or not all(isinstance(v, bool) for v in value.values()):
            return self.wrong(value, path, problems, "a table of pattern = true|false")
        if not all([valid_pattern(k, f"{path}.{k!r}", problems, spec) for k in value]):
            return None
        return dict(value)

    def plain(self, value):
        return dict(value)


class TagsType(JsonColumn):
    name, accepts = "tags", "a table of tag = [class, ...] (an empty list: every such tag)"
    empty: Any = {}

    def check(self, value, path, problems, spec):
        if not isinstance(value, dict) or not all(
                isinstance(v, list) and all(isinstance(c, str) for c in v) for v in value.values()):
            return self.wrong(value, path, problems, "a table of tag = [class, ...]")
        return {k: tuple(v) for k, v in value.items()}

    def plain(self, value):
        return {k: list(v) for k, v in value.items()}


def valid_pattern(pattern: str, path: str, problems: Problems, spec: dict) -> bool:
    """Through the engine's one compiler, with the flags the engine adds for this setting."""
    problem = pattern_error(pattern, SETTING_FLAGS.get(spec.get("name", ""), 0))
    if problem:
        problems.append(f"{path}: {problem}")
    return problem is None


TYPES: dict[str, SettingType] = {t.name: t for t in (
    IntType(), BoolType(), StrType(), TextType(), SecretType(), EmailType(), EnumType(), SizeType(),
    DurationType(), PixelsType(), PatternType(), StrListType(), EmailListType(), PatternListType(), MappingType(),
    DelimitersType(), TagsType())}


def _as_written(value: Any) -> Any:
    """A default declared with tuples (immutable constants) as a file would write it."""
    if isinstance(value, tuple):
        return [_as_written(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_written(v) for k, v in value.items()}
    return value


def typed_default(kind: str, raw: Any, spec: dict) -> Any:
    """A declared default as the typed value the engine reads (a wrong default is a bug: it raises)."""
    problems: Problems = []
    value = TYPES[kind].check(_as_written(raw), "default", problems, spec)
    if problems:
        raise ValueError(f"default of {spec.get('name', '?')}: {problems[0]}")
    return value


def typed_factory(kind: str, factory: Callable[[], Any], spec: dict) -> Callable[[], Any]:
    return lambda: typed_default(kind, factory(), spec)
