"""The terminal probe (mailticket_tui/terminal_probe.py): one write of questions closed by DA1, answers read until
DA1's, over a real pseudo-terminal whose other end plays the terminal; and textual-image imported afterwards
without asking the terminal anything more."""
from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import termios
import textwrap
import threading
import time

import pytest

from mailticket_tui import terminal_probe
from mailticket_tui.terminal_probe import DEFAULT_CELL, Terminal, parse_answers

DA1_QUERY = b"\x1b[c"
VT100 = b"\x1b[?1;2c"
SIXEL_VT340 = b"\x1b[?63;1;2;4;6;9;15;22c"


def test_answers_parsed():
    assert parse_answers(VT100) == Terminal(True, sixel=False, kitty=False, cell=DEFAULT_CELL)
    assert parse_answers(SIXEL_VT340).drawing == "sixel"
    kitty = parse_answers(b"\x1b_Gi=31;OK\x1b\\\x1b[6;18;9t" + VT100)
    assert (kitty.kitty, kitty.cell, kitty.drawing) == (True, (9, 18), "kitty")
    refused = parse_answers(b"\x1b_Gi=31;ENOTSUPPORTED:no\x1b\\" + VT100)
    assert (refused.kitty, refused.drawing) == (False, "halfcell")
    assert parse_answers(b"\x1b[6;0;0t" + VT100).cell == DEFAULT_CELL  # a zero size is no size
    assert parse_answers(b"\x1b[6;18;9t" + VT100, cell=(8, 16)).cell == (8, 16)  # the kernel's figure first
    assert parse_answers(b"").drawing == "halfcell"  # a terminal that said nothing draws half blocks
    assert Terminal(False).drawing == "unicode"


def test_cell_size_from_textual_serve_variables(monkeypatch):
    monkeypatch.setenv("TEXTUAL_CELL_WIDTH", "7")
    monkeypatch.setenv("TEXTUAL_CELL_HEIGHT", "15")
    assert parse_answers(VT100).cell == (7, 15)
    monkeypatch.setenv("TEXTUAL_CELL_WIDTH", "0")
    assert parse_answers(VT100).cell == DEFAULT_CELL


class FakeTerminal(threading.Thread):
    """The terminal's side of a pseudo-terminal: records what the program writes, answers DA1 with `answer`
    (nothing when None), preceded by `before`."""

    def __init__(self, master: int, answer: bytes | None, before: bytes = b"") -> None:
        super().__init__(daemon=True)
        self.master, self.answer, self.before = master, answer, before
        self.seen = b""
        self.stop = threading.Event()

    def run(self) -> None:
        answered = False
        while not self.stop.is_set():
            if not select.select([self.master], [], [], 0.02)[0]:
                continue
            try:
                self.seen += os.read(self.master, 4096)
            except OSError:  # the program's side closed
                return
            if not answered and DA1_QUERY in self.seen and self.answer is not None:
                os.write(self.master, self.before + self.answer)
                answered = True


def test_one_round_trip_until_the_da1_answer():
    master, slave = pty.openpty()
    terminal = FakeTerminal(master, VT100, before=b"\x1b_Gi=31;OK\x1b\\\x1b[6;20;10t")
    terminal.start()
    try:
        began = time.monotonic()
        found = terminal_probe.ask(slave, slave, wait=60)  # returns on DA1's answer, not at the wait's end
        assert time.monotonic() - began < 30
        assert found == Terminal(True, sixel=False, kitty=True, cell=(10, 20))
        assert terminal.seen.count(b"\x1b[") >= 2 and terminal.seen.endswith(DA1_QUERY)  # one write, DA1 last
        assert termios.tcgetattr(slave)[3] & termios.ECHO  # echo back on
    finally:
        terminal.stop.set()
        terminal.join()
        os.close(master)
        os.close(slave)


