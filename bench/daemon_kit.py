"""What the daemon benchmarks share (not a benchmark itself: run_all only runs bench_*.py).

A private Dovecot allowed hundreds of connections (100 IDLE inboxes plus the passes' own), inboxes written as
settings TOML, `mailticket run` as a subprocess whose CPU time is read from /proc, and Maildir filling for
big backlogs (Dovecot indexes new/ at the first SELECT: seconds instead of minutes of APPEND).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.dovecot_server import DovecotServer, MailAccount  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


class BigDovecot(DovecotServer):
    """The test Dovecot with room for many connections (the default process limit is 100)."""

    def _write_config(self) -> None:
        super()._write_config()
        with self.conf.open("a") as conf:
            conf.write("default_process_limit = 1000\ndefault_client_limit = 4000\n")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (its own, not its children's)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15 of stat)


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and of all its children so far: its own, that of the children it has reaped
    (cutime, cstime) and that of the living ones (a PostgreSQL backend, a Dovecot imap process); 0 when gone."""
    parents: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = fields
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        fields = stats.get(current)
        if fields is not None:
            total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
            todo.extend(parents.get(current, []))
    return total / TICKS


def machine_ticks() -> tuple[int, int]:
    """(busy, all) CPU ticks of the machine since boot, from /proc/stat (idle and iowait are not busy)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


def postmaster_pid(url: str) -> int | None:
    """The PostgreSQL server's main process when it runs on this machine and we may read its pid file."""
    import psycopg2

    try:
        conn = psycopg2.connect(url)
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW data_directory")
                folder = cur.fetchone()[0]
        finally:
            conn.close()
        return int((Path(folder) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError, psycopg2.Error):
        return None


def inbox_toml(name: str, account: MailAccount, **fields: object) -> str:
    values = {"name": name, "protocol": "imap", "server": account.host, "port": account.imap_port, "tls": "none",
              "login": account.login, "password": account.password, "unknown_caller_behavior": "create_contact",
              **fields}
    return "[[inbox]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in values.items())


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(path: Path, inboxes: list[str], **engine: object) -> Path:
    head = "[engine]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in engine.items())
    path.write_text(head + "\n" + "\n".join(inboxes), encoding="utf-8")
    return path


def mailticket(config: Path, store: str, *args: str, **popen: object) -> subprocess.Popen:
    """`mailticket --config ... --db ... ARGS` as a child process."""
    return subprocess.Popen([sys.executable, "-m", "mailticket_tui", "--config", str(config), "--db", store, *args],
                            cwd=ROOT, **popen)


def bootstrap(config: Path, store: str) -> None:
    """Create the store and import the settings once, before daemons race for it."""
    done = subprocess.run([sys.executable, "-m", "mailticket_tui", "--config", str(config), "--db", store, "inbox",
                           "list"], cwd=ROOT, capture_output=True, text=True)
    if done.returncode not in (0, 5):  # 5: `inbox list` found something needing attention (never polled)
        raise SystemExit(f"could not create the store {store}: {done.stderr.strip()}")


def fill_maildir(account: MailAccount, count: int, tag: str) -> None:
    """`count` small distinct requests written into new/, then indexed by one SELECT."""
    maildir = account.maildir
    owner = (os.stat(account.server.root / "mail").st_uid, os.stat(account.server.root / "mail").st_gid)
    for folder in [maildir.parent.parent, maildir.parent, maildir] + [maildir / s for s in ("cur", "new", "tmp")]:
        folder.mkdir(exist_ok=True)
        os.chown(folder, *owner)
    stamp, pid = int(time.time()) - count, os.getpid()
    for i in range(count):
        body = (f"From: Caller {i % 40} <caller{i % 40}@acme.example>\nTo: support@example.test\n"
                f"Subject: {tag} request {i}\nDate: Mon, 02 Jan 2026 10:00:00 +0000\n"
                f"Message-ID: <{tag}-{i}@acme.example>\n\nThe printer on floor {i % 7} jams ({i}).\n").encode()
        path = maildir / "new" / f"{stamp + i}.M{i}P{pid}.{tag}"
        path.write_bytes(body)
        os.chown(path, *owner)
    client = account.imap()
    client.select_folder("INBOX", readonly=True)
    client.unselect_folder()
    assert account.message_count() == count


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]
