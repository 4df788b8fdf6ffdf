"""ImapSource against the private Dovecot: listing, incremental UIDs, fetching without \\Seen,
delete/move, folders, UIDVALIDITY, TLS and STARTTLS, and a server dropping or stalling mid-fetch."""
from __future__ import annotations

import io
import logging
import time
import tracemalloc

import pytest

from mailticket_tui.engine.sources import SourceError, open_source
from mailticket_tui.engine.sources.imap import parse_message_id, uid_set
from tests.dovecot_server import free_ports, make_message

SEEN = b"\\Seen"
DELETED = b"\\Deleted"


def fill(account, n: int, folder: str = "INBOX", **kw) -> list[tuple[int, bytes]]:
    out = []
    for i in range(n):
        raw = make_message(i, **kw)
        out.append((account.append(raw, folder), raw))
    return out


# ---- pure helpers -----------------------------------------------------------------------------
def test_uid_set_compresses_ranges():
    assert uid_set([7, 1, 2, 3, 9, 10]) == "1:3,7,9:10"
    assert uid_set([]) == ""


def test_parse_message_id_folded_and_missing():
    assert parse_message_id(b"Message-ID:\r\n  <a.b@c>\r\n\r\n") == "<a.b@c>"
    assert parse_message_id(b"message-id: <x@y> (comment)\r\n") == "<x@y>"
    assert parse_message_id(b"\r\n") is None


# ---- listing ------------------------------------------------------------------------------------
def test_list_all_oldest_first_with_sizes_and_ids(mail_account):
    stored = fill(mail_account, 3)
    with open_source(mail_account.source_config()) as src:
        listed = src.list_all()
    assert [m.uid for m in listed] == [uid for uid, _ in stored]
    assert [m.key for m in listed] == [str(uid) for uid, _ in stored]
    assert [m.size for m in listed] == [len(raw) for _, raw in stored]
    assert all(m.message_id and m.message_id.startswith("<msg-") for m in listed)


def test_list_new_is_incremental_and_drops_the_echo_of_the_last_uid(mail_account):
    first = fill(mail_account, 3)
    highest = first[-1][0]
    with open_source(mail_account.source_config()) as src:
        assert [m.uid for m in src.list_new(None)] == [u for u, _ in first]
        assert src.list_new(highest) == []  # `UID n+1:*` answers the highest UID: must be dropped
        assert src.list_new(highest + 50) == []
        later = fill(mail_account, 2)
        assert [m.uid for m in src.list_new(highest)] == [u for u, _ in later]


def test_folder_state_reports_uidvalidity_uidnext_count(mail_account):
    stored = fill(mail_account, 2)
    with open_source(mail_account.source_config()) as src:
        state = src.folder_state()
        assert state.count == 2
        assert state.uidnext == stored[-1][0] + 1
        assert state.uidvalidity == mail_account.uidvalidity() == src.uidvalidity
        mail_account.append(make_message(9))
        assert src.folder_state().uidnext == stored[-1][0] + 2  # fresh on the same connection


def test_empty_folder_lists_nothing(mail_account):
    with open_source(mail_account.source_config()) as src:
        assert src.list_all() == [] and src.list_new(None) == [] and src.list_new(5) == []
        assert src.folder_state().count == 0


# ---- reading ------------------------------------------------------------------------------------
def test_reading_never_sets_seen(mail_account):
    (uid, raw), = fill(mail_account, 1)
    with open_source(mail_account.source_config()) as src:
        assert src.fetch(str(uid)) == raw
        assert src.fetch_headers(str(uid)) == raw.split(b"\r\n\r\n")[0] + b"\r\n\r\n"
        buf = io.BytesIO()
        assert src.fetch_to(str(uid), buf) == len(raw) and buf.getvalue() == raw
        assert dict(src.fetch_many([str(uid)])) == {str(uid): raw}
    assert SEEN not in mail_account.flags(uid)


