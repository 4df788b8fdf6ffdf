"""Settings: validation with key paths, value parsers, defaults of the reference, secrets by reference."""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from mailticket_tui.settings import (
    EngineSettings,
    InboxSettings,
    SettingsError,
    compile_pattern,
    load_settings_file,
    parse_size,
    parse_wxh,
    resolve_secret,
    settings_from_dict,
    settings_to_dict,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "mailticket.example.toml"


def problems_of(data: dict) -> list[str]:
    with pytest.raises(SettingsError) as info:
        settings_from_dict(data, "f.toml")
    return info.value.problems


def test_every_problem_is_reported_with_its_key_path() -> None:
    problems = problems_of({
        "engine": {"maximum_email_size": "10Q", "periodicty": 3, "images_minimum_size": "1x", "debug": "maybe",
                   "introductory_patterns": ["(unclosed"]},
        "inbox": [{"name": "a", "server": "x", "login": "l", "protocol": "imapp", "title_pattern": "(("}],
        "enigne": {},
    })
    text = "\n".join(problems)
    assert len(problems) == 8, text
    assert "f.toml: engine.maximum_email_size: '10Q' is not a size" in text
    assert "engine.periodicty: unknown key (did you mean 'periodicity'?)" in text
    assert "engine.images_minimum_size: '1x' is not a size in pixels" in text
    assert "engine.debug: expected true or false" in text
    assert "engine.introductory_patterns[0]: invalid regular expression" in text
    assert "inbox[0] (a).protocol: unknown value 'imapp' (did you mean 'imap'?)" in text
    assert "inbox[0] (a).title_pattern: invalid regular expression" in text
    assert "enigne: unknown section (did you mean 'engine'?)" in text


def test_inbox_cross_field_rules() -> None:
    problems = problems_of({"inbox": [
        {"name": "m", "server": "h", "login": "l", "email_storage": "move"},
        {"name": "m", "server": "h", "login": "l", "password": "a", "password_env": "B"},
        {"server": "h"},
    ]})
    text = "\n".join(problems)
    assert "target_folder: required when email_storage = \"move\"" in text
    assert "duplicate inbox name 'm'" in text
    assert "give only one of password, password_env, password_file" in text
    assert "inbox[2].name: missing" in text and "inbox[2].login: missing" in text


def test_defaults_are_the_reference_declared_ones() -> None:
    engine = EngineSettings()
    # typed once: sizes in bytes (remembering how they were written), durations in seconds, pixels as numbers
    assert engine.periodicity == 30 and engine.maximum_email_size == 10 * 1024 ** 2
    assert engine.maximum_email_size.text == "10M" and engine.trace_max_bytes == 500 * 1024
    assert engine.body_parts_order == ("text/html", "text/plain")
    assert engine.exclude_attachment_types == ("application/exe",)
    assert engine.images_minimum_size == (100, 20) and engine.images_maximum_size == ()
    assert engine.undesired_purge_delay == 7 * 86400 and engine.retention_period == 3600
    assert engine.vanished_retention_days.in_unit("d") == 30
    assert len(engine.introductory_patterns) == 3 and len(engine.multiline_delimiter_patterns) == 5
    assert engine.delimiter_patterns == {"^>.*$": False}
    inbox = InboxSettings()
    assert (inbox.behavior, inbox.email_storage, inbox.unknown_caller_behavior, inbox.error_behavior,
            inbox.import_additional_contacts, inbox.target_class) == (
        "both", "keep", "reject_email", "mark_as_error", "never", "UserRequest")


def test_value_parsers() -> None:
    assert parse_size("10M") == 10 * 1024 * 1024 and parse_size("512k") == 512 * 1024 and parse_size("0") == 0
    with pytest.raises(ValueError):
        parse_size("10Q")
    assert parse_wxh("100x20") == (100, 20) and parse_wxh("") is None
    with pytest.raises(ValueError):
        parse_wxh("100*20")
    assert compile_pattern("/^re: (.*)$/i").match("RE: hello").group(1) == "hello"
    assert compile_pattern(r"R-(\d{6})").search("[R-000042]").group(1) == "000042"


def test_kv_lines_and_tables_are_equivalent() -> None:
    base = {"name": "a", "server": "h", "login": "l"}
    lines = settings_from_dict({"inbox": [{**base, "ticket_default_values": "service_id:153\norg_id: Demo\n"}]})
    table = settings_from_dict({"inbox": [{**base, "ticket_default_values": {"service_id": "153", "org_id": "Demo"}}]})
    assert lines.inboxes[0].ticket_default_values == table.inboxes[0].ticket_default_values
    assert "'nonsense' is not 'field:value'" in "\n".join(
        problems_of({"inbox": [{**base, "stimuli": "nonsense"}]}))


def test_secrets_by_value_env_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_secret("v", "", "", "x") == "v"
    monkeypatch.setenv("MT_TEST_PW", "from-env")
    assert resolve_secret("", "MT_TEST_PW", "", "x") == "from-env"
    secret = tmp_path / "pw"
    secret.write_text("from-file\nignored\n")
    assert resolve_secret("", "", str(secret), "x") == "from-file"
    with pytest.raises(SettingsError, match="MT_MISSING is not set"):
        resolve_secret("", "MT_MISSING", "", "inbox a")
    with pytest.raises(SettingsError, match="cannot read"):
        resolve_secret("", "", str(tmp_path / "nope"), "inbox a")


def test_file_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[engine]\nperiodicity = = 3\n")
    with pytest.raises(SettingsError) as info:
        load_settings_file(bad)
    assert len(info.value.problems) == 1 and "TOML syntax error" in info.value.problems[0]
    assert "line 2" in info.value.problems[0]
    with pytest.raises(SettingsError, match="no such file"):
        load_settings_file(tmp_path / "missing.toml")


def test_example_file_is_valid_and_documents_every_key() -> None:
    settings = load_settings_file(EXAMPLE)
    text = EXAMPLE.read_text()
    for cls in (EngineSettings, InboxSettings):
        for f in fields(cls):
            assert f"\n{f.name} = " in text or f"# {f.name} = " in text, f.name
    assert settings.inboxes[0].name == "support"


def test_dict_round_trip() -> None:
    settings = load_settings_file(EXAMPLE)
    again = settings_from_dict(settings_to_dict(settings, with_secrets=True))
    assert again == settings


def test_secrets_are_left_out_of_exports_unless_asked() -> None:
    settings = settings_from_dict({"inbox": [{"name": "a", "server": "h", "login": "l", "password": "s3cret"}]})
    assert "password" not in settings_to_dict(settings)["inbox"][0]
    assert settings_to_dict(settings, with_secrets=True)["inbox"][0]["password"] == "s3cret"


def test_pop3_auth_option_is_the_default_login_method() -> None:
    from mailticket_tui.engine.runner import source_config

    settings = settings_from_dict({"engine": {"pop3_auth_option": "APOP"}, "inbox": [
        {"name": "a", "protocol": "pop3", "server": "h", "login": "l"}]})
    assert source_config(settings.inboxes[0], settings).pop3_auth == "APOP"
    plain = settings_from_dict({"inbox": [{"name": "a", "protocol": "pop3", "server": "h", "login": "l",
                                           "pop3_auth": "APOP"}]})
    assert source_config(plain.inboxes[0], plain).pop3_auth == "APOP"
