"""The Textual app: modes (Inboxes, Mailbox, Tickets, Trace, People), global bindings, command palette, header,
and the host of the background engine. No business logic: screens call `Services` in thread workers.

`build_app` is the one factory the CLI (`run_tui`) and the tests share; the services (store and settings)
are injected, nothing is global. The engine runs in a thread worker and reports from that thread; reports
are queued and announced with one coalescing message, so a burst of events costs one refresh. The status
bar starts from each inbox's last pass as the store has it (a cron run's too), then follows live. The global
settings form (screens/settings_form.py) is the app's, so the palette opens it from any mode; its values are
saved here, in a worker, and the engine reads them on its next pass.

Every thread worker, the app's and the screens', fails into one place (screens/base.py `WorkerFailures`):
one notification, one log record, the view marked stale; no worker error ends the app.

Cold start: only what the first screen needs is imported before it paints. Each mode's screen module is
imported when the mode is first shown (`MODES` holds factories), dialogs when they open; the background
engine (the runner, the steps, the protocols) is built in its own worker thread, started with the read of the
last passes (a count over every message) once the first screen has painted. `$MAILTICKET_TUI_MODE` names the
first mode (inboxes by default; bench/bench_tui.py starts in the Mailbox).
"""
from __future__ import annotations

import collections
import importlib
import os
import sys
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Iterable

from rich.text import Text
from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.signal import Signal
from textual.worker import Worker

from . import terminal_probe
from .engine.events import Event, InboxFinished, InboxProgress, InboxStarted, OutboxSent, PassFinished, PassStarted
from .screens.base import WorkerFailures
from .services import Services
from .settings import Settings
from .store.db import redact_url
from .widgets.engine_status import EngineView, InboxPass, describe_event, short_counters, stored_pass
from .widgets.safe_text import clean

if TYPE_CHECKING:
    from .engine.background import BackgroundEngine, EngineState

ENGINE_LOG_LINES = 5000
MODE_KEYS = Binding.Group("modes", compact=True)


def _mode(module: str, name: str) -> Callable[[], Screen]:
    """A mode's screen factory: its module is imported when the mode is first shown, not before the first paint."""
    def make() -> Screen:
        return getattr(importlib.import_module(f".screens.{module}", __package__), name)()
    return make


class EngineReported(Message):
    """The engine thread queued reports; one pending message stands for any number of them."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, EngineReported)


class GlobalSettingsSaved(Message):
    """The global settings form's values are in the store (a failure goes to screens/base.py)."""


class PassesStored(Message):
    """The inboxes as the store has them (services.list_inboxes), read at start for the status bar."""

    def __init__(self, inboxes: list) -> None:
        super().__init__()
        self.inboxes = inboxes


