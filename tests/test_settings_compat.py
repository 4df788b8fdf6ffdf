"""Settings files written with the reference's spellings (iTop "Mail to ticket automation"): read as ours by
every path (config check with one note per translation, config import, loading), the same Settings as the
snake_case file; unknown keys and ambiguous values still go to the validator. Also the reference's
target_class values (the Change subclasses) through a Maildir run."""
from __future__ import annotations

import copy
import json
import tomllib
from dataclasses import fields

import pytest

from mailticket_tui.cli import main
from mailticket_tui.settings import (
    EngineSettings,
    InboxSettings,
    SettingsError,
    SmtpSettings,
    load_settings_file,
    settings_from_dict,
)
from mailticket_tui.settings_compat import (
    STRICT_BOOLS,
    load_settings_file_with_notes,
    settings_from_dict_with_notes,
    translate_reference_spellings,
)
from mailticket_tui.store.models import Ticket

from .mailgen import make_mail

REFERENCE = """
[engine]
introductory-patterns = ['^on .+ wrote:$']
undesired-purge-delay = 3
pop3_auth_option = "apop"
body_parts_order = "text/plain,text/html"
inline_image_max_width = "400"
debug = "Yes"

[ticket-log]
RoutineChange = "private_log"

[org_domains]
"acme-corp.example" = "ACME"

[[inbox]]
name = "support"
protocol = "POP3"
server = "pop.example.org"
port = 995
login = "support@example.org"
password = "s3cret"
active = "yes"
trace = "no"
email-storage = "Delete"
pop3-auth = "CRAM-MD5"
target-class = "RoutineChange"
behavior = "Both"
error-behavior = "mark_as_error"
unknown-caller-behavior = "Create_Contact"
ticket-default-values = "service-id:153\\norg_id:Demo"
"""

SNAKE = """
[engine]
introductory_patterns = ['^on .+ wrote:$']
undesired_purge_delay = 3
pop3_auth_option = "APOP"
body_parts_order = ["text/plain", "text/html"]
inline_image_max_width = 400
debug = true

[ticket_log]
RoutineChange = "private_log"

[org_domains]
"acme-corp.example" = "ACME"

[[inbox]]
name = "support"
protocol = "pop3"
server = "pop.example.org"
port = 995
login = "support@example.org"
password = "s3cret"
active = true
trace = false
email_storage = "delete"
pop3_auth = "CRAM-MD5"
target_class = "RoutineChange"
behavior = "both"
error_behavior = "mark_as_error"
unknown_caller_behavior = "create_contact"
ticket_default_values = "service-id:153\\norg_id:Demo"
"""


def run(*argv: str) -> int:
    return main(list(argv))


def problems_of(doc: dict) -> str:
    with pytest.raises(SettingsError) as err:
        settings_from_dict(doc, "f.toml")
    return "\n".join(err.value.problems)


def inbox(**fields_) -> dict:
    return {"name": "support", "server": "h", "login": "l", **fields_}


# ---- the reference file, through every path ---------------------------------------------------------
def test_reference_file_gives_the_same_settings_as_the_snake_case_file(write_config) -> None:
    reference = load_settings_file(write_config(REFERENCE, "reference.toml"))
    snake = load_settings_file(write_config(SNAKE, "snake.toml"))
    assert reference == snake
    assert reference.inboxes[0].email_storage == "delete" and reference.inboxes[0].pop3_auth == "CRAM-MD5"
    assert reference.ticket_log["RoutineChange"] == "private_log"
    assert reference.org_domains == {"acme-corp.example": "ACME"}  # data keys keep their hyphens
    assert reference.inboxes[0].ticket_default_values == {"service-id": "153", "org_id": "Demo"}


