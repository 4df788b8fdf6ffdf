"""The pace of an inbox's pass, from two of its InboxProgress events: messages per second and time left.

Pure functions over the events' own timestamps (taken in the runner), so the TUI, which receives events in
coalesced batches, and the CLI, which receives them one by one, show the same figures. The rate is the
average since the work was announced (done 0): steady enough to read, and no state beyond the first event.
Headless: the CLI's progress bar and the TUI's status bar both format with `progress_text`.
"""
from __future__ import annotations

from dataclasses import dataclass

from .events import InboxProgress


@dataclass(frozen=True)
class Pace:
    rate: float | None  # messages per second; None until a message was handled after some time passed
    eta: float | None  # seconds left at that rate; 0 when all is done, None while the rate is unknown


def pace(first: InboxProgress, last: InboxProgress) -> Pace:
    """Rate from `first` (usually the announcement) to `last`; both of the same inbox and pass."""
    if last.done >= last.listed:
        return Pace(_rate(first, last), 0.0)
    rate = _rate(first, last)
    return Pace(rate, (last.listed - last.done) / rate if rate else None)


def _rate(first: InboxProgress, last: InboxProgress) -> float | None:
    elapsed, handled = last.at - first.at, last.done - first.done
    return handled / elapsed if elapsed > 0 and handled > 0 else None


def duration_text(seconds: float) -> str:
    """`0:42`, `12:05`, `2:03:10`: a countdown, rounded up (a last second left never shows as 0:00)."""
    total = int(-(-seconds // 1))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def rate_text(rate: float | None) -> str:
    if rate is None:
        return "-- msg/s"
    return f"{rate:.1f} msg/s" if rate < 10 else f"{rate:.0f} msg/s"


def progress_text(first: InboxProgress, last: InboxProgress) -> str:
    """`12/2920, 1 err, 35 msg/s, ETA 1:23`: what a progress bar shows beside the bar."""
    current = pace(first, last)
    eta = "--:--" if current.eta is None else duration_text(current.eta)
    return f"{last.done}/{last.listed}, {last.errors} err, {rate_text(current.rate)}, ETA {eta}"
