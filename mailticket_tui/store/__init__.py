"""The store: peewee models, database opening (SQLite or PostgreSQL by URL) and migrations."""
from .db import StoreError, default_store_url, open_store
from .migrations import LATEST as SCHEMA_VERSION, SchemaTooNew

__all__ = ["SCHEMA_VERSION", "SchemaTooNew", "StoreError", "default_store_url", "open_store"]
