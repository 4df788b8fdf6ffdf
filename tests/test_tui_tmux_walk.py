"""The operator's walk at 80x24 in a real terminal (tmux), keyboard only, against a Maildir backlog:
configure an inbox in the form, watch the backlog's progress, find the failed mails from the Inboxes screen
in two keys, read the reason, fix the setting, reset them, and see them processed. Each step checks what the
screen shows (the columns that must be visible at 80 columns, dates with their year, the footer's keys).

tmux is installed by `make test` (as Dovecot is); without it the walk is skipped, except under CI where a
missing tmux is a failure.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .mailgen import make_mail

BACKLOG = 400
STRANGERS = range(0, BACKLOG, 4)  # every fourth mail comes from someone the directory does not know
WIDTH, HEIGHT = 80, 24

if shutil.which("tmux") is None:
    if os.environ.get("CI"):
        raise RuntimeError("tmux is missing: `make test` installs it (apt-get install tmux)")
    pytest.skip("tmux is not installed (make test installs it)", allow_module_level=True)


class Terminal:
    """One tmux session running the TUI: keys in, the visible screen out."""

    def __init__(self, name: str, command: str, cwd: Path) -> None:
        self.name, self.cwd = name, cwd
        self.env = {**os.environ, "TEXTUAL_ANIMATIONS": "none"}
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True, env=self.env)
        subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", str(WIDTH), "-y", str(HEIGHT), "-c", str(cwd),
                        command], check=True, env=self.env)

    def screen(self) -> str:
        done = subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True,
                              env=self.env)
        return done.stdout

    def keys(self, *keys: str, literal: bool = False) -> None:
        for key in keys:
            subprocess.run(["tmux", "send-keys", "-t", self.name, *(["-l"] if literal else []), key], check=True,
                           env=self.env)
            time.sleep(0.15)

    def wait_for(self, pattern: str, timeout: float = 60.0, every: float = 0.1) -> str:
        """The screen once `pattern` (a regex) shows on it; fails with the last screen after `timeout`."""
        deadline = time.monotonic() + timeout
        shown = ""
        while time.monotonic() < deadline:
            shown = self.screen()
            if re.search(pattern, shown, re.MULTILINE):
                return shown
            time.sleep(every)
        raise AssertionError(f"{pattern!r} never showed; last screen:\n{shown}")

    def wait_gone(self, pattern: str, timeout: float = 30.0) -> None:
        """Until `pattern` leaves the screen (a notification that would cover the table's right edge)."""
        deadline = time.monotonic() + timeout
        while re.search(pattern, self.screen(), re.MULTILINE):
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} never left the screen:\n{self.screen()}")
            time.sleep(0.1)

    def press_until_gone(self, key: str, pattern: str, tries: int = 20) -> None:
        """Press `key` until `pattern` leaves the screen (a dialog may take its key only once it is up)."""
        for _ in range(tries):
            self.keys(key)
            time.sleep(0.3)
            if not re.search(pattern, self.screen(), re.MULTILINE):
                return
        raise AssertionError(f"{key} never closed {pattern!r}:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True, env=self.env)


def _backlog(maildir: Path) -> None:
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    start = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.timezone.utc)
    for n in range(BACKLOG):
        sender = (f"Stranger {n} <stranger{n}@elsewhere.example>" if n in STRANGERS
                  else f"Known {n % 5} <known{n % 5}@acme.example>")
        mail = make_mail(sender=sender, subject=f"Backlog request {n}", date=start + dt.timedelta(minutes=n))
        (maildir / "new" / f"{1000 + n}.M{n}.walk").write_bytes(mail)


def _header_row(screen: str, *labels: str) -> str:
    """The table's header line: the one line holding every label, in order."""
    for line in screen.splitlines():
        positions = [line.find(f" {label} ") if label != labels[-1] else line.find(f" {label}") for label in labels]
        if all(p >= 0 for p in positions) and positions == sorted(positions):
            return line
    raise AssertionError(f"no header row with {labels}:\n{screen}")


