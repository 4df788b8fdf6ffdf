"""What every screen that calls the services shares: typed access to them (`services_of`) and the one path
a failed thread worker takes (`WorkerFailures`).

Workers never catch their own exceptions: each is declared `@work(thread=True, exclusive=True,
exit_on_error=False, group=..., name="<verb phrase>")`, so a failure ends the worker in
`WorkerState.ERROR` instead of ending the app, and Textual posts `Worker.StateChanged` to the node that
started it. `WorkerFailures.on_worker_state_changed` turns that into one notification `could not <name>:
<error>` (markup off: errors quote servers and mail), one log record, and a call to the screen's
`worker_failed` hook, which marks the view as stale. Errors that are the user's to fix (settings, store,
server, ticket rules, files) are shown as their own one-line message; anything else as `Type: message`
with the traceback in the log. A worker of a screen that was closed meanwhile is cancelled with it, so
its late failure is moot and not reported.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

from textual.dom import DOMNode
from textual.worker import Worker, WorkerState

from ..settings import SettingsError
from ..store.db import StoreError
from ..store.migrations import SchemaTooNew
from ..widgets.safe_text import clean

if TYPE_CHECKING:
    from ..app import MailTicketApp
    from ..services import Services

    _Node = DOMNode
else:
    _Node = object

log = logging.getLogger("mailticket_tui.tui")

LINE_LIMIT = 300


def expected_errors() -> tuple[type[BaseException], ...]:
    """Raised by the services with a message written for the user: shown as is, no type name, no traceback.
    Imported at the first failure, not before the first paint (the engine's modules are the heaviest)."""
    from ..directory import DirectoryError
    from ..engine.oauth.client import OAuthError
    from ..engine.sources.base import SourceError
    from ..engine.tickets import TicketError

    return (SettingsError, StoreError, SourceError, TicketError, SchemaTooNew, OSError, DirectoryError, OAuthError)


def app_of(node: DOMNode) -> "MailTicketApp":
    """The running MailTicketApp, typed (screens are only ever mounted in it)."""
    return cast("MailTicketApp", node.app)


def services_of(node: DOMNode) -> "Services":
    """The services the app was built with: the one place that knows where screens find them."""
    return app_of(node).services


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0]


def is_expected(error: BaseException) -> bool:
    """True for the errors whose message is written for the user (expected_errors); a KeyError raised with a
    sentence (services' `no message #N`) counts too, a bare dictionary miss does not."""
    if isinstance(error, KeyError):
        return bool(error.args) and isinstance(error.args[0], str) and " " in error.args[0]
    return isinstance(error, expected_errors())


def error_line(error: BaseException) -> str:
    """One safe line for an error: the user's message for expected ones, `Type: message` otherwise."""
    if isinstance(error, SettingsError) and error.problems:
        text = error.problems[0] + (f" (and {len(error.problems) - 1} more)" if len(error.problems) > 1 else "")
    elif isinstance(error, OSError) and error.strerror:
        text = f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    elif isinstance(error, KeyError) and is_expected(error):
        text = error.args[0]
    else:
        text = _first_line(str(error))
    if not is_expected(error):
        text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return clean(_first_line(text) or type(error).__name__, limit=LINE_LIMIT)


def failure_line(worker: Worker, error: BaseException | None) -> str:
    """`could not <what>: <error>`; <what> is the worker's name, a verb phrase such as `load messages`."""
    what = worker.name or "finish a background task"
    return f"could not {what}: {error_line(error) if error is not None else 'unknown error'}"


class WorkerFailures(_Node):
    """Mixed into the app and every screen that runs workers: reports a worker's failure once."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        line = failure_line(event.worker, error)
        if error is not None and not is_expected(error):
            log.error("%s", line, exc_info=error)
        else:
            log.warning("%s", line)
        self.app.notify(line, severity="error", markup=False, timeout=10)
        self.worker_failed(event.worker, line)

    def worker_failed(self, worker: Worker, line: str) -> None:
        """Hook: show that the view is stale or an action did not happen (`line` is already safe text)."""
