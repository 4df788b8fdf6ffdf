"""Real-world corpus (../shared/corpus) at the shipped defaults: decoding, attachments, auto-mail, new part.

Every case runs with one configuration, EngineSettings().parse_options(); every metric of the score
table is asserted at the level reached (THRESHOLDS).

The score table per source is printed at the end of the module (also with -q). The corpus is read in
place; tests skip with a message when it is absent.
"""
from __future__ import annotations

import json

import pytest

from mailticket_tui.settings import EngineSettings
from tests.parse_corpus import CORPUS, evaluate, evaluate_case, rates, shipped_options, table

pytestmark = pytest.mark.skipif(not (CORPUS / "manifest.json").exists(),
                                reason=f"real-world corpus not found at {CORPUS}")


class _ScoreTable:
    """A tiny plugin registered at run time: prints the score table in pytest's terminal summary
    (test modules cannot define hooks, and output written during tests is captured)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def pytest_terminal_summary(self, terminalreporter) -> None:
        terminalreporter.write_sep("=", "parse corpus scores")
        for line in self.text.splitlines():
            terminalreporter.write_line(line)


@pytest.fixture(scope="module")
def results(request):
    res = evaluate()
    request.config.pluginmanager.register(_ScoreTable(table(res)), "parse-corpus-score-table")
    return res


# The level reached at the shipped defaults, per metric printed in the table: (passed, checked) as a
# minimum rate, or a minimum mean F1. A metric the table prints must be here (test below), so nothing is
# reported without being asserted; raise a bar when the parser improves, never lower it to pass.
# Known misses at these bars: stalwart-malformed-006/016 (attachment_count: Stalwart counts the parts of
# nested multiparts whose closing boundaries are missing), crisp-email_reply_header (new_part_constraints:
# the manifest says new_part_startswith "On the other hand", but the source's test is the multi-line regex
# /^On the other hand/m, i.e. some line of the first fragment starts with it, which our new part meets; it
# starts with "This is the latest reply". Left failing rather than reinterpreting the manifest here).
THRESHOLDS: dict[str, tuple[int, int] | float] = {
    "must_parse": (84, 84),
    "subject": (33, 33),
    "from": (32, 32),
    "text_body_prefix": (34, 34),
    "attachment_count": (41, 43),
    "attachment_filenames": (16, 16),
    "is_autoreply": (37, 37),
    "auto_kind": (32, 32),
    "defects": (1, 1),
    "new_part_exact": (34, 34),
    "new_part_constraints": (16, 17),
    "signature": (3, 3),
    "max_seconds": (1, 1),
    "new_part_f1": 0.999,
}


def failures(results, metric: str) -> list[str]:
    return [r.case_id for r in results if r.checks.get(metric) is False]


def test_corpus_runs_the_shipped_defaults() -> None:
    """One configuration for every case: the options EngineSettings ships, nothing taken from a case."""
    assert shipped_options() == EngineSettings().parse_options()
    # The new part must not depend on what a case expects: flip the signature flag, drop the answer.
    cases = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))["cases"]
    for case in (c for c in cases if c["kind"].startswith("reply")):
        flipped = {**case, "expect": {"new_part_includes_signature":
                                      not case["expect"].get("new_part_includes_signature", False)}}
        assert evaluate_case(flipped).detail["new_part"] == evaluate_case(case).detail["new_part"], case["id"]


def test_every_printed_metric_has_a_threshold(results) -> None:
    printed = set(rates(results))
    assert printed == set(THRESHOLDS), (printed ^ set(THRESHOLDS))


@pytest.mark.parametrize("metric", sorted(THRESHOLDS))
def test_metric_reaches_its_level(results, metric: str) -> None:
    got = rates(results).get(metric)
    assert got is not None, f"{metric}: no case checked it"
    want = THRESHOLDS[metric]
    if metric == "new_part_f1":
        assert got[0] / got[1] >= want, f"mean new-part F1 {got[0] / got[1]:.3f} < {want}"
    else:
        ok, n = got
        assert ok / n >= want[0] / want[1], (f"{metric}: {ok}/{n} < {want[0]}/{want[1]}", failures(results, metric))


def test_no_human_reply_flagged_as_automatic(results) -> None:
    human = [r.case_id for r in results if r.checks.get("is_autoreply") is False and r.source == "talon"]
    assert not human, f"human replies flagged as automatic: {human}"


def test_no_new_part_is_empty(results) -> None:
    assert not failures(results, "new_part_nonempty")
