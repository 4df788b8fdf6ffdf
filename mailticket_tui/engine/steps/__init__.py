"""The ordered processing steps (DESIGN.md section 4). Each step reads the context, appends a trace line,
and returns None to continue or an Outcome to stop. `run_steps` is the whole policy in one list.
"""
from __future__ import annotations

from .apply import AbortProcessing, create_or_update
from .attachments import check_attachments
from .caller import find_caller
from .checks import check_auto_mail, check_own_address, check_readable
from .context import Context, Outcome
from .related import find_related

STEPS = (check_readable, check_auto_mail, check_own_address, find_caller, find_related, check_attachments)


def run_steps(ctx: Context) -> Outcome:
    """Decide and (unless ctx.dry_run) write. The caller owns the transaction and runs this inside a
    savepoint: AbortProcessing (raised after some writes) means "roll the savepoint back, end with its outcome".
    """
    for step in STEPS:
        outcome = step(ctx)
        if outcome is not None:
            return outcome
    return create_or_update(ctx)


__all__ = ["AbortProcessing", "Context", "Outcome", "STEPS", "run_steps"]
