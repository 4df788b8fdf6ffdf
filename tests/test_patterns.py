"""One pattern grammar, one compiler, one timeout: what `config check` accepts is exactly what the engine runs.

Every pattern setting is found from the settings dataclasses (field kind regex, regex_list or delimiters) and
run through both the validation path (settings_from_dict) and the engine code that uses it, with the same
inputs; they must agree on accepted/refused and on what matches.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Callable

import pytest

from mailticket_tui.engine.parse import ParseOptions, parse_message, safe_regex
from mailticket_tui.engine.parse.limits import REGEX_TIMEOUT
from mailticket_tui.engine.parse.text_reply import _is_intro_line, split_text
from mailticket_tui.engine.steps import Context
from mailticket_tui.engine.steps.related import find_related
from mailticket_tui.services import open_services
from mailticket_tui.settings import (
    SECTIONS,
    InboxSettings,
    Settings,
    SettingsError,
    compile_pattern,
    settings_from_dict,
)
from mailticket_tui.store import open_store
from mailticket_tui.store.models import MailMessage, Ticket, database_proxy

from .mailgen import make_mail

PATTERN_KINDS = ("regex", "regex_list", "delimiters")
SCAFFOLD = "Z9"  # the neutral line around a probed line; no sample pattern matches it


# ---------------------------------------------------------------- the grammar


@pytest.mark.parametrize(("pattern", "text", "found"), [
    ("#^out of office#i", "OUT OF OFFICE: back monday", "OUT OF OFFICE"),
    ("/^re: (.*)$/i", "RE: hello", "RE: hello"),
    ("~auto~", "automatic", "auto"),
    ("!a+!", "baab", "aa"),
    ("@x@", "x", "x"),
    ("%y%", "y", "y"),
    ("|foo|", "a foo b", "foo"),  # classic delimiter: always the delimited form, as settings files always read it
    ("+^out+i", "OUT", "OUT"),  # not a valid Python regex as written: the PCRE reading
    ("{foo}x", "foo", None),  # valid Python as written ({foo}x literally): kept as the Python regex it always was
    ("[abc]", "b", "b"),  # a character class, not the delimited literal "abc"
    ("(R-\\d+)", "see R-12", "R-12"),
    ("<(.+)>", "<a>", "<a>"),
    ("\\/api/", "/api/", "/api/"),  # a leading backslash forces the plain reading
    ("(?:/api/)", "/api/", "/api/"),
    ("/a.*b/U", "aXbYb", "aXb"),  # U: greedy becomes lazy
    ("/a.*?b/U", "aXbYb", "aXbYb"),  # ... and lazy becomes greedy
    ("/a{1,3}/U", "aaa", "a"),
    ("/a*+/U", "aaa", "aaa"),  # possessive stays possessive
    ("/[*+]+/U", "**", "*"),  # a class is not a quantifier
    ("/(?#x*)a+/U", "aa", "a"),
    ("/[[:alpha:]]+/U", "ab", "a"),
    ("/foo$/", "foo\n", "foo"),
    ("/foo$/D", "foo\n", None),  # D: $ only at the very end
    ("/foo$/Dm", "foo\n", "foo"),  # ... ignored with m, as in PCRE
    ("/[$]/D", "$", "$"),
    ("/foo/A", "xfoo", None),  # A: anchored where the search starts
    ("/foo|bar/A", "barx", "bar"),
    ("/foo # comment/xA", "foo", "foo"),  # verbose comment at the end does not swallow the anchor's parenthesis
    ("/f o o/x", "foo", "foo"),
    ("/^b$/m", "a\nb\nc", "b"),
    ("/a.b/s", "a\nb", "a\nb"),
    ("/é/u", "É", None),
    ("/é/iu", "É", "É"),
])
def test_grammar(pattern: str, text: str, found: str | None) -> None:
    match = compile_pattern(pattern).search(text)
    assert (match.group(0) if match else None) == found


@pytest.mark.parametrize(("pattern", "why"), [
    ("#^out of office#I", "unknown flag 'I'"),
    ("/foo/bar", "unknown flag 'a', 'b', 'r'"),
    ("~x~S", "unknown flag 'S'"),
    ("/(/", "invalid regular expression"),
    ("((", "invalid regular expression"),
    ("+(+i", "invalid regular expression"),
])
def test_refused_patterns_say_why_in_one_line(pattern: str, why: str) -> None:
    with pytest.raises(safe_regex.PatternError, match=re.escape(why)) as info:
        compile_pattern(pattern)
    assert "\n" not in str(info.value)
    assert why in "\n".join(problems({"engine": {"undesired_subject_patterns": [pattern]}}))


def _old_settings_reading(pattern: str) -> tuple[str, str] | None:
    """What settings.compile_pattern read as delimited before the one compiler (kept here as an oracle)."""
    match = re.match(r"^([/#~!@%|])(.*)\1([imsxuU]*)$", pattern, re.DOTALL)
    return (match.group(2), match.group(3)) if match else None


@pytest.mark.parametrize("pattern", [
    "/^re: (.*)$/i", "#^out of office#i", "|a|b|", "~x~", "!^auto!ms", "@x@u", "%a%U", "//", "/a/i/b/",
    "^Out Of Office",
    "R-([0-9]{6})", "^le .+ a écrit\\s?:$", "\\nFrom: .+\\nSent: .+\\n", "^>.*$", "[abc]", "(x)", "<a>", "{x}i",
])
def test_existing_settings_keep_their_meaning(pattern: str) -> None:
    """Every pattern the old settings compiler accepted is read the same way (`{1}`, refused before, may now be
    read as delimited; nothing that worked changes)."""
    old = _old_settings_reading(pattern)
    assert safe_regex.split_pattern(pattern) == old
    assert safe_regex.pattern_error(pattern) is None


def test_one_cached_compiler_and_one_timeout() -> None:
    assert compile_pattern("#^x#i") is compile_pattern("#^x#i")  # the validator warms the engine's cache
    assert safe_regex.compile_pattern is compile_pattern
    notes: list[str] = []
    started = time.monotonic()
    assert safe_regex.search(r"(a|aa)+$", "a" * 5000 + "!", notes) is None
    assert len(notes) == 1 and "timed out" in notes[0] and f"{REGEX_TIMEOUT:g}s" in notes[0]
    assert safe_regex.search(r"(a|aa)+$", "a" * 5000 + "!", notes) is None  # not run again for this message
    assert len(notes) == 1 and time.monotonic() - started < REGEX_TIMEOUT * 2 + 1
    assert safe_regex.search("((", "x", notes) is None and "cannot be used" in notes[-1]
    root = Path(safe_regex.__file__).parents[2]
    texts = {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.py"))}
    timed = re.compile(r"\.(search|match|fullmatch|finditer|sub)\([^)]*timeout=")
    timed_searches = [n for n, t in texts.items() if timed.search(t)]
    assert timed_searches == ["engine/parse/safe_regex.py"]  # user patterns run in one place
    constants = [n for n, t in texts.items() if re.search(r"^\w*(PATTERN|REGEX)_TIMEOUT\s*=", t, re.M)]
    assert constants == ["engine/parse/limits.py"]


# ---------------------------------------------------------------- validation and engine agree, setting by setting


@dataclass(frozen=True)
class PatternField:
    section: str  # engine | smtp | store | inbox
    name: str
    kind: str


def pattern_fields() -> list[PatternField]:
    """Every pattern setting, from the schema itself (a new one must get a probe below)."""
    found = []
    for section, cls in [*SECTIONS.items(), ("inbox", InboxSettings)]:
        found += [PatternField(section, f.name, f.metadata["kind"]) for f in fields(cls)
                  if f.metadata["kind"] in PATTERN_KINDS]
    return found


def problems(doc: dict) -> list[str]:
    try:
        settings_from_dict(doc, "f.toml")
    except SettingsError as exc:
        return exc.problems
    return []


def setting_value(kind: str, pattern: str):
    return {"regex": pattern, "regex_list": [pattern], "delimiters": {pattern: True}}[kind]


def validated(field: PatternField, pattern: str) -> Settings | None:
    """The settings the validation path builds, or None when it refuses the pattern."""
    value = setting_value(field.kind, pattern)
    base = {"name": "a", "server": "h", "login": "l"}
    doc = {"inbox": [{**base, field.name: value}]} if field.section == "inbox" else {field.section: {field.name: value}}
    try:
        return settings_from_dict(doc)
    except SettingsError:
        return None


def unvalidated(field: PatternField, pattern: str) -> Settings:
    """The same value handed to the engine without validation (a hand-edited store, an API caller)."""
    value = setting_value(field.kind, pattern)
    value = tuple(value) if isinstance(value, list) else value
    inbox = InboxSettings(name="a", server="h", login="l")
    if field.section == "inbox":
        return Settings(inboxes=(replace(inbox, **{field.name: value}),))
    section = getattr(Settings(), field.section)
    return replace(Settings(inboxes=(inbox,)), **{field.section: replace(section, **{field.name: value})})


def _unusable(defects: list[str] | tuple[str, ...]) -> bool:
    return any("cannot be used" in d for d in defects)


@dataclass(frozen=True)
class Probe:
    """Runs the engine code that uses one setting: (pattern usable, matched) for a text; `haystack` is the string
    the engine searched (the expected result is computed on it)."""

    run: Callable[[Settings, str], tuple[bool, bool]]
    haystack: Callable[[str], str] = lambda text: text


def _undesired(settings: Settings, text: str) -> tuple[bool, bool]:
    parsed = parse_message(make_mail(subject=text), settings.engine.parse_options())
    return not _unusable(parsed.defects), bool(parsed.undesired)


def _options(settings: Settings, **only) -> ParseOptions:
    return replace(settings.engine.parse_options(), **only)


def _introductory(settings: Settings, text: str) -> tuple[bool, bool]:
    defects: list[str] = []
    matched = _is_intro_line(text, settings.engine.parse_options(), defects)
    return not _unusable(defects), matched


def _multiline(settings: Settings, text: str) -> tuple[bool, bool]:
    defects: list[str] = []
    split = split_text(_multiline_body(text), _options(settings, delimiter_patterns={}, introductory_patterns=()),
                       defects)
    return not _unusable(defects), split.method == "multiline-pattern"


def _multiline_body(text: str) -> str:
    return f"{SCAFFOLD}\n{text}\n{SCAFFOLD}"


def _delimiter(settings: Settings, text: str) -> tuple[bool, bool]:
    defects: list[str] = []
    options = _options(settings, multiline_delimiter_patterns=(), introductory_patterns=())
    split = split_text(f"{SCAFFOLD}\n{text}\n{SCAFFOLD}", options, defects)
    return not _unusable(defects), split.method == "delimiter-pattern" and split.new == SCAFFOLD


def _title(settings: Settings, text: str) -> tuple[bool, bool]:
    inbox = settings.inboxes[0]
    ctx = Context(settings=settings, inbox=inbox, inbox_id=None, parsed=parse_message(make_mail(subject=text)),
                  dry_run=True)
    outcome = find_related(ctx)
    if outcome is not None and "title_pattern is invalid" in outcome.reason:
        return False, False
    return True, any("title_pattern matched" in line for line in ctx.trace)


PROBES: dict[str, Probe] = {
    "undesired_subject_patterns": Probe(_undesired),
    "introductory_patterns": Probe(_introductory),
    "multiline_delimiter_patterns": Probe(_multiline, _multiline_body),
    "delimiter_patterns": Probe(_delimiter),
    "title_pattern": Probe(_title),
}

SAMPLES = [
    ("#^out of office#i", "OUT OF OFFICE: back monday"),
    ("#Out Of Office#", "out of office today"),
    ("#Out Of Office#i", "out of office today"),
    ("^out of office", "OUT OF OFFICE now"),  # the engine's own case rule for some settings shows here
    ("/^re: (.*)$/i", "RE: hello"),
    ("~auto~", "Automatic answer"),
    ("|foo|", "a foo b"),
    ("[abc]", "b"),
    ("(R-\\d+)", "see R-12"),
    ("+^out+i", "OUT there"),
    ("/a.*b/U", "aXbYb"),
    ("/^x/A", "x marks"),
    ("/^x/A", "no x"),
    ("/foo/bar", "foo"),  # refused: unknown flags
    ("#^out of office#I", "OUT OF OFFICE"),  # refused: a typo in the flag must not silently never match
    ("((", "x"),  # refused
]


@pytest.fixture
def store(tmp_path: Path):
    open_store(f"sqlite:///{tmp_path / 'p.db'}")
    yield
    database_proxy.close()


def test_every_pattern_setting_has_an_engine_probe() -> None:
    names = {f.name for f in pattern_fields()}
    assert names == set(PROBES), "a pattern setting was added or removed: give it a probe in PROBES"
    assert {"undesired_subject_patterns", "introductory_patterns", "multiline_delimiter_patterns",
            "delimiter_patterns", "title_pattern"} <= names


@pytest.mark.parametrize("field", pattern_fields(), ids=lambda f: f.name)
@pytest.mark.parametrize(("pattern", "text"), SAMPLES)
def test_validation_and_engine_agree(store, field: PatternField, pattern: str, text: str) -> None:
    probe = PROBES[field.name]
    settings = validated(field, pattern)
    usable, matched = probe.run(settings or unvalidated(field, pattern), text)
    assert usable == (settings is not None), f"config check {'accepts' if settings else 'refuses'} {pattern!r}"
    if settings is None:
        return
    flags = safe_regex.SETTING_FLAGS.get(field.name, 0)
    compiled = compile_pattern(pattern, flags)  # what the validation compiled
    assert compiled.search(SCAFFOLD) is None  # the probe's scaffolding stays neutral
    assert matched == (compiled.search(probe.haystack(text)) is not None)


def test_delimited_forms_match_in_every_setting(store) -> None:
    """The bug this guards: `#^out of office#i` passed `config check` but never matched in the engine."""
    for field in pattern_fields():
        pattern = "#out of office#i" if field.name == "multiline_delimiter_patterns" else "#^out of office#i"
        settings = validated(field, pattern)
        assert settings is not None
        assert PROBES[field.name].run(settings, "OUT OF OFFICE: back monday") == (True, True), field.name


def test_a_catastrophic_title_pattern_is_a_trace_line_not_a_hang(store) -> None:
    settings = validated(PatternField("inbox", "title_pattern", "regex"), r"(a|aa)+$")
    ctx = Context(settings=settings, inbox=settings.inboxes[0], inbox_id=None,
                  parsed=parse_message(make_mail(subject="a" * 900 + "!")), dry_run=True)
    started = time.monotonic()
    assert find_related(ctx) is None
    assert time.monotonic() - started < REGEX_TIMEOUT * 2 + 1
    assert any("title_pattern ignored" in line and "timed out" in line for line in ctx.trace)


# ---------------------------------------------------------------- end to end


def test_an_undesired_pattern_in_the_reference_form_makes_the_mail_undesired(write_config, tmp_path: Path) -> None:
    """A Maildir inbox processes two mails with that subject: with the pattern it is undesired, without it a ticket.
    auto_mail_behavior = process, so the auto-reply detector (which knows "Out of office:" too) does not decide."""
    outcomes = {}
    for label, patterns in (("with", "['#^out of office#i']"), ("without", "[]")):
        maildir = tmp_path / label
        for sub in ("cur", "new", "tmp"):
            (maildir / sub).mkdir(parents=True)
        config = write_config(f"""
            [engine]
            undesired_subject_patterns = {patterns}

            [[inbox]]
            name = "local"
            protocol = "maildir"
            server = "{maildir}"
            unknown_caller_behavior = "create_contact"
            auto_mail_behavior = "process"
            """, f"{label}.toml")
        (maildir / "new" / "1.M1.t").write_bytes(make_mail(subject="OUT OF OFFICE: back monday"))
        services = open_services(str(config), f"sqlite:///{tmp_path / label}.db")
        services.run_once()
        row = MailMessage.get()
        outcomes[label] = (row.status, row.error, Ticket.select().count())
        database_proxy.close()
    status, error, tickets = outcomes["with"]
    assert status == "undesired" and "#^out of office#i" in error and tickets == 0
    assert outcomes["without"][0] == "processed" and outcomes["without"][2] == 1
