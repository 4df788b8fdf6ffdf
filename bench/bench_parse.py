"""Parse throughput: mailticket's parse_message vs the stdlib email package, same bytes, same run.

    .venv/bin/python bench/bench_parse.py [--quick]

Two inputs: the real-world corpus (../shared/corpus/emails/*.eml, read in place) and N generated
realistic messages (text, HTML, multipart/alternative with attachments, replies with quoted history).
Three measures each: ours (full ParsedMail: decoding, attachments, HTML->text, new part, auto-mail),
stdlib `message_from_bytes(policy=policy.default)` alone (lazy: headers not yet parsed), and stdlib
parse + the extraction a ticket tool needs (headers as str, get_body, every leaf's get_content()).
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailticket_tui.engine.parse import parse_message  # noqa: E402

CORPUS = next((p for p in (ROOT.parent / "shared" / "corpus" / "emails", Path("/work/shared/corpus/emails")) if p.is_dir()), ROOT.parent / "shared" / "corpus" / "emails")
WORDS = ("printer network invoice password reset laptop screen broken urgent please thanks meeting server "
         "access account email phone update install license backup restore error message login vpn").split()
NAMES = ["Alice Martin", "Bob Dupont", "Jürgen Schmürgen", "Zoë Ålander", "Chen Wei", "Ана Петрова"]


def _sentence(rng: random.Random, n: int = 12) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def _paragraphs(rng: random.Random, count: int) -> str:
    return "\n\n".join(" ".join(_sentence(rng) for _ in range(rng.randint(2, 5))) for _ in range(count))


def generate(n: int, seed: int = 1) -> list[bytes]:
    """n deterministic, varied messages (about a third with attachments, half replies)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        msg = EmailMessage()
        name = rng.choice(NAMES)
        msg["From"] = f"{name} <user{i % 97}@example.com>"
        msg["To"] = "Support <support@example.org>"
        msg["Date"] = f"Mon, {1 + i % 28} Apr 2024 10:{i % 60:02d}:00 +0200"
        msg["Message-ID"] = f"<gen-{i}@example.com>"
        reply = rng.random() < 0.5
        msg["Subject"] = ("Re: " if reply else "") + _sentence(rng, 5) + " ñ€"
        body = _paragraphs(rng, rng.randint(1, 4))
        if reply:
            quoted = "\n".join("> " + line for line in _paragraphs(rng, 3).split("\n"))
            body += f"\n\nOn Mon, Apr 1, 2024 at 9:00 AM, Support <support@example.org> wrote:\n{quoted}\n"
        kind = rng.choice(("text", "html", "alternative", "alternative"))
        html = "<html><body>" + "".join(f"<p>{p}</p>" for p in body.split("\n\n")) + "</body></html>"
        if kind == "text":
            msg.set_content(body)
        elif kind == "html":
            msg.set_content(html, subtype="html")
        else:
            msg.set_content(body)
            msg.add_alternative(html, subtype="html")
        if rng.random() < 0.35:
            payload = bytes(rng.getrandbits(8) for _ in range(rng.randint(2_000, 60_000)))
            msg.add_attachment(payload, maintype="application", subtype="pdf", filename=f"report-{i}.pdf")
        if rng.random() < 0.15:
            msg.add_attachment(b"\x89PNG\r\n\x1a\n" + bytes(3000), maintype="image", subtype="png",
                               filename="logo.png")
        out.append(msg.as_bytes(policy=policy.SMTP))
    return out


def stdlib_extract(raw: bytes) -> None:
    msg = message_from_bytes(raw, policy=policy.default)
    for name in ("Subject", "From", "To", "Cc", "Date", "Message-ID", "In-Reply-To", "References"):
        str(msg.get(name, ""))
    msg.get_body(("html", "plain"))
    for part in msg.walk():
        if not part.is_multipart():
            try:
                part.get_content()
            except (LookupError, ValueError, KeyError):
                part.get_payload(decode=True)


def timed(func, corpus: list[bytes], reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        for raw in corpus:
            func(raw)
        best = min(best, time.perf_counter() - start)
    return best


def report(label: str, corpus: list[bytes], reps: int) -> None:
    size_mb = sum(map(len, corpus)) / 1e6
    ours = timed(parse_message, corpus, reps)
    lazy = timed(lambda raw: message_from_bytes(raw, policy=policy.default), corpus, reps)
    full = timed(stdlib_extract, corpus, reps)
    print(f"\n{label}: {len(corpus)} messages, {size_mb:.1f} MB (best of {reps})")
    print(f"  {'parser':<46}{'seconds':>9}{'msg/s':>10}{'MB/s':>8}{'ours/this':>11}")
    for name, secs in (("mailticket parse_message (full ParsedMail)", ours),
                       ("stdlib message_from_bytes(policy.default)", lazy),
                       ("stdlib policy.default + extraction", full)):
        ratio = secs / ours if ours else 0
        print(f"  {name:<46}{secs:>9.3f}{len(corpus) / secs:>10.0f}{size_mb / secs:>8.1f}{ratio:>10.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 generated messages, one repetition")
    args = parser.parse_args()
    reps = 1 if args.quick else 3
    if CORPUS.is_dir():
        real = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))]
        report("real-world corpus (.eml)", real, reps)
    else:
        print(f"corpus not found at {CORPUS}: skipped")
    report("generated realistic messages", generate(200 if args.quick else 2000), reps)
    print("\n(ours/this > 1 means the stdlib run took longer than parse_message)")


if __name__ == "__main__":
    main()
