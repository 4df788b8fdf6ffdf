"""Opening the store: a database URL -> a connected peewee database with the schema at the current version.

SQLite (default) gets WAL, synchronous=NORMAL, foreign keys, a busy timeout and IMMEDIATE write transactions
(a deferred transaction that reads then writes fails at once under contention instead of waiting).
PostgreSQL is accepted through playhouse.db_url for several workers sharing one store.

Opening upgrades an older schema (see migrations.py). Whoever opens the store decides how an upgrade of an
existing store is told: an `on_upgrade` callback, or for callers further down (services open the store for
the CLI and the TUI) a listener installed around them with `reporting_upgrades`.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlparse

from peewee import Database, OperationalError, PeeweeException, PostgresqlDatabase
from playhouse.db_url import connect

from .migrations import MigrationError, SchemaTooNew, UpgradeResult, upgrade
from .models import database_proxy
from .postgres import PostgresStore

# page_size and wal_autocheckpoint cut the bytes written per mail (measured: 4.4x -> 2.2x the mail's size).
# Every commit writes each page it touched to the WAL, and a mail touches a few dozen index pages for a few
# bytes each: 1 KB pages make that 4x cheaper than the default 4 KB. page_size only applies to a store being
# created (it must come before journal_mode); older stores keep theirs. A checkpoint every 10,000 pages
# (10 MB of WAL at 1 KB) copies a hot index page into the database once per checkpoint, not every ~25 mails.
SQLITE_PRAGMAS = {
    "page_size": 1024,
    "journal_mode": "wal",
    "wal_autocheckpoint": 10000,
    "synchronous": "normal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
}


class StoreError(Exception):
    """The store cannot be opened or used; the message is one line that says what and how to fix."""


UpgradeListener = Callable[[UpgradeResult], None]
_upgrade_listener: ContextVar[UpgradeListener | None] = ContextVar("mailticket_upgrade_listener", default=None)


@contextmanager
def reporting_upgrades(listener: UpgradeListener) -> Iterator[None]:
    """Within this block, `open_store` calls `listener` when it upgrades an existing store."""
    token = _upgrade_listener.set(listener)
    try:
        yield
    finally:
        _upgrade_listener.reset(token)


def default_store_url() -> str:
    """A SQLite file in the XDG data directory."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return f"sqlite:///{os.path.join(base, 'mailticket', 'mailticket.db')}"


def sqlite_path(url: str) -> str | None:
    """The file of a sqlite:/// URL ('' for an in-memory store); None for other schemes."""
    if urlparse(url).scheme.split("+")[0] != "sqlite":
        return None
    return url[len("sqlite:///"):] if url.startswith("sqlite:///") else ""


def check_store_location(url: str) -> None:
    """Refuse a SQLite store named explicitly (--db, $MAILTICKET_DB, [store] url) in a folder that is missing.

    A typo in an explicit URL must not leave a new empty store somewhere unexpected (and a cron job
    happily processing nothing); only the default location in the XDG data dir is created on demand.
    """
    path = sqlite_path(url)
    if not path or path == ":memory:":
        return
    folder = Path(path).parent
    if not folder.is_dir():
        raise StoreError(f"store {url}: cannot create the store there, the folder {folder} does not exist; "
                         "create it first or correct --db / $MAILTICKET_DB / [store] url")


def _prepare_sqlite_file(path: str) -> None:
    """Create the store file with mode 0600 before SQLite does (it may hold inbox passwords)."""
    if path in ("", ":memory:"):
        return
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    if not file.exists():
        fd = os.open(file, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)


def redact_url(url: str) -> str:
    """The URL without its password, for messages."""
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url


def open_store(url: str, migrate: bool = True, on_upgrade: UpgradeListener | None = None) -> Database:
    """Connect, bind the models, and bring the schema to the current version (refusing a newer one).

    When an existing store was upgraded, `on_upgrade` (else the listener of `reporting_upgrades`) gets
    the result, whose `line()` is what a user should see.
    """
    scheme = urlparse(url).scheme.split("+")[0]
    if scheme == "sqlite":
        path = sqlite_path(url) or ""
        try:
            _prepare_sqlite_file(path)
        except OSError as exc:
            raise StoreError(f"store {url}: cannot create the file ({exc.strerror}); check --db or $MAILTICKET_DB") from exc
        kwargs: dict = {"pragmas": SQLITE_PRAGMAS, "timeout": 10, "lock_type": "IMMEDIATE", "check_same_thread": False}
    elif scheme in ("postgres", "postgresql"):
        kwargs = {}
    else:
        raise StoreError(
            f"store URL {redact_url(url)!r}: unknown scheme {scheme!r}; use sqlite:///PATH or postgresql://USER@HOST/DB"
        )
    try:
        db = connect(url, **kwargs)
        if type(db) is PostgresqlDatabase:  # a plain postgresql:// URL (not +pool): BEGIN with the first statement
            db = PostgresStore(db.database, **db.connect_params)
        db.connect(reuse_if_open=True)
    except (PeeweeException, OperationalError, ImportError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(f"store {redact_url(url)}: cannot connect ({first}); check the URL and that the server runs") from exc
    database_proxy.initialize(db)
    if migrate:
        result = upgrade_store(db, url)
        listener = on_upgrade or _upgrade_listener.get()
        if result.upgraded_existing and listener is not None:
            listener(result)
    return db


def upgrade_store(db: Database, url: str) -> UpgradeResult:
    """Apply the pending schema steps; every failure becomes a one-line StoreError naming the store."""
    try:
        return upgrade(db)
    except (PeeweeException, SchemaTooNew, MigrationError) as exc:
        raise StoreError(f"store {redact_url(url)}: {_one_line(exc)}") from exc


def _one_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
