"""One inbox per folder: two inboxes reading the same mailbox would turn every mail into two tickets.

Refused with one line naming both inboxes wherever inboxes are written: a settings file (`config check`,
loading), `config import` into a store that already has inboxes, and the service the TUI form saves through.
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from mailticket_tui.cli import main
from mailticket_tui.services import open_services
from mailticket_tui.settings import InboxSettings, SettingsError, describe_mailbox, mailbox_identity, settings_from_dict
from mailticket_tui.store.models import Inbox, database_proxy

SUPPORT = {"name": "support", "server": "imap.example.com", "login": "support@example.com"}
LINE = ("inbox[1] (copy): same mailbox as inbox 'support' (imap support@example.com@imap.example.com:993 INBOX); "
        "one inbox per folder")


def problems(*inboxes: dict) -> list[str]:
    try:
        settings_from_dict({"inbox": list(inboxes)}, "f.toml")
    except SettingsError as exc:
        return exc.problems
    return []


@pytest.fixture
def close_store():
    yield
    database_proxy.close()


# ---------------------------------------------------------------- what "the same mailbox" means


@pytest.mark.parametrize("copy", [
    {"port": 993},  # 0 is the default port of the TLS mode
    {"server": "IMAP.Example.COM"},
    {"login": "Support@Example.com"},
    {"mailbox": ""},
    {"mailbox": "inbox"},
    {"server": "imap.example.com.", "port": 993, "mailbox": "Inbox"},
])
def test_the_same_imap_folder_written_differently_is_refused(copy: dict) -> None:
    assert problems(SUPPORT, {**SUPPORT, "name": "copy", **copy}) == [f"f.toml: {LINE}"]


@pytest.mark.parametrize("other", [
    {"port": 143},
    {"tls": "starttls"},  # port 0 then means 143: another service
    {"server": "imap2.example.com"},
    {"login": "sales@example.com"},
    {"mailbox": "Support"},
    {"protocol": "pop3"},
])
def test_another_folder_is_fine(other: dict) -> None:
    assert problems(SUPPORT, {**SUPPORT, "name": "other", **other}) == []


def test_imap_folders_other_than_inbox_are_case_sensitive() -> None:
    assert problems({**SUPPORT, "mailbox": "Support"}, {**SUPPORT, "name": "b", "mailbox": "support"}) == []
    assert len(problems({**SUPPORT, "mailbox": "Support"}, {**SUPPORT, "name": "b", "mailbox": "Support"})) == 1


def test_pop3_default_ports() -> None:
    pop = {"name": "p", "protocol": "pop3", "server": "pop.example.com", "login": "u"}
    assert len(problems(pop, {**pop, "name": "q", "port": 995})) == 1
    assert problems(pop, {**pop, "name": "q", "port": 110}) == []
    assert len(problems({**pop, "tls": "none"}, {**pop, "name": "q", "tls": "none", "port": 110})) == 1


def test_maildir_is_its_resolved_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "Maildir"
    root.mkdir()
    (tmp_path / "link").symlink_to(root)
    monkeypatch.chdir(tmp_path)
    a = {"name": "a", "protocol": "maildir", "server": str(root)}
    for same in ({"server": str(tmp_path / "link")}, {"server": "Maildir/"}, {"server": "./link", "mailbox": "INBOX"},
                 {"mailbox": ""}):
        found = problems(a, {**a, "name": "b", **same})
        assert len(found) == 1 and f"maildir {os.path.realpath(root)}" in found[0], same
    assert problems(a, {**a, "name": "b", "mailbox": "Archive"}) == []  # the Maildir++ subfolder .Archive
    archive = InboxSettings(name="x", protocol="maildir", server=str(root), mailbox="Archive")
    assert mailbox_identity(archive) == ("maildir", os.path.realpath(root / ".Archive"))


def test_the_line_names_both_inboxes_and_says_what_to_do() -> None:
    inbox = InboxSettings(**SUPPORT)
    assert describe_mailbox(inbox) == "imap support@example.com@imap.example.com:993 INBOX"
    three = problems(SUPPORT, {**SUPPORT, "name": "copy"}, {**SUPPORT, "name": "again"})
    assert three == [f"f.toml: {LINE}", f"f.toml: {LINE.replace('inbox[1] (copy)', 'inbox[2] (again)')}"]


# ---------------------------------------------------------------- where it is refused


def test_config_check_refuses_it(write_config, capsys) -> None:
    path = write_config("""
        [[inbox]]
        name = "support"
        server = "imap.example.com"
        login = "support@example.com"

        [[inbox]]
        name = "copy"
        server = "imap.example.com"
        port = 993
        login = "support@example.com"
        mailbox = "INBOX"
        """)
    assert main(["config", "check", str(path)]) == 2
    assert capsys.readouterr().err.strip() == f"mailticket: {path}: {LINE}"


STORED = """
    [[inbox]]
    name = "support"
    server = "imap.example.com"
    login = "support@example.com"

    [[inbox]]
    name = "sales"
    server = "imap.example.com"
    login = "sales@example.com"
    """


def test_config_import_checks_the_merged_set(write_config, store_url: str, capsys, close_store) -> None:
    assert main(["--db", store_url, "config", "import", str(write_config(STORED, "stored.toml"))]) == 0
    clash = write_config("""
        [[inbox]]
        name = "copy"
        server = "IMAP.example.com"
        login = "Support@example.com"
        mailbox = ""
        """, "clash.toml")
    capsys.readouterr()
    assert main(["--db", store_url, "config", "import", str(clash)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"mailticket: {clash}: inbox[0] (copy): same mailbox as inbox 'support' "
                   "(imap support@example.com@imap.example.com:993 INBOX); one inbox per folder")
    assert sorted(i.name for i in Inbox.select()) == ["sales", "support"]  # nothing written
    # the file may move an inbox away and give its folder to another: the merged set is what counts
    swap = write_config("""
        [[inbox]]
        name = "support"
        server = "imap.example.com"
        login = "support@example.com"
        mailbox = "Old"

        [[inbox]]
        name = "copy"
        server = "imap.example.com"
        login = "support@example.com"
        """, "swap.toml")
    assert main(["--db", store_url, "config", "import", str(swap)]) == 0
    assert main(["--db", store_url, "config", "import", str(swap)]) == 0  # idempotent: no clash with itself
    taken = write_config("""
        [[inbox]]
        name = "sales"
        server = "imap.example.com"
        login = "support@example.com"
        mailbox = "Old"
        """, "taken.toml")
    capsys.readouterr()
    assert main(["--db", store_url, "config", "import", str(taken)]) == 2
    assert "inbox[0] (sales): same mailbox as inbox 'support'" in capsys.readouterr().err


def test_the_service_refuses_a_second_inbox_on_a_folder(write_config, store_url: str, close_store) -> None:
    services = open_services(str(write_config(STORED)), store_url)
    support = services.inbox_settings("support")
    with pytest.raises(SettingsError) as info:
        services.save_inbox(replace(support, name="copy", port=993, mailbox="inbox"))
    assert info.value.problems == ["inbox 'copy': same mailbox as inbox 'support' "
                                   "(imap support@example.com@imap.example.com:993 INBOX); one inbox per folder"]
    assert str(info.value) == info.value.problems[0]  # one line, as the form and the notification show it
    assert services.settings.inbox("copy") is None
    services.save_inbox(replace(support, trace=True))  # saving an inbox again is not a clash with itself
    services.save_inbox(replace(support, name="helpdesk", trace=False), rename_from="support")  # nor renaming it
    assert services.settings.inbox("helpdesk") and services.settings.inbox("support") is None
    with pytest.raises(SettingsError, match="inbox 'sales': same mailbox as inbox 'helpdesk'"):
        services.save_inbox(replace(services.inbox_settings("sales"), login="SUPPORT@example.com"))
    with pytest.raises(SettingsError, match="inbox 'renamed': same mailbox as inbox 'helpdesk'"):
        services.save_inbox(replace(services.inbox_settings("sales"), name="renamed", login="support@example.com"),
                            rename_from="sales")
    assert sorted(i.name for i in services.reload().inboxes) == ["helpdesk", "sales"]
    assert services.inbox_settings("sales").login == "sales@example.com"


def test_maildir_inboxes_through_the_service(write_config, maildir: Path, store_url: str, close_store) -> None:
    services = open_services(str(write_config(f"""
        [[inbox]]
        name = "local"
        protocol = "maildir"
        server = "{maildir}"
        """)), store_url)
    with pytest.raises(SettingsError, match=f"same mailbox as inbox 'local' \\(maildir {maildir.resolve()}\\)"):
        services.save_inbox(InboxSettings(name="again", protocol="maildir", server=f"{maildir}/", mailbox="INBOX"))
    services.save_inbox(InboxSettings(name="archive", protocol="maildir", server=str(maildir), mailbox="Archive"))
