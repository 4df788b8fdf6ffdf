"""Every ticket field the reference's classes carry can be set by ticket_default_values (external keys by id
or by name; an unknown name is one clear error line on the message), is stored, shown by `tickets show`
(text and JSON) and filtered on by `tickets list`; operator actions are signed with --as NAME, else the
login name, never "operator <>"."""
from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest

from mailticket_tui.cli import main
from mailticket_tui.services import TicketFilter, open_services
from mailticket_tui.store.models import Organization, Person, Service, Team, Ticket, TicketContact

from .mailgen import make_mail


@pytest.fixture
def desk(write_config, maildir: Path, store_url: str):
    """A store with a directory (org, persons, teams, services); `configure(defaults)` sets the inbox's
    ticket_default_values and `mail(subject)` processes one request."""
    def configure(defaults: dict[str, str]) -> list[str]:
        table = ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in defaults.items())
        config = write_config(f"""
            [[inbox]]
            name = "desk"
            protocol = "maildir"
            server = "{maildir}"
            login = "support@desk.example"
            unknown_caller_behavior = "create_contact"
            ticket_default_values = {{ {table} }}
            """)
        assert main(["--db", store_url, "config", "import", str(config)]) == 0
        return ["--config", str(config), "--db", store_url]

    base = configure({})
    services = open_services(base[1], store_url)
    ids = {
        "org": Organization.create(name="ACME Corp").id,
        "service": Service.create(name="Printing").id,
        "network": Team.create(name="Network", email="net@desk.example").id,
        "helpdesk": Team.create(name="Helpdesk").id,
        "nina": Person.create(email="nina@desk.example", first_name="Nina", name="Agent").id,
        "carol": Person.create(email="carol@acme.example", first_name="Carol", name="Contact").id,
    }

    def mail(subject: str) -> Ticket | None:
        (maildir / "new" / f"{abs(hash(subject))}.M1.t").write_bytes(make_mail(subject=subject))
        services.reload()
        services.run_once()
        return Ticket.get_or_none(Ticket.title == subject)

    return services, configure, mail, ids


def test_every_field_by_name(desk) -> None:
    services, configure, mail, ids = desk
    configure({"org_id": "acme corp", "service_id": "PRINTING", "service_subcategory": "Toner", "team": "network",
               "agent_id": "Nina Agent", "priority": "high", "urgency": "critical", "impact": "service",
               "origin": "phone", "contacts": "carol@acme.example", "extra.site": "Paris 3rd floor",
               "extra.asset": "PRN-042", "status": "assigned"})
    ticket = mail("by name")
    assert (ticket.org_id, ticket.service_id, ticket.team_id, ticket.agent_id) == (
        ids["org"], ids["service"], ids["network"], ids["nina"])
    assert (ticket.priority, ticket.urgency, ticket.impact, ticket.origin, ticket.status) == (2, 1, 2, "phone",
                                                                                                "assigned")
    assert ticket.service_subcategory == "Toner"
    assert json.loads(ticket.extra) == {"asset": "PRN-042", "site": "Paris 3rd floor"}
    assert [c.person_id for c in TicketContact.select().where(TicketContact.ticket == ticket)] == [ids["carol"]]


def test_every_external_key_by_id(desk) -> None:
    _, configure, mail, ids = desk
    configure({"org_id": str(ids["org"]), "service": str(ids["service"]), "team_id": str(ids["helpdesk"]),
               "agent": str(ids["nina"]), "caller_id": str(ids["carol"]), "contacts": str(ids["nina"]),
               "priority": "1"})
    ticket = mail("by id")
    assert (ticket.org_id, ticket.service_id, ticket.team_id, ticket.agent_id, ticket.caller_id, ticket.priority) \
        == (ids["org"], ids["service"], ids["helpdesk"], ids["nina"], ids["carol"], 1)


@pytest.mark.parametrize(("key", "value", "line"), [
    ("team", "Nope", "ticket default values: default team='Nope': no team with that id or name"),
    ("agent_id", "nobody@desk.example", "ticket default values: default agent_id='nobody@desk.example': no "
                                        "person with that id or name"),
    ("service", "99", "ticket default values: default service='99': no service with that id or name"),
    ("contacts", "carol@acme.example, ghost", "ticket default values: default contacts: no person 'ghost' (give "
                                              "an id, an address or a name)"),
])
def test_an_unknown_name_is_one_clear_error_and_no_ticket(desk, key, value, line) -> None:
    services, configure, mail, _ = desk
    configure({key: value})
    assert mail("unknown name") is None
    (row,) = services.list_messages(status="error")
    assert row.error == line
    assert services.health()[0].error_reasons == (("ticket default values", 1),)