@pytest.fixture
def terminal(tmp_path: Path):
    _backlog(tmp_path / "Maildir")
    (tmp_path / "mailticket.toml").write_text("[engine]\nperiodicity = 2\n", encoding="utf-8")
    (tmp_path / "people.csv").write_text(
        "first_name,name,email,organization\n" + "".join(f"Known,{i},known{i}@acme.example,Acme\n" for i in range(5)),
        encoding="utf-8")
    base = [sys.executable, "-m", "mailticket_tui", "--config", "mailticket.toml", "--db",
            f"sqlite:///{tmp_path / 'mt.db'}"]
    imported = subprocess.run([*base, "people", "import", "--create-orgs", "people.csv"], cwd=tmp_path,
                              capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr
    term = Terminal(f"walk{os.getpid()}", shlex.join(base), tmp_path)
    yield term
    term.close()


def test_the_operator_walk_at_80x24(terminal: Terminal) -> None:
    t = terminal
    screen = t.wait_for(r"No inbox yet: press n")
    assert "? Help" in screen and "modes" in screen  # the footer keeps help and the mode keys at 80 columns

    # 1. configure a Maildir inbox in the form (keyboard only)
    t.keys("n")
    t.wait_for(r"^ New inbox")
    t.keys("support", literal=True)
    t.keys("Tab", "Enter")
    t.wait_for(r"maildir")
    t.keys("Down", "Down", "Enter", "Tab")
    t.keys(str(t.cwd / "Maildir"), literal=True)
    t.wait_for(r"^ server +\S*Maildir")
    t.keys("C-s")

    # 2. the backlog is processed with its progress visible (counts of the listed mails)
    progress = t.wait_for(rf"\d+/{BACKLOG}", timeout=60, every=0.05)
    assert re.search(rf"\d+/{BACKLOG}", progress)
    screen = t.wait_for(rf"{len(STRANGERS)} err \({len(STRANGERS)} unknown caller\)", timeout=120)
    _header_row(screen, "Name", "Connection", "Messages")
    assert re.search(rf"{BACKLOG - len(STRANGERS)} done", screen)
    assert "x:" in screen  # the summary line names the key to the failed mails

    # 3. two keys from the Inboxes screen to the failed mails: the highlighted inbox's errors, with reasons
    t.wait_gone(r"takes effect")  # the save notice of step 1 fades (a fast backlog ends before it does)
    t.keys("x")
    screen = t.wait_for(r"rows 1-100 of 100")
    header = _header_row(screen, "#", "Status", "Date", "From", "Subject", "Ticket", "Error")
    assert len(header.rstrip()) <= WIDTH
    rows = [line for line in screen.splitlines() if re.match(r"^ +\d+ +error ", line)]
    assert rows and all("unknown caller" in row and re.search(r"2026-11-20", row) for row in rows)
    for key in ("r Reset", "/ Filter", "s Scan", "? Help"):
        assert key in screen, key

    # 4. the reason in full in the detail
    t.keys("Enter")
    screen = t.wait_for(r"^ Error$")
    assert re.search(r"unknown caller stranger\d+@elsewhere\.example", screen)
    assert re.search(r"date: 2026-11-20 \d\d:\d\d", screen)
    t.press_until_gone("Escape", r"^ Error$")

    # 5. fix the setting in the inbox form: unknown callers become persons
    t.keys("1")
    t.wait_for(r"Name +Connection")
    t.keys("e")
    t.wait_for(r"^ Inbox support")
    for _ in range(80):
        if re.search(r"^ unknown_caller_behavior:", t.screen(), re.MULTILINE):
            break
        t.keys("Tab")
    else:
        raise AssertionError("tab never reached unknown_caller_behavior:\n" + t.screen())
    t.keys("Enter", "Up", "Enter")
    t.wait_for(r"unknown_caller_behavior +create_contact")
    t.keys("C-s")
    t.wait_for(r"Name +Connection")

    # 6. reset the failed mails (select the page, reset, confirm) and see them processed
    t.keys("2")
    t.wait_for(r"rows 1-100 of 100")
    t.keys("a", "r")
    t.wait_for(r"Reset 100 message\(s\)\?")
    t.keys("y")
    t.wait_for(r"Reset: 100 ok, 0 failed")
    t.press_until_gone("Escape", r"Reset: 100 ok")
    t.keys("1")
    screen = t.wait_for(rf"{BACKLOG} done", timeout=120)
    assert " err" not in screen.split("Messages", 1)[1].splitlines()[1]

