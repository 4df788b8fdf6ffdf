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


class ModeScreen(WorkerFailures, Screen):
    """Subclasses write `compose_body` and may override `engine_events` and `worker_failed`."""

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

    def engine_events(self, batch: list[Event]) -> None:
        """A batch of the engine's events arrived (called on the event loop)."""
