"""`mailticket run` without --once: the daemon (engine/daemon.py) in a thread, the signals in the main thread.

SIGTERM and SIGINT stop it after the current message of each pass; SIGHUP re-reads the settings from the
store at once (systemd's ExecReload). The three signals are blocked in every thread before the daemon
starts its own (threads inherit the mask) and the main thread takes them with sigwait, so no handler ever
runs in the middle of the daemon's locks. Headless: no textual; Rich only through the caller's sink.
"""
from __future__ import annotations

import signal
import sys
import threading
from typing import TYPE_CHECKING, Union

from .engine import leases
from .engine.daemon import Daemon, EngineState
from .engine.events import Event, EventSink, InboxFinished

if TYPE_CHECKING:
    from .services import Services

STOP = {signal.SIGTERM, signal.SIGINT}
DONE = signal.SIGUSR2  # the daemon thread ended by itself (a bug): wake the main thread


def serve(services: "Services", only: list[str] | None, sink: EventSink) -> list[InboxFinished]:
    """Run the daemon until SIGTERM/SIGINT; the last outcome of each inbox it served (busy ones left out:
    an inbox another daemon serves is not a failure of this one)."""
    last_error = ""

    def report(item: Union[Event, EngineState]) -> None:
        nonlocal last_error
        if isinstance(item, EngineState):
            if item.last_error and item.last_error != last_error:
                print(f"mailticket: engine: {item.last_error}", file=sys.stderr, flush=True)
            last_error = item.last_error
            return
        sink(item)

    daemon = Daemon(services.reload, lambda **kwargs: services.run_once(**kwargs), report,
                    owner=leases.new_owner("run"), only=only)
    waited = STOP | {signal.SIGHUP, DONE}
    results: list[InboxFinished] = []
    main = threading.main_thread().ident

    def work() -> None:
        try:
            results.extend(daemon.run())
        finally:
            signal.pthread_kill(main, DONE)

    previous = signal.pthread_sigmask(signal.SIG_BLOCK, waited)
    try:
        thread = threading.Thread(target=work, name="daemon")
        thread.start()
        while (received := signal.sigwait(waited)) != DONE:
            if received in STOP:
                daemon.stop()
            else:
                daemon.reload()
        thread.join()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    return [r for r in results if r.error_kind != "busy"]
