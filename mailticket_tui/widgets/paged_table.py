"""A DataTable that shows one page of rows at a time and updates it by row key.

The store pages (never the table): a screen loads one page in a worker and hands it here. When the same
rows come back with new values (the engine processed a message), only the changed cells are updated and
the cursor stays put; when the set or order of rows changed, the page is rebuilt and the cursor follows
its row by key. Cells must already be safe (rich Text from safe_text), never markup strings.

A table built with `store_pages=True` also turns the store's pages with the table's own keys: page down on
the last row asks for the next page, page up on the first row for the previous one, home and end for the
first and the last (`PageWanted`; the screen loads it). Other tables keep DataTable's keys.
"""
from __future__ import annotations

from typing import Literal, Sequence

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

Cells = Sequence[Text]
Where = Literal["next", "previous", "first", "last"]


class PagedTable(DataTable):
    """Row cursor, zebra stripes, fixed columns given as (key, label, width)."""

    class PageWanted(Message):
        """The user asked for another store page (`where`: next, previous, first, last)."""

        def __init__(self, table: "PagedTable", where: Where) -> None:
            super().__init__()
            self.table, self.where = table, where

        @property
        def control(self) -> "PagedTable":
            return self.table

    def __init__(self, columns: Sequence[tuple[str, str, int | None]], *, store_pages: bool = False,
                 **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._columns = columns
        self.store_pages = store_pages

    def action_page_down(self) -> None:
        if self.store_pages and self.cursor_row >= self.row_count - 1:
            self.post_message(self.PageWanted(self, "next"))
        else:
            super().action_page_down()

    def action_page_up(self) -> None:
        if self.store_pages and self.cursor_row <= 0:
            self.post_message(self.PageWanted(self, "previous"))
        else:
            super().action_page_up()

    def action_scroll_home(self) -> None:
        """Home: the first store page (DataTable's home scrolls to the first column, which a row cursor
        and fitted columns never need)."""
        if self.store_pages:
            self.post_message(self.PageWanted(self, "first"))
        else:
            super().action_scroll_home()

    def action_scroll_end(self) -> None:
        if self.store_pages:
            self.post_message(self.PageWanted(self, "last"))
        else:
            super().action_scroll_end()

    def on_mount(self) -> None:
        for key, label, width in self._columns:
            self.add_column(label, key=key, width=width)

    @property
    def row_keys(self) -> list[str]:
        return [str(row.key.value) for row in self.ordered_rows]

    @property
    def current_key(self) -> str | None:
        if not self.row_count:
            return None
        return str(self.ordered_rows[min(self.cursor_row, self.row_count - 1)].key.value)

    def show_page(self, rows: Sequence[tuple[str, Cells]], *, keep_cursor: bool = True) -> None:
        """Show these rows (key, cells); update in place when the keys are the same as before."""
        keys = [key for key, _ in rows]
        columns = [key for key, _, _ in self._columns]
        if keys == self.row_keys:
            for key, cells in rows:
                current = self.get_row(key)
                for column, old, new in zip(columns, current, cells):
                    if old != new:
                        self.update_cell(key, column, new)
            return
        focus_key = self.current_key if keep_cursor else None
        with self.app.batch_update():
            self.clear()
            for key, cells in rows:
                self.add_row(*cells, key=key)
        if focus_key in keys:
            self.move_cursor(row=keys.index(focus_key), animate=False)
        else:
            self.move_cursor(row=0, animate=False)

    def update_row(self, key: str, cells: Cells) -> bool:
        """Refresh one row if it is on this page; False when it is not."""
        if key not in self.rows:
            return False
        for (column, _, _), cell in zip(self._columns, cells):
            self.update_cell(key, column, cell)
        return True