class MailTicketApp(WorkerFailures, App[int]):
    """Mailboxes in, tickets out: the admin's and operator's terminal UI."""

    CSS_PATH = "app.tcss"
    TITLE = "MailTicket"
    ENABLE_COMMAND_PALETTE = True
    # The footer shows the screen's keys first, then these: `?` (every key) and the mode keys as one compact
    # group, so they stay visible at 80 columns.
    BINDINGS = [
        Binding("question_mark", "show_help", "Help", key_display="?"),
        Binding("1", "switch_mode('inboxes')", "Inboxes", group=MODE_KEYS),
        Binding("2", "switch_mode('mailbox')", "Mailbox", group=MODE_KEYS),
        Binding("3", "switch_mode('tickets')", "Tickets", group=MODE_KEYS),
        Binding("4", "switch_mode('trace')", "Trace", group=MODE_KEYS),
        Binding("5", "switch_mode('people')", "People", group=MODE_KEYS),
        Binding("P", "toggle_engine", "Pause/resume", show=False),
        Binding("G", "poll_now", "Poll now", show=False),
        Binding("q", "quit", "Quit", show=False),
    ]

    MODES = {"inboxes": _mode("inboxes", "InboxesScreen"), "mailbox": _mode("mailbox", "MailboxScreen"),
             "tickets": _mode("tickets", "TicketsScreen"), "trace": _mode("trace", "TraceScreen"),
             "people": _mode("people", "PeopleScreen")}

    engine_view: reactive[EngineView] = reactive(EngineView, always_update=False)

    def __init__(self, services: Services, *, start_engine: bool = True, first_mode: str = "inboxes") -> None:
        super().__init__()
        self.services = services
        self.start_engine = start_engine
        self.first_mode = first_mode
        self._engine: BackgroundEngine | None = None
        self._engine_lock = threading.Lock()
        self.engine_log: collections.deque[str] = collections.deque(maxlen=ENGINE_LOG_LINES)
        self.engine_events: Signal[list[Event]] = Signal(self, "engine-events")
        self.crash: str = ""
        # appended by the engine thread, drained on the event loop (deque appends and pops are thread-safe)
        self._reports: collections.deque[Event | EngineState] = collections.deque()
        self._outbox_reported = False  # an OutboxSent came during the current pass

    @property
    def engine(self) -> BackgroundEngine:
        """The background engine, built at first use: its modules are the heaviest and the first paint needs
        none of them (the engine worker builds it in its own thread)."""
        with self._engine_lock:  # the worker's thread or a key on the event loop, whichever comes first
            if self._engine is None:
                from .engine.background import BackgroundEngine

                self._engine = BackgroundEngine(self.services, self._engine_report)
        return self._engine

    def _stop_engine(self) -> None:
        if self._engine is not None:
            self._engine.stop()

    # -- modes -----------------------------------------------------------------------------------------
    def on_mount(self) -> None:
        config = str(self.services.config_path) if self.services.config_path else "no config file"
        self.sub_title = clean(f"{redact_url(self.services.store_url)} · {config}", limit=200)
        self.switch_mode(self.first_mode)
        self.call_after_refresh(self._start_background)

    def _start_background(self) -> None:
        """After the first screen painted: the engine's imports and the store's last passes (a count over
        every message) would otherwise compete with the first page for the processor."""
        if self.start_engine:
            self._run_engine()
        self._load_stored_passes()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for mode, title in (("inboxes", "Inboxes"), ("mailbox", "Mailbox"), ("tickets", "Tickets"), ("trace", "Trace"),
                            ("people", "People")):
            yield SystemCommand(f"Go to {title}", f"Switch to the {title} mode", lambda m=mode: self.switch_mode(m))
        if self.start_engine:
            yield SystemCommand("Pause or resume the engine", "Background polling on/off", self.action_toggle_engine)
            yield SystemCommand("Poll now", "Start a pass of the background engine now", self.action_poll_now)
        yield SystemCommand("Global settings", "Edit [engine], [smtp], [ticket_log] and [org_domains]; test SMTP",
                            self.action_edit_settings)
        yield SystemCommand("Keys", "Show every key binding", self.action_show_help)

    async def open_mailbox(self, inbox: str, message_id: int | None = None, status: str | None = None) -> None:
        """Switch to the Mailbox mode showing `inbox` (and open one message's detail, or show only the
        messages in `status`, when given)."""
        from .screens.mailbox import MailboxScreen

        await self.switch_mode("mailbox")
        screen = self.screen
        if isinstance(screen, MailboxScreen):
            screen.show_inbox(inbox, message_id, status)

    def action_show_help(self) -> None:
        from .screens.help import HelpScreen

        self.push_screen(HelpScreen())

    # -- global settings -------------------------------------------------------------------------------
    def action_edit_settings(self) -> None:
        """The global settings form (`g` in the Inboxes mode, or the command palette)."""
        from .screens.settings_form import SettingsFormScreen

        self.push_screen(SettingsFormScreen(self.services.settings), self._settings_edited)

    def _settings_edited(self, settings: Settings | None) -> None:
        if settings is not None:  # None: cancelled
            self._save_settings(settings)

    @work(thread=True, exclusive=True, exit_on_error=False, group="app-settings", name="save the global settings")
    def _save_settings(self, settings: Settings) -> None:
        """Through the services, which reload the settings; the background engine reads them on its next pass."""
        self.services.save_global_settings(settings.engine, settings.smtp, settings.ticket_log, settings.org_domains)
        self.post_message(GlobalSettingsSaved())

    def on_global_settings_saved(self, _: GlobalSettingsSaved) -> None:
        if self._engine is not None:
            self._engine.reload()  # periodicity, IDLE and concurrency apply now (a stopped engine ignores it)
        self.notify("Saved the global settings; the engine uses them from its next pass.")

    # -- background engine -----------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="app-passes", name="read the last passes")
    def _load_stored_passes(self) -> None:
        self.post_message(PassesStored(self.services.list_inboxes()))

    def on_passes_stored(self, message: PassesStored) -> None:
        self.remember_passes(message.inboxes)

    def remember_passes(self, inboxes: list) -> None:
        """Merge the store's last pass of each inbox (InboxInfo list) into the status bar; inboxes no longer
        listed (deleted, renamed) leave it. Called at start and whenever the Inboxes mode reloads."""
        stored = [p for p in (stored_pass(i) for i in inboxes) if p is not None]
        self.engine_view = self.engine_view.with_stored(stored, {i.name for i in inboxes})

    @work(thread=True, exclusive=True, exit_on_error=False, group="engine", name="run the background engine")
    def _run_engine(self) -> None:
        """Builds the engine here (unless a key did first), so its imports stay off the event loop."""
        engine = self.engine
        self._engine_report(engine.state)
        engine.run()

    def worker_failed(self, worker: Worker, line: str) -> None:
        """The engine loop only ends this way on a bug (a failed pass is reported by the engine itself): the
        status bar must not keep saying it runs."""
        if worker.group == "engine":
            from .engine.background import EngineState

            passes = self.engine_view.state.passes if self.engine_view.state else 0
            self.engine_view = replace(self.engine_view, state=EngineState("stopped", last_error=line, passes=passes),
                                       current="")

    def describe(self, event: Event) -> str:
        """An engine event as a log line, message keys labelled by their inbox's protocol (settings in memory)."""
        def protocol_of(name: str) -> str:
            inbox = self.services.settings.inbox(name)
            return inbox.protocol if inbox else ""
        return describe_event(event, protocol_of=protocol_of)

    def _engine_report(self, report: Event | EngineState) -> None:
        """Engine thread: queue, then announce; pending announcements replace each other."""
        self._reports.append(report)
        self.post_message(EngineReported())

    def on_engine_reported(self, _: EngineReported) -> None:
        from .engine.background import EngineState  # loaded already: the engine sent the reports

        batch: list[Event] = []
        view = self.engine_view
        while self._reports:
            report = self._reports.popleft()
            if isinstance(report, EngineState):
                view = replace(view, state=report)
                continue
            if isinstance(report, InboxProgress):  # one per message: the bar only, neither logged nor published
                view = view.with_progress(report)
                continue
            batch.append(report)
            self.engine_log.append(self.describe(report))  # never raises, whatever the event
            if isinstance(report, InboxStarted):
                view = replace(view, current=report.inbox, progress=None)
            elif isinstance(report, InboxFinished):
                result = InboxPass(report.inbox, time.time(), short_counters(report.counters), report.error or "")
                view = view.with_pass(result)
            elif isinstance(report, PassStarted):
                self._outbox_reported = False
            elif isinstance(report, OutboxSent):
                self._outbox_reported = True
                view = replace(view, outbox_problem=report.problem or "")
            elif isinstance(report, PassFinished) and not self._outbox_reported:
                view = replace(view, outbox_problem="")  # nothing waits any more: the runner said nothing
        self.engine_view = view
        if batch:
            self.engine_events.publish(batch)

    def action_toggle_engine(self) -> None:
        if not self.start_engine:
            self.notify("The background engine is off in this session.", severity="warning")
        elif self.engine.paused:
            self.engine.resume()
            self.notify("Engine resumed.")
        else:
            self.engine.pause()
            self.notify("Engine paused: no new pass starts until resumed (P).")

    def action_poll_now(self) -> None:
        if self.start_engine:
            self.engine.poll_now()
        else:
            self.notify("The background engine is off in this session.", severity="warning")

    def on_unmount(self) -> None:
        self._stop_engine()

    async def action_quit(self) -> None:
        self._stop_engine()
        self.exit(0)

    # -- crashes ----------------------------------------------------------------------------------------
    def _fatal_error(self) -> None:
        """One line instead of Textual's traceback, whose locals could print a password."""
        error = self._exception
        first = (str(error).strip().splitlines() or [""])[0] if error else ""
        self.crash = clean(f"{type(error).__name__}: {first}" if error else "unknown error", limit=300)
        self._stop_engine()
        self.bell()
        self._exit_renderables.append(Text(f"mailticket: the TUI stopped on an internal error: {self.crash}"))
        self._close_messages_no_wait()


