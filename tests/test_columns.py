"""widgets/columns.py: which columns a table shows at a width, and how wide each is."""
from __future__ import annotations

from mailticket_tui.widgets.columns import CELL_PADDING, Column, ColumnSpec, fit_columns

SPECS = [
    ColumnSpec("ref", "Ref", 8, priority=0),
    ColumnSpec("class", "Class", 11, priority=5),
    ColumnSpec("status", "Status", 8, priority=1),
    ColumnSpec("title", "Title", 20, priority=0, flexible=True),
    ColumnSpec("org", "Org", 14, priority=6),
    ColumnSpec("date", "Date", 10, priority=2),
]


def total(columns: list[Column]) -> int:
    return sum(c.width + CELL_PADDING for c in columns)


def test_wide_enough_shows_everything_in_declared_order_and_the_title_takes_the_rest() -> None:
    columns = fit_columns(SPECS, 120)
    assert [c.key for c in columns] == ["ref", "class", "status", "title", "org", "date"]
    assert total(columns) == 120
    assert dict((c.key, c.width) for c in columns) == {"ref": 8, "class": 11, "status": 8, "title": 57, "org": 14,
                                                       "date": 10}


def test_narrow_drops_the_least_important_first_and_never_overflows() -> None:
    for width in range(20, 140):
        columns = fit_columns(SPECS, width)
        assert total(columns) <= width, width
        shown = {c.key for c in columns}
        hidden = [s for s in SPECS if s.key not in shown]
        for spec in SPECS:
            if spec.key in shown:  # nothing more important than a shown column is hidden
                assert all(h.priority > spec.priority or (h.priority == spec.priority
                                                           and SPECS.index(h) > SPECS.index(spec))
                           for h in hidden), (width, spec.key)
    assert [c.key for c in fit_columns(SPECS, 60)] == ["ref", "status", "title", "date"]
    assert fit_columns(SPECS, 60)[2] == Column("title", "Title", 60 - 4 * CELL_PADDING - 8 - 8 - 10)


def test_a_column_that_does_not_fit_ends_the_choice() -> None:
    """`org` (priority 6) would fit in what `class` (5) leaves, but may not show while `class` is hidden."""
    specs = [ColumnSpec("a", "A", 10), ColumnSpec("big", "Big", 30, priority=1), ColumnSpec("small", "S", 2,
                                                                                           priority=2)]
    assert [c.key for c in fit_columns(specs, 30)] == ["a"]


def test_flexible_columns_share_the_rest_and_respect_their_cap() -> None:
    specs = [ColumnSpec("subject", "Subject", 10, flexible=True), ColumnSpec("from", "From", 10, flexible=True,
                                                                            max_width=15)]
    columns = fit_columns(specs, 44)  # 40 cells of text: from stops at 15, subject takes the other 25
    assert columns == [Column("subject", "Subject", 25), Column("from", "From", 15)]
    assert fit_columns(specs, 25) == [Column("subject", "Subject", 11), Column("from", "From", 10)]


def test_the_first_column_shows_even_when_nothing_fits() -> None:
    assert fit_columns(SPECS, 6) == [Column("ref", "Ref", 4)]
    assert fit_columns(SPECS, 0) == [Column("ref", "Ref", 1)]
    assert fit_columns([], 80) == []


def test_no_flexible_column_leaves_the_rest_unused() -> None:
    specs = [ColumnSpec("a", "A", 5), ColumnSpec("b", "B", 5, priority=1)]
    assert fit_columns(specs, 50) == [Column("a", "A", 5), Column("b", "B", 5)]
    assert fit_columns(specs, 50, padding=0) == [Column("a", "A", 5), Column("b", "B", 5)]
    assert fit_columns(specs, 10, padding=0) == [Column("a", "A", 5), Column("b", "B", 5)]
    assert fit_columns(specs, 9, padding=0) == [Column("a", "A", 5)]


def test_a_preferred_width_keeps_less_important_columns_out() -> None:
    """The title shows from its minimum on, but `status` and `date` only join while it keeps 30 cells."""
    specs = [ColumnSpec("ref", "Ref", 8), ColumnSpec("status", "Status", 8, priority=1),
             ColumnSpec("date", "Date", 10, priority=2), ColumnSpec("title", "Title", 20, flexible=True, preferred=30)]
    assert fit_columns(specs, 30, padding=0) == [Column("ref", "Ref", 8), Column("title", "Title", 22)]
    assert fit_columns(specs, 45, padding=0) == [Column("ref", "Ref", 8), Column("title", "Title", 37)]
    assert fit_columns(specs, 46, padding=0) == [Column("ref", "Ref", 8), Column("status", "Status", 8),
                                                 Column("title", "Title", 30)]
    assert [c.key for c in fit_columns(specs, 56, padding=0)] == ["ref", "status", "date", "title"]
    assert fit_columns(specs, 27, padding=0) == [Column("ref", "Ref", 8)]  # below its minimum: no title
    for width in range(28, 120):
        columns = fit_columns(specs, width, padding=0)
        title = next(c for c in columns if c.key == "title")
        assert sum(c.width for c in columns) == width
        assert len(columns) == 2 or title.width >= 30, width
