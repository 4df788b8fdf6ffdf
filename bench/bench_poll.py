"""Poll cost with 0 new messages against mailbox size, on a private Dovecot (loopback, no TLS).

1. Source poll (IMAP): on one open connection per mailbox, the median time of the runner's poll
   (`folder_state()` + `list_new(highest_uid)`) for mailboxes of 100, 1,000 and 10,000 messages, next
   to two baselines measured in the same interleaved loop: a naive full listing (`UID SEARCH ALL`) and
   our own `list_all()` (SEARCH ALL + FETCH sizes/Message-IDs, what the reference does every run).
   Goal: poll(10,000) / poll(100) <= 1.5.
2. Idle pass in-process (IMAP, POP3, Maildir): the runner's whole `run_pass` (lease, connection, store
   work, outbox) with 0 new messages, on an inbox whose 30 or 10,000 messages were processed and kept
   on the server (email_storage = keep), each on its own SQLite store. The kept records are written
   straight into the store as a pass would have left them (processed, on the server), then one pass
   takes the server in; the passes after it are measured, interleaved. Wall and CPU time per pass, and
   beside them the server's floor: the same session without the store (connect, log in, `poll_state()`,
   log out). Goal: idle pass(10,000) / idle pass(30) <= 1.2 for every protocol, on wall time; where the
   server alone grows more than that (Dovecot's POP3 reads the whole maildrop before its first answer: a
   POP3 session lists every message, RFC 1939), on the wall time beyond that floor.

    .venv/bin/python bench/bench_poll.py [--quick] [--reps N] [--only source|idle]

Exit status 1 when a goal is missed.

Messages are written straight into the account's Maildir new/ (owned by the mail user) and
Dovecot indexes them at the first SELECT, so 10,000 messages take seconds, not minutes.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peewee import Database  # noqa: E402

from mailticket_tui.engine.runner import run_pass, source_config  # noqa: E402
from mailticket_tui.engine.sources import open_source  # noqa: E402
from mailticket_tui.engine.sources.imap import ImapSource  # noqa: E402
from mailticket_tui.engine.sources.maildir import unique_part  # noqa: E402
from mailticket_tui.engine.sources.pop3 import Pop3Source  # noqa: E402
from mailticket_tui.settings import Settings, load_settings_file  # noqa: E402
from mailticket_tui.store.db import open_store  # noqa: E402
from mailticket_tui.store.models import Inbox, InboxState, MailMessage, database_proxy, utcnow  # noqa: E402
from mailticket_tui.store.settings_store import load_settings, save_settings  # noqa: E402
from tests.dovecot_server import DovecotServer, MailAccount, missing_reason  # noqa: E402

IDLE_GOAL = 1.2


def fill_maildir(account: MailAccount, count: int) -> float:
    """Write `count` small messages into new/ and let Dovecot index them; returns seconds taken."""
    start = time.perf_counter()
    maildir = account.maildir
    owner = (os.stat(account.server.root / "mail").st_uid, os.stat(account.server.root / "mail").st_gid)
    made = [maildir.parent.parent, maildir.parent, maildir] + [maildir / s for s in ("cur", "new", "tmp")]
    for folder in made:
        folder.mkdir(exist_ok=True)
        os.chown(folder, *owner)
    stamp, pid = int(time.time()) - count, os.getpid()
    for i in range(count):
        body = (f"From: sender{i % 50}@example.org\nTo: support@example.test\nSubject: bench message {i}\n"
                f"Date: Mon, 02 Jan 2026 10:00:00 +0000\nMessage-ID: <bench-{i}@example.org>\n\n"
                f"Body of message {i}.\n").encode()
        path = maildir / "new" / f"{stamp + i}.M{i}P{pid}.bench"
        path.write_bytes(body)
        os.chown(path, *owner)
        os.utime(path, (stamp + i, stamp + i))
    client = account.imap()  # the first SELECT makes Dovecot index new/ (moves to cur/, assigns UIDs)
    client.select_folder("INBOX", readonly=True)
    client.unselect_folder()
    assert account.message_count() == count
    return time.perf_counter() - start


def timed(func) -> float:
    start = time.perf_counter()
    func()
    return (time.perf_counter() - start) * 1000


def source_poll(server: DovecotServer, quick: bool, reps: int) -> bool:
    """Part 1: the IMAP source's poll against mailbox size; True when its goal is met."""
    sizes = [100, 300, 1000] if quick else [100, 1000, 10000]
    reps = reps or (20 if quick else 60)
    sources: dict[int, tuple[ImapSource, int]] = {}
    try:
        for size in sizes:
            account = server.add_user()
            took = fill_maildir(account, size)
            print(f"loaded {size:>6} messages in {took:5.2f} s")
            src = ImapSource(account.source_config(timeout=30))
            src.connect()
            sources[size] = (src, src.folder_state().uidnext - 1)
        poll: dict[int, list[float]] = {s: [] for s in sizes}
        search_all: dict[int, list[float]] = {s: [] for s in sizes}
        listing: dict[int, list[float]] = {s: [] for s in sizes}
        for rep in range(reps):  # interleaved, so host noise hits every size alike
            for size in sizes:
                src, highest = sources[size]

                def one_poll() -> None:
                    state = src.folder_state()
                    assert state.uidnext == highest + 1
                    assert src.list_new(highest) == []

                poll[size].append(timed(one_poll))
                search_all[size].append(timed(lambda: src._client.search("ALL")))
                if rep % 4 == 0:  # the full listing is slow at 10,000: sample it less often
                    listing[size].append(timed(src.list_all))
        med = {name: {s: statistics.median(v[s]) for s in sizes}
               for name, v in (("poll", poll), ("search", search_all), ("list", listing))}
        print(f"\nmedian of {reps} polls per mailbox (ms), 0 new messages, one open connection, loopback:")
        print(f"{'messages':>9} {'poll: state+list_new':>22} {'UID SEARCH ALL':>16} {'list_all()':>12}")
        for size in sizes:
            print(f"{size:>9} {med['poll'][size]:>22.3f} {med['search'][size]:>16.3f} {med['list'][size]:>12.2f}")
        small, big = sizes[0], sizes[-1]
        ratio = med["poll"][big] / med["poll"][small]
        print(f"\nratio {big}/{small}: poll {ratio:.2f} (goal <= 1.5: {'met' if ratio <= 1.5 else 'NOT met'}); "
              f"UID SEARCH ALL {med['search'][big] / med['search'][small]:.2f}; "
              f"list_all {med['list'][big] / med['list'][small]:.2f}")
        return ratio <= 1.5
    finally:
        for src, _ in sources.values():
            src.close()


