"""The one boundary that matters: the headless core never loads Textual or Rich (checked in a subprocess)."""
from __future__ import annotations

import subprocess
import sys

HEADLESS = [
    "mailticket_tui.engine",
    "mailticket_tui.engine.runner",
    "mailticket_tui.engine.parse",
    "mailticket_tui.engine.sources.imap",
    "mailticket_tui.engine.sources.pop3",
    "mailticket_tui.engine.sources.maildir",
    "mailticket_tui.store",
    "mailticket_tui.settings",
    "mailticket_tui.services",
]


def loaded_ui_modules(modules: list[str], forbidden: tuple[str, ...]) -> list[str]:
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules if m.split('.')[0] in {forbidden!r}}}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return eval(out.stdout.strip())


def test_headless_modules_load_neither_textual_nor_rich() -> None:
    assert loaded_ui_modules(HEADLESS, ("textual", "rich")) == []


def test_cli_loads_no_textual() -> None:
    assert loaded_ui_modules(["mailticket_tui.cli"], ("textual",)) == []
