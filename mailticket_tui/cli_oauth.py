"""`mailticket inbox authorize NAME`: an OAuth2 inbox's consent from an SSH terminal.

Device grant (Microsoft, generic with a device endpoint): prints the URL and the code, then waits with a
countdown on stderr (only on a terminal: cron logs and pipes get no progress lines). Browser grant (Google):
prints the consent URL and waits for the loopback redirect, or reads the redirected URL pasted on stdin
when the browser runs on another machine. Tokens never reach the screen. Exit 0 once stored; 3 when the
provider declines, the code expires or the user cancels (ctrl+c); 2 for an inbox that is not OAuth2.
"""
from __future__ import annotations

import sys
import threading

from .engine.oauth.client import OAuthError

EXIT_OK, EXIT_REFUSED = 0, 3


def authorize(services, name: str) -> int:
    """Run one consent for a saved inbox; SettingsError propagates (the CLI prints it, exit 2)."""
    try:
        authorization, consent = services.start_authorization(name)
    except OAuthError as exc:
        print(f"{name}: cannot start the authorization: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    try:
        for line in consent.lines():
            print(line, flush=True)
        if consent.flow == "browser":
            threading.Thread(target=_read_pasted, args=(authorization,), daemon=True, name="paste").start()
        try:
            print(authorization.wait(_countdown if sys.stderr.isatty() else None))
        except OAuthError as exc:
            _end_countdown()
            print(f"{name}: not authorized: {exc}", file=sys.stderr)
            return EXIT_REFUSED
        except KeyboardInterrupt:
            authorization.cancel()
            _end_countdown()
            print(f"{name}: authorization cancelled", file=sys.stderr)
            return EXIT_REFUSED
        _end_countdown()
        return EXIT_OK
    finally:
        authorization.close()


def _read_pasted(authorization) -> None:
    """Lines on stdin are redirected URLs pasted by the user; the first one with a code ends the wait."""
    for line in sys.stdin:
        if line.strip():
            authorization.paste(line.strip())


def _countdown(seconds_left: int) -> None:
    minutes, seconds = divmod(seconds_left, 60)
    sys.stderr.write(f"\rwaiting for the consent: {minutes}:{seconds:02d} left ")
    sys.stderr.flush()


def _end_countdown() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
