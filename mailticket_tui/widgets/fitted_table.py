"""A PagedTable whose columns follow its width: the most important ones, the flexible one taking the rest.

Screens declare `ColumnSpec`s (widgets/columns.py) and hand rows as {column key: cell}; on every resize
the columns are chosen again with `fit_columns`, and when the choice changed the table is rebuilt from the
rows it holds, the cursor staying on its row. The width of the vertical scrollbar is always kept free, so
the choice does not flip when a page grows past the table's height. Cells must already be safe (rich Text
from safe_text), never markup strings.

Columns are separated by one blank cell (a leading space in each cell and label, DataTable's own padding
off) instead of DataTable's two: at 80 columns that is the room of one more column.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from rich.text import Text
from textual import events

from .columns import Column, ColumnSpec, fit_columns
from .paged_table import PagedTable

RowCells = Mapping[str, Text]
INITIAL_WIDTH = 80  # until the first resize says the real width
GAP = 1  # blank cells before each column


def _gapped(columns: list[Column]) -> list[Column]:
    return [Column(key, " " * GAP + label, width + GAP) for key, label, width in columns]


def _gap(cell: Text) -> Text:
    """The cell after its gap; a copy, so the caller's Text and its overflow (an ellipsis) are kept."""
    gapped = cell.copy()
    gapped.pad_left(GAP)
    return gapped


class FittedTable(PagedTable):
    """Rows are (key, {column key: cell}); a cell for a column not shown at this width is simply not drawn."""

    def __init__(self, specs: Sequence[ColumnSpec], **kwargs) -> None:
        self.specs = tuple(specs)
        super().__init__(_gapped(fit_columns(self.specs, INITIAL_WIDTH, padding=GAP)), cell_padding=0, **kwargs)
        self._rows_shown: list[tuple[str, RowCells]] = []

    @property
    def column_keys(self) -> list[str]:
        """The keys of the columns shown at the current width, left to right."""
        return [key for key, _, _ in self._columns]

    def _cells(self, rows: Sequence[tuple[str, RowCells]]) -> list[tuple[str, list[Text]]]:
        return [(key, [_gap(cells.get(column, Text(""))) for column in self.column_keys]) for key, cells in rows]

    def show_rows(self, rows: Sequence[tuple[str, RowCells]], *, keep_cursor: bool = True) -> None:
        """Show these rows (PagedTable.show_page: updated in place when the keys are the same)."""
        self._rows_shown = list(rows)
        self.show_page(self._cells(self._rows_shown), keep_cursor=keep_cursor)

    def update_cells(self, key: str, cells: RowCells) -> bool:
        """Refresh one row if it is on this page (and remember it for the next re-layout); False when not."""
        for index, (shown_key, _) in enumerate(self._rows_shown):
            if shown_key == key:
                self._rows_shown[index] = (key, cells)
                return self.update_row(key, self._cells([(key, cells)])[0][1])
        return False

    def on_resize(self, event: events.Resize) -> None:
        self.fit(event.size.width)

    def fit(self, width: int) -> None:
        """Choose the columns for `width` cells; rebuild the table only when the choice changed."""
        columns = _gapped(fit_columns(self.specs, width - self.styles.scrollbar_size_vertical, padding=GAP))
        if columns == list(self._columns):
            return
        focus_key = self.current_key
        self._columns = columns
        with self.app.batch_update():
            self.clear(columns=True)
            for key, label, column_width in columns:
                self.add_column(label, key=key, width=column_width)
            for key, cells in self._cells(self._rows_shown):
                self.add_row(*cells, key=key)
        if focus_key is not None and focus_key in self.rows:
            self.move_cursor(row=self.get_row_index(focus_key), animate=False)
