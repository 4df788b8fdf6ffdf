"""Writing content-addressed bytes into the Blob table without holding them twice more in memory.

A plain INSERT of a 24 MB blob costs SQLite two native copies of it (the bound value, then the row record)
on top of Python's, and glibc keeps that memory after a big free. On SQLite a big blob is therefore
inserted as zeroblob(n) and filled through the incremental blob API in 1 MB chunks, inside the caller's
transaction; PostgreSQL and small blobs take the plain INSERT. Same bytes, same row, either way.
"""
from __future__ import annotations

from peewee import SqliteDatabase

from .models import Blob, database_proxy

CHUNK = 1 << 20
STREAM_FROM = 4 * CHUNK  # smaller blobs are not worth a second statement


def put_blob(digest: str, data: bytes) -> None:
    """Insert (digest, data) unless that digest is stored already."""
    db = database_proxy.obj
    if not isinstance(db, SqliteDatabase) or len(data) < STREAM_FROM:
        Blob.insert(sha256=digest, size=len(data), data=data).on_conflict_ignore().execute()
        return
    table = Blob._meta.table_name
    cursor = db.execute_sql(f'INSERT OR IGNORE INTO "{table}" ("sha256", "size", "data") VALUES (?, ?, zeroblob(?))',
                            (digest, len(data), len(data)))
    if not cursor.rowcount:
        return
    view = memoryview(data)
    with db.connection().blobopen(table, "data", cursor.lastrowid) as blob:
        for start in range(0, len(view), CHUNK):
            blob.write(view[start:start + CHUNK])
