"""A reply to a resolved or closed ticket follows the inbox's `stimuli` for that state (resolved ->
ev_reopen reopens it and says so in its history); closed_ticket_behavior decides only for states without a
valid stimulus. Every ticket class of engine/lifecycle.py, through real processing of Maildir mail."""
from __future__ import annotations

from pathlib import Path

import pytest

from mailticket_tui.engine.lifecycle import lifecycle
from mailticket_tui.engine.records import history
from mailticket_tui.services import open_services
from mailticket_tui.store.models import Ticket

from .mailgen import make_mail

# class -> the operator's stimuli that take a new ticket to a state where a reply follows the done-state rules
TO_DONE = {
    "UserRequest": ("ev_resolve",),
    "Incident": ("ev_resolve",),
    "Problem": ("ev_assign", "ev_resolve"),
    "Change": ("ev_close",),
    "RoutineChange": ("ev_close",),
    "NormalChange": ("ev_close",),
    "EmergencyChange": ("ev_close",),
}


def desk(write_config, maildir: Path, store_url: str, target_class: str, stimuli: dict[str, str],
         closed_ticket_behavior: str = "new_linked"):
    table = ", ".join(f'{k} = "{v}"' for k, v in stimuli.items())
    config = write_config(f"""
        [[inbox]]
        name = "desk"
        protocol = "maildir"
        server = "{maildir}"
        login = "support@desk.example"
        unknown_caller_behavior = "create_contact"
        target_class = "{target_class}"
        closed_ticket_behavior = "{closed_ticket_behavior}"
        stimuli = {{ {table} }}
        """)
    return open_services(str(config), store_url)


def deliver(services, maildir: Path, name: str, raw: bytes) -> None:
    (maildir / "new" / f"{name}.M1.test").write_bytes(raw)
    services.run_once()


def request_then_done(services, maildir: Path, klass: str) -> Ticket:
    deliver(services, maildir, "1", make_mail(subject="Broken", message_id="<req@acme.example>"))
    (ticket,) = Ticket.select()
    for stimulus in TO_DONE[klass]:
        services.ticket_stimulus(ticket.ref, stimulus, who="Olga Operator")
    ticket = Ticket.get_by_id(ticket.id)
    assert ticket.status in lifecycle(klass).done_states
    return ticket


@pytest.mark.parametrize("klass", list(TO_DONE))
def test_a_reply_applies_the_stimulus_of_the_done_state(klass, write_config, maildir, store_url) -> None:
    done = lifecycle(klass).done_states[0]
    services = desk(write_config, maildir, store_url, klass, {done: "ev_reopen"})
    ticket = request_then_done(services, maildir, klass)
    deliver(services, maildir, "2", make_mail(subject="Re: Broken", body="Still broken.\n",
                                              message_id="<again@acme.example>", in_reply_to="<req@acme.example>"))
    assert Ticket.select().count() == 1, "no new linked ticket: the stimulus wins"
    ticket = Ticket.get_by_id(ticket.id)
    assert ticket.status == "assigned" and ticket.closed is None
    last = history(ticket.id)[-1]
    assert list(last.fields) == ["public_log", "status"]
    assert f"ev_reopen: {done} -> assigned" in last.summary and last.who == "alice@acme.example"
    assert last.summary.startswith("updated-by-mail")
    detail = services.get_ticket(ticket.ref)
    assert detail.case_log[0].text == "Still broken." and detail.summary.status == "assigned"


@pytest.mark.parametrize("klass", list(TO_DONE))
def test_without_a_stimulus_for_the_state_closed_ticket_behavior_decides(klass, write_config, maildir,
                                                                           store_url) -> None:
    services = desk(write_config, maildir, store_url, klass, {"pending": "ev_reopen"})
    ticket = request_then_done(services, maildir, klass)
    deliver(services, maildir, "2", make_mail(subject="Re: Broken", message_id="<again@acme.example>",
                                              in_reply_to="<req@acme.example>"))
    old, new = Ticket.select().order_by(Ticket.id)
    assert old.id == ticket.id and old.status == ticket.status
    assert new.parent_id == old.id and new.status == "new" and new.klass == klass


def test_a_stimulus_the_lifecycle_lacks_falls_back_to_closed_ticket_behavior(write_config, maildir,
                                                                             store_url) -> None:
    services = desk(write_config, maildir, store_url, "UserRequest", {"resolved": "ev_assign"}, "reject")
    ticket = request_then_done(services, maildir, "UserRequest")
    deliver(services, maildir, "2", make_mail(subject="Re: Broken", message_id="<again@acme.example>",
                                              in_reply_to="<req@acme.example>"))
    assert Ticket.get_by_id(ticket.id).status == "resolved" and Ticket.select().count() == 1
    (row,) = services.list_messages(status="error")
    assert row.error == f"{ticket.ref} is resolved: replies are rejected"
    trace = services.message_detail(row.id)[1]
    assert "stimuli[resolved] = ev_assign is not a transition of UserRequest" in trace


def test_a_closed_request_reopens_when_its_state_says_so(write_config, maildir, store_url) -> None:
    services = desk(write_config, maildir, store_url, "UserRequest", {"closed": "ev_reopen"})
    deliver(services, maildir, "1", make_mail(subject="Broken", message_id="<req@acme.example>"))
    ref = Ticket.get().ref
    services.ticket_stimulus(ref, "ev_close", who="olga")
    deliver(services, maildir, "2", make_mail(subject="Re: Broken", message_id="<again@acme.example>",
                                              references="<req@acme.example>"))
    ticket = Ticket.get(Ticket.ref == ref)
    assert (ticket.status, ticket.closed, Ticket.select().count()) == ("assigned", None, 1)


def test_the_demo_settings_reopen_a_resolved_ticket(maildir, store_url, tmp_path) -> None:
    demo = (Path(__file__).resolve().parents[1] / "data" / "demo.toml").read_text(encoding="utf-8")
    config = tmp_path / "demo.toml"
    config.write_text(demo.replace("@DEMO_MAILDIR@", str(maildir)), encoding="utf-8")
    services = open_services(str(config), store_url)
    deliver(services, maildir, "1", make_mail(subject="Broken", message_id="<req@acme.example>"))
    ref = Ticket.get().ref
    services.ticket_stimulus(ref, "ev_resolve", who="olga")
    deliver(services, maildir, "2", make_mail(subject=f"Re: [{ref}] Broken", message_id="<again@acme.example>"))
    assert Ticket.get(Ticket.ref == ref).status == "assigned" and Ticket.select().count() == 1
