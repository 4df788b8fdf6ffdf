"""The MailSource protocol: what the runner needs from a mailbox, whatever the protocol behind it.

Identity of a message is its `key`: the IMAP UID (as text), the POP3 UIDL, or the Maildir unique name.
Sources never change a message's state on the server unless asked (delete/move); reading never sets \\Seen.
Also here, shared by the network sources: the verifying TLS context and the mapping of socket/TLS
exceptions to one-line SourceErrors (what, where, how to fix).
"""
from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from typing import BinaryIO, Iterable, Protocol


class SourceError(Exception):
    """A mailbox could not be reached or refused us; `kind` is dns|refused|timeout|tls|auth|folder|protocol.

    Also `missing`: the server is fine but the message asked for is no longer there (deleted or moved by
    another client); the runner should treat it as gone, not as the mailbox being down.
    A dropped connection (mid-fetch) is `protocol`; a read that outlasted `timeout` is `timeout`.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class SourceConfig:
    """Connection facts of one inbox, with the secret already resolved (never logged, never shown)."""

    name: str
    protocol: str  # imap | pop3 | maildir
    server: str  # host name; for maildir the folder path
    port: int = 0  # 0 = protocol default for the tls mode
    tls: str = "ssl"  # ssl | starttls | none
    verify_certificate: bool = True
    login: str = ""
    password: str = field(default="", repr=False)
    oauth_token: str = field(default="", repr=False)  # an OAuth2 access token: log in with XOAUTH2/OAUTHBEARER
    mailbox: str = "INBOX"
    pop3_auth: str = "USER"  # USER | APOP | PLAIN | LOGIN | CRAM-MD5
    timeout: float = 30.0
    use_message_id_as_uid: bool = False
    ca_file: str = ""  # PEM bundle of extra CA(s) to trust (internal CA, self-signed server); "" = system CAs


@dataclass(frozen=True)
class FolderState:
    """What a cheap status call tells about the folder (IMAP STATUS; POP3 STAT; Maildir listing).

    `fingerprint` (from poll_state) changes whenever the folder's listing changes, and costs no listing: the
    runner skips listing and reconciling a folder that still shows the fingerprint of a listing it took in
    whole. "" when the source cannot tell cheaply this time (then the folder is listed)."""

    uidvalidity: int | None
    uidnext: int | None
    count: int | None  # None from a Maildir poll_state: counting would cost the listing it spares
    fingerprint: str = ""

    @property
    def epoch(self) -> int:
        """UIDVALIDITY as the store keys records with it: 0 for protocols that have none (POP3, Maildir),
        never NULL, so the store's unique index (inbox, folder, epoch, key) holds for every protocol."""
        return self.uidvalidity or 0


@dataclass(frozen=True)
class RemoteMessage:
    """One message as listed on the server, before download."""

    key: str
    size: int
    uid: int | None = None
    message_id: str | None = None


class MailSource(Protocol):
    """A connected mailbox folder. Use as a context manager: connect on enter, logout on exit."""

    name: str
    protocol: str

    def __enter__(self) -> "MailSource": ...
    def __exit__(self, *exc: object) -> None: ...
    def folder_state(self) -> FolderState: ...
    def poll_state(self) -> FolderState:
        """folder_state() as a pass needs it: with `fingerprint`, in O(1) round trips and file system calls."""
    def list_new(self, after_uid: int | None) -> list[RemoteMessage]:
        """Messages with UID > after_uid (IMAP), or every message (POP3, Maildir), oldest first."""
    def list_all(self) -> list[RemoteMessage]: ...
    def fetch(self, key: str) -> bytes: ...
    def fetch_to(self, key: str, out: BinaryIO) -> int:
        """Stream a message to a file without holding it whole in memory; returns bytes written."""
    def fetch_headers(self, key: str) -> bytes: ...
    def delete(self, keys: Iterable[str]) -> bool:
        """True when the server removed them for good (a POP3 DELE: at the next clean QUIT); False when
        they are still in the folder (IMAP without UIDPLUS could only flag them): retry later."""
    def move(self, keys: Iterable[str], folder: str) -> bool:
        """As delete(): True once the messages left this folder."""
    def capabilities(self) -> list[str]: ...


def make_ssl_context(config: SourceConfig) -> ssl.SSLContext:
    """A verifying client context (system CAs plus `ca_file`), or a non-verifying one if asked.

    Always built here and passed explicitly: poplib/imaplib/smtplib fall back to an unverified
    context when given none.
    """
    context = ssl.create_default_context()
    if config.ca_file:
        try:
            context.load_verify_locations(cafile=config.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise SourceError("tls", f"cannot load CA file {config.ca_file}: {exc}; fix ca_file") from None
    if not config.verify_certificate:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def connect_error(exc: BaseException, where: str, config: SourceConfig) -> SourceError:
    """Map an exception raised while connecting (before login) to a SourceError with a fix hint."""
    if isinstance(exc, SourceError):
        return exc
    if isinstance(exc, socket.gaierror):
        return SourceError("dns", f"cannot resolve {config.server!r} ({exc.strerror}); check the server name")
    if isinstance(exc, ConnectionRefusedError):
        return SourceError("refused", f"{where} refused the connection; check the port and that the server runs")
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError since 3.10
        return SourceError("timeout", f"{where} did not answer within {config.timeout:g} s; check host, port, "
                                       f"firewall, and that tls={config.tls!r} matches the port")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return SourceError("tls", f"{where}: certificate verify failed ({exc.verify_message}); give its CA in "
                                  "ca_file, or set verify_certificate = false (unsafe)")
    if isinstance(exc, ssl.SSLError):
        return SourceError("tls", f"{where}: TLS handshake failed ({exc.reason or exc}); check that "
                                  f"tls={config.tls!r} matches the port")
    if isinstance(exc, (ConnectionError, EOFError)):
        return SourceError("protocol", f"{where} closed the connection during the greeting ({exc}); "
                                       f"check that tls={config.tls!r} matches the port")
    if isinstance(exc, OSError):
        return SourceError("refused", f"cannot reach {where} ({exc.strerror or exc}); check network and port")
    return SourceError("protocol", f"{where}: unexpected answer while connecting ({exc}); is it the right "
                                   "protocol and port?")


def session_error(exc: BaseException, where: str, doing: str, config: SourceConfig) -> SourceError:
    """Map an exception raised after login (a command failed, the link dropped or stalled)."""
    if isinstance(exc, SourceError):
        return exc
    if isinstance(exc, TimeoutError):
        return SourceError("timeout", f"{where} stopped answering while {doing} (no data for "
                                      f"{config.timeout:g} s); the server or network is stalled, retry later")
    if isinstance(exc, (OSError, EOFError)):
        return SourceError("protocol", f"connection to {where} lost while {doing} ({exc or type(exc).__name__}); "
                                       "retry later")
    return SourceError("protocol", f"{where} failed while {doing}: {exc}")
