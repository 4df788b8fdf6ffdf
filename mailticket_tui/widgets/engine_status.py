"""The status bar every mode shows: the background engine's state and the last pass of each inbox.

The app owns the facts (`MailTicketApp.engine_view`, replaced on every coalesced engine report); this
widget only watches and renders them. Inbox names and server errors go through safe_text.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from rich.text import Text
from textual.widgets import Static

from ..engine.background import EngineState
from ..engine.events import (
    Event,
    InboxCounters,
    InboxFinished,
    InboxStarted,
    MessageHandled,
    PassFinished,
    PassStarted,
    TraceLine,
)
from .safe_text import clean


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

    def with_pass(self, result: InboxPass) -> "EngineView":
        others = tuple(p for p in self.inboxes if p.inbox != result.inbox)
        return EngineView(self.state, "", tuple(sorted((*others, result), key=lambda p: p.inbox)))


def short_counters(c: InboxCounters) -> str:
    """The counters that matter at a glance; zeros of the rarer ones left out (the status bar is narrow)."""
    text = f"{c.read} read, {c.processed} ok, {c.errors} err"
    for label, value in (("undesired", c.undesired), ("deleted", c.deleted), ("moved", c.moved)):
        if value:
            text += f", {value} {label}"
    return text


def _clock(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch))


def describe_event(event: Event, now: float | None = None) -> str:
    """One line of the engine's event log (raw: the caller cleans it for display)."""
    stamp = _clock(time.time() if now is None else now)
    if isinstance(event, TraceLine):
        return f"{stamp} {event.inbox}: {event.line}"
    if isinstance(event, MessageHandled):
        ref = event.ticket_ref or ""
        return f"{stamp} {event.inbox}: message {event.key} -> {event.status} {ref} {event.reason}"
    if isinstance(event, InboxFinished):
        error = f"; ERROR {event.error}" if event.error else ""
        return f"{stamp} {event.inbox}: finished: {event.counters.line()}{error}"
    if isinstance(event, InboxStarted):
        return f"{stamp} {event.inbox}: started"
    if isinstance(event, PassStarted):
        return f"{stamp} pass started: {', '.join(event.inboxes) or 'no active inbox'}"
    if isinstance(event, PassFinished):
        return f"{stamp} pass finished: {len(event.results)} inbox(es)"
    return f"{stamp} {event!r}"


def render_view(view: EngineView) -> Text:
    """Two lines: engine state, then one `inbox: when counters | error` item per inbox."""
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
        if state.last_error:
            head.append(" · last error: ", style="bold red")
            head.append(clean(state.last_error, limit=200))
    lines = Text(no_wrap=True, overflow="ellipsis", end="")
    lines.append_text(head)
    lines.append("\n")
    if not view.inboxes:
        lines.append("no pass yet", style="dim")
    for index, item in enumerate(view.inboxes):
        if index:
            lines.append(" | ", style="dim")
        lines.append(clean(item.inbox, limit=30), style="bold")
        lines.append(f" {_clock(item.at)} ")
        if item.error:
            lines.append(clean(item.error, limit=120), style="red")
        else:
            lines.append(item.line)
    return lines


class EngineStatusBar(Static):
    """Watches the app's engine_view and shows it; the same facts on every screen."""

    DEFAULT_CSS = """
    EngineStatusBar {
        height: 2;
        padding: 0 1;
        background: $panel;
        color: $text;
    }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "engine_view", self._show, init=True)

    def _show(self, view: EngineView) -> None:
        self.update(render_view(view))
