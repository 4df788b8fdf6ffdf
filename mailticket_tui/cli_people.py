"""The directory's command line: `people`, `orgs` and `teams` (list, show, add, edit, (de)activate or delete,
team members, `people import FILE`). Registered by cli.py through `add_parsers` and `HANDLERS`.

Output follows cli.py's contract: `--json` prints stable objects (PersonInfo/OrgInfo/TeamInfo.as_json),
errors are one line on stderr; exit 0 done, 2 a refused action or a file with bad rows (its good rows went in).
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from . import directory
from .directory import DirectoryError

EXIT_OK, EXIT_USAGE = 0, 2


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The three command groups, beside cli.py's own."""
    people = sub.add_parser("people", help="the people directory: persons who may write to the inboxes")
    psub = people.add_subparsers(dest="action", required=True)
    plist = psub.add_parser("list", help="persons by name")
    plist.add_argument("--search", default="", help="text in names, addresses, phone or organisation")
    plist.add_argument("--status", choices=directory.STATUSES)
    plist.add_argument("--org", default="", help="only this organisation (number, name or code)")
    plist.add_argument("--json", action="store_true")
    pshow = psub.add_parser("show", help="one person (by number or address)")
    pshow.add_argument("person")
    pshow.add_argument("--json", action="store_true")
    padd = psub.add_parser("add", help="a new person")
    _person_options(padd, adding=True)
    pedit = psub.add_parser("edit", help="change a person's fields (only those given)")
    pedit.add_argument("person", help="number or address")
    _person_options(pedit, adding=False)
    for action, text in (("deactivate", "mark inactive (kept: tickets keep their caller)"),
                         ("activate", "mark active again")):
        psub.add_parser(action, help=text).add_argument("person", help="number or address")
    pimport = psub.add_parser("import", help="create or update persons from CSV (iTop export or plain columns) "
                              "or TOML; idempotent by address")
    pimport.add_argument("file")
    pimport.add_argument("--dry-run", action="store_true", help="say what would change; write nothing")
    pimport.add_argument("--create-orgs", action="store_true", help="create organisations the file names")
    pimport.add_argument("--encoding", default="utf-8-sig", help="the file's encoding (default UTF-8)")
    pimport.add_argument("--json", action="store_true")

    orgs = sub.add_parser("orgs", help="organisations of the people directory")
    osub = orgs.add_subparsers(dest="action", required=True)
    olist = osub.add_parser("list")
    olist.add_argument("--search", default="")
    olist.add_argument("--status", choices=directory.STATUSES)
    olist.add_argument("--json", action="store_true")
    oshow = osub.add_parser("show", help="one organisation (number, name or code)")
    oshow.add_argument("org")
    oshow.add_argument("--json", action="store_true")
    oadd = osub.add_parser("add", help="a new organisation")
    oadd.add_argument("name")
    _org_options(oadd)
    oedit = osub.add_parser("edit", help="change an organisation's fields (only those given)")
    oedit.add_argument("org")
    oedit.add_argument("--name")
    _org_options(oedit)
    oedit.add_argument("--status", choices=directory.STATUSES)
    for action in ("deactivate", "activate"):
        osub.add_parser(action).add_argument("org")

    teams = sub.add_parser("teams", help="teams of persons")
    tsub = teams.add_subparsers(dest="action", required=True)
    tsub.add_parser("list").add_argument("--json", action="store_true")
    tshow = tsub.add_parser("show")
    tshow.add_argument("team")
    tshow.add_argument("--json", action="store_true")
    tadd = tsub.add_parser("add", help="a new team")
    tadd.add_argument("name")
    tadd.add_argument("--email", help="the team's address")
    tedit = tsub.add_parser("edit")
    tedit.add_argument("team")
    tedit.add_argument("--name")
    tedit.add_argument("--email", help="the team's address (\"\" = none)")
    tsub.add_parser("delete", help="delete a team (its members stay in the directory)").add_argument("team")
    members = tsub.add_parser("members", help="add or remove members")
    msub = members.add_subparsers(dest="members_action", required=True)
    for action in ("add", "remove"):
        m = msub.add_parser(action)
        m.add_argument("team")
        m.add_argument("persons", nargs="+", help="numbers or addresses")


