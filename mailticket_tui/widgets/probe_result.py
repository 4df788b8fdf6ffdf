"""A connection test's result (services.test_inbox -> ProbeResult) as one precise, safe line."""
from __future__ import annotations

from rich.text import Text

from .safe_text import clean


def probe_text(name: str, result) -> Text:
    """A ProbeResult as one precise, safe line: what worked, or at which stage it failed and why."""
    if result.ok:
        text = Text.assemble((f"{clean(name)}: OK", "bold green"), f" · {clean(result.message, limit=200)}")
        if result.message_count is not None:
            text.append(f" · {result.message_count} message(s)")
        if getattr(result, "tls", ""):
            text.append(f" · TLS: {clean(result.tls, limit=60)}")
        if result.capabilities:
            text.append(f" · capabilities: {clean(' '.join(result.capabilities), limit=200)}")
        if result.warning:
            text.append(f" · warning: {clean(result.warning, limit=200)}", style="yellow")
        return text
    return Text.assemble((f"{clean(name)}: FAILED at {clean(result.stage)}", "bold red"),
                         f" · {clean(result.message, limit=400)}")
