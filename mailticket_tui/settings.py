"""Settings: the TOML file <-> validated, frozen settings objects.

The schema is the dataclasses below: every setting declared once with `spec` (its type from
setting_types.py, default, help, form group, reference name, whether it takes effect). The validator, the
typed values the engine reads, the inbox store columns (store/models.py), the TUI forms, `config example` and
docs/settings.md (settings_docs.py) all follow from it. Validation collects every problem with its key path
instead of stopping at the first; the reference's spellings are translated first (settings_compat.py).
Secrets are given by value, by environment variable or by file; `resolve_secret` reads them when needed.
Patterns are checked by the engine's own compiler (engine/parse/safe_regex.py: one grammar, one cache), and no
two inboxes may read the same folder (`mailbox_identity`). Never imports textual or rich.
"""
from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Iterable

from .engine.parse.options import (
    DEFAULT_BODY_PARTS_ORDER,
    DEFAULT_DELIMITER_PATTERNS,
    DEFAULT_EXCLUDE_ATTACHMENT_TYPES,
    DEFAULT_HTML_TAGS_TO_REMOVE,
    DEFAULT_INTRODUCTORY_PATTERNS,
    DEFAULT_MULTILINE_DELIMITER_PATTERNS,
    ParseOptions,
)
from .engine.parse.safe_regex import PatternError, compile_pattern  # noqa: F401 - re-exported: one compiler
from .setting_types import TYPES, Duration, Size, parse_wxh, typed_default, typed_factory

__all__ = ["Duration", "Size", "PatternError", "compile_pattern", "parse_wxh"]

TICKET_CLASSES = ("UserRequest", "Incident", "Change", "RoutineChange", "NormalChange", "EmergencyChange", "Problem")


def spec(kind: str, doc: str, choices: tuple[str, ...] = (), default: Any = MISSING, factory: Any = MISSING, *,
         group: str = "", ref: str = "", effect: bool = True, unit: str = "s", unique: bool = False,
         example: Any = MISSING) -> Any:
    """One setting, declared once: its type (a name in setting_types.TYPES), help text, allowed values, default,
    the form group it belongs to, the reference's name for it when it differs (`ref`), whether it takes
    effect here (`effect=False`: kept for parity with the reference only), a duration's unit, and whether
    its store column is unique, and the value `config example` shows when it is not the default. The
    validator, the store columns, the forms, `config example` and the docs are all read from this. The
    default is given as written in a file and kept as its typed value."""
    meta = {"kind": kind, "doc": doc, "choices": choices, "group": group, "ref": ref, "effect": effect,
            "unit": unit, "unique": unique, "example": example}
    if factory is not MISSING:
        return field(default_factory=typed_factory(kind, factory, meta), metadata=meta)
    return field(default=typed_default(kind, default, meta), metadata=meta)


