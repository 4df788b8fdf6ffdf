"""A connection test's result (services.test_inbox -> ProbeResult, outbound.probe_smtp -> SmtpProbe) as safe
text: the warning first (a short display area must never cut it off), then what worked or at which stage it
failed and why, then the server's capabilities on a line of their own, left to wrap at the widget's width."""
from __future__ import annotations

from rich.text import Text

from .safe_text import clean

CAPABILITIES_LIMIT = 1000  # characters of the capability list shown (a server may list hundreds)


def probe_text(name: str, result) -> Text:
    """A ProbeResult as a few safe lines: the warning (if any), the outcome, the capabilities (if any)."""
    lines: list[Text] = []
    if result.warning:
        lines.append(Text(f"warning: {clean(result.warning, limit=200)}", style="bold yellow"))
    if result.ok:
        text = Text.assemble((f"{clean(name)}: OK", "bold green"), f" · {clean(result.message, limit=200)}")
        if result.message_count is not None:
            text.append(f" · {result.message_count} message(s)")
        if getattr(result, "tls", ""):
            text.append(f" · TLS: {clean(result.tls, limit=60)}")
        lines.append(text)
        if result.capabilities:
            lines.append(Text(f"capabilities: {clean(' '.join(result.capabilities), limit=CAPABILITIES_LIMIT)}",
                              style="dim"))
    else:
        lines.append(Text.assemble((f"{clean(name)}: FAILED at {clean(result.stage)}", "bold red"),
                                   f" · {clean(result.message, limit=400)}"))
    return Text("\n").join(lines)
