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
* Login methods as the reference names them (pop3_auth): USER (USER/PASS), APOP, and the SASL mechanisms
  PLAIN, LOGIN and CRAM-MD5 over AUTH (RFC 5034; poplib has no AUTH, so it is spoken here with poplib's
  own line primitives). Credentials go out only after TLS (ssl, or STLS first) unless tls = "none". A
  mechanism the server's CAPA SASL line does not list is refused before AUTH is sent; no initial response
  is used (one round trip more, but no 255-octet command limit to watch). DIGEST-MD5, which the reference
  lists, is refused before connecting: RFC 6331 made it Historic and the reference's own Net_POP3 has it
  disabled; CRAM-MD5 is the challenge-response method to use instead. An OAuth2 inbox (config.oauth_token)
  logs in with AUTH XOAUTH2, or OAUTHBEARER when that is the only token mechanism offered.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import poplib
from typing import BinaryIO, Callable, Iterable, Iterator

from ..oauth import sasl
from .base import (FolderState, RemoteMessage, SourceConfig, SourceError, connect_error, make_ssl_context,
                   session_error)

_PIECE = 64 * 1024  # longest piece of a line read at once while streaming RETR/TOP
SASL_METHODS = ("PLAIN", "LOGIN", "CRAM-MD5")
METHODS = ("USER", "APOP", *SASL_METHODS)
TOKEN_METHODS = ("XOAUTH2", "OAUTHBEARER")  # an OAuth2 inbox's login (RFC 7628; XOAUTH2 is its older twin)
_SASL_ROUNDS = 3  # challenges answered at most before giving up (LOGIN needs two, the others one)


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
        method = _method(cfg)
        if method == "DIGEST-MD5":
            raise SourceError("auth", f"pop3_auth \"DIGEST-MD5\" of {cfg.name} is obsolete (RFC 6331), so nothing was "
                                      "sent; set pop3_auth = \"CRAM-MD5\" (or PLAIN or USER with tls = \"ssl\" or "
                                      "\"starttls\")")
        if method not in METHODS + TOKEN_METHODS:
            raise SourceError("auth", f"pop3_auth {cfg.pop3_auth!r} is not supported for {cfg.name}: use "
                                      f"{', '.join(METHODS)}")
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
        method = _method(cfg)
        try:
            if method == "APOP":
                pop.apop(cfg.login, cfg.password)
            elif method == "USER":
                pop.user(cfg.login)
                pop.pass_(cfg.password)
            else:
                self._authenticate(method)
        except poplib.error_proto as exc:
            text = _text(exc)
            if "APOP not supported" in text:
                raise SourceError("auth", f"{self.where} offers no APOP (no timestamp in its greeting); set "
                                          "pop3_auth = \"USER\"") from None
            fix = ("the OAuth2 consent may not cover this mailbox: authorize again as its user" if cfg.oauth_token
                   else "check login and password")
            raise SourceError("auth", f"{self.where} refused login {cfg.login!r} ({method}): {text}; {fix}") from None
        except SourceError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise connect_error(exc, self.where, cfg) from None

    def _authenticate(self, method: str) -> None:
        """AUTH <method> (RFC 5034): answer each "+ challenge" until +OK; -ERR raises error_proto."""
        cfg, pop = self.config, self._pop
        offered = [m.upper() for m in self._caps.get("SASL", [])]
        if method == "XOAUTH2" and method not in offered and "OAUTHBEARER" in offered:
            method = "OAUTHBEARER"
        if method not in offered:
            usable = [m for m in SASL_METHODS if m in offered] + ["USER"]
            raise SourceError("auth", f"{self.where} does not offer AUTH {method} (its SASL mechanisms: "
                                      f"{' '.join(offered) or 'none'}), so no credentials were sent; set pop3_auth to "
                                      f"{' or '.join(usable)}")
        answer = _responder(method, cfg.login.encode("utf-8"), (cfg.oauth_token or cfg.password).encode("utf-8"))
        resp = pop._shortcmd(f"AUTH {method}")  # a "+ challenge" line, or -ERR (raised as error_proto)
        rounds = 0
        while not resp.startswith(b"+OK"):
            reply = None
            if rounds < _SASL_ROUNDS:
                try:
                    reply = answer(base64.b64decode(resp[1:].strip(), validate=True))
                except binascii.Error:
                    pass
            if reply is None:
                pop._putcmd("*")  # cancel the exchange (RFC 5034 section 4); the session is dropped after
                raise SourceError("auth", f"{self.where} sent an AUTH {method} challenge this client cannot answer "
                                          f"({_text(Exception(resp))[:80]}); set pop3_auth = \"USER\" or another "
                                          "mechanism")
            pop._putcmd(base64.b64encode(reply).decode("ascii"))
            resp = pop._getresp()
            rounds += 1

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

    def poll_state(self) -> FolderState:
        """STAT and the UIDL of the last message: two round trips whatever the maildrop holds. A maildrop
        lists in arrival order, so a message that came changes the last UIDL and one that went the count."""
        count, octets = self._call("reading STAT", self._pop.stat)
        last = ""
        if count:
            answer = self._call("reading the last UIDL", self._pop.uidl, count)  # b"+OK <n> <uidl>"
            last = answer.split()[2].decode("ascii", "replace")
        return FolderState(uidvalidity=None, uidnext=None, count=int(count),
                           fingerprint=f"pop3 {count} {octets} {last}")

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


def _method(cfg: SourceConfig) -> str:
    """The login method: a token login for OAuth2 inboxes, else pop3_auth."""
    return "XOAUTH2" if cfg.oauth_token else (cfg.pop3_auth or "USER").upper()


def _responder(method: str, login: bytes, password: bytes) -> Callable[[bytes], bytes | None]:
    """The client side of one SASL mechanism: challenge -> response, None when it has nothing more to say.
    For XOAUTH2/OAUTHBEARER `password` is the access token; a refusal comes as a JSON challenge, answered
    with an empty line (RFC 7628 section 3.2.3), after which the server says -ERR."""
    if method in TOKEN_METHODS:
        build = sasl.xoauth2 if method == "XOAUTH2" else sasl.oauthbearer
        replies = iter([build(login.decode("utf-8"), password.decode("utf-8")), b""])
        return lambda _challenge: next(replies, None)
    if method == "CRAM-MD5":  # RFC 2195: the login, a space, the hex HMAC-MD5 of the challenge
        sent: list[bytes] = []

        def cram(challenge: bytes) -> bytes | None:
            if sent:
                return None
            sent.append(login)
            return login + b" " + hmac.new(password, challenge, hashlib.md5).hexdigest().encode("ascii")
        return cram
    # PLAIN (RFC 4616): one response, authzid empty; LOGIN: the login, then the password, whatever the prompts
    replies = iter([b"\0" + login + b"\0" + password] if method == "PLAIN" else [login, password])
    return lambda _challenge: next(replies, None)


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
