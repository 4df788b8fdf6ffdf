"""Run every bench/bench_*.py in turn with the same flags (`make bench`).

    .venv/bin/python bench/run_all.py [--quick] [other flags passed to every script]

Prints a header per script, goes on when one fails, and exits non-zero if any failed (a script fails
when it exits non-zero, e.g. because it missed its goal or could not start Dovecot).
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    failed: list[str] = []
    for script in scripts:
        print(f"\n===== {script.name} {' '.join(argv)}".rstrip() + " =====", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), *argv], cwd=HERE.parent)
        took = time.perf_counter() - start
        status = "ok" if code == 0 else f"FAILED (exit {code})"
        print(f"----- {script.name}: {status} in {took:.1f} s", flush=True)
        if code != 0:
            failed.append(script.name)
    print(f"\n{len(scripts) - len(failed)} of {len(scripts)} benchmarks ok"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
