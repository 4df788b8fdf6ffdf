"""Headless edge cases of the CLI: each ends in one clear line and a documented exit code (README, Commands).

Unknown inbox (2), no inbox at all (2) or every inbox paused (0), an explicit store in a missing folder (4, and
nothing created), `run -v` naming the store's #id apart from the server's name, and the "file differs" notice
only when the file says something the store does not hold.
"""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from mailticket_tui.cli import main
from mailticket_tui.store.models import MailMessage

from .conftest import make_maildir
from .mailgen import make_mail


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No settings file or store of the machine running the tests is found by accident."""
    monkeypatch.chdir(tmp_path)
    for var in ("MAILTICKET_DB", "MAILTICKET_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


def maildir_inboxes(tmp_path: Path, *names: str, extra: str = "") -> str:
    return "".join(f"""
        [[inbox]]
        name = "{name}"
        protocol = "maildir"
        server = "{make_maildir(tmp_path / f'M-{name}')}"
        unknown_caller_behavior = "create_contact"
        {extra}
        """ for name in names)


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def err_lines(capsys) -> list[str]:
    return capsys.readouterr().err.strip().splitlines()


# ------------------------------------------------------------------------------------------ run
def test_run_with_an_unknown_inbox_names_the_known_ones(tmp_path: Path, store_url: str, capsys) -> None:
    config = write(tmp_path / "m.toml", maildir_inboxes(tmp_path, "b", "a"))
    assert main(["--config", str(config), "--db", store_url, "run", "--once", "--inbox", "nosuch"]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == ["mailticket: no inbox named 'nosuch'; known: a, b"]
    assert captured.out == ""


def test_run_on_a_store_without_inbox_says_there_is_nothing_to_do(store_url: str, capsys) -> None:
    assert main(["--db", store_url, "run", "--once"]) == 2
    captured = capsys.readouterr()
    assert len(captured.err.splitlines()) == 1 and "no inbox in the store" in captured.err
    assert "config import" in captured.err and captured.out == ""


def test_run_with_every_inbox_paused_is_quiet_success(tmp_path: Path, store_url: str, capsys) -> None:
    config = write(tmp_path / "m.toml", maildir_inboxes(tmp_path, "a", extra="active = false"))
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out.splitlines() == [
        "no active inbox, nothing to do; `mailticket inbox activate NAME` resumes one"]
    # naming a paused inbox still runs it (an operator's explicit request)
    assert main(["--db", store_url, "run", "--once", "--inbox", "a"]) == 0
    assert "a: read 0" in capsys.readouterr().out


def test_run_verbose_names_the_store_number_and_the_server_identity(tmp_path: Path, store_url: str, capsys) -> None:
    config = write(tmp_path / "m.toml", maildir_inboxes(tmp_path, "local"))
    for n in (1, 2):
        (tmp_path / "M-local" / "new" / f"{n}.M{n}.test").write_bytes(make_mail(subject=f"mail {n}"))
    assert main(["--config", str(config), "--db", store_url, "run", "--once", "-v"]) == 0
    out = capsys.readouterr().out
    for n in (1, 2):
        row = MailMessage.get(MailMessage.key == f"{n}.M{n}.test")
        header = re.search(rf"^  local: message #(\d+) \(file {n}\.M{n}\.test\): processed -> (R-\d{{6}})$", out, re.M)
        assert header, out
        assert int(header.group(1)) == row.id and header.group(2) == row.ticket.ref
        # the message's decision trace follows, indented, ending with its outcome
        block = out[header.end():].split("\n  local: ")[0]
        assert "      caller: " in block and f"      outcome: create -> processed: created {row.ticket.ref}" in block
    assert "local: read 2, processed 2" in out


# ------------------------------------------------------------------------------------------ store location
@pytest.mark.parametrize("how", ["--db", "env", "file"])
def test_explicit_store_in_a_missing_folder_is_refused(tmp_path: Path, monkeypatch, capsys, how: str) -> None:
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'x.db'}"
    argv = ["inbox", "list"]
    if how == "--db":
        argv = ["--db", url, *argv]
    elif how == "env":
        monkeypatch.setenv("MAILTICKET_DB", url)
    else:
        config = write(tmp_path / "m.toml", f'[store]\nurl = "{url}"\n' + maildir_inboxes(tmp_path, "a"))
        argv = ["--config", str(config), *argv]
    assert main(argv) == 4
    lines = err_lines(capsys)
    assert len(lines) == 1 and "cannot create the store there" in lines[0] and f"{tmp_path / 'no' / 'such'}" in lines[0]
    assert not (tmp_path / "no").exists()


def test_default_store_location_is_created(tmp_path: Path, capsys) -> None:
    assert main(["inbox", "list"]) == 0
    assert (tmp_path / "xdg-data" / "mailticket" / "mailticket.db").is_file()
    # an explicit store in an existing folder is created as before (make demo, the tests)
    assert main(["--db", f"sqlite:///{tmp_path / 'fresh.db'}", "inbox", "list"]) == 0
    assert (tmp_path / "fresh.db").is_file() and capsys.readouterr().err == ""


# ------------------------------------------------------------------------------------------ file differs
def test_file_differs_notice_only_for_real_differences(tmp_path: Path, store_url: str, capsys) -> None:
    inboxes = {name: maildir_inboxes(tmp_path, name, extra='password = "first-secret"') for name in ("support", "local")}
    config = write(tmp_path / "m.toml", "[engine]\nperiodicity = 60\n" + inboxes["support"] + inboxes["local"])
    assert main(["--config", str(config), "--db", store_url, "inbox", "list"]) == 0  # bootstraps the store
    assert main(["--config", str(config), "--db", store_url, "inbox", "list"]) == 0  # the same file again
    assert capsys.readouterr().err == ""

    quiet = {
        "inboxes in another order": "[engine]\nperiodicity = 60\n" + inboxes["local"] + inboxes["support"],
        "another password by value": config.read_text().replace("first-secret", "second-secret"),
        "fewer inboxes than the store": "[engine]\nperiodicity = 60\n" + inboxes["local"],
    }
    for why, text in quiet.items():
        other = write(tmp_path / "other.toml", text)
        assert main(["--config", str(other), "--db", store_url, "inbox", "list"]) == 0
        assert capsys.readouterr().err == "", why

    changed = write(tmp_path / "other.toml", config.read_text().replace('name = "local"', 'name = "local"\nmailbox = "Archive"'))
    assert main(["--config", str(changed), "--db", store_url, "inbox", "list"]) == 0
    lines = err_lines(capsys)
    assert len(lines) == 1 and "differs from the settings in the store" in lines[0] and "config import" in lines[0]


def test_run_once_beside_a_live_daemon_is_not_a_failure(tmp_path: Path, store_url: str, capsys) -> None:
    """An inbox served by a live daemon (an open TUI, `mailticket run`) is reported and exits 0; an inbox held
    by another one-off run is still "busy" (75)."""
    from mailticket_tui.engine import leases, presence
    from mailticket_tui.store.models import Inbox

    config = write(tmp_path / "m.toml", maildir_inboxes(tmp_path, "served", "held"))
    assert main(["--config", str(config), "--db", store_url, "run", "--once"]) == 0
    capsys.readouterr()
    daemon, other_run = leases.new_owner("tui"), leases.new_owner("run")  # this process: both alive
    presence.beat(daemon, 60)
    assert leases.claim(Inbox.get(Inbox.name == "served").id, daemon, 60) is None
    assert main(["--db", store_url, "run", "--once", "--inbox", "served"]) == 0
    out = capsys.readouterr().out
    assert f"served: read 0, processed 0, errors 0, undesired 0, deleted 0, moved 0 - served by the daemon {daemon}" \
        in out and "ERROR" not in out
    assert leases.claim(Inbox.get(Inbox.name == "held").id, other_run, 60) is None  # no presence row: a run
    assert main(["--db", store_url, "run", "--once"]) == 75
    out = capsys.readouterr().out
    assert f"held: read 0, processed 0, errors 0, undesired 0, deleted 0, moved 0 - ERROR skipped: {other_run}" in out
    presence.leave(daemon)  # a daemon gone: its inbox is a plain held one
    assert main(["--db", store_url, "run", "--once", "--inbox", "served"]) == 75
