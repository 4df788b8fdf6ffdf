"""The CLI's settings commands and its one-line errors (exit 2 for settings, 4 for the store)."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from mailticket_tui.cli import main
from mailticket_tui.settings import settings_from_dict, without_secrets
from mailticket_tui.store.models import Inbox

CONFIG = """
[engine]
periodicity = 60
undesired_subject_patterns = ['^Out Of Office']

[org_domains]
"example.org" = "Example Org"

[[inbox]]
name = "support"
protocol = "imap"
server = "imap.example.org"
login = "support@example.org"
password = "s3cret"
ticket_default_values = "priority:high\\nservice_id:Email"
stimuli = { pending = "ev_reopen" }
aliases = ["help@example.org"]

[[inbox]]
name = "local"
protocol = "maildir"
server = "/var/mail/local"
"""


def run(*argv: str) -> int:
    return main(list(argv))


def test_config_check_reports_every_problem(write_config, capsys) -> None:
    path = write_config("[engine]\nmaximum_email_size = '10Q'\nperiodicty = 3\n[[inbox]]\nname='a'\nserver='h'\nlogin='l'\ntls='tsl'\n")
    assert run("config", "check", str(path)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3
    assert all(line.startswith(f"mailticket: {path}: ") for line in err)
    assert any("engine.periodicty: unknown key (did you mean 'periodicity'?)" in line for line in err)
    assert any("inbox[0] (a).tls: unknown value 'tsl'" in line for line in err)
    good = write_config(CONFIG, "good.toml")
    assert run("config", "check", str(good)) == 0
    assert "OK (2 inboxes)" in capsys.readouterr().out


def test_import_is_idempotent_and_export_round_trips(write_config, store_url, tmp_path: Path, capsys) -> None:
    path = write_config(CONFIG)
    assert run("--db", store_url, "config", "import", str(path)) == 0
    assert run("--db", store_url, "config", "import", str(path)) == 0
    assert Inbox.select().count() == 2
    capsys.readouterr()
    out = tmp_path / "export.toml"
    assert run("--db", store_url, "config", "export", "--with-secrets", "-o", str(out)) == 0
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    exported = tomllib.loads(out.read_text())
    original = settings_from_dict(tomllib.loads(path.read_text()))
    by_name = lambda settings: {i.name: i for i in settings.inboxes}  # noqa: E731
    assert by_name(settings_from_dict(exported)) == by_name(original)
    assert settings_from_dict(exported).engine == original.engine
    # import(export(x)) == x, through a second store
    second = f"sqlite:///{tmp_path / 'second.db'}"
    assert run("--db", second, "config", "import", str(out)) == 0
    out2 = tmp_path / "export2.toml"
    assert run("--db", second, "config", "export", "--with-secrets", "-o", str(out2)) == 0
    again = tomllib.loads(out2.read_text())
    assert again.pop("store") != exported.pop("store")  # each export names its own store
    assert again == exported


def test_export_without_secrets_leaves_passwords_out(write_config, store_url, capsys) -> None:
    path = write_config(CONFIG)
    run("--db", store_url, "config", "import", str(path))
    capsys.readouterr()
    assert run("--db", store_url, "config", "export") == 0
    text = capsys.readouterr().out
    assert "s3cret" not in text and "password =" not in text
    exported = settings_from_dict(tomllib.loads(text))
    expected = without_secrets(settings_from_dict(tomllib.loads(path.read_text())))
    assert sorted(exported.inboxes, key=lambda i: i.name) == sorted(expected.inboxes, key=lambda i: i.name)
    # the stored password is still there (encrypted at rest)
    from mailticket_tui.store.settings_store import load_settings

    assert load_settings().inbox("support").password == "s3cret"
    assert "s3cret" not in Inbox.get(Inbox.name == "support").password


def test_bootstrap_then_warn_when_file_differs(write_config, store_url, capsys) -> None:
    path = write_config(CONFIG)
    assert run("--config", str(path), "--db", store_url, "inbox", "list") == 0
    assert "differs" not in capsys.readouterr().err
    changed = write_config(CONFIG.replace("periodicity = 60", "periodicity = 90"), "changed.toml")
    assert run("--config", str(changed), "--db", store_url, "inbox", "list") == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "differs from the settings in the store" in err[0] and "config import" in err[0]


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--config", "/nonexistent/m.toml", "inbox", "list"], 2, "no such file"),
        (["--db", "mysqlx://x/y", "inbox", "list"], 4, "unknown scheme"),
        (["--db", "postgresql://nobody:pw@127.0.0.1:1/none", "inbox", "list"], 4, "cannot connect"),
        (["--db", "sqlite:////proc/forbidden/x.db", "inbox", "list"], 4, "cannot create"),
    ],
)
def test_bad_input_is_one_line_and_an_exit_code(args, code, needle, tmp_path: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "mailticket_tui", *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=60)
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in proc.stderr


def test_toml_syntax_error_names_the_line(write_config, tmp_path: Path) -> None:
    path = write_config("[engine]\nperiodicity = 30\nbody_parts_order = [,]\n", "broken.toml")
    proc = subprocess.run([sys.executable, "-m", "mailticket_tui", "--config", str(path), "tickets", "list"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60,
                          env={**os.environ, "XDG_DATA_HOME": str(tmp_path)})
    assert proc.returncode == 2
    assert "TOML syntax error" in proc.stderr and "line 3" in proc.stderr and "Traceback" not in proc.stderr


def test_inbox_activate_and_deactivate(write_config, store_url, capsys) -> None:
    import json

    path = write_config(CONFIG)
    assert run("--config", str(path), "--db", store_url, "inbox", "deactivate", "support") == 0
    assert "support: deactivated" in capsys.readouterr().out
    assert run("--db", store_url, "inbox", "list", "--json") == 0
    assert {i["name"]: i["active"] for i in json.loads(capsys.readouterr().out)} == {"local": True, "support": False}
    assert run("--db", store_url, "inbox", "activate", "support") == 0
    assert run("--db", store_url, "inbox", "deactivate", "nope") == 2
    assert "no inbox named 'nope'" in capsys.readouterr().err
