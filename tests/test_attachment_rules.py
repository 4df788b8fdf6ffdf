"""Attachments on tickets, end to end through `run --once` on a Maildir: each file once per ticket across a
thread (and its Content-ID still resolving), unique display names, signature logos dropped with their
<img>, big images resized upright and without metadata, excluded types caught by their bytes (dropped
with a note, or the mail set aside), TNEF unpacked, too-big files sent to big_files_dir."""
from __future__ import annotations

import io
import json
import stat
from pathlib import Path

from PIL import Image

from mailticket_tui.cli import main
from mailticket_tui.engine.inline_parts import resolve_cid
from mailticket_tui.engine.ticket_files import attachment_bytes, unique_name
from mailticket_tui.store.models import Attachment, CaseLogEntry, MailMessage, Ticket

from .attachment_fixtures import EXE, html_mail, image, tnef

LOGO = image(200, 60, color=(10, 80, 160))  # big enough to stay (images_minimum_size 100x20)
PDF = b"%PDF-1.4\n" + b"report " * 50


def run(tmp_path: Path, store_url: str, capsys, mails: list[bytes], inbox: str = "", **engine) -> str:
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    for raw in mails:
        (maildir / "new" / f"{len(list((maildir / 'new').iterdir()))}.M.test").write_bytes(raw)
    head = "[engine]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in engine.items())
    config = tmp_path / "mailticket.toml"
    config.write_text(head + f'[[inbox]]\nname = "local"\nprotocol = "maildir"\nserver = "{maildir}"\n'
                      f'unknown_caller_behavior = "create_contact"\n{inbox}', encoding="utf-8")
    capsys.readouterr()
    main(["--db", store_url, "config", "import", str(config)])
    assert main(["--db", store_url, "run", "--once"]) in (0, 1)
    return capsys.readouterr().out


def rows(ticket: Ticket | None = None) -> list[Attachment]:
    query = Attachment.select().order_by(Attachment.id)
    return list(query.where(Attachment.ticket == ticket) if ticket else query)


def test_a_reply_repeating_files_adds_only_the_new_one(tmp_path, store_url, capsys) -> None:
    reply_repeating_files(tmp_path, store_url, capsys)


def test_a_reply_repeating_files_on_postgresql(tmp_path, pg_store, capsys) -> None:
    reply_repeating_files(tmp_path, pg_store, capsys)


def reply_repeating_files(tmp_path, store_url, capsys) -> None:
    first = html_mail('<p>Jammed.</p><img src="cid:logo-1@acme">', inline=[("logo-1@acme", "logo.png", "image/png", LOGO)],
                      attachments=[("report.pdf", "application/pdf", PDF)], message_id="<t1@acme.example>")
    run(tmp_path, store_url, capsys, [first])
    reply = html_mail('<p>Still jammed.</p><img src="cid:logo-2@acme">',
                      inline=[("logo-2@acme", "image001.png", "image/png", LOGO)],
                      attachments=[("report.pdf", "application/pdf", PDF), ("report-copy.pdf", "application/pdf", PDF),
                                   ("photo.jpg", "image/jpeg", image(300, 200, "JPEG"))],
                      subject="Re: Printer jams", message_id="<t2@acme.example>", in_reply_to="<t1@acme.example>")
    run(tmp_path, store_url, capsys, [reply])
    (ticket,) = Ticket.select()
    stored = rows(ticket)
    assert [r.filename for r in stored] == ["logo.png", "report.pdf", "photo.jpg"]  # 3 distinct files, 3 rows
    assert len({r.digest for r in stored}) == 3
    logo = resolve_cid(stored, "logo-2@acme")  # the reply's cid resolves to the first mail's row
    assert logo is not None and logo.filename == "logo.png" and logo.content_id == "logo-1@acme"
    assert "cid:logo-2@acme" in CaseLogEntry.get(CaseLogEntry.ticket == ticket).html


def test_generated_names_are_unique_per_ticket(tmp_path, store_url, capsys) -> None:
    first = html_mail("<p>two shots</p>", inline=[("a@x", "", "image/png", image(300, 100)),
                                                 ("b@x", "", "image/png", image(300, 101))],
                      message_id="<g1@acme.example>")
    reply = html_mail("<p>one more</p>", inline=[("c@x", "", "image/png", image(300, 102))], subject="Re: Printer jams",
                      message_id="<g2@acme.example>", in_reply_to="<g1@acme.example>")
    run(tmp_path, store_url, capsys, [first])
    run(tmp_path, store_url, capsys, [reply])
    assert [r.filename for r in rows()] == ["image001.png", "image002.png", "image003.png"]
    assert [r.original_filename for r in rows()] == ["", "", ""]
    taken = {"report.pdf", "report (2).pdf"}
    assert unique_name("Report.pdf", taken) == "Report (3).pdf" and unique_name("notes", {"notes"}) == "notes (2)"


def test_signature_logo_dropped_with_its_img(tmp_path, store_url, capsys) -> None:
    raw = html_mail('<p>Hello</p><img src="cid:tiny@acme" alt="logo"><img src="cid:big@acme">',
                    inline=[("tiny@acme", "logo.png", "image/png", image(16, 16)),
                            ("big@acme", "screen.png", "image/png", image(400, 300))])
    run(tmp_path, store_url, capsys, [raw])
    (ticket,) = Ticket.select()
    assert [r.filename for r in rows()] == ["screen.png"]
    assert "cid:tiny@acme" not in ticket.description and "cid:big@acme" in ticket.description
    trace = MailMessage.get().trace
    assert "below images_minimum_size" in trace and "<img> removed" in trace


