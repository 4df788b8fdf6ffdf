"""POP3 source: the one maildrop of an account, over poplib, identified by UIDL.

Boundary: speaks POP3 and turns every failure into a SourceError; knows nothing of tickets or the
store. POP3 has no flags, so "seen" is the runner's business (it compares UIDLs with the store).

Choices worth knowing:
* TLS: poplib builds an unverified context when given none, so a verifying one is always passed.
  STARTTLS (STLS) missing on the server is an error before USER/PASS, never a plain-text fallback.
* poplib refuses lines over 2048 bytes (`_MAXLINE`), which real mail has. RETR and TOP are read
  here in bounded pieces instead (dot-unstuffing by hand), so any line length works and a whole
  message never has to sit in a list of lines; the global limit is left alone.
* DELE happens only in delete(); the server applies it at QUIT (leaving the `with` block). If the
  link breaks first, the server keeps those messages and they are listed again next time.
"""
from __future__ import annotations

import poplib
from typing import BinaryIO, Iterable, Iterator

from .base import (FolderState, RemoteMessage, SourceConfig, SourceError, connect_error, make_ssl_context,
                   session_error)

_PIECE = 64 * 1024  # longest piece of a line read at once while streaming RETR/TOP


class Pop3Source:
    """A connected POP3 maildrop. `with Pop3Source(cfg) as src:` connects and logs in."""

    protocol = "pop3"

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        self.name = config.name
        self.port = config.port or (995 if config.tls == "ssl" else 110)
        self.where = f"{config.server}:{self.port}"
        self.tls_version: str | None = None
        self._pop: poplib.POP3 | None = None
        self._broken = False
        self._caps: dict[str, list[str]] = {}
        self._listing: dict[str, tuple[int, int]] | None = None  # UIDL -> (message number, size)

    # ---- connection ---------------------------------------------------------------------------
    def __enter__(self) -> "Pop3Source":
        self.connect()
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(raise_errors=exc_type is None)

    def connect(self) -> None:
        """Open, secure and log in; any failure is a SourceError."""
        cfg = self.config
        if cfg.tls not in ("ssl", "starttls", "none"):
            raise SourceError("tls", f"unknown tls mode {cfg.tls!r} for {cfg.name}: use ssl, starttls or none")
        if (cfg.mailbox or "INBOX").upper() != "INBOX":
            raise SourceError("folder", f"POP3 has only INBOX, not {cfg.mailbox!r} ({self.where}); use IMAP for "
                                        "other folders or set mailbox = \"INBOX\"")
        context = make_ssl_context(cfg) if cfg.tls != "none" else None
        try:
            if cfg.tls == "ssl":
                self._pop = poplib.POP3_SSL(cfg.server, self.port, timeout=cfg.timeout, context=context)
            else:
                self._pop = poplib.POP3(cfg.server, self.port, timeout=cfg.timeout)
        except Exception as exc:  # noqa: BLE001 - every connect failure becomes a one-line SourceError
            raise connect_error(exc, self.where, cfg) from None
        try:
            self._caps = self._read_capa()
            if cfg.tls == "starttls":
                self._stls(context)
            self._login()
            sock = self._pop.sock
            self.tls_version = sock.version() if hasattr(sock, "version") else None
        except BaseException:
            self._broken = True
            self.close(raise_errors=False)
            raise

    def _read_capa(self) -> dict[str, list[str]]:
        try:
            return self._pop.capa()
        except poplib.error_proto:
            return {}  # CAPA is optional (RFC 2449); an old server simply lacks it
        except Exception as exc:  # noqa: BLE001
            raise connect_error(exc, self.where, self.config) from None

    def _stls(self, context) -> None:
        if "STLS" not in self._caps:
            # Never fall back to plain text: nothing (no USER, no password) has been sent yet.
            raise SourceError("tls", f"{self.where} does not offer STLS (STARTTLS), so nothing was sent; use "
                                     "tls = \"ssl\" (port 995) or, on a trusted network only, tls = \"none\"")
        try:
            self._pop.stls(context)
        except poplib.error_proto as exc:
            raise SourceError("tls", f"{self.where} refused STLS ({_text(exc)}); use tls = \"ssl\" on port 995") from None
        except Exception as exc:  # noqa: BLE001
            raise connect_error(exc, self.where, self.config) from None
        self._caps = self._read_capa()  # RFC 2595: forget what was said before TLS

    def _login(self) -> None:
        cfg, pop = self.config, self._pop
        method = (cfg.pop3_auth or "USER").upper()
        try:
            if method == "APOP":
                pop.apop(cfg.login, cfg.password)
            elif method == "USER":
                pop.user(cfg.login)
                pop.pass_(cfg.password)
            else:
                raise SourceError("auth", f"pop3_auth {cfg.pop3_auth!r} is not supported for {cfg.name}: use USER "
                                          "or APOP")
        except poplib.error_proto as exc:
            text = _text(exc)
            if "APOP not supported" in text:
                raise SourceError("auth", f"{self.where} offers no APOP (no timestamp in its greeting); set "
                                          "pop3_auth = \"USER\"") from None
            raise SourceError("auth", f"{self.where} refused login {cfg.login!r} ({method}): {text}; check login "
                                      "and password") from None
        except SourceError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise connect_error(exc, self.where, cfg) from None

    def close(self, raise_errors: bool = False) -> None:
        """QUIT, which makes the server apply delete(); just drop the socket if the link is broken."""
        pop, self._pop = self._pop, None
        if pop is None:
            return
        if self._broken:
            _drop(pop)
            return
        try:
            pop.quit()
        except Exception as exc:  # noqa: BLE001
            _drop(pop)
            if raise_errors:
                raise SourceError("protocol", f"{self.where} failed at QUIT ({_text(exc)}); deletions of this "
                                              "session were not applied, retry later") from None

    def _guard_error(self, exc: BaseException, doing: str) -> SourceError:
        if isinstance(exc, SourceError):
            return exc
        if isinstance(exc, poplib.error_proto):
            return SourceError("protocol", f"{self.where}: {doing} failed: {_text(exc)}")
        self._broken = True
        return session_error(exc, self.where, doing, self.config)

    def _call(self, doing: str, func, *args):
        if self._pop is None:
            raise SourceError("protocol", f"{self.name}: not connected (use the source as a context manager)")
        try:
            return func(*args)
        except Exception as exc:  # noqa: BLE001
            raise self._guard_error(exc, doing) from None

    # ---- state and listings -------------------------------------------------------------------
    def capabilities(self) -> list[str]:
        return sorted(self._caps)

    def folder_state(self) -> FolderState:
        """STAT: POP3 has neither UIDVALIDITY nor UIDNEXT."""
        count, _size = self._call("reading STAT", self._pop.stat)
        return FolderState(uidvalidity=None, uidnext=None, count=int(count))

    def _load(self) -> dict[str, tuple[int, int]]:
        """UIDL + LIST once per session (the maildrop is locked and fixed while we are logged in)."""
        if self._listing is None:
            _, uidl_lines, _ = self._call("listing UIDL", self._pop.uidl)
            _, list_lines, _ = self._call("listing sizes (LIST)", self._pop.list)
            sizes = {}
            for line in list_lines:
                num, size = line.split()[:2]
                sizes[int(num)] = int(size)
            listing: dict[str, tuple[int, int]] = {}
            for line in uidl_lines:
                num, uidl = line.split()[:2]
                listing[uidl.decode("ascii", "replace")] = (int(num), sizes.get(int(num), 0))
            self._listing = dict(sorted(listing.items(), key=lambda kv: kv[1][0]))
        return self._listing

    def list_new(self, after_uid: int | None) -> list[RemoteMessage]:
        """Every message: POP3 cannot tell new from old; the runner compares UIDLs with the store."""
        return self.list_all()

    def list_all(self) -> list[RemoteMessage]:
        """Every message, in maildrop order (oldest first), with LIST sizes known before any RETR."""
        return [RemoteMessage(key=uidl, size=size) for uidl, (_num, size) in self._load().items()]

    def _number(self, key: str) -> int:
        entry = self._load().get(key)
        if entry is None:
            raise SourceError("missing", f"no message with UIDL {key!r} on {self.where} (deleted by another "
                                         "client, or already deleted in this session)")
        return entry[0]

    # ---- reading ------------------------------------------------------------------------------
    def _stream(self, command: str, doing: str) -> Iterator[bytes]:
        """Pieces of a multi-line answer, dot-unstuffed, CRLFs kept, whatever the line length."""
        pop = self._pop
        self._call(doing, pop._putcmd, command)
        self._call(doing, pop._getresp)
        complete = False
        try:
            at_line_start = True
            while True:
                piece = pop.file.readline(_PIECE)
                if not piece:
                    raise EOFError("server closed the connection mid-message")
                if at_line_start:
                    if piece in (b".\r\n", b".\n"):
                        complete = True
                        return
                    if piece.startswith(b"."):
                        piece = piece[1:]
                at_line_start = piece.endswith(b"\n")
                yield piece
        except Exception as exc:  # noqa: BLE001
            raise self._guard_error(exc, doing) from None
        finally:
            if not complete:
                self._broken = True  # the rest of the answer is still on the wire

    def fetch(self, key: str) -> bytes:
        num = self._number(key)
        return b"".join(self._stream(f"RETR {num}", f"fetching message {num} (UIDL {key})"))

    def fetch_to(self, key: str, out: BinaryIO) -> int:
        """RETR straight into `out`; memory stays at one piece (64 KB) whatever the message size."""
        num = self._number(key)
        written = 0
        for piece in self._stream(f"RETR {num}", f"fetching message {num} (UIDL {key})"):
            out.write(piece)
            written += len(piece)
        return written

    def fetch_many(self, keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """(key, raw) for each key; POP3 has no batch fetch, so one RETR each."""
        for key in keys:
            yield key, self.fetch(key)

    def fetch_headers(self, key: str) -> bytes:
        num = self._number(key)
        return b"".join(self._stream(f"TOP {num} 0", f"fetching the header of message {num} (UIDL {key})"))

    def size_of(self, key: str) -> int | None:
        entry = self._load().get(key)
        return entry[1] if entry else None

    # ---- writing ------------------------------------------------------------------------------
    def delete(self, keys: Iterable[str]) -> bool:
        """DELE each message. The server applies it only at a clean QUIT (end of the `with` block), so
        True here means "marked"; the runner records the delete as done after the session closed."""
        for key in list(keys):
            num = self._number(key)
            self._call(f"deleting message {num} (UIDL {key})", self._pop.dele, num)
            del self._listing[key]
        return True

    def move(self, keys: Iterable[str], folder: str) -> bool:
        raise SourceError("protocol", f"POP3 cannot move messages (to {folder!r}) on {self.where}: use "
                                      "email_storage = \"delete\" or \"keep\", or switch the inbox to IMAP")


def _drop(pop: poplib.POP3) -> None:
    """Close the socket without QUIT (so pending DELEs are rolled back by the server); never raises."""
    try:
        pop.close()
    except OSError:  # e.g. a failed STLS handshake already closed the socket
        pass


def _text(exc: BaseException) -> str:
    """A server reply as one short line (poplib passes the raw bytes line)."""
    arg = exc.args[0] if exc.args else exc
    text = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)
    return " ".join(text.split())[:300]
