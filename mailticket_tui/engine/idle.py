"""IMAP IDLE watches: one connection per inbox that waits for the server to announce new mail.

Boundary: a watch never reads, flags or deletes mail. It only tells the daemon "inbox X has news" (an
EXISTS or RECENT response, or a reconnection after which anything may have arrived); the pass that follows
is the ordinary runner on its own connection, under the inbox's lease, one transaction per message. So
IDLE changes how soon mail is processed, never how.

Life of a watch: connect, log in, select; a server without IDLE in its capabilities ends the watch as
`unsupported` (the daemon polls that inbox every periodicity). Otherwise IDLE until `refresh` seconds
passed (at most 29 minutes: RFC 2177 servers may drop an IDLE after 30), then DONE and NOOP (a dead link
fails there, within the inbox's timeout) and IDLE again. A dropped connection (the server closed it, BYE,
a reset) is re-established with exponential backoff (1 s doubling to 60 s) and reported as news.

Why a thread per watch and not an event loop: imapclient is blocking, and a watch spends its life in poll()
on its socket, so the kernel does the multiplexing: 100 watches are 100 sleeping threads with no CPU use
and no periodic wake-up (stop() shuts the socket down, which wakes poll() at once).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from .sources import SourceConfig, SourceError
from .sources.imap import ImapSource

log = logging.getLogger(__name__)
MAX_REFRESH = 29 * 60
MAX_BACKOFF = 60.0
NEWS = (b"EXISTS", b"RECENT")


class IdleWatch:
    """One inbox's IDLE connection in its own thread; `state` is connecting|idle|reconnecting|unsupported|stopped."""

    def __init__(self, config: SourceConfig, refresh: float, on_news: Callable[[str], None],
                 on_state: Callable[[str, str, str], None],
                 renew: Callable[[], SourceConfig] | None = None) -> None:
        self.config = config
        self.renew = renew  # fresh connection facts for a reconnect (an OAuth2 token expires within the hour)
        self.name = config.name
        self.refresh = max(1.0, min(float(refresh), MAX_REFRESH))
        self.on_news = on_news  # called from the watch thread: must be quick and never raise
        self.on_state = on_state  # (inbox, state, detail), same rules
        self.state = "connecting"
        self._closed = threading.Event()
        self._source: ImapSource | None = None
        self._thread = threading.Thread(target=self._run, name=f"idle {self.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, wait: float = 5.0) -> None:
        """End the watch: wakes its blocked wait at once, then LOGOUT is skipped (the socket is gone)."""
        self._closed.set()
        source = self._source
        if source is not None:
            source.interrupt()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(wait)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _set(self, state: str, detail: str = "") -> None:
        self.state = state
        self.on_state(self.name, state, detail)

    def _run(self) -> None:
        backoff = 1.0
        reconnect = False
        while not self._closed.is_set():
            try:
                if reconnect and self.renew is not None:
                    self.config = self.renew()
            except Exception as exc:  # noqa: BLE001 - e.g. the inbox needs authorization: keep trying
                self._set("reconnecting", f"{exc}; next try in {backoff:g} s")
                self._closed.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            reconnect = True
            source = ImapSource(self.config)
            try:
                source.connect()
            except SourceError as exc:
                self._set("reconnecting", f"{exc}; next try in {backoff:g} s")
                self._closed.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            if not source.has("IDLE"):
                source.close()
                self._set("unsupported", f"{source.where} does not offer IDLE; polling instead")
                return
            backoff = 1.0
            self._source = source
            try:
                if self._closed.is_set():  # stop() came while we connected and could not interrupt us
                    break
                self._watch(source)
            except Exception as exc:  # noqa: BLE001 - a watch outlives any server misbehaviour
                if self._closed.is_set():
                    break
                reason = str(exc) if isinstance(exc, SourceError) else f"{type(exc).__name__}: {exc}"
                self._set("reconnecting", f"{reason}; next try in {backoff:g} s")
                self._closed.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
            finally:
                self._source = None
                source.close()
        self._set("stopped")

    def _watch(self, source: ImapSource) -> None:
        """IDLE until closed or the link fails (raises). Reports news on entry: mail may have come meanwhile."""
        source.idle_start()
        self._set("idle", f"IDLE on {source.where}")
        self.on_news(self.name)
        deadline = time.monotonic() + self.refresh
        while not self._closed.is_set():
            left = deadline - time.monotonic()
            if left > 0:
                responses = source.idle_wait(left)
                if self._closed.is_set():
                    return
                if responses:
                    self._take(responses)
                    continue
                if deadline - time.monotonic() > 0.05:  # woke early with nothing: the server closed the link
                    self._take(source.idle_end())  # raises on a dead link; else a spurious wake-up
                    source.idle_start()
                    continue
            # refresh: end IDLE, check the link, start again before the server's own timeout
            self._take(source.idle_end())
            self._take(source.noop())
            source.idle_start()
            deadline = time.monotonic() + self.refresh

    def _take(self, responses: list) -> None:
        """News for the daemon; a BYE means the server is closing: reconnect."""
        for response in responses:
            if len(response) >= 1 and response[0] == b"BYE":
                raise SourceError("protocol", f"{self.config.server} closed the IDLE connection (BYE)")
        if any(len(r) >= 2 and r[1] in NEWS for r in responses):
            self.on_news(self.name)