def test_config_check_prints_each_translation_before_ok(write_config, capsys) -> None:
    path = write_config(REFERENCE, "reference.toml")
    assert run("config", "check", str(path)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == f"{path}: OK (1 inboxes)"
    assert all(line.startswith(f"{path}: ") for line in lines)
    notes = [line[len(f"{path}: "):] for line in lines[:-1]]
    for expected in [
        "ticket-log: read as ticket_log (reference spelling)",
        "engine.introductory-patterns: read as introductory_patterns (reference spelling)",
        'engine.pop3_auth_option: "apop" read as "APOP"',
        'engine.body_parts_order: "text/plain,text/html" read as ["text/plain", "text/html"]',
        'engine.inline_image_max_width: "400" read as 400',
        'engine.debug: "Yes" read as true',
        "inbox[0] (support).email-storage: read as email_storage (reference spelling)",
        'inbox[0] (support).email_storage: "Delete" read as "delete"',
        "inbox[0] (support).pop3-auth: read as pop3_auth (reference spelling)",
        "inbox[0] (support).target-class: read as target_class (reference spelling)",
        'inbox[0] (support).active: "yes" read as true',
        'inbox[0] (support).trace: "no" read as false',
        'inbox[0] (support).protocol: "POP3" read as "pop3"',
        'inbox[0] (support).unknown_caller_behavior: "Create_Contact" read as "create_contact"',
    ]:
        assert expected in notes, expected
    assert len(notes) == 19  # one per translation, nothing else


def test_snake_case_file_checks_without_notes(write_config, capsys) -> None:
    path = write_config(SNAKE, "snake.toml")
    assert run("config", "check", str(path)) == 0
    assert capsys.readouterr().out == f"{path}: OK (1 inboxes)\n"


def test_config_import_accepts_the_reference_file_silently(write_config, store_url, capsys) -> None:
    path = write_config(REFERENCE, "reference.toml")
    assert run("--db", store_url, "config", "import", str(path)) == 0
    out = capsys.readouterr().out
    assert out == f"imported {path}: 1 inboxes in the store\n"
    assert run("--db", store_url, "config", "export") == 0
    exported = tomllib.loads(capsys.readouterr().out)
    (box,) = exported["inbox"]
    assert (box["email_storage"], box["pop3_auth"], box["target_class"], box["active"]) == (
        "delete", "CRAM-MD5", "RoutineChange", True)
    assert exported["engine"]["pop3_auth_option"] == "APOP"
    assert settings_from_dict(exported).inboxes[0].protocol == "pop3"


def test_with_notes_functions_return_what_plain_loading_returns(write_config) -> None:
    path = write_config(REFERENCE, "reference.toml")
    settings, notes = load_settings_file_with_notes(path)
    assert settings == load_settings_file(path) and len(notes) == 19
    doc = tomllib.loads(REFERENCE)
    again, same_notes = settings_from_dict_with_notes(doc, str(path))
    assert again == settings and same_notes == notes
    _, none = settings_from_dict_with_notes(tomllib.loads(SNAKE))
    assert none == []


def test_translation_is_pure_and_idempotent() -> None:
    doc = tomllib.loads(REFERENCE)
    before = copy.deepcopy(doc)
    translated, notes = translate_reference_spellings(doc)
    assert doc == before and notes
    assert translate_reference_spellings(translated) == (translated, [])


# ---- what the translation reads from the schema ------------------------------------------------------
@pytest.mark.parametrize("cls, section", [(InboxSettings, "inbox"), (EngineSettings, "engine"), (SmtpSettings, "smtp")])
def test_every_bool_field_reads_the_reference_spellings(cls, section) -> None:
    bools = [f.name for f in fields(cls) if f.metadata["kind"] == "bool" and f.name not in STRICT_BOOLS]
    assert bools
    for written, meant in [("yes", True), ("NO", False), ("True", True), ("false", False), ("on", True),
                           ("Off", False), ("1", True), ("0", False), (1, True), (0, False)]:
        table = {name: written for name in bools}
        doc = {"inbox": [inbox(**table)]} if section == "inbox" else {section: table}
        translated, notes = translate_reference_spellings(doc)
        got = translated["inbox"][0] if section == "inbox" else translated[section]
        assert all(got[name] is meant for name in bools), written
        assert len(notes) == len(bools)


def test_every_enum_choice_is_matched_case_insensitively() -> None:
    for cls, section in [(InboxSettings, "inbox"), (EngineSettings, "engine"), (SmtpSettings, "smtp")]:
        for f in fields(cls):
            if f.metadata["kind"] != "enum":
                continue
            for choice in f.metadata["choices"]:
                for written in (choice.upper(), choice.lower(), choice.title()):
                    doc = {"inbox": [inbox(**{f.name: written})]} if section == "inbox" else {section: {f.name: written}}
                    translated, _ = translate_reference_spellings(doc)
                    got = translated["inbox"][0] if section == "inbox" else translated[section]
                    assert got[f.name] == choice, (f.name, written)


def test_hyphenated_keys_at_every_level_of_the_schema() -> None:
    doc = {"smtp": {"verify-certificate": False}, "store": {"url": ""}, "org-domains": {"a-b.example": "AB"},
           "engine": {"html-tags-to-remove": {"div": ["gmail-quote"]}, "delimiter-patterns": {"^-- $": True}}}
    settings, notes = settings_from_dict_with_notes(doc)
    assert settings.smtp.verify_certificate is False
    assert settings.org_domains == {"a-b.example": "AB"}
    assert settings.engine.html_tags_to_remove == {"div": ("gmail-quote",)}  # values and data keys untouched
    assert settings.engine.delimiter_patterns == {"^-- $": True}
    assert notes == ["org-domains: read as org_domains (reference spelling)",
                     "smtp.verify-certificate: read as verify_certificate (reference spelling)",
                     "engine.html-tags-to-remove: read as html_tags_to_remove (reference spelling)",
                     "engine.delimiter-patterns: read as delimiter_patterns (reference spelling)"]


# ---- left for the validator --------------------------------------------------------------------------
def test_unknown_keys_still_get_did_you_mean() -> None:
    text = problems_of({"engine": {"introductory-patern": []}, "inbox": [inbox(**{"emial-storage": "keep"})],
                        "ticket-logs": {}})
    assert "engine.introductory-patern: unknown key (did you mean 'introductory_patterns'?)" in text
    assert "inbox[0] (support).emial-storage: unknown key (did you mean 'email_storage'?)" in text
    assert "ticket-logs: unknown section (did you mean 'ticket_log'?)" in text


def test_both_spellings_of_one_key_is_left_for_the_validator() -> None:
    doc = {"inbox": [inbox(**{"email-storage": "delete", "email_storage": "keep"})]}
    translated, notes = translate_reference_spellings(doc)
    assert translated == doc and notes == []
    assert "email-storage: unknown key (did you mean 'email_storage'?)" in problems_of(doc)


@pytest.mark.parametrize("fields_, expected", [
    ({"active": "maybe"}, "active: expected true or false, got str 'maybe'"),
    ({"active": 2}, "active: expected true or false, got int 2"),
    ({"email_storage": "Remove"}, "email_storage: unknown value 'Remove'"),
    ({"port": "99x"}, "port: expected an integer"),
    ({"port": "-1"}, "port: expected an integer"),
])
def test_values_that_are_not_reference_spellings_are_left_as_written(fields_, expected) -> None:
    doc = {"inbox": [inbox(**fields_)]}
    assert translate_reference_spellings(doc) == (doc, [])
    assert expected in problems_of(doc)


@pytest.mark.parametrize("written", ["true", "yes", 1])
def test_aggregate_replies_spelled_loosely_is_ambiguous(written) -> None:
    """The reference tests it with `=== true`: "true" or 1 there silently means off, here the writer meant on."""
    doc = {"engine": {"aggregate_replies": written}}
    assert translate_reference_spellings(doc) == (doc, [])
    assert "engine.aggregate_replies: expected true or false" in problems_of(doc)


def test_regex_lists_and_tables_are_never_split_or_renamed() -> None:
    doc = {"engine": {"undesired_subject_patterns": "^a,b$"}, "ticket_log": {"routinechange": "public_log"}}
    assert translate_reference_spellings(doc) == (doc, [])
    text = problems_of(doc)
    assert "undesired_subject_patterns: expected a list of strings" in text
    assert "ticket_log.routinechange: unknown class" in text


def test_digest_md5_is_accepted_with_a_note_saying_it_will_be_refused(write_config, capsys) -> None:
    path = write_config('[[inbox]]\nname = "p"\nprotocol = "pop3"\nserver = "h"\nlogin = "l"\n'
                        'pop3-auth = "digest-md5"\n')
    assert run("config", "check", str(path)) == 0
    out = capsys.readouterr().out
    assert f'{path}: inbox[0] (p).pop3_auth: "digest-md5" read as "DIGEST-MD5"\n' in out
    assert 'inbox[0] (p).pop3_auth: "DIGEST-MD5" is obsolete (RFC 6331)' in out and "use CRAM-MD5" in out
    assert out.endswith(f"{path}: OK (1 inboxes)\n")


def test_a_broken_reference_file_reports_problems_not_notes(write_config, capsys) -> None:
    path = write_config('[[inbox]]\nname = "p"\nserver = "h"\nlogin = "l"\nemail-storage = "Delete"\n'
                        'email_storage = "keep"\n')
    assert run("config", "check", str(path)) == 2
    out, err = capsys.readouterr()
    assert out == "" and "email-storage: unknown key (did you mean 'email_storage'?)" in err


# ---- the reference's ticket classes ------------------------------------------------------------------
@pytest.mark.parametrize("klass", ["RoutineChange", "NormalChange", "EmergencyChange"])
def test_change_subclasses_are_ticket_classes(klass) -> None:
    settings = settings_from_dict({"ticket_log": {klass: "private_log"}, "inbox": [inbox(target_class=klass)]})
    assert settings.inboxes[0].target_class == klass and settings.ticket_log[klass] == "private_log"


def test_normal_change_inbox_creates_a_normal_change_with_a_c_ref(write_config, maildir, store_url, capsys) -> None:
    (maildir / "new" / "1.M1.test").write_bytes(make_mail(subject="Upgrade the mail server"))
    config = write_config(f"""
        [[inbox]]
        name = "changes"
        protocol = "maildir"
        server = "{maildir}"
        unknown-caller-behavior = "create_contact"
        target-class = "NormalChange"
        """)
    assert run("--config", str(config), "--db", store_url, "run", "--once") == 0
    capsys.readouterr()
    assert run("--db", store_url, "tickets", "list", "--json") == 0
    (ticket,) = json.loads(capsys.readouterr().out)
    assert ticket["class"] == "NormalChange" and ticket["status"] == "new"
    assert ticket["ref"].startswith("C-") and len(ticket["ref"]) == 8
    assert Ticket.get().klass == "NormalChange"
