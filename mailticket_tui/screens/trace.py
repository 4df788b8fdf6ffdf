"""Mode 4, Trace: an inbox's rolling debug trace (from the store, then live from the engine) and the
engine's event log, both following live and filtered by a search string.

The inbox list comes from the settings in memory (no query); only the stored trace is read in a worker,
and when that fails the inbox log says so (screens/base.py notifies). Engine events name a message by its
store id and its labelled server key (widgets/message_ref.py). Lines come from servers and mail: they are
cleaned before reaching the Log widgets, and wrapped to the log's width (a continuation is indented) so
nothing sits past the right edge; a resize wraps them again.
"""
from __future__ import annotations

import textwrap

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Log, Select, Static
from textual.worker import Worker

from ..engine.events import Event, TraceLine
from ..widgets.safe_text import clean, safe_text
from .mode_screen import ModeScreen

MAX_LINES = 5000
INDENT = "    "


def wrapped(lines: list[str], width: int) -> list[str]:
    """Cleaned lines cut to `width` cells, continuations indented (a width too small to wrap leaves them)."""
    out: list[str] = []
    for line in lines:
        line = clean(line, limit=2000)
        if width < 20 or len(line) <= width:
            out.append(line)
        else:
            out.extend(textwrap.wrap(line, width, subsequent_indent=INDENT, break_on_hyphens=False,
                                     drop_whitespace=False) or [""])
    return out


class TraceLoaded(Message):
    def __init__(self, inbox: str, lines: list[str]) -> None:
        super().__init__()
        self.inbox, self.lines = inbox, lines


class TraceScreen(ModeScreen):
    CSS_PATH = "trace.tcss"
    BINDINGS = [
        Binding("slash", "focus_search", "Search", key_display="/"),
        Binding("f5,ctrl+l", "reload", "Reload"),
        Binding("escape", "leave_input", "Back to the log", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.inbox = ""
        self.search = ""
        self.inbox_lines: list[str] = []

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="trace-bar"):
            yield Select([], prompt="inbox", compact=True, id="trace-inbox")
            yield Input(placeholder="/ search both logs", compact=True, id="trace-search")
        yield Static(Text("inbox debug trace (stored when the inbox's trace is on; live lines always)",
                          style="bold"), classes="trace-title")
        yield Log(id="trace-inbox-log", max_lines=MAX_LINES)
        yield Static(Text("engine events", style="bold"), classes="trace-title")
        yield Log(id="trace-engine-log", max_lines=MAX_LINES)

    def on_mount(self) -> None:
        self.query_one("#trace-inbox-log", Log).focus()
        self._render_engine_log()
        self._load(self.inbox)

    def _load(self, inbox: str) -> None:
        """Pick the inbox among the current settings' (none yet, or renamed/deleted: the first), then read
        its stored trace in a worker."""
        names = sorted(i.name for i in self.services.settings.inboxes)
        inbox = inbox if inbox in names else (names[0] if names else "")
        select = self.query_one("#trace-inbox", Select)
        with self.prevent(Select.Changed):
            select.set_options([(safe_text(n, limit=40), n) for n in names])
            if inbox:
                select.value = inbox
        self.inbox = inbox
        self._fetch(inbox)

    @work(thread=True, exclusive=True, exit_on_error=False, group="trace-load", name="load the trace")
    def _fetch(self, inbox: str) -> None:
        self.post_message(TraceLoaded(inbox, self.services.trace_lines(inbox) if inbox else []))

    def on_trace_loaded(self, message: TraceLoaded) -> None:
        if message.inbox != self.inbox:
            return  # an answer for an inbox the user has since left
        self.inbox_lines = message.lines[-MAX_LINES:]
        self._render_inbox_log()

    def worker_failed(self, worker: Worker, line: str) -> None:
        if worker.group == "trace-load":
            self.inbox_lines = [line]
            self._render_inbox_log()

    def _matches(self, line: str) -> bool:
        return not self.search or self.search.lower() in line.lower()

    @staticmethod
    def _write(log: Log, lines: list[str]) -> None:
        log.write_lines(wrapped(lines, log.scrollable_content_region.width - 1))

    def _render_inbox_log(self) -> None:
        log = self.query_one("#trace-inbox-log", Log)
        log.clear()
        self._write(log, [line for line in self.inbox_lines if self._matches(line)])

    def _render_engine_log(self) -> None:
        log = self.query_one("#trace-engine-log", Log)
        log.clear()
        self._write(log, [line for line in self.mt_app.engine_log if self._matches(line)])

    def on_resize(self, _: events.Resize) -> None:
        self._render_inbox_log()
        self._render_engine_log()

    def engine_events(self, batch: list[Event]) -> None:
        inbox_log = self.query_one("#trace-inbox-log", Log)
        engine_log = self.query_one("#trace-engine-log", Log)
        for event in batch:
            line = self.mt_app.describe(event)
            if self._matches(line):
                self._write(engine_log, [line])
            if isinstance(event, TraceLine) and event.inbox == self.inbox:
                self.inbox_lines.append(line)
                if self._matches(line):
                    self._write(inbox_log, [line])
        del self.inbox_lines[:-MAX_LINES]

    @on(Select.Changed, "#trace-inbox")
    def _inbox_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.inbox:
            self._load(event.value)

    @on(Input.Changed, "#trace-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.search = event.value.strip()
        self._render_inbox_log()
        self._render_engine_log()

    @on(Input.Submitted, "#trace-search")
    def _search_submitted(self, _: Input.Submitted) -> None:
        """Enter: the search is applied as typed already; back to the log, where 1-4 switch modes again."""
        self.action_leave_input()

    def action_focus_search(self) -> None:
        self.query_one("#trace-search", Input).focus()

    def action_leave_input(self) -> None:
        """Escape: out of the search box (or a select) and back to the inbox log, so the mode keys (1-4) and the
        screen's keys work again; what was typed stays. A Select's open menu takes Escape first (it closes)."""
        self.query_one("#trace-inbox-log", Log).focus()

    def action_reload(self) -> None:
        self._load(self.inbox)
