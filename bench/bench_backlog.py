"""Backlog throughput of `mailticket run --once` on a private Dovecot, next to the physical limit.

    .venv/bin/python bench/bench_backlog.py [--quick] [--reps N] [--profile]

N realistic generated messages (2,000; --quick 300): plain text, HTML with a text alternative,
multipart with attachments, replies quoting earlier messages (In-Reply-To/References), a few
auto-replies. They are written into the account's Maildir and Dovecot indexes them at the first
SELECT. Measured in the same run, interleaved:
* baseline: imapclient (debug off) `UID FETCH BODY.PEEK[]` in batches of 100, and the stdlib
  `email.message_from_bytes(raw, policy=policy.default)` with a get_body() + iter_attachments() walk
  (every part's content decoded) -- the minimal fetch+parse a ticket tool cannot avoid;
* ours: `run --once` in-process on a fresh SQLite store (fetch, parse, steps, tickets, attachments,
  one transaction per message), email_storage = keep so the mailbox serves every repetition.
Prints messages/s for both and the ratio (goal: ours >= 50 % of the baseline). --profile runs ours
once more under cProfile and prints where the time goes.
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imapclient import IMAPClient  # noqa: E402

from mailticket_tui.cli import main as cli_main  # noqa: E402
from tests.dovecot_server import DovecotServer, MailAccount, missing_reason  # noqa: E402

WORDS = ("printer network invoice password reset laptop screen broken urgent please thanks meeting server "
         "access account email phone update install license backup restore error message login vpn "
         "the a to of and for is on with this that it not we you have be").split()
FIRST = ["Alice", "Bob", "Chen", "Dana", "Émile", "Farah", "Gustav", "Hana", "Ivan", "Júlia"]
LAST = ["Martin", "Dupont", "Wei", "Schmidt", "Okafor", "Petrova", "Rossi", "Nakamura"]
DOMAINS = ["acme.example", "globex.example", "initech.example", "umbrella.example"]


def sentence(rng: random.Random, n: int = 14) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def paragraphs(rng: random.Random, count: int) -> list[str]:
    return [" ".join(sentence(rng) for _ in range(rng.randint(2, 6))) for _ in range(count)]


def generate(n: int, seed: int = 1) -> list[bytes]:
    """n deterministic messages: ~45 % plain, ~35 % HTML+text, ~20 % with attachments, ~40 % replies
    quoting an earlier message, ~2 % auto-replies."""
    rng = random.Random(seed)
    people = [(f"{f} {l}", f"{f.lower()}.{l.lower()}@{rng.choice(DOMAINS)}".replace("é", "e").replace("ú", "u"))
              for f in FIRST for l in LAST]
    sent: list[tuple[str, str, str]] = []  # (message-id, subject, text) of earlier messages
    out = []
    for i in range(n):
        name, addr = rng.choice(people)
        msg = EmailMessage()
        msg["From"] = f"{name} <{addr}>"
        msg["To"] = "Support <support@example.test>"
        msg["Date"] = f"Mon, {1 + i % 28:02d} Sep 2026 {8 + i % 10:02d}:{i % 60:02d}:00 +0200"
        msg["Message-ID"] = f"<backlog-{seed}-{i}@{addr.split('@')[1]}>"
        text = "\n\n".join(paragraphs(rng, rng.randint(1, 5))) + f"\n\n-- \n{name}\n"
        kind = rng.random()
        if kind < 0.02:
            msg["Subject"] = f"Automatic reply: {rng.choice(WORDS)} {rng.choice(WORDS)}"
            msg["Auto-Submitted"] = "auto-replied"
            msg.set_content("I am out of the office until Monday and will answer on my return.\n")
            out.append(bytes(msg))
            continue
        if sent and kind < 0.42:
            parent_id, parent_subject, parent_text = rng.choice(sent[-200:])
            msg["Subject"] = parent_subject if parent_subject.startswith("Re: ") else f"Re: {parent_subject}"
            msg["In-Reply-To"] = parent_id
            msg["References"] = parent_id
            quoted = "\n".join(f"> {line}" for line in parent_text.splitlines())
            text = "\n\n".join(paragraphs(rng, rng.randint(1, 2))) + f"\n\nOn Monday someone wrote:\n{quoted}\n"
        else:
            msg["Subject"] = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} {rng.choice(WORDS)} #{i}"
        msg.set_content(text)
        if rng.random() < 0.45:
            html = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
            msg.add_alternative(f"<html><body><div style='font-family:Arial'>{html}</div></body></html>",
                                subtype="html")
        if rng.random() < 0.2:
            for _ in range(rng.randint(1, 3)):
                kind, ext = rng.choice([("application/pdf", "pdf"), ("image/png", "png"),
                                        ("application/vnd.ms-excel", "xls"), ("text/csv", "csv")])
                main, _, sub = kind.partition("/")
                data = rng.randbytes(rng.randint(5_000, 150_000))
                msg.add_attachment(data, maintype=main, subtype=sub, filename=f"file-{i}.{ext}")
        sent.append((msg["Message-ID"], msg["Subject"], text))
        out.append(bytes(msg))
    return out


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


def baseline(account: MailAccount) -> tuple[float, int]:
    """Seconds for fetch (batches of 100) + stdlib parse/extraction of every message; bytes read."""
    start = time.perf_counter()
    client = IMAPClient(account.host, account.imap_port, ssl=False, timeout=30)
    client._imap.debug = 0
    client.login(account.login, account.password)
    client.select_folder("INBOX", readonly=True)
    uids = sorted(client.search("ALL"))
    total = 0
    for i in range(0, len(uids), 100):
        for data in client.fetch(uids[i:i + 100], ["BODY.PEEK[]"]).values():
            raw = data[b"BODY[]"]
            total += len(raw)
            msg = message_from_bytes(raw, policy=policy.default)
            _ = (str(msg["From"]), str(msg["Subject"]), str(msg["Message-ID"]), str(msg["Date"]))
            body = msg.get_body(preferencelist=("html", "plain"))
            if body is not None:
                body.get_content()
            for part in msg.iter_attachments():
                part.get_content()
    client.logout()
    return time.perf_counter() - start, total


def write_config(folder: Path, account: MailAccount) -> Path:
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


def ours(account: MailAccount, work: Path, rep: int, profile: cProfile.Profile | None = None) -> tuple[float, str]:
    """Seconds of one `run --once` on a fresh store (bootstrapped before the clock starts); its line."""
    store = f"sqlite:///{work / f'store-{rep}.db'}"
    config = write_config(work, account)
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli_main(["--config", str(config), "--db", store, "inbox", "list"]) == 0
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        if profile:
            profile.enable()
        code = cli_main(["--db", store, "run", "--once"])
        if profile:
            profile.disable()
    took = time.perf_counter() - start
    line = out.getvalue().strip()
    assert code == 0, line
    return took, line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 messages, 1 repetition")
    parser.add_argument("--reps", type=int, default=0, help="repetitions of each side (default 3, quick 1)")
    parser.add_argument("--count", type=int, default=0, help="number of messages (default 2000, quick 300)")
    parser.add_argument("--profile", action="store_true", help="profile one more run of ours (cProfile)")
    args = parser.parse_args()
    reason = missing_reason()
    if reason:
        print(f"bench_backlog: skipped: {reason}", file=sys.stderr)
        return 2
    count = args.count or (300 if args.quick else 2000)
    reps = args.reps or (1 if args.quick else 3)
    raws = generate(count)
    print(f"generated {count} messages, {sum(map(len, raws)) / 1e6:.1f} MB "
          f"(median {statistics.median(map(len, raws)) / 1e3:.1f} KB)")
    server = DovecotServer.start_new()
    try:
        account = server.add_user()
        print(f"loaded into Dovecot in {fill_maildir(account, raws):.2f} s")
        with tempfile.TemporaryDirectory(prefix="mailticket-backlog-") as tmp:
            work = Path(tmp)
            base_times, our_times, line = [], [], ""
            baseline(account)  # warm Dovecot's cache and indexes for both sides alike
            for rep in range(reps):  # interleaved, so host noise hits both alike
                took, _ = baseline(account)
                base_times.append(took)
                took, line = ours(account, work, rep)
                our_times.append(took)
            base, mine = statistics.median(base_times), statistics.median(our_times)
            print(f"ours: {line}")
            print(f"\nmedian of {reps} (s): baseline {base:.2f}, run --once {mine:.2f}")
            print(f"baseline (imapclient fetch x100 + stdlib policy.default walk): {count / base:8.1f} msg/s")
            print(f"mailticket run --once (fetch, parse, steps, store):            {count / mine:8.1f} msg/s")
            ratio = base / mine
            print(f"ratio ours/baseline: {ratio:.0%} (goal >= 50 %: {'met' if ratio >= 0.5 else 'NOT met'})")
            if args.profile:
                prof = cProfile.Profile()
                ours(account, work, reps, prof)
                text = io.StringIO()
                pstats.Stats(prof, stream=text).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(os.environ.get("BENCH_FILTER", ""), 40)
                print(text.getvalue())
        return 0 if ratio >= 0.5 else 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
