"""One pass over the active inboxes (cron's `run --once`), the loop of `run`, and their building blocks.

Per inbox: claim the lease, connect, finish pending server dispositions, list what is new (O(1) round trips
for IMAP when nothing is new), process each message in its own transaction, then touch the server.
One failing message or inbox never stops the others.

A pass with nothing new does the same store work however much mail is kept on the server: every query it
makes reads an index range holding only the rows that need work (mail_message_work, _pending, _vanished),
and a folder that still shows the fingerprint of a listing a pass took in whole (InboxState.listing) is
neither listed nor compared with its records. POP3 and Maildir are then listed only when they changed;
IMAP counts its records only when STATUS changed, to notice mail deleted by other clients.
"""
from __future__ import annotations

import datetime as dt
import email.parser
import hashlib
import json
import logging
import os
import re
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable, Iterator

from peewee import SQL, PeeweeException

from ..settings import InboxSettings, Settings, SettingsError, resolve_secret
from ..store.models import DebugTrace, Inbox, InboxState, MailMessage, database_proxy, utcnow
from . import faults, leases, presence
from .arrival import arrival_order, server_label, thread_parents
from .events import (
    EventSink,
    InboxCounters,
    InboxFinished,
    InboxProgress,
    InboxStarted,
    MessageHandled,
    OutboxSent,
    PassFinished,
    PassStarted,
    TraceLine,
    ignore_events,
)
from .outbound import send_outbox
from .big_files import standin_mail
from . import records
from .people import CallerCache
from .process import Located, leave_action, process_message, record_error
from .sources import FolderState, MailSource, RemoteMessage, SourceConfig, SourceError, open_source
from .oauth import tokens as oauth_tokens

log = logging.getLogger(__name__)
KEY_CHUNK = 500
HOLD_BYTES = 32 * 1024 * 1024  # replies held back to the end of a pass (waiting for their request), at most
TRANSIENT = ("refused", "timeout", "protocol", "dns")  # SourceError kinds that end the session: retry later


def source_config(inbox: InboxSettings, settings: Settings, fresh_token: bool = False) -> SourceConfig:
    """Connection facts with the secret resolved (raises SettingsError when the secret is unavailable). An
    OAuth2 inbox gets its access token instead (SourceError("auth") when it needs authorization);
    `fresh_token` refreshes it even if the cached one has not expired yet (the server refused it)."""
    password = token = ""
    if inbox.auth == "oauth2" and inbox.protocol != "maildir":
        token = oauth_tokens.access_token(inbox, force_refresh=fresh_token)
    else:
        password = resolve_secret(inbox.password, inbox.password_env, inbox.password_file, f"inbox {inbox.name}")
    return SourceConfig(
        name=inbox.name, protocol=inbox.protocol, server=inbox.server, port=inbox.port, tls=inbox.tls,
        verify_certificate=inbox.verify_certificate, ca_file=inbox.ca_file, login=inbox.login, password=password,
        oauth_token=token,
        mailbox=inbox.mailbox or "INBOX",
        pop3_auth=inbox.pop3_auth if inbox.pop3_auth != "USER" else settings.engine.pop3_auth_option,
        use_message_id_as_uid=settings.engine.use_message_id_as_uid and inbox.protocol == "imap",
        timeout=float(inbox.timeout),
    )


@contextmanager
def open_inbox(inbox: InboxSettings, settings: Settings, config: SourceConfig) -> Iterator[MailSource]:
    """open_source(config) for an inbox. A server that refuses an OAuth2 inbox's cached token (revoked, or
    expired early because its clock runs ahead of ours) is tried once more with a freshly refreshed one."""
    source = open_source(config)
    try:
        source.__enter__()
    except SourceError as exc:
        if exc.kind != "auth" or inbox.auth != "oauth2":
            raise
        source = open_source(source_config(inbox, settings, fresh_token=True))
        source.__enter__()
    try:
        yield source
    except BaseException:
        if not source.__exit__(*sys.exc_info()):
            raise
    else:
        source.__exit__(None, None, None)