def test_fetch_many_batches_in_key_order(mail_account):
    stored = fill(mail_account, 23)
    with open_source(mail_account.source_config()) as src:
        src.batch_size = 10
        listed = src.list_all()
        got = list(src.fetch_many([m.key for m in reversed(listed)] + ["999999"]))
    assert [k for k, _ in got] == [str(u) for u, _ in reversed(stored)]  # vanished key left out
    assert [raw for _, raw in got] == [raw for _, raw in reversed(stored)]


def test_fetch_to_streams_a_big_message_in_chunks(mail_account, tmp_path):
    line = b"0123456789abcdef" * 4 + b"\r\n"
    raw = make_message(1, body=line * (4_000_000 // len(line)))
    uid = mail_account.append(raw)
    out = tmp_path / "big.eml"
    with open_source(mail_account.source_config()) as src:
        src.chunk_size = 256 * 1024
        src.list_all()
        tracemalloc.start()
        with out.open("wb") as f:
            written = src.fetch_to(str(uid), f)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert written == len(raw) and out.read_bytes() == raw
    assert peak < len(raw) / 3, f"peak {peak} bytes: the message was held whole"


def test_fetch_of_a_vanished_message_is_missing(mail_account):
    (uid, _), = fill(mail_account, 1)
    with open_source(mail_account.source_config()) as src:
        with pytest.raises(SourceError) as err:
            src.fetch(str(uid + 10))
    assert err.value.kind == "missing"


def test_imaplib_debug_formatting_is_off(mail_account):
    with open_source(mail_account.source_config()) as src:
        assert src._client._imap.debug == 0


# ---- delete and move ----------------------------------------------------------------------------
def test_delete_expunges_only_our_messages(mail_account):
    ours, keep = fill(mail_account, 2)
    foreign = mail_account.append(make_message(7), flags=[DELETED])  # another client's pending delete
    with open_source(mail_account.source_config()) as src:
        src.delete([str(ours[0])])
    assert mail_account.uids() == [keep[0], foreign]


def test_delete_without_uidplus_leaves_foreign_deleted_alone(mail_account):
    ours, other = fill(mail_account, 2)
    with open_source(mail_account.source_config()) as src:
        src.ignore_capabilities = {"UIDPLUS"}
        src.delete([str(ours[0])])  # no foreign \Deleted: plain EXPUNGE is safe
        assert mail_account.uids() == [other[0]]
        foreign = mail_account.append(make_message(8), flags=[DELETED])
        src.delete([str(other[0])])
    # A foreign \Deleted exists: no EXPUNGE; ours stays flagged, the foreign one is not expunged.
    assert mail_account.uids() == [other[0], foreign]
    assert DELETED in mail_account.flags(other[0])


def test_move_to_existing_folder(mail_account):
    (uid, raw), (other, _) = fill(mail_account, 2)
    mail_account.create_folder("Done")
    with open_source(mail_account.source_config()) as src:
        src.move([str(uid)], "Done")
        assert [m.uid for m in src.list_all()] == [other]
    assert mail_account.uids() == [other]
    with open_source(mail_account.source_config(mailbox="Done")) as done:
        (moved,) = done.list_all()
        assert done.fetch(moved.key) == raw


def test_move_without_move_capability_copies_then_deletes(mail_account):
    (uid, raw), (other, _) = fill(mail_account, 2)
    mail_account.create_folder("Done")
    with open_source(mail_account.source_config()) as src:
        src.ignore_capabilities = {"MOVE"}
        src.move([str(uid)], "Done")
    assert mail_account.uids() == [other] and len(mail_account.uids("Done")) == 1


def test_move_to_missing_folder_names_it_and_changes_nothing(mail_account):
    (uid, _), = fill(mail_account, 1)
    with open_source(mail_account.source_config()) as src:
        with pytest.raises(SourceError) as err:
            src.move([str(uid)], "Archive/Nowhere")
    assert err.value.kind == "folder" and "Archive/Nowhere" in str(err.value)
    assert mail_account.uids() == [uid]


# ---- folders ------------------------------------------------------------------------------------
def test_missing_folder_is_a_folder_error_naming_it(mail_account):
    with pytest.raises(SourceError) as err:
        with open_source(mail_account.source_config(mailbox="Nope")):
            pass
    assert err.value.kind == "folder" and "'Nope'" in str(err.value)


def test_empty_mailbox_means_inbox(mail_account):
    fill(mail_account, 1)
    with open_source(mail_account.source_config(mailbox="")) as src:
        assert src.folder == "INBOX" and len(src.list_all()) == 1


def test_two_inboxes_share_one_account_with_different_folders(mail_account):
    mail_account.create_folder("Support")
    inbox = fill(mail_account, 2)
    support = fill(mail_account, 3, folder="Support")
    with open_source(mail_account.source_config(name="a")) as a, \
            open_source(mail_account.source_config(name="b", mailbox="Support")) as b:
        assert [m.uid for m in a.list_all()] == [u for u, _ in inbox]
        assert [m.uid for m in b.list_all()] == [u for u, _ in support]
        assert a.fetch(str(inbox[0][0])) == inbox[0][1]
        assert b.fetch(str(support[0][0])) == support[0][1]
        b.delete([str(support[0][0])])
        assert len(a.list_all()) == 2 and len(b.list_all()) == 2


def test_uidvalidity_change_is_visible_in_folder_state(mail_account):
    mail_account.create_folder("Box")
    fill(mail_account, 2, folder="Box")
    cfg = mail_account.source_config(mailbox="Box")
    with open_source(cfg) as src:
        before = src.folder_state()
    mail_account.delete_folder("Box")
    mail_account.create_folder("Box")
    fill(mail_account, 1, folder="Box")
    with open_source(cfg) as src:
        after = src.folder_state()
    assert after.uidvalidity != before.uidvalidity
    assert after.count == 1 and after.uidnext == 2


def test_message_id_as_key(mail_account):
    a = mail_account.append(make_message(1, message_id="<same@x>"))
    b = mail_account.append(make_message(2, message_id="<same@x>"))
    c = mail_account.append(make_message(3, message_id=None))
    with open_source(mail_account.source_config(use_message_id_as_uid=True)) as src:
        keys = [m.key for m in src.list_all()]
        assert keys == ["<same@x>", f"<same@x>#uid:{b}", f"uid:{c}"]
        assert b"message 1" in src.fetch("<same@x>") and b"message 2" in src.fetch(keys[1])
    with open_source(mail_account.source_config(use_message_id_as_uid=True)) as fresh:
        assert b"message 1" in fresh.fetch("<same@x>")  # found by SEARCH HEADER without a listing
        fresh.delete(["<same@x>"])
    assert mail_account.uids() == [b, c] and a not in mail_account.uids()


# ---- connection failures ------------------------------------------------------------------------
def test_wrong_password_is_auth_error_without_the_password(mail_account):
    with pytest.raises(SourceError) as err:
        with open_source(mail_account.source_config(password="Wr0ng-pa55")):
            pass
    assert err.value.kind == "auth" and "Wr0ng-pa55" not in str(err.value)
    assert mail_account.login in str(err.value)


def test_closed_port_is_refused():
    (port,) = free_ports(1)
    with pytest.raises(SourceError) as err:
        with open_source(_cfg(port=port)):
            pass
    assert err.value.kind == "refused" and f"127.0.0.1:{port}" in str(err.value)


def test_unknown_host_is_dns_error():
    with pytest.raises(SourceError) as err:
        with open_source(_cfg(server="nowhere.invalid", port=143)):
            pass
    assert err.value.kind == "dns" and "nowhere.invalid" in str(err.value)


def _cfg(**kw):
    from mailticket_tui.engine.sources.base import SourceConfig

    values = dict(name="t", protocol="imap", server="127.0.0.1", tls="none", login="x", password="y", timeout=5)
    values.update(kw)
    return SourceConfig(**values)


@pytest.mark.timeout(20)
def test_server_dropping_mid_fetch_gives_source_error_promptly(mail_account, cut_proxy):
    raw = make_message(1, body=b"x" * 70 + b"\r\n" * 1 + (b"y" * 998 + b"\r\n") * 600)
    uid = mail_account.append(raw)
    proxy = cut_proxy(mail_account.imap_port, cut_after=60_000)
    start = time.monotonic()
    with pytest.raises(SourceError) as err:
        with open_source(mail_account.source_config(port=proxy.port)) as src:
            src.fetch(str(uid))
    assert err.value.kind == "protocol" and "lost" in str(err.value)
    assert time.monotonic() - start < 5
    assert SEEN not in mail_account.flags(uid)


@pytest.mark.timeout(20)
def test_stalled_server_times_out(mail_account, cut_proxy):
    uid = mail_account.append(make_message(1, body=b"z" * 200_000 + b"\r\n"))
    proxy = cut_proxy(mail_account.imap_port, stall_after=20_000)
    start = time.monotonic()
    with pytest.raises(SourceError) as err:
        with open_source(mail_account.source_config(port=proxy.port, timeout=1.0)) as src:
            src.fetch(str(uid))
    assert err.value.kind == "timeout"
    assert time.monotonic() - start < 6


# ---- TLS ----------------------------------------------------------------------------------------
def test_implicit_tls_with_the_test_ca(mail_account):
    fill(mail_account, 1)
    with open_source(mail_account.source_config(tls="ssl")) as src:
        assert src.tls_version and src.tls_version.startswith("TLSv1")
        assert len(src.list_all()) == 1


def test_starttls_with_the_test_ca(mail_account):
    with open_source(mail_account.source_config(tls="starttls")) as src:
        assert src.tls_version and src.port == mail_account.imap_port
        assert "STARTTLS" not in src.capabilities()  # capabilities re-read after TLS


@pytest.mark.parametrize("tls", ["ssl", "starttls"])
def test_unknown_ca_is_tls_error(mail_account, tls):
    with pytest.raises(SourceError) as err:
        with open_source(mail_account.source_config(tls=tls, ca_file="")):
            pass
    assert err.value.kind == "tls" and "certificate verify failed" in str(err.value)


def test_verification_off_connects_to_an_unknown_ca(mail_account):
    with open_source(mail_account.source_config(tls="ssl", ca_file="", verify_certificate=False)) as src:
        assert src.tls_version


def test_wrong_host_name_is_tls_error(mail_account, cut_proxy):
    # The certificate names localhost and 127.0.0.1; reach the same server as 127.0.0.2 (loopback too).
    proxy = cut_proxy(mail_account.imaps_port, listen_host="127.0.0.2")
    with pytest.raises(SourceError) as err:
        with open_source(mail_account.source_config(tls="ssl", server="127.0.0.2", port=proxy.port)):
            pass
    assert err.value.kind == "tls" and "127.0.0.2" in str(err.value)


def test_starttls_missing_on_server_fails_before_login(fake_server):
    server = fake_server("imap")
    with pytest.raises(SourceError) as err:
        with open_source(_cfg(port=server.port, tls="starttls", password="s3cret-pw")):
            pass
    assert err.value.kind == "tls" and "STARTTLS" in str(err.value)
    sent = b"".join(server.received)
    assert b"LOGIN" not in sent.upper() and b"s3cret-pw" not in sent


def test_tls_to_a_plain_port_is_tls_error(mail_account):
    with pytest.raises(SourceError) as err:
        with open_source(mail_account.source_config(tls="ssl", port=mail_account.imap_port)):
            pass
    assert err.value.kind == "tls"


def test_password_never_logged(mail_account, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    mail_account.append(make_message(1))
    with open_source(mail_account.source_config()) as src:
        src.fetch(src.list_all()[0].key)
    with pytest.raises(SourceError):
        with open_source(mail_account.source_config(password="Wr0ng-pa55")):
            pass
    out, err = capfd.readouterr()
    for text in (caplog.text, out, err):
        assert mail_account.password not in text and "Wr0ng-pa55" not in text
