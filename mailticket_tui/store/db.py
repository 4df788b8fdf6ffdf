"""Opening the store: a database URL -> a connected peewee database with the schema at the current version.

SQLite (default) gets WAL, synchronous=NORMAL, foreign keys, a busy timeout and IMMEDIATE write transactions
(a deferred transaction that reads then writes fails at once under contention instead of waiting).
PostgreSQL is accepted through playhouse.db_url for several workers sharing one store.
"""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

from peewee import Database, OperationalError, PeeweeException
from playhouse.db_url import connect

from .migrations import SchemaTooNew, upgrade
from .models import database_proxy

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
}


class StoreError(Exception):
    """The store cannot be opened or used; the message is one line that says what and how to fix."""


def default_store_url() -> str:
    """A SQLite file in the XDG data directory."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return f"sqlite:///{os.path.join(base, 'mailticket', 'mailticket.db')}"


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


def open_store(url: str, migrate: bool = True) -> Database:
    """Connect, bind the models, and bring the schema to the current version (refusing a newer one)."""
    scheme = urlparse(url).scheme.split("+")[0]
    if scheme == "sqlite":
        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else ""
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
        db.connect(reuse_if_open=True)
    except (PeeweeException, OperationalError, ImportError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(f"store {redact_url(url)}: cannot connect ({first}); check the URL and that the server runs") from exc
    database_proxy.initialize(db)
    if migrate:
        try:
            upgrade(db)
        except (PeeweeException, SchemaTooNew) as exc:
            raise StoreError(f"store {redact_url(url)}: {exc}") from exc
    return db
