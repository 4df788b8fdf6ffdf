"""A mail record is also its ticket's thread entry and audit entry, so processing a mail writes one row.

A processed mail's record holds its Message-ID and the ticket it fed (the thread: a reply naming that id
finds the ticket) and, in `audit`, what it changed on the ticket (who, which fields, a summary: the history).
Two tables hold the rest: `message_ref` the ids with no mail record (our own outgoing mail, and mail whose
record is gone) and `change` the operators' actions (and the audit of gone records). Records are deleted
only through delete_records, which first moves what must outlive them into those tables; readers take the
union (thread_parents_known, thread_ids, history).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from peewee import SQL, Expression

from ..store import fast_sql
from ..store.models import Change, MailMessage, MessageRef, Ticket, database_proxy

BATCH = 500


def audit_text(who: str, fields: list[str], summary: str) -> str:
    """The value of MailMessage.audit for a mail that changed its ticket."""
    return json.dumps({"who": who, "fields": fields, "summary": summary})


@dataclass(frozen=True)
class AuditEntry:
    date: dt.datetime | None
    who: str
    fields: tuple[str, ...]
    summary: str


def history(ticket_id: int) -> list[AuditEntry]:
    """The ticket's changes: operator actions and moved audits (change) and the audits its mail records
    carry, merged by date (on a tie, the mail first: an operator acts on what came in)."""
    entries = [(c.date, 1, c.id, AuditEntry(c.date, c.who, tuple(json.loads(c.fields)), c.summary))
               for c in Change.select().where(Change.ticket == ticket_id).order_by(Change.id)]
    for row_id, when, audit in (MailMessage.select(MailMessage.id, MailMessage.processed_at, MailMessage.audit)
                                .where((MailMessage.ticket == ticket_id) & (MailMessage.audit != ""))
                                .order_by(MailMessage.id).tuples()):
        data = json.loads(audit)
        entries.append((when, 0, row_id, AuditEntry(when, data["who"], tuple(data["fields"]), data["summary"])))
    entries.sort(key=lambda e: (e[0] or dt.datetime.min, e[1], e[2]))
    return [e[3] for e in entries]


def thread_ids(ticket_id: int) -> list[str]:
    """The ticket's Message-IDs in the order they joined it: its mail (records and moved refs) and ours."""
    refs = MessageRef.select(MessageRef.message_id, MessageRef.created.alias("joined")).where(
        MessageRef.ticket == ticket_id)
    mails = MailMessage.select(MailMessage.message_id, MailMessage.first_seen.alias("joined")).where(
        (MailMessage.ticket == ticket_id) & (MailMessage.message_id != "") & MailMessage.duplicate_of.is_null())
    seen: dict[str, None] = {}
    for message_id, _joined in (refs + mails).order_by(SQL("2")).tuples():  # UNION ALL, by when they joined
        seen.setdefault(message_id, None)
    return list(seen)


def thread_tickets(parents: list[str]) -> dict[str, Ticket]:
    """The tickets these Message-IDs thread to (their mail records, then moved refs and our own ids), by
    Message-ID, the oldest ticket first: one statement, its text built once per number of ids."""
    if not parents:
        return {}

    def build(param: str) -> str:
        marks = ", ".join([param] * len(parents))
        return (f'SELECT {fast_sql.columns(Ticket, "t")}, "x"."mid" FROM "ticket" AS "t" JOIN ('
                f'SELECT "message_id" AS "mid", "ticket_id" AS "tid" FROM "mail_message" '
                f'WHERE "message_id" IN ({marks}) AND "ticket_id" IS NOT NULL '
                f'UNION SELECT "message_id", "ticket_id" FROM "message_ref" WHERE "message_id" IN ({marks})'
                f') AS "x" ON "x"."tid" = "t"."id" ORDER BY "t"."id"')

    found: dict[str, Ticket] = {}
    for row in fast_sql.select(("thread_tickets", len(parents)), build, parents + parents):
        found.setdefault(row[-1], fast_sql.instance(Ticket, row))
    return found


@dataclass(frozen=True)
class ThreadHint:
    """What the runner's hold-back check already read for a mail's parents: `found` serves its processing
    when it answers every parent the parser names (a miss is asked again inside the transaction)."""

    asked: frozenset[str]
    found: dict[str, Ticket]

    def answers(self, parents: list[str]) -> dict[str, Ticket] | None:
        return self.found if self.found and self.asked.issuperset(parents) else None


def delete_records(condition: Expression) -> int:
    """Delete the mail records matching `condition`; their thread entries and audits move to message_ref and
    change first, in the same transaction as the delete."""
    with database_proxy.atomic():
        return _delete_records(condition)


def _delete_records(condition: Expression) -> int:
    rows = list(MailMessage.select(MailMessage.id, MailMessage.message_id, MailMessage.ticket, MailMessage.audit,
                                   MailMessage.processed_at, MailMessage.first_seen)
                .where(condition).order_by(MailMessage.id))
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        fed = [r for r in chunk if r.ticket_id is not None]
        fast_sql.insert_many(MessageRef, [{"message_id": r.message_id, "ticket": r.ticket_id, "created": r.first_seen}
                                          for r in fed if r.message_id], ignore=True)
        audits = []
        for r in fed:
            if r.audit:
                data = json.loads(r.audit)
                audits.append({"ticket": r.ticket_id, "who": data["who"], "date": r.processed_at or r.first_seen,
                               "fields": json.dumps(data["fields"]), "summary": data["summary"], "message": None})
        fast_sql.insert_many(Change, audits)
        MailMessage.delete().where(MailMessage.id.in_([r.id for r in chunk])).execute()
    return len(rows)