class InboxPass:
    """The work of one pass on one inbox, holding its lease."""

    def __init__(self, settings: Settings, row: Inbox, inbox: InboxSettings, owner: str,
                 sink: EventSink, stop: threading.Event, turn: Callable[[], bool] | None = None) -> None:
        self.settings, self.row, self.inbox, self.owner = settings, row, inbox, owner
        self.sink, self.stop = sink, stop
        self.turn = turn  # asked between two messages: True ends the pass there (a daemon's other inbox waits)
        self.folder = inbox.mailbox or "INBOX"
        self.counters = InboxCounters()
        self.warnings: list[str] = []
        self._disposed: dict[int, str] = {}  # record id -> delete|move done on the server in this session
        self._disposal_errors: list[str] = []
        self._listing = ""  # the fingerprint of this pass's full listing, kept once its queue is taken in
        self._lease_renewed = time.monotonic()
        self.callers = CallerCache()  # persons found by address, for this pass
        self._threads: tuple[bytes, records.ThreadHint] | None = None  # the last mail's parents, as read

    # -- trace ---------------------------------------------------------------------------------------
    def trace(self, line: str) -> None:
        self.sink(TraceLine(self.inbox.name, line))
        if self.inbox.trace:
            DebugTrace.create(inbox=self.row.id, line=line)

    def count(self, **changes: int) -> None:
        self.counters = replace(self.counters, **{k: getattr(self.counters, k) + v for k, v in changes.items()})

    # -- the pass ------------------------------------------------------------------------------------
    def run(self) -> InboxFinished:
        self.sink(InboxStarted(self.inbox.name))
        state, _ = InboxState.get_or_create(inbox=self.row.id, folder=self.folder)
        state.last_attempt = utcnow()
        state.save(only=[InboxState.last_attempt])
        try:
            config = source_config(self.inbox, self.settings)
            if not config.verify_certificate and config.tls != "none":
                self.warnings.append("certificate verification is OFF for this inbox")
            with open_inbox(self.inbox, self.settings, config) as source:
                self._sync(source, state)
            self._commit_dispositions()  # the session ended cleanly: its deletes and moves took effect
        except SettingsError as exc:
            return self._failed(state, str(exc), "settings")
        except SourceError as exc:
            return self._failed(state, str(exc), "unreachable")
        except OSError as exc:  # a connection dropped outside the source's own error mapping
            return self._failed(state, f"{self.inbox.server}: connection lost ({exc})", "unreachable")
        except PeeweeException as exc:  # the store failed: this inbox stops, the others still get their turn
            log.exception("inbox %s: store error", self.inbox.name)
            return self._failed(state, f"store error: {type(exc).__name__}: {exc}", "store")
        except Exception as exc:  # noqa: BLE001 - a bug on one inbox must not stop the others
            log.exception("inbox %s: pass failed", self.inbox.name)
            return self._failed(state, f"internal error: {type(exc).__name__}: {exc}", "internal")
        state.last_success, state.last_error, state.error_streak = utcnow(), "", 0
        state.last_counters = _json(self.counters)
        state.save(only=[InboxState.last_success, InboxState.last_error, InboxState.error_streak,
                         InboxState.last_counters])
        self._prune_trace()
        self.trace(f"pass done: {self.counters.line()}")
        if self._disposal_errors:  # the ticket work is done, but mail did not leave the server as asked
            problem = self._disposal_errors[0] + (f" (and {len(self._disposal_errors) - 1} more)"
                                                  if len(self._disposal_errors) > 1 else "")
            return InboxFinished(self.inbox.name, self.counters, problem, "disposal", tuple(self.warnings))
        return InboxFinished(self.inbox.name, self.counters, warnings=tuple(self.warnings))

    def _failed(self, state: InboxState, reason: str, kind: str) -> InboxFinished:
        state.last_error, state.error_streak = reason, state.error_streak + 1
        state.last_counters = _json(self.counters)
        try:  # only the health fields: the sync position is saved where it changes, with its work
            state.save(only=[InboxState.last_error, InboxState.error_streak, InboxState.last_counters])
        except PeeweeException:
            log.exception("inbox %s: could not record the failure", self.inbox.name)
        self.trace(f"pass failed: {reason}")
        return InboxFinished(self.inbox.name, self.counters, reason, kind, tuple(self.warnings))

    def _sync(self, source: MailSource, state: InboxState) -> None:
        folder_state = source.poll_state()
        uidvalidity = folder_state.epoch
        has_epochs = folder_state.uidvalidity is not None  # IMAP; POP3 and Maildir have no UIDVALIDITY
        if has_epochs and state.uidvalidity not in (None, uidvalidity):
            self.trace(f"UIDVALIDITY changed {state.uidvalidity} -> {uidvalidity}: re-keying known messages")
            state.highest_uid = 0
        state.uidvalidity = uidvalidity
        state.save(only=[InboxState.uidvalidity, InboxState.highest_uid])
        # Driven by the store, not by "the change was seen in this pass": a re-keying pass that was cut
        # short is finished by the next one instead of ticketing the rest of the folder again.
        rekey = has_epochs and self._old_epoch(uidvalidity).exists()
        self._dispose_pending(source, uidvalidity)
        queue = self._queue(source, state, folder_state)
        if queue:
            self.trace(f"{len(queue)} message(s) to process")
            self._progressed(len(queue), 0)
        done = 0
        finished = True
        held: list[tuple[RemoteMessage, bytes]] = []
        held_bytes = 0
        saved_highest = state.highest_uid
        for position, (remote, raw) in enumerate(self._downloads(source, queue)):
            if not self._renew_lease():
                self.trace("lease lost: another runner took this inbox; stopping")
                finished = False
                break
            if position and self.turn is not None and self.turn():
                finished = False  # what is left is listed again by the next pass, in the same order
                break
            more_follow = position < len(queue) - 1
            if (raw is not None and more_follow and not rekey and held_bytes + len(raw) <= HOLD_BYTES
                    and self._awaits_request(raw)):
                self._hold(uidvalidity, remote, raw)
                held.append((remote, raw))
                held_bytes += len(raw)
                continue
            self._one(source, state, uidvalidity, remote, raw, rekey)
            done += 1
            self._progressed(len(queue), done)
        for remote, raw in held if finished else ():  # recorded as new: a pass cut short retries them
            if self.stop.is_set() or not self._renew_lease():
                finished = False
                break
            self._one(source, state, uidvalidity, remote, raw, rekey)
            done += 1
            self._progressed(len(queue), done)
        if state.highest_uid != saved_highest:
            # once per pass, not per mail: a pass that dies before lists those UIDs again, and their records
            # mark them done (_known_done); a page and a statement less in every mail's commit
            state.save(only=[InboxState.highest_uid])
        if self.stop.is_set():
            self.trace("stop requested: leaving the rest for the next pass")
            finished = False
        if rekey and finished:
            self._retire_old_epoch(uidvalidity)
        if finished and self._listing:
            self._remember_listing(state, self._listing)
        self._schedule_purges(uidvalidity)
        self._dispose_pending(source, uidvalidity)
        self._purge_vanished()

    def _progressed(self, listed: int, done: int) -> None:
        """One event per message and no query: throttling the display is the consumers' business."""
        self.sink(InboxProgress(self.inbox.name, listed, done, self.counters.errors))

    def _renew_lease(self) -> bool:
        """Renew when a tenth of the lease has passed (not a write per message): until it expires, nobody
        else may take it, so a renewal that recent still proves we hold it."""
        if time.monotonic() - self._lease_renewed < self.settings.engine.lease_seconds / 10:
            return True
        self._lease_renewed = time.monotonic()
        return leases.renew(self.row.id, self.owner, self.settings.engine.lease_seconds)

    def _awaits_request(self, raw: bytes) -> bool:
        """A reply naming parents of which none is known yet: its request may come later in this pass. What
        is read here is kept for the processing of this same mail (records.ThreadHint)."""
        parents = list(dict.fromkeys(thread_parents(raw)))[:200]
        if not parents:
            return False
        self._threads = (raw, records.ThreadHint(frozenset(parents), records.thread_tickets(parents)))
        return not self._threads[1].found

    def _hold(self, uidvalidity: int, remote: RemoteMessage, raw: bytes) -> None:
        """Record a held reply as `new` before going on: later messages move highest_uid past it, and
        a pass that dies before its turn must leave it where the next pass retries it."""
        headers = email.parser.BytesHeaderParser().parsebytes(raw[:65536])
        MailMessage.insert(
            inbox=self.row.id, folder=self.folder, uidvalidity=uidvalidity, key=remote.key, uid=remote.uid,
            size=remote.size, status="new", message_id=str(headers.get("Message-ID", "")).strip().strip("<>")[:255],
            subject=str(headers.get("Subject", ""))[:2000], from_addr=str(headers.get("From", ""))[:255],
            trace="held back to the end of the pass: a reply whose request was not known yet",
        ).on_conflict_ignore().execute()
        self.trace(f"message {self._label(remote.key, remote.uid)}: a reply to mail not known yet; "
                   "held back to the end of this pass")

    def _label(self, key: str, uid: int | None, row_id: int | None = None) -> str:
        """`#12 (uid 17)`: the store's message number, then the server's name for it."""
        where = server_label(self.inbox.protocol, key, uid)
        return f"#{row_id} ({where})" if row_id is not None else where

    def _old_epoch(self, uidvalidity: int):
        """Records of this folder from an earlier UIDVALIDITY still believed on the server: two index ranges
        of mail_message_work, one each side of the current epoch (`!=` would read every kept record)."""
        here = ((MailMessage.inbox == self.row.id) & (MailMessage.folder == self.folder)
                & (MailMessage.on_server == True))  # noqa: E712
        return MailMessage.select(MailMessage.id).where(
            (here & (MailMessage.uidvalidity < uidvalidity)) | (here & (MailMessage.uidvalidity > uidvalidity)))

    def _retire_old_epoch(self, uidvalidity: int) -> None:
        """The whole new epoch was read: old-epoch records nobody re-keyed are of messages that are gone.
        No server action is ever taken on an old-epoch UID."""
        gone = MailMessage.update(on_server=False, vanished_at=utcnow(), disposition_pending="").where(
            MailMessage.id.in_(self._old_epoch(uidvalidity))).execute()
        if gone:
            self.trace(f"{gone} record(s) of the old UIDVALIDITY were not found again: marked vanished")

    def _queue(self, source: MailSource, state: InboxState, folder_state: FolderState) -> list[RemoteMessage]:
        """New messages plus those an operator reset, in server arrival order (see arrival.py)."""
        uidvalidity = folder_state.epoch
        # what the server shows, and the settings that decide which of its messages should have left it
        fingerprint = (f"{folder_state.fingerprint} | {self.inbox.email_storage} {self.inbox.error_behavior}"
                       if folder_state.fingerprint else "")
        unchanged = bool(fingerprint) and fingerprint == state.listing
        incremental = self.inbox.protocol == "imap" and not self.settings.engine.use_message_id_as_uid
        if incremental:
            nothing_new = folder_state.uidnext is not None and folder_state.uidnext - 1 <= state.highest_uid
            if nothing_new and not unchanged:
                self._notice_outside_deletes(source, folder_state)
                self._remember_listing(state, fingerprint)
            listed = [] if nothing_new else source.list_new(state.highest_uid)
            done = self._known_done(listed, uidvalidity)
        elif unchanged:  # the records say all there is to say about this folder: only retries below
            listed, done = [], set()
        else:  # POP3 UIDL, Maildir, Message-ID keys: the full listing against the store
            self._remember_listing(state, "")  # a pass cut short must not leave a listing it did not take in
            listed = source.list_all()
            done = self._reconcile(listed, uidvalidity)
            self._listing = fingerprint
        queue = [m for m in listed if m.key not in done]
        retry = MailMessage.select(MailMessage.key, MailMessage.uid, MailMessage.size).where(
            (MailMessage.inbox == self.row.id) & (MailMessage.folder == self.folder)
            & (MailMessage.uidvalidity == uidvalidity) & (MailMessage.status == "new")
            & (MailMessage.on_server == True)  # noqa: E712 (peewee expression)
        ).order_by(MailMessage.uid, MailMessage.id)
        queued = {m.key for m in queue}
        queue += [RemoteMessage(r.key, r.size, r.uid) for r in retry if r.key not in queued]
        return arrival_order(queue, self.inbox.protocol)  # retries join the new mail in the server's order

    def _remember_listing(self, state: InboxState, fingerprint: str) -> None:
        """Record which server listing the store has taken in whole ("" = none); written only on change."""
        if state.listing != fingerprint:
            state.listing = fingerprint
            state.save(only=[InboxState.listing])

    def _notice_outside_deletes(self, source: MailSource, folder_state: FolderState) -> None:
        """Another client deleted or moved messages when the store believes more are on the server than
        the folder holds: one COUNT in the store when STATUS changed, a full listing only when they disagree."""
        believed = MailMessage.select().where(
            (MailMessage.inbox == self.row.id) & (MailMessage.folder == self.folder)
            & (MailMessage.uidvalidity == folder_state.epoch) & (MailMessage.on_server == True)  # noqa: E712
        ).count()
        if believed > folder_state.count:
            self._reconcile(source.list_all(), folder_state.epoch)
            self.trace(f"{believed - folder_state.count} message(s) left the folder outside mailticket: marked vanished")

    def _known_done(self, listed: list[RemoteMessage], uidvalidity: int | None) -> set[str]:
        keys = [m.key for m in listed]
        done: set[str] = set()
        for start in range(0, len(keys), KEY_CHUNK):
            chunk = keys[start:start + KEY_CHUNK]
            done.update(r.key for r in MailMessage.select(MailMessage.key).where(
                (MailMessage.inbox == self.row.id) & (MailMessage.folder == self.folder)
                & (MailMessage.uidvalidity == uidvalidity) & (MailMessage.key.in_(chunk))
                & (MailMessage.status != "new")))
        return done

    def _reconcile(self, listed: list[RemoteMessage], uidvalidity: int | None) -> set[str]:
        """A full listing against the store in one query: returns the keys already dealt with, and marks
        the records of messages no longer listed as vanished (kept for vanished_retention_days).

        The server has the last word: a message this session already asked to leave is not "gone" before
        the session closed cleanly (a POP3 DELE is rolled back by a session that dies before QUIT); a
        message listed again is back on the server, and one that should have left (processed in a
        delete or move inbox) is sent on its way again instead of staying forever."""
        present = {m.key for m in listed}
        done: set[str] = set()
        gone: list[int] = []
        back: list[int] = []
        resend: dict[str, list[int]] = {}
        for row_id, key, status, on_server, pending in MailMessage.select(
                MailMessage.id, MailMessage.key, MailMessage.status, MailMessage.on_server,
                MailMessage.disposition_pending).where(
                (MailMessage.inbox == self.row.id) & (MailMessage.folder == self.folder)
                & (MailMessage.uidvalidity == uidvalidity)).tuples().iterator():
            if status != "new":
                done.add(key)
            if row_id in self._disposed:
                continue
            if key not in present:
                if on_server:
                    gone.append(row_id)
                continue
            if not on_server:
                back.append(row_id)
            action = leave_action(self.inbox, status)
            if action and not pending:
                resend.setdefault(action, []).append(row_id)
        with database_proxy.atomic():
            for ids, changes in [(gone, {"on_server": False, "vanished_at": utcnow(), "disposition_pending": ""}),
                                 (back, {"on_server": True, "vanished_at": None}),
                                 *[(ids, {"disposition_pending": action}) for action, ids in resend.items()]]:
                for start in range(0, len(ids), KEY_CHUNK):
                    MailMessage.update(**changes).where(MailMessage.id.in_(ids[start:start + KEY_CHUNK])).execute()
        if back:
            self.trace(f"{len(back)} message(s) believed gone are on the server again")
        if resend:
            self.trace(f"{sum(map(len, resend.values()))} processed message(s) still on the server: "
                       "their delete/move is asked again")
        return done

    def _purge_vanished(self) -> None:
        """Records of messages gone from the server are kept vanished_retention_days, then dropped; error
        and ignored records stay until an operator acts."""
        engine = self.settings.engine
        keep = dt.timedelta(seconds=max(engine.vanished_retention_days, engine.retention_period))  # durations in s
        limit = utcnow() - keep
        records.delete_records(
            (MailMessage.inbox == self.row.id) & (MailMessage.folder == self.folder)
            & (MailMessage.on_server == False) & (MailMessage.vanished_at < limit)  # noqa: E712
            & (MailMessage.status.in_(["processed", "undesired"])))

    def _downloads(self, source: MailSource, queue: list[RemoteMessage]) -> Iterator[tuple[RemoteMessage, bytes | None]]:
        """(message, raw) in queue order, fetched in batches (source.fetch_many) and consumed lazily, so a
        stop request wastes at most one batch. raw is None for a too-big message (never downloaded here)
        and for one that left the server before it was read."""
        limit = self.settings.engine.maximum_email_size
        small = [m.key for m in queue if not (limit and m.size > limit)]
        stream = source.fetch_many(small) if small else iter(())
        ahead: tuple[str, bytes] | None = None
        for remote in queue:
            if self.stop.is_set():  # checked before the next download, not after it
                return
            if limit and remote.size > limit:
                yield remote, None
                continue
            if ahead is None:
                ahead = next(stream, None)
            if ahead is not None and ahead[0] == remote.key:
                raw, ahead = ahead[1], None
                yield remote, raw
            else:  # fetch_many leaves out what vanished; order is kept, so `ahead` is a later message
                yield remote, None

    def _one(self, source: MailSource, state: InboxState, uidvalidity: int | None,
             remote: RemoteMessage, raw: bytes | None, rekey: bool) -> None:
        where = Located(self.row.id, self.folder, uidvalidity, remote.key, remote.uid, remote.size)
        limit = self.settings.engine.maximum_email_size
        if limit and remote.size > limit:
            try:
                self._too_big(source, state, where, limit)
            except SourceError as exc:
                if exc.kind != "missing":
                    raise
                self.trace(f"message {self._label(remote.key, remote.uid)}: gone from the server before it was read; skipped")
            return
        if raw is None:
            self.trace(f"message {self._label(remote.key, remote.uid)}: gone from the server before it was read; skipped")
            return
        self.count(read=1)
        if rekey and self._rekeyed(where, raw, state):
            return
        hint = self._threads[1] if self._threads is not None and self._threads[0] is raw else None
        row = process_message(self.settings, self.inbox, where, raw, state, self.callers, hint)
        self.count(**{{"processed": "processed", "error": "errors", "undesired": "undesired"}.get(row.status, "skipped"): 1})
        self.trace(f"message {self._label(remote.key, remote.uid, row.id)}: {row.status}" + (f" ({row.error})" if row.error else "")
                   + (f" -> {row.ticket.ref}" if row.ticket_id else ""))
        self.sink(MessageHandled(self.inbox.name, row.id, remote.key, row.status,
                                 row.ticket.ref if row.ticket_id else None, row.error, tuple(row.trace.splitlines())))
        self._dispose(source, row)

    def _too_big(self, source: MailSource, state: InboxState, where: Located, limit: int) -> None:
        """Never download a too-big message into memory: stream it to big_files_dir when set."""
        raw_headers = source.fetch_headers(where.key)
        headers = email.parser.BytesHeaderParser().parsebytes(raw_headers)
        reason = f"message too big: {where.size} bytes (maximum_email_size {limit.text} = {int(limit)} bytes)"
        saved, target = "", ""
        if self.settings.engine.big_files_dir:
            name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{self.inbox.name}-{where.folder}-{where.uidvalidity}-{where.key}")
            target = Path(self.settings.engine.big_files_dir) / f"{name}.eml"
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".part")  # a cut download never looks complete
            try:
                with open(partial, "wb", opener=lambda path, flags: os.open(path, flags, 0o600)) as out:
                    source.fetch_to(where.key, out)
                os.replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)
            saved = f"; saved to {target}"
        if self.settings.engine.big_email_behavior == "ticket" and saved:
            # its headers make the ticket, a warning says where; never without a saved copy (a delete inbox
            # would then lose the mail): without big_files_dir it stays an error record
            row = process_message(self.settings, self.inbox, where, standin_mail(raw_headers, where.size, reason,
                                                                                  str(target)), state)
        else:
            row = record_error(where, reason + saved, self.settings, self.inbox, state,
                               str(headers.get("Message-ID", "")).strip("<> "), str(headers.get("Subject", "")),
                               str(headers.get("From", "")))
        self.count(**{{"processed": "processed", "error": "errors", "undesired": "undesired"}.get(row.status, "skipped"): 1})
        self.trace(f"message {self._label(where.key, where.uid, row.id)}: {row.status} ({reason}{saved})")
        self.sink(MessageHandled(self.inbox.name, row.id, where.key, row.status, row.ticket.ref if row.ticket_id else None,
                                 row.error, tuple(row.trace.splitlines())))
        self._dispose(source, row)

    def _rekeyed(self, where: Located, raw: bytes, state: InboxState) -> bool:
        """After a UIDVALIDITY change, a known message gets its new key instead of a second ticket."""
        digest = hashlib.sha256(raw).hexdigest()
        headers = email.parser.BytesHeaderParser().parsebytes(raw[:65536])
        message_id = str(headers.get("Message-ID", "")).strip().strip("<>")
        match = (MailMessage.sha256 == digest)
        if message_id:
            match |= (MailMessage.message_id == message_id)
        old = MailMessage.select().where(
            (MailMessage.inbox == self.row.id) & (MailMessage.folder == self.folder)
            & (MailMessage.uidvalidity != where.uidvalidity) & match
        ).order_by(MailMessage.id).first()
        if old is None:
            return False
        here = (MailMessage.inbox == self.row.id) & (MailMessage.folder == self.folder) & (
            MailMessage.uidvalidity == where.uidvalidity) & (MailMessage.key == where.key)
        if MailMessage.select().where(here & (MailMessage.status != "new")).exists():
            return True  # already dealt with under its new key; the old record is retired with its epoch
        with database_proxy.atomic():
            # a placeholder under the new key (a reply held back earlier in this pass) gives way to the record
            MailMessage.delete().where(here & (MailMessage.status == "new") & MailMessage.ticket.is_null()).execute()
            old.uidvalidity, old.key, old.uid, old.on_server = where.uidvalidity, where.key, where.uid, True
            old.vanished_at = None
            old.save()
            if where.uid and where.uid > state.highest_uid:
                state.highest_uid = where.uid
                state.save(only=[InboxState.highest_uid])
        if old.status == "new":  # an operator had reset it: re-keyed, and now retried under its new key
            self.trace(f"message {self._label(where.key, where.uid, old.id)}: known (reset); re-keyed and retried")
            return False
        self.trace(f"message {self._label(where.key, where.uid, old.id)}: known ({old.status}); re-keyed, not processed again")
        return True

    def _schedule_purges(self, uidvalidity: int | None) -> None:
        """Undesired mail older than undesired_purge_delay days leaves the server."""
        limit = utcnow() - dt.timedelta(seconds=self.settings.engine.undesired_purge_delay)
        MailMessage.update(disposition_pending="delete").where(
            (MailMessage.inbox == self.row.id) & (MailMessage.folder == self.folder)
            & (MailMessage.uidvalidity == uidvalidity) & (MailMessage.status == "undesired")
            & (MailMessage.on_server == True) & (MailMessage.processed_at < limit)  # noqa: E712
            & (MailMessage.disposition_pending == "")
        ).execute()

    def _dispose_pending(self, source: MailSource, uidvalidity: int | None) -> None:
        """Every delete/move still pending, in arrival order. Deletes the server could only flag are asked
        once more together: without UIDPLUS an expunge is safe only when every flagged mail is ours."""
        rows = MailMessage.select().where(
            (MailMessage.inbox == self.row.id) & (MailMessage.folder == self.folder)
            & (MailMessage.uidvalidity == uidvalidity)
            & (MailMessage.disposition_pending > SQL("''"))  # as written: the partial index's own term
            & (MailMessage.on_server == True)).order_by(MailMessage.uid, MailMessage.id)  # noqa: E712
        flagged = [row for row in rows if row.id not in self._disposed and not self._dispose(source, row)
                   and row.disposition_pending == "delete"]
        if len(flagged) > 1 and source.delete([row.key for row in flagged]):
            for row in flagged:
                self._disposed[row.id] = "delete"
            self.count(deleted=len(flagged))
            self.trace(f"{len(flagged)} flagged message(s) expunged together")

    def _dispose(self, source: MailSource, row: MailMessage) -> bool:
        """Delete or move on the server, strictly after the commit; a failure stays pending for the next pass.
        False when the server only flagged the message (still pending)."""
        action = row.disposition_pending
        if not action:
            return True
        label = self._label(row.key, row.uid, row.id)
        try:
            if action == "move":
                confirmed = source.move([row.key], self.inbox.target_folder)
            else:
                confirmed = source.delete([row.key])
        except SourceError as exc:
            if exc.kind == "missing":  # removed by someone else, or earlier in this session
                self.trace(f"message {label}: already gone from the server")
                self._disposed[row.id] = action  # recorded with the others once the session closed cleanly
                return True
            if exc.kind in TRANSIENT:
                self.trace(f"message {label}: {action} failed ({exc}); retried next pass")
                raise
            self._disposal_failed(row, action, exc)
            return True
        if not confirmed:
            self.trace(f"message {label}: flagged for deletion, not expunged yet; asked again next pass")
            return False
        faults.hit("after_dispose")
        # Recorded as done when the session ends cleanly (_commit_dispositions): a POP3 server applies
        # DELE only at QUIT, and a session that dies first keeps the message, so the record must stay
        # pending. Redoing a delete or move that did take effect is harmless (the message is gone).
        self._disposed[row.id] = action
        self.count(**{"moved" if action == "move" else "deleted": 1})
        return True

    def _disposal_failed(self, row: MailMessage, action: str, exc: SourceError) -> None:
        """A lasting refusal (no such target folder, no permission): an error on this message, which keeps
        the ticket it fed; a reset after the fix retries the delete/move without applying the mail twice."""
        ticket = f"processed into {row.ticket.ref}, but " if row.ticket_id else ""
        reason = f"{ticket}{action} on the server failed: {exc}; fix it, then reset this message"
        MailMessage.update(status="error", error=reason, disposition_pending="",
                           trace=MailMessage.trace.concat(f"\nserver: {reason}")).where(
            MailMessage.id == row.id).execute()
        self.count(errors=1)
        self.trace(f"message {self._label(row.key, row.uid, row.id)}: error ({reason})")
        self._disposal_errors.append(f"message #{row.id}: {action} failed: {exc}")

    def _commit_dispositions(self) -> None:
        done, self._disposed = list(self._disposed), {}
        if not done:
            return
        with database_proxy.atomic():
            for start in range(0, len(done), KEY_CHUNK):
                MailMessage.update(disposition_pending="", on_server=False, vanished_at=utcnow()).where(
                    MailMessage.id.in_(done[start:start + KEY_CHUNK])).execute()

    def _prune_trace(self) -> None:
        """Keep the rolling trace within trace_max_bytes (oldest lines go first)."""
        if not self.inbox.trace:
            return
        budget = self.settings.engine.trace_max_bytes
        total = 0
        cutoff = None
        for line in DebugTrace.select(DebugTrace.id, DebugTrace.line).where(
                DebugTrace.inbox == self.row.id).order_by(DebugTrace.id.desc()).iterator():
            total += len(line.line) + 1
            if total > budget:
                cutoff = line.id
                break
        if cutoff is not None:
            DebugTrace.delete().where((DebugTrace.inbox == self.row.id) & (DebugTrace.id <= cutoff)).execute()


