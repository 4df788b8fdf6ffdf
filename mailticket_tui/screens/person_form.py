"""A small form for one person of the directory (new or edited); dismisses with the directory's field
values (directory.PERSON_FIELDS) or None.

Only the address is checked here (directory.clean_email, no store access), so the common typo is caught
while the form is still open; the People screen saves in a worker and the directory says what else is
wrong (an unknown organisation, an address that belongs to someone else). Values shown come from the
store or from mail: the inputs hold them as plain text, never markup.
"""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from ..directory import DirectoryError, PersonInfo, clean_email
from ..widgets.settings_fields import FlagBox

FIELDS = (("first_name", "First name"), ("name", "Name"), ("email", "Email"),
          ("extra_emails", "Extra emails"), ("phone", "Phone"), ("org", "Organisation"))


class PersonFormScreen(ModalScreen[dict | None]):
    CSS_PATH = "person_form.tcss"
    BINDINGS = [Binding("ctrl+s", "save", "Save", priority=True), Binding("escape", "cancel", "Cancel")]

    def __init__(self, person: PersonInfo | None = None) -> None:
        super().__init__()
        self.person = person

    def _initial(self, key: str) -> str:
        p = self.person
        if p is None:
            return ""
        return ", ".join(p.extra_emails) if key == "extra_emails" else str(getattr(p, key))

    def compose(self) -> ComposeResult:
        title = f"Person #{self.person.id}" if self.person else "New person"
        with Vertical(id="dialog"):
            yield Static(Text(title, style="bold"), markup=False)
            for key, label in FIELDS:
                with Horizontal(classes="row"):
                    yield Label(label, markup=False)
                    placeholder = {"extra_emails": "other addresses, comma separated",
                                   "org": "name, code or number (empty: none)"}.get(key, "")
                    yield Input(self._initial(key), id=f"person-{key}", placeholder=placeholder, compact=True)
            with Horizontal(classes="row"):
                yield Label("Active", markup=False)
                yield FlagBox(value=self.person.active if self.person else True, says_value=True, compact=True,
                              id="person-active")
            yield Static("", id="person-problem", markup=False)
            yield Static(Text("ctrl+s: save · escape: cancel", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#person-first_name", Input).focus()

    def values(self) -> dict:
        """The form as the directory takes it."""
        out: dict = {key: self.query_one(f"#person-{key}", Input).value.strip() for key, _ in FIELDS}
        out["extra_emails"] = [e for e in out["extra_emails"].replace(";", ",").replace(" ", ",").split(",") if e]
        out["status"] = "active" if self.query_one("#person-active", FlagBox).value else "inactive"
        return out

    def action_save(self) -> None:
        values = self.values()
        try:
            clean_email(values["email"])
            for extra in values["extra_emails"]:
                clean_email(extra, "extra email")
        except DirectoryError as exc:
            self.query_one("#person-problem", Static).update(Text(str(exc), style="bold red"))
            return
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)