class SettingsError(Exception):
    """Settings could not be read or are invalid; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems[0] if len(problems) == 1 else f"{len(problems)} problems:\n" + "\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class StoreSettings:
    url: str = spec(
        "str", "Database URL: sqlite:///PATH (default, in the XDG data dir) or postgresql://USER@HOST/DB.",
        default="", group="Store", example="sqlite:///var/lib/mailticket/mailticket.db")


@dataclass(frozen=True)
class EngineSettings:
    periodicity: Duration = spec(
        "duration", "Seconds between passes of `mailticket run` and the TUI's background engine.", default=30,
        group="Polling", unit="s")
    debug: bool = spec(
        "bool", "Echo engine traces to stdout (cron logs), as `run -v` does.", default=False, group="Polling")
    notify_errors_to: str = spec(
        "email", "Admin address that receives engine-level error reports (messages too big to download).", default="",
        group="Errors")
    notify_errors_from: str = spec("email", "Sender of those reports (both must be set).", default="", group="Errors")
    retention_period: Duration = spec(
        "duration", "Hours (the reference's knob) a record is kept after its message left the server; the longer of "
        "this and vanished_retention_days applies.", default=1, group="Retention", unit="h")
    vanished_retention_days: Duration = spec(
        "duration", "Days the record of a vanished message is kept so a reappearing message is never reprocessed.",
        default=30, group="Retention", unit="d")
    body_parts_order: tuple[str, ...] = spec(
        "str_list", "MIME types tried in order for the body.", factory=lambda: DEFAULT_BODY_PARTS_ORDER,
        group="Reading mail")
    pop3_auth_option: str = spec(
        "enum", "POP3 login method of inboxes that leave pop3_auth at USER (DIGEST-MD5, obsolete, is refused).",
        ("USER", "APOP", "PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5"), default="USER", group="Polling")
    imap_options: tuple[str, ...] = spec(
        "str_list", "The reference's IMAP connection flags; here per-inbox `tls` and `verify_certificate` decide.",
        factory=lambda: ("imap",), group="Parity only", effect=False)
    imap_open_options: tuple[str, ...] = spec(
        "str_list", "PHP imap_open flags in the reference.", factory=tuple, group="Parity only", effect=False)
    maximum_email_size: Size = spec(
        "size", "Bigger messages are not processed (error record). 0 = no limit.", default="10M", group="Errors")
    big_files_dir: str = spec(
        "str", "Folder where too-big messages (as .eml) and too-big attachments are saved (empty = not saved).",
        default="", group="Errors")
    big_email_behavior: str = spec(
        "enum", "A message over maximum_email_size: error (a record in error, as the reference), or ticket (saved to "
        "big_files_dir, then its headers make or update a ticket that gets a warning file saying where it is; "
        "without big_files_dir it stays an error, so the mail is never lost).",
        ("error", "ticket"), default="error", group="Errors")
    exclude_attachment_types: tuple[str, ...] = spec(
        "str_list", "MIME types of attachments that are dropped.", factory=lambda: DEFAULT_EXCLUDE_ATTACHMENT_TYPES,
        group="Attachments")
    images_minimum_size: tuple[int, ...] = spec(
        "wxh", "Smaller images (signature logos) are dropped, WxH.", default="100x20", group="Attachments")
    images_maximum_size: tuple[int, ...] = spec(
        "wxh", "Bigger images are scaled down, WxH (empty = never).", default="", group="Attachments")
    attachment_maximum_size: Size = spec(
        "size", "A bigger attachment is not stored: it goes to big_files_dir and a warning file takes its place on "
        "the ticket. 0 = no cap.", default="0", group="Attachments")
    attachments_maximum_total: Size = spec(
        "size", "Attachments of one mail beyond this total are handled as too big (as above). 0 = no cap.",
        default="0", group="Attachments")
    terminal_images: str = spec(
        "enum", "How the TUI shows images in a ticket or a mail: auto (Kitty graphics, Sixel or Unicode half "
        "blocks, whichever the terminal supports), kitty, sixel, halfcell (works over any SSH terminal), or off (an "
        "[image: name WxH] line). The i key turns them off and on for the session.",
        ("auto", "kitty", "sixel", "halfcell", "off"), default="auto", group="Attachments")
    recommended_max_allowed_packet: Size = spec(
        "size", "A MySQL max_allowed_packet warning in the reference.", default="10M", group="Parity only",
        effect=False)
    undesired_subject_patterns: tuple[str, ...] = spec(
        "regex_list", "Subjects matching any of these are undesired (always case-insensitive).", factory=tuple,
        group="Reading mail")
    undesired_purge_delay: Duration = spec(
        "duration", "Days undesired mail stays on the server (0 = delete at once).", default=7, group="Retention",
        unit="d")
    use_message_id_as_uid: bool = spec(
        "bool", "Identify IMAP messages by Message-ID instead of UID (Gmail).", default=False, group="Polling")
    introductory_patterns: tuple[str, ...] = spec(
        "regex_list", "Lines just above a quote delimiter that are removed too (always case-insensitive).",
        factory=lambda: DEFAULT_INTRODUCTORY_PATTERNS, group="Reading mail")
    multiline_delimiter_patterns: tuple[str, ...] = spec(
        "regex_list", "Whole-body patterns; the earliest match cuts the reply.",
        factory=lambda: DEFAULT_MULTILINE_DELIMITER_PATTERNS, group="Reading mail")
    delimiter_patterns: dict[str, bool] = spec(
        "delimiters", "Line pattern -> true (stop here) or false (drop this line).",
        factory=lambda: dict(DEFAULT_DELIMITER_PATTERNS), group="Reading mail")
    html_tags_to_remove: dict[str, tuple[str, ...]] = spec(
        "tags", "HTML tag -> class tokens removed from replies (empty list = every such tag).",
        factory=lambda: dict(DEFAULT_HTML_TAGS_TO_REMOVE), group="Reading mail")
    eml_attachment_mime_type: str = spec(
        "str", "Content type of the original message attached to error forwards.", default="application/octet-stream",
        group="Errors")
    aggregate_replies: bool = spec(
        "bool", "Thread replies by stored Message-IDs (In-Reply-To/References).", default=True, group="Reading mail")
    strip_signature: bool = spec(
        "bool", "Remove the sender's signature from the new part of replies.", default=False, group="Reading mail")
    strip_standard_signature: bool = spec(
        "bool", "Remove device lines (\"Sent from my iPhone\") and RFC 3676 \"-- \" signature blocks from the new "
        "part of replies; false keeps them, as the reference does.", default=True, group="Reading mail")
    inline_image_max_width: int = spec(
        "int", "Unused by the reference too.", default=500, group="Parity only", effect=False)
    lease_seconds: Duration = spec(
        "duration", "How long an inbox claim lasts without renewal (crashed runner recovery).", default=300,
        group="Polling", unit="s")
    idle: bool = spec(
        "bool", "`mailticket run` and the TUI's engine keep one IMAP connection per inbox in IDLE where the server "
        "offers it, so new mail is processed as the server announces it; false (and POP3, Maildir, servers without "
        "IDLE) polls every periodicity.", default=True, group="Polling")
    idle_refresh: Duration = spec(
        "duration", "Seconds an IDLE lasts before it is re-issued, with a NOOP health check and a pass (retries, "
        "pending deletes); at most 1740 (29 minutes: servers may drop an IDLE after 30).", default=600,
        group="Polling", unit="s")
    concurrent_inboxes: int = spec(
        "int", "Inboxes one daemon (`mailticket run`, the TUI's engine) processes at the same time, each under its "
        "lease; the IDLE connections that wait for mail are not counted.", default=4, group="Polling")
    trace_max_bytes: Size = spec(
        "size", "Size of each inbox's rolling debug trace.", default="500K", group="Retention")

    def parse_options(self) -> ParseOptions:
        return ParseOptions(
            body_parts_order=tuple(self.body_parts_order),
            introductory_patterns=tuple(self.introductory_patterns),
            multiline_delimiter_patterns=tuple(self.multiline_delimiter_patterns),
            delimiter_patterns=dict(self.delimiter_patterns),
            html_tags_to_remove={k: tuple(v) for k, v in self.html_tags_to_remove.items()},
            undesired_subject_patterns=tuple(self.undesired_subject_patterns),
            exclude_attachment_types=tuple(self.exclude_attachment_types),
            strip_signature=self.strip_signature,
            strip_standard_signature=self.strip_standard_signature,
        )


@dataclass(frozen=True)
class SmtpSettings:
    server: str = spec(
        "str", "SMTP server for outgoing mail (empty = nothing is sent).", default="", group="SMTP server",
        example="smtp.example.com")
    port: int = spec("int", "SMTP port (587 for STARTTLS, 465 for implicit TLS).", default=587, group="SMTP server")
    tls: str = spec(
        "enum", "Transport security.", ("ssl", "starttls", "none"), default="starttls", group="SMTP server")
    verify_certificate: bool = spec("bool", "Verify the server certificate.", default=True, group="SMTP server")
    ca_file: str = spec(
        "str", "PEM file of extra CA certificate(s) to trust (internal CA, self-signed server); empty = system CAs.",
        default="", group="SMTP server")
    login: str = spec(
        "str", "SMTP login (empty = no authentication).", default="", group="SMTP server",
        example="helpdesk@example.com")
    password: str = spec("secret", "SMTP password by value.", default="", group="SMTP server")
    password_env: str = spec(
        "str", "Environment variable holding the SMTP password.", default="", group="SMTP server",
        example="MAILTICKET_SMTP_PASSWORD")
    password_file: str = spec("str", "File holding the SMTP password.", default="", group="SMTP server")
    auth: str = spec(
        "enum", "password, or oauth2: log in with XOAUTH2 using the token of the OAuth2 inbox whose login is this "
        "login (same account; its consent covers SMTP).", ("password", "oauth2"), default="password",
        group="SMTP server")
    sender: str = spec(
        "email", "Default From address of outgoing mail.", default="", group="SMTP server",
        example="helpdesk@example.com")


@dataclass(frozen=True)
class InboxSettings:
    name: str = spec(
        "str", "Unique name of the inbox (used by --inbox and `config import`).", default="",
        group="Mailbox configuration", unique=True, example="support")
    protocol: str = spec(
        "enum", "Mail protocol.", ("imap", "pop3", "maildir"), default="imap", group="Mailbox configuration")
    server: str = spec(
        "str", "Host name or IP; for maildir, the Maildir folder path.", default="", group="Mailbox configuration",
        example="imap.example.com")
    port: int = spec(
        "int", "Port; 0 = the protocol's default for the TLS mode (993/143, 995/110).", default=0,
        group="Mailbox configuration", example=993)
    tls: str = spec(
        "enum", "ssl = implicit TLS, starttls, or none (plain text).", ("ssl", "starttls", "none"), default="ssl",
        group="Mailbox configuration")
    verify_certificate: bool = spec(
        "bool", "Verify the server certificate (turning it off is shown as a warning).", default=True,
        group="Mailbox configuration")
    ca_file: str = spec(
        "str", "PEM file of extra CA certificate(s) to trust (internal CA, self-signed server); empty = system CAs.",
        default="", group="Mailbox configuration")
    login: str = spec(
        "str", "Login; also the inbox's own address.", default="", group="Mailbox configuration",
        example="support@example.com")
    password: str = spec(
        "secret", "Password by value (prefer password_env or password_file).", default="",
        group="Mailbox configuration")
    password_env: str = spec(
        "str", "Environment variable holding the password.", default="", group="Mailbox configuration",
        example="SUPPORT_PASSWORD")
    password_file: str = spec(
        "str", "File holding the password (first line).", default="", group="Mailbox configuration")
    pop3_auth: str = spec(
        "enum",
        "POP3 login method: USER/PASS, APOP, or SASL (PLAIN, LOGIN, CRAM-MD5); DIGEST-MD5 is obsolete (RFC 6331) and refused.",
        ("USER", "APOP", "PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5"), default="USER", group="Mailbox configuration")
    auth: str = spec(
        "enum", "How the inbox logs in: password, or oauth2 (XOAUTH2 with a token; consent once with "
        "`mailticket inbox authorize NAME`; Microsoft 365 and Google need it).", ("password", "oauth2"),
        default="password", group="OAuth2")
    oauth_provider: str = spec(
        "enum", "OAuth2 provider: microsoft (Entra ID, device code), google (browser consent with PKCE), or generic "
        "(the three oauth_*_url below).", ("microsoft", "google", "generic"), default="microsoft", group="OAuth2")
    oauth_tenant: str = spec(
        "str", "Microsoft tenant: its id or domain, or organizations (any work account) or common.",
        default="organizations", group="OAuth2")
    oauth_client_id: str = spec(
        "str", "Application (client) id of the app registered with the provider.", default="", group="OAuth2")
    oauth_client_secret_env: str = spec(
        "str", "Environment variable holding the client secret (Google desktop apps have one; Microsoft public "
        "clients none).", default="", group="OAuth2")
    oauth_client_secret_file: str = spec(
        "str", "File holding the client secret (first line).", default="", group="OAuth2")
    oauth_scopes: tuple[str, ...] = spec(
        "str_list", "Scopes to ask for; empty = the provider's mail scopes for this protocol and SMTP.",
        factory=tuple, group="OAuth2")
    oauth_authorization_url: str = spec(
        "str", "generic: the authorization endpoint (browser consent with PKCE).", default="", group="OAuth2")
    oauth_device_authorization_url: str = spec(
        "str", "generic: the device authorization endpoint (RFC 8628); used when set.", default="", group="OAuth2")
    oauth_token_url: str = spec("str", "generic: the token endpoint.", default="", group="OAuth2")
    mailbox: str = spec(
        "str", "IMAP folder or Maildir subfolder; empty = INBOX.", default="INBOX", group="Mailbox configuration")
    active: bool = spec("bool", "Only active inboxes are polled.", default=True, group="Mailbox configuration")
    trace: bool = spec(
        "bool", "Keep a rolling debug trace for this inbox.", default=False, group="Mailbox configuration")
    timeout: Duration = spec(
        "duration", "How long to wait for the mail server to answer before this inbox's pass gives up (retried at "
        "the next pass).", default=30, group="Mailbox configuration", unit="s")
    behavior: str = spec(
        "enum", "both: update a related ticket or create one; create_only; update_only.",
        ("both", "create_only", "update_only"), default="both", group="Behaviour on incoming emails")
    email_storage: str = spec(
        "enum", "After success: keep on the server, delete, or move.", ("keep", "delete", "move"), default="keep",
        group="Behaviour on incoming emails")
    target_folder: str = spec(
        "str", "Folder for email_storage = move.", default="", group="Behaviour on incoming emails")
    target_class: str = spec(
        "enum", "Ticket class created.", TICKET_CLASSES, default="UserRequest", group="Behaviour on incoming emails")
    ticket_default_values: dict[str, str] = spec(
        "kv", "Values of new tickets: a table, or 'field:value' lines in one string.", factory=dict,
        group="Behaviour on incoming emails", example={"priority": "medium", "org_id": "Example Corp"})
    ticket_default_title: str = spec(
        "str", "Title when the subject is empty (default 'No subject').", default="",
        group="Behaviour on incoming emails")
    title_pattern: str = spec(
        "regex",
        "Regex finding a ticket ref in the subject; groups are tried as refs. Like every pattern: a Python "
        "regex or the reference's /.../flags form (engine/parse/safe_regex.py).", default="",
        group="Behaviour on incoming emails", example="R-([0-9]{6})")
    stimuli: dict[str, str] = spec(
        "kv", "state -> stimulus applied after an update by mail.", factory=dict,
        group="Behaviour on incoming emails", example={"pending": "ev_reopen"})
    unknown_caller_behavior: str = spec(
        "enum", "A sender no person of the directory has: reject_email = every mail from such an address is an "
        "error until the person exists (add people with `mailticket people add|import`, or c on the failed mail "
        "or its inbox creates them and retries); create_contact = anyone who writes becomes a person.",
        ("create_contact", "reject_email"),
        default="reject_email", group="Unknown callers")
    unknown_caller_rejection_reply: str = spec(
        "text", "Reply sent to rejected unknown senders (empty = none).", default="", group="Unknown callers")
    caller_default_values: dict[str, str] = spec(
        "kv", "Values of persons created for unknown senders.", factory=dict, group="Unknown callers",
        example={"first_name": "Unknown", "name": "Caller"})
    error_behavior: str = spec(
        "enum", "A message that failed: keep it marked as error, or delete it.", ("mark_as_error", "delete"),
        default="mark_as_error", group="Emails in error")
    notify_errors_to: str = spec(
        "email", "Forward failed mails to this address.", default="", group="Emails in error")
    notify_errors_from: str = spec("email", "Sender of those forwards.", default="", group="Emails in error")
    import_additional_contacts: str = spec(
        "enum", "Link To/Cc people who exist (by a primary or extra address) as ticket contacts.",
        ("never", "only_on_creation", "only_on_update", "always"), default="never", group="Additional contacts")
    aliases: tuple[str, ...] = spec(
        "email_list", "Other addresses of this mailbox (never made contacts).", factory=tuple,
        group="Additional contacts")
    auto_mail_behavior: str = spec(
        "enum", "Auto-replies, bounces, list and bulk mail: undesired (kept undesired_purge_delay days), deleted at "
        "once, ignored (kept), or processed like any mail (never answered).",
        ("undesired", "delete", "ignored", "process"), default="undesired", group="MailTicket extras")
    closed_ticket_behavior: str = spec(
        "enum", "A reply to a resolved/closed ticket: reopen it, open a new linked ticket, or reject.",
        ("reopen", "new_linked", "reject"), default="new_linked", group="MailTicket extras")
    reopen_stimulus: str = spec(
        "str", "Stimulus used when closed_ticket_behavior = reopen.", default="ev_reopen", group="MailTicket extras")
    other_sender_behavior: str = spec(
        "enum", "A reply from someone neither caller nor contact: accept, accept as private log, or reject.",
        ("accept", "private", "reject"), default="accept", group="MailTicket extras")
    ambiguous_caller_behavior: str = spec(
        "enum", "Several persons share the sender's address: take the first active one, or error.",
        ("first_active", "error"), default="first_active", group="MailTicket extras")
    excluded_attachment_behavior: str = spec(
        "enum", "A mail with an attachment of an excluded type (declared or sniffed from its bytes): drop that file "
        "(a trace line and a private case-log note say so), or set the whole mail aside (error, for an operator).",
        ("drop", "set_aside"), default="drop", group="MailTicket extras")


NOTIFICATION_EVENTS = ("created_by_mail", "updated_by_mail", "assigned", "resolved", "closed", "reopened",
                       "log_entry", "private_log_entry")
NOTIFICATION_ROLES = ("caller", "contacts", "team", "agent")
PLACEHOLDERS = ("ref", "title", "status", "class", "event", "caller_name", "caller_email", "org", "priority",
                "urgency", "impact", "service", "service_subcategory", "team", "agent", "origin", "description",
                "log_entry", "log_author", "link")


@dataclass(frozen=True)
class NotificationRule:
    """One [[notification]]: on an event, mail rendered from a template goes to the listed recipients
    (engine/notifications.py), through the outbox, committed with the work that caused it."""

    name: str = spec(
        "str", "A label for traces and the outbox (e.g. \"acknowledgement\").", default="", group="Notification",
        example="acknowledgement")
    active: bool = spec(
        "bool", "Only active rules send mail.", default=True, group="Notification", example=False)
    event: str = spec(
        "enum", "What fires it: a ticket created or updated by mail, a lifecycle change (by mail or an operator), "
        "or an operator's case log entry.", NOTIFICATION_EVENTS, default="created_by_mail", group="Notification")
    inboxes: tuple[str, ...] = spec(
        "str_list", "Only tickets of these inboxes (empty = every inbox).", factory=tuple, group="Notification")
    recipients: tuple[str, ...] = spec(
        "str_list", "caller, contacts (additional contacts), team, agent, and/or fixed addresses. Never our own "
        "addresses, never in answer to auto-mail, at most 10 notifications per address an hour.",
        factory=lambda: ("caller",), group="Notification")
    skip_author: bool = spec(
        "bool", "Leave out the person whose mail or action caused the event (no copy of one's own reply).",
        default=False, group="Notification")
    from_addr: str = spec(
        "email", "Sender; empty = the login of the ticket's inbox (so replies come back to it), else [smtp] sender.",
        default="", group="Notification")
    subject: str = spec(
        "str", "Subject template; placeholders such as {ref} and {title} (see body).", default="[{ref}] {title}",
        group="Notification")
    body: str = spec(
        "text", "Body template (plain text). Placeholders: " + ", ".join("{%s}" % p for p in PLACEHOLDERS) + ".",
        default="{link}\n\nStatus: {status}\n\n{log_entry}\n", group="Notification",
        example="Hello {caller_name},\n\nwe received your request and opened ticket {ref}: {title}.\n"
                "Reply to this mail to add information.\n\n{link}\n")
    link: str = spec(
        "str", "The {link} line: a URL template such as https://desk.example/ticket/{ref} (empty = \"Ticket {ref}\").",
        default="", group="Notification")


@dataclass(frozen=True)
class Settings:
    store: StoreSettings = field(default_factory=StoreSettings)
    engine: EngineSettings = field(default_factory=EngineSettings)
    ticket_log: dict[str, str] = field(default_factory=lambda: {"UserRequest": "public_log", "Incident": "public_log"})
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    org_domains: dict[str, str] = field(default_factory=dict)
    inboxes: tuple[InboxSettings, ...] = ()
    notifications: tuple[NotificationRule, ...] = ()  # [[notification]]; none by default: no mail unasked

    def inbox(self, name: str) -> InboxSettings | None:
        return next((i for i in self.inboxes if i.name == name), None)


SECTIONS: dict[str, type] = {"store": StoreSettings, "engine": EngineSettings, "smtp": SmtpSettings}


# ---------------------------------------------------------------- value parsers (also used by the engine)


def parse_size(text: str | int) -> int:
    """'10M' -> bytes (K/M/G are powers of 1024, like the reference); raises ValueError on '10Q'."""
    return int(Size(text))


def resolve_secret(value: str, env: str, file: str, where: str) -> str:
    """The password by value, from an environment variable, or from a file's first line."""
    if env:
        if env not in os.environ:
            raise SettingsError([f"{where}.password_env: environment variable {env} is not set; export it or use password_file"])
        return os.environ[env]
    if file:
        try:
            return Path(file).read_text(encoding="utf-8").splitlines()[0] if Path(file).stat().st_size else ""
        except OSError as exc:
            raise SettingsError([f"{where}.password_file: cannot read {file} ({exc.strerror})"]) from exc
    return value


