"""The global settings form: [engine], [smtp], [ticket_log] and [org_domains], from the same schema and the
same rows as the inbox form (widgets/settings_fields.py), so a new setting appears here without code.

Validation is settings.py's own over the whole document (the stored inboxes take part); its problems, whose
key paths name the field (`engine.maximum_email_size: ...`), are shown beside the fields. The ticket log is
one choice per ticket class; the organisation domains are `domain:organisation` lines (a domain is matched
in lower case, so it is written so). The SMTP password is never shown back: empty keeps the stored one, the
"clear" box beside it drops it. "Test SMTP" probes the SMTP values being edited, before any save
(services.test_smtp_settings: connect, TLS, EHLO, STARTTLS, LOGIN, QUIT; no mail is sent); a test that cannot
even start (the password's environment variable is unset) is reported by screens/base.py and shown here.
Dismisses with the validated Settings, which the app saves with Services.save_global_settings, or None.
"""
from __future__ import annotations


from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Static
from textual.worker import Worker

from ..settings import (
    TICKET_CLASSES,
    EngineSettings,
    Settings,
    SettingsError,
    SmtpSettings,
    settings_from_dict,
    settings_to_dict,
)
from ..widgets.probe_result import probe_text
from ..widgets.safe_text import clean
from ..widgets.settings_fields import FieldSet, FieldSpec, field_problems, merged
from .base import WorkerFailures, services_of

LOGS = ("public_log", "private_log")
SECTIONS = ("engine", "smtp", "ticket_log", "org_domains")


def read_domains(text: str) -> tuple[dict[str, str], list[str]]:
    """`domain:organisation` lines -> ({domain: organisation}, [problems]). Domains are compared in lower case
    by the engine, so they are stored so; a leading @ is dropped."""
    domains: dict[str, str] = {}
    for line in text.splitlines():
        domain, colon, org = line.partition(":")
        domain, org = domain.strip().lower().lstrip("@"), org.strip()
        if not line.strip():
            continue
        if not colon or not domain or not org or "@" in domain or any(c.isspace() for c in domain):
            return domains, [f"line {line.strip()!r} is not 'domain:organisation', e.g. example.com:Example Corp"]
        domains[domain] = org
    return domains, []


class SmtpTested(Message):
    def __init__(self, text: Text) -> None:
        super().__init__()
        self.text = text


