"""textual-image asks the terminal what it can draw (Kitty graphics, Sixel, cell size) when it is imported.
Once Textual owns the terminal the answers would arrive as key presses ("?" opened the help), so the import
must happen before the TUI starts; a thread lets the wait for the answers overlap the TUI's other imports.
"""
from __future__ import annotations

import importlib
import threading

_MODULE = "textual_image.widget"


def start() -> threading.Thread:
    """Begin the import (and its terminal queries) in the background."""
    thread = threading.Thread(target=importlib.import_module, args=(_MODULE,), name="terminal-probe", daemon=True)
    thread.start()
    return thread


def finish(thread: threading.Thread | None) -> None:
    """Before Textual takes the terminal: wait for a probe under way, or do it now when none was started."""
    if thread is not None:
        thread.join()
    importlib.import_module(_MODULE)  # at once when the thread did it (or re-raises what it could not do)
