"""One-line filters typed by keyboard: `status:error class:Incident some words`.

`key:value` tokens for the known keys become fields; everything else is the free-text search. Keeps the
filter bar one line high at 80 columns instead of a row of inputs.
"""
from __future__ import annotations

import shlex


def parse_filter(query: str, keys: tuple[str, ...]) -> tuple[dict[str, str], str]:
    """('status:error  "disk full"', ('status',)) -> ({'status': 'error'}, 'disk full')."""
    try:
        tokens = shlex.split(query)
    except ValueError:  # an unbalanced quote: take the words as typed
        tokens = query.split()
    fields: dict[str, str] = {}
    words: list[str] = []
    for token in tokens:
        key, sep, value = token.partition(":")
        if sep and key.lower() in keys:
            fields[key.lower()] = value
        else:
            words.append(token)
    return fields, " ".join(words)
