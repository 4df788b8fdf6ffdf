"""Corpus evaluation for the parser: run every case of ../shared/corpus/manifest.json, score each expectation.

Used by tests/test_parse_corpus.py (targets + score table) and runnable alone:
    .venv/bin/python tests/parse_corpus.py [--failures]
The corpus is read in place, never copied into the project.
"""
from __future__ import annotations

import json
import os
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mailticket_tui.engine.parse import ParseOptions, extract_new_part, parse_message  # noqa: E402
from mailticket_tui.settings import EngineSettings  # noqa: E402

def find_corpus() -> Path:
    """../shared/corpus next to the checkout; $MAILTICKET_CORPUS or /work/shared/corpus when cloned elsewhere."""
    candidates = [os.environ.get("MAILTICKET_CORPUS", ""), Path(__file__).resolve().parents[2] / "shared" / "corpus",
                  "/work/shared/corpus"]
    return next((Path(c) for c in candidates if c and (Path(c) / "manifest.json").is_file()), Path(candidates[1]))


CORPUS = find_corpus()

SOURCE_TAG = {
    "github/email_reply_parser": "erp",
    "alfonsrv/mail-parser-reply": "mpr",
    "crisp-oss/email-reply-parser": "crisp",
    "mailgun/talon": "talon",
    "SpamScope/mail-parser": "spamscope",
    "stalwartlabs/mail-parser": "stalwart",
    "sisimai/set-of-emails": "sisimai",
}


@dataclass
class CaseResult:
    case_id: str
    source: str
    checks: dict[str, bool] = field(default_factory=dict)
    f1: float | None = None
    seconds: float = 0.0
    detail: dict[str, object] = field(default_factory=dict)


def norm_ws(text: str) -> str:
    return " ".join(text.split())


def token_f1(got: str, want: str) -> float:
    got_tokens, want_tokens = got.split(), want.split()
    if not got_tokens and not want_tokens:
        return 1.0
    if not got_tokens or not want_tokens:
        return 0.0
    counts: dict[str, int] = defaultdict(int)
    for tok in want_tokens:
        counts[tok] += 1
    common = 0
    for tok in got_tokens:
        if counts[tok] > 0:
            common += 1
            counts[tok] -= 1
    if not common:
        return 0.0
    precision, recall = common / len(got_tokens), common / len(want_tokens)
    return 2 * precision * recall / (precision + recall)


def shipped_options() -> ParseOptions:
    """The one configuration every case runs with: the shipped defaults (settings.EngineSettings)."""
    return EngineSettings().parse_options()


def _new_part_text(case: dict, raw: bytes, parsed, options: ParseOptions) -> tuple[str, str, str]:
    """The new part at `options`; nothing here may depend on the case's expectations or metadata
    beyond its file format (a body-only file has no headers to parse)."""
    if case["format"] == "eml":
        part = parsed.new_part if parsed is not None else parse_message(raw, options).new_part
    elif case["format"] == "body_html":
        part = extract_new_part(None, raw.decode("utf-8", "replace"), options)
    else:
        part = extract_new_part(raw.decode("utf-8", "replace"), None, options)
    return part.text, part.method, part.signature


