"""Ask where to save bytes (a raw .eml, an attachment); dismisses with a SaveTarget or None.

The proposed name comes from mail, so it is reduced to a harmless base name before it is offered. The
choice is checked by safe_files.py before the dialog closes: a symbolic link or a folder is refused here
(say so, stay open), an existing file is replaced only after a yes (screens/confirm.py). The caller writes
with `safe_files.write_private(target.path, data, target.overwrite)` (mode 0600, no link followed).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ..safe_files import UnsafeWriteError, check_target
from ..widgets.safe_text import clean
from .confirm import ConfirmScreen


@dataclass(frozen=True)
class SaveTarget:
    """Where to write, and whether the user agreed to replace the file there."""

    path: str
    overwrite: bool = False


def safe_file_name(name: str, fallback: str = "download") -> str:
    """A mail-supplied file name without directories, controls or leading dots (`../../x` -> `x`)."""
    base = re.split(r"[\\/]", clean(name))[-1]
    base = re.sub(r"[^\w.@+=-]+", "_", base).lstrip(".")[:120]
    return base or fallback


class SaveFileScreen(ModalScreen[SaveTarget | None]):
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
            yield Static("", id="save-problem", markup=False)
            yield Static(Text("enter: save · escape: cancel", style="dim"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        typed = event.value.strip()
        if not typed:
            self.dismiss(None)
            return
        problem = self.query_one("#save-problem", Static)
        try:
            path = str(check_target(typed))
        except UnsafeWriteError as exc:
            if exc.reason != "exists":
                problem.update(Text(clean(str(exc), limit=300), style="bold red"))
                return
            path = str(Path(typed).expanduser())

            def answered(replace: bool | None) -> None:
                if replace:
                    self.dismiss(SaveTarget(path, overwrite=True))
                else:
                    problem.update(Text("not replaced: choose another name", style="yellow"))

            self.app.push_screen(ConfirmScreen(Text(f"{clean(path, limit=300)} already exists. Replace it?"),
                                               yes="Replace"), answered)
            return
        self.dismiss(SaveTarget(path))

    def action_cancel(self) -> None:
        self.dismiss(None)
