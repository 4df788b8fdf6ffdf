"""The TUI's background engine: `services.run_once` every `engine.periodicity` seconds in one thread.

It holds inbox leases like any runner (run_pass claims them under our owner name), so a cron run and the
TUI never process the same inbox at once. It can be paused, resumed, asked to poll now and stopped; a stop
also interrupts a pass between two messages. Everything it learns goes to one `report` callback, called
from the engine thread: the runner's events plus an `EngineState` whenever the engine's own state changes.
Headless: never imports textual or rich (the app turns reports into messages).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Union

from . import leases
from .events import Event

if TYPE_CHECKING:
    from ..services import Services


@dataclass(frozen=True)
class EngineState:
    """What the status bar shows about the engine itself (per-inbox results come as InboxFinished)."""

    state: str  # starting | running (a pass is on) | waiting | paused | stopped
    next_poll: float | None = None  # epoch seconds of the next pass while waiting
    last_error: str = ""  # a pass that failed as a whole (store down...), one line
    passes: int = 0


Report = Callable[[Union[Event, EngineState]], None]


class BackgroundEngine:
    """Call `run()` in a thread; control it from any thread with pause/resume/poll_now/stop."""

    def __init__(self, services: "Services", report: Report, *, owner: str | None = None) -> None:
        self.services = services
        self.report = report
        self.owner = owner or leases.new_owner("tui")
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._paused = False
        self._poll_requested = False
        self._state = EngineState("starting")

    @property
    def state(self) -> EngineState:
        return self._state

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        """No new pass starts; a pass in progress finishes."""
        self._paused = True
        self._wake.set()

    def resume(self) -> None:
        self._paused = False
        self._wake.set()

    def poll_now(self) -> None:
        """Start a pass at once (also while paused: an explicit request wins)."""
        self._poll_requested = True
        self._wake.set()

    def stop(self) -> None:
        """End the loop; a running pass stops before its next message."""
        self._stop.set()
        self._wake.set()

    def run(self) -> None:
        """The loop: a pass, then wait `periodicity` seconds (or until woken)."""
        due = time.time()
        while not self._stop.is_set():
            if (not self._paused and time.time() >= due) or self._poll_requested:
                self._poll_requested = False
                self._pass()
                due = time.time() + max(1, self.services.settings.engine.periodicity)
            if self._stop.is_set():
                break
            self._set(state="paused" if self._paused else "waiting", next_poll=None if self._paused else due)
            self._wake.wait(timeout=None if self._paused else max(0.0, due - time.time()))
            self._wake.clear()
        self._set(state="stopped", next_poll=None)

    def _pass(self) -> None:
        self._set(state="running", next_poll=None)
        try:
            self.services.run_once(sink=self.report, stop=self._stop, owner=self.owner)
        except Exception as exc:  # noqa: BLE001 - the engine must outlive a bad pass (store down, bug)
            # One line, no traceback: locals may hold a resolved password.
            first = (str(exc).strip().splitlines() or [""])[0]
            self._set(last_error=f"{type(exc).__name__}: {first}"[:500], passes=self._state.passes + 1)
        else:
            self._set(last_error="", passes=self._state.passes + 1)

    def _set(self, **changes: object) -> None:
        state = EngineState(**{**self._state.__dict__, **changes})  # type: ignore[arg-type]
        if state != self._state:
            self._state = state
            self.report(state)
