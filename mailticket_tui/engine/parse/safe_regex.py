"""The one home of user-configured patterns: their grammar, their compiler (cached) and a search that never hangs.

Every pattern setting goes through here: `config check` and settings validation (settings.py), the parser
(undesired subjects, reply delimiters, introductory lines) and the related-ticket step (title_pattern). So a
pattern the validator accepts is exactly the pattern the engine runs. Patterns run with the `regex` module
(V0, i.e. Python `re` syntax) under one time bound, limits.REGEX_TIMEOUT; a timeout is "no match" plus a note.

Grammar. A pattern is a plain Python regex, or the reference's PHP/PCRE form DELIM body DELIM flags:
- DELIM is any character that is not a letter, digit, backslash or whitespace; ( [ { < close with ) ] } >.
  The closing delimiter is the LAST occurrence of it; everything after it must be letters (the flags).
- With one of the classic delimiters / # ~ ! @ % | that shape is always the delimited form (so `|foo|` is
  `foo`, as settings files have always read it). Any other delimiter (brackets, + = , ...) is taken as one only
  when the whole text is NOT a valid Python regex as written: `[abc]`, `(R-\\d+)` or `<(.+)>` stay the Python
  regexes they always were, while `+^out of office+i` (invalid as written) is read the PCRE way. Patterns valid
  before keep their meaning. The one exception is loud, never silent: a classic-delimited text followed by
  letters that were not all flags (`/foo/bar`, `#x#I`) used to be a plain regex that never matched; its
  letters are now read as flags, and unknown ones are refused by `config check`.
- To force the plain reading of a text that looks delimited (`/api/` as a literal), start it with a backslash
  (`\\/api/`) or wrap it in a group `(?:/api/)`.
Flags (anything else after the delimiter is refused with a one-line error):
  i  case-insensitive           m  ^ and $ also at line breaks     s  . also matches a newline
  x  verbose: whitespace and # comments in the pattern are ignored
  u  UTF-8 mode in PCRE; Python text is always Unicode, so nothing to do
  U  ungreedy: every quantifier's greediness is inverted (* is lazy, *? is greedy), as in PCRE
  D  $ matches only at the very end (not before a final newline); ignored with m, as in PCRE
  A  anchored: the match must start where the search starts (\\G)
Some settings add flags of their own (SETTING_FLAGS): subjects and introductory lines are always matched
case-insensitively, as they have always been.
"""
from __future__ import annotations

import re
from functools import lru_cache

import regex

from . import limits

CLASSIC_DELIMITERS = "/#~!@%|"
_CLOSING = {"(": ")", "[": "]", "{": "}", "<": ">"}
_FLAG_BITS = {"i": regex.IGNORECASE, "m": regex.MULTILINE, "s": regex.DOTALL, "x": regex.VERBOSE,
              "u": regex.UNICODE, "U": 0, "D": 0, "A": 0}
FLAG_LETTERS = "imsxuUDA"
_QUANTIFIER_BRACES = re.compile(r"\{(?:\d+(?:,\d*)?|,\d+)\}")

# Flags the engine adds to every pattern of these settings (setting name -> regex flags); validation compiles
# with the same flags, so the compiled pattern in the cache is the very one the engine then uses.
SETTING_FLAGS: dict[str, int] = {
    "undesired_subject_patterns": regex.IGNORECASE,
    "introductory_patterns": regex.IGNORECASE,
}


class PatternError(ValueError):
    """A pattern that cannot be used; the message says why in one line (shown with the setting's key path)."""


def split_pattern(text: str) -> tuple[str, str] | None:
    """(body, flags) when `text` is in the delimited PCRE form (see the module docstring), else None."""
    if len(text) < 2:
        return None
    first = text[0]
    if first.isalnum() or first == "\\" or first.isspace():
        return None
    end = text.rfind(_CLOSING.get(first, first))
    if end <= 0:
        return None
    letters = text[end + 1:]
    if letters and not (letters.isascii() and letters.isalpha()):
        return None
    if first not in CLASSIC_DELIMITERS and _compiles_as_is(text):
        return None
    return text[1:end], letters


def _compiles_as_is(text: str) -> bool:
    try:
        regex.compile(text, regex.V0)
    except (regex.error, ValueError, OverflowError, TypeError, RecursionError):
        return False
    return True


