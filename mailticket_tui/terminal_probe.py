"""What the terminal can draw (Sixel, Kitty's graphics protocol, the size of a cell in pixels), asked once before
Textual owns the terminal: once it does, the answers would arrive as key presses ("?" opened the help).

Every question goes out in one write closed by Device Attributes (DA1), which every VT100-compatible terminal
answers, and answers come back in the order asked: once DA1's answer is in, the others that will ever come are
in too. That is one round trip, where textual-image's own probe waits 0.1 s for each question a terminal leaves
unanswered (0.2-0.3 s before the first paint in most terminals). A terminal that never answers DA1 is given
`SILENT_WAIT`, then drawn in half blocks. Keys typed during the round trip are dropped.

textual-image is then imported without its probe (widgets/inline_image.py) and told these answers.
"""
from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import sys
import termios
import threading
import time
import tty
from dataclasses import dataclass

SILENT_WAIT = 0.5  # seconds to wait for a DA1 answer before taking the terminal for one that draws no image
DEFAULT_CELL = (10, 20)  # pixels (width, height) of a VT340's cell: textual-image's guess too
_KITTY_QUERY = b"\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\"  # a 1x1 image, only checked (a=q), never kept
_CELL_QUERY = b"\x1b[16t"  # the cell's size in pixels
_DA1_QUERY = b"\x1b[c"
_DA1 = re.compile(rb"\x1b\[\?([\d;]*)c")
_KITTY = re.compile(rb"\x1b_G([^\x1b]*)\x1b\\")
_CELL = re.compile(rb"\x1b\[6;(\d+);(\d+)t")


@dataclass(frozen=True)
class Terminal:
    """The answers; `tty` False when stdin or stdout is not a terminal (tests, pipes): nothing was asked."""

    tty: bool
    sixel: bool = False
    kitty: bool = False
    cell: tuple[int, int] = DEFAULT_CELL  # pixels (width, height)

    @property
    def drawing(self) -> str:
        """textual-image's choice for `auto`: Sixel first (Konsole and WezTerm also claim Kitty's protocol but
        draw its placeholders wrong), then Kitty's, half blocks in any other terminal, plain Unicode off one."""
        if not self.tty:
            return "unicode"
        return "sixel" if self.sixel else "kitty" if self.kitty else "halfcell"


def parse_answers(data: bytes, cell: tuple[int, int] | None = None) -> Terminal:
    """The terminal's answers to the three questions (`cell`: the pixel size the kernel already reported)."""
    attributes = _DA1.search(data)
    sixel = bool(attributes) and b"4" in attributes.group(1).split(b";")
    kitty = any(answer.rsplit(b";", 1)[-1] == b"OK" for answer in _KITTY.findall(data))
    if cell is None:
        size = _CELL.search(data)
        if size and int(size.group(1)) and int(size.group(2)):
            cell = (int(size.group(2)), int(size.group(1)))  # the answer says height, then width
    return Terminal(True, sixel, kitty, cell or _cell_from_environment())


def ask(fd_in: int, fd_out: int, wait: float = SILENT_WAIT) -> Terminal:
    """Ask the terminal on these descriptors (a tty), reading its answers without echo, restored after. A
    terminal that hangs up or refuses the mode change gets what it answered so far: half blocks at worst."""
    data = b""
    try:
        saved = termios.tcgetattr(fd_in)
        tty.setcbreak(fd_in, termios.TCSANOW)
        try:
            os.write(fd_out, _KITTY_QUERY + _CELL_QUERY + _DA1_QUERY)
            limit = time.monotonic() + wait
            while not _DA1.search(data):
                left = limit - time.monotonic()
                if left <= 0 or not select.select([fd_in], [], [], left)[0]:
                    break
                chunk = os.read(fd_in, 4096)
                if not chunk:
                    break
                data += chunk
        finally:
            termios.tcsetattr(fd_in, termios.TCSANOW, saved)
    except (OSError, termios.error):
        pass
    return parse_answers(data, _cell_from_kernel(fd_out))


def _cell_from_kernel(fd: int) -> tuple[int, int] | None:
    """The cell's pixels from the window size the kernel keeps, when the terminal filled them in."""
    try:
        rows, columns, width, height = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, bytes(8)))
    except OSError:
        return None
    if rows and columns and width // columns and height // rows:
        return width // columns, height // rows
    return None


def _cell_from_environment() -> tuple[int, int]:
    """textual-serve's variables for a terminal in a browser, else the VT340's cell."""
    width, height = os.environ.get("TEXTUAL_CELL_WIDTH", ""), os.environ.get("TEXTUAL_CELL_HEIGHT", "")
    if width.isdigit() and height.isdigit() and int(width) and int(height):
        return int(width), int(height)
    return DEFAULT_CELL


_answers: Terminal | None = None


def start() -> threading.Thread:
    """Ask in the background while the rest of the TUI imports."""
    thread = threading.Thread(target=_ask_console, name="terminal-probe", daemon=True)
    thread.start()
    return thread


def finish(thread: threading.Thread | None) -> None:
    """Before Textual takes the terminal: wait for a probe under way, or ask now when none was started."""
    if thread is not None:
        thread.join()
    if _answers is None:
        _ask_console()


def answers() -> Terminal:
    """What the terminal said; a non-terminal's answers when it was never asked (tests drive the app headless)."""
    return _answers or Terminal(False, cell=_cell_from_environment())


def _ask_console() -> None:
    global _answers
    stdin, stdout = sys.__stdin__, sys.__stdout__
    if stdin is None or stdout is None or not (stdin.isatty() and stdout.isatty()):
        _answers = Terminal(False, cell=_cell_from_environment())
        return
    stdout.flush()
    _answers = ask(stdin.fileno(), stdout.fileno())
