"""IMAP source: one selected folder of one account, over imapclient, addressed by UID only.

Boundary: speaks IMAP and turns every failure into a SourceError; knows nothing of tickets or the
store. Reads use BODY.PEEK so \\Seen never changes; the only writes are delete() and move().

Choices worth knowing:
* A poll with nothing new is three O(1) round trips: NOOP (lets the session see new mail), STATUS
  (UIDVALIDITY, UIDNEXT, MESSAGES) and `UID SEARCH UID n+1:*` (whose answer always includes the
  highest UID, even when it is <= n: filtered out here). Sizes and Message-IDs are fetched only for
  the new UIDs.
* delete(): \\Deleted then `UID EXPUNGE` of exactly our UIDs when the server has UIDPLUS. Without
  UIDPLUS a plain EXPUNGE would also remove messages another client flagged \\Deleted but still
  wants to undo, so we EXPUNGE only when every \\Deleted message in the folder is one of ours;
  otherwise ours stay flagged (hidden by most clients) until someone expunges. Nothing else is lost.
* imapclient sets imaplib's debug level to 5, which formats every response (whole message bodies)
  even with logging off: 5x slower fetches. We set it to 0 and silence imaplib's command ring,
  which also keeps the LOGIN line (with the password) out of memory.
* An OAuth2 inbox (config.oauth_token) logs in with AUTHENTICATE XOAUTH2 (imapclient's oauth2_login), or
  OAUTHBEARER when the server offers only that.
"""
from __future__ import annotations

import logging
import re
import socket
from contextlib import contextmanager
from typing import BinaryIO, Iterable, Iterator

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from .base import (FolderState, RemoteMessage, SourceConfig, SourceError, connect_error, make_ssl_context,
                   session_error)

log = logging.getLogger(__name__)

DELETED = b"\\Deleted"
_SIZE = b"RFC822.SIZE"
_MSGID_ITEM = "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"
_MSGID_RE = re.compile(rb"^message-id:[ \t]*(.*?)[ \t]*$", re.IGNORECASE | re.MULTILINE)
_UIDS_PER_COMMAND = 1000  # FETCH takes a UID list (imapclient wants ints); stays below 8 KB lines


def uid_set(uids: Iterable[int]) -> str:
    """Compress UIDs into an IMAP sequence set: [1,2,3,7] -> '1:3,7'."""
    parts: list[str] = []
    ordered = sorted(set(uids))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}:{ordered[j]}")
        i = j + 1
    return ",".join(parts)


def parse_message_id(header_block: bytes | None) -> str | None:
    """The Message-ID from a `Message-ID:` header block (unfolded, brackets kept), or None."""
    if not header_block:
        return None
    unfolded = re.sub(rb"\r?\n[ \t]+", b" ", header_block)
    m = _MSGID_RE.search(unfolded)
    if not m or not m.group(1):
        return None
    value = m.group(1).decode("ascii", "replace")
    bracketed = re.search(r"<[^<>\s]+>", value)
    return bracketed.group(0) if bracketed else value.split()[0]


def _item(data: dict, prefix: bytes) -> bytes | None:
    """A FETCH item whose name starts with prefix (servers echo `BODY[]<0>`, quoted field lists...)."""
    for name, value in data.items():
        if isinstance(name, bytes) and name.startswith(prefix):
            return value if value is not None else b""
    return None


