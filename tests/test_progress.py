"""Progress while a pass runs: the runner's InboxProgress events (Maildir and the private Dovecot, a failing
message included), the pace (rate, ETA) computed from their timestamps, `run --once` drawing Rich bars on
a terminal (a real pseudo-terminal) and printing exactly its usual lines elsewhere, and the TUI's status
bar showing a bar with counts while a Maildir backlog is processed, then looking as before.
"""
from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import ProgressBar

from mailticket_tui.app import build_app
from mailticket_tui.engine.background import EngineState
from mailticket_tui.engine.events import InboxFinished, InboxProgress, MessageHandled
from mailticket_tui.engine.pace import Pace, duration_text, pace, progress_text, rate_text
from mailticket_tui.services import open_services
from mailticket_tui.widgets.engine_status import EngineStatusBar, EngineView, PassProgress

from .mailgen import make_mail
from .runner_support import inbox_toml, write_settings
from .test_tui_support import maildir_inbox, make_maildir, open_store, screen_output, settle

LIMIT = '[engine]\nmaximum_email_size = "20K"\n'  # a bigger message is an error, never downloaded
BIG = make_mail(subject="Huge scan", body="x" * 40_000 + "\n")


def fill(maildir: Path, count: int, big_at: int | None = None) -> None:
    for n in range(count):
        raw = BIG if n == big_at else make_mail(subject=f"Request {n}", message_id=f"<req-{n}@acme.example>")
        (maildir / "new" / f"{n:04d}.M{n}.test").write_bytes(raw)


def progress_of(events: list, inbox: str) -> list[tuple[int, int, int]]:
    return [(e.listed, e.done, e.errors) for e in events if isinstance(e, InboxProgress) and e.inbox == inbox]


# -- the runner ------------------------------------------------------------------------------------------
def test_maildir_pass_reports_work_then_each_message_with_its_errors(tmp_path: Path) -> None:
    maildir = make_maildir(tmp_path / "Maildir")
    fill(maildir, 3, big_at=1)
    services = open_store(tmp_path, LIMIT + maildir_inbox("local", maildir))
    events: list = []
    services.run_once(sink=events.append)
    steps = progress_of(events, "local")
    assert [(listed, done) for listed, done, _ in steps] == [(3, 0), (3, 1), (3, 2), (3, 3)]
    failure = next(i for i, e in enumerate(events) if isinstance(e, MessageHandled) and e.status == "error")
    before = [e.errors for e in events[:failure] if isinstance(e, InboxProgress)]
    after = [e.errors for e in events[failure:] if isinstance(e, InboxProgress)]
    assert set(before) == {0} and set(after) == {1}  # counted with the message that failed, not before
    finished = next(e for e in events if isinstance(e, InboxFinished))
    assert finished.counters.errors == steps[-1][2] and finished.counters.processed == 2
    stamps = [e.at for e in events if isinstance(e, InboxProgress)]
    assert stamps == sorted(stamps)
    assert events.index(next(e for e in events if isinstance(e, InboxProgress))) < events.index(finished)

    events.clear()  # nothing new: no progress at all (no bar flashes for an idle poll)
    services.run_once(sink=events.append)
    assert progress_of(events, "local") == []

    failed = [m.id for m in services.list_messages("local", "error")]
    assert len(failed) == 1
    services.reset_messages(failed)  # a retry counts in the work of the next pass
    events.clear()
    services.run_once(sink=events.append)
    assert progress_of(events, "local") == [(1, 0, 0), (1, 1, 1)]


def test_imap_pass_reports_progress(mail_account, tmp_path: Path) -> None:
    for n in range(2):
        mail_account.append(make_mail(subject=f"VPN {n}"))
    mail_account.append(BIG)
    config = write_settings(tmp_path, inbox_toml("support", "imap", mail_account), maximum_email_size="20K")
    services = open_services(config=str(config), db=f"sqlite:///{tmp_path / 'store.db'}")
    events: list = []
    services.run_once(sink=events.append)
    assert progress_of(events, "support") == [(3, 0, 0), (3, 1, 0), (3, 2, 0), (3, 3, 1)]

    mail_account.append(make_mail(subject="VPN again"))
    events.clear()
    services.run_once(sink=events.append)
    assert progress_of(events, "support") == [(1, 0, 0), (1, 1, 0)]