def local_maildir(root: Path, count: int) -> Path:
    """A Maildir of `count` small messages in new/, named as delivery agents name them (time, unique part,
    ",S=" size), as a mailbox that only mailticket reads keeps them (reading never moves a file)."""
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    stamp = int(time.time()) - count - 60
    for i in range(count):
        body = (f"From: sender{i % 50}@example.org\nTo: support@example.test\nSubject: kept {i}\n"
                f"Message-ID: <kept-{i}@example.org>\n\nBody {i}.\n").encode()
        (root / "new" / f"{stamp + i}.M{i}P1.bench,S={len(body)}").write_bytes(body)
    old = time.time() - 60  # a folder that changed a minute ago, as between two polls of a quiet inbox
    for sub in ("cur", "new", "tmp"):
        os.utime(root / sub, (old, old))
    return root


def kept_keys(protocol: str, account: MailAccount | None, maildir: Path | None) -> list[tuple[str, int | None]]:
    """(key, uid) of every message on the server, as the runner keys its records."""
    if protocol == "maildir":
        return [(unique_part(entry.name), None) for entry in sorted(os.scandir(maildir / "new"), key=lambda e: e.name)]
    if protocol == "pop3":
        with Pop3Source(account.source_config("pop3", timeout=30)) as src:
            return [(m.key, None) for m in src.list_all()]
    with ImapSource(account.source_config(timeout=30)) as src:
        return [(m.key, m.uid) for m in src.list_all()]


class IdleStore:
    """One SQLite store with one keep inbox whose server messages are all recorded as processed."""

    def __init__(self, work: Path, protocol: str, size: int, account: MailAccount | None,
                 maildir: Path | None) -> None:
        self.label = f"{protocol} {size}"
        self.protocol, self.size = protocol, size
        folder = work / f"{protocol}-{size}"
        folder.mkdir()
        if protocol == "maildir":
            where = f'server = "{maildir}"\n'
        else:
            port = account.imap_port if protocol == "imap" else account.pop3_port
            where = (f'server = "{account.host}"\nport = {port}\ntls = "none"\nlogin = "{account.login}"\n'
                     f'password = "{account.password}"\n')
        config = folder / "mailticket.toml"
        config.write_text(f'[[inbox]]\nname = "kept"\nprotocol = "{protocol}"\n{where}email_storage = "keep"\n',
                          encoding="utf-8")
        url = f"sqlite:///{folder / 'store.db'}"
        self.db: Database = open_store(url)
        save_settings(load_settings_file(config))
        self.settings: Settings = load_settings(url)
        inbox = Inbox.get(Inbox.name == "kept")
        keys = kept_keys(protocol, account, maildir)
        assert len(keys) == size, (protocol, len(keys), size)
        now = utcnow()
        epoch = 0
        if protocol == "imap":
            with ImapSource(account.source_config(timeout=30)) as src:
                epoch = src.folder_state().epoch
        rows = [dict(inbox=inbox.id, folder="INBOX", uidvalidity=epoch, key=key, uid=uid, size=100,
                     status="processed", processed_at=now, on_server=True, subject=f"kept {n}")
                for n, (key, uid) in enumerate(keys)]
        with self.db.atomic():
            for start in range(0, len(rows), 500):
                MailMessage.insert_many(rows[start:start + 500]).execute()
            InboxState.create(inbox=inbox.id, folder="INBOX", uidvalidity=epoch if protocol == "imap" else 0,
                              highest_uid=max((uid or 0) for _, uid in keys))

    def run(self) -> tuple[float, float]:
        """One idle pass: (wall ms, CPU ms of this process)."""
        database_proxy.initialize(self.db)
        wall, cpu = time.perf_counter(), time.process_time()
        finished = run_pass(self.settings)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        (result,) = finished.results
        assert result.error is None and result.counters.read == 0, (self.label, result)
        return wall * 1000, cpu * 1000

    def floor(self) -> float:
        """The server's part of an idle pass alone (wall ms): the session and poll_state(), no store."""
        inbox = self.settings.inbox("kept")
        wall = time.perf_counter()
        with open_source(source_config(inbox, self.settings)) as source:
            source.poll_state()
        return (time.perf_counter() - wall) * 1000


