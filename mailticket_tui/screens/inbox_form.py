"""The inbox edit form: every InboxSettings field, grouped like the reference's form, built from the field
metadata (kind, doc, choices) so a new setting appears here without code.

Validation is settings.py's own (`settings_from_dict` over all inboxes, so duplicate names are caught too);
its problems are shown beside the fields they name. The password is never shown back: the field starts
empty, says whether one is set, and only a typed value replaces it; the "clear" box beside it drops a stored
password (to switch to password_env or password_file). The name is editable: the caller renames the inbox
(its records follow) before saving. "Test" probes the values being edited, before any save; an empty
password field tests with the stored password; a test that cannot even start (e.g. the password's
environment variable is unset) is reported by screens/base.py and shown in the help line. Dismisses with
the new InboxSettings.
"""
from __future__ import annotations

import re
from dataclasses import Field, fields

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, Static, TextArea
from textual.worker import Worker

from ..settings import InboxSettings, Settings, SettingsError, settings_from_dict, settings_to_dict
from ..widgets.probe_result import probe_text
from ..widgets.safe_text import clean
from .base import WorkerFailures, services_of

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Mailbox configuration", ("name", "protocol", "server", "port", "tls", "verify_certificate", "login",
                               "password", "password_env", "password_file", "pop3_auth", "mailbox", "active",
                               "trace")),
    ("Emails in error", ("error_behavior", "notify_errors_to", "notify_errors_from")),
    ("Behaviour on incoming emails", ("behavior", "email_storage", "target_folder", "target_class",
                                      "ticket_default_values", "ticket_default_title", "title_pattern", "stimuli")),
    ("Unknown callers", ("unknown_caller_behavior", "unknown_caller_rejection_reply", "caller_default_values")),
    ("Additional contacts", ("import_additional_contacts", "aliases")),
    ("MailTicket extras", ("auto_mail_behavior", "closed_ticket_behavior", "reopen_stimulus",
                           "other_sender_behavior", "ambiguous_caller_behavior")),
)


def grouped_fields() -> list[tuple[str, list[Field]]]:
    """The groups above, plus any field they do not name (a new setting is never missing from the form)."""
    by_name = {f.name: f for f in fields(InboxSettings)}
    named = {n for _, names in GROUPS for n in names}
    groups = [(title, [by_name[n] for n in names if n in by_name]) for title, names in GROUPS]
    rest = [f for f in fields(InboxSettings) if f.name not in named]
    return groups + ([("Other settings", rest)] if rest else [])


def field_problems(problems: list[str], index: int, name: str) -> dict[str, list[str]]:
    """settings_from_dict's lines about inbox[index] -> {field or "": [messages]}."""
    prefix = f"settings: inbox[{index}]" + (f" ({name})" if name else "")
    out: dict[str, list[str]] = {}
    for line in problems:
        if not line.startswith(prefix):
            continue
        match = re.match(r"\.(\w+)(?:\[\d+\]|\.'[^']*')*: ?", line[len(prefix):])
        if match:
            out.setdefault(match.group(1), []).append(line[len(prefix) + match.end():])
        else:
            out.setdefault("", []).append(line[len(prefix):].lstrip(": "))
    return out


class InboxTestedInForm(Message):
    def __init__(self, text: Text) -> None:
        super().__init__()
        self.text = text