class ImapSource:
    """A connected IMAP folder. `with ImapSource(cfg) as src:` connects, logs in and selects."""

    protocol = "imap"

    def __init__(self, config: SourceConfig, batch_size: int = 100, batch_bytes: int = 20 << 20,
                 chunk_size: int = 1 << 20) -> None:
        self.config = config
        self.name = config.name
        self.folder = config.mailbox or "INBOX"
        self.batch_size = batch_size
        self.batch_bytes = batch_bytes
        self.chunk_size = chunk_size
        self.port = config.port or (993 if config.tls == "ssl" else 143)
        self.where = f"{config.server}:{self.port}"
        self.uidvalidity: int | None = None
        self.tls_version: str | None = None
        self._client: IMAPClient | None = None
        self._broken = False
        self._fresh = False  # a NOOP happened since the last listing
        self._caps: tuple[bytes, ...] = ()
        self._sizes: dict[int, int] = {}
        self._uid_of: dict[str, int] = {}  # key -> UID, when keys are Message-IDs
        # Capabilities to act as if the server lacked (tests exercise the no-UIDPLUS / no-MOVE paths).
        self.ignore_capabilities: set[str] = set()

    # ---- connection ---------------------------------------------------------------------------
    def __enter__(self) -> "ImapSource":
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self) -> None:
        """Open, secure, log in and select the folder; any failure is a SourceError."""
        cfg = self.config
        if cfg.tls not in ("ssl", "starttls", "none"):
            raise SourceError("tls", f"unknown tls mode {cfg.tls!r} for {cfg.name}: use ssl, starttls or none")
        context = make_ssl_context(cfg) if cfg.tls != "none" else None
        try:
            client = IMAPClient(cfg.server, self.port, use_uid=True, ssl=cfg.tls == "ssl", ssl_context=context,
                                timeout=SocketTimeout(connect=cfg.timeout, read=cfg.timeout))
        except Exception as exc:  # noqa: BLE001 - every connect failure becomes a one-line SourceError
            raise connect_error(exc, self.where, cfg) from None
        self._client = client
        client._imap.debug = 0  # see module docstring: imapclient's level 5 costs 5x on FETCH
        client._imap._log = lambda *_: None  # no per-line repr, no LOGIN line kept in memory
        try:
            if cfg.tls == "starttls":
                self._starttls(context)
            self._login()
            self._select()
        except BaseException:
            self._broken = True
            self.close()
            raise

    def _starttls(self, context) -> None:
        client = self._client
        try:
            caps = client.capabilities()
        except Exception as exc:  # noqa: BLE001
            raise connect_error(exc, self.where, self.config) from None
        if b"STARTTLS" not in caps:
            # Never fall back to plain text: nothing (no login, no password) has been sent yet.
            raise SourceError("tls", f"{self.where} does not offer STARTTLS, so nothing was sent; use tls = "
                                     "\"ssl\" (port 993) or, on a trusted network only, tls = \"none\"")
        try:
            client.starttls(context)
        except IMAPClientError as exc:
            raise SourceError("tls", f"{self.where} refused STARTTLS ({exc}); use tls = \"ssl\" on port 993") from None
        except Exception as exc:  # noqa: BLE001
            raise connect_error(exc, self.where, self.config) from None

    def _login(self) -> None:
        cfg, client = self.config, self._client
        try:
            if cfg.oauth_token:
                self._token_login()
            else:
                client.login(cfg.login, cfg.password)
        except LoginError as exc:
            hint = " (server requires TLS: set tls to ssl or starttls)" if b"LOGINDISABLED" in self._safe_caps() else ""
            fix = ("the OAuth2 consent may not cover this mailbox: authorize again as its user" if cfg.oauth_token
                   else "check login and password")
            raise SourceError("auth", f"{self.where} refused login {cfg.login!r}: {_text(exc)}{hint}; {fix}") from None
        except Exception as exc:  # noqa: BLE001
            raise connect_error(exc, self.where, cfg) from None
        sock = client.socket()
        self.tls_version = sock.version() if hasattr(sock, "version") else None
        with self._guard("reading capabilities"):
            self._caps = tuple(client.capabilities())

    def _token_login(self) -> None:
        """AUTHENTICATE XOAUTH2, or OAUTHBEARER (RFC 7628) when the server offers only that."""
        cfg, client = self.config, self._client
        caps = self._safe_caps()
        if b"AUTH=XOAUTH2" not in caps and b"AUTH=OAUTHBEARER" in caps:
            client.oauthbearer_login(cfg.login, cfg.oauth_token)
        else:
            client.oauth2_login(cfg.login, cfg.oauth_token)

    def _safe_caps(self) -> tuple[bytes, ...]:
        try:
            return tuple(self._client.capabilities())
        except Exception:  # noqa: BLE001 - only used to improve a message
            return ()

    def _select(self) -> None:
        try:
            info = self._client.select_folder(self.folder)
        except IMAPClientAbortError as exc:
            raise session_error(exc, self.where, f"selecting {self.folder!r}", self.config) from None
        except IMAPClientError as exc:
            raise SourceError("folder", f"folder {self.folder!r} not found on {self.where} for {self.config.login!r} "
                                        f"({_text(exc)}); check the mailbox name or create the folder") from None
        except Exception as exc:  # noqa: BLE001
            raise session_error(exc, self.where, f"selecting {self.folder!r}", self.config) from None
        self.uidvalidity = int(info.get(b"UIDVALIDITY", 0)) or None
        self._fresh = True  # SELECT is a sync point

    def close(self) -> None:
        """LOGOUT (or just drop the socket if the link is already broken); never raises."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if self._broken:
                client.shutdown()
            else:
                client.logout()
        except Exception:  # noqa: BLE001 - the connection may already be gone
            try:
                client.shutdown()
            except Exception:  # noqa: BLE001
                pass

    @contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        """Turn imapclient/socket errors of one command into SourceError; a dead link is marked broken."""
        if self._client is None:
            raise SourceError("protocol", f"{self.name}: not connected (use the source as a context manager)")
        try:
            yield
        except SourceError:
            raise
        except IMAPClientAbortError as exc:
            self._broken = True
            raise SourceError("protocol", f"connection to {self.where} lost while {doing} ({_text(exc)}); "
                                          "retry later") from None
        except IMAPClientError as exc:
            raise SourceError("protocol", f"{self.where} folder {self.folder!r}: {doing} failed: {_text(exc)}") from None
        except Exception as exc:  # noqa: BLE001
            self._broken = True
            raise session_error(exc, self.where, doing, self.config) from None

    # ---- state and listings -------------------------------------------------------------------
    def capabilities(self) -> list[str]:
        return [c.decode("ascii", "replace") for c in self._caps]

    def has(self, capability: str) -> bool:
        name = capability.upper()
        return name.encode() in self._caps and name not in self.ignore_capabilities

    def _sync(self) -> None:
        """NOOP: a server answers STATUS/SEARCH on the selected folder from the session's view (Dovecot
        does), which only takes in mail that arrived since the last sync point; NOOP is that point."""
        with self._guard(f"syncing {self.folder!r}"):
            self._client.noop()
        self._fresh = True

    def folder_state(self) -> FolderState:
        """NOOP + STATUS: two round trips, whatever the folder's size."""
        self._sync()
        with self._guard(f"reading the status of {self.folder!r}"):
            st = self._client.folder_status(self.folder, [b"MESSAGES", b"UIDNEXT", b"UIDVALIDITY"])
        uidvalidity, uidnext, count = int(st[b"UIDVALIDITY"]), int(st[b"UIDNEXT"]), int(st[b"MESSAGES"])
        # UIDs only grow within a UIDVALIDITY: the same UIDNEXT and count mean no message came or went
        return FolderState(uidvalidity=uidvalidity, uidnext=uidnext, count=count,
                           fingerprint=f"imap {uidvalidity} {uidnext} {count}")

    def poll_state(self) -> FolderState:
        """folder_state(): its STATUS is the fingerprint already."""
        return self.folder_state()

    def list_new(self, after_uid: int | None) -> list[RemoteMessage]:
        """Messages with UID > after_uid, oldest first; O(1) round trips when there are none."""
        if not after_uid:
            return self.list_all()
        if not self._fresh:  # folder_state() just synced: spare a round trip
            self._sync()
        self._fresh = False
        with self._guard(f"searching new messages in {self.folder!r}"):
            found = self._client.search(["UID", f"{after_uid + 1}:*"])
        # `n:*` always matches the highest UID, even one <= n: drop it.
        return self._describe(sorted(u for u in found if u > after_uid))

    def list_all(self) -> list[RemoteMessage]:
        """Every message of the folder, oldest (lowest UID) first."""
        if not self._fresh:
            self._sync()
        self._fresh = False
        with self._guard(f"listing {self.folder!r}"):
            found = self._client.search("ALL")
        return self._describe(sorted(found))

    def _describe(self, uids: list[int]) -> list[RemoteMessage]:
        """Size and Message-ID of these UIDs, in a few FETCH commands."""
        out: list[RemoteMessage] = []
        seen_keys: set[str] = set()
        for start in range(0, len(uids), _UIDS_PER_COMMAND):
            chunk = uids[start:start + _UIDS_PER_COMMAND]
            with self._guard(f"listing sizes in {self.folder!r}"):
                data = self._client.fetch(chunk, [_SIZE, _MSGID_ITEM])
            for uid in chunk:
                item = data.get(uid)
                if item is None:  # expunged between SEARCH and FETCH
                    continue
                size = int(item.get(_SIZE, 0))
                message_id = parse_message_id(_item(item, b"BODY[HEADER.FIELDS"))
                self._sizes[uid] = size
                key = self._key(uid, message_id, seen_keys)
                seen_keys.add(key)
                out.append(RemoteMessage(key=key, size=size, uid=uid, message_id=message_id))
        return out

    def _key(self, uid: int, message_id: str | None, seen: set[str]) -> str:
        if not self.config.use_message_id_as_uid:
            return str(uid)
        # Gmail workaround of the reference: the Message-ID is the identity. A message without one, or a
        # second message reusing one, still gets a distinct key, so it is not silently dropped.
        key = message_id or f"uid:{uid}"
        if key in seen:
            key = f"{key}#uid:{uid}"
        self._uid_of[key] = uid
        return key

    def _uid(self, key: str) -> int:
        if not self.config.use_message_id_as_uid:
            try:
                return int(key)
            except ValueError:
                raise SourceError("missing", f"{key!r} is not an IMAP UID (folder {self.folder!r})") from None
        uid = self._uid_of.get(key)
        if uid is None:
            with self._guard(f"looking up {key!r}"):
                found = self._client.search(["HEADER", "Message-ID", key.split("#", 1)[0]])
            if not found:
                raise SourceError("missing", f"no message {key!r} in {self.folder!r} on {self.where}")
            uid = self._uid_of[key] = min(found)
        return uid

    def _missing(self, key: str) -> SourceError:
        return SourceError("missing", f"message {key} is no longer in {self.folder!r} on {self.where} "
                                      "(deleted or moved by another client)")

    # ---- reading ------------------------------------------------------------------------------
    def fetch(self, key: str) -> bytes:
        """The whole message (BODY.PEEK[]: \\Seen is not set)."""
        uid = self._uid(key)
        with self._guard(f"fetching UID {uid} from {self.folder!r}"):
            data = self._client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {})
        body = _item(data, b"BODY[]")
        if body is None:
            raise self._missing(key)
        return body

    def fetch_many(self, keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """(key, raw) for each key, fetched in batches (count and known size bounded), in key order.

        Keys whose message vanished meanwhile are left out: compare with what you asked for.
        """
        batch: list[tuple[str, int]] = []
        weight = 0
        for key in keys:
            uid = self._uid(key)
            batch.append((key, uid))
            weight += self._sizes.get(uid, 0)
            if len(batch) >= self.batch_size or weight >= self.batch_bytes:
                yield from self._fetch_batch(batch)
                batch, weight = [], 0
        if batch:
            yield from self._fetch_batch(batch)

    def _fetch_batch(self, batch: list[tuple[str, int]]) -> Iterator[tuple[str, bytes]]:
        with self._guard(f"fetching {len(batch)} messages from {self.folder!r}"):
            data = self._client.fetch([uid for _, uid in batch], ["BODY.PEEK[]"])
        for key, uid in batch:
            body = _item(data.get(uid, {}), b"BODY[]")
            if body is not None:
                yield key, body

    def fetch_to(self, key: str, out: BinaryIO) -> int:
        """Stream the message into `out` in chunk_size partial fetches; returns bytes written."""
        uid = self._uid(key)
        size = self._sizes.get(uid)
        offset = 0
        while size is None or offset < size:
            with self._guard(f"fetching UID {uid} from {self.folder!r} at byte {offset}"):
                data = self._client.fetch([uid], [f"BODY.PEEK[]<{offset}.{self.chunk_size}>"]).get(uid, {})
            part = _item(data, b"BODY[]")
            if part is None:
                if offset == 0:
                    raise self._missing(key)
                break
            out.write(part)
            offset += len(part)
            if len(part) < self.chunk_size:
                break
        return offset

    def fetch_headers(self, key: str) -> bytes:
        uid = self._uid(key)
        with self._guard(f"fetching the header of UID {uid} from {self.folder!r}"):
            data = self._client.fetch([uid], ["BODY.PEEK[HEADER]"]).get(uid, {})
        header = _item(data, b"BODY[HEADER]")
        if header is None:
            raise self._missing(key)
        return header

    def size_of(self, key: str) -> int | None:
        """RFC822.SIZE as listed (None if the message was not listed in this session)."""
        return self._sizes.get(self._uid(key))

    # ---- IDLE (RFC 2177), for engine/idle.py: waiting only, never reading or changing mail -----------------
    def idle_start(self) -> None:
        with self._guard(f"starting IDLE on {self.folder!r}"):
            self._client.idle()

    def idle_wait(self, timeout: float) -> list:
        """Untagged responses that arrive within `timeout` seconds ([] on timeout, and also when the server
        closed the connection: imapclient swallows that EOF, so the caller checks the link then)."""
        with self._guard(f"waiting in IDLE on {self.folder!r}"):
            return self._client.idle_check(timeout)

    def idle_end(self) -> list:
        """DONE; the untagged responses received meanwhile. Raises SourceError when the link is dead."""
        with self._guard(f"ending IDLE on {self.folder!r}"):
            return list(self._client.idle_done()[1])

    def noop(self) -> list:
        """NOOP as a health check; the untagged responses it brought (EXISTS when mail arrived)."""
        with self._guard(f"checking the connection to {self.where}"):
            return list(self._client.noop()[1])

    def interrupt(self) -> None:
        """From another thread: shut the socket down, which wakes a blocked idle_wait at once."""
        client = self._client
        self._broken = True
        try:
            client.socket().shutdown(socket.SHUT_RDWR)
        except (AttributeError, OSError):  # not connected, or already closed
            pass

    # ---- writing ------------------------------------------------------------------------------
    def delete(self, keys: Iterable[str]) -> bool:
        """Flag \\Deleted and expunge exactly these messages (see module docstring for no UIDPLUS).

        True once the server expunged them; False when they could only be flagged (they are still in the
        folder, so the caller keeps the delete pending and asks again next session)."""
        uids = sorted({self._uid(k) for k in keys})
        if not uids:
            return True
        client = self._client
        with self._guard(f"deleting {len(uids)} messages from {self.folder!r}"):
            client.add_flags(uid_set(uids), [DELETED], silent=True)
            if self.has("UIDPLUS"):
                client.uid_expunge(uid_set(uids))
                return True
            flagged = set(client.search(["DELETED"]))
            if flagged <= set(uids):
                client.expunge()
                return True
            log.warning("%s: %d messages of others are flagged \\Deleted in %r; ours stay flagged until "
                        "someone expunges (server lacks UIDPLUS)", self.name, len(flagged - set(uids)),
                        self.folder)
            return False

    def move(self, keys: Iterable[str], folder: str) -> bool:
        """MOVE (RFC 6851) when offered, else COPY then delete(); the target folder must exist.
        True once the messages left the folder (see delete())."""
        key_list = list(keys)
        uids = sorted({self._uid(k) for k in key_list})
        if not uids:
            return True
        with self._guard(f"checking target folder {folder!r}"):
            exists = self._client.folder_exists(folder)
        if not exists:
            raise SourceError("folder", f"target folder {folder!r} does not exist on {self.where} for "
                                        f"{self.config.login!r}; create it or fix target_folder")
        with self._guard(f"moving {len(uids)} messages from {self.folder!r} to {folder!r}"):
            if self.has("MOVE"):
                self._client.move(uid_set(uids), folder)
                return True
            self._client.copy(uid_set(uids), folder)
        return self.delete(key_list)


def _text(exc: BaseException) -> str:
    """A server error as one short line (imaplib wraps bytes reprs in its messages)."""
    return " ".join(str(exc).replace("b'", "'").split())[:300]
