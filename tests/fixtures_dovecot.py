"""Pytest plugin: a private Dovecot per session, a fresh account per test, a cutting TCP proxy.

Fixtures:
* `dovecot` (session): a started `tests.dovecot_server.DovecotServer` (host, imap_port, pop3_port,
  imaps_port, pop3s_port, ca_file, add_user(), maildir(login)). Skips with what to install when
  Dovecot is missing, fails instead when CI=true.
* `mail_account` (function): a new `MailAccount` (login, password, host, the four ports, ca_file,
  maildir, append(), create_folder(), delete_folder(), folder_exists(), uids(), message_count(),
  uidvalidity(), flags(), source_config(protocol="imap", **overrides), imap()).
* `cut_proxy` (function): factory `cut_proxy(port, cut_after=None, stall_after=None,
  listen_host="127.0.0.1") -> CutProxy`
  (host, port, bytes_from_server, connections); all proxies close at test end.
* `fake_server` (function): factory `fake_server("imap"|"pop3") -> FakeServer` (host, port,
  received): a server that never offers STARTTLS.
"""
from __future__ import annotations

import os
from typing import Callable, Iterator

import pytest

from tests.dovecot_server import CutProxy, DovecotServer, FakeServer, MailAccount, missing_reason


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    reason = missing_reason()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    server = DovecotServer.start_new()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mail_account(dovecot: DovecotServer) -> Iterator[MailAccount]:
    account = dovecot.add_user()
    try:
        yield account
    finally:
        account.close()


@pytest.fixture
def cut_proxy() -> Iterator[Callable[..., CutProxy]]:
    proxies: list[CutProxy] = []

    def make(port: int, cut_after: int | None = None, stall_after: int | None = None,
             listen_host: str = "127.0.0.1") -> CutProxy:
        proxy = CutProxy(port, cut_after=cut_after, stall_after=stall_after, listen_host=listen_host)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.close()


@pytest.fixture
def fake_server() -> Iterator[Callable[[str], FakeServer]]:
    servers: list[FakeServer] = []

    def make(protocol: str) -> FakeServer:
        server = FakeServer(protocol)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()
