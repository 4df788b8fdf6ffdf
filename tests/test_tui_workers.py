"""Thread workers fail into one place (screens/base.py): a service call that raises becomes one notification
`could not <what>: <error>` (markup off), the screen marks its view stale, and the app keeps running. The
user's own errors (settings, store, tickets, files) read as their message; anything else as `Type: message`.
Also the declarations themselves, read from the source: every worker is named, never ends the app, never
catches its own exceptions, and runs on a node that reports failures.
"""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

from textual.widgets import Input, Log, Static

from mailticket_tui.app import build_app
from mailticket_tui.engine.tickets import TicketError
from mailticket_tui.screens.base import WorkerFailures, error_line
from mailticket_tui.screens.choice import ChoiceScreen
from mailticket_tui.screens.mailbox import MailboxScreen
from mailticket_tui.screens.message_detail import MessageDetailScreen
from mailticket_tui.screens.save_file import SaveFileScreen
from mailticket_tui.screens.ticket_detail import TicketDetailScreen
from mailticket_tui.screens.tickets import TicketsScreen
from mailticket_tui.screens.trace import TraceScreen
from mailticket_tui.settings import SettingsError
from mailticket_tui.store.db import StoreError

from .test_tui_support import add_messages, add_ticket, maildir_inbox, make_maildir, open_store, screen_output, settle

PACKAGE = Path(__file__).resolve().parents[1] / "mailticket_tui"


