"""Nothing doubled in an operator's hands: whatever an operator does on the way (mail failing on purpose,
a setting that rejects unknown senders then fixed, resets of errors or of processed mail, ignores, runs
killed in the middle), resetting what is left and running again ends with the same tickets, threads and
case logs as one clean run of the same mailbox.

The mailbox is a Maildir with threads of a request and replies; some replies arrive before their request.
Hypothesis draws the operator sequences (derandomized: the same sequences on every machine).
"""
from __future__ import annotations

import itertools
import os
import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

from mailticket_tui.engine import faults, process
from mailticket_tui.services import Services, open_services
from mailticket_tui.store.models import CaseLogEntry, MailMessage, Ticket

from .conftest import make_maildir
from .mailgen import make_mail

THREADS = 4


@dataclass(frozen=True)
class Mail:
    name: str  # Maildir file name
    message_id: str
    raw: bytes


def mailbox(out_of_order: tuple[int, ...]) -> list[Mail]:
    """THREADS threads: a request and two replies each (the second reply quotes the first); in the
    threads listed in out_of_order the first reply is delivered before its request."""
    mails: list[Mail] = []
    for t in range(THREADS):
        sender = f"Customer {t} <user{t}@acme.example>"
        request = f"<req-{t}@acme.example>"
        reply1, reply2 = f"<re1-{t}@acme.example>", f"<re2-{t}@acme.example>"
        thread = [
            Mail("", request, make_mail(sender=sender, subject=f"Thread {t}", message_id=request,
                                        body=f"Request number {t}: the printer is broken.\n")),
            Mail("", reply1, make_mail(sender=sender, subject=f"Re: Thread {t}", message_id=reply1,
                                       in_reply_to=request, references=request,
                                       body=f"First follow-up of thread {t}.\n")),
            Mail("", reply2, make_mail(sender=sender, subject=f"Re: Thread {t}", message_id=reply2,
                                       in_reply_to=reply1, references=f"{request} {reply1}",
                                       body=f"Second follow-up of thread {t}.\n")),
        ]
        if t in out_of_order:
            thread[0], thread[1] = thread[1], thread[0]
        mails += thread
    return [replace(m, name=f"{1700000000 + i}.M{i}P1.test") for i, m in enumerate(mails)]


def deliver(maildir: Path, mails: list[Mail]) -> None:
    """Delivery order is the order of the list (Maildir arrival order is the file time, then the name)."""
    for i, mail in enumerate(mails):
        path = maildir / "new" / mail.name
        path.write_bytes(mail.raw)
        os.utime(path, (1700000000 + i, 1700000000 + i))


def open_desk(root: Path, maildir: Path) -> Services:
    config = root / "mailticket.toml"
    config.write_text(f'[[inbox]]\nname = "desk"\nprotocol = "maildir"\nserver = "{maildir}"\n'
                      'unknown_caller_behavior = "create_contact"\n', encoding="utf-8")
    return open_services(str(config), f"sqlite:///{root / 'store.db'}")


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def outcome() -> dict:
    """Tickets by title with caller, description and case log (as a multiset: an operator may retry a
    later reply before an earlier one), and each mail's ticket."""
    tickets = {}
    for ticket in Ticket.select().order_by(Ticket.id):
        log = sorted(_text(e.html) for e in CaseLogEntry.select().where(CaseLogEntry.ticket == ticket))
        assert ticket.title not in tickets, f"two tickets titled {ticket.title!r}"
        tickets[ticket.title] = (ticket.caller.email if ticket.caller_id else None, _text(ticket.description), log)
    threads = {m.message_id: (m.status, m.ticket.title if m.ticket_id else None)
               for m in MailMessage.select().order_by(MailMessage.id)}
    return {"tickets": tickets, "threads": threads}


class Killed(BaseException):
    """A run dying at a fault point (in-process: nothing after it runs, transactions roll back)."""


def run(services: Services, fail: frozenset[str] = frozenset(), kill: tuple[str, int] | None = None,
        monkeypatch=None) -> None:
    """One pass; mails whose Message-ID is in `fail` fail on purpose; `kill` = (fault point, n-th hit)."""
    real_steps = process.run_steps

    def failing_steps(ctx):
        if f"<{ctx.parsed.message_id}>" in fail:
            raise RuntimeError("failed on purpose")
        return real_steps(ctx)

    hits = itertools.count(1)

    def fault(point: str) -> None:
        if kill and point == kill[0] and next(hits) == kill[1]:
            raise Killed(point)

    with monkeypatch.context() as patch:
        patch.setattr(process, "run_steps", failing_steps)
        patch.setattr(faults, "hit", fault)
        try:
            services.run_once()
        except Killed:
            pass


def reset_where(services: Services, statuses: tuple[str, ...]) -> None:
    ids = [m.id for m in MailMessage.select(MailMessage.id).where(MailMessage.status.in_(statuses))
           .order_by(MailMessage.id)]
    if ids:
        services.reset_messages(ids)


