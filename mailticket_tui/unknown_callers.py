"""The first-run rescue: mails rejected as "unknown caller" (unknown_caller_behavior = reject_email) and the
persons they wait for, created as the engine would have created them, so the mails can be retried.

The plan (which mails, which addresses) is what the TUI's confirmations count; the creation skips an address
someone added meanwhile, so pressing twice never makes a second person. Resetting the mails is the caller's
(services.create_callers_and_retry, through reset_messages). Never imports textual or rich.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .directory import PersonInfo, person_infos
from .engine.parse import parse_message
from .engine.people import create_person, known_addresses
from .settings import Settings
from .store.blobs import read_blob
from .store.models import Inbox, MailMessage, database_proxy


@dataclass(frozen=True)
class CallerPlan:
    """Mails rejected as unknown callers, and the addresses among their senders still not in the directory."""

    messages: tuple[int, ...]
    addresses: tuple[str, ...]
    sources: tuple[int, ...] = ()  # per address, the first mail from it

    def line(self) -> str:
        persons = f"{len(self.addresses)} person{'s' * (len(self.addresses) != 1)}"
        mails = f"{len(self.messages)} mail{'s' * (len(self.messages) != 1)}"
        return f"create {persons} and retry {mails}"


def _sender(raw: bytes | None, fallback: str) -> tuple[str, str]:
    """(address, display name) of a stored mail's sender, read from its headers as the engine reads them."""
    if raw:
        raw = bytes(raw)  # a memoryview on PostgreSQL
        end = min((i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0), default=len(raw))
        parsed = parse_message(raw[:end] + b"\r\n\r\n")
        if parsed.from_ and parsed.from_.email:
            return parsed.from_.email.strip().lower(), parsed.from_.name or ""
    return fallback.strip().lower(), ""


def caller_plan(is_unknown_caller: Callable[[str], bool], ids: list[int] | None = None,
                inbox: str = "") -> CallerPlan:
    """Of these messages (or of every message of `inbox`), those in error because their sender is unknown
    (`is_unknown_caller(error)`), and the distinct sender addresses still missing from the directory, in order
    of first appearance, each with the first mail that came from it (its display name names the person)."""
    query = (MailMessage.select(MailMessage.id, MailMessage.from_addr, MailMessage.error)
             .where(MailMessage.status == "error").order_by(MailMessage.id))
    if ids is not None:
        rows = [r for start in range(0, len(ids), 500) for r in query.where(MailMessage.id.in_(ids[start:start + 500]))]
        rows.sort(key=lambda r: r.id)
    else:
        rows = list(query.join(Inbox).where(Inbox.name == inbox))
    messages = [r for r in rows if is_unknown_caller(r.error)]
    first: dict[str, int] = {}
    for row in messages:
        first.setdefault((row.from_addr or "").strip().lower(), row.id)
    first.pop("", None)
    known = known_addresses(list(first))
    missing = [e for e in first if e not in known]
    return CallerPlan(tuple(r.id for r in messages), tuple(missing), tuple(first[e] for e in missing))


def create_callers(plan: CallerPlan, settings: Settings) -> list[PersonInfo]:
    """Create the persons of `plan` as the engine would have (names from the display name of the mail's From,
    the inbox's caller_default_values, org from [org_domains] or the organisations' domains), one each, in one
    transaction. An address someone created meanwhile is skipped, never doubled."""
    created: list[int] = []
    with database_proxy.atomic():
        wanted = set(plan.addresses) - known_addresses(list(plan.addresses))
        for start in range(0, len(plan.sources), 500):
            rows = (MailMessage.select(MailMessage, Inbox.name).join(Inbox)
                    .where(MailMessage.id.in_(list(plan.sources[start:start + 500]))).order_by(MailMessage.id))
            for row in rows:
                email = (row.from_addr or "").strip().lower()
                if email not in wanted:
                    continue
                address, display = _sender(read_blob(row.raw_id) if row.raw_id else None, email)
                inbox = settings.inbox(row.inbox.name)
                defaults = dict(inbox.caller_default_values) if inbox else {}
                person, _notes = create_person(email, display if address == email else "", defaults,
                                               settings.org_domains)
                created.append(person.id)
                wanted.discard(email)
    return person_infos(created)
