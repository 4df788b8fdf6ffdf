"""What the four mode screens share: header, engine status bar and footer around the body, access to the
services, and the engine's event batches (the app publishes them on a signal).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header

from ..engine.events import Event
from ..widgets.engine_status import EngineStatusBar

if TYPE_CHECKING:
    from ..app import MailTicketApp
    from ..services import Services


class ModeScreen(Screen):
    """Subclasses write `compose_body` and may override `engine_events`."""

    @property
    def mt_app(self) -> "MailTicketApp":
        return cast("MailTicketApp", self.app)

    @property
    def services(self) -> "Services":
        return self.mt_app.services

    def compose(self) -> ComposeResult:
        yield Header(icon="✉")
        yield from self.compose_body()
        yield EngineStatusBar()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.mt_app.engine_events.subscribe(self, self.engine_events)

    def engine_events(self, batch: list[Event]) -> None:
        """A batch of the engine's events arrived (called on the event loop)."""
