"""The inbox edit form: every InboxSettings field, grouped like the reference's form, built from the field
metadata (kind, doc, choices; group when the schema gives it, else GROUPS below) so a new setting appears here
without code. The rows, their reading and the problem lines are widgets/settings_fields.py's, shared with the
global settings form.

Validation is settings.py's own (`settings_from_dict` over all inboxes, so duplicate names are caught too);
its problems are shown beside the fields they name. The password is never shown back: the field starts
empty, says whether one is set, and only a typed value replaces it; the "clear" box beside it drops a stored
password (to switch to password_env or password_file). The name is editable: the caller renames the inbox
(its records follow) before saving. "Test" probes the values being edited, before any save; an empty
password field tests with the stored password; a test that cannot even start (e.g. the password's
environment variable is unset) is reported by screens/base.py and shown in the help line, which grows to show
the result (warning first, capabilities wrapped). Saving while the last test failed asks first
(screens/confirm.py). Dismisses with the new InboxSettings.
"""
from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Static
from textual.worker import Worker

from ..settings import InboxSettings, Settings, SettingsError, inbox_label, settings_from_dict, settings_to_dict
from ..widgets.probe_result import probe_text
from ..widgets.safe_text import clean
from ..widgets.settings_fields import FieldSet, FieldSpec, dataclass_groups, field_problems, merged
from .authorize import AuthorizeScreen
from .base import WorkerFailures, services_of
from .confirm import ConfirmScreen

RESULT_MAX_HEIGHT = 6  # lines the help line may grow to while it shows a test result

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Mailbox configuration", ("name", "protocol", "server", "port", "tls", "verify_certificate", "ca_file", "login",
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


def grouped_fields() -> list[tuple[str, list[FieldSpec]]]:
    """Every InboxSettings field by form group (a new setting is never missing from the form)."""
    return dataclass_groups(InboxSettings, GROUPS)


class InboxTestedInForm(Message):
    def __init__(self, text: Text, ok: bool = True) -> None:
        super().__init__()
        self.text = text
        self.ok = ok


