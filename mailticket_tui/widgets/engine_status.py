"""The status bar every mode shows: the background engine's state and the last pass of each inbox.

The app owns the facts (`MailTicketApp.engine_view`, replaced on every coalesced engine report, seeded
with each inbox's last pass from the store at start); this widget only watches and renders them. Inbox
names and server errors go through safe_text. `describe_event` writes the engine's event log, where a
message is `#<store id>` with its server key labelled (widgets/message_ref.py).

While a pass works through an inbox, the second line gives way to a progress bar (done/listed, errors,
rate, ETA from engine/pace.py). The bar is mounted only then, so an idle status bar looks as it did before
and runs no timer; it goes as soon as the inbox is finished or the pass ends.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import ProgressBar, Static

from ..engine.events import (
    Event,
    InboxCounters,
    InboxFinished,
    InboxProgress,
    InboxStarted,
    MessageHandled,
    OutboxSent,
    PassFinished,
    PassStarted,
    TraceLine,
)
from ..engine.pace import progress_text
from .message_ref import message_label
from .safe_text import clean

if TYPE_CHECKING:
    from ..engine.background import EngineState  # the background engine's modules load in its worker


@dataclass(frozen=True)
class InboxPass:
    """The last pass of one inbox, as the status bar shows it."""

    inbox: str
    at: float
    line: str
    error: str = ""


@dataclass(frozen=True)
class EngineView:
    """Everything the status bar renders; `state` None means the engine was not started."""

    state: EngineState | None = None
    current: str = ""  # inbox being processed right now
    inboxes: tuple[InboxPass, ...] = field(default_factory=tuple)
    outbox_problem: str = ""  # why mail waits in the outbox (OutboxSent.problem), until a pass says otherwise
    progress: tuple[InboxProgress, InboxProgress] | None = None  # the current inbox's first and latest report

    @property
    def shows_progress(self) -> bool:
        """A bar only while a pass runs: a pass that failed as a whole never sends the InboxFinished."""
        return self.progress is not None and self.state is not None and self.state.state == "running"

    def with_progress(self, event: InboxProgress) -> "EngineView":
        """Keep the inbox's first report (the rate is measured from it) and its latest."""
        first = self.progress[0] if self.progress and self.progress[0].inbox == event.inbox else event
        return replace(self, progress=(first, event))

    def with_pass(self, result: InboxPass) -> "EngineView":
        others = tuple(p for p in self.inboxes if p.inbox != result.inbox)
        return replace(self, current="", progress=None,
                       inboxes=tuple(sorted((*others, result), key=lambda p: p.inbox)))

    def with_stored(self, stored: "list[InboxPass]", names: "set[str] | None" = None) -> "EngineView":
        """Merge passes read from the store: a pass seen live is kept unless the stored one is newer;
        with `names`, inboxes not in it (deleted, renamed) are dropped."""
        by_name = {p.inbox: p for p in self.inboxes}
        for item in stored:
            known = by_name.get(item.inbox)
            if known is None or item.at > known.at + 1:  # +1: the store keeps whole seconds
                by_name[item.inbox] = item
        if names is not None:
            by_name = {n: p for n, p in by_name.items() if n in names}
        return replace(self, inboxes=tuple(sorted(by_name.values(), key=lambda p: p.inbox)))


def short_counters(c: InboxCounters) -> str:
    """The counters that matter at a glance; zeros of the rarer ones left out (the status bar is narrow)."""
    text = f"{c.read} read, {c.processed} ok, {c.errors} err"
    for label, value in (("undesired", c.undesired), ("deleted", c.deleted), ("moved", c.moved)):
        if value:
            text += f", {value} {label}"
    return text


def _clock(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch))


def _when(epoch: float, now: float | None = None) -> str:
    """HH:MM:SS today, YYYY-MM-DD HH:MM on another day (a pass read from the store may be old)."""
    day = time.localtime(time.time() if now is None else now)[:3]
    return _clock(epoch) if time.localtime(epoch)[:3] == day else time.strftime("%Y-%m-%d %H:%M",
                                                                                  time.localtime(epoch))


def stored_pass(info) -> InboxPass | None:
    """An InboxInfo's last finished pass (services.list_inboxes, times in naive UTC) as the status bar shows
    it; None when no pass ever finished. A failed pass is dated by its attempt, a good one by its success:
    an attempt alone may be a pass still running (its counters are the previous pass's)."""
    when = info.last_attempt if info.last_error else info.last_success
    if not when:
        return None
    try:
        at = dt.datetime.fromisoformat(when).replace(tzinfo=dt.timezone.utc).timestamp()
    except ValueError:
        return None
    names = {f.name for f in fields(InboxCounters)}
    counters = InboxCounters(**{k: v for k, v in (info.last_counters or {}).items()
                                if k in names and isinstance(v, int)})
    return InboxPass(info.name, at, short_counters(counters), info.last_error or "")


def _no_protocol(inbox: str) -> str:
    return ""


def describe_event(event: Event, now: float | None = None,
                   protocol_of: Callable[[str], str] = _no_protocol) -> str:
    """One line of the engine's event log (raw: the caller cleans it for display). `protocol_of(inbox)`
    labels a message's server key (uid, uidl, file); without it the key is just `key`. Never raises: an
    event type this TUI does not know (a newer engine) is shown by its repr."""
    stamp = _clock(time.time() if now is None else now)
    try:
        return _describe(event, stamp, protocol_of)
    except Exception:  # noqa: BLE001 - a broken repr or field must not take the log (or the app) down
        return f"{stamp} unreadable event {type(event).__name__}"


