"""Shared fixtures: a temporary store, settings files, and (through the plugin) the private Dovecot."""
from __future__ import annotations

import os
import textwrap
import time
import uuid
from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures_dovecot"]

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"

# Screens show local time (widgets/dates.py): one zone for every machine, so snapshots and texts are stable.
os.environ["TZ"] = "UTC"
time.tzset()


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a TOML settings file from text; returns its path."""

    def write(text: str, name: str = "mailticket.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


def make_maildir(root: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    return make_maildir(tmp_path / "Maildir")


@pytest.fixture
def pg_store() -> str:
    """A fresh PostgreSQL database for one test (the server's `test` database only hosts CREATE DATABASE)."""
    try:
        import psycopg2
    except ImportError:
        pytest.skip("psycopg2 is not installed")
    name = f"mt_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg2.connect(PG_ADMIN)
    except psycopg2.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN}: {exc}")
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    from mailticket_tui.store.models import database_proxy

    database_proxy.close()
    admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()


