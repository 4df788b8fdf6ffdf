"""What the five mode screens share: header, engine status bar and footer around the body, access to the
services, the one worker-failure path (screens/base.py), and the engine's event batches (the app publishes
them on a signal).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header

from ..engine.events import Event
from ..widgets.engine_status import EngineStatusBar
from .base import WorkerFailures, app_of, services_of

if TYPE_CHECKING:
    from ..app import MailTicketApp
    from ..services import Services


CLOCK_TICK = 60.0  # seconds between two redraws of the relative dates ("5 min ago") a list shows


class ModeScreen(WorkerFailures, Screen):
    """Subclasses write `compose_body` and may override `engine_events`, `worker_failed` and `redraw_dates`."""

    @property
    def mt_app(self) -> "MailTicketApp":
        return app_of(self)

    @property
    def services(self) -> "Services":
        return services_of(self)

    def compose(self) -> ComposeResult:
        yield Header(icon="✉")
        yield from self.compose_body()
        yield EngineStatusBar()
        yield Footer(compact=True, show_command_palette=False)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.mt_app.engine_events.subscribe(self, self.engine_events)
        self.set_interval(CLOCK_TICK, self._clock_tick)

    def _clock_tick(self) -> None:
        if self.is_current:  # a mode not shown redraws when it is shown again
            self.redraw_dates()

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            self.redraw_dates()

    def redraw_dates(self) -> None:
        """Draw the rows shown again from memory (no query), so that "5 min ago" does not stay 5 minutes old
        while the screen stays open."""

    def engine_events(self, batch: list[Event]) -> None:
        """A batch of the engine's events arrived (called on the event loop)."""
