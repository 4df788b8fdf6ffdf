"""The app shell: starts and quits cleanly (empty store, server down, invalid config), modes by keys and
by the command palette, help, header and status bar (last passes from the store, then live; outbox
problems; unknown events), and a crash reported in one line without locals.
"""
from __future__ import annotations

import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from textual.widgets import Log

from mailticket_tui.app import MailTicketApp, build_app, run_tui
from mailticket_tui.engine.events import InboxCounters, InboxFinished, OutboxSent, PassFinished, PassStarted
from mailticket_tui.screens.help import HelpScreen
from mailticket_tui.screens.inboxes import InboxesScreen
from mailticket_tui.screens.mailbox import MailboxScreen
from mailticket_tui.screens.tickets import TicketsScreen
from mailticket_tui.screens.trace import TraceScreen
from mailticket_tui.store.models import Outbox

from .test_tui_support import mail_bytes, maildir_inbox, make_maildir, open_store, screen_output, settle


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_starts_and_quits_on_an_empty_store(tmp_path: Path) -> None:
    app = build_app(open_store(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, InboxesScreen)
        while app.engine_view.state is None or app.engine_view.state.state != "waiting":
            await pilot.pause(0.05)
        text, _ = screen_output(app)
        assert "No inbox yet: press n to add one." in text
        assert "engine waiting" in text
        assert app.sub_title.startswith("sqlite:///") and app.sub_title.endswith("mailticket.toml")
        await pilot.press("q")
    assert app.return_code == 0
    assert app.engine.state.state == "stopped"


async def test_an_unreachable_server_is_reported_not_fatal(tmp_path: Path) -> None:
    services = open_store(tmp_path, f"""
        [[inbox]]
        name = "down"
        protocol = "imap"
        server = "127.0.0.1"
        port = {closed_port()}
        tls = "none"
        login = "x@example.test"
        password = "hunter2"
        """)
    app = build_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        while not app.engine_view.inboxes:
            await pilot.pause(0.05)
        assert "refused" in app.engine_view.inboxes[0].error
        app.screen.action_refresh()
        await settle(pilot)
        text, _ = screen_output(app)
        assert "refused" in text and "hunter2" not in text
        await pilot.press("q")
    assert app.return_code == 0


def test_invalid_config_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[inbox]]\nname = "x"\nprotocol = "imapp"\nserver = "h"\nlogin = "l"\n', encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "mailticket_tui", "--config", str(bad), "--db",
                          f"sqlite:///{tmp_path / 's.db'}"], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[1])
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "protocol" in run.stderr and "did you mean 'imap'" in run.stderr
    assert all(line.startswith("mailticket: ") for line in run.stderr.splitlines())


async def test_modes_by_keys_palette_and_help(tmp_path: Path) -> None:
    app = build_app(open_store(tmp_path), start_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        for key, screen in (("2", MailboxScreen), ("3", TicketsScreen), ("4", TraceScreen), ("1", InboxesScreen)):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, screen)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text, _ = screen_output(app)
        assert "Everywhere" in text and "Inboxes" in text
        await pilot.press("escape", "ctrl+p")
        await pilot.press(*"go to tickets")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketsScreen)
        text, _ = screen_output(app)
        assert "engine off" in text
        await pilot.press("P")  # no engine in this session: said, not fatal
        await pilot.press("q")
    assert app.return_code == 0


async def test_a_crash_ends_in_one_line_without_locals(tmp_path: Path, monkeypatch, capsys) -> None:
    def boom(self) -> None:
        password = "hunter2"  # noqa: F841 - what Textual's traceback would print
        raise RuntimeError("something broke\nwith a second line")

    monkeypatch.setattr(MailTicketApp, "action_show_help", boom)
    app = build_app(open_store(tmp_path), start_engine=False)
    with pytest.raises(RuntimeError):
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("question_mark")
            await pilot.pause()
    assert app.return_code == 1
    assert app.crash == "RuntimeError: something broke"
    printed = capsys.readouterr().err
    assert printed.strip() == "mailticket: the TUI stopped on an internal error: RuntimeError: something broke"


def test_run_tui_turns_an_escaped_exception_into_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    def broken_run(self) -> None:
        password = "hunter2"  # noqa: F841
        raise OSError("terminal went away\nmore")

    monkeypatch.setattr(MailTicketApp, "run", broken_run)
    assert run_tui(open_store(tmp_path)) == 1
    assert capsys.readouterr().err == "mailticket: the TUI stopped: OSError: terminal went away\n"


