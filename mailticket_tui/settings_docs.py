"""The commented example settings file (`mailticket config example`, data/mailticket.example.toml) and the
settings reference of the docs (docs/settings.md), both written from the settings schema (settings.py), so
neither can drift from what the validator accepts. Tests keep the committed files equal to this output.
Never imports textual or rich.
"""
from __future__ import annotations

import json
import re
from dataclasses import MISSING, Field, fields
from typing import Any

from .setting_types import TYPES, UNIT_NAMES
from .settings import EngineSettings, InboxSettings, NotificationRule, Settings, SmtpSettings, StoreSettings

HEADER = """\
# MailTicket settings: every key with its default and what it does.
# Written by `mailticket config example` from the settings schema; docs/settings.md says the same in a table.
# The store owns settings at run time: this file bootstraps an empty store; `mailticket config import FILE`
# upserts it (by inbox name) into an existing one; `mailticket config export` writes the store's settings back.
# Patterns are Python regular expressions; the reference's /pattern/flags form is accepted too.
# Sizes take K, M or G suffixes ("10M"); image sizes are WIDTHxHEIGHT ("100x20"); durations are a number in the
# setting's unit or a number with s, m, h or d ("90s", "2h", "7d").
# Key/value settings (ticket_default_values, stimuli, caller_default_values) are TOML tables or, as in the
# reference, one string of "field:value" lines. The reference's spellings (hyphenated keys, yes/no) are read too.
"""
TICKET_LOG = """\
# Case log that receives replies, per ticket class (public_log | private_log).
[ticket_log]
UserRequest = "public_log"
Incident = "public_log"
Change = "public_log"
Problem = "public_log"
"""
ORG_DOMAINS = """\
# Mail domain -> organisation name, for callers created from unknown senders (created when missing).
[org_domains]
"example.com" = "Example Corp"
"""
SECTIONS: tuple[tuple[str, type], ...] = (("store", StoreSettings), ("engine", EngineSettings),
                                          ("smtp", SmtpSettings), ("inbox", InboxSettings),
                                          ("notification", NotificationRule))
_ARRAYS = ("inbox", "notification")  # [[...]]: arrays of tables
NOTIFICATION = """\
# Notifications: none unless listed here (a fresh install mails nobody unasked). Each [[notification]] rule
# sends mail through the outbox when its event happens; the acknowledgement below ships inactive: set
# active = true to send it. Every notification carries our own Message-ID (replies thread by it) and
# Auto-Submitted (auto-replied when a mail caused it, auto-generated for an operator's action).
"""
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_value(value: Any) -> str:
    """One value inline, as an admin would write it: literal strings for patterns with backslashes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        if "\\" in value and "'" not in value and "\n" not in value:
            return f"'{value}'"
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = (f"{k if _BARE_KEY.match(k) else toml_value(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + ", ".join(items) + " }"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _shown(setting: Field) -> Any:
    """The value the example file shows: the declared example, else the default as written in a file."""
    example = setting.metadata.get("example", MISSING)
    return _shown_default(setting) if example is MISSING else example


def _comment(setting: Field) -> str:
    meta = setting.metadata
    text = meta["doc"]
    if meta["choices"]:
        text += f" ({' | '.join(meta['choices'])})"
    if meta["kind"] == "duration":
        text += f" [{UNIT_NAMES[meta['unit']]}]"
    if not meta["effect"]:
        text += " [no effect here: kept for parity with the reference]"
    if meta.get("ref"):
        text += f" [reference: {meta['ref']}]"
    return f"# {text}"


def _table(name: str, cls: type) -> str:
    head = f"[[{name}]]" if name in _ARRAYS else f"[{name}]"
    lines = [head]
    for setting in fields(cls):
        lines.append(_comment(setting))
        if setting.metadata["kind"] == "secret":
            lines.append(f'# {setting.name} = "..."')
        else:
            lines.append(f"{setting.name} = {toml_value(_shown(setting))}")
    return "\n".join(lines) + "\n"


def example_toml() -> str:
    """The commented example file: every key, its help, and its default (or a telling example value)."""
    parts = [HEADER, _table("store", StoreSettings), _table("engine", EngineSettings), TICKET_LOG, ORG_DOMAINS,
             _table("smtp", SmtpSettings), _table("inbox", InboxSettings), NOTIFICATION,
             _table("notification", NotificationRule)]
    return "\n".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def settings_markdown() -> str:
    """docs/settings.md: one table per section, grouped as the forms group them."""
    out = ["# Settings reference", "",
           "Written by `mailticket config example --markdown` from the settings schema (mailticket_tui/settings.py);",
           "data/mailticket.example.toml is the same as a commented file. Keys follow the reference extension",
           "(iTop \"Mail to ticket automation\") in snake_case; its spellings (hyphens, yes/no) are read too.", ""]
    for name, cls in SECTIONS:
        out += [f"## [{f'[{name}]' if name in _ARRAYS else name}]", ""]
        groups: dict[str, list[Field]] = {}
        for setting in fields(cls):
            groups.setdefault(setting.metadata["group"] or "Other", []).append(setting)
        for group, members in groups.items():
            out += [f"### {group}", "", "| key | value | default | what it does |", "|---|---|---|---|"]
            for setting in members:
                meta = setting.metadata
                kind = TYPES[meta["kind"]]
                value = " | ".join(meta["choices"]) if meta["choices"] else kind.accepts
                if meta["kind"] == "duration":
                    value += f" (unit: {UNIT_NAMES[meta['unit']]})"
                doc = meta["doc"] + ("" if meta["effect"] else " **No effect here** (kept for parity).")
                default = "" if meta["kind"] == "secret" else toml_value(_shown_default(setting))
                out.append(f"| `{setting.name}` | {_cell(value)} | `{_cell(default)}` | {_cell(doc)} |")
            out.append("")
    out += ["## [ticket_log] and [org_domains]", "",
            "`[ticket_log]`: ticket class = `public_log` or `private_log`, the case log that receives replies.",
            f"Classes: {', '.join(Settings().ticket_log)} by default; every class of the reference is accepted.", "",
            "`[org_domains]`: mail domain = organisation name, for callers created from unknown senders.", ""]
    return "\n".join(out)


def _shown_default(setting: Field) -> Any:
    default = setting.default if setting.default is not MISSING else setting.default_factory()  # type: ignore[misc]
    return TYPES[setting.metadata["kind"]].plain(default)
