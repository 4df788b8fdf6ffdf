"""Backlog throughput of `mailticket run --once` on a private Dovecot, side by side with a minimal pipeline.

    .venv/bin/python bench/bench_backlog.py [--quick] [--count N] [--reps N] [--seed S] [--profile]

The corpus is bench/mailcorpus.py's (2,000 mails; --quick 300): requests, replies threading onto them,
auto-replies, text/HTML/both, utf-8 and iso-8859-1 in QP/base64/8bit, files, sizes up to ~4 MB. It is
written into one Dovecot account's Maildir, which serves every run (nothing is deleted: email_storage =
keep). Each repetition runs both sides as fresh child processes on fresh stores, interleaved and in
alternating order, so host noise hits both alike:
* baseline: bench/baseline_pipeline.py -- imapclient fetch in batches, stdlib policy.default parse,
  html2text, attachments as files, one peewee/SQLite transaction per message (WAL, synchronous=NORMAL);
* ours: `mailticket --db URL run --once` on a store bootstrapped (config imported) before the clock.
Both go through bench/measured_run.py, which counts SQL statements and reports /proc/self/io and its
peak RSS (VmHWM); wall time and CPU (user+sys) come from wait4 on the child. Prints, per side: wall and
CPU (median and min of the reps) with msg/s, peak RSS, bytes written per mail, store size, statements per
mail by kind and per new request / reply / auto-reply, seconds spent executing SQL, and ours' 15 most
frequent statement texts with their count and seconds.
Ours must leave every mail processed or undesired (none in error), else its figures do not count.
Goal (issue 17): ours' throughput >= 1.5x the baseline's in CPU time and >= 1.2x in wall time (median of
the per-repetition ratios), disk writes per mail <= 1.5x its size (printed beside the floor of a WAL store,
twice the store's bytes); exits 1 when one is missed. --profile runs ours once more under cProfile.
"""
from __future__ import annotations

import argparse
import json
import os
import pstats
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.mailcorpus import Mail, build, describe  # noqa: E402
from bench.measured_run import kind_of  # noqa: E402
from mailticket_tui.store.models import CaseLogEntry, MailMessage, Ticket  # noqa: E402
from tests.dovecot_server import DovecotServer, MailAccount, missing_reason  # noqa: E402

CHILD = Path(__file__).resolve().parent / "measured_run.py"
GOAL_CPU, GOAL_WALL = 1.5, 1.2
GOAL_BYTES = 1.5  # disk writes per mail at most this many times the mail's size
KINDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK", "OTHER")


def generate(n: int, seed: int = 1) -> list[bytes]:
    """The raw bytes of the corpus (bench_big_mail's backlog scenario)."""
    return [mail.raw for mail in build(n, seed)]


def fill_maildir(account: MailAccount, raws: list[bytes]) -> float:
    """Write the messages into new/ (owned by the mail user) and let Dovecot index them."""
    start = time.perf_counter()
    maildir = account.maildir
    owner = (os.stat(account.server.root / "mail").st_uid, os.stat(account.server.root / "mail").st_gid)
    for folder in [maildir.parent.parent, maildir.parent, maildir] + [maildir / s for s in ("cur", "new", "tmp")]:
        folder.mkdir(exist_ok=True)
        os.chown(folder, *owner)
    stamp, pid = int(time.time()) - len(raws), os.getpid()
    for i, raw in enumerate(raws):
        path = maildir / "new" / f"{stamp + i}.M{i}P{pid}.backlog"
        path.write_bytes(raw.replace(b"\r\n", b"\n"))
        os.chown(path, *owner)
        os.utime(path, (stamp + i, stamp + i))
    client = account.imap()
    client.select_folder("INBOX", readonly=True)
    client.unselect_folder()
    assert account.message_count() == len(raws)
    return time.perf_counter() - start


def write_config(folder: Path, account: MailAccount) -> Path:
    """Settings whose common path is the backlog's: unknown callers become contacts, mail stays on the server."""
    path = folder / "backlog.toml"
    path.write_text(f"""
[engine]
maximum_email_size = "50M"

[[inbox]]
name = "backlog"
protocol = "imap"
server = "{account.host}"
port = {account.imap_port}
tls = "none"
login = "{account.login}"
password = "{account.password}"
unknown_caller_behavior = "create_contact"
email_storage = "keep"
""")
    return path