def _person_options(parser: argparse.ArgumentParser, adding: bool) -> None:
    parser.add_argument("--email", required=adding, help="primary address")
    parser.add_argument("--first-name")
    parser.add_argument("--name", help="last name")
    parser.add_argument("--phone")
    parser.add_argument("--org", help="organisation by number, name or code (\"\" = none)")
    if adding:
        parser.add_argument("--extra-email", action="append", default=[], help="another address (repeatable)")
    else:
        parser.add_argument("--status", choices=directory.STATUSES)
        parser.add_argument("--add-email", action="append", default=[], help="add an extra address (repeatable)")
        parser.add_argument("--remove-email", action="append", default=[], help="remove an extra address")
    parser.add_argument("--json", action="store_true")


def _org_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--code")
    parser.add_argument("--domain", action="append", help="a mail domain of the organisation (repeatable; on "
                        "edit the given list replaces the stored one)")
    parser.add_argument("--json", action="store_true")


def _given(args: argparse.Namespace, names: dict[str, str]) -> dict[str, Any]:
    """The options a user gave (None = not given), under the directory's field names."""
    return {field: getattr(args, option) for option, field in names.items() if getattr(args, option) is not None}


def _out(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False))


def _safe(text: str) -> str:
    from .cli import _safe as safe

    return safe(text)


def _person_line(p: directory.PersonInfo) -> str:
    extra = f" (+{len(p.extra_emails)})" if p.extra_emails else ""
    return (f"{p.id:6} {p.status:8} {_safe(p.full_name)[:30]:30} {_safe(p.email)[:36]:36}{extra} "
            f"{_safe(p.org)[:24]}")


def _print_person(p: directory.PersonInfo) -> None:
    for label, value in (("number", p.id), ("first name", p.first_name), ("name", p.name), ("email", p.email),
                         ("extra", ", ".join(p.extra_emails)), ("phone", p.phone), ("org", p.org),
                         ("status", p.status), ("teams", ", ".join(p.teams))):
        print(f"{label:>10}: {_safe(str(value)) or '-'}")


def _person_cmd(args: argparse.Namespace) -> int:
    names = {"email": "email", "first_name": "first_name", "name": "name", "phone": "phone", "org": "org"}
    if args.action == "list":
        rows = directory.list_persons(args.search, args.status or "", args.org)
        if args.json:
            _out([p.as_json() for p in rows])
        else:
            for p in rows:
                print(_person_line(p))
        return EXIT_OK
    if args.action == "import":
        return _import(args)
    if args.action == "show":
        info = directory.get_person(args.person)
    elif args.action == "add":
        info = directory.add_person({**_given(args, names), "extra_emails": args.extra_email})
        print(f"person #{info.id} {info.email}: created", file=sys.stderr if args.json else sys.stdout)
    elif args.action == "edit":
        values = _given(args, {**names, "status": "status"})
        if args.add_email or args.remove_email:
            current = directory.get_person(args.person).extra_emails
            removed = {e.strip().lower() for e in args.remove_email}
            missing = sorted(removed - set(current))
            if missing:
                raise DirectoryError(f"{missing[0]} is not an extra address of person {args.person}; "
                                     f"its extra addresses: {', '.join(current) or 'none'}")
            values["extra_emails"] = [e for e in current if e not in removed] + args.add_email
        info, changed = directory.edit_person(args.person, values)
        said = f"changed {', '.join(changed)}" if changed else "nothing changed"
        print(f"person #{info.id} {info.email}: {said}", file=sys.stderr if args.json else sys.stdout)
    else:
        info, changed = directory.set_person_active(args.person, args.action == "activate")
        print(f"person #{info.id} {info.email}: {args.action + 'd' if changed else 'already ' + info.status}")
        return EXIT_OK
    if args.json:
        _out(info.as_json())
    elif args.action == "show":
        _print_person(info)
    return EXIT_OK


def _import(args: argparse.Namespace) -> int:
    from .directory_import import import_persons

    report = import_persons(args.file, dry_run=args.dry_run, create_orgs=args.create_orgs, encoding=args.encoding)
    for note in report.notes:
        print(_safe(note), file=sys.stderr)
    for error in report.errors:
        print(f"mailticket: {_safe(error)}", file=sys.stderr)
    if args.json:
        _out(report.as_json())
    else:
        print(_safe(report.line()))
        verb = "would " if args.dry_run else ""
        for email in report.created:
            print(f"  {verb}create {_safe(email)}")
        for email, fields in report.updated:
            print(f"  {verb}update {_safe(email)}: {', '.join(fields)}")
    return EXIT_USAGE if report.errors else EXIT_OK


