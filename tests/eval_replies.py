"""Own evaluation set (tests/data/eval/cases.jsonl, written by its generate.py): new part at the shipped defaults.

Used by tests/test_parse_eval.py (thresholds) and by `make eval`, which prints exact and token F1 per client,
per language and per format:
    .venv/bin/python tests/eval_replies.py [--failures]
Every case runs with EngineSettings().parse_options(); nothing of a case but its body and format is read.
"""
from __future__ import annotations

import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mailticket_tui.engine.parse import extract_new_part  # noqa: E402
from mailticket_tui.settings import EngineSettings  # noqa: E402
from tests.parse_corpus import norm_ws, token_f1  # noqa: E402

CASES = ROOT / "tests" / "data" / "eval" / "cases.jsonl"


@dataclass(frozen=True)
class EvalResult:
    case: dict
    got: str
    exact: bool
    f1: float
    lost_words: int  # words of the expected new part missing from the result (human text lost)


def load() -> list[dict]:
    return [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()]


def run_case(case: dict) -> EvalResult:
    options = EngineSettings().parse_options()
    if case["format"] == "html":
        got = extract_new_part(None, case["body"], options).text
    else:
        got = extract_new_part(case["body"], None, options).text
    want = case["new_part"]
    missing = defaultdict(int)
    for word in want.split():
        missing[word] += 1
    for word in got.split():
        if missing[word] > 0:
            missing[word] -= 1
    return EvalResult(case, got, norm_ws(got) == norm_ws(want), token_f1(got, want), sum(missing.values()))


def evaluate() -> list[EvalResult]:
    return [run_case(case) for case in load()]


def summary(results: list[EvalResult]) -> tuple[float, float]:
    """(exact rate, mean token F1)."""
    return (sum(r.exact for r in results) / len(results), sum(r.f1 for r in results) / len(results))


def table(results: list[EvalResult], key: str) -> str:
    groups: dict[str, list[EvalResult]] = defaultdict(list)
    for r in results:
        groups[r.case[key]].append(r)
    lines = [f"{key:<16}{'cases':>7}{'exact':>9}{'F1':>8}"]
    for name in [*sorted(groups), "OVERALL"]:
        rows = results if name == "OVERALL" else groups[name]
        exact, f1 = summary(rows)
        lines.append(f"{name:<16}{len(rows):>7}{exact:>9.3f}{f1:>8.3f}")
    return "\n".join(lines)


def report(results: list[EvalResult]) -> str:
    return "\n\n".join(table(results, key) for key in ("client", "lang", "format", "posting"))


if __name__ == "__main__":
    res = evaluate()
    print(report(res))
    if "--failures" in sys.argv:
        for r in res:
            if not r.exact:
                print(f"\n--- {r.case['id']} f1={r.f1:.3f} lost={r.lost_words}")
                print("GOT :", norm_ws(r.got)[:400])
                print("WANT:", norm_ws(r.case["new_part"])[:400])