@dataclass(frozen=True)
class Run:
    """What one child cost, as measured by the parent (wait4) and reported by the child."""

    wall: float
    cpu: float
    peak_rss_mb: float
    io: dict[str, int]
    sql: dict
    store_bytes: int
    output: str


def measure(side: str, args: list[str], store: Path, ids: Path, env: dict[str, str] | None = None) -> Run:
    """Run bench/measured_run.py for one side as a child: wall time and CPU from wait4, the rest reported by
    the child (its peak RSS is its VmHWM: wait4's ru_maxrss would include this parent's, see measured_run)."""
    report, out = store / "report.json", store / "stdout.txt"
    with open(out, "wb") as sink:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, str(CHILD), str(report), str(ids), side, *args], cwd=ROOT,
                                 stdout=sink, env={**os.environ, **(env or {})})
        _pid, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    code = child.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4, so tell Popen
    text = out.read_text(errors="replace").strip()
    if code != 0 or not report.exists():
        raise SystemExit(f"bench_backlog: {side} exited {code}: {text[-500:]}")
    data = json.loads(report.read_text())
    on_disk = sum(p.stat().st_size for p in store.rglob("*") if p.is_file() and p not in (report, out))
    return Run(wall, usage.ru_utime + usage.ru_stime, data["peak_rss_kb"] / 1024, data["io"], data["sql"], on_disk,
               text)


def run_baseline(account: MailAccount, store: Path, ids: Path) -> Run:
    store.mkdir()
    return measure("baseline", [account.host, str(account.imap_port), account.login, account.password, str(store)],
                   store, ids)


def run_ours(account: MailAccount, store: Path, ids: Path, env: dict[str, str] | None = None) -> Run:
    """`run --once` on a fresh store; the settings are imported before the clock starts."""
    store.mkdir()
    url = f"sqlite:///{store / 'store.db'}"
    subprocess.run([sys.executable, "-m", "mailticket_tui", "--config", str(write_config(store.parent, account)),
                    "--db", url, "inbox", "list"], cwd=ROOT, check=True, capture_output=True)
    return measure("ours", ["--db", url, "run", "--once"], store, ids, env)


def our_outcome(store: Path, mails: list[Mail]) -> tuple[str, bool]:
    """Messages by status, tickets and log entries in ours' store (read with sqlite3, after the run), next to
    what the corpus expects; ok when every mail has a record and none is in error."""
    with sqlite3.connect(store / "store.db") as db:
        statuses = dict(db.execute(f'SELECT status, COUNT(*) FROM "{MailMessage._meta.table_name}" GROUP BY status'))
        tickets = db.execute(f'SELECT COUNT(*) FROM "{Ticket._meta.table_name}"').fetchone()[0]
        logs = db.execute(f'SELECT COUNT(*) FROM "{CaseLogEntry._meta.table_name}"').fetchone()[0]
        error = db.execute(f'SELECT error FROM "{MailMessage._meta.table_name}" WHERE status = ? LIMIT 1',
                           ("error",)).fetchone()
    expected = Counter(m.kind for m in mails)
    line = (f"messages {statuses}, {tickets} tickets, {logs} case-log entries (the corpus has "
            f"{expected['request']} requests, {expected['reply']} replies, {expected['autoreply']} auto-replies)"
            + (f"; first error: {error[0][:300]}" if error else ""))
    return line, not error and sum(statuses.values()) == len(mails)


def normalised(sql: str) -> str:
    """A statement text with parameter lists and savepoint names folded, on one line."""
    sql = re.sub(r"\s+", " ", sql).strip()
    sql = re.sub(r"\(\?(, \?)+\)", "(?, ...)", sql)
    return re.sub(r'"s[0-9a-f]{8,}"', '"s..."', sql)


def per_kind(sql: dict, count: int) -> dict[str, float]:
    """Statements of each kind per mail."""
    totals: Counter[str] = Counter()
    for text, n in sql["texts"].items():
        totals[kind_of(text)] += n
    return {kind: totals[kind] / count for kind in KINDS}


