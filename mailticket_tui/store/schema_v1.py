"""Schema version 1, frozen: the exact DDL the first release ran, per dialect. Never edit this module.

Captured from `create_tables(ALL_MODELS)` at commit 9479708 (peewee 4.5, SQLite and PostgreSQL). The v1
migration step executes these statements instead of creating tables from the live models, so a model
changed later can never alter what version 1 means. tests/data/schema/v1_*.sql hold the same text (a
test keeps them equal) to build "a store exactly as the first release wrote it".

`DEFAULTS` are the v1 models' Python-side defaults of the NOT NULL columns (peewee writes defaults from
Python, so the DDL has none); the v2 repair of pre-release stores fills a missing column with them.
"""
from __future__ import annotations

# One statement per line, exactly as executed; the long lines are the point.
# ruff: noqa: E501

SQLITE = """\
CREATE TABLE IF NOT EXISTS "organization" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(255) NOT NULL, "domains" TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS "organization_name" ON "organization" ("name");
CREATE TABLE IF NOT EXISTS "person" ("id" INTEGER NOT NULL PRIMARY KEY, "email" VARCHAR(255) NOT NULL, "first_name" VARCHAR(255) NOT NULL, "name" VARCHAR(255) NOT NULL, "org_id" INTEGER, "phone" VARCHAR(255) NOT NULL, "active" INTEGER NOT NULL, "created" DATETIME NOT NULL, FOREIGN KEY ("org_id") REFERENCES "organization" ("id") ON DELETE SET NULL);
CREATE INDEX IF NOT EXISTS "person_email" ON "person" ("email");
CREATE INDEX IF NOT EXISTS "person_org_id" ON "person" ("org_id");
CREATE TABLE IF NOT EXISTS "service" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(255) NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS "service_name" ON "service" ("name");
CREATE TABLE IF NOT EXISTS "inbox" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(255) NOT NULL, "protocol" VARCHAR(255) NOT NULL, "server" VARCHAR(255) NOT NULL, "port" INTEGER NOT NULL, "tls" VARCHAR(255) NOT NULL, "verify_certificate" INTEGER NOT NULL, "login" VARCHAR(255) NOT NULL, "password" VARCHAR(255) NOT NULL, "password_env" VARCHAR(255) NOT NULL, "password_file" VARCHAR(255) NOT NULL, "mailbox" VARCHAR(255) NOT NULL, "active" INTEGER NOT NULL, "trace" INTEGER NOT NULL, "pop3_auth" VARCHAR(255) NOT NULL, "behavior" VARCHAR(255) NOT NULL, "email_storage" VARCHAR(255) NOT NULL, "target_folder" VARCHAR(255) NOT NULL, "target_class" VARCHAR(255) NOT NULL, "ticket_default_values" TEXT NOT NULL, "ticket_default_title" VARCHAR(255) NOT NULL, "title_pattern" VARCHAR(255) NOT NULL, "stimuli" TEXT NOT NULL, "unknown_caller_behavior" VARCHAR(255) NOT NULL, "unknown_caller_rejection_reply" TEXT NOT NULL, "caller_default_values" TEXT NOT NULL, "error_behavior" VARCHAR(255) NOT NULL, "notify_errors_to" VARCHAR(255) NOT NULL, "notify_errors_from" VARCHAR(255) NOT NULL, "import_additional_contacts" VARCHAR(255) NOT NULL, "aliases" TEXT NOT NULL, "auto_mail_behavior" VARCHAR(255) NOT NULL, "closed_ticket_behavior" VARCHAR(255) NOT NULL, "reopen_stimulus" VARCHAR(255) NOT NULL, "other_sender_behavior" VARCHAR(255) NOT NULL, "ambiguous_caller_behavior" VARCHAR(255) NOT NULL, "created" DATETIME NOT NULL, "updated" DATETIME NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS "inbox_name" ON "inbox" ("name");
CREATE TABLE IF NOT EXISTS "ticket" ("id" INTEGER NOT NULL PRIMARY KEY, "class" VARCHAR(255) NOT NULL, "ref" VARCHAR(255) NOT NULL, "title" VARCHAR(255) NOT NULL, "description" TEXT NOT NULL, "caller_id" INTEGER, "org_id" INTEGER, "origin" VARCHAR(255) NOT NULL, "status" VARCHAR(255) NOT NULL, "priority" INTEGER NOT NULL, "urgency" INTEGER NOT NULL, "impact" INTEGER NOT NULL, "service_id" INTEGER, "inbox_id" INTEGER, "parent_id" INTEGER, "created" DATETIME NOT NULL, "updated" DATETIME NOT NULL, "closed" DATETIME, FOREIGN KEY ("caller_id") REFERENCES "person" ("id") ON DELETE SET NULL, FOREIGN KEY ("org_id") REFERENCES "organization" ("id") ON DELETE SET NULL, FOREIGN KEY ("service_id") REFERENCES "service" ("id") ON DELETE SET NULL, FOREIGN KEY ("inbox_id") REFERENCES "inbox" ("id") ON DELETE SET NULL, FOREIGN KEY ("parent_id") REFERENCES "ticket" ("id") ON DELETE SET NULL);
CREATE INDEX IF NOT EXISTS "ticket_class" ON "ticket" ("class");
CREATE UNIQUE INDEX IF NOT EXISTS "ticket_ref" ON "ticket" ("ref");
CREATE INDEX IF NOT EXISTS "ticket_caller_id" ON "ticket" ("caller_id");
CREATE INDEX IF NOT EXISTS "ticket_org_id" ON "ticket" ("org_id");
CREATE INDEX IF NOT EXISTS "ticket_status" ON "ticket" ("status");
CREATE INDEX IF NOT EXISTS "ticket_service_id" ON "ticket" ("service_id");
CREATE INDEX IF NOT EXISTS "ticket_inbox_id" ON "ticket" ("inbox_id");
CREATE INDEX IF NOT EXISTS "ticket_parent_id" ON "ticket" ("parent_id");
CREATE INDEX IF NOT EXISTS "ticket_created" ON "ticket" ("created");
CREATE TABLE IF NOT EXISTS "blob" ("sha256" VARCHAR(64) NOT NULL PRIMARY KEY, "size" INTEGER NOT NULL, "data" BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS "mail_message" ("id" INTEGER NOT NULL PRIMARY KEY, "inbox_id" INTEGER NOT NULL, "folder" VARCHAR(255) NOT NULL, "uidvalidity" INTEGER NOT NULL, "uid" INTEGER, "key" VARCHAR(255) NOT NULL, "message_id" VARCHAR(255) NOT NULL, "sha256" VARCHAR(255) NOT NULL, "size" INTEGER NOT NULL, "date" DATETIME, "from_addr" VARCHAR(255) NOT NULL, "subject" TEXT NOT NULL, "status" VARCHAR(255) NOT NULL, "ticket_id" INTEGER, "error" TEXT NOT NULL, "trace" TEXT NOT NULL, "raw_id" VARCHAR(64), "first_seen" DATETIME NOT NULL, "last_seen" DATETIME NOT NULL, "processed_at" DATETIME, "disposition_pending" VARCHAR(255) NOT NULL, "on_server" INTEGER NOT NULL, "vanished_at" DATETIME, FOREIGN KEY ("inbox_id") REFERENCES "inbox" ("id") ON DELETE CASCADE, FOREIGN KEY ("ticket_id") REFERENCES "ticket" ("id") ON DELETE SET NULL, FOREIGN KEY ("raw_id") REFERENCES "blob" ("sha256") ON DELETE SET NULL);
CREATE INDEX IF NOT EXISTS "mail_message_inbox_id" ON "mail_message" ("inbox_id");
CREATE INDEX IF NOT EXISTS "mail_message_message_id" ON "mail_message" ("message_id");
CREATE INDEX IF NOT EXISTS "mail_message_sha256" ON "mail_message" ("sha256");
CREATE INDEX IF NOT EXISTS "mail_message_date" ON "mail_message" ("date");
CREATE INDEX IF NOT EXISTS "mail_message_status" ON "mail_message" ("status");
CREATE INDEX IF NOT EXISTS "mail_message_ticket_id" ON "mail_message" ("ticket_id");
CREATE INDEX IF NOT EXISTS "mail_message_raw_id" ON "mail_message" ("raw_id");
CREATE UNIQUE INDEX IF NOT EXISTS "mail_message_inbox_id_folder_uidvalidity_key" ON "mail_message" ("inbox_id", "folder", "uidvalidity", "key");
CREATE TABLE IF NOT EXISTS "attachment" ("id" INTEGER NOT NULL PRIMARY KEY, "ticket_id" INTEGER NOT NULL, "filename" VARCHAR(255) NOT NULL, "content_type" VARCHAR(255) NOT NULL, "size" INTEGER NOT NULL, "blob_id" VARCHAR(64) NOT NULL, "inline" INTEGER NOT NULL, "content_id" VARCHAR(255) NOT NULL, "message_id" INTEGER, "created" DATETIME NOT NULL, FOREIGN KEY ("ticket_id") REFERENCES "ticket" ("id") ON DELETE CASCADE, FOREIGN KEY ("blob_id") REFERENCES "blob" ("sha256") ON DELETE RESTRICT, FOREIGN KEY ("message_id") REFERENCES "mail_message" ("id") ON DELETE SET NULL);
CREATE INDEX IF NOT EXISTS "attachment_ticket_id" ON "attachment" ("ticket_id");
CREATE INDEX IF NOT EXISTS "attachment_blob_id" ON "attachment" ("blob_id");
CREATE INDEX IF NOT EXISTS "attachment_message_id" ON "attachment" ("message_id");
CREATE TABLE IF NOT EXISTS "case_log_entry" ("id" INTEGER NOT NULL PRIMARY KEY, "ticket_id" INTEGER NOT NULL, "log" VARCHAR(255) NOT NULL, "author_name" VARCHAR(255) NOT NULL, "author_email" VARCHAR(255) NOT NULL, "date" DATETIME NOT NULL, "html" TEXT NOT NULL, "message_id" VARCHAR(255) NOT NULL, FOREIGN KEY ("ticket_id") REFERENCES "ticket" ("id") ON DELETE CASCADE);
CREATE INDEX IF NOT EXISTS "case_log_entry_ticket_id" ON "case_log_entry" ("ticket_id");
CREATE TABLE IF NOT EXISTS "change" ("id" INTEGER NOT NULL PRIMARY KEY, "ticket_id" INTEGER NOT NULL, "who" VARCHAR(255) NOT NULL, "date" DATETIME NOT NULL, "fields" TEXT NOT NULL, "summary" TEXT NOT NULL, "message_id" INTEGER, FOREIGN KEY ("ticket_id") REFERENCES "ticket" ("id") ON DELETE CASCADE, FOREIGN KEY ("message_id") REFERENCES "mail_message" ("id") ON DELETE SET NULL);
CREATE INDEX IF NOT EXISTS "change_ticket_id" ON "change" ("ticket_id");
CREATE INDEX IF NOT EXISTS "change_message_id" ON "change" ("message_id");
CREATE TABLE IF NOT EXISTS "debug_trace" ("id" INTEGER NOT NULL PRIMARY KEY, "inbox_id" INTEGER NOT NULL, "date" DATETIME NOT NULL, "line" TEXT NOT NULL, FOREIGN KEY ("inbox_id") REFERENCES "inbox" ("id") ON DELETE CASCADE);
CREATE INDEX IF NOT EXISTS "debug_trace_inbox_id" ON "debug_trace" ("inbox_id");
CREATE INDEX IF NOT EXISTS "debug_trace_date" ON "debug_trace" ("date");
CREATE TABLE IF NOT EXISTS "inbox_lease" ("id" INTEGER NOT NULL PRIMARY KEY, "inbox_id" INTEGER NOT NULL, "owner" VARCHAR(255) NOT NULL, "expires" DATETIME NOT NULL, FOREIGN KEY ("inbox_id") REFERENCES "inbox" ("id") ON DELETE CASCADE);
CREATE UNIQUE INDEX IF NOT EXISTS "inbox_lease_inbox_id" ON "inbox_lease" ("inbox_id");
CREATE TABLE IF NOT EXISTS "inbox_state" ("id" INTEGER NOT NULL PRIMARY KEY, "inbox_id" INTEGER NOT NULL, "folder" VARCHAR(255) NOT NULL, "uidvalidity" INTEGER, "highest_uid" INTEGER NOT NULL, "last_success" DATETIME, "last_attempt" DATETIME, "last_error" TEXT NOT NULL, "error_streak" INTEGER NOT NULL, "last_counters" TEXT NOT NULL, FOREIGN KEY ("inbox_id") REFERENCES "inbox" ("id") ON DELETE CASCADE);
CREATE INDEX IF NOT EXISTS "inbox_state_inbox_id" ON "inbox_state" ("inbox_id");
CREATE UNIQUE INDEX IF NOT EXISTS "inbox_state_inbox_id_folder" ON "inbox_state" ("inbox_id", "folder");
CREATE TABLE IF NOT EXISTS "message_ref" ("id" INTEGER NOT NULL PRIMARY KEY, "message_id" VARCHAR(255) NOT NULL, "ticket_id" INTEGER NOT NULL, "created" DATETIME NOT NULL, FOREIGN KEY ("ticket_id") REFERENCES "ticket" ("id") ON DELETE CASCADE);
CREATE INDEX IF NOT EXISTS "message_ref_message_id" ON "message_ref" ("message_id");
CREATE INDEX IF NOT EXISTS "message_ref_ticket_id" ON "message_ref" ("ticket_id");
CREATE UNIQUE INDEX IF NOT EXISTS "message_ref_message_id_ticket_id" ON "message_ref" ("message_id", "ticket_id");
CREATE TABLE IF NOT EXISTS "outbox" ("id" INTEGER NOT NULL PRIMARY KEY, "kind" VARCHAR(255) NOT NULL, "to_addr" TEXT NOT NULL, "from_addr" VARCHAR(255) NOT NULL, "subject" TEXT NOT NULL, "body" TEXT NOT NULL, "message_id" VARCHAR(255) NOT NULL, "in_reply_to" VARCHAR(255) NOT NULL, "attach_original" INTEGER NOT NULL, "ticket_id" INTEGER, "mail_id" INTEGER, "created" DATETIME NOT NULL, "sent" DATETIME, "claimed_until" DATETIME, "attempts" INTEGER NOT NULL, "last_error" TEXT NOT NULL, FOREIGN KEY ("ticket_id") REFERENCES "ticket" ("id") ON DELETE SET NULL, FOREIGN KEY ("mail_id") REFERENCES "mail_message" ("id") ON DELETE SET NULL);
CREATE INDEX IF NOT EXISTS "outbox_ticket_id" ON "outbox" ("ticket_id");
CREATE INDEX IF NOT EXISTS "outbox_mail_id" ON "outbox" ("mail_id");
CREATE TABLE IF NOT EXISTS "schema_version" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "applied" DATETIME NOT NULL);
CREATE TABLE IF NOT EXISTS "settings_entry" ("id" INTEGER NOT NULL PRIMARY KEY, "section" VARCHAR(255) NOT NULL, "data" TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS "settings_entry_section" ON "settings_entry" ("section");
CREATE TABLE IF NOT EXISTS "ticket_contact" ("id" INTEGER NOT NULL PRIMARY KEY, "ticket_id" INTEGER NOT NULL, "person_id" INTEGER NOT NULL, FOREIGN KEY ("ticket_id") REFERENCES "ticket" ("id") ON DELETE CASCADE, FOREIGN KEY ("person_id") REFERENCES "person" ("id") ON DELETE CASCADE);
CREATE INDEX IF NOT EXISTS "ticket_contact_ticket_id" ON "ticket_contact" ("ticket_id");
CREATE INDEX IF NOT EXISTS "ticket_contact_person_id" ON "ticket_contact" ("person_id");
CREATE UNIQUE INDEX IF NOT EXISTS "ticket_contact_ticket_id_person_id" ON "ticket_contact" ("ticket_id", "person_id");
CREATE TABLE IF NOT EXISTS "ticket_event" ("id" INTEGER NOT NULL PRIMARY KEY, "ticket_id" INTEGER NOT NULL, "kind" VARCHAR(255) NOT NULL, "date" DATETIME NOT NULL, "message_id" INTEGER, "consumed" INTEGER NOT NULL, FOREIGN KEY ("ticket_id") REFERENCES "ticket" ("id") ON DELETE CASCADE, FOREIGN KEY ("message_id") REFERENCES "mail_message" ("id") ON DELETE SET NULL);
CREATE INDEX IF NOT EXISTS "ticket_event_ticket_id" ON "ticket_event" ("ticket_id");
CREATE INDEX IF NOT EXISTS "ticket_event_message_id" ON "ticket_event" ("message_id");
"""