class InboxFormScreen(WorkerFailures, ModalScreen[InboxSettings | None]):
    CSS_PATH = "inbox_form.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save_inbox", "Save", priority=True),
        Binding("ctrl+t", "test_inbox", "Test these values", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, inbox: InboxSettings | None, settings: Settings) -> None:
        super().__init__()
        self.original = inbox
        self.inbox = inbox or InboxSettings()
        self.settings = settings

    # -- building ------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        title = f"Inbox {self.original.name}" if self.original else "New inbox"
        yield Static(Text(clean(title), style="bold"), id="form-title")
        with VerticalScroll(id="form"):
            for group, group_fields in grouped_fields():
                yield Static(Text(group, style="bold underline"), classes="group")
                for f in group_fields:
                    with Horizontal(classes="row", id=f"row-{f.name}"):
                        yield Label(self._label(f), classes="label", markup=False)
                        yield self._editor(f)
                        if f.metadata["kind"] == "secret" and self.inbox.password:
                            yield Checkbox("clear", compact=True, id="clear-password",
                                           tooltip="drop the stored password (then use password_env or password_file)")
                    yield Static("", id=f"error-{f.name}", classes="error", markup=False)
        yield Static("", id="form-errors", markup=False)
        yield Static("", id="field-doc", markup=False)
        yield Static(Text("ctrl+s save · ctrl+t test these values · escape cancel · tab next field",
                          style="dim"), id="form-keys")

    def _label(self, f: Field) -> str:
        if f.metadata["kind"] == "secret":
            return f"{f.name} ({'set' if self.inbox.password else 'not set'})"
        return f.name

    def _editor(self, f: Field) -> Widget:
        kind, value, widget_id = f.metadata["kind"], getattr(self.inbox, f.name), f"field-{f.name}"
        if kind == "enum":
            return Select([(c, c) for c in f.metadata["choices"]], value=value, allow_blank=False, compact=True,
                          id=widget_id)
        if kind == "bool":
            return Checkbox("", value=bool(value), compact=True, id=widget_id)
        if kind == "secret":
            hint = "set: type a new one to change it" if value else "not set (prefer password_env or password_file)"
            return Input("", password=True, placeholder=hint, compact=True, id=widget_id)
        if kind == "int":
            return Input(str(value), type="integer", compact=True, id=widget_id)
        if kind == "kv":
            text = "\n".join(f"{k}:{v}" for k, v in value.items())
            return TextArea(text, compact=True, id=widget_id, classes="lines", show_line_numbers=False)
        if kind in ("str_list", "regex_list"):
            return TextArea("\n".join(value), compact=True, id=widget_id, classes="lines", show_line_numbers=False)
        return Input(str(value), compact=True, id=widget_id)

    # -- reading and validating -----------------------------------------------------------------------------
    @property
    def clear_password(self) -> bool:
        """The admin ticked "clear": the stored password goes (a typed one still replaces it)."""
        boxes = self.query("#clear-password")
        return bool(boxes) and boxes.first(Checkbox).value

    def form_dict(self) -> dict:
        """The TOML-shaped table of what is typed (values left as typed: settings.py judges them)."""
        data: dict = {}
        for f in fields(InboxSettings):
            widget = self.query_one(f"#field-{f.name}")
            kind = f.metadata["kind"]
            if isinstance(widget, Select):
                data[f.name] = widget.value
            elif isinstance(widget, Checkbox):
                data[f.name] = widget.value
            elif isinstance(widget, TextArea):
                lines = [line.strip() for line in widget.text.splitlines() if line.strip()]
                data[f.name] = "\n".join(lines) if kind == "kv" else lines
            elif kind == "secret":
                data[f.name] = widget.value or ("" if self.clear_password else self.inbox.password)
            elif kind == "int":
                text = widget.value.strip()
                data[f.name] = int(text) if re.fullmatch(r"-?\d+", text) else (0 if not text else text)
            else:
                data[f.name] = widget.value.strip()
        return data

    def validate_form(self) -> tuple[InboxSettings | None, dict[str, list[str]]]:
        """The validated inbox, or the problems by field; other inboxes take part (unique names)."""
        data = self.form_dict()
        others = [i for i in settings_to_dict(self.settings, with_secrets=True)["inbox"]
                  if not self.original or i["name"] != self.original.name]
        try:
            # the edited inbox last, so "duplicate name" is reported on it rather than on the other one
            validated = settings_from_dict({"inbox": [*others, data]})
        except SettingsError as exc:
            name = data["name"] if isinstance(data.get("name"), str) else ""
            problems = field_problems(exc.problems, len(others), name)
            return None, problems or {"": ["the other inboxes have problems: " + "; ".join(exc.problems)]}
        return validated.inboxes[-1], {}

    def _show_problems(self, problems: dict[str, list[str]]) -> None:
        for f in fields(InboxSettings):
            box = self.query_one(f"#error-{f.name}", Static)
            messages = problems.get(f.name, [])
            box.update(Text(clean("; ".join(messages), limit=400), style="bold red"))
            box.display = bool(messages)
        general = self.query_one("#form-errors", Static)
        general.update(Text(clean("; ".join(problems.get("", [])), limit=600), style="bold red"))
        general.display = bool(problems.get(""))
        first = next((f.name for f in fields(InboxSettings) if f.name in problems), None)
        if first:
            self.query_one(f"#field-{first}").focus()

    def on_mount(self) -> None:
        self._show_problems({})
        # Editing starts on the protocol (the name rarely changes; a new name is a rename, records follow).
        self.query_one("#field-protocol" if self.original is not None else "#field-name").focus()

    @on(Checkbox.Changed, "#clear-password")
    def _clear_password_changed(self, event: Checkbox.Changed) -> None:
        password = self.query_one("#field-password", Input)
        password.placeholder = ("cleared on save: set password_env or password_file, or type a new one"
                                if event.value else "set: type a new one to change it")

    def on_descendant_focus(self, event) -> None:
        widget_id = getattr(event.widget, "id", None) or ""
        by_name = {f.name: f for f in fields(InboxSettings)}
        f = by_name.get(widget_id.removeprefix("field-"))
        if f is not None:
            doc = f.metadata["doc"]
            if f.metadata["choices"]:
                doc += f" ({' | '.join(f.metadata['choices'])})"
            if f.metadata["kind"] in ("kv",):
                doc += " One field:value per line."
            elif f.metadata["kind"] in ("str_list", "regex_list"):
                doc += " One per line."
            self.query_one("#field-doc", Static).update(Text(f"{f.name}: {doc}", style="italic"))

    # -- actions ---------------------------------------------------------------------------------------------
    def action_save_inbox(self) -> None:
        inbox, problems = self.validate_form()
        self._show_problems(problems)
        if inbox is not None:
            self.dismiss(inbox)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_test_inbox(self) -> None:
        """Probe what is typed (nothing saved); the form must validate first."""
        inbox, problems = self.validate_form()
        self._show_problems(problems)
        if inbox is None:
            self.query_one("#field-doc", Static).update(Text("fix the problems shown, then test", style="bold red"))
            return
        if self.clear_password and not (inbox.password or inbox.password_env or inbox.password_file):
            # the service would fall back to the stored password, the very one being cleared
            self.query_one("#field-doc", Static).update(Text(
                "password cleared: give password_env, password_file or a new password to test", style="bold red"))
            return
        self.query_one("#field-doc", Static).update(Text(f"testing {clean(inbox.name)}…", style="italic"))
        self._test(inbox)

    @work(thread=True, exclusive=True, exit_on_error=False, group="form-test", name="test the connection")
    def _test(self, inbox: InboxSettings) -> None:
        result = services_of(self).test_inbox_settings(inbox)
        self.post_message(InboxTestedInForm(probe_text(inbox.name, result)))

    def on_inbox_tested_in_form(self, message: InboxTestedInForm) -> None:
        self.query_one("#field-doc", Static).update(message.text)

    def worker_failed(self, worker: Worker, line: str) -> None:
        if worker.group == "form-test":
            self.query_one("#field-doc", Static).update(Text(line, style="bold red"))

