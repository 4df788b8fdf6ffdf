"""Parse options: the knobs of MIME decoding and new-part extraction, with the reference's declared defaults.

Settings (settings.py) build a ParseOptions from the `[engine]` table; the parser never reads settings itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_BODY_PARTS_ORDER: tuple[str, ...] = ("text/html", "text/plain")
DEFAULT_INTRODUCTORY_PATTERNS: tuple[str, ...] = (
    r"^le .+ a écrit\s?:$",
    r"^on .+ wrote:$",
    r"^\d{4}/\d{1,2}/\d{1,2} .+:$",
)
DEFAULT_MULTILINE_DELIMITER_PATTERNS: tuple[str, ...] = (
    r"\nFrom: .+\nSent: .+\n",
    r"\n_{10,}\s*\n",
    r"\nDe : .+\nEnvoyé : .+\n",
    r"\nDe : .+\nDate d'envoi : .+\n",
    r"\n-+\s*Message d'origine\s*-+\n",
)
DEFAULT_DELIMITER_PATTERNS: dict[str, bool] = {r"^>.*$": False}
DEFAULT_HTML_TAGS_TO_REMOVE: dict[str, tuple[str, ...]] = {
    "blockquote": (),
    "div": ("gmail_quote", "moz-cite-prefix"),
    "pre": ("moz-signature",),
}
DEFAULT_UNDESIRED_SUBJECT_PATTERNS: tuple[str, ...] = ()
DEFAULT_EXCLUDE_ATTACHMENT_TYPES: tuple[str, ...] = ("application/exe",)


@dataclass(frozen=True)
class ParseOptions:
    """Everything the parser needs to know; immutable so one instance is shared across threads."""

    body_parts_order: tuple[str, ...] = DEFAULT_BODY_PARTS_ORDER
    introductory_patterns: tuple[str, ...] = DEFAULT_INTRODUCTORY_PATTERNS
    multiline_delimiter_patterns: tuple[str, ...] = DEFAULT_MULTILINE_DELIMITER_PATTERNS
    delimiter_patterns: dict[str, bool] = field(default_factory=lambda: dict(DEFAULT_DELIMITER_PATTERNS))
    html_tags_to_remove: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_HTML_TAGS_TO_REMOVE)
    )
    undesired_subject_patterns: tuple[str, ...] = DEFAULT_UNDESIRED_SUBJECT_PATTERNS
    exclude_attachment_types: tuple[str, ...] = DEFAULT_EXCLUDE_ATTACHMENT_TYPES
    # The reference keeps the whole signature; strip_signature=True removes every detected one (a "-Name"
    # line too). Independently, the shipped default removes only the two unambiguous, machine-made kinds:
    # a device line ("Sent from my iPhone", "Gesendet von Outlook für Android<link>") and an RFC 3676
    # "-- " block at the end of the new part. Set it False for the reference's behaviour.
    strip_signature: bool = False
    strip_standard_signature: bool = True
