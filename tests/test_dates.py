"""widgets/dates.py: local time with the year, and the compact relative form for narrow columns."""
from __future__ import annotations

import datetime as dt

from mailticket_tui.widgets import dates

PARIS_WINTER = dt.timezone(dt.timedelta(hours=1))
NOW = dt.datetime(2026, 11, 30, 13, 5, 0, tzinfo=dt.timezone.utc)


def test_when_is_local_time_with_the_year() -> None:
    assert dates.when("2026-11-30 13:05:00", tz=PARIS_WINTER) == "2026-11-30 14:05"
    assert dates.when(dt.datetime(2026, 11, 30, 13, 5, 59), tz=dt.timezone.utc) == "2026-11-30 13:05"  # naive: UTC
    assert dates.when("2026-12-31 23:30:00", tz=PARIS_WINTER) == "2027-01-01 00:30"  # the year turns locally
    aware = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert dates.when(aware, tz=PARIS_WINTER) == "2026-11-30 15:00"
    assert dates.when("2026-11-30T13:05:00+00:00", tz=PARIS_WINTER) == "2026-11-30 14:05"


def test_missing_is_empty_and_unreadable_is_shown_as_given() -> None:
    for render in (dates.when, dates.compact, dates.when_ago):
        assert render(None) == ""
        assert render("") == ""
        assert render("yesterday-ish") == "yesterday-ish"
    assert dates.ago("yesterday-ish") == "" and dates.ago(None) == ""


def test_ago_uses_one_unit() -> None:
    cases = {dt.timedelta(seconds=5): "just now", dt.timedelta(seconds=59): "just now",
             dt.timedelta(seconds=60): "1 min ago", dt.timedelta(minutes=59, seconds=59): "59 min ago",
             dt.timedelta(hours=3, minutes=40): "3 h ago", dt.timedelta(days=2, hours=23): "2 d ago",
             dt.timedelta(days=400): "400 d ago", -dt.timedelta(minutes=5): "in 5 min"}
    for delta, text in cases.items():
        assert dates.ago(NOW - delta, now=NOW) == text, delta


def test_compact_fits_ten_cells_relative_within_a_week_then_the_date() -> None:
    assert dates.compact(NOW - dt.timedelta(hours=3), now=NOW, tz=PARIS_WINTER) == "3 h ago"
    assert dates.compact(NOW - dt.timedelta(days=6, hours=23), now=NOW, tz=PARIS_WINTER) == "6 d ago"
    assert dates.compact(NOW - dt.timedelta(days=7), now=NOW, tz=PARIS_WINTER) == "2026-11-23"
    assert dates.compact("2025-01-02 00:30:00", now=NOW, tz=PARIS_WINTER) == "2025-01-02"
    for minutes in range(0, 60 * 24 * 9, 7):
        assert len(dates.compact(NOW - dt.timedelta(minutes=minutes), now=NOW)) <= 10


def test_when_ago_adds_the_distance_only_when_recent() -> None:
    assert dates.when_ago("2026-11-30 10:05:00", now=NOW, tz=PARIS_WINTER) == "2026-11-30 11:05 (3 h ago)"
    assert dates.when_ago("2026-11-20 09:30:00", now=NOW, tz=PARIS_WINTER) == "2026-11-20 10:30"


def test_the_clock_is_the_real_one_unless_given() -> None:
    assert dates.ago(dates.utc_now() - dt.timedelta(hours=2)) == "2 h ago"
    assert dates.utc_now().tzinfo is dt.timezone.utc
    naive_now = dt.datetime(2026, 11, 30, 13, 5)  # a naive `now` is UTC like every store value
    assert dates.ago("2026-11-30 12:05:00", now=naive_now) == "1 h ago"


def test_default_zone_is_the_systems(monkeypatch) -> None:
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert dates.when("2026-11-30 13:05:00") == "2026-11-30 13:05"
        monkeypatch.setenv("TZ", "Asia/Tokyo")
        time.tzset()
        assert dates.when("2026-11-30 13:05:00") == "2026-11-30 22:05"
    finally:
        monkeypatch.undo()
        time.tzset()