def _json(counters: InboxCounters) -> str:
    return json.dumps(asdict(counters))


def run_pass(settings: Settings, only: list[str] | None = None, owner: str | None = None,
             sink: EventSink = ignore_events, stop: threading.Event | None = None,
             hold: bool = False, turn: Callable[[], bool] | None = None) -> PassFinished:
    """One pass over the active inboxes (or the named ones); each inbox under its lease, released after its
    pass unless `hold` (a daemon keeps the inboxes it serves between passes and renews their leases).
    `turn`: asked between two messages; True ends that inbox's pass there (the daemon's turns)."""
    owner = owner or leases.new_owner("run")
    stop = stop or threading.Event()
    rows = {r.name: r for r in Inbox.select()}
    names = only or [i.name for i in settings.inboxes if i.active]
    sink(PassStarted(tuple(names)))
    results = []
    for name in names:
        inbox, row = settings.inbox(name), rows.get(name)
        if inbox is None or row is None:
            results.append(InboxFinished(name, InboxCounters(), f"no inbox named {name!r}", "settings"))
            continue
        if stop.is_set():
            break
        holder = leases.claim(row.id, owner, settings.engine.lease_seconds)
        if holder is not None and not hold and presence.is_live(holder):
            # a daemon (`mailticket run`, an open TUI) serves it: a cron run beside it is not a failure
            result = InboxFinished(name, InboxCounters(), f"served by the daemon {holder}; nothing to do here",
                                   "served")
        elif holder is not None:
            result = InboxFinished(name, InboxCounters(), f"skipped: {holder} holds this inbox", "busy")
        else:
            try:
                result = InboxPass(settings, row, inbox, owner, sink, stop, turn).run()
            finally:
                if not hold:
                    leases.release(row.id, owner)
        sink(result)
        results.append(result)
    sent, problem = send_outbox(settings)
    if sent or problem:
        sink(OutboxSent(sent, problem))
    finished = PassFinished(tuple(results))
    sink(finished)
    return finished
