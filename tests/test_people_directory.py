"""The people directory through the CLI (`mailticket people|orgs|teams ...`) on a real SQLite store: iTop CSV
exports and plain columns, bad rows reported by line while the good ones go in, idempotence, dry runs, TOML,
organisations (their mail domains give unknown senders their organisation), teams, extra addresses found by
the engine, and "create the unknown callers and retry" making one ticket and one person per mail.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailticket_tui.cli import main
from mailticket_tui.store.models import ExtraEmail, MailMessage, Organization, Person, Team, Ticket

from .conftest import make_maildir
from .mailgen import make_mail

ITOP_CSV = (
    '"First Name","Last Name","Email","Phone","Organization->Name","Status","Function"\n'
    '"Ada","Lovelace","Ada@Acme.example","+44 1","Acme","Active","Analyst"\n'
    '"Bob","Builder","bob@acme.example","","Acme","Inactive",""\n'
    '"Zoë","Ünal","zoe@globex.example","+49 2","Globex","Active",""\n'
)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("MAILTICKET_DB", "MAILTICKET_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


def mt(store_url: str, *argv: str) -> int:
    return main(["--db", store_url, *argv])


def out_json(capsys, store_url: str, *argv: str):
    capsys.readouterr()
    assert mt(store_url, *argv, "--json") == 0
    return json.loads(capsys.readouterr().out)


def with_orgs(store_url: str, *names: str) -> None:
    for name in names:
        assert mt(store_url, "orgs", "add", name) == 0


# ------------------------------------------------------------------------------------------ import
def test_itop_export_imports_as_it_is_and_a_second_import_changes_nothing(tmp_path: Path, store_url: str,
                                                                          capsys) -> None:
    with_orgs(store_url, "Acme", "Globex")
    (tmp_path / "persons.csv").write_text(ITOP_CSV, encoding="utf-8-sig")  # iTop writes a BOM
    capsys.readouterr()
    assert mt(store_url, "people", "import", "persons.csv") == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == "created 3, updated 0, unchanged 0"
    assert "columns ignored: Function" in captured.err
    people = {p["email"]: p for p in out_json(capsys, store_url, "people", "list")}
    assert people["ada@acme.example"] == {
        "id": people["ada@acme.example"]["id"], "first_name": "Ada", "name": "Lovelace",
        "email": "ada@acme.example", "extra_emails": [], "phone": "+44 1", "org": "Acme", "status": "active",
        "teams": []}
    assert (people["bob@acme.example"]["status"], people["zoe@globex.example"]["name"]) == ("inactive", "Ünal")

    assert mt(store_url, "people", "import", "persons.csv") == 0
    assert capsys.readouterr().out.strip() == "nothing to change: 3 persons already as in the file"
    assert Person.select().count() == 3


def test_itop_field_codes_plain_columns_and_semicolons(tmp_path: Path, store_url: str, capsys) -> None:
    with_orgs(store_url, "Acme")
    (tmp_path / "codes.csv").write_text("first_name;name;email;org_id->name;status\n"
                                        "Carl;Coder;carl@acme.example;Acme;active\n")
    (tmp_path / "plain.csv").write_text("first_name,name,email,organization\nDora,Doe,dora@acme.example,acme\n"
                                        ",,eve.smith@acme.example,\n")
    assert mt(store_url, "people", "import", "codes.csv") == 0
    assert mt(store_url, "people", "import", "plain.csv") == 0
    people = {p["email"]: p for p in out_json(capsys, store_url, "people", "list")}
    assert (people["carl@acme.example"]["org"], people["dora@acme.example"]["org"]) == ("Acme", "Acme")
    # no name given: taken from the address, as for a person created from mail
    assert (people["eve.smith@acme.example"]["first_name"], people["eve.smith@acme.example"]["name"]) == (
        "Eve", "Smith")


def test_bad_rows_are_reported_by_line_and_the_good_rows_go_in(tmp_path: Path, store_url: str, capsys) -> None:
    with_orgs(store_url, "Acme")
    (tmp_path / "mixed.csv").write_text(
        "First Name,Last Name,Email,Organization,Status\n"     # 1
        "Ann,Able,ann@acme.example,Acme,Active\n"              # 2
        "Bad,Mail,not-an-address,Acme,Active\n"                # 3
        'Multi,"Line\nName",multi@acme.example,Acme,Active\n'  # 4-5: one row over two lines
        "Nora,Noorg,nora@acme.example,Initech,Active\n"        # 6
        "Ann,Again,ANN@acme.example,Acme,Active\n"             # 7
        "Odd,Status,odd@acme.example,Acme,Retired\n"           # 8
        "Too,Many,many@acme.example,Acme,Active,extra\n"       # 9
        "\n"                                                   # 10: blank, skipped
        "No,Address,,Acme,Active\n"                            # 11
        "Ok,Last,last@acme.example,,\n")                       # 12
    capsys.readouterr()
    assert mt(store_url, "people", "import", "mixed.csv") == 2
    captured = capsys.readouterr()
    errors = captured.err.strip().splitlines()
    assert [e.split(": ")[1] for e in errors] == [
        "mixed.csv:3", "mixed.csv:6", "mixed.csv:7", "mixed.csv:8", "mixed.csv:9", "mixed.csv:11"]
    assert errors[0] == ("mailticket: mixed.csv:3: email 'not-an-address' is not one mail address; "
                         "write it as name@domain")
    assert "organisation 'Initech' does not exist; add it with `mailticket orgs add 'Initech'`, or give " \
           "--create-orgs" in errors[1]
    assert "ann@acme.example is already at line 2; keep one entry per person" in errors[2]
    assert "status 'Retired' is unknown; write active or inactive" in errors[3]
    assert "6 values but 5 columns" in errors[4] and "no email" in errors[5]
    assert captured.out.splitlines()[0] == "created 3, updated 0, unchanged 0; 6 bad rows skipped"
    assert sorted(p.email for p in Person.select()) == ["ann@acme.example", "last@acme.example",
                                                         "multi@acme.example"]
    assert Person.get(Person.email == "multi@acme.example").name == "Line Name"  # one line, as every name

    # --create-orgs: the row that named an unknown organisation goes in now, and the organisation with it
    assert mt(store_url, "people", "import", "mixed.csv", "--create-orgs") == 2
    assert "mixed.csv:6: organisation 'Initech' created" in capsys.readouterr().err
    assert Person.get(Person.email == "nora@acme.example").org.name == "Initech"


def test_dry_run_says_what_would_change_and_writes_nothing(tmp_path: Path, store_url: str, capsys) -> None:
    with_orgs(store_url, "Acme", "Globex")
    (tmp_path / "persons.csv").write_text(ITOP_CSV)
    assert mt(store_url, "people", "import", "persons.csv") == 0
    (tmp_path / "changes.csv").write_text(
        "Email,Phone,Organization,Status\n"
        "ada@acme.example,+44 9,Globex,Active\n"    # phone and org change
        "bob@acme.example,,,Inactive\n"            # as stored (empty cells keep the stored values)
        "new@acme.example,,Acme,\n")               # new
    capsys.readouterr()
    assert mt(store_url, "people", "import", "changes.csv", "--dry-run") == 0
    assert capsys.readouterr().out.splitlines() == [
        "would create 1, would update 1, unchanged 1 (dry run: nothing written)",
        "  would create new@acme.example", "  would update ada@acme.example: phone, org"]
    ada = Person.get(Person.email == "ada@acme.example")
    assert (ada.phone, ada.org.name, Person.select().count()) == ("+44 1", "Acme", 3)

    report = out_json(capsys, store_url, "people", "import", "changes.csv")
    assert report == {"dry_run": False, "created": ["new@acme.example"],
                      "updated": [{"email": "ada@acme.example", "fields": ["phone", "org"]}],
                      "unchanged": 1, "errors": [], "notes": []}
    assert Person.get(Person.email == "ada@acme.example").phone == "+44 9"


def test_toml_import_with_extra_addresses_and_bad_entries(tmp_path: Path, store_url: str, capsys) -> None:
    with_orgs(store_url, "Acme")
    (tmp_path / "people.toml").write_text(
        '[[person]]\n'                                                           # 1
        'first_name = "Ada"\nname = "Lovelace"\nemail = "ada@acme.example"\n'
        'extra_emails = ["a.lovelace@acme.example", "ADA@old.example"]\norganization = "Acme"\n'
        '\n[[person]]\n'                                                         # 8
        'name = "Typo"\nemial = "typo@acme.example"\n'
        '\n[[person]]\n'                                                         # 12
        'name = "Grace"\nemail = "grace@acme.example"\nphone = 5551234\n')
    capsys.readouterr()
    assert mt(store_url, "people", "import", "people.toml") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["mailticket: people.toml:8: unknown key 'emial'; known: first_name, name, email, extra_emails, "
                   "phone, organization, status"]
    ada = out_json(capsys, store_url, "people", "show", "a.lovelace@acme.example")
    assert (ada["email"], ada["extra_emails"], ada["org"]) == (
        "ada@acme.example", ["a.lovelace@acme.example", "ada@old.example"], "Acme")
    assert Person.get(Person.email == "grace@acme.example").phone == "5551234"
    # found again by an extra address: the primary one stays, nothing changes
    (tmp_path / "again.csv").write_text("email,name\nada@old.example,Lovelace\n")
    assert mt(store_url, "people", "import", "again.csv") == 0
    assert "nothing to change: 1 person already as in the file" in capsys.readouterr().out


def test_unreadable_files_are_one_line_each(tmp_path: Path, store_url: str, capsys) -> None:
    (tmp_path / "latin.csv").write_bytes("name,email\nM\xfcller,mueller@acme.example\n".encode("latin-1"))
    (tmp_path / "noemail.csv").write_text("name,phone\nx,1\n")
    (tmp_path / "broken.toml").write_text("[[person]\nname=")
    capsys.readouterr()
    for args, expected in ((("latin.csv",), "latin.csv:2: not utf-8-sig text; export the file as UTF-8 or give "
                                            "--encoding (e.g. latin-1)"),
                           (("noemail.csv",), "noemail.csv:1: no email column (found name, phone); name one "
                                              "column Email"),
                           (("broken.toml",), "broken.toml: not valid TOML"),
                           (("missing.csv",), "missing.csv: cannot read (No such file or directory)")):
        assert mt(store_url, "people", "import", *args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and expected in err[0], err
    assert mt(store_url, "people", "import", "latin.csv", "--encoding", "latin-1") == 0
    assert Person.get().name == "Müller"


# ------------------------------------------------------------------------------------------ persons, orgs, teams
def test_people_add_edit_show_deactivate(store_url: str, capsys) -> None:
    with_orgs(store_url, "Acme")
    assert mt(store_url, "orgs", "edit", "Acme", "--code", "ACM") == 0
    added = out_json(capsys, store_url, "people", "add", "--email", "Ada@Acme.example", "--first-name", "Ada",
                     "--name", "Lovelace", "--org", "ACM", "--extra-email", "ada@home.example")
    assert (added["email"], added["org"], added["extra_emails"]) == ("ada@acme.example", "Acme", ["ada@home.example"])
    # an address belongs to one person at most
    assert mt(store_url, "people", "add", "--email", "ADA@home.example") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"mailticket: ada@home.example already belongs to person #{added['id']} (Ada Lovelace); edit "
                   "that person instead, or remove the address there first"]
    assert mt(store_url, "people", "edit", "ada@home.example", "--phone", "+44 1", "--add-email", "al@acme.example",
              "--remove-email", "ada@home.example") == 0
    assert capsys.readouterr().out.strip() == f"person #{added['id']} ada@acme.example: changed phone, extra_emails"
    assert mt(store_url, "people", "edit", str(added["id"]), "--phone", "+44 1") == 0
    assert "nothing changed" in capsys.readouterr().out
    assert mt(store_url, "people", "deactivate", "al@acme.example") == 0
    assert mt(store_url, "people", "deactivate", "al@acme.example") == 0
    assert capsys.readouterr().out.splitlines() == [f"person #{added['id']} ada@acme.example: deactivated",
                                                    f"person #{added['id']} ada@acme.example: already inactive"]
    shown = out_json(capsys, store_url, "people", "show", str(added["id"]))
    assert (shown["status"], shown["phone"], shown["extra_emails"]) == ("inactive", "+44 1", ["al@acme.example"])
    # an extra address made the primary one leaves the extras; the last extra removed leaves none
    assert mt(store_url, "people", "edit", "ada@acme.example", "--email", "AL@acme.example") == 0
    shown = out_json(capsys, store_url, "people", "show", "al@acme.example")
    assert (shown["email"], shown["extra_emails"]) == ("al@acme.example", [])
    assert mt(store_url, "people", "edit", "al@acme.example", "--add-email", "ada@acme.example") == 0
    assert mt(store_url, "people", "edit", "al@acme.example", "--remove-email", "ada@acme.example") == 0
    assert out_json(capsys, store_url, "people", "show", "al@acme.example")["extra_emails"] == []
    assert mt(store_url, "people", "edit", "al@acme.example", "--email", "ada@acme.example",
              "--add-email", "al@acme.example") == 0
    assert out_json(capsys, store_url, "people", "list", "--status", "active") == []
    assert [p["email"] for p in out_json(capsys, store_url, "people", "list", "--search", "al@acme")] == [
        "ada@acme.example"]
    for argv, line in ((("people", "show", "nobody@acme.example"), "no person with the address 'nobody@acme.example'"),
                       (("people", "edit", "999", "--name", "X"), "no person #999"),
                       (("people", "add", "--email", "x@y.example", "--org", "Nope"), "no organisation 'Nope'"),
                       (("people", "add", "--email", "two@a.example, b@c.example"), "is not one mail address")):
        assert mt(store_url, *argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and line in err[0], err


def test_orgs_and_their_domains_give_unknown_senders_their_organisation(tmp_path: Path, store_url: str,
                                                                        capsys) -> None:
    assert mt(store_url, "orgs", "add", "Acme", "--code", "ACM", "--domain", "@Acme.example",
              "--domain", "acme.org") == 0
    assert mt(store_url, "orgs", "add", "acme") == 2
    assert "organisation 'Acme' exists already" in capsys.readouterr().err
    assert mt(store_url, "orgs", "add", "Bad", "--domain", "not a domain") == 2
    assert "domain 'not a domain' is not a mail domain" in capsys.readouterr().err
    orgs = out_json(capsys, store_url, "orgs", "list")
    assert orgs == [{"id": orgs[0]["id"], "name": "Acme", "code": "ACM", "domains": ["acme.example", "acme.org"],
                     "status": "active", "persons": 0}]

    maildir = make_maildir(tmp_path / "M")
    (maildir / "new" / "1.M1.test").write_bytes(make_mail(sender="Carl Coder <carl@acme.org>", subject="Hi"))
    (tmp_path / "mailticket.toml").write_text(f'[[inbox]]\nname = "desk"\nprotocol = "maildir"\nserver = "{maildir}"\n'
                                              'unknown_caller_behavior = "create_contact"\n')
    assert main(["--config", "mailticket.toml", "--db", store_url, "run", "--once"]) == 0
    carl = Person.get(Person.email == "carl@acme.org")
    assert (carl.first_name, carl.name, carl.org.name) == ("Carl", "Coder", "Acme")
    assert out_json(capsys, store_url, "orgs", "show", "ACM")["persons"] == 1

    assert mt(store_url, "orgs", "deactivate", "acm") == 0
    assert mt(store_url, "orgs", "edit", "Acme", "--name", "Acme Corp", "--status", "active") == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"organisation #{orgs[0]['id']} Acme Corp: changed name, status"


def test_teams_and_their_members(store_url: str, capsys) -> None:
    for email in ("ada@acme.example", "bob@acme.example"):
        assert mt(store_url, "people", "add", "--email", email) == 0
    assert mt(store_url, "teams", "add", "Level 1", "--email", "L1@acme.example") == 0
    assert mt(store_url, "teams", "members", "add", "level 1", "bob@acme.example", "ada@acme.example") == 0
    assert mt(store_url, "teams", "members", "add", "Level 1", "ada@acme.example", "nobody@acme.example") == 2
    assert "no person with the address 'nobody@acme.example'" in capsys.readouterr().err
    team = out_json(capsys, store_url, "teams", "show", "Level 1")
    assert team == {"id": team["id"], "name": "Level 1", "email": "l1@acme.example",
                    "members": ["ada@acme.example", "bob@acme.example"]}
    assert out_json(capsys, store_url, "people", "show", "ada@acme.example")["teams"] == ["Level 1"]
    assert mt(store_url, "teams", "members", "remove", "Level 1", "ada@acme.example") == 0
    assert mt(store_url, "teams", "edit", "Level 1", "--name", "First line", "--email", "") == 0
    assert out_json(capsys, store_url, "teams", "list") == [
        {"id": team["id"], "name": "First line", "email": "", "members": ["bob@acme.example"]}]
    assert mt(store_url, "teams", "delete", "First line") == 0
    assert "deleted (1 members left the team)" in capsys.readouterr().out
    assert (Team.select().count(), Person.select().count()) == (0, 2)
    assert mt(store_url, "teams", "show", "First line") == 2


# ------------------------------------------------------------------------------------------ the engine
def reject_inbox(tmp_path: Path, maildir: Path) -> Path:
    config = tmp_path / "mailticket.toml"
    config.write_text(f'[[inbox]]\nname = "desk"\nprotocol = "maildir"\nserver = "{maildir}"\n'
                      'unknown_caller_behavior = "reject_email"\n'
                      'caller_default_values = { phone = "n/a", org_id = "Acme" }\n')
    return config


def test_a_mail_from_an_extra_address_finds_its_person(tmp_path: Path, store_url: str, capsys) -> None:
    maildir = make_maildir(tmp_path / "M")
    config = reject_inbox(tmp_path, maildir)
    assert main(["--config", str(config), "--db", store_url, "people", "add", "--email", "ada@acme.example",
                 "--extra-email", "Ada@Home.example"]) == 0
    (maildir / "new" / "1.M1.test").write_bytes(make_mail(sender="Ada <ADA@home.example>", subject="From home"))
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    ticket = Ticket.get()
    assert (ticket.title, ticket.caller.email, Person.select().count()) == ("From home", "ada@acme.example", 1)
    assert ExtraEmail.get().email == "ada@home.example"


def test_create_the_unknown_callers_and_retry_makes_one_ticket_and_one_person_each(tmp_path: Path,
                                                                                  store_url: str) -> None:
    from mailticket_tui.services import open_services

    maildir = make_maildir(tmp_path / "M")
    config = reject_inbox(tmp_path, maildir)
    for n, sender in enumerate(("\"Doe, John\" <john.doe@acme.example>", "Mary Major <mary@acme.example>",
                                "John <JOHN.DOE@acme.example>")):
        (maildir / "new" / f"{n}.M{n}.test").write_bytes(make_mail(sender=sender, subject=f"mail {n}"))
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    assert [m.status for m in MailMessage.select().order_by(MailMessage.id)] == ["error"] * 3
    services = open_services(str(config), store_url)
    Organization.create(name="Acme")

    plan = services.unknown_caller_plan(inbox="desk")
    assert (len(plan.messages), plan.addresses, plan.line()) == (
        3, ("john.doe@acme.example", "mary@acme.example"), "create 2 persons and retry 3 mails")
    created, results = services.create_callers_and_retry(plan)
    assert [(p.first_name, p.name, p.phone, p.org) for p in created] == [
        ("John", "Doe", "n/a", "Acme"), ("Mary", "Major", "n/a", "Acme")]
    assert all(r.ok for r in results) and MailMessage.select().where(MailMessage.status == "new").count() == 3
    # asked again (a second key press, a second operator): nothing more to create, nothing doubled
    again = services.unknown_caller_plan(inbox="desk")
    assert (again.messages, again.addresses) == ((), ())
    assert services.create_callers_and_retry(again) == ([], [])

    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    assert [m.status for m in MailMessage.select().order_by(MailMessage.id)] == ["processed"] * 3
    assert sorted(t.title for t in Ticket.select()) == ["mail 0", "mail 1", "mail 2"]
    assert Person.select().count() == 2
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    assert (Ticket.select().count(), Person.select().count()) == (3, 2)


def test_postgresql_import_dry_run_bad_rows_and_search(tmp_path: Path, pg_store: str, capsys) -> None:
    """The same import on PostgreSQL: its savepoints keep the transaction usable after a refused row."""
    with_orgs(pg_store, "Acme", "Globex")
    (tmp_path / "persons.csv").write_text(ITOP_CSV + '"Ann","Dup","ADA@acme.example","","Acme","Active",""\n'
                                          '"Eve","X","eve@acme.example","","Nowhere","Active",""\n')
    capsys.readouterr()
    assert mt(pg_store, "people", "import", "persons.csv", "--dry-run") == 2
    assert capsys.readouterr().out.splitlines()[0] == ("would create 3, would update 0, unchanged 0; 2 bad rows "
                                                       "skipped (dry run: nothing written)")
    assert Person.select().count() == 0
    assert mt(pg_store, "people", "import", "persons.csv") == 2
    assert mt(pg_store, "people", "import", "persons.csv") == 2
    assert capsys.readouterr().out.splitlines()[-1] == "nothing to change: 3 persons already as in the file; " \
                                                       "2 bad rows skipped"
    assert [p["email"] for p in out_json(capsys, pg_store, "people", "list", "--search", "LOVE")] == [
        "ada@acme.example"]


def test_hostile_cells_are_stored_as_one_line_of_text(tmp_path: Path, store_url: str, capsys) -> None:
    (tmp_path / "hostile.csv").write_bytes(
        b'First Name,Last Name,Email,Phone\n'
        b'"\x1b[2J\x1b]0;owned\x07Eve","[@click=app.quit]Q[/]\x00\xc2\x85",eve@acme.example,"1\r\n2"\n'
        b'x,y,"\xe2\x80\xaeevil@acme.example",\n')
    capsys.readouterr()
    assert mt(store_url, "people", "import", "hostile.csv") == 2
    assert "hostile.csv:4: email" in capsys.readouterr().err  # row 2 spans lines 2-3; a bidi override is no address
    eve = Person.get()
    assert (eve.first_name, eve.name, eve.phone) == ("[2J ]0;owned Eve", "[@click=app.quit]Q[/]", "1 2")
    assert mt(store_url, "people", "show", "#" + str(eve.id)) == 0
    assert "\x1b" not in capsys.readouterr().out
