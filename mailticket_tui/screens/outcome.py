"""The outcome of an action on several messages, one line per message (ok or why not)."""
from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..widgets.safe_text import clean


class OutcomeScreen(ModalScreen[None]):
    """Shows `(id, ok, message)` results (services.ActionResult); any key in BINDINGS closes it."""

    CSS_PATH = "outcome.tcss"
    BINDINGS = [Binding("escape,enter,q", "close", "Close")]

    def __init__(self, title: str, results: Sequence) -> None:
        super().__init__()
        self.title_text = title
        self.results = list(results)

    def compose(self) -> ComposeResult:
        failed = sum(1 for r in self.results if not r.ok)
        with Vertical(id="dialog"):
            yield Static(Text(f"{self.title_text}: {len(self.results) - failed} ok, {failed} failed", style="bold"),
                         id="summary")
            with VerticalScroll(id="lines"):
                body = Text()
                for r in self.results:
                    body.append(f"#{r.id} ", style="bold")
                    body.append("ok  " if r.ok else "FAILED  ", style="green" if r.ok else "bold red")
                    body.append(clean(r.message, limit=500) + "\n")
                yield Static(body, markup=False)
            yield Static(Text("enter / escape: close", style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)
