"""The TUI's screens: one per file with its .tcss beside it (modes, details and modal dialogs)."""