POSTGRES = """\
CREATE TABLE IF NOT EXISTS "organization" ("id" SERIAL NOT NULL PRIMARY KEY, "name" VARCHAR(255) NOT NULL, "domains" TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS "organization_name" ON "organization" ("name");
CREATE TABLE IF NOT EXISTS "person" ("id" SERIAL NOT NULL PRIMARY KEY, "email" VARCHAR(255) NOT NULL, "first_name" VARCHAR(255) NOT NULL, "name" VARCHAR(255) NOT NULL, "org_id" INTEGER, "phone" VARCHAR(255) NOT NULL, "active" BOOLEAN NOT NULL, "created" TIMESTAMP NOT NULL, FOREIGN KEY ("org_id") REFERENCES "organization" ("id") ON DELETE SET NULL);
CREATE INDEX IF NOT EXISTS "person_email" ON "person" ("email");
CREATE INDEX IF NOT EXISTS "person_org_id" ON "person" ("org_id");
CREATE TABLE IF NOT EXISTS "service" ("id" SERIAL NOT NULL PRIMARY KEY, "name" VARCHAR(255) NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS "service_name" ON "service" ("name");
CREATE TABLE IF NOT EXISTS "inbox" ("id" SERIAL NOT NULL PRIMARY KEY, "name" VARCHAR(255) NOT NULL, "protocol" VARCHAR(255) NOT NULL, "server" VARCHAR(255) NOT NULL, "port" INTEGER NOT NULL, "tls" VARCHAR(255) NOT NULL, "verify_certificate" BOOLEAN NOT NULL, "login" VARCHAR(255) NOT NULL, "password" VARCHAR(255) NOT NULL, "password_env" VARCHAR(255) NOT NULL, "password_file" VARCHAR(255) NOT NULL, "mailbox" VARCHAR(255) NOT NULL, "active" BOOLEAN NOT NULL, "trace" BOOLEAN NOT NULL, "pop3_auth" VARCHAR(255) NOT NULL, "behavior" VARCHAR(255) NOT NULL, "email_storage" VARCHAR(255) NOT NULL, "target_folder" VARCHAR(255) NOT NULL, "target_class" VARCHAR(255) NOT NULL, "ticket_default_values" TEXT NOT NULL, "ticket_default_title" VARCHAR(255) NOT NULL, "title_pattern" VARCHAR(255) NOT NULL, "stimuli" TEXT NOT NULL, "unknown_caller_behavior" VARCHAR(255) NOT NULL, "unknown_caller_rejection_reply" TEXT NOT NULL, "caller_default_values" TEXT NOT NULL, "error_behavior" VARCHAR(255) NOT NULL, "notify_errors_to" VARCHAR(255) NOT NULL, "notify_errors_from" VARCHAR(255) NOT NULL, "import_additional_contacts" VARCHAR(255) NOT NULL, "aliases" TEXT NOT NULL, "auto_mail_behavior" VARCHAR(255) NOT NULL, "closed_ticket_behavior" VARCHAR(255) NOT NULL, "reopen_stimulus" VARCHAR(255) NOT NULL, "other_sender_behavior" VARCHAR(255) NOT NULL, "ambiguous_caller_behavior" VARCHAR(255) NOT NULL, "created" TIMESTAMP NOT NULL, "updated" TIMESTAMP NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS "inbox_name" ON "inbox" ("name");
CREATE TABLE IF NOT EXISTS "ticket" ("id" SERIAL NOT NULL PRIMARY KEY, "class" VARCHAR(255) NOT NULL, "ref" VARCHAR(255) NOT NULL, "title" VARCHAR(255) NOT NULL, "description" TEXT NOT NULL, "caller_id" INTEGER, "org_id" INTEGER, "origin" VARCHAR(255) NOT NULL, "status" VARCHAR(255) NOT NULL, "priority" INTEGER NOT NULL, "urgency" INTEGER NOT NULL, "impact" INTEGER NOT NULL, "service_id" INTEGER, "inbox_id" INTEGER, "parent_id" INTEGER, "created" TIMESTAMP NOT NULL, "updated" TIMESTAMP NOT NULL, "closed" TIMESTAMP, FOREIGN KEY ("caller_id") REFERENCES "person" ("id") ON DELETE SET NULL, FOREIGN KEY ("org_id") REFERENCES "organization" ("id") ON DELETE SET NULL, FOREIGN KEY ("service_id") REFERENCES "service" ("id") ON DELETE SET NULL, FOREIGN KEY ("inbox_id") REFERENCES "inbox" ("id") ON DELETE SET NULL, FOREIGN KEY ("parent_id") REFERENCES "ticket" ("id") ON DELETE SET NULL);
CREATE INDEX IF NOT EXISTS "ticket_class" ON "ticket" ("class");
CREATE UNIQUE INDEX IF NOT EXISTS "ticket_ref" ON "ticket" ("ref");
CREATE INDEX IF NOT EXISTS "ticket_caller_id" ON "ticket" ("caller_id");
CREATE INDEX IF NOT EXISTS "ticket_org_id" ON "ticket" ("org_id");
CREATE INDEX IF NOT EXISTS "ticket_status" ON "ticket" ("status");
CREATE INDEX IF NOT EXISTS "ticket_service_id" ON "ticket" ("service_id");
CREATE INDEX IF NOT EXISTS "ticket_inbox_id" ON "ticket" ("inbox_id");
CREATE INDEX IF NOT EXISTS "ticket_parent_id" ON "ticket" ("parent_id");
CREATE INDEX IF NOT EXISTS "ticket_created" ON "ticket" ("created");
CREATE TABLE IF NOT EXISTS "blob" ("sha256" VARCHAR(64) NOT NULL PRIMARY KEY, "size" BIGINT NOT NULL, "data" BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS "mail_message" ("id" SERIAL NOT NULL PRIMARY KEY, "inbox_id" INTEGER NOT NULL, "folder" VARCHAR(255) NOT NULL, "uidvalidity" BIGINT NOT NULL, "uid" BIGINT, "key" VARCHAR(255) NOT NULL, "message_id" VARCHAR(255) NOT NULL, "sha256" VARCHAR(255) NOT NULL, "size" BIGINT NOT NULL, "date" TIMESTAMP, "from_addr" VARCHAR(255) NOT NULL, "subject" TEXT NOT NULL, "status" VARCHAR(255) NOT NULL, "ticket_id" INTEGER, "error" TEXT NOT NULL, "trace" TEXT NOT NULL, "raw_id" VARCHAR(64), "first_seen" TIMESTAMP NOT NULL, "last_seen" TIMESTAMP NOT NULL, "processed_at" TIMESTAMP, "disposition_pending" VARCHAR(255) NOT NULL, "on_server" BOOLEAN NOT NULL, "vanished_at" TIMESTAMP, FOREIGN KEY ("inbox_id") REFERENCES "inbox" ("id") ON DELETE CASCADE, FOREIGN KEY ("ticket_id") REFERENCES "ticket" ("id") ON DELETE SET NULL, FOREIGN KEY ("raw_id") REFERENCES "blob" ("sha256") ON DELETE SET NULL);
CREATE INDEX IF NOT EXISTS "mail_message_inbox_id" ON "mail_message" ("inbox_id");
CREATE INDEX IF NOT EXISTS "mail_message_message_id" ON "mail_message" ("message_id");
CREATE INDEX IF NOT EXISTS "mail_message_sha256" ON "mail_message" ("sha256");
CREATE INDEX IF NOT EXISTS "mail_message_date" ON "mail_message" ("date");
CREATE INDEX IF NOT EXISTS "mail_message_status" ON "mail_message" ("status");
CREATE INDEX IF NOT EXISTS "mail_message_ticket_id" ON "mail_message" ("ticket_id");
CREATE INDEX IF NOT EXISTS "mail_message_raw_id" ON "mail_message" ("raw_id");
CREATE UNIQUE INDEX IF NOT EXISTS "mail_message_inbox_id_folder_uidvalidity_key" ON "mail_message" ("inbox_id", "folder", "uidvalidity", "key");
CREATE TABLE IF NOT EXISTS "attachment" ("id" SERIAL NOT NULL PRIMARY KEY, "ticket_id" INTEGER NOT NULL, "filename" VARCHAR(255) NOT NULL, "content_type" VARCHAR(255) NOT NULL, "size" BIGINT NOT NULL, "blob_id" VARCHAR(64) NOT NULL, "inline" BOOLEAN NOT NULL, "content_id" VARCHAR(255) NOT NULL, "message_id" INTEGER, "created" TIMESTAMP NOT NULL, FOREIGN KEY ("ticket_id") REFERENCES "ticket" ("id") ON DELETE CASCADE, FOREIGN KEY ("blob_id") REFERENCES "blob" ("sha256") ON DELETE RESTRICT, FOREIGN KEY ("message_id") REFERENCES "mail_message" ("id") ON DELETE SET NULL);
CREATE INDEX IF NOT EXISTS "attachment_ticket_id" ON "attachment" ("ticket_id");
CREATE INDEX IF NOT EXISTS "attachment_blob_id" ON "attachment" ("blob_id");
CREATE INDEX IF NOT EXISTS "attachment_message_id" ON "attachment" ("message_id");
CREATE TABLE IF NOT EXISTS "case_log_entry" ("id" SERIAL NOT NULL PRIMARY KEY, "ticket_id" INTEGER NOT NULL, "log" VARCHAR(255) NOT NULL, "author_name" VARCHAR(255) NOT NULL, "author_email" VARCHAR(255) NOT NULL, "date" TIMESTAMP NOT NULL, "html" TEXT NOT NULL, "message_id" VARCHAR(255) NOT NULL, FOREIGN KEY ("ticket_id") REFERENCES "ticket" ("id") ON DELETE CASCADE);
CREATE INDEX IF NOT EXISTS "case_log_entry_ticket_id" ON "case_log_entry" ("ticket_id");
CREATE TABLE IF NOT EXISTS "change" ("id" SERIAL NOT NULL PRIMARY KEY, "ticket_id" INTEGER NOT NULL, "who" VARCHAR(255) NOT NULL, "date" TIMESTAMP NOT NULL, "fields" TEXT NOT NULL, "summary" TEXT NOT NULL, "message_id" INTEGER, FOREIGN KEY ("ticket_id") REFERENCES "ticket" ("id") ON DELETE CASCADE, FOREIGN KEY ("message_id") REFERENCES "mail_message" ("id") ON DELETE SET NULL);
CREATE INDEX IF NOT EXISTS "change_ticket_id" ON "change" ("ticket_id");
CREATE INDEX IF NOT EXISTS "change_message_id" ON "change" ("message_id");
CREATE TABLE IF NOT EXISTS "debug_trace" ("id" SERIAL NOT NULL PRIMARY KEY, "inbox_id" INTEGER NOT NULL, "date" TIMESTAMP NOT NULL, "line" TEXT NOT NULL, FOREIGN KEY ("inbox_id") REFERENCES "inbox" ("id") ON DELETE CASCADE);
CREATE INDEX IF NOT EXISTS "debug_trace_inbox_id" ON "debug_trace" ("inbox_id");
CREATE INDEX IF NOT EXISTS "debug_trace_date" ON "debug_trace" ("date");
CREATE TABLE IF NOT EXISTS "inbox_lease" ("id" SERIAL NOT NULL PRIMARY KEY, "inbox_id" INTEGER NOT NULL, "owner" VARCHAR(255) NOT NULL, "expires" TIMESTAMP NOT NULL, FOREIGN KEY ("inbox_id") REFERENCES "inbox" ("id") ON DELETE CASCADE);
CREATE UNIQUE INDEX IF NOT EXISTS "inbox_lease_inbox_id" ON "inbox_lease" ("inbox_id");
CREATE TABLE IF NOT EXISTS "inbox_state" ("id" SERIAL NOT NULL PRIMARY KEY, "inbox_id" INTEGER NOT NULL, "folder" VARCHAR(255) NOT NULL, "uidvalidity" BIGINT, "highest_uid" BIGINT NOT NULL, "last_success" TIMESTAMP, "last_attempt" TIMESTAMP, "last_error" TEXT NOT NULL, "error_streak" INTEGER NOT NULL, "last_counters" TEXT NOT NULL, FOREIGN KEY ("inbox_id") REFERENCES "inbox" ("id") ON DELETE CASCADE);
CREATE INDEX IF NOT EXISTS "inbox_state_inbox_id" ON "inbox_state" ("inbox_id");
CREATE UNIQUE INDEX IF NOT EXISTS "inbox_state_inbox_id_folder" ON "inbox_state" ("inbox_id", "folder");
CREATE TABLE IF NOT EXISTS "message_ref" ("id" SERIAL NOT NULL PRIMARY KEY, "message_id" VARCHAR(255) NOT NULL, "ticket_id" INTEGER NOT NULL, "created" TIMESTAMP NOT NULL, FOREIGN KEY ("ticket_id") REFERENCES "ticket" ("id") ON DELETE CASCADE);
CREATE INDEX IF NOT EXISTS "message_ref_message_id" ON "message_ref" ("message_id");
CREATE INDEX IF NOT EXISTS "message_ref_ticket_id" ON "message_ref" ("ticket_id");
CREATE UNIQUE INDEX IF NOT EXISTS "message_ref_message_id_ticket_id" ON "message_ref" ("message_id", "ticket_id");
CREATE TABLE IF NOT EXISTS "outbox" ("id" SERIAL NOT NULL PRIMARY KEY, "kind" VARCHAR(255) NOT NULL, "to_addr" TEXT NOT NULL, "from_addr" VARCHAR(255) NOT NULL, "subject" TEXT NOT NULL, "body" TEXT NOT NULL, "message_id" VARCHAR(255) NOT NULL, "in_reply_to" VARCHAR(255) NOT NULL, "attach_original" BOOLEAN NOT NULL, "ticket_id" INTEGER, "mail_id" INTEGER, "created" TIMESTAMP NOT NULL, "sent" TIMESTAMP, "claimed_until" TIMESTAMP, "attempts" INTEGER NOT NULL, "last_error" TEXT NOT NULL, FOREIGN KEY ("ticket_id") REFERENCES "ticket" ("id") ON DELETE SET NULL, FOREIGN KEY ("mail_id") REFERENCES "mail_message" ("id") ON DELETE SET NULL);
CREATE INDEX IF NOT EXISTS "outbox_ticket_id" ON "outbox" ("ticket_id");
CREATE INDEX IF NOT EXISTS "outbox_mail_id" ON "outbox" ("mail_id");
CREATE TABLE IF NOT EXISTS "schema_version" ("id" SERIAL NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "applied" TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS "settings_entry" ("id" SERIAL NOT NULL PRIMARY KEY, "section" VARCHAR(255) NOT NULL, "data" TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS "settings_entry_section" ON "settings_entry" ("section");
CREATE TABLE IF NOT EXISTS "ticket_contact" ("id" SERIAL NOT NULL PRIMARY KEY, "ticket_id" INTEGER NOT NULL, "person_id" INTEGER NOT NULL, FOREIGN KEY ("ticket_id") REFERENCES "ticket" ("id") ON DELETE CASCADE, FOREIGN KEY ("person_id") REFERENCES "person" ("id") ON DELETE CASCADE);
CREATE INDEX IF NOT EXISTS "ticket_contact_ticket_id" ON "ticket_contact" ("ticket_id");
CREATE INDEX IF NOT EXISTS "ticket_contact_person_id" ON "ticket_contact" ("person_id");
CREATE UNIQUE INDEX IF NOT EXISTS "ticket_contact_ticket_id_person_id" ON "ticket_contact" ("ticket_id", "person_id");
CREATE TABLE IF NOT EXISTS "ticket_event" ("id" SERIAL NOT NULL PRIMARY KEY, "ticket_id" INTEGER NOT NULL, "kind" VARCHAR(255) NOT NULL, "date" TIMESTAMP NOT NULL, "message_id" INTEGER, "consumed" BOOLEAN NOT NULL, FOREIGN KEY ("ticket_id") REFERENCES "ticket" ("id") ON DELETE CASCADE, FOREIGN KEY ("message_id") REFERENCES "mail_message" ("id") ON DELETE SET NULL);
CREATE INDEX IF NOT EXISTS "ticket_event_ticket_id" ON "ticket_event" ("ticket_id");
CREATE INDEX IF NOT EXISTS "ticket_event_message_id" ON "ticket_event" ("message_id");
"""

