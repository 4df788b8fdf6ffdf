"""The context every processing step reads and enriches, and the outcome that ends the step list."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...settings import InboxSettings, Settings
from ...store.models import Person, Ticket


@dataclass(frozen=True)
class Outcome:
    """How processing of one message ended.

    action: create | update | reject | skip; status: the message's new state (processed, error, undesired,
    ignored); reason: one line for the operator.
    """

    action: str
    status: str
    reason: str
    ticket: Ticket | None = None
    delete_from_server: bool = False


@dataclass
class Context:
    settings: Settings
    inbox: InboxSettings
    inbox_id: int | None
    parsed: Any  # engine.parse.ParsedMail
    dry_run: bool = False
    message_row: Any = None  # store.models.MailMessage when processing for real
    fed_ticket: Ticket | None = None  # the ticket this message already fed before a reset
    thread_tickets: dict[str, Ticket] | None = None  # stored Message-ID -> ticket for its references; None: not read
    callers: Any = None  # engine.people.CallerCache of the pass, when there is one
    trace: list[str] = field(default_factory=list)
    caller: Person | None = None
    caller_to_create: bool = False
    related: Ticket | None = None
    parent: Ticket | None = None  # a closed ticket the new one is linked to
    private_reply: bool = False
    reopen: bool = False
    attachments: list = field(default_factory=list)  # engine.attachments.KeptAttachment
    planned_mail: list = field(default_factory=list)  # engine.outbound.PlannedMail, sent after the commit
    # unsaved rows pointing at the message's record (attachments): written once the record has its id
    after_record: list = field(default_factory=list)

    def note(self, line: str) -> None:
        self.trace.append(line)

    @property
    def sender_email(self) -> str:
        sender = self.parsed.from_
        return sender.email.strip().lower() if sender else ""

    @property
    def sender_name(self) -> str:
        sender = self.parsed.from_
        return sender.name if sender else ""