def build_app(services: Services, *, start_engine: bool = True, first_mode: str = "inboxes") -> MailTicketApp:
    """The app for these services; the CLI and the tests build it here."""
    return MailTicketApp(services, start_engine=start_engine, first_mode=first_mode)


def run_tui(services: Services, probe: threading.Thread | None = None) -> int:
    """Run the TUI until the user quits; returns the process exit code (1 after a crash, 2 for an unknown
    $MAILTICKET_TUI_MODE, one line on stderr)."""
    first_mode = os.environ.get("MAILTICKET_TUI_MODE") or "inboxes"
    if first_mode not in MailTicketApp.MODES:
        print(f"mailticket: MAILTICKET_TUI_MODE={clean(first_mode, limit=40)} is not a mode; use one of "
              f"{', '.join(MailTicketApp.MODES)}", file=sys.stderr)
        return 2
    terminal_probe.finish(probe)  # before Textual owns the terminal (widgets/inline_image.py needs it later)
    app = build_app(services, first_mode=first_mode)
    try:
        app.run()
    except Exception as exc:  # noqa: BLE001 - never a traceback with locals on the terminal
        first = (str(exc).strip().splitlines() or [""])[0]
        print(f"mailticket: the TUI stopped: {type(exc).__name__}: {clean(first, limit=300)}", file=sys.stderr)
        return 1
    if app.crash:
        return 1
    return app.return_code or 0
