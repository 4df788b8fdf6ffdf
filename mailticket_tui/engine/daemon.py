"""The daemon behind `mailticket run` and the TUI's background engine: many inboxes, IMAP IDLE where the
server offers it, polling elsewhere, a bounded number of passes at once, and only its share of the inboxes
when several daemons (several machines) share one store.

Boundary: it decides when an inbox gets a pass and keeps the inboxes it serves; the pass itself is the
ordinary runner (`run_pass` through the injected `run_pass` callable, `hold=True`), so exactly-once, one
transaction per message and deletes after commit are the runner's, unchanged. Headless: no textual, no rich.

How it works:
* An inbox is served by the daemon that holds its lease (engine/leases.py), kept between passes and renewed
  every `lease_seconds / 3` by the scheduler. A daemon that dies stops renewing; its leases expire after
  `lease_seconds` and another daemon takes its inboxes over (a lease held by a dead process of this very
  machine is taken at once). A lease that could not be renewed (taken after we stalled) stops our service.
* A pass runs when the inbox is due (every `periodicity` seconds when polled, every `idle_refresh` seconds
  as housekeeping when an IDLE watch is up), when its IDLE watch reports news (engine/idle.py), or on
  `poll_now`. Passes run in threads, at most `concurrent_inboxes` at once; news that arrives during a pass
  gives one more pass after it.
* Turns: when every slot is taken and another inbox waits (its IDLE news, or due and ours to serve), a pass
  hands its slot over after TURN_NEWS seconds (news waiting) or TURN seconds (a due inbox), between two
  messages, and its inbox queues again at once behind the waiting ones. A backlog in a few inboxes no longer
  holds every slot until it is done: new mail elsewhere waits seconds, not the backlog.
* Spreading: each daemon beats in `daemon_presence` (engine/presence.py) and holds at most
  ceil(active inboxes / live daemons); above it, it releases inboxes that are between passes, below it, it
  claims free ones. Busy inboxes (held by someone else) are reported once, on the first round and on
  poll_now, not every period.
* reload() (SIGHUP) re-reads the settings at once; they are also re-read every `periodicity` seconds.
  stop() (SIGTERM) ends the passes after their current message, closes the watches, releases the leases.

Threads and not asyncio: the sources are blocking (imapclient, poplib, peewee); a pass is CPU-bound parsing
under the GIL anyway, so what matters is a cap on passes (the pool) and no CPU while waiting (the watches
sleep in poll(), the scheduler in one Event.wait until the next due time).
"""
from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Callable, Union

from ..settings import Settings, SettingsError
from ..store.models import Inbox, InboxLease, utcnow
from . import leases, presence
from .events import Event, InboxFinished, PassFinished, TraceLine
from .idle import IdleWatch
from .runner import source_config
from .sources import SourceError

log = logging.getLogger(__name__)
TICK = 30.0  # seconds between housekeeping rounds at most (presence, lease renewal, share)
TURN, TURN_NEWS = 10.0, 2.0  # seconds a pass keeps its slot while a due inbox / an inbox with news waits


@dataclass(frozen=True)
class EngineState:
    """What the status bar shows about the engine itself (per-inbox results come as InboxFinished)."""

    state: str  # starting | running (a pass is on) | waiting | paused | stopped
    next_poll: float | None = None  # epoch seconds of the next pass while waiting
    last_error: str = ""  # a pass that failed as a whole (store down...), one line
    passes: int = 0


Report = Callable[[Union[Event, EngineState]], None]
PassFn = Callable[..., PassFinished]  # run_pass(only=, sink=, stop=, owner=, hold=, turn=)


