"""Mode 5, People: the directory's persons (who may write to a reject_email inbox), searched, edited in a
small form (screens/person_form.py), created and (de)activated.

The search is one line of words plus `status:active|inactive` and `org:NAME`; pages of PAGE rows come from
directory.list_persons in a thread worker (one extra row says whether more exist). Names, addresses and
organisations may come from mail: every cell goes through safe_text. A failed load or save is reported by
screens/base.py; the info line says so, and after a failed save the list is reloaded.
"""
from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Input, Static
from textual.worker import Worker

from .. import directory
from ..directory import PersonInfo
from ..widgets.columns import ColumnSpec
from ..widgets.filter_query import parse_filter
from ..widgets.fitted_table import FittedTable
from ..widgets.safe_text import clean, safe_text
from .mode_screen import ModeScreen
from .person_form import PersonFormScreen

PAGE = 100
COLUMNS = [ColumnSpec("name", "Name", 18, flexible=True, max_width=32), ColumnSpec("email", "Email", 24, flexible=True),
           ColumnSpec("status", "Status", 8), ColumnSpec("org", "Org", 14, priority=1, flexible=True, max_width=30),
           ColumnSpec("phone", "Phone", 14, priority=3), ColumnSpec("extra", "Extra", 5, priority=2),
           ColumnSpec("teams", "Teams", 12, priority=4, flexible=True, max_width=30)]


@dataclass(frozen=True)
class PeopleQuery:
    search: str = ""
    status: str = ""
    org: str = ""
    offset: int = 0


class PeopleLoaded(Message):
    def __init__(self, query: PeopleQuery, rows: list[PersonInfo], has_more: bool) -> None:
        super().__init__()
        self.query, self.rows, self.has_more = query, rows, has_more


class PersonSaved(Message):
    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what


def people_query(text: str) -> PeopleQuery:
    fields, words = parse_filter(text, ("status", "org"))
    return PeopleQuery(words, fields.get("status", ""), fields.get("org", ""))


def person_cells(p: PersonInfo) -> dict[str, Text]:
    style = "" if p.active else "dim"
    cells = {"name": safe_text(p.full_name or "-", style, limit=120), "email": safe_text(p.email, style, limit=255),
             "status": Text(p.status, style="green" if p.active else "dim"), "org": safe_text(p.org, style, limit=120),
             "phone": safe_text(p.phone, style, limit=60), "extra": Text(f"+{len(p.extra_emails)}" if p.extra_emails
                                                                       else "", style=style),
             "teams": safe_text(", ".join(p.teams), style, limit=120)}
    for cell in cells.values():
        cell.overflow = "ellipsis"
    return cells


class PeopleScreen(ModeScreen):
    CSS_PATH = "people.tcss"
    BINDINGS = [
        Binding("enter,e", "edit_person", "Edit"),
        Binding("n", "new_person", "New"),
        Binding("d", "toggle_active", "(De)activate"),
        Binding("slash", "focus_search", "Search", key_display="/"),
        Binding("right_square_bracket", "next_page", "Next page", key_display="]", show=False),
        Binding("left_square_bracket", "previous_page", "Prev page", key_display="[", show=False),
        Binding("f5,ctrl+l", "reload", "Refresh", show=False),
        Binding("escape", "leave_input", "Back to the table", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.people_query = PeopleQuery()
        self.persons: dict[str, PersonInfo] = {}
        self.has_more = False

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="/ search: words, status:active status:inactive org:acme", compact=True,
                    id="people-search")
        yield FittedTable(COLUMNS, id="people-table")
        yield Static("", id="people-info", markup=False)

    @property
    def table(self) -> FittedTable:
        return self.query_one("#people-table", FittedTable)

    def on_mount(self) -> None:
        self.table.focus()
        self._fetch(self.people_query)

    @work(thread=True, exclusive=True, exit_on_error=False, group="people-page", name="load the people")
    def _fetch(self, query: PeopleQuery) -> None:
        rows = directory.list_persons(query.search, query.status, query.org, query.offset, PAGE + 1)
        self.post_message(PeopleLoaded(query, rows[:PAGE], len(rows) > PAGE))

    def on_people_loaded(self, message: PeopleLoaded) -> None:
        if message.query != self.people_query:
            return
        self.has_more = message.has_more
        self.persons = {str(p.id): p for p in message.rows}
        self.table.show_rows([(str(p.id), person_cells(p)) for p in message.rows])
        offset = message.query.offset
        info = (f"persons {offset + 1}-{offset + len(message.rows)}" if message.rows
                else "no person matches" if (message.query.search or message.query.status or message.query.org)
                else "no person yet: n adds one, `mailticket people import FILE` imports a list")
        if message.has_more:
            info += " (more: ])"
        self.query_one("#people-info", Static).update(Text(info))

    def worker_failed(self, worker: Worker, line: str) -> None:
        if worker.group == "people-page":
            self.query_one("#people-info", Static).update(Text(f"{line} · f5 retries", style="red"))
        elif worker.group == "people-write":
            self._fetch(self.people_query)

    # -- search and pages ----------------------------------------------------------------------------
    @on(Input.Submitted, "#people-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self.people_query = people_query(event.value)
        self._fetch(self.people_query)
        self.table.focus()

    def action_focus_search(self) -> None:
        self.query_one("#people-search", Input).focus()

    def action_leave_input(self) -> None:
        self.table.focus()

    def action_next_page(self) -> None:
        if self.has_more:
            q = self.people_query
            self.people_query = PeopleQuery(q.search, q.status, q.org, q.offset + PAGE)
            self._fetch(self.people_query)

    def action_previous_page(self) -> None:
        q = self.people_query
        if q.offset:
            self.people_query = PeopleQuery(q.search, q.status, q.org, max(0, q.offset - PAGE))
            self._fetch(self.people_query)

    def action_reload(self) -> None:
        self._fetch(self.people_query)

    # -- actions -------------------------------------------------------------------------------------
    def _selected(self) -> PersonInfo | None:
        person = self.persons.get(self.table.current_key or "")
        if person is None:
            self.notify("No person selected.", severity="warning")
        return person

    def action_new_person(self) -> None:
        self.app.push_screen(PersonFormScreen(None), lambda values: values and self._save(None, values))

    def action_edit_person(self) -> None:
        person = self._selected()
        if person is not None:
            self.app.push_screen(PersonFormScreen(person), lambda values: values and self._save(person.id, values))

    @on(DataTable.RowSelected, "#people-table")
    def _row_selected(self, _: DataTable.RowSelected) -> None:
        self.action_edit_person()

    @work(thread=True, exclusive=True, exit_on_error=False, group="people-write", name="save the person")
    def _save(self, person_id: int | None, values: dict) -> None:
        if person_id is None:
            info = directory.add_person(values)
            self.post_message(PersonSaved(f"person #{info.id} {info.email}: created"))
            return
        info, changed = directory.edit_person(person_id, values)
        said = f"changed {', '.join(changed)}" if changed else "nothing changed"
        self.post_message(PersonSaved(f"person #{info.id} {info.email}: {said}"))

    def action_toggle_active(self) -> None:
        person = self._selected()
        if person is not None:
            self._set_active(person.id, not person.active)

    @work(thread=True, exclusive=True, exit_on_error=False, group="people-write", name="change the person's status")
    def _set_active(self, person_id: int, active: bool) -> None:
        info, _ = directory.set_person_active(person_id, active)
        self.post_message(PersonSaved(f"person #{info.id} {info.email}: {info.status}"))

    def on_person_saved(self, message: PersonSaved) -> None:
        self.notify(clean(message.what), markup=False)
        self._fetch(self.people_query)