def per_mail_kind(sql: dict, mails: list[Mail]) -> dict[str, tuple[float, int]]:
    """(mean statements, mails seen) per corpus kind (request, reply, autoreply); "pass" holds the total of
    the statements no mail owns (owner "")."""
    kind = {m.message_id: m.kind for m in mails} | {m.message_id.strip("<>"): m.kind for m in mails}
    sums: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for owner, kinds in sql["by_owner"].items():
        label = kind.get(owner, "pass")
        sums[label] += sum(kinds.values())
        seen[label] += 1
    return {label: (sums[label] / max(seen[label], 1), seen[label])
            for label in ("request", "reply", "autoreply", "pass")}


def print_report(mails: list[Mail], base: list[Run], ours: list[Run]) -> tuple[float, float, float]:
    """The side-by-side table; returns the median per-repetition throughput ratios (CPU, wall)."""
    n = len(mails)
    cpu_ratio = statistics.median(b.cpu / o.cpu for b, o in zip(base, ours))
    wall_ratio = statistics.median(b.wall / o.wall for b, o in zip(base, ours))

    def row(label: str, b: str, o: str, extra: str = "") -> None:
        print(f"{label:34s} {b:>20s} {o:>20s}  {extra}")

    def times(runs: list[Run], attr: str) -> str:
        values = [getattr(r, attr) for r in runs]
        return f"{statistics.median(values):.2f} ({min(values):.2f})"

    print()
    row(f"N = {n}, {len(base)} interleaved reps", "baseline", "ours", "throughput ours/baseline")
    row("wall s, median (min)", times(base, "wall"), times(ours, "wall"),
        f"{wall_ratio:.2f}x (goal >= {GOAL_WALL}x: {'met' if wall_ratio >= GOAL_WALL else 'NOT met'})")
    row("CPU s user+sys, median (min)", times(base, "cpu"), times(ours, "cpu"),
        f"{cpu_ratio:.2f}x (goal >= {GOAL_CPU}x: {'met' if cpu_ratio >= GOAL_CPU else 'NOT met'})")
    for attr in ("wall", "cpu"):
        rate = lambda runs: f"{n / statistics.median(getattr(r, attr) for r in runs):.1f}"  # noqa: E731
        row(f"msg/s by {attr} time", rate(base), rate(ours))
    row("peak RSS MB, median (max)", *(f"{statistics.median(r.peak_rss_mb for r in runs):.1f} "
                                      f"({max(r.peak_rss_mb for r in runs):.1f})" for runs in (base, ours)))
    for key, label in (("write_bytes", "disk writes KB/mail (write_bytes)"), ("wchar", "write() KB/mail (wchar)")):
        row(label, *(f"{statistics.median(r.io.get(key, 0) for r in runs) / n / 1e3:.1f}" for runs in (base, ours)))
    row("store on disk KB/mail", *(f"{runs[0].store_bytes / n / 1e3:.1f}" for runs in (base, ours)))
    mail_bytes = sum(len(m.raw) for m in mails) / n
    written = [statistics.median(r.io.get("write_bytes", 0) for r in runs) / n / mail_bytes for runs in (base, ours)]
    floor = 2 * ours[0].store_bytes / n / mail_bytes  # SQLite's WAL, then its checkpoint: each stored byte twice
    row(f"disk writes / mail size ({mail_bytes / 1e3:.1f} KB)", *(f"{w:.2f}x" for w in written),
        f"goal ours <= {GOAL_BYTES}x: {'met' if written[1] <= GOAL_BYTES else 'NOT met'} "
        f"(WAL floor, 2 x store / mail: {floor:.2f}x)")
    kinds = [per_kind(runs[0].sql, n) for runs in (base, ours)]
    row("SQL statements/mail, all", *(f"{sum(k.values()):.2f}" for k in kinds))
    for kind in KINDS:
        row(f"  {kind}", *(f"{k[kind]:.2f}" for k in kinds))
    split = [per_mail_kind(runs[0].sql, mails) for runs in (base, ours)]
    for label, title in (("request", "per new request"), ("reply", "per reply"), ("autoreply", "per auto-reply")):
        row(f"SQL statements {title}", *(f"{s[label][0]:.1f} ({s[label][1]})" for s in split))
    row("SQL statements outside any mail", *(f"{s['pass'][0]:.0f}" for s in split))
    print("  (per kind: mean over the mails whose Message-ID was bound in an INSERT of their transaction; "
          "count in brackets)")
    seconds = [runs[0].sql["seconds"] for runs in (base, ours)]
    row("seconds executing SQL (to 1st row)", *(f"{sum(s.values()):.2f}" for s in seconds))
    row("  of which COMMIT (WAL, checkpoints)", *(f"{s.get('COMMIT', 0.0):.2f}" for s in seconds))
    print("\nours, 15 most frequent statements (count, per mail, seconds executing):")
    texts: Counter[str] = Counter()
    spent: Counter[str] = Counter()
    for text, count in ours[0].sql["texts"].items():
        texts[normalised(text)] += count
        spent[normalised(text)] += ours[0].sql["seconds"].get(text, 0.0)
    for text, count in texts.most_common(15):
        print(f"  {count:7d} {count / n:6.2f} {spent[text]:6.2f}  {text[:140]}")
    return cpu_ratio, wall_ratio, written[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 mails")
    parser.add_argument("--count", type=int, default=0, help="number of mails (default 2000, --quick 300)")
    parser.add_argument("--reps", type=int, default=3, help="interleaved repetitions of each side (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    parser.add_argument("--profile", action="store_true", help="profile one more run of ours (cProfile)")
    args = parser.parse_args()
    reason = missing_reason()
    if reason:
        print(f"bench_backlog: skipped: {reason}", file=sys.stderr)
        return 2
    mails = build(args.count or (300 if args.quick else 2000), args.seed)
    print(f"corpus: {describe(mails)}")
    server = DovecotServer.start_new()
    try:
        account = server.add_user()
        print(f"loaded into Dovecot in {fill_maildir(account, [m.raw for m in mails]):.2f} s")
        with tempfile.TemporaryDirectory(prefix="mailticket-backlog-") as tmp:
            work = Path(tmp)
            ids = work / "message-ids.txt"
            ids.write_text("\n".join(m.message_id for m in mails))
            run_baseline(account, work / "warm-up", ids)  # Dovecot's cache and indexes warm for both sides
            base: list[Run] = []
            ours: list[Run] = []
            for rep in range(args.reps):  # interleaved, alternating who goes first
                for side in (("baseline", "ours") if rep % 2 == 0 else ("ours", "baseline")):
                    if side == "baseline":
                        base.append(run_baseline(account, work / f"baseline-{rep}", ids))
                    else:
                        ours.append(run_ours(account, work / f"ours-{rep}", ids))
                print(f"rep {rep + 1}: baseline wall {base[-1].wall:.2f} s CPU {base[-1].cpu:.2f} s | "
                      f"ours wall {ours[-1].wall:.2f} s CPU {ours[-1].cpu:.2f} s", flush=True)
            print(f"baseline: {base[0].output}")
            print(f"ours: {ours[0].output.splitlines()[-1] if ours[0].output else ''}")
            outcomes = [our_outcome(work / f"ours-{rep}", mails) for rep in range(args.reps)]
            print(f"ours' store: {outcomes[0][0]}")
            cpu_ratio, wall_ratio, bytes_ratio = print_report(mails, base, ours)
            if args.profile:
                prof = work / "ours.prof"
                run_ours(account, work / "ours-profiled", ids, {"BENCH_PROFILE": str(prof)})
                stats = pstats.Stats(str(prof))
                stats.sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
                    os.environ.get("BENCH_FILTER", ""), 40)
    finally:
        server.stop()
    missed = [name for name, ratio, goal in (("CPU", cpu_ratio, GOAL_CPU), ("wall", wall_ratio, GOAL_WALL))
              if ratio < goal] + (["bytes written"] if bytes_ratio > GOAL_BYTES else [])
    print(f"\ngoal: ours >= {GOAL_CPU}x the baseline's throughput in CPU, >= {GOAL_WALL}x in wall, disk writes "
          f"<= {GOAL_BYTES}x the mail's size: "
          + (f"NOT met in {' and '.join(missed)}" if missed else "met"))
    wrong = [f"rep {rep + 1}: {line}" for rep, (line, ok) in enumerate(outcomes) if not ok]
    for line in wrong:
        print(f"correctness: ours left mail unprocessed or in error, so its figures do not count: {line}")
    return 1 if missed or wrong else 0


if __name__ == "__main__":
    sys.exit(main())
