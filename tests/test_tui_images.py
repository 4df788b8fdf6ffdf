"""Images in the TUI: a ticket's inline image drawn in place in Unicode half blocks (a snapshot), `i` turning
images into `[image: name WxH]` lines and back, a broken image shown as its line, the full-screen viewer
and saving from it (0600, never over an existing file without a yes)."""
from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest
from PIL import Image
from textual.widgets import Input, OptionList, Static, TabbedContent

from mailticket_tui.app import build_app
from mailticket_tui.screens.attachment_viewer import AttachmentViewerScreen
from mailticket_tui.screens.message_detail import MessageDetailScreen
from mailticket_tui.screens.save_file import SaveFileScreen
from mailticket_tui.screens.ticket_detail import TicketDetailScreen
from mailticket_tui.store.models import Attachment, CaseLogEntry, Ticket
from mailticket_tui.widgets.inline_image import InlineImage

from .attachment_fixtures import html_mail, png_claiming
from .test_tui_snapshots import steady
from .test_tui_support import WHEN, add_messages, add_ticket, blob, maildir_inbox, make_maildir, open_store, settle


def picture() -> bytes:
    """320x160: three coloured blocks, so the half blocks show where each one lands."""
    img = Image.new("RGB", (320, 160), (220, 40, 40))
    img.paste((40, 90, 220), (160, 0, 320, 160))
    img.paste((40, 180, 60), (0, 80, 160, 160))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def store_with_image(tmp_path: Path, mode: str = "halfcell", relative: bool = False):
    engine = f'[engine]\nterminal_images = "{mode}"\n'
    inbox = maildir_inbox("support", Path("Maildir") if relative else make_maildir(tmp_path / "Maildir"))
    if relative:
        make_maildir(tmp_path / "Maildir")
    services = open_store(tmp_path, engine + inbox, relative=relative)
    ticket = add_ticket("R-000001", "Screen flickers", inbox="support")
    Ticket.update(description='<p>The screen shows this:</p><img src="cid:shot@acme" alt="shot">'
                              '<p>It started on Monday.</p>').where(Ticket.id == ticket.id).execute()
    data = picture()
    Attachment.create(ticket=ticket, filename="shot.png", content_type="image/png", size=len(data),
                      blob=blob(data), inline=True, content_id="shot@acme", content_id_aliases="again@acme")
    CaseLogEntry.create(ticket=ticket, author_name="Alice", author_email="alice@acme.example", date=WHEN,
                        html='<p>Same again:</p><img src="cid:again@acme"><p>Bye</p>')  # a reply's deduplicated image
    Attachment.create(ticket=ticket, filename="broken.png", content_type="image/png", size=9,
                      blob=blob(b"\x89PNG junk"), inline=False)
    return services


@pytest.fixture
def app(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return build_app(store_with_image(tmp_path, relative=True), start_engine=False)


def test_ticket_with_inline_image_in_half_blocks(snap_compare, app) -> None:
    assert snap_compare(app, terminal_size=(80, 36), run_before=steady("3", "enter"))


def _texts(screen) -> str:
    return "\n".join(str(w.visual) for w in screen.query(Static))


async def test_images_toggle_view_and_save(tmp_path: Path) -> None:
    app = build_app(store_with_image(tmp_path), start_engine=False)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, TicketDetailScreen)
        images = list(detail.query("#ticket-description InlineImage"))
        assert [i.shown.name for i in images] == ["shot.png", "broken.png"]  # in place, then the attached one
        caselog = detail.query_one("#ticket-caselog")
        assert [i.shown.name for i in caselog.query(InlineImage)] == ["shot.png"]  # the reply's cid, by its alias
        log_text = _texts(caselog)
        assert log_text.index("Same again:") < log_text.index("[image: shot.png 320x160]") < log_text.index("Bye")
        assert "It still jams." in log_text
        assert images[0].shown.picture is not None and images[0].query(".inline-picture")
        assert images[1].shown.picture is None  # broken: its line, no crash
        text = _texts(detail)
        assert text.index("The screen shows this:") < text.index("[image: shot.png 320x160]") < text.index("Monday")
        assert "[image: broken.png (not readable)]" in text

        await pilot.press("i")
        await settle(pilot)
        assert not detail.query(".inline-picture") and "[image: shot.png 320x160]" in _texts(detail)
        await pilot.press("i")
        await settle(pilot)
        assert detail.query(".inline-picture")

        await pilot.press("right_square_bracket", "right_square_bracket", "right_square_bracket")
        assert detail.query_one(TabbedContent).active == "attachments"
        options = detail.query_one("#ticket-attachments", OptionList)
        options.focus()
        options.highlighted = 1  # shot.png (report.pdf comes first)
        await pilot.press("v")
        await settle(pilot)
        viewer = app.screen
        assert isinstance(viewer, AttachmentViewerScreen) and viewer.attachment.filename == "shot.png"
        assert viewer.query(".inline-picture")

        existing = tmp_path / "taken.png"
        existing.write_bytes(b"mine")
        await pilot.press("s")
        assert isinstance(app.screen, SaveFileScreen)
        app.screen.query_one(Input).value = str(existing)
        await pilot.press("enter")
        await pilot.press("escape")  # the "replace?" question: no
        await settle(pilot)
        assert existing.read_bytes() == b"mine"
        target = tmp_path / "out" / "shot.png"
        target.parent.mkdir()
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        assert target.read_bytes() == picture() and stat.S_IMODE(target.stat().st_mode) == 0o600
        assert list(target.parent.iterdir()) == [target]