# -- the declarations ------------------------------------------------------------------------------------------
def declared_workers() -> list[tuple[str, str, ast.FunctionDef, ast.expr]]:
    """(module, class, function, decorator) for every function decorated with textual's `work`."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for cls in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(cls, ast.ClassDef):
                continue
            for fn in cls.body:
                if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    for decorator in fn.decorator_list:
                        target = decorator.func if isinstance(decorator, ast.Call) else decorator
                        if getattr(target, "id", getattr(target, "attr", "")) == "work":
                            found.append((module, cls.name, fn, decorator))
    return found


def test_every_worker_is_named_survivable_and_reports_through_the_one_handler() -> None:
    workers = declared_workers()
    assert len(workers) >= 15  # the app's two and the screens'
    for module, cls, fn, decorator in workers:
        where = f"{module}.{cls}.{fn.name}"
        assert isinstance(decorator, ast.Call), f"{where}: bare @work (exit_on_error would default to True)"
        options = {k.arg: ast.literal_eval(k.value) for k in decorator.keywords}
        assert options.get("thread") is True and options.get("exclusive") is True, where
        assert options.get("exit_on_error") is False, f"{where}: a failure would end the app"
        assert isinstance(options.get("name"), str) and options["name"], f"{where}: says what failed"
        assert options.get("group"), where
        handlers = [n for n in ast.walk(fn) if isinstance(n, ast.ExceptHandler)]
        assert not handlers, f"{where}: catches its own exceptions (line {handlers[0].lineno if handlers else 0})"
        assert issubclass(getattr(importlib.import_module(module), cls), WorkerFailures), where


def test_error_line_is_the_users_message_or_the_type_for_a_bug() -> None:
    assert error_line(SettingsError(["inbox[0] (support).port: not a TCP port", "other"])) == (
        "inbox[0] (support).port: not a TCP port (and 1 more)")
    assert error_line(StoreError("the store is read-only\nsecond line")) == "the store is read-only"
    assert error_line(PermissionError(13, "Permission denied", "/root/x.eml")) == "Permission denied: /root/x.eml"
    assert error_line(KeyError("no message #7")) == "no message #7"
    assert error_line(KeyError("inbox")) == "KeyError: 'inbox'"  # a bare miss is a bug, said as one
    assert error_line(RuntimeError("boom\nwith password=hunter2")) == "RuntimeError: boom"
    assert error_line(RuntimeError("esc \x1b[2J")) == "RuntimeError: esc ␛[2J"


# -- failures in the running app ---------------------------------------------------------------------------------
def recorded_notifications(app, monkeypatch) -> list[tuple[str, str, bool]]:
    """(message, severity, markup) of every notification, whichever widget sent it."""
    seen: list[tuple[str, str, bool]] = []
    real = app.notify

    def notify(message, *, title="", severity="information", timeout=None, markup=True) -> None:
        seen.append((str(message), severity, markup))
        real(message, title=title, severity=severity, timeout=timeout, markup=markup)

    monkeypatch.setattr(app, "notify", notify)
    return seen


def errors(seen: list[tuple[str, str, bool]]) -> list[str]:
    assert all(markup is False for _, severity, markup in seen if severity == "error")
    return [message for message, severity, _ in seen if severity == "error"]


def raising(error: BaseException):
    def call(*args, **kwargs):
        raise error
    return call


def static_text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).visual)


async def test_list_loads_fail_visibly_and_recover(tmp_path: Path, monkeypatch) -> None:
    """Mailbox, Tickets and Trace: the load raises, one notification says what, the info line says the rows
    are stale, and f5 recovers once the store answers again."""
    services = open_store(tmp_path, maildir_inbox("support", make_maildir(tmp_path / "M")))
    add_messages("support", 3)
    add_ticket("R-000001", inbox="support")
    app = build_app(services, start_engine=False)
    seen = recorded_notifications(app, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(services, "list_messages", raising(RuntimeError("disk I/O error\nsecond line")))
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, MailboxScreen)
        assert errors(seen) == ["could not load messages: RuntimeError: disk I/O error"]
        assert "could not load messages: RuntimeError: disk I/O error · f5 retries" in static_text(app, "#mailbox-info")
        monkeypatch.undo()
        seen = recorded_notifications(app, monkeypatch)
        await pilot.press("f5")
        await settle(pilot)
        assert app.screen.table.row_count == 3 and "rows 1-3 of 3" in static_text(app, "#mailbox-info")

        monkeypatch.setattr(services, "list_tickets", raising(StoreError("the store is locked by another program")))
        await pilot.press("3")
        await settle(pilot)
        assert isinstance(app.screen, TicketsScreen)
        assert errors(seen) == ["could not load tickets: the store is locked by another program"]
        assert "could not load tickets" in static_text(app, "#tickets-info")

        monkeypatch.setattr(services, "trace_lines", raising(SettingsError(["no inbox named 'support'"])))
        await pilot.press("4")
        await settle(pilot)
        assert isinstance(app.screen, TraceScreen)
        assert errors(seen)[-1] == "could not load the trace: no inbox named 'support'"
        assert list(app.screen.query_one("#trace-inbox-log", Log).lines) == [errors(seen)[-1]]
        assert app.is_running and app.return_code is None
        await pilot.press("q")
    assert app.return_code == 0


async def test_inbox_test_and_save_failures_are_one_line(tmp_path: Path, monkeypatch) -> None:
    services = open_store(tmp_path, maildir_inbox("support", make_maildir(tmp_path / "M")))
    app = build_app(services, start_engine=False)
    seen = recorded_notifications(app, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(services, "test_inbox", raising(SettingsError(["SUPPORT_PASSWORD is not set"])))
        await pilot.press("t")
        await settle(pilot)
        assert errors(seen) == ["could not test the connection: SUPPORT_PASSWORD is not set"]
        assert "could not test the connection" in static_text(app, "#inbox-info")

        monkeypatch.setattr(services, "save_inbox", raising(StoreError("attempt to write a readonly database")))
        await pilot.press("a")  # (de)activate: a save
        await settle(pilot)
        assert errors(seen)[-1] == "could not save the inbox: attempt to write a readonly database"
        assert services.settings.inbox("support").active  # nothing changed, and the list says so
        assert app.is_running


async def test_detail_screens_report_load_action_and_save_failures(tmp_path: Path, monkeypatch) -> None:
    services = open_store(tmp_path, maildir_inbox("support", make_maildir(tmp_path / "M")))
    [message_id] = add_messages("support", 1, raw=b"Subject: x\r\n\r\nbody\r\n")
    add_ticket("R-000001", inbox="support")
    app = build_app(services, start_engine=False)
    seen = recorded_notifications(app, monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(services, "message_detail", raising(KeyError(f"no message #{message_id}")))
        await app.open_mailbox("support", message_id)
        await settle(pilot)
        assert isinstance(app.screen, MessageDetailScreen)
        assert errors(seen) == [f"could not load the message: no message #{message_id}"]
        assert f"Message #{message_id}: could not load the message" in static_text(app, "#detail-summary")
        monkeypatch.undo()
        seen = recorded_notifications(app, monkeypatch)
        app.screen._load()
        await settle(pilot)
        await pilot.press("s")
        assert isinstance(app.screen, SaveFileScreen)
        app.screen.query_one(Input).value = str(tmp_path / "no-such-dir" / "x.eml")
        await pilot.press("enter")
        await settle(pilot)
        assert errors(seen) == [f"could not save the .eml: No such file or directory: {tmp_path}/no-such-dir/x.eml"]
        await pilot.press("escape")

        await pilot.press("3")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        monkeypatch.setattr(services, "ticket_stimulus", raising(TicketError("ev_assign is not allowed in state new")))
        await pilot.press("s")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        assert errors(seen)[-1].startswith("could not apply the stimulus: ev_assign is not allowed")
        assert app.is_running


async def test_hostile_error_text_stays_text_and_the_engine_crash_is_shown(tmp_path: Path, monkeypatch) -> None:
    """Markup in an error (a server quoting a subject) is not run; a background engine that dies is reported
    and the status bar stops claiming it runs; the app stays up through both."""
    services = open_store(tmp_path, maildir_inbox("support", make_maildir(tmp_path / "M")))
    app = build_app(services)
    monkeypatch.setattr(app.engine, "run", raising(RuntimeError("engine bug")))
    seen = recorded_notifications(app, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "could not run the background engine: RuntimeError: engine bug" in errors(seen)
        assert app.engine_view.state is not None and app.engine_view.state.state == "stopped"
        monkeypatch.setattr(services, "list_tickets", raising(StoreError("[@click=app.quit]quit[/] \x1b[2J")))
        await pilot.press("3")
        await settle(pilot)
        assert errors(seen)[-1] == "could not load tickets: [@click=app.quit]quit[/] ␛[2J"
        text, _ = screen_output(app)
        assert "[@click=app.quit]quit[/]" in text  # shown as typed, in the toast and the info line
        assert app.is_running and app.return_code is None