MESSAGE_IDS = [f"<{kind}-{t}@acme.example>" for t in range(THREADS) for kind in ("req", "re1", "re2")]
actions = st.one_of(
    st.tuples(st.just("run"), st.frozensets(st.sampled_from(MESSAGE_IDS), max_size=5),
              st.none() | st.tuples(st.sampled_from(["before_commit", "after_commit", "after_dispose"]),
                                    st.integers(1, 8))),
    st.tuples(st.just("reject_unknown_senders")),
    st.tuples(st.just("reset_errors")),
    st.tuples(st.just("reset"), st.frozensets(st.sampled_from(MESSAGE_IDS), max_size=4)),
    st.tuples(st.just("ignore"), st.frozensets(st.sampled_from(MESSAGE_IDS), max_size=3)),
)


def apply(services: Services, action: tuple, monkeypatch) -> None:
    kind = action[0]
    event(f"action {kind}" + (f", killed at {action[2][0]}" if kind == "run" and action[2] else ""))
    if kind == "run":
        run(services, action[1], action[2], monkeypatch)
    elif kind == "reject_unknown_senders":  # a wrong setting, one pass, then the admin fixes it
        inbox = services.inbox_settings("desk")
        services.save_inbox(replace(inbox, unknown_caller_behavior="reject_email"))
        services.reload()
        run(services, monkeypatch=monkeypatch)
        services.save_inbox(inbox)
        services.reload()
    elif kind == "reset_errors":
        reset_where(services, ("error",))
    else:
        ids = [m.id for m in MailMessage.select(MailMessage.id).where(
            MailMessage.message_id.in_([mid.strip("<>") for mid in action[1]])).order_by(MailMessage.id)]
        if ids:
            (services.reset_messages if kind == "reset" else services.ignore_messages)(ids)


def converge(services: Services, monkeypatch) -> None:
    """What an operator does at the end: retry everything set aside, until nothing changes."""
    for _ in range(3):
        reset_where(services, ("error", "ignored"))
        run(services, monkeypatch=monkeypatch)


def clean_outcome(out_of_order: tuple[int, ...], monkeypatch) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        maildir = make_maildir(root / "Maildir")
        deliver(maildir, mailbox(out_of_order))
        services = open_desk(root, maildir)
        run(services, monkeypatch=monkeypatch)
        return outcome()


def test_a_clean_run_threads_every_reply_even_out_of_order(monkeypatch) -> None:
    result = clean_outcome((0, 2), monkeypatch)
    assert sorted(result["tickets"]) == [f"Thread {t}" for t in range(THREADS)]
    assert all(status == "processed" for status, _ in result["threads"].values())
    assert all(len(log) == 2 for _caller, _description, log in result["tickets"].values())
    assert result["threads"]["re1-0@acme.example"] == ("processed", "Thread 0")


@settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(out_of_order=st.sets(st.integers(0, THREADS - 1), max_size=2).map(lambda s: tuple(sorted(s))),
       sequence=st.lists(actions, min_size=1, max_size=6))
def test_any_operator_sequence_ends_like_one_clean_run(out_of_order, sequence, monkeypatch) -> None:
    expected = clean_outcome(out_of_order, monkeypatch)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        maildir = make_maildir(root / "Maildir")
        deliver(maildir, mailbox(out_of_order))
        services = open_desk(root, maildir)
        for action in sequence:
            apply(services, action, monkeypatch)
        converge(services, monkeypatch)
        assert outcome() == expected, f"sequence {sequence} with out-of-order threads {out_of_order}"


@pytest.mark.parametrize("storage", ["keep", "delete"])
def test_fix_the_setting_then_reset_all_errors(tmp_path: Path, monkeypatch, storage: str) -> None:
    """The everyday recovery: every mail failed (unknown senders rejected), the admin fixes the setting and
    resets all errors in one go: replies are retried after their requests, never as tickets of their own."""
    expected = clean_outcome((1,), monkeypatch)
    maildir = make_maildir(tmp_path / "Maildir")
    deliver(maildir, mailbox((1,)))
    services = open_desk(tmp_path, maildir)
    inbox = services.inbox_settings("desk")
    services.save_inbox(replace(inbox, unknown_caller_behavior="reject_email", email_storage=storage))
    services.reload()
    run(services, monkeypatch=monkeypatch)
    assert {m.status for m in MailMessage.select()} == {"error"}
    assert Ticket.select().count() == 0
    services.save_inbox(replace(inbox, email_storage=storage))
    services.reload()
    reset_where(services, ("error",))
    run(services, monkeypatch=monkeypatch)
    assert outcome() == expected
    left = sorted(p.name for p in (maildir / "new").iterdir()) + sorted(p.name for p in (maildir / "cur").iterdir())
    assert len(left) == (len(MESSAGE_IDS) if storage == "keep" else 0)
