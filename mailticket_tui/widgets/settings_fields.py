"""Settings tables as form rows, built from the schema (settings.py field metadata) and read back for
settings.py to judge: one place for the inbox form and the global settings form.

A `FieldSpec` is one setting as the schema describes it: its kind (int, bool, enum, secret, duration, size,
text, kv, str_list, regex_list, delimiters, tags, ...), help text and choices, plus `group` (form group
title), `ref` (the reference's name) and `effect` (False: kept for parity only) when the schema gives them.
A `FieldSet` lays out the rows of one table (an inbox, [engine], [smtp], ...) from its TOML form (values as
a file writes them: "10M", not bytes): group titles, then per field a label, an editor chosen by kind and a
problem line; its widget ids are `field-<prefix><name>` and `error-<prefix><name>`. `read` turns what is
typed back into the TOML-shaped table, values left as typed (settings.py's validation is the only one),
except table kinds with a line syntax of their own (delimiters, tags), whose unreadable lines are problems of
the form. `field_problems` sorts settings_from_dict's problem lines by field.

Secrets are never shown back: the editor starts empty and says whether one is set; an empty field keeps the
stored value and the "clear" box beside it drops it. Widgets only: no service is called from here.
"""
from __future__ import annotations

import re
from dataclasses import Field, dataclass, fields
from typing import Any, Iterable, Mapping, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.dom import DOMNode
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, Static, TextArea

from .safe_text import clean

OTHER_GROUP = "Other settings"
LINE_KINDS = ("kv", "str_list", "email_list", "regex_list", "delimiters", "tags")  # edited one item per line
TEXT_KINDS = ("text",)  # several lines, kept as typed
_VERBATIM = ("regex_list", "delimiters")  # patterns: spaces at either end may matter, lines are not stripped
_STOP, _DROP = ("stop", "true"), ("drop", "false")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_SECRET_SET = "set: type a new one to change it"
_SECRET_CLEARED = "cleared on save: set password_env or password_file, or type a new one"


class FlagBox(Checkbox):
    """A checkbox whose on and off differ without colour: `[x]` and `[ ]` (Textual's box only changes the
    colour of its X, which many terminals show alike), and for a setting with no label of its own the word
    `yes` or `no` beside it; settings_fields.tcss colours them too. Reads, posts and matches as a Checkbox."""

    BUTTON_LEFT, BUTTON_RIGHT = "[", "]"

    def __init__(self, label: str = "", value: bool = False, *, says_value: bool = False, **kwargs) -> None:
        self._says_value = says_value  # before super(): setting the value there calls watch_value
        super().__init__(label, value, **kwargs)
        self._show(value)

    def watch_value(self) -> None:
        super().watch_value()
        self._show(self.value)

    def _show(self, value: bool) -> None:
        self.BUTTON_INNER = "x" if value else " "  # read by the button's rendering; per instance
        if self._says_value:
            self.label = "yes" if value else "no"
        self.refresh(layout=True)


@dataclass(frozen=True)
class FieldSpec:
    """One setting of a form row: what settings.py's schema says about it."""

    name: str
    kind: str
    doc: str = ""
    choices: tuple[str, ...] = ()
    group: str = ""
    ref: str = ""
    effect: bool = True
    unit: str = ""  # of a duration written as a bare number

    @classmethod
    def of(cls, f: Field) -> "FieldSpec":
        """From a settings dataclass field (group/ref/effect are optional in the metadata)."""
        meta = f.metadata
        return cls(f.name, meta["kind"], meta.get("doc", ""), tuple(meta.get("choices") or ()),
                   meta.get("group") or "", meta.get("ref") or "", meta.get("effect", True) is not False,
                   meta.get("unit") or "")


def grouped(specs: Iterable[FieldSpec], layout: Sequence[tuple[str, Sequence[str]]] = (),
            default: str = OTHER_GROUP) -> list[tuple[str, list[FieldSpec]]]:
    """Specs by form group: the schema's `group` when given, else the group `layout` names the field in,
    else `default`. Groups come in `layout` order, then in order of first appearance, `default` last; inside a
    group, fields named by `layout` come in its order, the others in schema order. Empty groups are dropped."""
    layout_group = {name: title for title, names in layout for name in names}
    position = {name: n for n, name in enumerate(name for _, names in layout for name in names)}
    groups: dict[str, list[FieldSpec]] = {title: [] for title, _ in layout}
    for spec in specs:
        groups.setdefault(spec.group or layout_group.get(spec.name) or default, []).append(spec)
    if default in groups:
        groups[default] = groups.pop(default)
    out = []
    for title, members in groups.items():
        ordered = sorted(enumerate(members), key=lambda e: (position.get(e[1].name, len(position)), e[0]))
        if ordered:
            out.append((title, [spec for _, spec in ordered]))
    return out


def dataclass_groups(cls: type, layout: Sequence[tuple[str, Sequence[str]]] = (),
                     default: str = OTHER_GROUP) -> list[tuple[str, list[FieldSpec]]]:
    """Every field of a settings dataclass, grouped (a new setting is never missing from a form)."""
    return grouped((FieldSpec.of(f) for f in fields(cls)), layout, default)