def idle_passes(server: DovecotServer, quick: bool, reps: int) -> bool:
    """Part 2: the runner's whole idle pass at 30 and 10,000 kept messages; True when every ratio is met."""
    sizes = [30, 1000] if quick else [30, 10000]
    reps = reps or (15 if quick else 40)
    protocols = ("imap", "pop3", "maildir")
    with tempfile.TemporaryDirectory(prefix="bench-poll-") as tmp:
        work = Path(tmp)
        stores: list[IdleStore] = []
        for size in sizes:
            account = server.add_user()
            took = fill_maildir(account, size)
            maildir = local_maildir(work / f"Maildir-{size}", size)
            print(f"loaded {size:>6} kept messages in {took:5.2f} s")
            stores += [IdleStore(work, protocol, size, account, maildir) for protocol in protocols]
        for store in stores:  # the first pass takes the server in (a full listing for POP3 and Maildir)
            store.run()
            store.run()
        wall: dict[str, list[float]] = {s.label: [] for s in stores}
        cpu: dict[str, list[float]] = {s.label: [] for s in stores}
        floor: dict[str, list[float]] = {s.label: [] for s in stores}
        for _ in range(reps):  # interleaved, so host noise hits every store alike
            for store in stores:
                w, c = store.run()
                wall[store.label].append(w)
                cpu[store.label].append(c)
                floor[store.label].append(store.floor())
        med = {name: {label: statistics.median(values) for label, values in series.items()}
               for name, series in (("wall", wall), ("cpu", cpu), ("floor", floor))}
        print(f"\nidle pass in-process, median of {reps} (ms): run_pass with 0 new messages, keep inbox, SQLite")
        print(f"{'protocol':>9} {'kept':>7} {'wall':>9} {'CPU':>9} {'server floor':>13} {'beyond floor':>13}")
        for store in stores:
            label = store.label
            print(f"{store.protocol:>9} {store.size:>7} {med['wall'][label]:>9.2f} {med['cpu'][label]:>9.2f} "
                  f"{med['floor'][label]:>13.2f} {med['wall'][label] - med['floor'][label]:>13.2f}")
        met = True
        small, big = sizes
        print()
        for protocol in protocols:
            b, s = f"{protocol} {big}", f"{protocol} {small}"
            ratios = {name: med[name][b] / med[name][s] for name in ("wall", "cpu", "floor")}
            beyond = (med["wall"][b] - med["floor"][b]) / (med["wall"][s] - med["floor"][s])
            judged, on = (ratios["wall"], "wall") if ratios["floor"] <= IDLE_GOAL else (beyond, "beyond floor")
            ok = judged <= IDLE_GOAL
            met &= ok
            print(f"ratio {big}/{small} {protocol:>8}: wall {ratios['wall']:.2f}, CPU {ratios['cpu']:.2f}, "
                  f"server floor {ratios['floor']:.2f}, beyond floor {beyond:.2f} "
                  f"(goal on {on} <= {IDLE_GOAL}: {'met' if ok else 'NOT met'})")
        for store in stores:
            store.db.close()
        return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller mailboxes; fewer reps")
    parser.add_argument("--reps", type=int, default=0, help="polls per mailbox (default 60/40, quick 20/15)")
    parser.add_argument("--only", choices=("source", "idle"), help="run one part only")
    args = parser.parse_args()
    reason = missing_reason()
    if reason:
        print(f"bench_poll: skipped: {reason}", file=sys.stderr)
        return 2
    server = DovecotServer.start_new()
    try:
        met = True
        if args.only != "idle":
            met &= source_poll(server, args.quick, args.reps)
        if args.only != "source":
            met &= idle_passes(server, args.quick, args.reps)
        return 0 if met else 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