def _describe(event: Event, stamp: str, protocol_of: Callable[[str], str]) -> str:
    if isinstance(event, TraceLine):
        return f"{stamp} {event.inbox}: {event.line}"
    if isinstance(event, MessageHandled):
        ref = event.ticket_ref or ""
        label = message_label(event.message_row_id, protocol_of(event.inbox), event.key)
        return f"{stamp} {event.inbox}: message {label} -> {event.status} {ref} {event.reason}"
    if isinstance(event, InboxFinished):
        error = f"; ERROR {event.error}" if event.error else ""
        return f"{stamp} {event.inbox}: finished: {event.counters.line()}{error}"
    if isinstance(event, InboxStarted):
        return f"{stamp} {event.inbox}: started"
    if isinstance(event, PassStarted):
        return f"{stamp} pass started: {', '.join(event.inboxes) or 'no active inbox'}"
    if isinstance(event, PassFinished):
        return f"{stamp} pass finished: {len(event.results)} inbox(es)"
    if isinstance(event, OutboxSent):
        problem = f"; waiting: {event.problem}" if event.problem else ""
        return f"{stamp} outbox: sent {event.sent}{problem}"
    return f"{stamp} {event!r}"


def render_view(view: EngineView) -> Text:
    """Two lines: engine state, then one `inbox: when counters | error` item per inbox."""
    lines = Text(no_wrap=True, overflow="ellipsis", end="")
    lines.append_text(render_head(view))
    lines.append("\n")
    if not view.inboxes:
        lines.append("no pass yet", style="dim")
    for index, item in enumerate(view.inboxes):
        if index:
            lines.append(" | ", style="dim")
        lines.append(clean(item.inbox, limit=30), style="bold")
        lines.append(f" {_when(item.at)} ")
        if item.error:  # shorter when other inboxes share the line: one failing inbox must not hide them
            lines.append(clean(item.error, limit=120 if len(view.inboxes) == 1 else 50), style="red")
        else:
            lines.append(item.line)
    return lines


def render_head(view: EngineView) -> Text:
    """The first line: the engine's state, the inbox at work, the next poll, the passes, the last error."""
    state = view.state
    if state is None:
        head = Text("engine off (started with the engine disabled)", style="dim")
    else:
        styles = {"running": "bold green", "waiting": "green", "paused": "bold yellow", "stopped": "red"}
        style = styles.get(state.state, "")
        head = Text.assemble(("engine ", "bold"), (state.state, style))
        if state.state == "running" and view.current:
            head.append(f" · {clean(view.current, limit=40)}")
        if state.next_poll:
            head.append(f" · next poll {_clock(state.next_poll)}")
        head.append(f" · passes {state.passes}")
    errors = [e for e in (state.last_error if state else "", view.outbox_problem and f"outbox: {view.outbox_problem}")
              if e]
    if errors:
        head.append(" · last error: ", style="bold red")
        head.append(clean("; ".join(errors), limit=200))
    return head


class PassProgress(Horizontal):
    """The second line while an inbox is worked through: Textual's bar, then done/listed, errors, rate, ETA."""

    DEFAULT_CSS = """
    PassProgress {
        height: 1;
    }
    PassProgress Bar {
        width: 24;
    }
    PassProgress > .pass-progress-text {
        width: 1fr;
        margin-left: 1;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.bar = ProgressBar(show_eta=False)
        self.text = Static(classes="pass-progress-text", markup=False)

    def compose(self) -> ComposeResult:
        yield self.bar
        yield self.text

    def show(self, first: InboxProgress, last: InboxProgress) -> None:
        """Called per coalesced batch; the sizes are fixed, so no layout pass."""
        self.bar.update(total=last.listed, progress=last.done)
        self.text.update(progress_text(first, last), layout=False)


class EngineStatusBar(Widget):
    """Watches the app's engine_view and shows it; the same facts on every screen."""

    DEFAULT_CSS = """
    EngineStatusBar {
        height: 2;
        padding: 0 1;
        background: $panel;
        color: $text;
    }
    EngineStatusBar > .engine-status-text {
        height: 2;
    }
    EngineStatusBar.-progress > .engine-status-text {
        height: 1;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.text = Static(classes="engine-status-text")
        self.progress: PassProgress | None = None  # mounted only while an inbox is being worked through
        self._head: Text | None = None  # the first line as shown with a bar

    def compose(self) -> ComposeResult:
        yield self.text

    def on_mount(self) -> None:
        self.watch(self.app, "engine_view", self._show, init=True)

    def _show(self, view: EngineView) -> None:
        if view.shows_progress and view.progress:
            head = Text(no_wrap=True, overflow="ellipsis", end="").append_text(render_head(view))
            if head != self._head:  # the same line through most batches of a pass
                self._head = head
                self.text.update(head)
            if self.progress is None:
                self.progress = PassProgress()
                self.mount(self.progress)
            self.progress.show(*view.progress)
        else:
            if self.progress is not None:
                self.progress.remove()
                self.progress = None
            self._head = None
            self.text.update(render_view(view))
        self.set_class(view.shows_progress, "-progress")