def _org_cmd(args: argparse.Namespace) -> int:
    if args.action == "list":
        rows = directory.list_orgs(args.search, args.status or "")
        if args.json:
            _out([o.as_json() for o in rows])
        for o in [] if args.json else rows:
            print(f"{o.id:5} {o.status:8} {_safe(o.name)[:30]:30} {_safe(o.code)[:10]:10} {o.persons:5} persons  "
                  f"{_safe(', '.join(o.domains))}")
        return EXIT_OK
    values = _given(args, {"code": "code", "domain": "domains"} if args.action in ("add", "edit") else {})
    if args.action == "show":
        info = directory.get_org(args.org)
    elif args.action == "add":
        info = directory.add_org({"name": args.name, **values})
        print(f"organisation #{info.id} {_safe(info.name)}: created", file=sys.stderr if args.json else sys.stdout)
    elif args.action == "edit":
        info, changed = directory.edit_org(args.org, {**values, **_given(args, {"name": "name", "status": "status"})})
        said = f"changed {', '.join(changed)}" if changed else "nothing changed"
        print(f"organisation #{info.id} {_safe(info.name)}: {said}", file=sys.stderr if args.json else sys.stdout)
    else:
        info, changed = directory.set_org_active(args.org, args.action == "activate")
        print(f"organisation #{info.id} {_safe(info.name)}: "
              f"{args.action + 'd' if changed else 'already ' + info.status}")
        return EXIT_OK
    if args.json:
        _out(info.as_json())
    elif args.action == "show":
        for label, value in (("number", info.id), ("name", info.name), ("code", info.code),
                             ("domains", ", ".join(info.domains)), ("status", info.status),
                             ("persons", info.persons)):
            print(f"{label:>8}: {_safe(str(value)) or '-'}")
    return EXIT_OK


def _team_cmd(args: argparse.Namespace) -> int:
    if args.action == "list":
        rows = directory.list_teams()
        if args.json:
            _out([t.as_json() for t in rows])
        for t in [] if args.json else rows:
            print(f"{t.id:5} {_safe(t.name)[:30]:30} {_safe(t.email)[:30]:30} {len(t.members)} members")
        return EXIT_OK
    if args.action == "show":
        info = directory.get_team(args.team)
        if args.json:
            _out(info.as_json())
            return EXIT_OK
        print(f"team #{info.id} {_safe(info.name)} {_safe(info.email) or '-'}")
        for email in info.members:
            print(f"  {_safe(email)}")
        return EXIT_OK
    if args.action == "add":
        info = directory.add_team(_given(args, {"name": "name", "email": "email"}))
        print(f"team #{info.id} {_safe(info.name)}: created")
    elif args.action == "edit":
        info, changed = directory.edit_team(args.team, _given(args, {"name": "name", "email": "email"}))
        print(f"team #{info.id} {_safe(info.name)}: " + (f"changed {', '.join(changed)}" if changed
                                                           else "nothing changed"))
    elif args.action == "delete":
        info = directory.delete_team(args.team)
        print(f"team #{info.id} {_safe(info.name)}: deleted ({len(info.members)} members left the team)")
    else:
        adding = args.members_action == "add"
        info, changed = directory.change_members(args.team, args.persons, adding)
        verb = "added" if adding else "removed"
        print(f"team {_safe(info.name)}: {verb} {', '.join(changed) if changed else 'nobody (nothing to change)'}"
              f"; {len(info.members)} members")
    return EXIT_OK


def _guarded(handler):
    """A refused action is one line on stderr and exit 2 (cli.main handles store and settings errors)."""
    def run(services, args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except DirectoryError as exc:
            print(f"mailticket: {_safe(str(exc))}", file=sys.stderr)
            return EXIT_USAGE
    return run


HANDLERS = {"people": _guarded(_person_cmd), "orgs": _guarded(_org_cmd), "teams": _guarded(_team_cmd)}
