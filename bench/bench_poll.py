"""Poll cost with 0 new messages against mailbox size, on a private Dovecot (IMAP, loopback, no TLS).

Measures, on one open connection per mailbox, the median time of the runner's poll
(`folder_state()` + `list_new(highest_uid)`) for mailboxes of 100, 1,000 and 10,000 messages, next
to two baselines measured in the same interleaved loop: a naive full listing (`UID SEARCH ALL`) and
our own `list_all()` (SEARCH ALL + FETCH sizes/Message-IDs, what the reference does every run).
Goal: poll(10,000) / poll(100) <= 1.5.

    .venv/bin/python bench/bench_poll.py [--quick] [--reps N]

Messages are written straight into the account's Maildir new/ (owned by the mail user) and
Dovecot indexes them at the first SELECT, so 10,000 messages take seconds, not minutes.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailticket_tui.engine.sources.imap import ImapSource  # noqa: E402
from tests.dovecot_server import DovecotServer, MailAccount, missing_reason  # noqa: E402


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="mailboxes of 100, 300 and 1,000; fewer reps")
    parser.add_argument("--reps", type=int, default=0, help="polls per mailbox (default 60, quick 20)")
    args = parser.parse_args()
    reason = missing_reason()
    if reason:
        print(f"bench_poll: skipped: {reason}", file=sys.stderr)
        return 2
    sizes = [100, 300, 1000] if args.quick else [100, 1000, 10000]
    reps = args.reps or (20 if args.quick else 60)

    server = DovecotServer.start_new()
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
        return 0 if ratio <= 1.5 else 1
    finally:
        for src, _ in sources.values():
            src.close()
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
