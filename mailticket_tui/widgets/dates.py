"""How every screen shows a point in time: local time with the year, plus a compact relative form.

The store keeps naive UTC (store/models.py `utcnow`) and the services hand it on as ISO text
("2026-11-30 13:05:00"); these pure functions turn either into the viewer's local time:
- `when`: "2026-11-30 14:05" (16 cells), the form for detail views and wide columns;
- `compact`: at most 10 cells for narrow columns: "just now", "5 min ago", "3 h ago", "2 d ago" within a
  week, else the local date with its year, "2026-11-30";
- `when_ago`: `when` followed by "(3 h ago)" within a week, where the distance is what the reader wants.
A date that is missing is "", one that does not parse is shown as given (the caller cleans it like any
text), so nothing is ever hidden. `utc_now` is the one clock, a function so tests can pin it. Knows nothing
of Textual.
"""
from __future__ import annotations

import datetime as dt

RECENT = dt.timedelta(days=7)  # within this distance a relative form is shown


def utc_now() -> dt.datetime:
    """The current time (aware, UTC): the clock every relative form is measured against."""
    return dt.datetime.now(dt.timezone.utc)


def to_utc(value: str | dt.datetime | None) -> dt.datetime | None:
    """An aware UTC datetime from a store value (naive means UTC) or ISO text; None when absent or unreadable."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def _local(moment: dt.datetime, tz: dt.tzinfo | None) -> dt.datetime:
    return moment.astimezone(tz) if tz is not None else moment.astimezone()


def _unreadable(value: str | dt.datetime | None) -> str:
    return value if isinstance(value, str) else ""


def when(value: str | dt.datetime | None, *, tz: dt.tzinfo | None = None) -> str:
    """Local time with the year, to the minute: "2026-11-30 14:05" (`tz` defaults to the system's zone)."""
    moment = to_utc(value)
    if moment is None:
        return _unreadable(value)
    return _local(moment, tz).strftime("%Y-%m-%d %H:%M")


def ago(value: str | dt.datetime | None, *, now: dt.datetime | None = None) -> str:
    """The distance to now in one unit: "just now", "5 min ago", "3 h ago", "2 d ago", or "in 5 min" for a
    date ahead of the clock (a sender's clock may be wrong); "" when absent or unreadable."""
    moment = to_utc(value)
    if moment is None:
        return ""
    delta = (to_utc(now) or utc_now()) - moment
    seconds = abs(delta.total_seconds())
    if seconds < 60:
        return "just now"
    unit, size = next((u, s) for u, s in (("d", 86400), ("h", 3600), ("min", 60)) if seconds >= s)
    count = f"{int(seconds // size)} {unit}"
    return f"{count} ago" if delta.total_seconds() > 0 else f"in {count}"


def _recent(moment: dt.datetime, now: dt.datetime | None) -> bool:
    return abs((to_utc(now) or utc_now()) - moment) < RECENT


def compact(value: str | dt.datetime | None, *, now: dt.datetime | None = None,
            tz: dt.tzinfo | None = None) -> str:
    """At most 10 cells: relative within a week ("3 h ago"), else the local date with its year."""
    moment = to_utc(value)
    if moment is None:
        return _unreadable(value)
    if _recent(moment, now):
        return ago(moment, now=now)
    return _local(moment, tz).strftime("%Y-%m-%d")


def when_ago(value: str | dt.datetime | None, *, now: dt.datetime | None = None,
             tz: dt.tzinfo | None = None) -> str:
    """`when`, followed by the relative form within a week: "2026-11-30 14:05 (3 h ago)"."""
    moment = to_utc(value)
    if moment is None:
        return _unreadable(value)
    text = when(moment, tz=tz)
    return f"{text} ({ago(moment, now=now)})" if _recent(moment, now) else text
