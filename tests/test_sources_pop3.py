"""Pop3Source against the private Dovecot: UIDL identity, LIST sizes, long lines, DELE only on
delete() and only at QUIT, USER and APOP, TLS and STLS, and a server dropping mid-RETR."""
from __future__ import annotations

import io
import logging
import time

import pytest

from mailticket_tui.engine.sources import SourceConfig, SourceError, open_source
from tests.dovecot_server import make_message


def fill(account, n: int, **kw) -> list[bytes]:
    raws = [make_message(i, **kw) for i in range(n)]
    for raw in raws:
        account.append(raw)
    return raws


def pop3(account, **kw) -> SourceConfig:
    return account.source_config("pop3", **kw)


def test_listing_uses_uidl_keys_and_list_sizes_oldest_first(mail_account):
    raws = fill(mail_account, 3)
    with open_source(pop3(mail_account)) as src:
        listed = src.list_all()
        assert [m.size for m in listed] == [len(r) for r in raws]
        assert len({m.key for m in listed}) == 3
        assert src.list_new(10**9) == listed  # POP3 ignores after_uid: the runner compares with the store
        assert [src.fetch(m.key) for m in listed] == raws
        state = src.folder_state()
    assert (state.uidvalidity, state.uidnext, state.count) == (None, None, 3)


def test_uidl_is_stable_across_sessions_and_deletions(mail_account):
    fill(mail_account, 3)
    with open_source(pop3(mail_account)) as src:
        first = [m.key for m in src.list_all()]
        src.delete([first[0]])
    with open_source(pop3(mail_account)) as src:
        assert [m.key for m in src.list_all()] == first[1:]


def test_reading_never_deletes_and_delete_applies_at_quit(mail_account):
    raws = fill(mail_account, 2)
    with open_source(pop3(mail_account)) as src:
        keys = [m.key for m in src.list_all()]
        src.fetch(keys[0])
        src.fetch_headers(keys[1])
        src.fetch_to(keys[1], io.BytesIO())
    assert mail_account.message_count() == 2  # RETR/TOP alone delete nothing
    with open_source(pop3(mail_account)) as src:
        src.delete([keys[0]])
        assert [m.key for m in src.list_all()] == keys[1:]
        with pytest.raises(SourceError) as err:
            src.fetch(keys[0])
        assert err.value.kind == "missing"
    assert mail_account.message_count() == 1
    with open_source(pop3(mail_account)) as src:
        assert src.fetch(keys[1]) == raws[1]


def test_delete_without_quit_is_not_applied(mail_account):
    fill(mail_account, 2)
    with open_source(pop3(mail_account)) as src:
        src.delete([src.list_all()[0].key])
        src._broken = True  # the link dies before QUIT: the server must roll the DELE back
    assert mail_account.message_count() == 2


def test_long_lines_and_dot_stuffing_survive(mail_account):
    body = (b"A" * 10_000 + b"\r\n" + b".starts with a dot\r\n" + b"..two dots\r\n" + b"." + b"B" * 200_000
            + b"\r\n" + b"end\r\n")
    raw = make_message(1, body=body, subject="S" * 3000)
    mail_account.append(raw)
    with open_source(pop3(mail_account)) as src:
        (msg,) = src.list_all()
        assert src.fetch(msg.key) == raw
        out = io.BytesIO()
        assert src.fetch_to(msg.key, out) == len(raw) and out.getvalue() == raw
        header = src.fetch_headers(msg.key)
        assert header == raw.split(b"\r\n\r\n")[0] + b"\r\n\r\n"


def test_fetch_many_in_order(mail_account):
    raws = fill(mail_account, 3)
    with open_source(pop3(mail_account)) as src:
        keys = [m.key for m in src.list_all()]
        assert [raw for _, raw in src.fetch_many(keys[::-1])] == raws[::-1]


def test_apop_login(mail_account):
    fill(mail_account, 1)
    with open_source(pop3(mail_account, pop3_auth="APOP")) as src:
        assert src.folder_state().count == 1


@pytest.mark.parametrize("method", ["USER", "APOP"])
def test_wrong_password_is_auth_error_without_the_password(mail_account, method):
    with pytest.raises(SourceError) as err:
        with open_source(pop3(mail_account, pop3_auth=method, password="Wr0ng-pa55")):
            pass
    assert err.value.kind == "auth" and "Wr0ng-pa55" not in str(err.value)


def test_move_is_refused(mail_account):
    fill(mail_account, 1)
    with open_source(pop3(mail_account)) as src:
        with pytest.raises(SourceError) as err:
            src.move([src.list_all()[0].key], "Archive")
    assert err.value.kind == "protocol" and "POP3 cannot move" in str(err.value)


def test_other_mailbox_than_inbox_is_a_folder_error(mail_account):
    with pytest.raises(SourceError) as err:
        with open_source(pop3(mail_account, mailbox="Support")):
            pass
    assert err.value.kind == "folder" and "Support" in str(err.value)


# ---- TLS ----------------------------------------------------------------------------------------
def test_pop3s_with_the_test_ca(mail_account):
    fill(mail_account, 1)
    with open_source(pop3(mail_account, tls="ssl")) as src:
        assert src.tls_version and src.port == mail_account.pop3s_port
        assert src.folder_state().count == 1


def test_stls_with_the_test_ca(mail_account):
    with open_source(pop3(mail_account, tls="starttls")) as src:
        assert src.tls_version and "STLS" not in src.capabilities()


@pytest.mark.parametrize("tls", ["ssl", "starttls"])
def test_unknown_ca_is_tls_error(mail_account, tls):
    with pytest.raises(SourceError) as err:
        with open_source(pop3(mail_account, tls=tls, ca_file="")):
            pass
    assert err.value.kind == "tls" and "certificate verify failed" in str(err.value)


def test_verification_off_connects(mail_account):
    with open_source(pop3(mail_account, tls="ssl", ca_file="", verify_certificate=False)) as src:
        assert src.tls_version


def test_stls_missing_on_server_fails_before_user(fake_server):
    server = fake_server("pop3")
    cfg = SourceConfig(name="t", protocol="pop3", server=server.host, port=server.port, tls="starttls",
                       login="bob", password="s3cret-pw", timeout=5)
    with pytest.raises(SourceError) as err:
        with open_source(cfg):
            pass
    assert err.value.kind == "tls" and "STLS" in str(err.value)
    sent = b"".join(server.received)
    assert b"USER" not in sent and b"PASS" not in sent and b"s3cret-pw" not in sent


@pytest.mark.timeout(20)
def test_server_dropping_mid_retr_gives_source_error_promptly(mail_account, cut_proxy):
    mail_account.append(make_message(1, body=(b"y" * 998 + b"\r\n") * 600))
    proxy = cut_proxy(mail_account.pop3_port, cut_after=50_000)
    start = time.monotonic()
    with pytest.raises(SourceError) as err:
        with open_source(pop3(mail_account, port=proxy.port)) as src:
            src.fetch(src.list_all()[0].key)
    assert err.value.kind == "protocol"
    assert time.monotonic() - start < 5
    assert mail_account.message_count() == 1


def test_password_never_logged(mail_account, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    fill(mail_account, 1)
    for method in ("USER", "APOP"):
        with open_source(pop3(mail_account, pop3_auth=method)) as src:
            src.fetch(src.list_all()[0].key)
    with pytest.raises(SourceError):
        with open_source(pop3(mail_account, password="Wr0ng-pa55")):
            pass
    out, err = capfd.readouterr()
    for text in (caplog.text, out, err):
        assert mail_account.password not in text and "Wr0ng-pa55" not in text
