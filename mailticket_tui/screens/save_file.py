"""Ask where to save bytes (a raw .eml, an attachment); dismisses with the chosen path or None.

The proposed name comes from mail, so it is reduced to a harmless base name before it is offered.
"""
from __future__ import annotations

import re
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ..widgets.safe_text import clean


def safe_file_name(name: str, fallback: str = "download") -> str:
    """A mail-supplied file name without directories, controls or leading dots (`../../x` -> `x`)."""
    base = re.split(r"[\\/]", clean(name))[-1]
    base = re.sub(r"[^\w.@+=-]+", "_", base).lstrip(".")[:120]
    return base or fallback


class SaveFileScreen(ModalScreen[str | None]):
    CSS_PATH = "save_file.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, what: str, suggested_name: str, folder: Path | None = None) -> None:
        super().__init__()
        self.what = what
        self.suggested = str((folder or Path.cwd()) / safe_file_name(suggested_name))

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(f"Save {clean(self.what, limit=100)} to:"))
            yield Input(self.suggested, id="path")
            yield Static(Text("enter: save · escape: cancel", style="dim"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