class SettingsFormScreen(WorkerFailures, ModalScreen[Settings | None]):
    CSS_PATH = ["../widgets/settings_fields.tcss", "settings_form.tcss"]
    DEFAULT_CLASSES = "settings-form"
    BINDINGS = [
        Binding("ctrl+s", "save_settings", "Save", priority=True),
        Binding("ctrl+t", "test_smtp", "Test SMTP", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        shown = settings_to_dict(settings, with_secrets=True)
        log_specs = [FieldSpec(klass, "enum", f"Case log that receives the new part of mails updating a {klass} "
                                              "ticket.", LOGS) for klass in TICKET_CLASSES]
        domains_doc = ("Sender's mail domain -> organisation of the persons created for unknown senders, "
                       "e.g. example.com:Example Corp.")
        self.sections: dict[str, tuple[str, FieldSet]] = {
            "engine": ("Engine", FieldSet.of(EngineSettings, shown["engine"], default="Engine", prefix="engine-",
                                             path="engine")),
            "smtp": ("SMTP, for outgoing mail", FieldSet.of(SmtpSettings, shown["smtp"], default="SMTP server",
                                                            prefix="smtp-", path="smtp")),
            "ticket_log": ("Ticket log", FieldSet(
                [("Case log that receives replies, per ticket class", log_specs)],
                {klass: settings.ticket_log.get(klass, "public_log") for klass in TICKET_CLASSES},
                prefix="ticket_log-", path="ticket_log")),
            "org_domains": ("Organisation domains", FieldSet(
                [("Organisation by sender's domain", [FieldSpec("org_domains", "kv", domains_doc)])],
                {"org_domains": settings.org_domains})),
        }

    # -- building ------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(Text("Global settings", style="bold"), id="form-title")
        with VerticalScroll(id="form"):
            for key, (title, rows) in self.sections.items():
                yield Static(Text.assemble((f"[{key}]", "bold"), f" {title}"), classes="section")
                yield from rows.compose()
                if key == "smtp":
                    yield Static(Text("ctrl+t tests these SMTP values (connect, TLS, login; nothing is sent)",
                                      style="dim"), id="smtp-test", markup=False)
        yield Static("", id="form-errors", markup=False)
        yield Static("", id="field-doc", markup=False)
        yield Static(Text("ctrl+s save · ctrl+t test SMTP · escape cancel · tab next field", style="dim"),
                     id="form-keys")

    def on_mount(self) -> None:
        self._show_problems({})
        engine = self.sections["engine"][1]
        self.query_one(f"#{engine.widget_id(next(iter(engine.specs)))}").focus()

    # -- reading and validating -----------------------------------------------------------------------------
    def form_document(self) -> tuple[dict, dict[str, dict[str, list[str]]]]:
        """(the TOML document: the stored one with the four sections as typed, {section: problems of reading})."""
        tables, unreadable = {}, {}
        for key, (_, rows) in self.sections.items():
            tables[key], unreadable[key] = rows.read(self)
        lines = tables["org_domains"].pop("org_domains", "")
        tables["org_domains"], bad = read_domains(lines)
        if bad:
            unreadable["org_domains"] = merged(unreadable["org_domains"], {"org_domains": bad})
        document = settings_to_dict(self.settings, with_secrets=True)
        document.pop("store")  # the store's URL is not edited here
        document.update(tables)
        return document, unreadable

    def validate_form(self) -> tuple[Settings | None, dict[str, dict[str, list[str]]]]:
        """The validated settings, or the problems by section and field ("" for the form as a whole)."""
        document, problems = self.form_document()
        try:
            validated: Settings | None = settings_from_dict(document)
        except SettingsError as exc:
            validated = None
            for key in ("engine", "smtp", "ticket_log"):
                problems[key] = merged(problems[key], field_problems(exc.problems, f"settings: {key}"))
            domains = field_problems(exc.problems, "settings: org_domains")
            problems["org_domains"] = merged(problems["org_domains"],
                                             {"org_domains": [m for ms in domains.values() for m in ms]})
            others = [line for line in exc.problems
                      if not any(field_problems([line], f"settings: {key}") for key in SECTIONS)]
            if others:
                problems[""] = {"": ["the stored inboxes have problems: " + "; ".join(others)]}
        for key in SECTIONS:  # a section's own problem ("expected a table") is the form's
            problems[""] = merged(problems.get("", {}), {"": problems[key].pop("", [])})
        problems = {key: found for key, found in problems.items() if any(found.values())}
        return (None if problems else validated), problems

    def smtp_values(self) -> SmtpSettings | None:
        """The SMTP section as typed, validated on its own (a problem elsewhere does not stop a test)."""
        table, unreadable = self.sections["smtp"][1].read(self)
        if unreadable:
            return None
        try:
            return settings_from_dict({"smtp": table}).smtp
        except SettingsError:
            return None

    def _show_problems(self, problems: dict[str, dict[str, list[str]]]) -> None:
        first = None
        for key, (_, rows) in self.sections.items():
            found = rows.show_problems(self, problems.get(key, {}))
            first = first or found
        general = problems.get("", {}).get("", [])
        box = self.query_one("#form-errors", Static)
        box.update(Text(clean("; ".join(general), limit=600), style="bold red"))
        box.display = bool(general)
        if first:
            self.query_one(f"#{first}").focus()

    @on(Checkbox.Changed, ".clear-secret")
    def _clear_password_changed(self, event: Checkbox.Changed) -> None:
        self.sections["smtp"][1].secret_toggled(self, event.checkbox)

    def on_descendant_focus(self, event) -> None:
        widget_id = getattr(event.widget, "id", None) or ""
        for _, rows in self.sections.values():
            doc = rows.help_for(widget_id)
            if doc is not None:
                self.query_one("#field-doc", Static).update(doc)
                return

    # -- actions ---------------------------------------------------------------------------------------------
    def action_save_settings(self) -> None:
        settings, problems = self.validate_form()
        self._show_problems(problems)
        if settings is not None:
            self.dismiss(settings)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_test_smtp(self) -> None:
        """Probe the SMTP values as typed (nothing saved, nothing sent); that section must validate first."""
        _, problems = self.validate_form()
        self._show_problems(problems)
        smtp = self.smtp_values()
        if smtp is None or "smtp" in problems:
            self._show_test(Text("fix the SMTP problems shown, then test", style="bold red"))
            return
        if (smtp.login and self.sections["smtp"][1].clear_ticked(self, "password")
                and not (smtp.password or smtp.password_env or smtp.password_file)):
            self._show_test(Text("password cleared: give password_env, password_file or a new password to test "
                                 "the login", style="bold red"))
            return
        self._show_test(Text(f"testing SMTP {clean(smtp.server)}:{smtp.port}…", style="italic"))
        self._test(smtp)

    @work(thread=True, exclusive=True, exit_on_error=False, group="smtp-test", name="test SMTP")
    def _test(self, smtp: SmtpSettings) -> None:
        result = services_of(self).test_smtp_settings(smtp)
        self.post_message(SmtpTested(probe_text("SMTP", result)))

    def on_smtp_tested(self, message: SmtpTested) -> None:
        self._show_test(message.text)

    def _show_test(self, text: Text) -> None:
        """In the help line (seen wherever the cursor is) and under the SMTP rows (stays there)."""
        self.query_one("#field-doc", Static).update(text)
        self.query_one("#smtp-test", Static).update(text)

    def worker_failed(self, worker: Worker, line: str) -> None:
        if worker.group == "smtp-test":
            self._show_test(Text(line, style="bold red"))
