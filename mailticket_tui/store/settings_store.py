"""Settings in the store: the store owns settings at run time; the TOML file only bootstraps or imports.

`save_settings` upserts inboxes by name (idempotent); `load_settings` rebuilds the frozen Settings.
One inbox per folder: `save_settings` and `check_one_inbox_per_folder` refuse an inbox that would read the
folder another stored inbox reads (every mail would become two tickets), before anything is written.
"""
from __future__ import annotations

import json
from dataclasses import fields, replace

from ..settings import (
    EngineSettings,
    InboxSettings,
    Settings,
    SettingsError,
    SmtpSettings,
    StoreSettings,
    inbox_label,
    mailbox_clashes,
    settings_to_dict,
    settings_from_dict,
)
from ..setting_types import TYPES
from .models import Inbox, SettingsEntry, database_proxy, utcnow
from .secrets import seal, unseal

_SECTIONS = ("engine", "smtp", "ticket_log", "org_domains", "notification")


def store_is_empty() -> bool:
    return not Inbox.select().exists() and not SettingsEntry.select().where(SettingsEntry.section.in_(_SECTIONS)).exists()


def _inbox_row_values(inbox: InboxSettings) -> dict:
    """Each setting in its column, as its type stores it (the columns are declared by the same schema)."""
    values = {f.name: TYPES[f.metadata["kind"]].to_column(getattr(inbox, f.name)) for f in fields(InboxSettings)}
    values["password"] = seal(inbox.password)
    return values


def inbox_settings_from_row(row: Inbox) -> InboxSettings:
    values = {f.name: TYPES[f.metadata["kind"]].from_column(getattr(row, f.name), {**f.metadata, "name": f.name})
              for f in fields(InboxSettings)}
    values["password"] = unseal(row.password, f"inbox {row.name}")
    return InboxSettings(**values)


def save_inbox(inbox: InboxSettings, keep_password: bool = True) -> Inbox:
    """Insert or update one inbox by name; an empty password keeps the stored one when `keep_password`."""
    values = _inbox_row_values(inbox)
    row = Inbox.get_or_none(Inbox.name == inbox.name)
    if row is None:
        return Inbox.create(**values)
    if keep_password and not inbox.password and not inbox.password_env and not inbox.password_file:
        values.pop("password")
    values["updated"] = utcnow()
    Inbox.update(**values).where(Inbox.id == row.id).execute()
    return Inbox.get_by_id(row.id)


def stored_mailboxes() -> list[InboxSettings]:
    """Every stored inbox with only the fields that say which folder it reads (no secret is unsealed)."""
    rows = Inbox.select(Inbox.name, Inbox.protocol, Inbox.server, Inbox.port, Inbox.tls, Inbox.login, Inbox.mailbox)
    return [InboxSettings(name=r.name, protocol=r.protocol, server=r.server, port=r.port, tls=r.tls, login=r.login,
                          mailbox=r.mailbox) for r in rows.order_by(Inbox.name)]


def check_one_inbox_per_folder(inbox: InboxSettings, replacing: tuple[str, ...] = ()) -> None:
    """Raise SettingsError (one line naming both inboxes) when `inbox` would read the folder of another stored
    inbox. The stored inbox of the same name, and those named in `replacing` (a rename), are not "another"."""
    others = [i for i in stored_mailboxes() if i.name != inbox.name and i.name not in replacing]
    problems = mailbox_clashes([(f"inbox {inbox.name!r}", inbox)], others)
    if problems:
        raise SettingsError(problems)


def save_settings(settings: Settings, source: str = "") -> None:
    """Upsert global sections and every inbox of `settings` (inboxes not named are left alone).

    Refused with a SettingsError, before any write, when the merged set (stored inboxes, those of `settings`
    replacing them by name) has an inbox of `settings` reading the same folder as a stored one it does not
    replace. `source` (the file) prefixes each problem line.
    """
    names = {i.name for i in settings.inboxes}
    with database_proxy.atomic():
        kept = [i for i in stored_mailboxes() if i.name not in names]
        problems = mailbox_clashes([(inbox_label(n, i.name), i) for n, i in enumerate(settings.inboxes)], kept)
        if problems:
            raise SettingsError([f"{source}: {p}" if source else p for p in problems])
        _put_global_sections(settings, keep_stored_password=True)
        for inbox in settings.inboxes:
            save_inbox(inbox)


def save_global_sections(settings: Settings) -> None:
    """Write [engine], [smtp], [ticket_log], [org_domains] and [[notification]] exactly as given, in one transaction, leaving
    every inbox alone (the TUI's global settings form). Unlike `save_settings`, an empty SMTP password is
    stored empty: the caller decides whether the stored one is kept (it passes it back) or dropped."""
    with database_proxy.atomic():
        _put_global_sections(settings, keep_stored_password=False)


def _put_global_sections(settings: Settings, keep_stored_password: bool) -> None:
    """The four global sections as their TOML tables; the SMTP password sealed. With `keep_stored_password`
    (a file import), an SMTP password left out and not given by reference keeps the stored one."""
    document = settings_to_dict(settings, with_secrets=True)
    smtp = settings.smtp
    document["smtp"]["password"] = seal(smtp.password)
    if keep_stored_password and not (smtp.password or smtp.password_env or smtp.password_file):
        old = SettingsEntry.get_or_none(SettingsEntry.section == "smtp")
        if old:
            document["smtp"]["password"] = json.loads(old.data).get("password", "")
    for section in _SECTIONS:
        _put(section, document[section])


def _put(section: str, data: dict | list) -> None:
    text = json.dumps(data, sort_keys=True)
    SettingsEntry.insert(section=section, data=text).on_conflict(
        conflict_target=[SettingsEntry.section], update={SettingsEntry.data: text}
    ).execute()


def load_settings(store_url: str = "") -> Settings:
    """The settings the store holds (defaults for sections never saved)."""
    doc = {e.section: json.loads(e.data) for e in SettingsEntry.select().where(SettingsEntry.section.in_(_SECTIONS))}
    base = settings_from_dict(doc, "store")
    inboxes = tuple(inbox_settings_from_row(r) for r in Inbox.select().order_by(Inbox.name))
    return Settings(
        store=StoreSettings(url=store_url),
        engine=base.engine if "engine" in doc else EngineSettings(),
        ticket_log=base.ticket_log,
        smtp=replace(base.smtp, password=unseal(base.smtp.password, "smtp")) if "smtp" in doc else SmtpSettings(),
        org_domains=base.org_domains,
        inboxes=inboxes,
        notifications=base.notifications,
    )