def test_a_silent_terminal_gets_half_blocks_after_the_wait():
    master, slave = pty.openpty()
    terminal = FakeTerminal(master, None)
    terminal.start()
    try:
        found = terminal_probe.ask(slave, slave, wait=0.2)
        assert found == Terminal(True, cell=DEFAULT_CELL) and found.drawing == "halfcell"
        assert termios.tcgetattr(slave)[3] & termios.ICANON
    finally:
        terminal.stop.set()
        terminal.join()
        os.close(master)
        os.close(slave)


PROGRAM = textwrap.dedent("""
    import os, sys
    from mailticket_tui import terminal_probe
    terminal_probe.finish(terminal_probe.start())
    from mailticket_tui.widgets.inline_image import _WIDGETS
    from textual_image import renderable
    from textual_image._terminal import get_cell_size
    print(terminal_probe.answers().drawing, renderable.Image.__module__, _WIDGETS["auto"].__module__ + "." + _WIDGETS["auto"].__name__,
          *get_cell_size(), file=sys.stderr)
""")


@pytest.mark.parametrize("answer, drawing, renderable, widget", [
    (SIXEL_VT340, "sixel", "textual_image.renderable.sixel", "textual_image.widget.sixel.Image"),
    (VT100, "halfcell", "textual_image.renderable.halfcell", "textual_image.widget.AutoImage"),
])
def test_textual_image_asks_nothing_more(tmp_path, answer, drawing, renderable, widget):
    """In a fresh interpreter on a terminal: the probe's one write is all the terminal ever sees (textual-image's
    own questions would follow it), and textual-image draws what the answers chose."""
    master, slave = pty.openpty()
    terminal = FakeTerminal(master, answer, before=b"\x1b[6;16;8t")
    terminal.start()
    errors = tmp_path / "stderr"
    try:
        with errors.open("wb") as err:
            done = subprocess.run([sys.executable, "-c", PROGRAM], stdin=slave, stdout=slave, stderr=err,
                                  timeout=120, env={k: v for k, v in os.environ.items()
                                                    if not k.startswith("TEXTUAL_CELL")})
        assert done.returncode == 0, errors.read_text()
        assert errors.read_text().split() == [drawing, renderable, widget, "8", "16"]
        terminal.stop.set()
        terminal.join()
        seen = terminal.seen
        while select.select([master], [], [], 0)[0]:  # the program has exited: all it wrote is in the pty
            seen += os.read(master, 4096)
        assert seen.count(DA1_QUERY) == 1 and seen.endswith(DA1_QUERY), seen
    finally:
        terminal.stop.set()
        terminal.join()
        os.close(master)
        os.close(slave)


def test_a_terminal_that_hung_up_gets_half_blocks():
    master, slave = pty.openpty()
    os.close(master)  # reads on the program's side now fail (EIO)
    try:
        found = terminal_probe.ask(slave, slave, wait=30)
        assert found.drawing == "halfcell" and found.cell == DEFAULT_CELL
    finally:
        os.close(slave)


def test_echo_back_when_the_tui_stops_on_an_error_during_the_probe(tmp_path):
    """A settings error ends the process while a silent terminal is still being asked: the terminal gets its
    echo back all the same (the probe thread is waited for, not cut off with the terminal in cbreak mode)."""
    master, slave = pty.openpty()
    terminal = FakeTerminal(master, None)  # never answers: the probe holds the mode for SILENT_WAIT
    terminal.start()
    try:
        done = subprocess.run([sys.executable, "-m", "mailticket_tui", "--config", str(tmp_path / "missing.toml"),
                               "--db", f"sqlite:///{tmp_path / 'store.db'}"], stdin=slave, stdout=slave,
                              stderr=subprocess.PIPE, timeout=120)
        assert done.returncode == 2, done.stderr
        assert termios.tcgetattr(slave)[3] & termios.ECHO
    finally:
        terminal.stop.set()
        terminal.join()
        os.close(master)
        os.close(slave)
