"""Mode 4, Trace: an inbox's rolling debug trace (from the store, then live from the engine) and the
engine's event log, both following live and filtered by a search string.

Lines come from servers and mail: they are cleaned before reaching the Log widgets.
"""
from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Log, Select, Static

from ..engine.events import Event, TraceLine
from ..widgets.engine_status import describe_event
from ..widgets.safe_text import clean, safe_text
from .mode_screen import ModeScreen

MAX_LINES = 5000


class TraceLoaded(Message):
    def __init__(self, inbox: str, lines: list[str], names: list[str], error: str = "") -> None:
        super().__init__()
        self.inbox, self.lines, self.names, self.error = inbox, lines, names, error


class TraceScreen(ModeScreen):
    CSS_PATH = "trace.tcss"
    BINDINGS = [
        Binding("slash", "focus_search", "Search", key_display="/"),
        Binding("f5,ctrl+l", "reload", "Reload"),
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

    @work(thread=True, exclusive=True, exit_on_error=False, group="trace-load")
    def _load(self, inbox: str) -> None:
        names = sorted(i.name for i in self.services.settings.inboxes)
        inbox = inbox if inbox in names else (names[0] if names else "")  # none yet, or renamed/deleted
        try:
            lines = self.services.trace_lines(inbox) if inbox else []
        except Exception as exc:  # noqa: BLE001 - e.g. the inbox was deleted meanwhile
            self.post_message(TraceLoaded(inbox, [], names, str(exc)))
            return
        self.post_message(TraceLoaded(inbox, lines, names))

    def on_trace_loaded(self, message: TraceLoaded) -> None:
        select = self.query_one("#trace-inbox", Select)
        with self.prevent(Select.Changed):
            select.set_options([(safe_text(n, limit=40), n) for n in message.names])
            if message.inbox in message.names:
                select.value = message.inbox
        self.inbox = message.inbox
        self.inbox_lines = message.lines[-MAX_LINES:]
        if message.error:
            self.inbox_lines.append(f"cannot read the trace: {message.error}")
        self._render_inbox_log()

    def _matches(self, line: str) -> bool:
        return not self.search or self.search.lower() in line.lower()

    def _render_inbox_log(self) -> None:
        log = self.query_one("#trace-inbox-log", Log)
        log.clear()
        log.write_lines([clean(line, limit=2000) for line in self.inbox_lines if self._matches(line)])

    def _render_engine_log(self) -> None:
        log = self.query_one("#trace-engine-log", Log)
        log.clear()
        log.write_lines([clean(line, limit=2000) for line in self.mt_app.engine_log if self._matches(line)])

    def engine_events(self, batch: list[Event]) -> None:
        inbox_log = self.query_one("#trace-inbox-log", Log)
        engine_log = self.query_one("#trace-engine-log", Log)
        for event in batch:
            line = describe_event(event)
            if self._matches(line):
                engine_log.write_line(clean(line, limit=2000))
            if isinstance(event, TraceLine) and event.inbox == self.inbox:
                self.inbox_lines.append(line)
                if self._matches(line):
                    inbox_log.write_line(clean(line, limit=2000))
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

    def action_focus_search(self) -> None:
        self.query_one("#trace-search", Input).focus()

    def action_reload(self) -> None:
        self._load(self.inbox)