def field_problems(problems: Iterable[str], prefix: str) -> dict[str, list[str]]:
    """settings_from_dict's lines about one table -> {field or "": [messages]}.

    `prefix` is the table as the lines name it, e.g. "settings: engine" or "settings: inbox[2] (support)";
    `settings: engine.delimiter_patterns.'^(': ...` is a problem of delimiter_patterns."""
    out: dict[str, list[str]] = {}
    for line in problems:
        if not line.startswith(prefix) or line[len(prefix):len(prefix) + 1] not in (".", ":", ""):
            continue
        rest = line[len(prefix):]
        match = re.match(r"\.(\w+)(?:\[\d+\]|\.'[^']*')*: ?", rest)
        if match:
            out.setdefault(match.group(1), []).append(rest[match.end():])
        else:
            out.setdefault("", []).append(rest.lstrip(": "))
    return out


def merged(*problems: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Problems by field from several sources (reading, validation), in order."""
    out: dict[str, list[str]] = {}
    for each in problems:
        for name, messages in each.items():
            out.setdefault(name, []).extend(messages)
    return out


def field_help(spec: FieldSpec, path: str = "") -> Text:
    """The help line of a field: its key path, doc, choices, line syntax, reference name and effect."""
    doc = spec.doc
    if spec.choices:
        doc += f" ({' | '.join(spec.choices)})"
    doc += {"kv": " One field:value per line.", "str_list": " One per line.", "regex_list": " One per line.",
            "delimiters": " One per line: 'stop PATTERN' (cut the reply here) or 'drop PATTERN' (remove the line).",
            "tags": " One per line: 'tag: class class ...' (no class = every such tag).",
            "duration": f" A number of {_UNITS.get(spec.unit or 's', spec.unit)}, or with s, m, h or d (90s, 2h, 7d).",
            }.get(spec.kind, "")
    if spec.ref and spec.ref != spec.name:
        doc += f" Reference: {spec.ref}."
    if not spec.effect:
        doc += " Kept for parity with the reference: no effect here."
    return Text(f"{path or spec.name}: {doc}", style="italic")


class FieldSet:
    """The rows of one settings table in a form, and the reading of what is typed in them.

    `values` is the table as TOML writes it (settings.settings_to_dict with secrets: for a secret, the stored
    one, never put in a widget).
    Not a widget: `compose` yields the rows into the form's own container, so every form keeps one flat,
    scrollable layout, and the form queries the rows by id.
    """

    def __init__(self, groups: list[tuple[str, list[FieldSpec]]], values: Mapping[str, Any], *,
                 prefix: str = "", path: str = "") -> None:
        self.groups = groups
        self.specs = {spec.name: spec for _, members in groups for spec in members}
        self.values = values
        self.prefix = prefix
        self.path = path  # the table's key path in the TOML document ("engine"), for the help line

    @classmethod
    def of(cls, schema: type, values: Mapping[str, Any], layout: Sequence[tuple[str, Sequence[str]]] = (),
           default: str = OTHER_GROUP, *, prefix: str = "", path: str = "") -> "FieldSet":
        """The rows of every field of a settings dataclass, showing `values` (its TOML table)."""
        return cls(dataclass_groups(schema, layout, default), values, prefix=prefix, path=path)

    def widget_id(self, name: str) -> str:
        return f"field-{self.prefix}{name}"

    # -- building ----------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        for group, members in self.groups:
            yield Static(Text(group, style="bold underline"), classes="group")
            for spec in members:
                with Horizontal(classes="row", id=f"row-{self.prefix}{spec.name}"):
                    yield Label(self._label(spec), classes="label", markup=False)
                    yield self._editor(spec)
                    if spec.kind == "secret" and self.values.get(spec.name):
                        yield FlagBox("clear", compact=True, id=f"clear-{self.prefix}{spec.name}",
                                       classes="clear-secret",
                                       tooltip="drop the stored password (then use password_env or password_file)")
                yield Static("", id=f"error-{self.prefix}{spec.name}", classes="error", markup=False)

    def _label(self, spec: FieldSpec) -> Text | str:
        if spec.kind == "secret":
            return f"{spec.name} ({'set' if self.values.get(spec.name) else 'not set'})"
        return spec.name if spec.effect else Text(spec.name, style="dim")

    def _editor(self, spec: FieldSpec) -> Widget:
        kind, value, widget_id = spec.kind, self.values.get(spec.name), self.widget_id(spec.name)
        if kind == "enum":
            return Select([(c, c) for c in spec.choices], value=value, allow_blank=False, compact=True, id=widget_id)
        if kind == "bool":
            return FlagBox(value=bool(value), says_value=True, compact=True, id=widget_id)
        if kind == "secret":
            hint = _SECRET_SET if value else "not set (prefer password_env or password_file)"
            return Input("", password=True, placeholder=hint, compact=True, id=widget_id)
        if kind == "int":
            return Input(str(value), type="integer", compact=True, id=widget_id)
        if kind in LINE_KINDS or kind in TEXT_KINDS:
            text = str(value or "") if kind in TEXT_KINDS else _as_lines(kind, value)
            return TextArea(text, compact=True, id=widget_id, classes="lines", show_line_numbers=False)
        return Input("" if value is None else str(value), compact=True, id=widget_id)

    # -- reading -----------------------------------------------------------------------------------------
    def clear_ticked(self, node: DOMNode, name: str) -> bool:
        """The admin ticked "clear" beside this secret: the stored one goes (a typed one still replaces it)."""
        boxes = node.query(f"#clear-{self.prefix}{name}")
        return bool(boxes) and boxes.first(Checkbox).value

    def secret_toggled(self, node: DOMNode, checkbox: Checkbox) -> None:
        """Say in the secret's placeholder what its "clear" box now means."""
        for spec in self.specs.values():
            if checkbox.id == f"clear-{self.prefix}{spec.name}":
                editor = node.query_one(f"#{self.widget_id(spec.name)}", Input)
                editor.placeholder = _SECRET_CLEARED if checkbox.value else _SECRET_SET

    def read(self, node: DOMNode) -> tuple[dict, dict[str, list[str]]]:
        """(the TOML-shaped table of what is typed, {field: [problems of reading it]}). A field that could not
        be read is left out of the table, so validation judges the rest."""
        data: dict = {}
        problems: dict[str, list[str]] = {}
        for name, spec in self.specs.items():
            widget = node.query_one(f"#{self.widget_id(name)}")
            if isinstance(widget, (Select, Checkbox)):
                data[name] = widget.value
            elif isinstance(widget, TextArea) and spec.kind in TEXT_KINDS:
                data[name] = widget.text
            elif isinstance(widget, TextArea):
                value, bad = _from_lines(spec.kind, widget.text)
                if bad:
                    problems[name] = [bad]
                else:
                    data[name] = value
            elif spec.kind == "secret":
                stored = self.values.get(name, "")
                data[name] = widget.value or ("" if self.clear_ticked(node, name) else stored)
            elif spec.kind in ("int", "duration"):  # a duration: a bare number is in the setting's own unit
                text = widget.value.strip()
                data[name] = int(text) if re.fullmatch(r"-?\d+", text) else (0 if not text else text)
            else:
                data[name] = widget.value.strip()
        return data, problems

    def show_problems(self, node: DOMNode, problems: Mapping[str, list[str]]) -> str | None:
        """Each field's problems beside it (others cleared); returns the widget id of the first field with one."""
        first = None
        for name in self.specs:
            box = node.query_one(f"#error-{self.prefix}{name}", Static)
            messages = problems.get(name, [])
            box.update(Text(clean("; ".join(messages), limit=400), style="bold red"))
            box.display = bool(messages)
            if messages and first is None:
                first = self.widget_id(name)
        return first

    def help_for(self, widget_id: str) -> Text | None:
        """The help line of the field edited by `widget_id`, or None when it is not one of ours."""
        if not widget_id.startswith(f"field-{self.prefix}"):
            return None
        spec = self.specs.get(widget_id.removeprefix(f"field-{self.prefix}"))
        if spec is None:
            return None
        return field_help(spec, f"{self.path}.{spec.name}" if self.path else spec.name)


def _as_lines(kind: str, value: Any) -> str:
    """A table or list value as the editor's lines (the inverse of `_from_lines`)."""
    if kind == "kv":
        return "\n".join(f"{k}:{v}" for k, v in (value or {}).items())
    if kind == "delimiters":
        return "\n".join(f"{'stop' if stop else 'drop'} {pattern}" for pattern, stop in (value or {}).items())
    if kind == "tags":
        return "\n".join(f"{tag}: {' '.join(classes)}".rstrip() for tag, classes in (value or {}).items())
    return "\n".join(value or ())


def _from_lines(kind: str, text: str) -> tuple[Any, str]:
    """The editor's lines as the TOML value, or (None, why a line cannot be read). Blank lines are skipped;
    kv stays 'field:value' lines in one string (settings.py reads and checks those)."""
    verbatim = kind in _VERBATIM
    lines = [line if verbatim else line.strip() for line in text.splitlines() if line.strip()]
    if kind == "kv":
        return "\n".join(lines), ""
    if kind == "delimiters":
        table: dict[str, bool] = {}
        for line in lines:
            word, _, pattern = line.lstrip().partition(" ")
            if word.lower() not in _STOP + _DROP or not pattern:
                return None, f"line {line.strip()!r} is not 'stop PATTERN' or 'drop PATTERN'"
            table[pattern] = word.lower() in _STOP
        return table, ""
    if kind == "tags":
        tags: dict[str, list[str]] = {}
        for line in lines:
            tag, colon, classes = line.partition(":")
            if not colon or not tag.strip():
                return None, f"line {line!r} is not 'tag: class class ...'"
            tags[tag.strip()] = classes.replace(",", " ").split()
        return tags, ""
    return lines, ""