async def test_engine_keys_pause_resume_and_poll_now(tmp_path: Path) -> None:
    app = build_app(open_store(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:

        async def state_becomes(name: str, passes: int = 0) -> None:
            for _ in range(2000):
                state = app.engine_view.state
                if state and state.state == name and state.passes >= passes:
                    return
                await pilot.pause(0.005)
            raise AssertionError(app.engine_view)

        await state_becomes("waiting", 1)
        await pilot.press("P")
        await state_becomes("paused")
        assert "engine paused" in screen_output(app)[0]
        await pilot.press("P")
        await state_becomes("waiting")
        await pilot.press("G")
        await state_becomes("waiting", 2)
        await pilot.press("q")


async def test_status_bar_starts_from_the_stored_last_pass_then_follows_live(tmp_path: Path) -> None:
    maildir = make_maildir(tmp_path / "M")
    (maildir / "new" / "1.M1.test").write_bytes(mail_bytes("Before the TUI"))
    services = open_store(tmp_path, maildir_inbox("support", maildir) + maildir_inbox("never", make_maildir(tmp_path / "N")) + f"""
        [[inbox]]
        name = "down"
        server = "127.0.0.1"
        port = {closed_port()}
        tls = "none"
        login = "x@example.test"
        password = "pw"
        """)
    services.run_once(["support", "down"])  # e.g. a cron run: the TUI was not there
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("3")  # any mode shows the same bar
        await settle(pilot)
        passes = {p.inbox: p for p in app.engine_view.inboxes}
        assert set(passes) == {"support", "down"}  # "never" was never polled
        assert passes["support"].line == "1 read, 1 ok, 0 err" and not passes["support"].error
        assert "refused" in passes["down"].error
        text, _ = screen_output(app)
        assert "support" in text and "1 read, 1 ok, 0 err" in text and "no pass yet" not in text

        app._engine_report(InboxFinished("support", InboxCounters(read=4, processed=3, errors=1)))
        await settle(pilot)
        assert "4 read, 3 ok, 1 err" in screen_output(app)[0]
        await pilot.press("1")  # the Inboxes mode reloads from the store: the newer live pass stays
        await settle(pilot)
        assert {p.inbox: p.line for p in app.engine_view.inboxes}["support"] == "4 read, 3 ok, 1 err"

        services.delete_inbox("down")
        app.screen.action_refresh()
        await settle(pilot)
        assert [p.inbox for p in app.engine_view.inboxes] == ["support"]  # a deleted inbox leaves the bar


async def test_outbox_reports_and_unknown_events_never_crash(tmp_path: Path) -> None:
    @dataclass(frozen=True)
    class FromANewerEngine:
        what: str

    class BrokenRepr:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    app = build_app(open_store(tmp_path), start_engine=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        problem = "smtp.example.test: connection refused \x1b]52;c;ZXZpbA==\x07 [@click=app.quit]x[/]"
        for event in (PassStarted(("support",)), OutboxSent(0, problem), PassFinished(()),
                      FromANewerEngine("hello"), BrokenRepr()):
            app._engine_report(event)  # type: ignore[arg-type]
        await settle(pilot)
        assert app.is_running
        text, terminal = screen_output(app)
        assert "last error: outbox: smtp.example.test: connection refused" in text
        assert "\x1b]52" not in terminal and "[@click=app.quit]x[/]" in text
        log = list(app.screen.query_one("#trace-engine-log", Log).lines)
        assert any("outbox: sent 0; waiting: smtp.example.test: connection refused" in line for line in log)
        assert any("FromANewerEngine(what='hello')" in line for line in log)
        assert any("unreadable event BrokenRepr" in line for line in log)

        for event in (PassStarted(("support",)), OutboxSent(2), PassFinished(())):
            app._engine_report(event)
        await settle(pilot)
        assert "last error" not in screen_output(app)[0]  # the waiting mail went out
        assert any(line.endswith("outbox: sent 2") for line in app.screen.query_one("#trace-engine-log", Log).lines)
        app._engine_report(OutboxSent(0, "still waiting"))
        app._engine_report(PassStarted(()))
        app._engine_report(PassFinished(()))  # a pass with nothing to say about the outbox: nothing waits
        await settle(pilot)
        assert app.engine_view.outbox_problem == ""
        await pilot.press("q")
    assert app.return_code == 0


async def test_a_real_pass_reports_mail_waiting_in_the_outbox(tmp_path: Path) -> None:
    services = open_store(tmp_path, maildir_inbox("support", make_maildir(tmp_path / "M")))
    Outbox.create(kind="rejection", to_addr="bob@example.test", subject="Not accepted")  # no [smtp] server
    app = build_app(services)
    async with app.run_test(size=(120, 36)) as pilot:
        for _ in range(400):
            if app.engine_view.outbox_problem:
                break
            await pilot.pause(0.02)
        assert "[smtp] server is not set" in app.engine_view.outbox_problem
        assert "last error: outbox: 1 mail(s) waiting" in screen_output(app)[0]
        assert any("outbox: sent 0; waiting: 1 mail(s)" in line for line in app.engine_log)
        await pilot.press("q")
