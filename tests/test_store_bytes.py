"""Bytes stored once and compressed: a mail's attachments are read back from its raw blob, the raw blob is
zstd-compressed when that pays, and everything reads back byte for byte (the attachment, `messages show
--eml`, a store row written before the codec existed). SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from mailticket_tui.cli import main
from mailticket_tui.engine.parse.locate import part_payload
from mailticket_tui.engine.ticket_files import AttachmentUnreadable, attachment_bytes
from mailticket_tui.store.blobs import AS_IS, ZSTD, decode, encode, read_blob
from mailticket_tui.store.models import Attachment, Blob, MailMessage, database_proxy

from .attachment_fixtures import image, tnef
from .mailgen import make_mail

TEXT = "The printer on floor 3 jams every morning; the tray light blinks twice.\n" * 200


def run(tmp_path: Path, store_url: str, capsys, mails: list[bytes], engine: str = "") -> None:
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    for i, raw in enumerate(mails):
        (maildir / "new" / f"{i}.M{i}.test").write_bytes(raw)
    config = tmp_path / "mailticket.toml"
    config.write_text(f'{engine}[[inbox]]\nname = "local"\nprotocol = "maildir"\nserver = "{maildir}"\n'
                      'unknown_caller_behavior = "create_contact"\n', encoding="utf-8")
    assert main(["--db", store_url, "config", "import", str(config)]) == 0
    assert main(["--db", store_url, "run", "--once"]) == 0
    capsys.readouterr()


def stored_once(tmp_path: Path, store_url: str, capsys) -> None:
    pdf = b"%PDF-1.7\n" + os.urandom(300_000)  # does not compress
    notes = ("notes.txt", "text/plain", TEXT.encode())
    raw = make_mail(body=TEXT, attachments=[("report.pdf", "application/pdf", pdf), notes])
    run(tmp_path, store_url, capsys, [raw])
    (mail,) = MailMessage.select()
    files = list(Attachment.select().order_by(Attachment.id))
    assert [a.filename for a in files] == ["report.pdf", "notes.txt"]
    assert all(a.blob_id == mail.raw_id and a.part for a in files)  # no blob of their own
    assert Blob.select().count() == 1
    assert attachment_bytes(files[0]) == pdf
    assert attachment_bytes(files[1]).replace(b"\r\n", b"\n") == TEXT.encode()
    assert [a.digest for a in files] == [hashlib.sha256(attachment_bytes(a)).hexdigest() for a in files]
    row = Blob.get_by_id(mail.raw_id)
    assert row.codec == ZSTD and row.size == len(raw) and len(row.data) < 0.85 * len(raw)
    assert read_blob(mail.raw_id) == raw
    eml = tmp_path / "out.eml"
    assert main(["--db", store_url, "messages", "show", str(mail.id), "--eml", str(eml)]) == 0
    assert eml.read_bytes() == raw


def test_attachments_are_read_back_from_the_compressed_raw_mail(tmp_path, store_url, capsys) -> None:
    stored_once(tmp_path, store_url, capsys)


def test_attachments_are_read_back_on_postgresql(tmp_path, pg_store, capsys) -> None:
    stored_once(tmp_path, pg_store, capsys)


def test_files_that_are_not_the_mails_own_bytes_get_a_blob(tmp_path, store_url, capsys) -> None:
    """A file unpacked from winmail.dat and a resized image are not parts of the raw mail."""
    photo = image(3000, 2000, "JPEG")
    container = tnef([("inside.txt", b"from the container " * 20)])
    raw = make_mail(attachments=[("winmail.dat", "application/ms-tnef", container), ("photo.jpg", "image/jpeg", photo)])
    run(tmp_path, store_url, capsys, [raw], engine='[engine]\nimages_maximum_size = "300x300"\n')
    (mail,) = MailMessage.select()
    by_name = {a.filename: a for a in Attachment.select()}
    assert set(by_name) == {"inside.txt", "photo.jpg"}
    for att in by_name.values():
        assert att.part == "" and att.blob_id != mail.raw_id and att.blob_id == att.digest
    assert attachment_bytes(by_name["inside.txt"]) == b"from the container " * 20
    assert attachment_bytes(by_name["photo.jpg"]) != photo  # the resized copy, stored on its own


def test_rows_written_before_the_codec_read_as_they_are(tmp_path, store_url, capsys) -> None:
    run(tmp_path, store_url, capsys, [make_mail()])
    data = b"an attachment stored whole by an older release " * 40
    digest = hashlib.sha256(data).hexdigest()
    with database_proxy.atomic():
        Blob.insert(sha256=digest, size=len(data), data=data).execute()  # codec defaults to AS_IS
        mail = MailMessage.get()
        old = Attachment.create(ticket=mail.ticket, filename="old.txt", size=len(data), blob=digest, message=mail)
    assert attachment_bytes(old) == data  # part "" and digest "": the blob itself


def test_a_part_that_does_not_match_its_digest_is_refused(tmp_path, store_url, capsys) -> None:
    raw = make_mail(attachments=[("a.bin", "application/octet-stream", os.urandom(5000))])
    run(tmp_path, store_url, capsys, [raw])
    att = Attachment.get()
    att.digest = "0" * 64
    with pytest.raises(AttachmentUnreadable, match="does not match"):
        attachment_bytes(att)


def test_a_part_stored_by_an_earlier_base64_rule_still_reads_back(tmp_path, store_url, capsys) -> None:
    """Base64 data after a completed padding is ignored now; an attachment stored when it was decoded too
    reads back as it was received (its digest says which rule gave it)."""
    raw = (b"From: alice@acme.example\r\nTo: desk@example.org\r\nSubject: Padding\r\n"
           b"Message-ID: <pad@acme.example>\r\nDate: Thu, 12 Mar 2026 09:15:00 +0100\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
           b"See the file.\r\n--b\r\nContent-Type: application/octet-stream\r\n"
           b"Content-Disposition: attachment; filename=a.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           b"QUJDRA==QUJD\r\n--b--\r\n")
    run(tmp_path, store_url, capsys, [raw])
    att = Attachment.get()
    assert attachment_bytes(att) == b"ABCD"  # the padding ends the data
    earlier = part_payload(raw, int(att.part), padding_ends=False)
    assert earlier is not None and earlier != b"ABCD"
    att.digest = hashlib.sha256(earlier).hexdigest()  # as a store written before the rule changed holds it
    assert attachment_bytes(att) == earlier


def test_codec_round_trip_and_choice() -> None:
    for data in (b"", b"short", TEXT.encode(), os.urandom(200_000), b"a" * 5_000_000):
        codec, stored = encode(data)
        assert decode(codec, stored) == data
    assert encode(TEXT.encode())[0] == ZSTD
    assert encode(os.urandom(200_000))[0] == AS_IS  # random bytes are kept as they came
    with pytest.raises(Exception, match="unknown blob codec"):
        decode(7, b"x")


def test_part_payload_finds_nothing_at_an_offset_without_a_part() -> None:
    raw = make_mail(attachments=[("a.txt", "text/plain", b"hello")])
    assert part_payload(raw, 3) is None