def _pcre_rewrite(body: str, ungreedy: bool, dollar_end: bool, verbose: bool) -> str:
    """PCRE's U and D flags, which Python lacks, as a rewrite of the pattern text.

    U swaps greedy and lazy quantifiers (possessive ones stay); D turns a bare `$` into `\\Z`. Escapes,
    character classes, group openers `(?` and (in verbose mode) comments are copied unchanged.
    """
    out: list[str] = []
    i, n = 0, len(body)
    while i < n:
        char = body[i]
        if char == "\\":
            out.append(body[i:i + 2])
            i += 2
            continue
        if char == "[":
            j = i + 1
            if body[j:j + 1] == "^":
                j += 1
            if body[j:j + 1] == "]":
                j += 1
            while j < n and body[j] != "]":
                if body[j] == "\\":
                    j += 1
                elif body.startswith("[:", j):
                    close = body.find(":]", j + 2)
                    j = close + 1 if close != -1 else j
                j += 1
            out.append(body[i:j + 1])
            i = j + 1
            continue
        if verbose and char == "#":
            j = body.find("\n", i)
            j = n if j == -1 else j
            out.append(body[i:j])
            i = j
            continue
        if char == "(" and body[i + 1:i + 2] == "?":
            if body[i + 2:i + 3] == "#":  # (?#comment)
                j = body.find(")", i)
                j = n - 1 if j == -1 else j
                out.append(body[i:j + 1])
                i = j + 1
            else:
                out.append("(?")
                i += 2
            continue
        if char == "$" and dollar_end:
            out.append(r"\Z")
            i += 1
            continue
        braces = _QUANTIFIER_BRACES.match(body, i) if char == "{" else None
        if char in "*+?" or braces:
            quantifier = braces.group(0) if braces else char
            i += len(quantifier)
            suffix = body[i:i + 1]
            if suffix == "+":  # possessive: greediness does not apply
                out.append(quantifier + "+")
                i += 1
            elif suffix == "?":
                out.append(quantifier if ungreedy else quantifier + "?")
                i += 1
            else:
                out.append(quantifier + "?" if ungreedy else quantifier)
            continue
        out.append(char)
        i += 1
    return "".join(out)


@lru_cache(maxsize=1024)
def _compiled(pattern: str, default_flags: int) -> regex.Pattern | PatternError:
    """Cached result, errors included: a bad pattern is diagnosed once, not once per message."""
    try:
        return _compile(pattern, default_flags)
    except PatternError as exc:
        return PatternError(str(exc))  # a fresh instance: the cache must not keep the traceback's frames alive


def _compile(pattern: str, default_flags: int) -> regex.Pattern:
    body, letters = split_pattern(pattern) or (pattern, "")
    unknown = sorted({c for c in letters if c not in FLAG_LETTERS})
    if unknown:
        shown = ", ".join(repr(c) for c in unknown)
        raise PatternError(f"unknown flag {shown} after the closing {pattern[0]!r} (flags are "
                           f"{' '.join(FLAG_LETTERS)}); to match the text as written, start it with a backslash")
    flags = default_flags | regex.V0
    for letter in letters:
        flags |= _FLAG_BITS[letter]
    try:
        compiled = regex.compile(body, flags)
        ungreedy = "U" in letters
        dollar_end = "D" in letters and not compiled.flags & regex.MULTILINE  # PCRE ignores D under m
        if ungreedy or dollar_end:
            body = _pcre_rewrite(body, ungreedy, dollar_end, bool(compiled.flags & regex.VERBOSE))
            compiled = regex.compile(body, flags)
        if "A" in letters:  # a verbose pattern may end in a comment: the closing parenthesis needs its own line
            tail = "\n)" if compiled.flags & regex.VERBOSE else ")"
            compiled = regex.compile(r"\G(?:" + body + tail, flags)
    except (regex.error, ValueError, OverflowError, TypeError, RecursionError) as exc:
        raise PatternError(f"invalid regular expression {pattern!r} ({exc})") from None
    return compiled


def compile_pattern(pattern: str, default_flags: int = 0) -> regex.Pattern:
    """The compiled pattern (cached); raises PatternError with a one-line reason. Run it with a timeout
    (or use `search`): a user pattern can backtrack for ever."""
    result = _compiled(pattern, default_flags)
    if isinstance(result, PatternError):
        raise PatternError(str(result))
    return result


def pattern_error(pattern: str, default_flags: int = 0) -> str | None:
    """Why the pattern cannot be used, or None when it can (what settings validation asks)."""
    result = _compiled(pattern, default_flags)
    return str(result) if isinstance(result, PatternError) else None


def search(pattern: str, text: str, defects: list[str], default_flags: int = 0, pos: int = 0) -> regex.Match | None:
    """Search under limits.REGEX_TIMEOUT; None on no match, a bad pattern or a timeout, never raises.

    A bad pattern or a timeout appends one line to `defects` (the caller's note list). A pattern that timed
    out is not run again on the same list: one hostile message costs each pattern one timeout, not one per line.
    """
    result = _compiled(pattern, default_flags)
    if isinstance(result, PatternError):
        note = f"pattern {pattern[:60]!r} cannot be used ({result}): skipped"
        if note not in defects:
            defects.append(note)
        return None
    timed_out = f"pattern {pattern[:60]!r} timed out after {limits.REGEX_TIMEOUT:g}s: skipped for this message"
    if timed_out in defects:
        return None
    try:
        return result.search(text, pos, timeout=limits.REGEX_TIMEOUT)
    except TimeoutError:
        defects.append(timed_out)
        return None
    except Exception:  # noqa: BLE001 - a user pattern must never break the parse
        return None