class _Served:
    """The scheduler's record of one inbox (guarded by Daemon._lock)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.due = 0.0  # time.monotonic() of the next pass
        self.held = False  # our lease, kept between passes
        self.running = False
        self.news = False  # the IDLE watch reported something since the last pass started
        self.forced = True  # attempt even if another runner holds it (first round, poll_now): reports busy
        self.free = False  # no live lease of another runner at the last look
        self.watch: IdleWatch | None = None
        self.no_idle = False  # the server does not offer IDLE: polled
        self.dropped = False  # no longer active: released after its pass
        self.started = 0.0  # time.monotonic() the running pass started
        self.handed_over = False  # the running pass was asked to give its slot to a waiting inbox


class Daemon:
    """Call `run()` in one thread; control it from any thread with pause/resume/poll_now/reload/stop."""

    def __init__(self, load: Callable[[], Settings], run_pass: PassFn, report: Report, *, owner: str,
                 only: list[str] | None = None) -> None:
        self.load = load
        self.run_pass = run_pass
        self.report = report
        self.owner = owner
        self.only = list(only or [])
        self.settings: Settings | None = None
        self.results: dict[str, InboxFinished] = {}  # the last outcome of each inbox (exit codes)
        self._lock = threading.RLock()
        self._report_lock = threading.Lock()  # reports come from several passes: one at a time
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._paused = False
        self._reload_asked = False
        self._served: dict[str, _Served] = {}
        self._jobs: set[threading.Thread] = set()
        self._store_round = True  # no inbox at all: a plain pass (outbox) every periodicity
        self._store_due = 0.0
        self._poll_requested = False
        self._live = 1  # live daemons at the last housekeeping
        self._state = EngineState("starting")

    # -- control, from any thread ------------------------------------------------------------------
    @property
    def state(self) -> EngineState:
        return self._state

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        """No new pass starts, the watches close and the leases go (cron may serve the inboxes meanwhile)."""
        self._paused = True
        self._wake.set()

    def resume(self) -> None:
        self._paused = False
        self.poll_now()

    def poll_now(self) -> None:
        """A pass of every inbox at once (also while paused: an explicit request wins)."""
        with self._lock:
            for served in self._served.values():
                served.due, served.forced = 0.0, True
            self._store_due = 0.0
        self._poll_requested = True
        self._wake.set()

    def reload(self) -> None:
        """Re-read the settings from the store now (SIGHUP)."""
        self._reload_asked = True
        self._wake.set()

    def stop(self) -> None:
        """End the loop: passes stop after their current message, watches close, leases are released."""
        self._stop.set()
        self._wake.set()

    # -- the loop ------------------------------------------------------------------------------------
    def run(self) -> list[InboxFinished]:
        """Serve until stop(); returns the last outcome of each inbox."""
        self._load()
        next_tick = next_load = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if self._reload_asked or now >= next_load:
                self._reload_asked = False
                self._load()
                next_load = now + self._period()
            if now >= next_tick:
                self._housekeeping()
                next_tick = time.monotonic() + min(TICK, max(0.5, self._lease_seconds() / 3))  # renew well before expiry
            self._dispatch()
            self._wake.wait(max(0.0, min(next_tick, next_load, self._next_due()) - time.monotonic()))
            self._wake.clear()
        self._shutdown()
        return list(self.results.values())

    def _period(self) -> float:
        return max(1.0, float(self.settings.engine.periodicity)) if self.settings else 30.0

    def _lease_seconds(self) -> float:
        return float(self.settings.engine.lease_seconds) if self.settings else 300.0

    def _load(self) -> None:
        """Settings from the store; inboxes that left the active set are let go, changed ones re-watched."""
        try:
            settings = self.load()
        except (SettingsError, Exception) as exc:  # noqa: BLE001 - a store hiccup must not end the daemon
            self._set(last_error=_one_line(exc))
            return
        old_period = self._period()
        old, self.settings = self.settings, settings
        # named inboxes are served even when deactivated, as `run --inbox N` always did
        wanted = [i.name for i in settings.inboxes if (i.name in self.only if self.only else i.active)]
        with self._lock:
            if self._period() < old_period:  # a shorter periodicity applies at once
                for served in self._served.values():
                    served.due = min(served.due, time.monotonic() + self._period())
            self._store_round = not wanted and not self.only
            for name in wanted:
                if name not in self._served:
                    self._served[name] = _Served(name)
                served = self._served[name]
                served.dropped = False
                changed = old is not None and old.inbox(name) != settings.inbox(name)
                if served.watch and (changed or not settings.engine.idle
                                     or float(old.engine.idle_refresh) != float(settings.engine.idle_refresh)):
                    self._unwatch(served)
                    served.no_idle = False
            for name in set(self._served) - set(wanted):
                self._served[name].dropped = True
                self._let_go(self._served[name])

    # -- housekeeping: presence, leases, share ----------------------------------------------------
    def _housekeeping(self) -> None:
        if self._paused:
            self._release_all()
            return
        seconds = self._lease_seconds()
        try:
            presence.beat(self.owner, seconds)
            self._live = daemons = presence.live()
            leases.renew_all(self.owner, seconds)  # two statements whatever the number of inboxes
            now = utcnow()
            ours, others = set(), set()
            for name, owner, expires in InboxLease.select(Inbox.name, InboxLease.owner, InboxLease.expires).join(
                    Inbox).order_by(Inbox.name).tuples():
                if owner == self.owner:
                    ours.add(name)
                elif expires >= now and not leases.dead_local_holder(owner):
                    others.add(name)
        except Exception as exc:  # noqa: BLE001 - the store is down: the passes will say so too
            self._set(last_error=_one_line(exc))
            return
        with self._lock:
            lost = [s for s in self._served.values() if s.held and not s.running and s.name not in ours]
            for served in lost:
                self._trace(served.name, "lease lost (another runner took this inbox after a stall); not served here")
                served.held = False
                self._unwatch(served)
            share = presence.share(len(self._served), daemons)
            mine = [s for s in self._served.values() if s.held or s.running]
            for served in sorted((s for s in mine if not s.running), key=lambda s: (s.news, s.name)):
                if len(mine) <= share:
                    break
                self._trace(served.name, f"released: {daemons} daemons share the inboxes, {share} each")
                self._let_go(served)
                mine.remove(served)
            for served in self._served.values():
                served.free = served.name not in others
                if served.free and not served.held and not served.running:
                    served.due = min(served.due, time.monotonic())  # taken over now if within our share

    def _inbox_id(self, name: str) -> int:
        return Inbox.get(Inbox.name == name).id

    # -- dispatch -------------------------------------------------------------------------------------
    def _next_due(self) -> float:
        """When the loop must look again for a pass to start: never while paused or at the cap (a pass that
        ends wakes it), else at the earliest due time."""
        if self._paused:
            return math.inf
        with self._lock:
            if len(self._jobs) >= self._cap():
                return math.inf
            dues = [s.due for s in self._served.values() if not s.running and not s.dropped]
            if self._store_round and not self._jobs:
                dues.append(self._store_due)
        return min(dues, default=math.inf)

    def _cap(self) -> int:
        return max(1, int(self.settings.engine.concurrent_inboxes)) if self.settings else 1

    def _dispatch(self) -> None:
        """Start the passes that are due, within the cap and our share."""
        if self._paused and not self._poll_requested:
            self._release_all()
            self._report_waiting()
            return
        self._poll_requested = False
        now = time.monotonic()
        cap = self._cap()
        with self._lock:
            running = len(self._jobs)
            if self._store_round and now >= self._store_due and not self._jobs:
                self._store_due = now + self._period()
                self._start(None)
                running += 1
            share = presence.share(len(self._served), self._live)
            mine = sum(1 for s in self._served.values() if s.held or s.running)
            for served in sorted(self._served.values(), key=lambda s: (not s.news, s.due, s.name)):
                if running >= cap:
                    break
                if served.running or served.dropped or not (served.news or now >= served.due):
                    continue
                if not served.held:
                    if mine >= share or not (served.forced or served.free):
                        served.due, served.forced = now + self._period(), False
                        continue
                    mine += 1
                served.forced = False
                self._start(served)
                running += 1
        self._report_waiting()

    def _start(self, served: _Served | None) -> None:
        if served is not None:
            served.running, served.news = True, False
            served.started, served.handed_over = time.monotonic(), False
        job = threading.Thread(target=self._job, args=(served,), name=f"pass {served.name if served else '-'}",
                               daemon=True)
        self._jobs.add(job)
        self._set(state="running", next_poll=None)
        job.start()

    def _job(self, served: _Served | None) -> None:
        """One pass of one inbox (or, with no inbox at all, the plain pass that sends the outbox)."""
        try:
            turn = (lambda: self._hand_over(served)) if served else None
            finished = self.run_pass(only=[served.name] if served else None, sink=self._sink, stop=self._stop,
                                     owner=self.owner, hold=True, turn=turn)
        except Exception as exc:  # noqa: BLE001 - the daemon must outlive a bad pass (store down, bug)
            self._set(last_error=_one_line(exc), passes=self._state.passes + 1)
            finished = None
        else:
            self._set(last_error="", passes=self._state.passes + 1)
        with self._lock:
            self._jobs.discard(threading.current_thread())
            if served is not None:
                self._after_pass(served, finished)
        self._wake.set()

    def _after_pass(self, served: _Served, finished: PassFinished | None) -> None:
        served.running = False
        outcome = next((r for r in finished.results if r.inbox == served.name), None) if finished else None
        if outcome is not None and outcome.error_kind == "busy":
            served.held = False
        elif outcome is not None:
            served.held = True
        if served.dropped or self._stop.is_set() or self._paused:
            self._let_go(served)
            return
        engine = self.settings.engine
        if (served.held and engine.idle and served.watch is None and not served.no_idle
                and self.settings.inbox(served.name) is not None
                and self.settings.inbox(served.name).protocol == "imap"):
            self._watch(served)
        watching = served.watch is not None and served.watch.state == "idle"
        served.due = time.monotonic() + (float(engine.idle_refresh) if watching else self._period())
        if served.handed_over and served.held:
            served.due = time.monotonic()  # the rest of its mail: queued again, behind the inboxes that waited

    def _hand_over(self, served: _Served) -> bool:
        """Asked by a running pass between two messages: should it end now and give its slot away? Yes when
        every slot is taken and another inbox of ours waits, after TURN_NEWS (news) or TURN seconds."""
        ran = time.monotonic() - served.started
        if ran < TURN_NEWS:
            return False
        now = time.monotonic()
        with self._lock:
            if self._paused or len(self._jobs) < self._cap():
                return False  # a free slot: the waiting inbox gets it without us
            room = sum(1 for s in self._served.values() if s.held or s.running) < presence.share(
                len(self._served), self._live)  # a free inbox is ours to take only within our share
            waiting = [s for s in self._served.values() if not s.running and not s.dropped
                       and (s.news or (s.due <= now and (s.held or (room and s.free))))]
            if not waiting or (ran < TURN and not any(s.news for s in waiting)):
                return False
            served.handed_over = True
        self._trace(served.name, f"handing the slot over after {ran:.0f} s: {len(waiting)} inbox(es) waiting; "
                                 "the rest in the next pass")
        return True

    # -- IDLE watches ---------------------------------------------------------------------------------
    def _watch(self, served: _Served) -> None:
        inbox = self.settings.inbox(served.name)
        try:
            config = source_config(inbox, self.settings)
        except (SettingsError, SourceError):
            return  # the pass reports the missing secret (or an OAuth2 inbox that needs authorization)
        served.watch = IdleWatch(config, float(self.settings.engine.idle_refresh), self._news, self._watch_state,
                                 renew=lambda: source_config(inbox, self.settings))
        served.watch.start()

    def _unwatch(self, served: _Served) -> None:
        watch, served.watch = served.watch, None
        if watch is not None:
            watch.stop(wait=0)

    def _news(self, name: str) -> None:
        with self._lock:
            served = self._served.get(name)
            if served is not None and served.held:
                served.news = True
        self._wake.set()

    def _watch_state(self, name: str, state: str, detail: str) -> None:
        if state == "unsupported":
            with self._lock:
                served = self._served.get(name)
                if served is not None:
                    served.no_idle = True
                    served.due = min(served.due, time.monotonic() + self._period())
        if detail:
            self._trace(name, f"IDLE {state}: {detail}")
        self._wake.set()

    # -- letting go ------------------------------------------------------------------------------------
    def _let_go(self, served: _Served) -> None:
        """Stop watching and release the lease (not during its pass: _after_pass comes back here)."""
        self._unwatch(served)
        if served.running:
            return
        if served.held:
            served.held = False
            try:
                leases.release(self._inbox_id(served.name), self.owner)
            except Exception:  # noqa: BLE001 - it expires by itself
                log.warning("could not release the lease of %s", served.name, exc_info=True)
        served.due = time.monotonic() + self._period()
        if served.dropped:
            self._served.pop(served.name, None)

    def _release_all(self) -> None:
        with self._lock:
            for served in list(self._served.values()):
                self._let_go(served)

    def _shutdown(self) -> None:
        with self._lock:
            watches = [s.watch for s in self._served.values() if s.watch]
            for served in self._served.values():
                served.watch = None
        for watch in watches:
            watch.stop(wait=0)
        for job in list(self._jobs):
            job.join()
        for watch in watches:
            watch.stop()
        self._release_all()
        try:
            presence.leave(self.owner)
        except Exception:  # noqa: BLE001 - it expires by itself
            log.warning("could not leave the presence table", exc_info=True)
        self._set(state="stopped", next_poll=None)

    # -- reports ----------------------------------------------------------------------------------------
    def _sink(self, event: Event) -> None:
        if isinstance(event, InboxFinished):
            self.results[event.inbox] = event
        with self._report_lock:
            self.report(event)

    def _trace(self, inbox: str, line: str) -> None:
        self._sink(TraceLine(inbox, line))

    def _report_waiting(self) -> None:
        with self._lock:
            busy = bool(self._jobs)
        if busy:
            return
        if self._paused:
            self._set(state="paused", next_poll=None)
        else:
            due = self._next_due()
            self._set(state="waiting", next_poll=round(time.time() + max(0.0, due - time.monotonic()), 1)
                      if due != math.inf else None)

    def _set(self, **changes: object) -> None:
        with self._lock:
            state = EngineState(**{**self._state.__dict__, **changes})  # type: ignore[arg-type]
            if state == self._state:
                return
            self._state = state
        with self._report_lock:
            self.report(state)


def _one_line(exc: BaseException) -> str:
    """One line, no traceback: locals may hold a resolved password."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}"[:500]
