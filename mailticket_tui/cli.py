"""Command line: argument parsing, output and exit codes (DESIGN.md section 6 is the contract).

Exit codes: 0 done, 2 bad usage or settings, 3 a mailbox unreachable or refused login, 4 store error,
75 skipped because another run holds the inbox; 1 an unexpected error on an inbox (logged, the others ran);
5 (`status` only) something needs attention. Imports Textual only in the `tui` branch.

The CLI resolves the store URL itself (--db, $MAILTICKET_DB, [store] url, else the XDG data dir) so that an
explicit URL in a missing folder is refused before anything is created, and so that `store status` can look
at a store without upgrading it. Opening a store for any other command upgrades it, with one stderr line.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from typing import Any, Sequence

from .cli_progress import terminal_progress  # Rich progress bars on a terminal; Rich loads only then
from . import cli_people, terminal_probe
from .engine.events import Event, InboxFinished, MessageHandled, OutboxSent, TraceLine
from .engine.sources import SourceError
from .engine.tickets import TicketError
from .settings import SettingsError, config_search_path, load_settings_file
from .store import StoreError
from .store.db import check_store_location, default_store_url, reporting_upgrades

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_STORE, EXIT_BUSY = 0, 1, 2, 3, 4, 75
EXIT_ATTENTION = 5  # `status` only: something needs an operator (a failing or stale inbox, messages in error)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mailticket", description="Mailboxes in, tickets out. No command opens the TUI.")
    parser.add_argument("--config", help="settings TOML (default: $MAILTICKET_CONFIG, ./mailticket.toml, XDG config)")
    parser.add_argument("--db", help="store URL (default: $MAILTICKET_DB, [store] url, XDG data dir)")
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", help="process the active inboxes (once for cron, or in a loop)")
    run.add_argument("--once", action="store_true", help="one pass, then exit (cron)")
    run.add_argument("--inbox", action="append", help="only this inbox (repeatable)")
    run.add_argument("-v", "--verbose", action="store_true", help="print each message's outcome and trace")

    config = sub.add_parser("config", help="check, import or export the settings")
    csub = config.add_subparsers(dest="action", required=True)
    csub.add_parser("check", help="validate a TOML file").add_argument("file")
    csub.add_parser("import", help="upsert a TOML file into the store (by inbox name)").add_argument("file")
    export = csub.add_parser("export", help="write the store's settings as TOML")
    export.add_argument("--with-secrets", action="store_true", help="include passwords given by value")
    export.add_argument("-o", "--output", help="write to this new file (mode 0600) instead of stdout")
    export.add_argument("--force", action="store_true", help="replace the -o file if it exists")
    example = csub.add_parser("example", help="print the commented example file: every key, its default, its help")
    example.add_argument("--markdown", action="store_true", help="the settings reference as a Markdown table")

    inbox = sub.add_parser("inbox", help="inboxes")
    isub = inbox.add_subparsers(dest="action", required=True)
    isub.add_parser("list").add_argument("--json", action="store_true")
    isub.add_parser("test", help="connect, log in, select the folder").add_argument("name")
    isub.add_parser("authorize", help="OAuth2 consent (device code or browser) for an inbox with auth = "
                    "\"oauth2\"").add_argument("name")
    isub.add_parser("activate", help="poll this inbox again").add_argument("name")
    isub.add_parser("deactivate", help="stop polling this inbox (its records stay)").add_argument("name")

    messages = sub.add_parser("messages", help="the state of every message seen")
    msub = messages.add_subparsers(dest="action", required=True)
    mlist = msub.add_parser("list")
    mlist.add_argument("--inbox")
    mlist.add_argument("--status", choices=["new", "processed", "error", "undesired", "ignored", "duplicate"])
    mlist.add_argument("--search", default="", help="text in subject, sender or error")
    mlist.add_argument("--limit", type=int, default=0, help="page size (default: all)")
    mlist.add_argument("--page", type=int, default=1, help="page number, with --limit")
    mlist.add_argument("--json", action="store_true")
    for action, text in (("reset", "back to new (retried next pass; never a second ticket)"),
                         ("ignore", "leave alone"), ("delete", "delete from the server, then the record")):
        msub.add_parser(action, help=text).add_argument("ids", nargs="+", type=int)
    msub.add_parser("scan", help="list the server folder now: unseen mail shows as new, gone mail as vanished"
                    ).add_argument("inbox")
    mshow = msub.add_parser("show", help="one message: state, error, decision trace")
    mshow.add_argument("id", type=int)
    mshow.add_argument("--json", action="store_true")
    mshow.add_argument("--eml", metavar="FILE", help="also save the raw message to FILE (new, mode 0600)")
    mshow.add_argument("--force", action="store_true", help="replace the --eml file if it exists")

    outbox = sub.add_parser("outbox", help="outgoing mail (rejection replies, error forwards)")
    osub = outbox.add_subparsers(dest="action", required=True)
    olist = osub.add_parser("list")
    olist.add_argument("--pending", action="store_true", help="only mail not sent yet")
    olist.add_argument("--json", action="store_true")

    tickets = sub.add_parser("tickets", help="tickets")
    tsub = tickets.add_subparsers(dest="action", required=True)
    tlist = tsub.add_parser("list")
    for name in ("status", "class", "caller", "org", "inbox", "search", "team", "agent", "service", "priority"):
        tlist.add_argument(f"--{name}", default="")
    tlist.add_argument("--page", type=int, default=1)
    tlist.add_argument("--limit", type=int, default=0, help="page size (default: all)")
    tlist.add_argument("--json", action="store_true")
    tshow = tsub.add_parser("show")
    tshow.add_argument("ref")
    tshow.add_argument("--json", action="store_true")
    tstim = tsub.add_parser("stimulus", help="apply a lifecycle stimulus (ev_assign, ev_resolve, ev_close...)")
    tstim.add_argument("ref")
    tstim.add_argument("stimulus")
    tstim.add_argument("--as", dest="who", metavar="NAME", help="who signs it (default: your login name)")
    tlog = tsub.add_parser("log", help="add a case log entry")
    tlog.add_argument("ref")
    group = tlog.add_mutually_exclusive_group()
    group.add_argument("--public", action="store_true", default=True)
    group.add_argument("--private", action="store_true")
    tlog.add_argument("text")
    tlog.add_argument("--as", dest="who", metavar="NAME", help="who signs it (default: your login name)")
    tlegacy = tsub.add_parser("legacy", help="map a ticket to its id in a former iTop (CLASS::ID, e.g. "
                                             "UserRequest::123; \"\" clears it): replies to that iTop's mail thread")
    tlegacy.add_argument("ref")
    tlegacy.add_argument("legacy_ref")
    tlegacy.add_argument("--as", dest="who", metavar="NAME", help="who signs it (default: your login name)")
    tsub.add_parser("delete", help="delete a ticket (its kept mail then leaves the server)").add_argument("ref")

    replay = sub.add_parser("replay", help="what would happen to these mails now (writes nothing)")
    replay.add_argument("files", nargs="+")
    replay.add_argument("--inbox")
    replay.add_argument("--json", action="store_true")

    sub.add_parser("trace", help="an inbox's debug trace").add_argument("name")

    status = sub.add_parser("status", help="health of every inbox for monitoring: exit 5 when something needs "
                            "attention")
    status.add_argument("--json", action="store_true")
    status.add_argument("--stale-after", type=int, metavar="SECONDS",
                        help="an active inbox without a successful pass for this long needs attention "
                             "(default: 3 x periodicity, at least 600)")

    store = sub.add_parser("store", help="the store's schema version: status, explicit upgrade")
    ssub = store.add_subparsers(dest="action", required=True)
    ssub.add_parser("status", help="version, pending upgrade steps, backend and path (changes nothing)"
                    ).add_argument("--json", action="store_true")
    ssub.add_parser("upgrade", help="apply the pending upgrade steps now (a SQLite store is backed up first)")
    sub.add_parser("tui", help="open the terminal UI (the default)")
    cli_people.add_parsers(sub)
    return parser


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=None))


def _safe(text: str) -> str:
    """Mail text printed to a terminal: control characters (escape sequences) made harmless."""
    return "".join(c if c.isprintable() or c in "\n\t" else f"\\x{ord(c):02x}" for c in str(text))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except SettingsError as exc:
        for line in exc.problems:
            print(f"mailticket: {line}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as exc:
        print(f"mailticket: {exc}", file=sys.stderr)
        return EXIT_STORE
    except TicketError as exc:
        print(f"mailticket: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `mailticket ... | head`: the reader left; not an error worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "config" and args.action == "example":  # needs no store and no settings file
        from .settings_docs import example_toml, settings_markdown

        sys.stdout.write(settings_markdown() if args.markdown else example_toml())
        return EXIT_OK
    if args.command == "config" and args.action == "check":
        from .settings_compat import load_settings_file_with_notes

        settings, notes = load_settings_file_with_notes(args.file)
        for note in notes:  # what was read as a reference (iTop) spelling
            print(f"{args.file}: {_safe(note)}")
        print(f"{args.file}: OK ({len(settings.inboxes)} inboxes)")
        return EXIT_OK
    url, explicit = _store_url(args)
    if explicit:
        check_store_location(url)
    if args.command == "store":
        return _cmd_store(url, args)
    tui = args.command in (None, "tui")
    probe = terminal_probe.start() if tui else None  # the terminal's answers come while the rest imports
    try:
        from .services import open_services

        with reporting_upgrades(lambda result: print(f"mailticket: {result.line()}", file=sys.stderr)):
            services = open_services(args.config, url, warn=lambda line: print(line, file=sys.stderr))
    finally:
        if probe is not None:  # before an error ends the process: the probe gives the terminal its echo back
            probe.join()
    if tui:
        from .app import run_tui

        return run_tui(services, probe)
    handlers = {"run": _cmd_run, "config": _cmd_config, "inbox": _cmd_inbox, "messages": _cmd_messages,
                "outbox": _cmd_outbox, "tickets": _cmd_tickets, "replay": _cmd_replay, "trace": _cmd_trace,
                "status": _cmd_status, **cli_people.HANDLERS}
    return handlers[args.command](services, args)


def _store_url(args: argparse.Namespace) -> tuple[str, bool]:
    """The store URL and whether someone named it (--db, $MAILTICKET_DB, [store] url) or it is the default."""
    named = args.db or os.environ.get("MAILTICKET_DB")
    if named:
        return named, True
    path = config_search_path(args.config)
    file_url = load_settings_file(path).store.url if path else ""
    return (file_url, True) if file_url else (default_store_url(), False)


def _cmd_run(services, args) -> int:
    verbose = args.verbose or services.settings.engine.debug
    known = [i.name for i in services.settings.inboxes]
    for name in args.inbox or []:
        if name not in known:
            print(f"mailticket: no inbox named {name!r}; known: {', '.join(known) or 'none'}", file=sys.stderr)
            return EXIT_USAGE
    if not args.inbox and not known:
        print("mailticket: no inbox in the store, nothing to do; add one with `mailticket config import FILE` "
              "or the TUI", file=sys.stderr)
        if args.once:
            return EXIT_USAGE
    elif not args.inbox and not any(i.active for i in services.settings.inboxes):
        # paused on purpose (inbox deactivate): not a failure, so a cron job stays quiet and green
        print("no active inbox, nothing to do; `mailticket inbox activate NAME` resumes one", flush=True)
        if args.once:
            return EXIT_OK

    def sink(event: Event) -> None:
        if isinstance(event, InboxFinished):
            status = (event.error if event.error_kind == "served" else f"ERROR {event.error}") if event.error else "ok"
            print(f"{event.inbox}: {event.counters.line()} - {_safe(status)}", flush=True)
            for warning in event.warnings:
                print(f"{event.inbox}: warning: {warning}", flush=True)
        elif isinstance(event, OutboxSent):
            print(f"outbox: sent {event.sent}" + (f" - {_safe(event.problem)}" if event.problem else ""), flush=True)
        elif verbose and isinstance(event, TraceLine):
            print(f"  {event.inbox}: {_safe(event.line)}", flush=True)
        elif verbose and isinstance(event, MessageHandled):  # its decision trace, under the runner's line
            for line in event.trace:
                print(f"      {_safe(line)}", flush=True)

    if args.once:
        with terminal_progress(sink) as shown:
            return _exit_code(services.run_once(args.inbox, shown).results)
    from .cli_daemon import serve  # the daemon: IDLE or polling per inbox; SIGTERM stops, SIGHUP reloads

    with terminal_progress(sink) as shown:
        return _exit_code(serve(services, args.inbox, shown))


def _exit_code(results: Sequence[InboxFinished]) -> int:
    """The most serious outcome among the inboxes (each inbox got its turn whatever the others did)."""
    kinds = {r.error_kind for r in results if r.error_kind}
    if "store" in kinds:
        return EXIT_STORE
    if kinds & {"unreachable", "disposal"}:  # disposal: the server refused to delete or move processed mail
        return EXIT_UNREACHABLE
    if "settings" in kinds:
        return EXIT_USAGE
    if "internal" in kinds:  # a bug on one inbox (logged with its traceback); the others still ran
        return EXIT_INTERNAL
    if "busy" in kinds:
        return EXIT_BUSY
    return EXIT_OK


def _save_file(path: str, data: bytes | str, force: bool) -> bool:
    """Write a file the user named (safe_files: 0600, no symlink, no silent overwrite); False after saying why."""
    from .safe_files import UnsafeWriteError, write_private

    try:
        write_private(path, data, overwrite=force)
    except UnsafeWriteError as exc:
        hint = "; give --force to replace it" if exc.reason == "exists" else ""
        print(f"mailticket: {exc}{hint}", file=sys.stderr)
        return False
    except OSError as exc:
        print(f"mailticket: cannot write {path} ({exc.strerror or exc}); check the folder", file=sys.stderr)
        return False
    return True


def _cmd_config(services, args) -> int:
    import tomli_w

    if args.action == "import":
        settings = services.import_config(args.file)
        print(f"imported {args.file}: {len(settings.inboxes)} inboxes in the store")
        return EXIT_OK
    text = tomli_w.dumps(services.export_config(args.with_secrets))
    if args.output:
        if not _save_file(args.output, text, args.force):
            return EXIT_USAGE
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _cmd_inbox(services, args) -> int:
    if args.action in ("activate", "deactivate"):
        services.save_inbox(replace(services.inbox_settings(args.name), active=args.action == "activate"))
        print(f"{args.name}: {args.action}d; takes effect on the next pass")
        return EXIT_OK
    if args.action == "authorize":
        from .cli_oauth import authorize

        return authorize(services, args.name)
    if args.action == "list":
        health = services.health()
        if args.json:
            _print_json([h.as_json() for h in health])
            return EXIT_OK
        _print_health(health)
        return EXIT_OK
    try:
        result = services.test_inbox(args.name)
    except SourceError as exc:  # an OAuth2 inbox that needs authorization fails before connecting
        print(f"{args.name}: FAILED at {exc.kind}: {_safe(str(exc))}", file=sys.stderr)
        return EXIT_UNREACHABLE
    if result.ok:
        print(f"{args.name}: OK, {result.message_count} messages; capabilities: {' '.join(result.capabilities)}")
        if result.warning:
            print(f"{args.name}: warning: {result.warning}")
        return EXIT_OK
    print(f"{args.name}: FAILED at {result.stage}: {_safe(result.message)}", file=sys.stderr)
    return EXIT_UNREACHABLE


def _print_health(health) -> None:
    """The summary line, then per inbox its line as before and, indented, its connection and its messages."""
    from .services import health_summary

    print(_safe(health_summary(health)))
    for h in health:
        i = h.info
        state = (f"error x{i.error_streak}: {_safe(i.last_error)}" if i.error_streak
                 else f"last ok {i.last_success or 'never'}")
        print(f"{i.name:20} {i.protocol:7} {i.server}:{i.port or '-'} {i.mailbox or 'INBOX'} "
              f"{'active' if i.active else 'inactive'} {state}")
        print(f"  connection: {_safe(h.connection_line())}")
        print(f"  messages:   {_safe(h.messages_line())}")


def _cmd_status(services, args) -> int:
    """For monitoring: the same health as `inbox list`; exit 5 when something needs attention."""
    from .services import health_summary

    health = services.health(stale_after=args.stale_after)
    ok = not any(h.needs_attention for h in health)
    if args.json:
        _print_json({"ok": ok, "summary": health_summary(health), "inboxes": [h.as_json() for h in health]})
    else:
        _print_health(health)
    return EXIT_OK if ok else EXIT_ATTENTION


def _cmd_messages(services, args) -> int:
    if args.action == "list":
        rows = services.list_messages(args.inbox or "", args.status or "", args.search,
                                      offset=(max(args.page, 1) - 1) * args.limit, limit=args.limit or None)
        if args.json:
            _print_json([r.as_json() for r in rows])
            return EXIT_OK
        for r in rows:
            print(f"{r.id:6} {r.inbox:12} {r.status:9} {r.date or '-':19} {_safe(r.from_addr)[:30]:30} "
                  f"{_safe(r.subject)[:40]:40} {r.ticket_ref or ''} {_safe(r.error)[:60]}")
        return EXIT_OK
    if args.action == "show":
        return _show_message(services, args)
    if args.action == "scan":
        try:
            result = services.scan_mailbox(args.inbox)
        except SourceError as exc:
            print(f"mailticket: {args.inbox}: {_safe(str(exc))}", file=sys.stderr)
            return EXIT_UNREACHABLE
        print(f"{args.inbox}: {result.listed} on the server, {result.recorded} new recorded, "
              f"{result.vanished} gone" + (f" - {result.note}" if result.note else ""))
        return EXIT_BUSY if result.note.startswith("not scanned: ") and "processing" in result.note else EXIT_OK
    action = {"reset": services.reset_messages, "ignore": services.ignore_messages,
              "delete": services.delete_messages}[args.action]
    results = action(args.ids)
    for r in results:
        print(f"{r.id}: {'ok' if r.ok else 'FAILED'}: {_safe(r.message)}", file=sys.stdout if r.ok else sys.stderr)
    return EXIT_OK if all(r.ok for r in results) else EXIT_USAGE


def _show_message(services, args) -> int:
    try:
        info, trace, raw = services.message_detail(args.id)
    except KeyError:
        print(f"mailticket: no message #{args.id}; see `mailticket messages list`", file=sys.stderr)
        return EXIT_USAGE
    if args.eml:
        if raw is None:
            print(f"mailticket: message #{args.id} has no stored raw copy", file=sys.stderr)
            return EXIT_USAGE
        if not _save_file(args.eml, raw, args.force):
            return EXIT_USAGE
    if args.json:
        _print_json({**info.as_json(), "trace": trace.splitlines(), "raw_stored": raw is not None})
        return EXIT_OK
    for name, value in info.as_json().items():
        print(f"{name:>11}: {_safe(value) if value is not None else '-'}")
    print("\n" + "\n".join(f"  {_safe(line)}" for line in trace.splitlines()))
    return EXIT_OK


def _cmd_outbox(services, args) -> int:
    rows = services.list_outbox(pending_only=args.pending)
    if args.json:
        _print_json([r.as_json() for r in rows])
        return EXIT_OK
    for r in rows:
        state = f"sent {r.sent}" if r.sent else f"pending ({r.attempts} attempts) {_safe(r.last_error)}"
        print(f"{r.id:5} {r.kind:13} {_safe(r.to_addr)[:30]:30} {_safe(r.subject)[:40]:40} {state}")
    return EXIT_OK


def _cmd_tickets(services, args) -> int:
    from .services import TicketFilter

    if args.action == "list":
        filters = TicketFilter(getattr(args, "class"), args.status, args.caller, args.org, args.inbox, args.search,
                               args.team, args.agent, args.service, args.priority)
        limit = args.limit or None
        rows = services.list_tickets(filters, offset=(args.page - 1) * (limit or 0), limit=limit)
        if args.json:
            _print_json([t.as_json() for t in rows])
            return EXIT_OK
        for t in rows:
            print(f"{t.ref:9} {t.klass:15} {t.status:9} {_safe(t.caller_email)[:28]:28} {_safe(t.title)[:60]}")
        return EXIT_OK
    if args.action == "show":
        detail = services.get_ticket(args.ref)
        if args.json:
            _print_json(detail.as_json())
            return EXIT_OK
        _print_ticket(detail)
        return EXIT_OK
    if args.action == "stimulus":
        print(f"{args.ref}: {args.stimulus} -> {services.ticket_stimulus(args.ref, args.stimulus, args.who)}")
    elif args.action == "log":
        services.ticket_log(args.ref, args.text, public=not args.private, who=args.who)
        print(f"{args.ref}: {'private' if args.private else 'public'} log entry added")
    elif args.action == "legacy":
        print(f"{args.ref}: legacy ref {services.ticket_legacy_ref(args.ref, args.legacy_ref, args.who) or 'cleared'}")
    elif args.action == "delete":
        services.delete_ticket(args.ref)
        print(f"{args.ref}: deleted")
    return EXIT_OK


def _print_ticket(d) -> None:
    s = d.summary
    print(f"{s.ref} {s.klass} [{s.status}] {_safe(s.title)}")
    print(f"caller: {_safe(s.caller_email)}  org: {_safe(s.org)}  origin: {s.origin}  created: {s.created}  updated: {s.updated}")
    print(f"priority: {s.priority}  urgency: {d.urgency}  impact: {d.impact}")
    assigned = [(k, v) for k, v in (("team", s.team), ("agent", s.agent), ("service", s.service),
                                     ("subcategory", d.service_subcategory), ("legacy", d.legacy_ref)) if v]
    assigned += list(d.extra)
    if assigned:
        print("  ".join(f"{_safe(k)}: {_safe(v)}" for k, v in assigned))
    if d.parent:
        print(f"follows: {d.parent}")
    if d.contacts:
        print(f"contacts: {_safe(', '.join(d.contacts))}")
    print(f"\n{_safe(d.description_text).strip()}\n")
    for entry in d.case_log:
        print(f"--- {entry.date} {entry.log} {_safe(entry.author)}\n{_safe(entry.text).strip()}\n")
    for att in d.attachments:
        print(f"attachment: {_safe(att.filename)} ({att.content_type}, {att.size} bytes)")
    for change in d.history:
        print(f"history: {change.date} {_safe(change.who)}: {_safe(change.summary)} {','.join(change.fields)}")
    print(f"allowed stimuli: {', '.join(d.stimuli) or 'none'}")


def _cmd_replay(services, args) -> int:
    code = EXIT_OK
    for path in args.files:
        try:
            result = services.replay(path, args.inbox)
        except OSError as exc:
            print(f"mailticket: {path}: cannot read ({exc.strerror})", file=sys.stderr)
            code = EXIT_USAGE
            continue
        if args.json:
            _print_json(result)
            continue
        print(f"== {path}\nsubject: {_safe(result['subject'])}\nfrom: {_safe(result['from'])}\n"
              f"decision: {result['decision']['action']} {result['decision']['ticket_ref'] or ''} - {_safe(result['decision']['reason'])}")
        print("\n".join(f"  {_safe(line)}" for line in result["trace"]))
        print(f"--- new part ---\n{_safe(result['new_part'])}\n")
    return code


def _cmd_trace(services, args) -> int:
    for line in services.trace_lines(args.name):
        print(_safe(line))
    return EXIT_OK


def _cmd_store(url: str, args) -> int:
    """`store status` looks without changing anything; `store upgrade` applies the pending steps."""
    from .store.db import open_store, redact_url, sqlite_path, upgrade_store
    from .store.migrations import LATEST, current_version, describe

    path = sqlite_path(url)
    backend = "sqlite" if path is not None else "postgresql"
    missing = bool(path) and path != ":memory:" and not os.path.exists(path)
    if args.action == "status":
        version = 0
        if not missing:  # never create a store just to say there is none
            version = current_version(open_store(url, migrate=False))
        info = {"backend": backend, "url": redact_url(url), "path": path or None, "exists": not missing,
                "version": version, "latest": LATEST,
                "pending": [{"version": v, "description": describe(v)} for v in range(version + 1, LATEST + 1)]}
        if args.json:
            _print_json(info)
        else:
            state = "no store yet" if missing else f"version {version}"
            print(f"store: {info['url']} ({backend}): {state}; this mailticket writes version {LATEST}")
            for step in info["pending"]:
                print(f"  pending v{step['version']}: {step['description']}")
        if version > LATEST:
            print(f"mailticket: store {info['url']}: schema version {version} is newer than this mailticket "
                  f"knows ({LATEST}); upgrade mailticket or use another store", file=sys.stderr)
            return EXIT_STORE
        return EXIT_OK
    result = upgrade_store(open_store(url, migrate=False), url)
    if not result.applied:
        print(f"store: {redact_url(url)}: already at version {result.reached}; nothing to do")
        return EXIT_OK
    for step in result.applied:
        print(f"applied {step}")
    done = (f"created at version {result.reached}" if result.found == 0
            else f"upgraded from version {result.found} to {result.reached}")
    backup = f" (backup: {result.backup})" if result.backup else ""
    print(f"store: {redact_url(url)}: {done}{backup}")
    return EXIT_OK