# -- the pace --------------------------------------------------------------------------------------------
def at(done: int, seconds: float, listed: int = 100, errors: int = 0) -> InboxProgress:
    return InboxProgress("support", listed, done, errors, at=1000.0 + seconds)


def test_pace_is_the_average_since_the_work_was_announced() -> None:
    assert pace(at(0, 0), at(20, 4)) == Pace(5.0, 16.0)  # 80 left at 5/s
    assert pace(at(10, 2), at(30, 6)) == Pace(5.0, 14.0)  # measured from the first event given


def test_pace_unknown_before_a_message_or_without_elapsed_time() -> None:
    assert pace(at(0, 0), at(0, 0)) == Pace(None, None)
    assert pace(at(0, 0), at(0, 9)) == Pace(None, None)  # nothing handled yet: no rate, no guess
    assert pace(at(0, 5), at(3, 5)) == Pace(None, None)  # a batch with one timestamp: no division by zero


def test_pace_when_done() -> None:
    assert pace(at(0, 0), at(100, 10)) == Pace(10.0, 0.0)
    assert pace(at(0, 0, listed=0), at(0, 0, listed=0)) == Pace(None, 0.0)


def test_texts() -> None:
    assert duration_text(0) == "0:00"
    assert duration_text(0.2) == "0:01"  # rounded up: never 0:00 while work is left
    assert duration_text(83) == "1:23"
    assert duration_text(7390) == "2:03:10"
    assert rate_text(None) == "-- msg/s"
    assert rate_text(2.345) == "2.3 msg/s"
    assert rate_text(35.4) == "35 msg/s"
    assert progress_text(at(0, 0), at(20, 4, errors=1)) == "20/100, 1 err, 5.0 msg/s, ETA 0:16"
    assert progress_text(at(0, 0), at(0, 0)) == "0/100, 0 err, -- msg/s, ETA --:--"


# -- the CLI ---------------------------------------------------------------------------------------------
def cli_setup(tmp_path: Path) -> list[str]:
    """A Maildir of three messages (one too big: an error) and the command line of `run --once` on it."""
    maildir = make_maildir(tmp_path / "Maildir")
    fill(maildir, 3, big_at=2)
    config = tmp_path / "mailticket.toml"
    config.write_text(LIMIT + maildir_inbox("local", maildir), encoding="utf-8")
    return [sys.executable, "-m", "mailticket_tui", "--config", str(config), "--db",
            f"sqlite:///{tmp_path / 'store.db'}", "run", "--once"]


SUMMARY = "local: read 2, processed 2, errors 1, undesired 0, deleted 0, moved 0 - ok\n"  # the cron line


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS")}
    return {**env, "TERM": "xterm-256color", "COLUMNS": "100"}


def test_run_once_on_a_terminal_draws_bars_on_stderr(tmp_path: Path) -> None:
    command = cli_setup(tmp_path)
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                                env=child_env(), cwd=tmp_path)
        os.close(slave)
        slave = -1
        drawn = bytearray()
        reader = threading.Thread(target=lambda: drawn.extend(read_all(master)))
        reader.start()
        out, _ = proc.communicate(timeout=120)
        reader.join(30)
    finally:
        if slave != -1:
            os.close(slave)
        os.close(master)
    assert proc.returncode == 0
    assert out.decode() == SUMMARY  # stdout is a pipe here: untouched by the bars
    screen = drawn.decode(errors="replace")
    assert "local" in screen and "3/3, 1 err" in screen and "msg/s" in screen and "ETA" in screen
    assert "━" in screen  # Rich's bar
    assert screen.startswith("\x1b[?25l") and "\x1b[?25h" in screen  # cursor hidden, then given back
    assert screen.endswith("\x1b[1A\x1b[2K")  # transient: the bars are erased at the end


