"""Frozen events the runner emits while it works; the CLI prints them, the TUI turns them into messages."""
from __future__ import annotations

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
class InboxFinished:
    inbox: str
    counters: InboxCounters
    error: str | None = None
    error_kind: str | None = None  # unreachable | busy | store | None
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


Event = Union[PassStarted, InboxStarted, MessageHandled, InboxFinished, PassFinished, TraceLine, OutboxSent]
EventSink = Callable[[Event], None]


def ignore_events(event: Event) -> None:
    """The default sink."""
