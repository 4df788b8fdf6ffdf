"""One side of the backlog bench, run in this process, then a JSON report of what it cost.

    python bench/measured_run.py REPORT IDS ours --db URL run --once
    python bench/measured_run.py REPORT IDS baseline HOST PORT LOGIN PASSWORD STORE_DIR

`ours` calls `mailticket_tui.cli.main` with the arguments; `baseline` runs bench/baseline_pipeline.py.
Before the work starts, peewee's `Database.execute_sql` (every query and savepoint statement) and the
`begin`/`commit`/`rollback` of a transaction (which peewee sends to the cursor directly) are wrapped to
count each SQL text. A top-level COMMIT or ROLLBACK closes a segment; a segment belongs to the corpus
message whose Message-ID (listed one a line in IDS) is first bound as a parameter of one of its INSERTs,
else to the pass itself. After the work the database is closed (so SQLite's final WAL checkpoint counts)
and REPORT gets: the exit code, the statement texts with counts and seconds, statement kinds per message-ID, this
process's /proc/self/io, its rusage and its peak RSS (VmHWM). The parent measures wall time and CPU with
wait4.
"""
from __future__ import annotations

import cProfile
import json
import os
import resource
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import peewee

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def kind_of(sql: str) -> str:
    """SELECT | INSERT | UPDATE | DELETE | BEGIN | COMMIT | SAVEPOINT | RELEASE | ROLLBACK | OTHER."""
    word = sql.lstrip()[:9].split(None, 1)[0].upper() if sql.strip() else ""
    known = ("SELECT", "INSERT", "UPDATE", "DELETE", "BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")
    return word if word in known else "OTHER"


class SqlCounter:
    """Counts SQL texts and the seconds spent executing them (to the first row), and statement kinds per segment
    (the statements up to a top-level COMMIT)."""

    def __init__(self, ids: set[str]) -> None:
        self.ids = ids
        self.texts: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()
        self.by_owner: dict[str, Counter[str]] = {}
        self._segment: list[str] = []
        self._owner = ""

    def statement(self, sql: str, params: Any = None) -> None:
        """Count one statement; the first corpus Message-ID bound in an INSERT names the segment's owner."""
        self.texts[sql] += 1
        self._segment.append(sql)
        if not self._owner and params and sql[:6].upper() == "INSERT":
            self._owner = next((p for p in params if type(p) is str and p in self.ids), "")

    def end_transaction(self, sql: str) -> None:
        self.statement(sql)
        self._close_segment()

    def _close_segment(self) -> None:
        self.by_owner.setdefault(self._owner, Counter()).update(kind_of(s) for s in self._segment)
        self._segment, self._owner = [], ""

    def install(self) -> None:
        """Wrap peewee's statement entry points (all databases of this process)."""
        execute_sql = peewee.Database.execute_sql
        begin, commit, rollback = peewee.SqliteDatabase.begin, peewee.Database.commit, peewee.Database.rollback

        def timed(sql: str, run: Callable[[], Any]) -> Any:
            start = time.perf_counter()
            try:
                return run()
            finally:
                self.seconds[sql] += time.perf_counter() - start

        def counted_execute(db: peewee.Database, sql: str, params: Any = None) -> Any:
            self.statement(sql, params)
            return timed(sql, lambda: execute_sql(db, sql, params))

        def counted_begin(db: peewee.Database, *args: Any, **kwargs: Any) -> Any:
            self.statement("BEGIN")
            return timed("BEGIN", lambda: begin(db, *args, **kwargs))

        def ending(original: Callable, word: str) -> Callable:
            def counted(db: peewee.Database) -> Any:
                self.end_transaction(word)
                return timed(word, lambda: original(db))
            return counted

        peewee.Database.execute_sql = counted_execute
        peewee.SqliteDatabase.begin = counted_begin
        peewee.Database.commit = ending(commit, "COMMIT")
        peewee.Database.rollback = ending(rollback, "ROLLBACK")

    def report(self) -> dict:
        """Texts with counts and seconds, and statement kinds per owner ("" for the pass's own statements)."""
        if self._segment:  # statements after the last commit (autocommit reads)
            self._close_segment()
        return {"texts": dict(self.texts), "seconds": dict(self.seconds),
                "by_owner": {owner: dict(kinds) for owner, kinds in self.by_owner.items()}}


def run_ours(args: list[str]) -> int:
    """`mailticket ARGS` in this process; the store is closed after it (final WAL checkpoint included)."""
    from mailticket_tui.cli import main
    from mailticket_tui.store.models import database_proxy

    code = main(args)
    if database_proxy.obj is not None and not database_proxy.obj.is_closed():
        database_proxy.obj.close()
    return code


def run_baseline(args: list[str]) -> int:
    """The baseline pipeline on HOST PORT LOGIN PASSWORD STORE_DIR; prints its row counts."""
    from bench.baseline_pipeline import run_pipeline

    host, port, login, password, store = args
    counts = run_pipeline(host, int(port), login, password, Path(store))
    print(json.dumps(counts))
    return 0


def proc_io() -> dict[str, int]:
    """This process's /proc/self/io (rchar, wchar, read_bytes, write_bytes, ...); {} where there is none."""
    try:
        lines = Path("/proc/self/io").read_text().splitlines()
    except OSError:
        return {}
    return {key: int(value) for key, value in (line.split(": ") for line in lines)}


def peak_rss_kb() -> int:
    """VmHWM: the peak RSS of this program's own address space. (ru_maxrss is no use here: exec carries the
    forking parent's peak over into the child's, and the bench's parent holds the whole corpus.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(argv: list[str]) -> int:
    report, ids_file, side, *args = argv
    ids = set(Path(ids_file).read_text().split())
    ids |= {i.strip("<>") for i in ids}
    counter = SqlCounter(ids)
    counter.install()
    profile = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
    if profile:
        profile.enable()
    code = (run_ours if side == "ours" else run_baseline)(args)
    if profile:
        profile.disable()
        profile.dump_stats(os.environ["BENCH_PROFILE"])
    sys.stdout.flush()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    Path(report).write_text(json.dumps({
        "exit": code, "sql": counter.report(), "io": proc_io(),
        "rusage": {"user": usage.ru_utime, "sys": usage.ru_stime}, "peak_rss_kb": peak_rss_kb(),
    }))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
