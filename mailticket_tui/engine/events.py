"""Frozen events the runner emits while it works; the CLI prints them, the TUI turns them into messages."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Union


@dataclass(frozen=True)
class InboxCounters:
    read: int = 0
    processed: int = 0
    errors: int = 0
    undesired: int = 0
    deleted: int = 0
    moved: int = 0
    skipped: int = 0

    def line(self) -> str:
        return (f"read {self.read}, processed {self.processed}, errors {self.errors}, undesired {self.undesired}, "
                f"deleted {self.deleted}, moved {self.moved}")


@dataclass(frozen=True)
class PassStarted:
    inboxes: tuple[str, ...]


@dataclass(frozen=True)
class InboxStarted:
    inbox: str


@dataclass(frozen=True)
class MessageHandled:
    inbox: str
    message_row_id: int
    key: str
    status: str
    ticket_ref: str | None
    reason: str
    trace: tuple[str, ...] = ()  # the message's decision trace, one line per step


@dataclass(frozen=True)
class InboxProgress:
    """How far an inbox's pass is: sent once its work is known (done 0), then after each message handled.
    `listed` counts the messages this pass will handle (new plus retries), `errors` the pass's errors so far.
    `at` is time.monotonic() in the runner, so a consumer that sees events late or in batches still
    computes the true pace (engine/pace.py)."""

    inbox: str
    listed: int
    done: int
    errors: int
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class InboxFinished:
    inbox: str
    counters: InboxCounters
    error: str | None = None
    error_kind: str | None = None  # unreachable | busy | served (a live daemon has it) | store | ... | None
    warnings: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class PassFinished:
    results: tuple[InboxFinished, ...]


@dataclass(frozen=True)
class OutboxSent:
    """After a pass: mail sent from the outbox, or why it is waiting."""

    sent: int
    problem: str | None = None


@dataclass(frozen=True)
class TraceLine:
    inbox: str
    line: str


Event = Union[PassStarted, InboxStarted, InboxProgress, MessageHandled, InboxFinished, PassFinished, TraceLine, OutboxSent]
EventSink = Callable[[Event], None]


def ignore_events(event: Event) -> None:
    """The default sink."""