def read_all(fd: int) -> bytes:
    """Everything the child writes to the terminal, until its last holder closes it (EIO on Linux)."""
    chunks = []
    while True:
        ready, _, _ = select.select([fd], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_run_once_off_a_terminal_prints_only_its_lines_and_loads_no_rich(tmp_path: Path) -> None:
    command = cli_setup(tmp_path)
    probe = ("import runpy, sys\n"
             "sys.argv = ['mailticket', *sys.argv[1:]]\n"
             "try:\n"
             "    runpy.run_module('mailticket_tui', run_name='__main__')\n"
             "except SystemExit as exc:\n"
             "    sys.stdout.write(f'rich loaded: {\"rich\" in sys.modules}\\n')\n"
             "    raise\n")
    proc = subprocess.run([sys.executable, "-c", probe, *command[3:]], stdin=subprocess.DEVNULL,
                          capture_output=True, env=child_env(), cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == SUMMARY + "rich loaded: False\n"
    assert proc.stderr == b""  # no bar, no escape sequence: a cron log gets exactly the lines above


# -- the TUI ---------------------------------------------------------------------------------------------
async def wait_until(pilot, condition, what: str) -> None:
    """Bounded wait for the engine thread (the bound only turns a hang into a failure)."""
    for _ in range(400):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never happened: {what}")


async def test_status_bar_shows_a_bar_while_a_backlog_is_processed(tmp_path: Path) -> None:
    maildir = make_maildir(tmp_path / "Maildir")
    fill(maildir, 6, big_at=0)
    services = open_store(tmp_path, LIMIT + maildir_inbox("local", maildir))
    gate = threading.Event()
    run_once = services.run_once

    def held_at_three(**kwargs):
        """A slow event sink: the pass waits after its third message until the test has looked."""
        report = kwargs.pop("sink")

        def sink(event) -> None:
            report(event)
            if isinstance(event, InboxProgress) and event.done == 3:
                gate.wait(30)
        return run_once(sink=sink, **kwargs)

    services.run_once = held_at_three  # type: ignore[method-assign]
    app = build_app(services)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: bool(app.screen.query(PassProgress)), "the progress bar")
            await wait_until(pilot, lambda: app.engine_view.progress and app.engine_view.progress[1].done == 3,
                             "three messages done")
            await settle(pilot)
            bar = app.screen.query_one(ProgressBar)
            assert (bar.total, bar.progress) == (6, 3)
            text, _ = screen_output(app)
            assert "engine running · local" in text
            assert "3/6, 1 err," in text and "msg/s" in text and "ETA" in text
            assert "no pass yet" not in text  # the bar has the second line while it runs
            assert not app.engine_log or all("InboxProgress" not in line for line in app.engine_log)

            gate.set()
            await wait_until(pilot, lambda: app.engine_view.state and app.engine_view.state.passes >= 1,
                             "the pass finished")
            await settle(pilot)
            assert not app.screen.query(PassProgress)
            assert not app.screen.query_one(EngineStatusBar).has_class("-progress")
            text, _ = screen_output(app)
            assert "local" in text and "5 read, 5 ok, 1 err" in text and "msg/s" not in text  # as without a bar
            await pilot.press("q")
    finally:
        gate.set()


@pytest.mark.parametrize("state", ["waiting", "stopped"])
def test_a_pass_that_ends_without_finishing_its_inbox_leaves_no_bar(state: str) -> None:
    view = EngineView(EngineState("running"), current="local").with_progress(at(0, 0)).with_progress(at(5, 1))
    assert view.shows_progress and view.progress == (at(0, 0), at(5, 1))
    assert not replace(view, state=EngineState(state)).shows_progress  # the pass failed as a whole