NOW = object()  # "the time of the repair": v1 stamped these columns with utcnow() on insert

DEFAULTS: dict[str, dict[str, object]] = {
    "schema_version": {"applied": NOW},
    "inbox": {
        "protocol": "imap", "port": 0, "tls": "ssl", "verify_certificate": True, "login": "", "password": "",
        "password_env": "", "password_file": "", "mailbox": "INBOX", "active": True, "trace": False,
        "pop3_auth": "USER", "behavior": "both", "email_storage": "keep", "target_folder": "",
        "target_class": "UserRequest", "ticket_default_values": "{}", "ticket_default_title": "",
        "title_pattern": "", "stimuli": "{}", "unknown_caller_behavior": "reject_email",
        "unknown_caller_rejection_reply": "", "caller_default_values": "{}", "error_behavior": "mark_as_error",
        "notify_errors_to": "", "notify_errors_from": "", "import_additional_contacts": "never", "aliases": "[]",
        "auto_mail_behavior": "undesired", "closed_ticket_behavior": "new_linked", "reopen_stimulus": "ev_reopen",
        "other_sender_behavior": "accept", "ambiguous_caller_behavior": "first_active", "created": NOW,
        "updated": NOW,
    },
    "inbox_state": {"highest_uid": 0, "last_error": "", "error_streak": 0, "last_counters": "{}"},
    "organization": {"domains": "[]"},
    "person": {"first_name": "", "name": "", "phone": "", "active": True, "created": NOW},
    "ticket": {
        "description": "", "origin": "mail", "status": "new", "priority": 4, "urgency": 4, "impact": 3,
        "created": NOW, "updated": NOW,
    },
    "mail_message": {
        "folder": "INBOX", "uidvalidity": 0, "message_id": "", "sha256": "", "size": 0, "from_addr": "",
        "subject": "", "status": "new", "error": "", "trace": "", "first_seen": NOW, "last_seen": NOW,
        "disposition_pending": "", "on_server": True,
    },
    "message_ref": {"created": NOW},
    "case_log_entry": {"log": "public_log", "author_name": "", "author_email": "", "date": NOW, "html": "", "message_id": ""},
    "attachment": {"content_type": "application/octet-stream", "size": 0, "inline": False, "content_id": "", "created": NOW},
    "change": {"who": "", "date": NOW, "fields": "[]", "summary": ""},
    "ticket_event": {"date": NOW, "consumed": False},
    "debug_trace": {"date": NOW},
    "outbox": {
        "from_addr": "", "subject": "", "body": "", "message_id": "", "in_reply_to": "", "attach_original": False,
        "created": NOW, "attempts": 0, "last_error": "",
    },
}


def statements(dialect: str) -> list[str]:
    """The v1 statements for "sqlite" or "postgres", in the order the first release ran them."""
    text = SQLITE if dialect == "sqlite" else POSTGRES
    return [line[:-1] for line in text.splitlines() if line]
