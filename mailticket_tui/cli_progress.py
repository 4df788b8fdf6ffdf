"""`mailticket run` on a terminal: a Rich progress bar per inbox on stderr while a pass runs.

`terminal_progress(sink)` wraps the CLI's event sink for one pass. When stderr is not a terminal (cron, a
pipe, a log file) it hands the sink back untouched and never imports Rich, so the output stays byte for
byte one line per inbox and cron does not pay the import. On a terminal the bars are transient: they vanish
when the pass ends, leaving the usual lines. Those lines go to stdout as always; when stdout is the same
terminal, Rich prints them above the bars (it would otherwise tear them), and when stdout is a file or a
pipe they go there untouched. Rate and ETA come from the runner's event timestamps (engine/pace.py), as in
the TUI; Rich only draws, at its own refresh rate, so a fast pass costs a dictionary update per message.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import IO, Iterator

from .engine.events import Event, EventSink, InboxFinished, InboxProgress
from .engine.pace import progress_text


@contextmanager
def terminal_progress(sink: EventSink, stream: IO[str] | None = None) -> Iterator[EventSink]:
    """The sink to give one pass: `sink` itself off a terminal, else `sink` plus the progress bars."""
    stream = sys.stderr if stream is None else stream
    if not _is_terminal(stream):
        yield sink
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn

    from .widgets.safe_text import clean

    progress = Progress(
        TextColumn("{task.description}", markup=False), BarColumn(), TextColumn("{task.fields[pace]}", markup=False),
        console=Console(file=stream), transient=True, redirect_stdout=_same_terminal(stream))
    first: dict[str, tuple[int, InboxProgress]] = {}  # inbox -> (its task, the event that announced its work)

    def shown(event: Event) -> None:
        if isinstance(event, InboxProgress):
            if event.inbox not in first:
                task = progress.add_task(clean(event.inbox, limit=30), total=event.listed, completed=event.done,
                                         pace=progress_text(event, event))
                first[event.inbox] = (task, event)
            else:
                task, start = first[event.inbox]
                progress.update(task, total=event.listed, completed=event.done, pace=progress_text(start, event))
        elif isinstance(event, InboxFinished) and event.inbox in first:
            progress.stop_task(first[event.inbox][0])
        sink(event)

    with progress:
        yield shown


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or fake stream
        return False


def _same_terminal(stream: IO[str]) -> bool:
    """stdout shows on the terminal the bars are drawn on (then Rich must print it above them)."""
    try:
        return sys.stdout.isatty() and os.path.samestat(os.fstat(sys.stdout.fileno()), os.fstat(stream.fileno()))
    except (AttributeError, ValueError, OSError):  # no real file behind one of them
        return False