class InboxFormScreen(WorkerFailures, ModalScreen[InboxSettings | None]):
    CSS_PATH = ["../widgets/settings_fields.tcss", "inbox_form.tcss"]
    DEFAULT_CLASSES = "settings-form"
    BINDINGS = [
        Binding("ctrl+s", "save_inbox", "Save", priority=True),
        Binding("ctrl+t", "test_inbox", "Test these values", priority=True),
        Binding("ctrl+o", "authorize_inbox", "Authorize (OAuth2)", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, inbox: InboxSettings | None, settings: Settings) -> None:
        super().__init__()
        self.original = inbox
        self.inbox = inbox or InboxSettings()
        self.settings = settings
        shown = settings_to_dict(Settings(inboxes=(self.inbox,)), with_secrets=True)["inbox"][0]
        self.fields = FieldSet.of(InboxSettings, shown, GROUPS)
        self.test_failed = False  # the last connection test failed (saving then asks first)

    # -- building ------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        title = f"Inbox {self.original.name}" if self.original else "New inbox"
        yield Static(Text(clean(title), style="bold"), id="form-title")
        with VerticalScroll(id="form"):
            yield from self.fields.compose()
        yield Static("", id="form-errors", markup=False)
        yield Static("", id="field-doc", markup=False)
        keys = "ctrl+s save · ctrl+t test these values · escape cancel · tab next field"
        if self.inbox.auth == "oauth2":
            keys = "ctrl+s save · ctrl+t test · ctrl+o authorize (OAuth2) · escape cancel"
        yield Static(Text(keys, style="dim"), id="form-keys")

    # -- reading and validating -----------------------------------------------------------------------------
    @property
    def clear_password(self) -> bool:
        """The admin ticked "clear": the stored password goes (a typed one still replaces it)."""
        return self.fields.clear_ticked(self, "password")

    def form_dict(self) -> dict:
        """The TOML-shaped table of what is typed (values left as typed: settings.py judges them)."""
        return self.fields.read(self)[0]

    def validate_form(self) -> tuple[InboxSettings | None, dict[str, list[str]]]:
        """The validated inbox, or the problems by field; other inboxes take part (unique names)."""
        data, unreadable = self.fields.read(self)
        others = [i for i in settings_to_dict(self.settings, with_secrets=True)["inbox"]
                  if not self.original or i["name"] != self.original.name]
        try:
            # the edited inbox last, so "duplicate name" is reported on it rather than on the other one
            validated = settings_from_dict({"inbox": [*others, data]})
        except SettingsError as exc:
            name = data["name"] if isinstance(data.get("name"), str) else ""
            problems = field_problems(exc.problems, "settings: " + inbox_label(len(others), name))
            problems = problems or {"": ["the other inboxes have problems: " + "; ".join(exc.problems)]}
            return None, merged(unreadable, problems)
        return (None, unreadable) if unreadable else (validated.inboxes[-1], {})

    def _show_problems(self, problems: dict[str, list[str]]) -> None:
        first = self.fields.show_problems(self, problems)
        general = self.query_one("#form-errors", Static)
        general.update(Text(clean("; ".join(problems.get("", [])), limit=600), style="bold red"))
        general.display = bool(problems.get(""))
        if first:
            self.query_one(f"#{first}").focus()

    def on_mount(self) -> None:
        self._show_problems({})
        # Editing starts on the protocol (the name rarely changes; a new name is a rename, records follow).
        self.query_one("#field-protocol" if self.original is not None else "#field-name").focus()

    @on(Checkbox.Changed, ".clear-secret")
    def _clear_password_changed(self, event: Checkbox.Changed) -> None:
        self.fields.secret_toggled(self, event.checkbox)

    def on_descendant_focus(self, event) -> None:
        doc = self.fields.help_for(getattr(event.widget, "id", None) or "")
        if doc is not None:
            self._show_doc(doc)

    def _show_doc(self, text, result: bool = False) -> None:
        """The help line: a field's help (its stylesheet height), or a test result (grows to fit, capped)."""
        line = self.query_one("#field-doc", Static)
        line.styles.height = "auto" if result else None
        line.styles.max_height = RESULT_MAX_HEIGHT if result else None
        line.update(text)

    # -- actions ---------------------------------------------------------------------------------------------
    def action_save_inbox(self) -> None:
        inbox, problems = self.validate_form()
        self._show_problems(problems)
        if inbox is None:
            return
        if not self.test_failed:
            self.dismiss(inbox)
            return

        def answered(save: bool | None) -> None:
            if save:
                self.dismiss(inbox)

        self.app.push_screen(ConfirmScreen(Text.assemble(
            ("The last connection test of these settings failed.", "bold"),
            f"\nSave inbox {clean(inbox.name)} anyway?"), yes="Save"), answered)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_authorize_inbox(self) -> None:
        """The OAuth2 consent (screens/authorize.py) of the inbox as saved: the grant belongs to a stored inbox."""
        inbox, problems = self.validate_form()
        self._show_problems(problems)
        if inbox is None or inbox.auth != "oauth2":
            self._show_doc(Text("set auth to oauth2 (and its client id), save, then authorize", style="bold red"))
        elif self.original is None or replace(inbox, password=self.original.password) != self.original:
            self._show_doc(Text("save these values first (ctrl+s), then authorize the saved inbox", style="bold red"))
        else:
            self.app.push_screen(AuthorizeScreen(inbox.name))

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
        self.post_message(InboxTestedInForm(probe_text(inbox.name, result), result.ok))

    def on_inbox_tested_in_form(self, message: InboxTestedInForm) -> None:
        self.test_failed = not message.ok
        self._show_doc(message.text, result=True)

    def worker_failed(self, worker: Worker, line: str) -> None:
        if worker.group == "form-test":
            self.test_failed = True
            self._show_doc(Text(line, style="bold red"), result=True)

