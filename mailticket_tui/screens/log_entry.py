"""Write a case log entry for a ticket; dismisses with (text, public) or None."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static, Switch, TextArea


class LogEntryScreen(ModalScreen[tuple[str, bool] | None]):
    CSS_PATH = "log_entry.tcss"
    BINDINGS = [Binding("ctrl+s", "save", "Save", priority=True), Binding("escape", "cancel", "Cancel")]

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(f"New case log entry for {self.ref}", style="bold"))
            yield TextArea(id="text", soft_wrap=True, show_line_numbers=False)
            with Horizontal(id="options"):
                yield Label("public (the caller sees it)", markup=False)
                yield Switch(value=True, id="public")
            yield Static(Text("ctrl+s: save · escape: cancel", style="dim"))

    def action_save(self) -> None:
        text = self.query_one("#text", TextArea).text.strip()
        if not text:
            self.notify("The entry is empty.", severity="warning")
            return
        self.dismiss((text, self.query_one("#public", Switch).value))

    def action_cancel(self) -> None:
        self.dismiss(None)