async def test_message_detail_shows_the_mails_images_in_place(tmp_path: Path) -> None:
    services = store_with_image(tmp_path)
    raw = html_mail('<p>Look [@click=app.quit]here[/]:</p><img src="cid:pic@acme"><p>Thanks</p>',
                    inline=[("pic@acme", "pic.png", "image/png", picture())],
                    attachments=[("bomb.png", "image/png", png_claiming(20000, 20000))])
    [message_id] = add_messages("support", 1, raw=raw)
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(100, 40)) as pilot:
        await app.push_screen(MessageDetailScreen(message_id))
        await settle(pilot)
        screen = app.screen
        assert [i.shown.name for i in screen.query(InlineImage)] == ["pic.png", "bomb.png"]
        assert screen.query(".inline-picture")  # the inline one drawn; the bomb only as its line
        text = _texts(screen)
        assert text.index("Look [@click=app.quit]here[/]:") < text.index("[image: pic.png 320x160]") < text.index("Thanks")
        assert "[image: bomb.png (not readable)]" in text
        await pilot.press("i")
        await settle(pilot)
        assert not screen.query(".inline-picture")


def coloured(rgb: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 160), rgb).save(out, format="PNG")
    return out.getvalue()


async def test_two_mails_sharing_a_content_id_each_show_their_own_image(tmp_path: Path) -> None:
    """Outlook names every mail's first image "image001.png@..."-like; a client reusing one Content-ID for
    different images in a thread must not show the first mail's image in the reply."""
    maildir = make_maildir(tmp_path / "Maildir")
    services = open_store(tmp_path, '[engine]\nterminal_images = "halfcell"\n' + maildir_inbox("support", maildir))
    first = html_mail('<p>Red:</p><img src="cid:image001">', inline=[("image001", "red.png", "image/png",
                                                                       coloured((220, 0, 0)))],
                      subject="Colours", message_id="<colours-1@acme.example>")
    reply = html_mail('<p>Blue:</p><img src="cid:image001">', inline=[("image001", "blue.png", "image/png",
                                                                        coloured((0, 0, 220)))],
                      subject="Re: Colours", message_id="<colours-2@acme.example>",
                      in_reply_to="<colours-1@acme.example>")
    for n, raw in enumerate((first, reply)):
        (maildir / "new" / f"{n}.M{n}.test").write_bytes(raw)
        services.run_once()
    ticket = Ticket.get(Ticket.title == "Colours")
    assert Attachment.select().where(Attachment.ticket == ticket).count() == 2
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(100, 40)) as pilot:
        await app.push_screen(TicketDetailScreen(ticket.ref))
        await settle(pilot)
        detail = app.screen
        assert [i.shown.name for i in detail.query("#ticket-description InlineImage")][0] == "red.png"  # in place
        assert [i.shown.name for i in detail.query_one("#ticket-caselog").query(InlineImage)] == ["blue.png"]