# ---------------------------------------------------------------- validation


def _did_you_mean(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_value(meta: Any, value: Any, path: str, problems: list[str], name: str = "") -> Any:
    """Validate one value through its type (setting_types.TYPES); the typed value, or None after a problem.
    `name` is the setting's key: patterns are compiled with the flags the engine adds for that setting."""
    return TYPES[meta["kind"]].check(value, path, problems, {**meta, "name": name})


def _build(cls: type, data: Any, path: str, problems: list[str]) -> Any:
    """One dataclass from one TOML table; unknown keys and bad values become problems."""
    if not isinstance(data, dict):
        problems.append(f"{path}: expected a table, got {type(data).__name__}")
        return cls()
    known = {f.name: f for f in fields(cls)}
    values = {}
    for key, value in data.items():
        if key not in known:
            problems.append(f"{path}.{key}: unknown key{_did_you_mean(key, list(known))}")
            continue
        checked = _check_value(known[key].metadata, value, f"{path}.{key}", problems, key)
        if checked is not None:
            values[key] = checked
    return cls(**values)


def inbox_label(index: int, name: Any = None) -> str:
    """How problems name the index-th [[inbox]] of a file: 'inbox[1] (copy)'."""
    return f"inbox[{index}]" + (f" ({name})" if name else "")


def _check_inbox(inbox: InboxSettings, path: str, problems: list[str]) -> None:
    """Rules across fields of one inbox."""
    if not inbox.name:
        problems.append(f"{path}.name: missing; every inbox needs a unique name")
    if not inbox.server:
        problems.append(f"{path}.server: missing; give the host name (or the Maildir path for protocol = \"maildir\")")
    if inbox.protocol != "maildir" and not inbox.login:
        problems.append(f"{path}.login: missing; the {inbox.protocol} login is required")
    if inbox.email_storage == "move" and not inbox.target_folder:
        problems.append(f"{path}.target_folder: required when email_storage = \"move\"")
    if inbox.email_storage == "move" and inbox.protocol == "pop3":
        problems.append(f"{path}.email_storage: POP3 has no folders; use keep or delete")
    if sum(bool(x) for x in (inbox.password, inbox.password_env, inbox.password_file)) > 1:
        problems.append(f"{path}: give only one of password, password_env, password_file")
    if inbox.port > 65535:
        problems.append(f"{path}.port: {inbox.port} is not a TCP port")
    if inbox.auth == "oauth2":
        _check_oauth(inbox, path, problems)


def _check_oauth(inbox: InboxSettings, path: str, problems: list[str]) -> None:
    """What an OAuth2 inbox needs before a consent can even start."""
    if inbox.protocol == "maildir":
        problems.append(f"{path}.auth: a Maildir has no login; use auth = \"password\"")
    if not inbox.oauth_client_id:
        problems.append(f"{path}.oauth_client_id: missing; give the application (client) id registered with "
                        f"{inbox.oauth_provider}")
    if inbox.oauth_client_secret_env and inbox.oauth_client_secret_file:
        problems.append(f"{path}: give only one of oauth_client_secret_env, oauth_client_secret_file")
    if inbox.oauth_provider == "generic":
        if not inbox.oauth_token_url:
            problems.append(f"{path}.oauth_token_url: required with oauth_provider = \"generic\"")
        if not (inbox.oauth_authorization_url or inbox.oauth_device_authorization_url):
            problems.append(f"{path}.oauth_device_authorization_url: give it or oauth_authorization_url "
                            "(oauth_provider = \"generic\")")


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")

_DEFAULT_PORTS = {("imap", True): 993, ("imap", False): 143, ("pop3", True): 995, ("pop3", False): 110}


def mailbox_identity(inbox: InboxSettings) -> tuple[str, ...]:
    """What decides which mail an inbox reads, normalised: two inboxes with the same identity would turn every
    mail into two tickets. Port 0 is the protocol's default for the TLS mode (as the sources resolve it); the
    server name and the login compare case-insensitively; "" and any spelling of INBOX are the same folder,
    other folder names compare as written (IMAP folder names are case-sensitive). A Maildir is its resolved
    folder path (the server path with the mailbox's Maildir++ subfolder, symlinks resolved)."""
    if inbox.protocol == "maildir":
        from .engine.sources.maildir import folder_path  # the source's own rule for the subfolder

        path = folder_path(Path(inbox.server).expanduser(), inbox.mailbox or "INBOX")
        return ("maildir", os.path.realpath(path))
    port = inbox.port or _DEFAULT_PORTS.get((inbox.protocol, inbox.tls == "ssl"), 0)
    folder = "INBOX" if inbox.mailbox.upper() in ("", "INBOX") else inbox.mailbox
    return (inbox.protocol, inbox.server.strip().rstrip(".").lower(), str(port), inbox.login.strip().lower(), folder)


def describe_mailbox(inbox: InboxSettings) -> str:
    """The identity in one readable phrase, e.g. 'imap support@example.com@imap.example.com:993 INBOX'."""
    identity = mailbox_identity(inbox)
    if identity[0] == "maildir":
        return f"maildir {identity[1]}"
    protocol, server, port, login, folder = identity
    return f"{protocol} {login}@{server}:{port} {folder}"


def mailbox_clashes(candidates: Iterable[tuple[str, InboxSettings]], others: Iterable[InboxSettings] = ()) -> list[str]:
    """One line per candidate that reads the same folder as one of `others` or an earlier candidate.

    `candidates` are (label, inbox), the label saying where the inbox comes from ("inbox[1] (copy)");
    inboxes without a server are skipped (that problem is reported on its own).
    """
    seen: dict[tuple[str, ...], InboxSettings] = {}
    for other in others:
        if other.server:
            seen.setdefault(mailbox_identity(other), other)
    problems = []
    for label, inbox in candidates:
        if not inbox.server:
            continue
        first = seen.setdefault(mailbox_identity(inbox), inbox)
        if first is not inbox:
            problems.append(f"{label}: same mailbox as inbox {first.name!r} ({describe_mailbox(first)}); "
                            "one inbox per folder")
    return problems


def settings_from_dict(data: dict, source: str = "settings") -> Settings:
    """Validate a parsed TOML document; raises SettingsError listing every problem with its key path."""
    from .settings_compat import accept_reference_spellings  # late: that module reads this schema

    data = accept_reference_spellings(data)  # the reference's spellings (iTop files) are read as ours
    problems: list[str] = []
    known = ["store", "engine", "ticket_log", "smtp", "org_domains", "inbox", "notification"]
    parts: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            problems.append(f"{key}: unknown section{_did_you_mean(key, known)}")
        elif key in SECTIONS:
            parts[key] = _build(SECTIONS[key], value, key, problems)
        elif key in ("ticket_log", "org_domains"):
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                problems.append(f"{key}: expected a table of strings")
            else:
                parts[key] = dict(value)
    if "smtp" in parts and parts["smtp"].port > 65535:
        problems.append(f"smtp.port: {parts['smtp'].port} is not a TCP port")
    ticket_log = parts.get("ticket_log", {})
    for klass, log in ticket_log.items():
        if klass not in TICKET_CLASSES:
            problems.append(f"ticket_log.{klass}: unknown class{_did_you_mean(klass, list(TICKET_CLASSES))}")
        if log not in ("public_log", "private_log"):
            problems.append(f"ticket_log.{klass}: unknown log {log!r}; use public_log or private_log")
    if "ticket_log" in parts:
        parts["ticket_log"] = {**Settings().ticket_log, **ticket_log}
    raw_inboxes = data.get("inbox", [])
    if not isinstance(raw_inboxes, list):
        problems.append("inbox: expected an array of tables ([[inbox]])")
        raw_inboxes = []
    inboxes = []
    labelled: list[tuple[str, InboxSettings]] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_inboxes):
        path = inbox_label(index, raw.get("name") if isinstance(raw, dict) else None)
        inbox = _build(InboxSettings, raw, path, problems)
        _check_inbox(inbox, path, problems)
        if inbox.name in seen:
            problems.append(f"{path}.name: duplicate inbox name {inbox.name!r}")
        seen.add(inbox.name)
        inboxes.append(inbox)
        labelled.append((path, inbox))
    problems += mailbox_clashes(labelled)
    rules = _notification_rules(data.get("notification", []), problems)
    if problems:
        raise SettingsError([f"{source}: {p}" for p in problems])
    return Settings(inboxes=tuple(inboxes), notifications=rules, **parts)


