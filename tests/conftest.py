"""Shared fixtures: a temporary store, settings files, and (through the plugin) the private Dovecot."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures_dovecot"]



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
