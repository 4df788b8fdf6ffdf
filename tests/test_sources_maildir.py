"""MaildirSource on plain folders (no server) and on the Maildir the private Dovecot writes."""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from mailticket_tui.engine.sources import SourceConfig, SourceError, open_source
from mailticket_tui.engine.sources.maildir import unique_part
from tests.dovecot_server import make_message


def make_dir(root: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def put(folder: Path, name: str, raw: bytes, mtime: float, sub: str = "new") -> Path:
    path = folder / sub / name
    path.write_bytes(raw)
    os.utime(path, (mtime, mtime))
    return path


def cfg(root: Path, mailbox: str = "INBOX") -> SourceConfig:
    return SourceConfig(name="md", protocol="maildir", server=str(root), mailbox=mailbox, tls="none")


@pytest.fixture
def box(tmp_path: Path) -> Path:
    return make_dir(tmp_path / "Maildir")


def test_unique_part_drops_the_info_suffix():
    assert unique_part("1700000000.M1P2.host,S=120:2,RS") == "1700000000.M1P2.host,S=120"
    assert unique_part("1700000000.M1P2.host") == "1700000000.M1P2.host"


def test_lists_oldest_first_by_mtime_then_name(box):
    put(box, "b", b"2", 2000)
    put(box, "a", b"11", 2000)
    put(box, "c:2,S", b"333", 1000, sub="cur")
    with open_source(cfg(box)) as src:
        listed = src.list_all()
        assert [(m.key, m.size) for m in listed] == [("c", 3), ("a", 2), ("b", 1)]
        assert src.list_new(99) == listed
        state = src.folder_state()
    assert (state.uidvalidity, state.uidnext, state.count) == (None, None, 3)


def test_reading_never_renames_so_flags_never_change(box):
    raw = make_message(1)
    put(box, "x1", raw, 1000)
    put(box, "x2:2,F", raw, 1001, sub="cur")
    before = sorted(p.name for p in box.rglob("*") if p.is_file())
    with open_source(cfg(box)) as src:
        assert src.fetch("x1") == raw
        assert src.fetch_headers("x2") == raw.split(b"\r\n\r\n")[0] + b"\r\n\r\n"
        out = io.BytesIO()
        assert src.fetch_to("x2", out) == len(raw) and out.getvalue() == raw
        assert dict(src.fetch_many(["x1"])) == {"x1": raw}
    assert sorted(p.name for p in box.rglob("*") if p.is_file()) == before


def test_key_survives_another_client_moving_the_file(box):
    put(box, "k1", b"hello", 1000)
    with open_source(cfg(box)) as src:
        (msg,) = src.list_all()
        os.rename(box / "new" / "k1", box / "cur" / "k1:2,S")  # a mail client read it
        assert src.fetch(msg.key) == b"hello"


def test_delete_removes_the_file_and_is_idempotent(box):
    put(box, "d1", b"1", 1000)
    put(box, "d2", b"2", 1001)
    with open_source(cfg(box)) as src:
        src.delete(["d1"])
        src.delete(["d1"])
        assert [m.key for m in src.list_all()] == ["d2"]
        with pytest.raises(SourceError) as err:
            src.fetch("d1")
    assert err.value.kind == "missing"


def test_move_into_subfolder_cur(box):
    make_dir(box / ".Done")
    put(box, "m1", b"1", 1000)
    put(box, "m2:2,S", b"2", 1001, sub="cur")
    with open_source(cfg(box)) as src:
        src.move(["m1", "m2"], "Done")
        assert src.list_all() == []
    assert sorted(p.name for p in (box / ".Done" / "cur").iterdir()) == ["m1:2,", "m2:2,S"]
    with open_source(cfg(box, "Done")) as done:
        assert [m.key for m in done.list_all()] == ["m1", "m2"]


def test_move_to_missing_folder_names_it(box):
    put(box, "m1", b"1", 1000)
    with open_source(cfg(box)) as src:
        with pytest.raises(SourceError) as err:
            src.move(["m1"], "Nowhere")
    assert err.value.kind == "folder" and "Nowhere" in str(err.value)
    assert (box / "new" / "m1").exists()


def test_missing_subfolder_and_missing_root(box, tmp_path):
    with pytest.raises(SourceError) as err:
        with open_source(cfg(box, "Support")):
            pass
    assert err.value.kind == "folder" and "Support" in str(err.value)
    with pytest.raises(SourceError) as err:
        with open_source(cfg(tmp_path / "absent")):
            pass
    assert err.value.kind == "folder" and "absent" in str(err.value)


def test_nested_subfolder_name(box):
    make_dir(box / ".Support.Level2")
    put(box / ".Support.Level2", "n1", b"n", 1000)
    with open_source(cfg(box, "Support/Level2")) as src:
        assert [m.key for m in src.list_all()] == ["n1"]


def test_reads_the_maildir_dovecot_writes(mail_account):
    raws = [make_message(i) for i in range(3)]
    for raw in raws:
        mail_account.append(raw)
    with open_source(mail_account.source_config("maildir")) as src:
        listed = src.list_all()
        # Dovecot stores LF line ends; the bytes differ from IMAP's CRLF view only by CR.
        assert [src.fetch(m.key).replace(b"\r\n", b"\n") for m in listed] == [r.replace(b"\r\n", b"\n") for r in raws]
