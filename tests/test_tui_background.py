"""The TUI's background engine, headless: passes on a Maildir, poll now, pause/resume, stop, leases."""
from __future__ import annotations

import threading
import time
from pathlib import Path

from mailticket_tui.engine.background import BackgroundEngine, EngineState
from mailticket_tui.engine.events import InboxFinished, MessageHandled, OutboxSent, PassFinished
from mailticket_tui.store.models import Inbox, InboxLease

from .test_tui_support import mail_bytes, maildir_inbox, make_maildir, open_store


class Recorder:
    """Collects reports; `wait_for` blocks (bounded) until a predicate over them holds."""

    def __init__(self) -> None:
        self.items: list = []
        self.changed = threading.Condition()

    def __call__(self, report) -> None:
        with self.changed:
            self.items.append(report)
            self.changed.notify_all()

    def wait_for(self, predicate, timeout: float = 10) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: predicate(self.items), timeout), self.items[-5:]


def passes(items) -> int:
    return sum(isinstance(i, PassFinished) for i in items)


def test_engine_passes_polls_pauses_and_stops(tmp_path: Path) -> None:
    maildir = make_maildir(tmp_path / "Maildir")
    (maildir / "new" / "1.M1.test").write_bytes(mail_bytes("Printer jams"))
    services = open_store(tmp_path, maildir_inbox("local", maildir))
    report = Recorder()
    engine = BackgroundEngine(services, report)
    thread = threading.Thread(target=engine.run)
    thread.start()
    try:
        report.wait_for(lambda items: passes(items) >= 1)
        handled = [i for i in report.items if isinstance(i, MessageHandled)]
        assert [(h.inbox, h.status) for h in handled] == [("local", "processed")]
        assert any(isinstance(i, InboxFinished) and i.counters.processed == 1 for i in report.items)
        report.wait_for(lambda items: isinstance(items[-1], EngineState) and items[-1].state == "waiting")
        assert report.items[-1].next_poll > time.time()  # periodicity 30 s: the next pass is later

        (maildir / "new" / "2.M2.test").write_bytes(mail_bytes("Second"))
        engine.poll_now()  # no 30 s wait
        report.wait_for(lambda items: passes(items) >= 2)
        assert sum(isinstance(i, MessageHandled) for i in report.items) == 2

        engine.pause()
        report.wait_for(lambda items: isinstance(items[-1], EngineState) and items[-1].state == "paused")
        assert engine.state.next_poll is None
        engine.resume()
        report.wait_for(lambda items: isinstance(items[-1], EngineState) and items[-1].state == "waiting")
    finally:
        engine.stop()
        thread.join(10)
    assert not thread.is_alive()
    assert engine.state.state == "stopped"
    assert InboxLease.select().count() == 0  # leases released after each pass


def test_engine_skips_an_inbox_another_runner_holds(tmp_path: Path) -> None:
    maildir = make_maildir(tmp_path / "Maildir")
    services = open_store(tmp_path, maildir_inbox("local", maildir))
    InboxLease.create(inbox=Inbox.get(Inbox.name == "local"), owner="run@elsewhere:1",
                      expires=__import__("datetime").datetime(2999, 1, 1))
    report = Recorder()
    engine = BackgroundEngine(services, report)
    thread = threading.Thread(target=engine.run)
    thread.start()
    try:
        report.wait_for(lambda items: passes(items) >= 1)
    finally:
        engine.stop()
        thread.join(10)
    finished = [i for i in report.items if isinstance(i, InboxFinished)]
    assert finished[0].error_kind == "busy" and "run@elsewhere:1" in finished[0].error


def test_engine_survives_a_failing_pass(tmp_path: Path) -> None:
    services = open_store(tmp_path)
    calls = []

    def broken(**_kwargs):
        calls.append(1)
        raise RuntimeError("store went away\nsecond line with password=hunter2")

    services.run_once = broken  # type: ignore[method-assign]
    report = Recorder()
    engine = BackgroundEngine(services, report)
    thread = threading.Thread(target=engine.run)
    thread.start()
    try:
        report.wait_for(lambda items: any(isinstance(i, EngineState) and i.last_error for i in items))
        engine.poll_now()
        report.wait_for(lambda items: len(calls) >= 2)
    finally:
        engine.stop()
        thread.join(10)
    errors = [i.last_error for i in report.items if isinstance(i, EngineState) and i.last_error]
    assert errors[0] == "RuntimeError: store went away"  # one line: nothing after the first


def test_engine_passes_on_events_it_does_not_know(tmp_path: Path) -> None:
    """A newer runner may emit event types this TUI has never heard of (OutboxSent was one): the engine
    forwards them like any other and keeps its loop."""
    services = open_store(tmp_path)

    class FromANewerRunner:
        pass

    def run_once(sink, **_kwargs):
        sink(FromANewerRunner())
        sink(OutboxSent(1, None))
        return PassFinished(())

    services.run_once = run_once  # type: ignore[method-assign]
    report = Recorder()
    engine = BackgroundEngine(services, report)
    thread = threading.Thread(target=engine.run)
    thread.start()
    try:
        report.wait_for(lambda items: sum(isinstance(i, OutboxSent) for i in items) >= 1)
        engine.poll_now()
        report.wait_for(lambda items: sum(isinstance(i, OutboxSent) for i in items) >= 2)
    finally:
        engine.stop()
        thread.join(10)
    assert sum(isinstance(i, FromANewerRunner) for i in report.items) == 2
    assert engine.state.passes == 2 and engine.state.last_error == ""
