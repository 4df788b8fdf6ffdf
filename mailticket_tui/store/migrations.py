"""Schema versions: a `schema_version` table and an ordered list of migrations.

A new store is created at the latest version; an older one is upgraded step by step in a transaction;
a newer one is refused (an older mailticket must not write a schema it does not know).
"""
from __future__ import annotations

from typing import Callable

from peewee import Database

from .models import ALL_MODELS, SchemaVersion


class SchemaTooNew(Exception):
    """The store was written by a newer mailticket."""


def _v1(db: Database) -> None:
    db.create_tables(ALL_MODELS)


# Each entry upgrades from (index) to (index + 1). Append; never edit a released step.
MIGRATIONS: list[Callable[[Database], None]] = [_v1]
LATEST = len(MIGRATIONS)


def current_version(db: Database) -> int:
    if not db.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0


def upgrade(db: Database) -> int:
    """Bring the schema to LATEST; returns the version found before upgrading."""
    with db.atomic():
        found = current_version(db)
        if found > LATEST:
            raise SchemaTooNew(
                f"the store has schema version {found}, newer than this mailticket knows ({LATEST}); "
                "upgrade mailticket or use another store"
            )
        for version in range(found, LATEST):
            MIGRATIONS[version](db)
            SchemaVersion.create(version=version + 1)
    return found
