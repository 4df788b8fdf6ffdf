"""Real-world corpus (../shared/corpus): decoding, attachments, auto-mail and new-part targets.

The score table per source is printed at the end of the module (also with -q). The corpus is read in
place; tests skip with a message when it is absent.
"""
from __future__ import annotations

import pytest

from tests.parse_corpus import CORPUS, evaluate, rates, table

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


def rate(results, metric: str) -> float:
    ok, n = rates(results).get(metric, (1, 1))
    return ok / n


def failures(results, metric: str) -> list[str]:
    return [r.case_id for r in results if r.checks.get(metric) is False]


def test_every_must_parse_case_parses(results) -> None:
    assert not failures(results, "must_parse")


def test_subject_and_from_are_exact(results) -> None:
    assert rate(results, "subject") == 1.0, failures(results, "subject")
    assert rate(results, "from") == 1.0, failures(results, "from")


def test_text_body_prefix_and_attachment_names(results) -> None:
    assert rate(results, "text_body_prefix") >= 0.98, failures(results, "text_body_prefix")
    assert rate(results, "attachment_filenames") >= 0.98, failures(results, "attachment_filenames")


def test_auto_mail_detection(results) -> None:
    assert rate(results, "is_autoreply") >= 0.98, failures(results, "is_autoreply")
    human = [r.case_id for r in results if r.checks.get("is_autoreply") is False and r.source == "talon"]
    assert not human, f"human replies flagged as automatic: {human}"


def test_new_part_exact_and_f1(results) -> None:
    assert rate(results, "new_part_exact") >= 0.80, failures(results, "new_part_exact")
    f1s = [r.f1 for r in results if r.f1 is not None]
    assert sum(f1s) / len(f1s) >= 0.95


def test_pathological_cases_are_fast(results) -> None:
    assert not failures(results, "max_seconds")
    assert not failures(results, "new_part_nonempty")
