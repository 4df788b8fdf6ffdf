"""What an attachment really is, read from its bytes, and whether a type rule matches it.

A declared Content-Type is the sender's claim; `exclude_attachment_types` must also catch an executable
sent as image/png. The detector is puremagic: pure Python (no libmagic to install on the host, nothing to
break when the system's magic database changes), maintained, and it reads only the first bytes we give it.
Its answers are candidates with a confidence, so this module keeps the sender's label when the bytes agree
with it or cannot tell (plain text, a zip-based Office file, an OLE document), and overrules it when they
clearly contradict it, always for executables (a two-byte "MZ" is reason enough to distrust an image label).
Never raises on hostile bytes.
"""
from __future__ import annotations

import fnmatch
import mimetypes
from functools import lru_cache

import puremagic

HEAD = 8192  # bytes handed to the detector; magic numbers live at the start
_CONFIDENT = 0.4  # puremagic's confidence from which a non-executable answer may overrule the label
_EXECUTABLE = "application/x-msdownload"
# Names a rule may use for the same thing; the reference's default rule is "application/exe".
_ALIASES = {
    _EXECUTABLE: {"application/exe", "application/x-exe", "application/x-msdownload", "application/x-dosexec",
                  "application/x-ms-dos-executable", "application/vnd.microsoft.portable-executable",
                  "application/x-msdos-program"},
    "application/x-executable": {"application/x-executable", "application/x-elf", "application/x-sharedlib"},
}
_CANON = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
_CANON.update({"image/x-ms-bmp": "image/bmp", "image/x-bmp": "image/bmp", "image/pjpeg": "image/jpeg",
               "application/x-pdf": "application/pdf", "image/jpg": "image/jpeg"})
_ZIP_FAMILY = ("application/zip", "application/x-zip-compressed", "application/java-archive", "application/epub+zip")
_ZIP_LABELS = ("officedocument", "opendocument", "+zip", "zip", "ms-excel", "ms-powerpoint", "msword", "java",
               "vnd.ms-", "vnd.apple", "octet-stream")


def canonical(content_type: str) -> str:
    """One name per type (the executable aliases fold into one), lower case."""
    low = (content_type or "").strip().lower()
    return _CANON.get(low, low)


def _candidates(payload: bytes) -> tuple[tuple[str, float], ...]:
    """(type, confidence) pairs puremagic sees in the head of the payload, best first."""
    return _candidates_of_head(payload[:HEAD])


@lru_cache(maxsize=512)  # puremagic tries each of its signatures in turn (~1 ms); logos and forms come back
def _candidates_of_head(head: bytes) -> tuple[tuple[str, float], ...]:
    try:
        found = puremagic.magic_string(head)
    except Exception:  # noqa: BLE001 - PureError for unknown bytes, anything else for hostile ones
        return ()
    out = []
    for match in found:
        kind = match.mime_type or mimetypes.guess_type("x" + (match.extension or ""), strict=False)[0] or ""
        if not kind and "ELF" in (match.name or ""):
            kind = "application/x-executable"
        if kind:
            out.append((canonical(kind), float(match.confidence)))
    return tuple(out)


def _compatible(sniffed: str, declared: str, seen: set[str]) -> bool:
    """True when the bytes do not contradict the label (the detector cannot be more precise than it)."""
    if declared in seen:
        return True
    if sniffed in _ZIP_FAMILY or "openxmlformats" in sniffed or "opendocument" in sniffed:
        return any(label in declared for label in _ZIP_LABELS)
    if sniffed in ("application/msword", "application/x-ole-storage", "application/vnd.ms-excel"):
        return declared.startswith(("application/", "image/"))  # .doc/.xls/.msg/thumbs are all OLE
    return False


def real_type(payload: bytes, declared: str) -> str:
    """The type to believe: the declared one unless the bytes clearly say something else."""
    declared = canonical(declared) or "application/octet-stream"
    found = _candidates(payload)
    if not found:
        return declared
    seen = {kind for kind, _conf in found}
    best_kind, best_conf = found[0]
    executable = next((kind for kind, _conf in found if kind in _ALIASES), None)
    if executable and not declared.startswith("text/"):
        return declared if declared in _ALIASES.get(executable, ()) or declared == executable else executable
    if _compatible(best_kind, declared, seen):
        return declared
    if best_conf >= _CONFIDENT or (best_kind.startswith("image/") and declared.startswith("image/")):
        return best_kind
    return declared


def type_matches(rules: tuple[str, ...], *types: str) -> str | None:
    """The first of `types` a rule names (exact, an alias, or a `type/*` wildcard), or None."""
    wanted = [canonical(rule) for rule in rules if rule and rule.strip()]
    for kind in types:
        kind = canonical(kind)
        names = _ALIASES.get(kind, {kind}) | {kind}
        for rule in wanted:
            if any(fnmatch.fnmatchcase(name, rule) for name in names):
                return kind
    return None
