"""Reusable widgets of the TUI, including the one safe-text helper every screen uses for untrusted text."""
