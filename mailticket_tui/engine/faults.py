"""Named fault points for crash tests: MAILTICKET_FAULT="point:N" kills the process (SIGKILL) the N-th
time `point` is reached. Unset (always, in production), `hit` is one dictionary lookup.

Points: before_commit (ticket work done, transaction open), after_commit (committed, server untouched),
after_dispose (server delete/move done, its record not yet cleared).
"""
from __future__ import annotations

import os
import signal

_SPEC = os.environ.get("MAILTICKET_FAULT", "")
_POINT, _, _NTH = _SPEC.partition(":")
_counts: dict[str, int] = {}


def hit(point: str) -> None:
    if point != _POINT:
        return
    _counts[point] = _counts.get(point, 0) + 1
    if _counts[point] == int(_NTH or 1):
        os.kill(os.getpid(), signal.SIGKILL)
