"""Test an inbox's connection step by step and say precisely where it fails (the "Test" button).

Boundary: opens a source (see sources/__init__.py), reads its folder state and closes it; changes
nothing on the server. Returns a frozen ProbeResult; never raises for a mailbox problem.
"""
from __future__ import annotations

import socket
from dataclasses import dataclass

from . import open_source
from .base import SourceConfig, SourceError

# Which step failed, from the SourceError kind.
_STAGE = {"dns": "dns", "refused": "connect", "timeout": "connect", "protocol": "connect", "tls": "tls",
          "auth": "auth", "folder": "folder", "missing": "folder"}
_DEFAULT_PORT = {("imap", True): 993, ("imap", False): 143, ("pop3", True): 995, ("pop3", False): 110}


@dataclass(frozen=True)
class ProbeResult:
    """Outcome of a connection test: `stage` is where it stopped (dns|connect|tls|auth|folder|done)."""

    ok: bool
    stage: str
    message: str
    message_count: int | None = None
    capabilities: tuple[str, ...] = ()
    tls: str = "none"  # e.g. "TLSv1.3 (implicit)", "TLSv1.3 (STARTTLS)", "none"
    warning: str | None = None  # e.g. "certificate verification is OFF ..."


def _warning(config: SourceConfig) -> str | None:
    if config.protocol == "maildir":
        return None
    notes = []
    if config.tls == "none":
        notes.append("no TLS: the password and the mail cross the network in clear")
    elif not config.verify_certificate:
        notes.append("certificate verification is OFF: anyone on the path can pose as the server")
    return "; ".join(notes) or None


def test_connection(config: SourceConfig) -> ProbeResult:
    """Resolve, connect, secure, log in, open the folder; report the first step that fails."""
    warning = _warning(config)
    if config.protocol in ("imap", "pop3"):
        port = config.port or _DEFAULT_PORT[(config.protocol, config.tls == "ssl")]
        try:
            socket.getaddrinfo(config.server, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            return ProbeResult(False, "dns", f"cannot resolve {config.server!r} ({exc.strerror}); check the "
                                             "server name", warning=warning)
        except UnicodeError:
            return ProbeResult(False, "dns", f"{config.server!r} is not a valid host name", warning=warning)
    try:
        source = open_source(config)
        with source:
            state = source.folder_state()
            caps = tuple(source.capabilities())
            version = getattr(source, "tls_version", None)
    except SourceError as exc:
        return ProbeResult(False, _STAGE.get(exc.kind, "connect"), str(exc), warning=warning)
    tls = "none"
    if version:
        tls = f"{version} ({'implicit' if config.tls == 'ssl' else 'STARTTLS'})"
    folder = config.mailbox or "INBOX"
    where = config.server if config.protocol == "maildir" else f"{config.server}:{getattr(source, 'port', '')}"
    return ProbeResult(True, "done", f"{config.protocol.upper()} {where}: {state.count} messages in {folder}",
                       state.count, caps, tls, warning)


test_connection.__test__ = False  # its name would make pytest collect it wherever it is imported
