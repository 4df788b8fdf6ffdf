"""Types read from the bytes (engine/parse/sniff.py): the label is kept when the bytes agree or cannot tell,
overruled when they contradict it, and type rules match either, with aliases and wildcards."""
from __future__ import annotations

from mailticket_tui.engine.parse.sniff import real_type, type_matches

from .attachment_fixtures import EXE, image

ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 60
ZIP = b"PK\x03\x04" + b"\x00" * 60


def test_the_bytes_overrule_a_lying_label() -> None:
    assert real_type(EXE, "image/png") == "application/x-msdownload"
    assert real_type(ELF, "application/pdf") == "application/x-executable"
    assert real_type(image(10, 10, "JPEG"), "image/png") == "image/jpeg"
    assert real_type(b"%PDF-1.7\n...", "application/octet-stream") == "application/pdf"


def test_the_label_stays_when_the_bytes_agree_or_cannot_tell() -> None:
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert real_type(ZIP, docx) == docx and real_type(ZIP, "application/zip") == "application/zip"
    assert real_type(b"hello, plain words", "text/plain") == "text/plain"
    assert real_type(b"MZ is how my text starts", "text/plain") == "text/plain"
    assert real_type(b"BEGIN:VCALENDAR\r\n", "text/calendar") == "text/calendar"
    assert real_type(b"", "image/png") == "image/png"


def test_rules_match_declared_or_sniffed_with_aliases_and_wildcards() -> None:
    assert type_matches(("application/exe",), "image/png", "application/x-msdownload") == "application/x-msdownload"
    assert type_matches(("application/x-dosexec",), "application/exe") == "application/x-msdownload"
    assert type_matches(("image/*",), "application/pdf", "image/gif") == "image/gif"
    assert type_matches(("Application/PDF",), "application/pdf") == "application/pdf"
    assert type_matches(("application/exe",), "image/png", "image/png") is None
    assert type_matches((), "application/x-msdownload") is None
