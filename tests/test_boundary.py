"""The one boundary that matters, as a contract rather than a hand-kept list: every module of the headless
core (all of `engine/` and `store/`, found on disk, plus `settings.py` and `services.py`) loads neither
Textual nor Rich, and `cli.py` loads no Textual.

All of them are imported in one fresh interpreter. An import hook notes, for the first import of a
forbidden package, which of our modules executed it, so a failure names the culprit (not merely the module
whose import chain led there). A second, tiny run proves the hook does name one.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mailticket_tui"
HEADLESS_TREES = ("engine", "store")
HEADLESS_FILES = ("settings", "services", "directory", "directory_import", "unknown_callers")
UI = ("textual", "rich")

# Runs in the subprocess: argv[1] is a JSON list of [module, [forbidden top-level packages]], imported in
# that order; prints a JSON list of problems.
CHECKER = r"""
import importlib, json, sys, traceback

plan = json.loads(sys.argv[1])
watched = {root for _, roots in plan for root in roots}
first_importer = {}

class Watch:
    '''Sees every import before the real finders; remembers which of our modules asked for a watched one.'''
    def find_spec(self, name, path=None, target=None):
        root = name.partition(".")[0]
        if root in watched and root not in first_importer:
            frame = sys._getframe(1)
            while frame is not None and not frame.f_globals.get("__name__", "").startswith("mailticket_tui"):
                frame = frame.f_back
            first_importer[root] = frame.f_globals["__name__"] if frame is not None else "?"
        return None

problems = [{"module": "(interpreter start)", "loaded": r, "by": "?"} for r in sorted(watched) if r in sys.modules]
sys.meta_path.insert(0, Watch())
for module, roots in plan:
    try:
        importlib.import_module(module)
    except Exception:
        problems.append({"module": module, "error": traceback.format_exc(limit=3)})
        continue
    for root in roots:
        if root in sys.modules:
            problems.append({"module": module, "loaded": root, "by": first_importer.get(root, "?")})
print(json.dumps(problems))
"""


def discover_headless() -> list[str]:
    """Every module under engine/ and store/ (packages included), then settings and services."""
    modules = []
    for tree in HEADLESS_TREES:
        for path in sorted((PACKAGE / tree).rglob("*.py")):
            parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
            modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules + [f"mailticket_tui.{name}" for name in HEADLESS_FILES]


def import_problems(plan: list[tuple[str, tuple[str, ...]]]) -> list[dict]:
    out = subprocess.run([sys.executable, "-c", CHECKER, json.dumps(plan)], capture_output=True, text=True,
                         check=True, cwd=PACKAGE.parent, timeout=120)
    return json.loads(out.stdout)


def describe(problems: list[dict]) -> str:
    return "\n".join(p.get("error") or f"importing {p['module']} loaded {p['loaded']} (imported by {p['by']})"
                     for p in problems)


def test_discovery_finds_the_whole_core() -> None:
    modules = discover_headless()
    assert len(modules) == len(set(modules))
    for expected in ("mailticket_tui.engine", "mailticket_tui.engine.runner", "mailticket_tui.engine.sources.imap",
                     "mailticket_tui.engine.parse.message", "mailticket_tui.engine.steps",
                     "mailticket_tui.store.models", "mailticket_tui.settings", "mailticket_tui.services"):
        assert expected in modules
    assert not any("__pycache__" in m or m.endswith(".__init__") for m in modules)


def test_headless_core_loads_neither_textual_nor_rich_and_cli_no_textual() -> None:
    """One interpreter: the core first (checked after each module), then cli.py (Textual only: it may
    print with Rich, and imports Textual only inside the `tui` branch)."""
    plan = [(m, UI) for m in discover_headless()] + [("mailticket_tui.cli", ("textual",))]
    problems = import_problems(plan)
    assert not problems, "the headless boundary is broken:\n" + describe(problems)


def test_a_breach_names_the_module_that_imported_it() -> None:
    """The checker itself: a TUI module that imports Rich is caught and named."""
    problems = import_problems([("mailticket_tui.engine.events", UI), ("mailticket_tui.widgets.probe_result", UI)])
    assert [(p["module"], p["loaded"]) for p in problems] == [("mailticket_tui.widgets.probe_result", "rich")]
    assert problems[0]["by"] == "mailticket_tui.widgets.probe_result"
