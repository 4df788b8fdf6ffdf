"""The app shell: starts and quits cleanly (empty store, server down, invalid config), modes by keys and
by the command palette, help, header and status bar, and a crash reported in one line without locals.
"""
from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from mailticket_tui.app import MailTicketApp, build_app, run_tui
from mailticket_tui.screens.help import HelpScreen
from mailticket_tui.screens.inboxes import InboxesScreen
from mailticket_tui.screens.mailbox import MailboxScreen
from mailticket_tui.screens.tickets import TicketsScreen
from mailticket_tui.screens.trace import TraceScreen

from .test_tui_support import open_store, screen_output, settle


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
