"""People mode (key 5): search, edit in the person form, create, (de)activate; and the first-run path from a
mail rejected as an unknown caller: "create this person and retry" in the message detail, and for every such
mail of an inbox from the Inboxes mode (with a confirmation that counts). The retries go through the engine on
a real Maildir inbox: one ticket per mail, one person per sender, nothing doubled.
"""
from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Static

from mailticket_tui.app import build_app
from mailticket_tui.screens.confirm import ConfirmScreen
from mailticket_tui.screens.inboxes import InboxesScreen
from mailticket_tui.screens.message_detail import MessageDetailScreen
from mailticket_tui.screens.people import PeopleScreen, people_query
from mailticket_tui.screens.person_form import PersonFormScreen
from mailticket_tui.store.models import MailMessage, Organization, Person, Ticket

from .mailgen import make_mail
from .test_tui_support import make_maildir, open_store, settle


def test_search_line_maps_to_the_directory_query() -> None:
    q = people_query("status:inactive org:acme ada lovelace")
    assert (q.search, q.status, q.org, q.offset) == ("ada lovelace", "inactive", "acme", 0)


def directory_store(tmp_path: Path):
    services = open_store(tmp_path, "")
    acme = Organization.create(name="Acme")
    for n in range(1, 131):
        Person.create(email=f"user{n:03d}@acme.example", first_name="User", name=f"N{n:03d}", org=acme)
    Person.create(email="ada@acme.example", first_name="Ada", name="Lovelace", org=acme)
    return services


async def test_people_mode_searches_edits_creates_and_deactivates(tmp_path: Path) -> None:
    app = build_app(directory_store(tmp_path), start_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PeopleScreen)
        assert screen.table.row_count == 100 and "persons 1-100 (more: ])" in str(
            screen.query_one("#people-info", Static).visual)
        screen.query_one("#people-search", Input).value = "lovelace"
        await pilot.press("slash", "enter")
        await settle(pilot)
        ada = Person.get(Person.email == "ada@acme.example")
        assert screen.table.row_keys == [str(ada.id)]

        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, PersonFormScreen)
        assert form.query_one("#person-org", Input).value == "Acme"
        form.query_one("#person-phone", Input).value = "+44 20"
        form.query_one("#person-extra_emails", Input).value = "a.lovelace@acme.example"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        ada = Person.get_by_id(ada.id)
        assert ada.phone == "+44 20" and [e.email for e in ada.extra_emails] == ["a.lovelace@acme.example"]

        await pilot.press("d")
        await settle(pilot)
        assert Person.get_by_id(ada.id).active is False
        screen.query_one("#people-search", Input).value = "status:inactive"
        await pilot.press("slash", "enter")
        await settle(pilot)
        assert screen.table.row_keys == [str(ada.id)]

        # a new person: a bad address is said in the form, which stays open
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, PersonFormScreen)
        form.query_one("#person-email", Input).value = "grace at navy"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form and "is not one mail address" in str(form.query_one("#person-problem").visual)
        form.query_one("#person-email", Input).value = "Grace.Hopper@navy.example"
        await pilot.press("ctrl+s")
        await settle(pilot)
        grace = Person.get(Person.email == "grace.hopper@navy.example")
        assert (grace.first_name, grace.name, grace.active) == ("Grace", "Hopper", True)

        # an address someone else has: refused in one line, nothing written
        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one("#person-email", Input).value = "a.lovelace@acme.example"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert Person.select().where(Person.email == "a.lovelace@acme.example").count() == 0
        assert any("already belongs to person" in str(n.message) for n in app._notifications)


def rejecting_desk(tmp_path: Path, senders: list[str]):
    """A Maildir inbox with reject_email, its mails delivered and passed once: all in error."""
    maildir = make_maildir(tmp_path / "M")
    services = open_store(tmp_path, f"""
        [[inbox]]
        name = "desk"
        protocol = "maildir"
        server = "{maildir}"
        unknown_caller_behavior = "reject_email"
        caller_default_values = {{ phone = "n/a" }}
        """)
    for n, sender in enumerate(senders):
        (maildir / "new" / f"{n}.M{n}.test").write_bytes(make_mail(sender=sender, subject=f"mail {n}"))
    services.run_once()
    assert [m.status for m in MailMessage.select()] == ["error"] * len(senders)
    return services


async def test_message_detail_creates_the_person_and_retries_the_mail(tmp_path: Path) -> None:
    services = rejecting_desk(tmp_path, ["\"Doe, John\" <John.Doe@acme.example>"])
    message = MailMessage.get()
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.open_mailbox("desk", message.id)
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, MessageDetailScreen)
        assert detail.check_action("create_caller", ()) is True
        await pilot.press("c")
        await settle(pilot)
        assert MailMessage.get_by_id(message.id).status == "new"
        assert detail.check_action("create_caller", ()) is False  # reloaded: no longer an unknown caller
        assert any("created person #" in str(n.message) and "the next pass retries it" in str(n.message)
                   for n in app._notifications)
    john = Person.get()
    assert (john.email, john.first_name, john.name, john.phone) == ("john.doe@acme.example", "John", "Doe", "n/a")

    services.run_once()
    services.run_once()
    assert MailMessage.get_by_id(message.id).status == "processed"
    assert [(t.title, t.caller_id) for t in Ticket.select()] == [("mail 0", john.id)]
    assert Person.select().count() == 1


async def test_inboxes_mode_counts_and_creates_every_unknown_caller(tmp_path: Path) -> None:
    services = rejecting_desk(tmp_path, ["Mary Major <mary@acme.example>", "Tom <tom@acme.example>",
                                         "Mary M. <MARY@acme.example>"])
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InboxesScreen)
        info = str(screen.query_one("#inbox-info", Static).visual)
        assert "3 rejected as unknown callers · c: create these persons and retry the mails" in info
        await pilot.press("c")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert str(confirm.question).startswith("Create 2 persons and retry 3 mails in desk?")
        await pilot.press("y")
        await settle(pilot)
        assert "rejected as unknown callers" not in str(screen.query_one("#inbox-info", Static).visual)
    assert sorted(p.email for p in Person.select()) == ["mary@acme.example", "tom@acme.example"]
    assert MailMessage.select().where(MailMessage.status == "new").count() == 3

    services.run_once()
    services.run_once()
    assert sorted(t.title for t in Ticket.select()) == ["mail 0", "mail 1", "mail 2"]
    assert Person.select().count() == 2