def _notification_rules(raw_rules: Any, problems: list[str]) -> tuple[NotificationRule, ...]:
    """The [[notification]] tables; recipients and template placeholders are checked here, so a rule that
    validates renders."""
    if not isinstance(raw_rules, list):
        problems.append("notification: expected an array of tables ([[notification]])")
        return ()
    rules = []
    for index, raw in enumerate(raw_rules):
        path = f"notification[{index}]"
        rule = _build(NotificationRule, raw, path, problems)
        for n, who in enumerate(rule.recipients):
            if who not in NOTIFICATION_ROLES and not _EMAIL.match(who):
                problems.append(f"{path}.recipients[{n}]: {who!r} is neither one of {', '.join(NOTIFICATION_ROLES)} "
                                "nor an email address")
        for key in ("subject", "body", "link"):
            unknown = sorted(set(_PLACEHOLDER.findall(getattr(rule, key))) - set(PLACEHOLDERS))
            if unknown:
                problems.append(f"{path}.{key}: unknown placeholder {{{unknown[0]}}}"
                                f"{_did_you_mean(unknown[0], list(PLACEHOLDERS))}; known: {', '.join(PLACEHOLDERS)}")
        rules.append(rule)
    return tuple(rules)


def load_settings_file(path: str | Path) -> Settings:
    """Read and validate a TOML file; every failure is a SettingsError with file (and line) in each line."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise SettingsError([f"{path}: no such file; give an existing file with --config or $MAILTICKET_CONFIG"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError([f"{path}: cannot read it ({getattr(exc, 'strerror', None) or exc})"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError([f"{path}: TOML syntax error: {exc}"]) from None
    return settings_from_dict(data, str(path))


# ---------------------------------------------------------------- export


def plain_table(obj: Any, with_secrets: bool = True) -> dict:
    """One settings object as its TOML table: each value written back by its type (a size as written,
    "10M", not its bytes); secrets only when asked."""
    return {f.name: TYPES[f.metadata["kind"]].plain(getattr(obj, f.name)) for f in fields(obj)
            if with_secrets or f.metadata["kind"] != "secret"}


def settings_to_dict(settings: Settings, with_secrets: bool = False) -> dict:
    """The TOML document for these settings; passwords by value only when asked."""
    return {
        "store": plain_table(settings.store, with_secrets),
        "engine": plain_table(settings.engine, with_secrets),
        "ticket_log": dict(settings.ticket_log),
        "smtp": plain_table(settings.smtp, with_secrets),
        "org_domains": dict(settings.org_domains),
        "inbox": [plain_table(i, with_secrets) for i in settings.inboxes],
        "notification": [plain_table(r) for r in settings.notifications],
    }


def without_secrets(settings: Settings) -> Settings:
    """The same settings with passwords by value blanked (what an export without --with-secrets carries)."""
    return replace(
        settings,
        smtp=replace(settings.smtp, password=""),
        inboxes=tuple(replace(i, password="") for i in settings.inboxes),
    )


def config_search_path(explicit: str | None) -> Path | None:
    """--config, $MAILTICKET_CONFIG, ./mailticket.toml, then the XDG config dir; None when nothing exists."""
    if explicit:
        return Path(explicit)
    if os.environ.get("MAILTICKET_CONFIG"):
        return Path(os.environ["MAILTICKET_CONFIG"])
    candidates = [Path("mailticket.toml")]
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    candidates.append(Path(xdg) / "mailticket" / "mailticket.toml")
    return next((c for c in candidates if c.is_file()), None)
