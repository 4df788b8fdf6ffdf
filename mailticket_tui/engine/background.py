"""The TUI's background engine: the daemon of `mailticket run` (engine/daemon.py) on the TUI's services.

Same loop as the command line: IMAP IDLE where offered, polling every `engine.periodicity` seconds
elsewhere, inbox leases held while it serves them (so a cron run skips them), its share of the inboxes when
other daemons share the store. It can be paused (its leases are released meanwhile), resumed, asked to poll
now, to reload the settings, and stopped; a stop also interrupts a pass between two messages. Everything it
learns goes to one `report` callback, called from engine threads: the runner's events plus an
`EngineState` whenever the engine's own state changes.
Headless: never imports textual or rich (the app turns reports into messages).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import leases
from .daemon import Daemon, EngineState, Report

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["BackgroundEngine", "EngineState"]


class BackgroundEngine(Daemon):
    """Call `run()` in a thread; control it from any thread with pause/resume/poll_now/reload/stop."""

    def __init__(self, services: "Services", report: Report, *, owner: str | None = None) -> None:
        # run_once looked up at each pass: the settings are re-read from the store by every pass
        super().__init__(services.reload, lambda **kwargs: services.run_once(**kwargs), report,
                         owner=owner or leases.new_owner("tui"))
        self.services = services
