"""Files the user names (saved .eml, attachments, `config export -o`): mode 0600, never through a symbolic
link, never over an existing file without asking (CLI: --force; TUI: a yes in the save dialog)."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList, Static

from mailticket_tui.app import build_app
from mailticket_tui.cli import main
from mailticket_tui.safe_files import UnsafeWriteError, write_private
from mailticket_tui.screens.confirm import ConfirmScreen
from mailticket_tui.screens.save_file import SaveFileScreen

from .test_tui_support import add_messages, add_ticket, mail_bytes, maildir_inbox, make_maildir, open_store, settle


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


# ------------------------------------------------------------------------------------------ the helper


def test_new_file_is_0600_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        target = write_private(tmp_path / "a.eml", b"data")
    finally:
        os.umask(old)
    assert target.read_bytes() == b"data" and mode(target) == 0o600
    assert write_private(tmp_path / "b.toml", "text é").read_text(encoding="utf-8") == "text é"


def test_existing_file_is_refused_unless_overwrite(tmp_path):
    target = tmp_path / "a.eml"
    target.write_bytes(b"old")
    target.chmod(0o644)
    with pytest.raises(UnsafeWriteError) as err:
        write_private(target, b"new")
    assert err.value.reason == "exists" and str(target) in str(err.value) and "\n" not in str(err.value)
    assert target.read_bytes() == b"old"
    write_private(target, b"new", overwrite=True)
    assert target.read_bytes() == b"new" and mode(target) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.eml"]  # no temporary file left


@pytest.mark.parametrize("overwrite", [False, True])
def test_symlink_is_never_followed(tmp_path, overwrite):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    link = tmp_path / "link.eml"
    link.symlink_to(victim)
    dangling = tmp_path / "dangling.eml"
    dangling.symlink_to(tmp_path / "created-through-link")
    for path in (link, dangling):
        with pytest.raises(UnsafeWriteError) as err:
            write_private(path, b"evil", overwrite=overwrite)
        assert err.value.reason == "symlink" and "symbolic link" in str(err.value)
    assert victim.read_bytes() == b"precious" and not (tmp_path / "created-through-link").exists()


def test_folder_is_refused_and_missing_folder_is_an_oserror(tmp_path):
    with pytest.raises(UnsafeWriteError) as err:
        write_private(tmp_path, b"x", overwrite=True)
    assert err.value.reason == "not_file"
    with pytest.raises(FileNotFoundError):
        write_private(tmp_path / "nope" / "x.eml", b"x")


# ------------------------------------------------------------------------------------------ the CLI


@pytest.fixture
def store_with_mail(tmp_path):
    open_store(tmp_path, maildir_inbox("support", make_maildir(tmp_path / "M")))
    raw = mail_bytes("Saved")
    add_messages("support", 1, raw=raw)
    return f"sqlite:///{tmp_path / 'store.db'}", raw


def test_cli_eml_is_0600_refuses_existing_without_force(store_with_mail, tmp_path, capsys):
    url, raw = store_with_mail
    target = tmp_path / "m.eml"
    assert main(["--db", url, "messages", "show", "1", "--eml", str(target)]) == 0
    assert target.read_bytes() == raw and mode(target) == 0o600
    target.write_bytes(b"mine")
    capsys.readouterr()
    assert main(["--db", url, "messages", "show", "1", "--eml", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already exists" in err and "--force" in err
    assert target.read_bytes() == b"mine"
    assert main(["--db", url, "messages", "show", "1", "--eml", str(target), "--force"]) == 0
    assert target.read_bytes() == raw and mode(target) == 0o600


def test_cli_eml_never_writes_through_a_symlink(store_with_mail, tmp_path, capsys):
    url, _ = store_with_mail
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    link = tmp_path / "m.eml"
    link.symlink_to(victim)
    for extra in ([], ["--force"]):
        assert main(["--db", url, "messages", "show", "1", "--eml", str(link), *extra]) == 2
        err = capsys.readouterr().err
        assert "symbolic link" in err and err.count("\n") == 1
    assert victim.read_bytes() == b"precious"


def test_cli_export_is_0600_and_asks_for_force(store_with_mail, tmp_path, capsys):
    url, _ = store_with_mail
    out = tmp_path / "export.toml"
    assert main(["--db", url, "config", "export", "-o", str(out)]) == 0
    assert mode(out) == 0o600 and "support" in out.read_text()
    out.write_text("# mine\n")
    capsys.readouterr()
    assert main(["--db", url, "config", "export", "--with-secrets", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err and err.count("\n") == 1
    assert out.read_text() == "# mine\n"
    assert main(["--db", url, "config", "export", "--with-secrets", "-o", str(out), "--force"]) == 0
    assert "support" in out.read_text() and mode(out) == 0o600
    assert main(["--db", url, "config", "export", "-o", str(tmp_path / "no-dir" / "x.toml")]) == 2
    assert "cannot write" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ the TUI


async def test_save_dialog_asks_before_replacing_and_refuses_links(tmp_path):
    services = open_store(tmp_path, maildir_inbox("support", make_maildir(tmp_path / "M")))
    raw = mail_bytes("Printer jams")
    [message_id] = add_messages("support", 1, raw=raw)
    existing = tmp_path / "existing.eml"
    existing.write_bytes(b"mine")
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    (tmp_path / "link.eml").symlink_to(victim)
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.open_mailbox("support", message_id)
        await settle(pilot)
        detail = app.screen

        await pilot.press("s")  # a link: refused in the dialog, which stays open
        dialog = app.screen
        assert isinstance(dialog, SaveFileScreen)
        dialog.query_one(Input).value = str(tmp_path / "link.eml")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is dialog and "symbolic link" in str(dialog.query_one("#save-problem", Static).visual)

        dialog.query_one(Input).value = str(existing)  # exists: asked; "no" keeps the file and the dialog
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and "already exists" in str(app.screen.question)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is dialog and existing.read_bytes() == b"mine"

        await pilot.press("enter")  # asked again; "yes" replaces it
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is detail
        assert existing.read_bytes() == raw and mode(existing) == 0o600

        await pilot.press("s")  # a new name: written at once, 0600
        app.screen.query_one(Input).value = str(tmp_path / "new.eml")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is detail and (tmp_path / "new.eml").read_bytes() == raw
        assert mode(tmp_path / "new.eml") == 0o600
    assert victim.read_bytes() == b"precious"


async def test_attachment_save_is_0600_and_asks_before_replacing(tmp_path):
    from textual.widgets import TabbedContent

    from mailticket_tui.screens.ticket_detail import TicketDetailScreen

    services = open_store(tmp_path, maildir_inbox("support", make_maildir(tmp_path / "M")))
    add_ticket("R-000001", inbox="support")
    target = tmp_path / "report.pdf"
    target.write_bytes(b"old")
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, TicketDetailScreen)
        detail.query_one(TabbedContent).active = "attachments"
        await settle(pilot)
        detail.query_one("#ticket-attachments", OptionList).focus()
        await pilot.press("enter")
        assert isinstance(app.screen, SaveFileScreen)
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is detail and target.read_bytes() == b"%PDF" and mode(target) == 0o600
