"""Content-addressed bytes in the Blob table: compressed where it pays, written without extra copies.

Raw mail compresses 3-5x (headers, text, HTML) and even base64 parts shrink by a quarter, so bytes are
stored zstd-compressed (codec ZSTD) unless a sample shows they do not compress (JPEG, ZIP, PDF streams),
in which case they are stored as they came (codec AS_IS). `sha256` and `size` always describe the original
bytes, so identity checks never depend on the codec, and rows written before the codec existed read as AS_IS.

A plain INSERT of a big blob costs SQLite two native copies of it (the bound value, then the row record)
on top of Python's, and glibc keeps that memory after a big free. On SQLite a big blob is therefore
inserted as zeroblob(n) and filled through the incremental blob API in 1 MB chunks, inside the caller's
transaction; PostgreSQL and small blobs take the plain INSERT. Same bytes, same row, either way. (SQLite
keeps a zeroblob lazy only while no later column of the row holds data bytes: hence an integer codec, 0/1.)
"""
from __future__ import annotations

import zstandard
from peewee import SqliteDatabase

from . import fast_sql
from .models import Blob, database_proxy

CHUNK = 1 << 20
STREAM_FROM = 4 * CHUNK  # smaller blobs are not worth a second statement
COMPRESS_FROM = 256  # below this the frame header eats the gain
SAMPLE = 64 * 1024  # what is tried first on a big input to see whether compressing pays
PAYS = 0.9  # compressed size / original size under which the compressed form is kept
LEVEL = 3  # zstd's default: ~300 MB/s here, raw mail to a third of its size
AS_IS, ZSTD = 0, 1  # Blob.codec


class BlobError(Exception):
    """A stored blob cannot be read back (unknown codec, damaged frame)."""


def encode(data: bytes | memoryview) -> tuple[int, bytes | memoryview]:
    """(codec, stored form) of `data`: zstd when it saves at least a tenth, else the bytes as they came."""
    if len(data) < COMPRESS_FROM:
        return AS_IS, data
    compressor = zstandard.ZstdCompressor(level=LEVEL)
    if len(data) > 2 * SAMPLE and len(compressor.compress(data[:SAMPLE])) > PAYS * SAMPLE:
        return AS_IS, data  # an already compressed file: trying the whole of it costs time for nothing
    packed = compressor.compress(data)
    return (ZSTD, packed) if len(packed) <= PAYS * len(data) else (AS_IS, data)


def decode(codec: int, stored: bytes | memoryview) -> bytes:
    """The original bytes of a stored form."""
    if codec == AS_IS:
        return bytes(stored)
    if codec == ZSTD:
        try:
            return zstandard.ZstdDecompressor().decompress(stored)
        except zstandard.ZstdError as exc:
            raise BlobError(f"damaged compressed blob: {exc}") from exc
    raise BlobError(f"unknown blob codec {codec!r} (written by a newer MailTicket?)")


def put_blob(digest: str, data: bytes) -> bool:
    """Insert (digest, data) unless that digest is stored already; True when this call stored it (so the
    bytes were never seen before: one statement answers both questions)."""
    db = database_proxy.obj
    codec, stored = encode(data)
    if not isinstance(db, SqliteDatabase) or len(stored) < STREAM_FROM:
        return fast_sql.insert(Blob, {"sha256": digest, "size": len(data), "data": stored, "codec": codec},
                               ignore=True) > 0
    table = Blob._meta.table_name
    cursor = db.execute_sql(
        f'INSERT OR IGNORE INTO "{table}" ("sha256", "size", "data", "codec") VALUES (?, ?, zeroblob(?), ?)',
        (digest, len(data), len(stored), codec))
    if not cursor.rowcount:
        return False
    view = memoryview(stored)
    with db.connection().blobopen(table, "data", cursor.lastrowid) as blob:
        for start in range(0, len(view), CHUNK):
            blob.write(view[start:start + CHUNK])
    return True


def read_blob(digest: str) -> bytes | None:
    """The original bytes stored under `digest`; None when there is no such blob."""
    found = Blob.select(Blob.data, Blob.codec).where(Blob.sha256 == digest).tuples().first()
    return None if found is None else decode(found[1], found[0])
