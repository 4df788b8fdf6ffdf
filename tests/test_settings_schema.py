"""One settings schema: every setting declared once (settings.py), and the validator, the typed values, the
store columns, the example file and the docs follow from it."""
from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from mailticket_tui.cli import main
from mailticket_tui.setting_types import TYPES, Duration, Size
from mailticket_tui.settings import (EngineSettings, InboxSettings, NotificationRule, SmtpSettings, StoreSettings,
                                     settings_from_dict, settings_to_dict)
from mailticket_tui.settings_docs import example_toml, settings_markdown
from mailticket_tui.store.models import Inbox

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = (StoreSettings, EngineSettings, SmtpSettings, InboxSettings, NotificationRule)


def test_every_setting_is_fully_declared() -> None:
    for cls in SCHEMA:
        for setting in fields(cls):
            meta = setting.metadata
            assert meta["kind"] in TYPES, (cls.__name__, setting.name)
            assert meta["doc"].strip() and meta["group"], (cls.__name__, setting.name)
            assert (meta["kind"] == "enum") == bool(meta["choices"]), (cls.__name__, setting.name)


def test_the_committed_example_file_and_docs_are_the_generated_ones(capsys) -> None:
    assert (ROOT / "data" / "mailticket.example.toml").read_text(encoding="utf-8") == example_toml(), \
        "regenerate: mailticket config example > data/mailticket.example.toml"
    assert (ROOT / "docs" / "settings.md").read_text(encoding="utf-8") == settings_markdown(), \
        "regenerate: mailticket config example --markdown > docs/settings.md"
    assert main(["config", "example"]) == 0
    assert capsys.readouterr().out == example_toml()


def test_the_example_is_valid_and_names_every_key() -> None:
    text = example_toml()
    settings = settings_from_dict(tomllib.loads(text), "example")
    for cls in SCHEMA:
        for setting in fields(cls):
            assert f"\n{setting.name} = " in text or f"\n# {setting.name} = " in text, setting.name
    assert settings.inboxes[0].name == "support" and settings.engine == EngineSettings()
    docs = settings_markdown()
    assert all(f"| `{s.name}` |" in docs for cls in SCHEMA for s in fields(cls))
    parity = [s.name for s in fields(EngineSettings) if not s.metadata["effect"]]
    assert parity == ["imap_options", "imap_open_options", "recommended_max_allowed_packet", "inline_image_max_width"]
    assert all("no effect here" in line for line in text.splitlines() for name in parity
               if line.startswith("# ") and text.split(f"\n{name} = ")[0].endswith(line))


def test_values_are_typed_once_and_written_back_as_given() -> None:
    settings = settings_from_dict({"engine": {"maximum_email_size": "2M", "periodicity": "2m",
                                              "vanished_retention_days": 10, "images_maximum_size": "800x600",
                                              "undesired_purge_delay": "36h"}})
    engine = settings.engine
    assert isinstance(engine.maximum_email_size, Size) and engine.maximum_email_size == 2 * 1024 ** 2
    assert isinstance(engine.periodicity, Duration) and engine.periodicity == 120
    assert engine.vanished_retention_days == 10 * 86400 and engine.undesired_purge_delay == 36 * 3600
    assert engine.images_maximum_size == (800, 600)
    exported = settings_to_dict(settings)["engine"]
    assert (exported["maximum_email_size"], exported["periodicity"], exported["vanished_retention_days"],
            exported["images_maximum_size"]) == ("2M", "2m", 10, "800x600")
    assert settings_from_dict(settings_to_dict(settings)) == settings


@pytest.mark.parametrize("key, value, problem", [
    ("periodicity", "soon", "'soon' is not a duration"),
    ("periodicity", -5, "-5 is not a duration"),
    ("maximum_email_size", "10Q", "'10Q' is not a size"),
    ("images_minimum_size", "1x", "is not a size in pixels"),
])
def test_bad_values_name_their_key(key: str, value, problem: str) -> None:
    with pytest.raises(Exception) as info:
        settings_from_dict({"engine": {key: value}}, "f.toml")
    assert f"f.toml: engine.{key}: " in str(info.value) and problem in str(info.value)


def test_aliases_are_addresses() -> None:
    inbox = {"name": "a", "server": "h", "login": "l", "aliases": ["help@desk.example", "not an address"]}
    with pytest.raises(Exception, match=r"inbox\[0\] \(a\).aliases\[1\]: 'not an address' is not an email address"):
        settings_from_dict({"inbox": [inbox]})


def test_ports_are_tcp_ports() -> None:
    with pytest.raises(Exception, match=r"smtp.port: 99999 is not a TCP port"):
        settings_from_dict({"smtp": {"port": 99999}})


def test_the_store_columns_are_the_inbox_settings() -> None:
    columns = {f.name for f in Inbox._meta.sorted_fields} - {"id", "created", "updated"}
    assert columns == {s.name for s in fields(InboxSettings)}
    assert Inbox._meta.fields["name"].unique
    assert type(Inbox._meta.fields["unknown_caller_rejection_reply"]).__name__ == "TextField"


def test_inbox_timeout_reaches_the_connection(tmp_path: Path) -> None:
    """The worked example of a new inbox setting (one schema entry, one migration step): stored, read back,
    and given to the mail source; stores made before it get the 30 s used until then."""
    from mailticket_tui.engine.runner import source_config
    from mailticket_tui.store import open_store
    from mailticket_tui.store.settings_store import load_settings, save_settings

    open_store(f"sqlite:///{tmp_path / 's.db'}")
    save_settings(settings_from_dict({"inbox": [{"name": "a", "protocol": "maildir", "server": str(tmp_path),
                                                 "timeout": "2m"}]}))
    inbox = load_settings().inbox("a")
    assert inbox.timeout == 120 and settings_to_dict(load_settings())["inbox"][0]["timeout"] == "2m"
    assert source_config(inbox, load_settings()).timeout == 120.0
    assert InboxSettings().timeout == 30
