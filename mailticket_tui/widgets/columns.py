"""Which table columns fit a given width, and how wide each one is: one pure function for every table.

A screen declares its columns once as `ColumnSpec`s (key, label, width, priority, flexible) and asks
`fit_columns(specs, width)` whenever the table's width changes. Columns are taken by priority (0 is the
most important; ties keep the declared order) while their minimum widths fit; the first column that does
not fit ends the choice, so a column never shows while a more important one is hidden. The flexible columns
shown (a title, a subject) then share what is left, so nothing sits past the right edge and the text that
needs room gets all of it. A flexible column may ask for a `preferred` width: it shows from its minimum on,
but less important columns join only while it keeps its preferred width (else a title shrinks to its
minimum as soon as one more column fits). The result keeps the declared order, so priorities never reorder
a table.

Each column also costs `padding` cells besides its width (DataTable pads every cell with one cell either
side). Knows nothing of Textual: screens pass the width they have (see widgets/fitted_table.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Sequence

CELL_PADDING = 2  # DataTable's default cell_padding=1, on both sides


@dataclass(frozen=True)
class ColumnSpec:
    """One column a table may show. `width` is the exact width of a fixed column and the minimum of a
    flexible one; `preferred` is the width a flexible column keeps before less important columns join (None:
    its minimum); `max_width` caps a flexible column (None: it takes all that is left)."""

    key: str
    label: str
    width: int
    priority: int = 0
    flexible: bool = False
    max_width: int | None = None
    preferred: int | None = None


class Column(NamedTuple):
    """A column chosen for the current width: (key, label, width), the shape PagedTable takes."""

    key: str
    label: str
    width: int


def fit_columns(specs: Sequence[ColumnSpec], available: int, *, padding: int = CELL_PADDING) -> list[Column]:
    """The columns of `specs` to show in `available` cells and their widths, in declared order.

    The most important column is always shown (cut to what is available) so a table is never empty of
    columns; flexible columns share the remaining width evenly (the first ones get the odd cells) up to
    their `max_width`.
    """
    if not specs:
        return []
    ranked = sorted(range(len(specs)), key=lambda i: (specs[i].priority, i))
    chosen: list[int] = []
    used = reserved = 0  # reserved: what the chosen flexible columns want beyond their minimum
    for index in ranked:
        spec = specs[index]
        cost = spec.width + padding
        if used + cost + reserved > available and chosen:
            break
        chosen.append(index)
        used += cost
        if spec.flexible and spec.preferred is not None:
            reserved += max(0, spec.preferred - spec.width)
    widths = {i: specs[i].width for i in chosen}
    if len(chosen) == 1 and used > available:  # even the first column does not fit: show what fits of it
        widths[chosen[0]] = max(1, available - padding)
    _share(specs, widths, max(0, available - used))
    return [Column(specs[i].key, specs[i].label, widths[i]) for i in sorted(chosen)]


def _share(specs: Sequence[ColumnSpec], widths: dict[int, int], spare: int) -> None:
    """Hand `spare` cells to the chosen flexible columns, evenly, each up to its max_width."""
    growing = [i for i in sorted(widths) if specs[i].flexible]
    while spare > 0 and growing:
        share, odd = divmod(spare, len(growing))
        for n, index in enumerate(list(growing)):
            limit = specs[index].max_width
            room = spare if limit is None else max(0, limit - widths[index])
            grant = min(room, share + (1 if n < odd else 0))
            widths[index] += grant
            spare -= grant
            if limit is not None and widths[index] >= limit:
                growing.remove(index)
