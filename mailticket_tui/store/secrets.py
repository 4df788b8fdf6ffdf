"""Passwords at rest: inbox and SMTP passwords given by value are stored encrypted (Fernet: AES + HMAC),
so the database, its backups and its dumps never hold them in clear.

The key is not in the database: $MAILTICKET_SECRET_KEY, else the file $MAILTICKET_KEY_FILE, else a file
next to a SQLite store (`<store>.key`) or `$XDG_CONFIG_HOME/mailticket/secret.key` for PostgreSQL
(copy it to every machine that shares the store). It is created mode 0600 on first use.
"""
from __future__ import annotations

import os
from pathlib import Path

from typing import TYPE_CHECKING

from ..settings import SettingsError
from .models import database_proxy

if TYPE_CHECKING:  # imported on first use: loading cryptography costs the TUI tens of ms at a cold start
    from cryptography.fernet import Fernet

PREFIX = "enc:v1:"
_ciphers: dict[str, Fernet] = {}


def key_location() -> str:
    """Where the key of the open store lives (for messages and docs)."""
    if os.environ.get("MAILTICKET_SECRET_KEY"):
        return "$MAILTICKET_SECRET_KEY"
    if os.environ.get("MAILTICKET_KEY_FILE"):
        return os.environ["MAILTICKET_KEY_FILE"]
    db = database_proxy.obj
    if type(db).__name__.startswith("Sqlite") and db.database not in ("", ":memory:"):
        return f"{db.database}.key"
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "mailticket", "secret.key")


def _cipher() -> Fernet:
    from cryptography.fernet import Fernet

    where = key_location()
    if where in _ciphers:
        return _ciphers[where]
    if where == "$MAILTICKET_SECRET_KEY":
        key = os.environ["MAILTICKET_SECRET_KEY"].encode()
    else:
        path = Path(where)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(Fernet.generate_key())
        key = path.read_bytes().strip()
    try:
        _ciphers[where] = Fernet(key)
    except ValueError as exc:
        raise SettingsError([f"secret key {where}: not a valid key ({exc}); restore the right key file"]) from exc
    return _ciphers[where]


def seal(plain: str) -> str:
    """The stored form of a password ('' stays '')."""
    return PREFIX + _cipher().encrypt(plain.encode()).decode() if plain else ""


def unseal(stored: str, where: str) -> str:
    """The password back; a stored value from before encryption is returned as it is."""
    if not stored.startswith(PREFIX):
        return stored
    from cryptography.fernet import InvalidToken

    try:
        return _cipher().decrypt(stored[len(PREFIX):].encode()).decode()
    except InvalidToken:
        raise SettingsError([f"{where}: the stored password cannot be decrypted with the key at {key_location()}; "
                             "restore that key file or enter the password again"]) from None
