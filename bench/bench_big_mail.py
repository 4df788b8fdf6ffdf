"""Peak memory (RSS) of a whole `mailticket run --once` process on a Maildir, per scenario, measured in the
same run as its baselines.

    .venv/bin/python bench/bench_big_mail.py [--quick]

Each scenario is a fresh process on a fresh SQLite store; its peak RSS is that process's own VmHWM, so the interpreter, imports, parsing, Pillow, the store and the commit all count:
* idle: `mailticket --help` (the floor every run pays);
* backlog: the 2,000 generated messages of bench_backlog.py (--quick: 300) in one pass;
* 24 MB attachment, processed: one mail carrying a 24 MB PDF, maximum_email_size raised to 64M, so the
  file is decoded, hashed and stored in the Blob table;
* 24 MB attachment, too big: the same mail at the default maximum_email_size (10M) with big_files_dir and
  big_email_behavior = "ticket": streamed to disk, a stand-in ticket with a warning file;
* 24 MB attachment over IMAP: the processed case fetched from the private Dovecot (nan when it is missing).
Goal: the processed big mail under 150 MB for the whole process. Exits 1 when it is missed.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_backlog import fill_maildir, generate  # noqa: E402
from tests.dovecot_server import DovecotServer, missing_reason  # noqa: E402

GOAL_MB = 150
BIG = 24 * 1024 * 1024


def big_mail() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Alice Martin <alice@acme.example>"
    msg["To"] = "support@example.test"
    msg["Subject"] = "Scanned archive"
    msg["Message-ID"] = "<big-24mb@acme.example>"
    msg.set_content("The scan is attached.\n")
    payload = b"%PDF-1.4\n" + os.urandom(BIG - 9)
    msg.add_attachment(payload, maintype="application", subtype="pdf", filename="archive.pdf")
    return bytes(msg)


def maildir(folder: Path, raws: list[bytes]) -> Path:
    box = folder / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    for n, raw in enumerate(raws):
        (box / "new" / f"{n}.M{n}.bench").write_bytes(raw)
    return box


_MEASURED = (  # runs the CLI, then reports this process's own high-water mark (VmHWM: fresh after exec, unlike
    # ru_maxrss, which keeps the RSS the forking parent had)
    "import sys\nfrom mailticket_tui.cli import main\ntry:\n    code = main(sys.argv[1:])\nfinally:\n"
    "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "    sys.stderr.write(f'VMHWM {hwm}\\n')\nsys.exit(code)\n")


def peak_rss(args: list[str]) -> tuple[float, int]:
    """(peak RSS in MB, exit code) of one child process running `mailticket ARGS`."""
    proc = subprocess.run([sys.executable, "-c", _MEASURED, *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    line = [part for part in proc.stderr.splitlines() if part.startswith("VMHWM ")]
    return (int(line[-1].split()[1]) / 1024 if line else float("nan")), proc.returncode


def run_once(work: Path, raws: list[bytes], engine: str) -> tuple[float, int]:
    box = maildir(work, raws)
    config = work / "mailticket.toml"
    config.write_text(f"[engine]\n{engine}\n[[inbox]]\nname = \"bench\"\nprotocol = \"maildir\"\nserver = \"{box}\"\n"
                      "unknown_caller_behavior = \"create_contact\"\n", encoding="utf-8")
    db = f"sqlite:///{work / 'store.db'}"
    return peak_rss(["--config", str(config), "--db", db, "run", "--once"])


def run_once_imap(work: Path, raw: bytes) -> tuple[float, int] | None:
    """The processed big mail again, fetched over IMAP from the private Dovecot; None when it cannot start."""
    if missing_reason():
        return None
    server = DovecotServer.start_new()
    try:
        account = server.add_user()
        fill_maildir(account, [raw])
        config = work / "imap.toml"
        config.write_text(f'[engine]\nmaximum_email_size = "64M"\n[[inbox]]\nname = "bench"\nprotocol = "imap"\n'
                          f'server = "{account.host}"\nport = {account.imap_port}\ntls = "none"\n'
                          f'login = "{account.login}"\npassword = "{account.password}"\n'
                          'unknown_caller_behavior = "create_contact"\n', encoding="utf-8")
        return peak_rss(["--config", str(config), "--db", f"sqlite:///{work / 'imap.db'}", "run", "--once"])
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args, _rest = parser.parse_known_args()
    count = 300 if args.quick else 2000
    big = big_mail()
    rows: list[tuple[str, float, int]] = []
    with tempfile.TemporaryDirectory(prefix="mt-bench-big-") as tmp:
        work = Path(tmp)
        rows.append(("idle (the CLI's --help)", *peak_rss(["--help"])))
        (work / "a").mkdir()
        rows.append((f"backlog: {count} generated mails", *run_once(work / "a", generate(count), "")))
        (work / "b").mkdir()
        rows.append((f"one mail, {BIG >> 20} MB attachment, processed",
                     *run_once(work / "b", [big], 'maximum_email_size = "64M"')))
        (work / "c").mkdir()
        rows.append((f"one mail, {BIG >> 20} MB attachment, too big (streamed)",
                     *run_once(work / "c", [big], f'big_files_dir = "{work / "c" / "big"}"\n'
                                                  'big_email_behavior = "ticket"')))
        (work / "d").mkdir()
        imap = run_once_imap(work / "d", big)
        rows.append((f"one mail, {BIG >> 20} MB attachment, processed, over IMAP",
                     *(imap or (float("nan"), 0))))
    print(f"raw size of the big mail: {len(big) / 1e6:.1f} MB (base64)")
    for label, mb, code in rows:
        print(f"{label:55s} peak RSS {mb:7.1f} MB" + (f"  (exit {code})" if code not in (0,) else ""))
    processed = max(mb for _label, mb, _code in (rows[2], rows[4]) if mb == mb)  # nan (no Dovecot) left out
    print(f"goal: processed big mail (Maildir and IMAP) under {GOAL_MB} MB for the whole process: "
          f"{'met' if processed < GOAL_MB else 'NOT met'} ({processed:.1f} MB; backlog {rows[1][1]:.1f} MB)")
    return 0 if processed < GOAL_MB and all(code == 0 for _l, _m, code in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