def test_show_and_json_carry_the_fields(desk, capsys) -> None:
    services, configure, mail, _ = desk
    base = configure({"team": "Network", "agent": "nina@desk.example", "service": "Printing", "priority": "medium",
                      "service_subcategory": "Toner", "extra.site": "Paris"})
    ref = mail("shown").ref
    capsys.readouterr()
    assert main([*base, "tickets", "show", ref, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert {k: shown[k] for k in ("priority", "team", "agent", "service", "urgency", "impact", "service_subcategory",
                                  "agent_email", "extra", "legacy_ref")} == {
        "priority": "medium", "team": "Network", "agent": "Nina Agent", "service": "Printing", "urgency": "low",
        "impact": "person", "service_subcategory": "Toner", "agent_email": "nina@desk.example",
        "extra": {"site": "Paris"}, "legacy_ref": ""}
    assert main([*base, "tickets", "show", ref]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[2] == "priority: medium  urgency: low  impact: person"
    assert text[3] == "team: Network  agent: Nina Agent  service: Printing  subcategory: Toner  site: Paris"


def test_list_filters(desk, capsys) -> None:
    services, configure, mail, _ = desk
    configure({"team": "Network", "agent": "Nina Agent", "priority": "high"})
    first = mail("network high").ref
    base = configure({"team": "Helpdesk", "service": "Printing"})
    second = mail("helpdesk low").ref
    refs = lambda **kw: [t.ref for t in services.list_tickets(TicketFilter(**kw))]  # noqa: E731
    assert refs(team="netw") == [first] and refs(team="help") == [second]
    assert refs(agent="nina") == [first] and refs(agent="Nina Agent") == [first]
    assert refs(service="print") == [second]
    assert refs(priority="high") == [first] and refs(priority="4") == [second]
    capsys.readouterr()
    assert main([*base, "tickets", "list", "--team", "Network", "--priority", "2", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["ref"], row["team"], row["agent"], row["priority"]) == (first, "Network", "Nina Agent", "high")
    assert main([*base, "tickets", "list", "--priority", "urgent"]) == 2
    assert "unknown priority 'urgent'; use one of critical, high, medium, low or 1-4" in capsys.readouterr().err


def test_the_list_stays_one_query(desk) -> None:
    from playhouse.test_utils import count_queries

    services, configure, mail, _ = desk
    configure({"team": "Network", "agent": "Nina Agent", "service": "Printing"})
    for n in range(5):
        mail(f"ticket {n}")
    with count_queries() as counter:
        rows = services.list_tickets()
    assert len(rows) == 5 and all(r.team == "Network" and r.agent == "Nina Agent" for r in rows)
    assert counter.count == 1


def test_operator_actions_are_signed(desk, capsys) -> None:
    services, configure, mail, _ = desk
    base = configure({})
    ref = mail("signed").ref
    assert main([*base, "tickets", "log", ref, "--as", "Olga Operator", "Called the user."]) == 0
    assert main([*base, "tickets", "stimulus", ref, "ev_assign", "--as", "Olga Operator"]) == 0
    assert main([*base, "tickets", "log", "--private", ref, "Unsigned note."]) == 0
    assert main([*base, "tickets", "stimulus", ref, "ev_resolve"]) == 0
    detail = services.get_ticket(ref)
    me = getpass.getuser()
    assert [e.author for e in detail.case_log] == [me, "Olga Operator"]
    assert [h.who for h in detail.history[1:]] == ["Olga Operator", "Olga Operator", me, me]
    capsys.readouterr()
    assert main([*base, "tickets", "show", ref]) == 0
    assert "<>" not in capsys.readouterr().out


async def test_the_tui_detail_shows_the_fields_literally(tmp_path: Path) -> None:
    from textual.widgets import Static

    from mailticket_tui.app import build_app
    from mailticket_tui.screens.ticket_detail import TicketDetailScreen

    from .test_tui_support import add_ticket, maildir_inbox, make_maildir, open_store, settle

    services = open_store(tmp_path, maildir_inbox("support", make_maildir(tmp_path / "M")))
    ticket = add_ticket("R-000001", "Printer jams", inbox="support")
    agent = Person.create(email="nina@desk.example", first_name="Nina", name="Agent")
    Ticket.update(team=Team.create(name="Network"), agent=agent, priority=2, service_subcategory="Toner",
                  extra=json.dumps({"site": "[bold]Paris\x1b[2J"})).where(Ticket.id == ticket.id).execute()
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        overview = str(app.screen.query_one("#ticket-overview", Static).visual)
        for line in ("priority: high · urgency low · impact person", "team: Network", "agent: Nina Agent",
                     "subcat: Toner", "site: [bold]Paris"):
            assert line in overview, line
        assert "\x1b" not in overview