def evaluate_case(case: dict, corpus: Path = CORPUS, options: ParseOptions | None = None) -> CaseResult:
    options = options or shipped_options()
    expect = case["expect"]
    raw = (corpus / case["file"]).read_bytes()
    result = CaseResult(case["id"], SOURCE_TAG.get(case["source_repo"], case["source_repo"]))
    checks = result.checks
    start = time.perf_counter()
    parsed = None
    if case["format"] == "eml":
        try:
            parsed = parse_message(raw, options)
            ok = parsed.error is None
        except Exception as exc:  # noqa: BLE001 - the contract says never raises; record it
            ok = False
            result.detail["exception"] = repr(exc)
        if expect.get("must_parse"):
            checks["must_parse"] = ok
    if parsed is not None:
        if "subject" in expect:
            checks["subject"] = parsed.subject == expect["subject"]
            result.detail["subject"] = parsed.subject
        if "from_addresses" in expect:
            got = [parsed.from_.email] if parsed.from_ and "@" in parsed.from_.email else []
            checks["from"] = [a.lower() for a in got] == [a.lower() for a in expect["from_addresses"]]
            result.detail["from"] = got
        if "text_body_prefix" in expect:
            want = expect["text_body_prefix"]
            got = parsed.text_plain or ""
            checks["text_body_prefix"] = got[: len(want)] == want
            result.detail["text_body_prefix"] = got[: len(want) + 20]
        if "attachment_count" in expect:
            checks["attachment_count"] = len(parsed.attachments) == expect["attachment_count"]
            result.detail["attachments"] = [(a.filename, a.content_type) for a in parsed.attachments]
        if "attachment_filenames" in expect:
            got_names = [a.filename for a in parsed.attachments]
            checks["attachment_filenames"] = sorted(got_names) == sorted(expect["attachment_filenames"])
        if "is_autoreply" in expect:
            checks["is_autoreply"] = parsed.auto_submitted == expect["is_autoreply"]
            result.detail["auto"] = (parsed.auto_kind, parsed.auto_reason)
        if "auto_kind" in expect:
            checks["auto_kind"] = parsed.auto_kind == expect["auto_kind"]
        if "defects" in expect:
            joined = " ".join(parsed.defects)
            checks["defects"] = all(name in joined for name in expect["defects"])
            result.detail["defects"] = parsed.defects
    reply_keys = ("new_part", "new_part_startswith", "new_part_contains", "new_part_excludes", "signature_contains",
                  "max_seconds")
    if case["kind"].startswith("reply") or any(k in expect for k in reply_keys):
        t0 = time.perf_counter()
        text, method, signature = _new_part_text(case, raw, parsed, options)
        elapsed = time.perf_counter() - t0
        result.detail["new_part"] = text
        result.detail["method"] = method
        if "new_part" in expect:
            want = expect["new_part"]
            if expect.get("new_part_compare") == "ignore_whitespace":
                checks["new_part_exact"] = re.sub(r"\s+", "", text) == re.sub(r"\s+", "", want)
            else:
                checks["new_part_exact"] = norm_ws(text) == norm_ws(want)
            result.f1 = token_f1(text, want)
        if "new_part_startswith" in expect:
            checks["new_part_constraints"] = norm_ws(text).startswith(norm_ws(expect["new_part_startswith"]))
        for piece in expect.get("new_part_contains", []):
            checks["new_part_constraints"] = checks.get("new_part_constraints", True) and norm_ws(piece) in norm_ws(text)
        for piece in expect.get("new_part_excludes", []):
            checks["new_part_constraints"] = checks.get("new_part_constraints", True) and norm_ws(piece) not in norm_ws(text)
        if "signature_contains" in expect:
            checks["signature"] = all(norm_ws(piece) in norm_ws(signature) for piece in expect["signature_contains"])
            result.detail["signature"] = signature
        if "max_seconds" in expect:
            checks["max_seconds"] = elapsed <= expect["max_seconds"]
        if text.strip() == "" and raw.strip():
            checks["new_part_nonempty"] = False
    result.seconds = time.perf_counter() - start
    return result


def evaluate(corpus: Path = CORPUS, options: ParseOptions | None = None) -> list[CaseResult]:
    """Every case at one configuration (the shipped defaults unless `options` is given)."""
    options = options or shipped_options()
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    return [evaluate_case(case, corpus, options) for case in manifest["cases"]]


METRICS = ("must_parse", "subject", "from", "text_body_prefix", "attachment_count", "attachment_filenames",
           "is_autoreply", "auto_kind", "defects", "new_part_exact", "new_part_constraints", "signature", "max_seconds")


def rates(results: list[CaseResult]) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for metric in METRICS:
        vals = [r.checks[metric] for r in results if metric in r.checks]
        if vals:
            out[metric] = (sum(vals), len(vals))
    f1s = [r.f1 for r in results if r.f1 is not None]
    if f1s:
        out["new_part_f1"] = (round(sum(f1s) / len(f1s) * 1000), 1000)
    return out


SHORT = {"must_parse": "parse", "subject": "subj", "from": "from", "text_body_prefix": "body",
         "attachment_count": "att#", "attachment_filenames": "attname", "is_autoreply": "auto",
         "auto_kind": "autokind", "defects": "defects", "new_part_exact": "np_exact",
         "new_part_constraints": "np_constr", "signature": "np_sig", "max_seconds": "np_time", "new_part_f1": "np_f1"}


def table(results: list[CaseResult]) -> str:
    """Per-source score table: passed/checked per metric, mean token F1 of the new part."""
    by_source: dict[str, list[CaseResult]] = defaultdict(list)
    for r in results:
        by_source[r.source].append(r)
    overall = rates(results)
    cols = [m for m in (*METRICS, "new_part_f1") if m in overall]
    lines = ["passed/checked per metric; np_f1 = mean token F1 of the new part",
             f"{'source':<10}" + "".join(f"{SHORT[c]:>10}" for c in cols)]
    for source in [*sorted(by_source), "OVERALL"]:
        rate = overall if source == "OVERALL" else rates(by_source[source])
        row = f"{source:<10}"
        for col in cols:
            if col not in rate:
                row += f"{'-':>10}"
            elif col == "new_part_f1":
                row += f"{rate[col][0] / 1000:>10.3f}"
            else:
                row += f"{f'{rate[col][0]}/{rate[col][1]}':>10}"
        lines.append(row)
    return "\n".join(lines)


if __name__ == "__main__":
    res = evaluate()
    print(table(res))
    if "--failures" in sys.argv:
        for r in res:
            bad = [k for k, v in r.checks.items() if not v]
            if bad or (r.f1 is not None and r.f1 < 0.999):
                print(f"\n--- {r.case_id} {bad} f1={r.f1}")
                for key, value in r.detail.items():
                    print(f"   {key}: {value!r}"[:1500])
