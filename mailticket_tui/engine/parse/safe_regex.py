"""User-configured patterns (settings) compiled with the `regex` module and run under a time bound.

A pattern that does not compile, or that times out on one message, is skipped for that message with a
defect line; it never stalls the engine (reliability.md T18). The reference's `/.../flags` form is read.
"""
from __future__ import annotations

from functools import lru_cache

import regex

from . import limits

_FLAGS = {"i": regex.IGNORECASE, "m": regex.MULTILINE, "s": regex.DOTALL, "x": regex.VERBOSE, "u": 0}


@lru_cache(maxsize=512)
def compile_pattern(pattern: str, default_flags: int = 0):
    """Compiled pattern, or None when it does not compile. `/body/imsx` delimiters are accepted."""
    flags = default_flags
    body = pattern
    if len(pattern) >= 2 and pattern[0] == "/" and pattern.rfind("/") > 0:
        end = pattern.rfind("/")
        body = pattern[1:end]
        for char in pattern[end + 1:]:
            flags |= _FLAGS.get(char, 0)
    try:
        return regex.compile(body, flags | regex.V0)
    except (regex.error, ValueError, OverflowError, TypeError):
        return None


def search(pattern: str, text: str, defects: list[str], default_flags: int = 0, pos: int = 0):
    """regex search with the configured timeout; None on no match, bad pattern or timeout."""
    compiled = compile_pattern(pattern, default_flags)
    if compiled is None:
        defects.append(f"pattern {pattern[:60]!r} does not compile: skipped")
        return None
    try:
        return compiled.search(text, pos, timeout=limits.REGEX_TIMEOUT)
    except TimeoutError:
        defects.append(f"pattern {pattern[:60]!r} timed out: skipped for this message")
        return None
    except Exception:  # noqa: BLE001 - a user pattern must never break the parse
        return None