def test_big_image_resized_upright_without_metadata(tmp_path, store_url, capsys) -> None:
    photo = image(400, 200, "JPEG", orientation=6)  # stored landscape, shown rotated 90 degrees: 200x400
    raw = html_mail("<p>photo</p>", attachments=[("photo.jpg", "image/jpeg", photo)])
    run(tmp_path, store_url, capsys, [raw], images_maximum_size="100x100")
    (row,) = rows()
    with Image.open(io.BytesIO(attachment_bytes(row))) as img:
        assert img.format == "JPEG" and img.size == (50, 100)  # aspect kept, EXIF orientation applied
        assert not img.getexif() and "exif" not in img.info and "icc_profile" not in img.info
    assert row.size == len(attachment_bytes(row)) < len(photo) * 2


def test_executable_declared_as_image_is_dropped_with_a_note(tmp_path, store_url, capsys) -> None:
    raw = html_mail("<p>see picture</p>", attachments=[("cat.png", "image/png", EXE), ("ok.pdf", "application/pdf", PDF)])
    run(tmp_path, store_url, capsys, [raw])
    (ticket,) = Ticket.select()
    assert [r.filename for r in rows()] == ["ok.pdf"]
    note = CaseLogEntry.get((CaseLogEntry.ticket == ticket) & (CaseLogEntry.log == "private_log"))
    assert "cat.png" in note.html and "declared image/png" in note.html
    assert "'cat.png' excluded" in MailMessage.get().trace


def test_excluded_type_can_set_the_mail_aside(tmp_path, store_url, capsys) -> None:
    raw = html_mail("<p>see picture</p>", attachments=[("cat.png", "image/png", EXE)])
    run(tmp_path, store_url, capsys, [raw], inbox='excluded_attachment_behavior = "set_aside"\n')
    assert Ticket.select().count() == 0 and Attachment.select().count() == 0
    record = MailMessage.get()
    assert record.status == "error" and "excluded type" in record.error


def test_tnef_files_become_attachments(tmp_path, store_url, capsys) -> None:
    container = tnef([("minutes.txt", b"minutes of the meeting"), ("plan.pdf", PDF)])
    raw = html_mail("<p>from Outlook</p>", attachments=[("winmail.dat", "application/ms-tnef", container)])
    run(tmp_path, store_url, capsys, [raw])
    assert [(r.filename, r.content_type) for r in rows()] == [("minutes.txt", "text/plain"),
                                                             ("plan.pdf", "application/pdf")]


def test_too_big_attachment_goes_to_big_files_dir(tmp_path, store_url, capsys) -> None:
    big_dir = tmp_path / "big"
    payload = b"%PDF-1.4\n" + bytes(range(256)) * 40
    raw = html_mail("<p>scan</p>", attachments=[("../scan.pdf", "application/pdf", payload),
                                                ("small.txt", "text/plain", b"small")])
    run(tmp_path, store_url, capsys, [raw], attachment_maximum_size="2K", big_files_dir=str(big_dir))
    names = [r.filename for r in rows()]
    assert names == ["warning-scan.pdf.txt", "small.txt"]
    (saved,) = big_dir.iterdir()
    assert saved.read_bytes() == payload and stat.S_IMODE(saved.stat().st_mode) == 0o600
    warning = attachment_bytes(rows()[0]).decode()
    assert str(saved) in warning and "attachment_maximum_size" in warning
    run(tmp_path, store_url, capsys, [])  # nothing new: nothing written twice
    assert len(list(big_dir.iterdir())) == 1



def test_too_big_mail_makes_a_ticket_with_a_warning(tmp_path, store_url, capsys) -> None:
    big_dir = tmp_path / "big"
    raw = html_mail("<p>huge</p>", attachments=[("scan.pdf", "application/pdf", b"%PDF-1.4\n" + b"x" * 200_000)],
                    subject="Huge scan")
    out = run(tmp_path, store_url, capsys, [raw], maximum_email_size="100K", big_files_dir=str(big_dir),
              big_email_behavior="ticket")
    (saved,) = big_dir.iterdir()
    assert saved.read_bytes() == raw and stat.S_IMODE(saved.stat().st_mode) == 0o600
    (ticket,) = Ticket.select()
    assert ticket.title == "Huge scan" and str(saved) in ticket.description, out
    (warning,) = rows(ticket)
    assert warning.filename == "warning-big-mail.txt" and str(saved) in attachment_bytes(warning).decode()
    record = MailMessage.get()
    assert record.status == "processed" and record.size == len(raw)


def test_too_big_mail_without_big_files_dir_stays_an_error(tmp_path, store_url, capsys) -> None:
    """big_email_behavior = ticket with nowhere to save the mail: no ticket, an error record, the mail kept."""
    raw = html_mail("<p>huge</p>", attachments=[("scan.pdf", "application/pdf", b"%PDF-1.4\n" + b"x" * 200_000)],
                    subject="Huge scan")
    run(tmp_path, store_url, capsys, [raw], maximum_email_size="100K", big_email_behavior="ticket")
    assert Ticket.select().count() == 0
    record = MailMessage.get()
    assert record.status == "error" and record.error.startswith("message too big")
