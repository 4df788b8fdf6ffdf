"""Maildir source: one folder of a local Maildir (Maildir++ subfolders), read from the file system.

Boundary: files only, no server; every failure is a SourceError. `server` is the Maildir path;
mailbox "" or "INBOX" is its root, any other name the Maildir++ subfolder ".Name" ("A/B" -> ".A.B").
The key is the unique part of the file name (before ":2,"), which survives flag changes and the
new/ -> cur/ move other clients make. Reading never renames a file, so flags never change.

A listing is one os.scandir of new/ and one of cur/, with no stat per file: names carry the delivery time
(their leading number, the order of a listing) and, as most delivery agents write them, the size (",S=");
only a name without them costs a stat. A poll (poll_state) stats just the two folders: their modification
times change with every file that comes, goes or is renamed. A folder changed within the last SETTLE
seconds gives no fingerprint, since a file system's clock may not tick between two changes.
"""
from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

from .base import FolderState, RemoteMessage, SourceConfig, SourceError

SETTLE = 2.0  # seconds a folder's modification time must lie in the past to serve as a fingerprint
_SIZE = re.compile(r",S=(\d+)")
_DELIVERED = re.compile(r"(\d{9,})\.")  # the delivery time in seconds that starts a Maildir name


def unique_part(file_name: str) -> str:
    """The stable key of a Maildir file: its name without the ':2,FLAGS' info suffix."""
    return file_name.split(":", 1)[0]


def folder_path(root: Path, mailbox: str) -> Path:
    if mailbox in ("", "INBOX"):
        return root
    return root / ("." + mailbox.strip("/").replace("/", "."))


def is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


class MaildirSource:
    """A Maildir folder. `with MaildirSource(cfg) as src:` checks the folder exists."""

    protocol = "maildir"

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        self.name = config.name
        self.root = Path(config.server).expanduser()
        self.folder = config.mailbox or "INBOX"
        self.path = folder_path(self.root, self.folder)
        self._paths: dict[str, Path] = {}

    def __enter__(self) -> "MaildirSource":
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def connect(self) -> None:
        if not self.root.is_dir():
            raise SourceError("folder", f"Maildir {self.root} does not exist (inbox {self.name}); fix server "
                                        "(the Maildir path) or create it")
        if not is_maildir(self.path):
            raise SourceError("folder", f"folder {self.folder!r} not found in Maildir {self.root} (no cur/ and "
                                        f"new/ in {self.path}); check the mailbox name or create the folder")

    def close(self) -> None:
        pass

    # ---- listings -----------------------------------------------------------------------------
    def _scan(self) -> list[tuple[float, str, Path]]:
        """(delivery time, name, path) of every message, oldest first; one scandir per subfolder. A name
        that does not start with its delivery time ("1764500000.M1P2.host") costs a stat (its mtime)."""
        entries: list[tuple[float, str, Path]] = []
        for sub in ("new", "cur"):
            try:
                with os.scandir(self.path / sub) as it:
                    for entry in it:
                        if entry.name.startswith(".") or not entry.is_file():
                            continue
                        delivered = _DELIVERED.match(entry.name)
                        try:
                            when = int(delivered.group(1)) if delivered else entry.stat().st_mtime
                        except FileNotFoundError:  # taken by another client while we looked
                            continue
                        entries.append((when, entry.name, Path(entry.path)))
            except OSError as exc:
                raise _os_error(exc, f"reading {self.path / sub}") from None
        entries.sort(key=lambda e: (e[0], e[1]))
        self._paths = {unique_part(name): path for _, name, path in entries}
        return entries

    def folder_state(self) -> FolderState:
        return FolderState(uidvalidity=None, uidnext=None, count=len(self._scan()))

    def poll_state(self) -> FolderState:
        """Two stats (new/ and cur/), no listing; the count is left unknown."""
        try:
            stats = [os.stat(self.path / sub) for sub in ("new", "cur")]
        except OSError as exc:
            raise _os_error(exc, f"reading {self.path}") from None
        settled = all(time.time() - st.st_mtime >= SETTLE for st in stats)
        fingerprint = "maildir " + " ".join(f"{st.st_ino}:{st.st_mtime_ns}" for st in stats) if settled else ""
        return FolderState(uidvalidity=None, uidnext=None, count=None, fingerprint=fingerprint)

    def list_new(self, after_uid: int | None) -> list[RemoteMessage]:
        """Every message (Maildir has no UIDs); the runner compares keys with the store."""
        return self.list_all()

    def list_all(self) -> list[RemoteMessage]:
        """Every message, oldest delivery first, sized from its name (",S=") or else by a stat."""
        out = []
        for _when, name, path in self._scan():
            key = unique_part(name)
            sized = _SIZE.search(key)
            if sized:
                size = int(sized.group(1))
            else:
                try:
                    size = path.stat().st_size
                except FileNotFoundError:  # taken by another client while we looked
                    continue
            out.append(RemoteMessage(key=key, size=size))
        return out

    def _path(self, key: str) -> Path:
        path = self._paths.get(key)
        if path is None or not path.exists():
            self._scan()  # another client may have moved it new/ -> cur/ or changed its flags
            path = self._paths.get(key)
        if path is None:
            raise SourceError("missing", f"message {key} is no longer in {self.path}")
        return path

    # ---- reading ------------------------------------------------------------------------------
    def fetch(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise _os_error(exc, f"reading {path}") from None

    def fetch_to(self, key: str, out: BinaryIO) -> int:
        path = self._path(key)
        try:
            with path.open("rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)
                return f.tell()
        except OSError as exc:
            raise _os_error(exc, f"reading {path}") from None

    def fetch_many(self, keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        for key in keys:
            yield key, self.fetch(key)

    def fetch_headers(self, key: str) -> bytes:
        path = self._path(key)
        lines = []
        try:
            with path.open("rb") as f:
                for line in f:
                    lines.append(line)
                    if line in (b"\n", b"\r\n"):
                        break
        except OSError as exc:
            raise _os_error(exc, f"reading {path}") from None
        return b"".join(lines)

    def size_of(self, key: str) -> int | None:
        try:
            return self._path(key).stat().st_size
        except (SourceError, OSError):
            return None

    def capabilities(self) -> list[str]:
        return ["MAILDIR"]

    # ---- writing ------------------------------------------------------------------------------
    def delete(self, keys: Iterable[str]) -> bool:
        """Remove the files; a file already gone counts as deleted. An unlink is final: always True."""
        for key in keys:
            try:
                path = self._path(key)
                path.unlink()
            except SourceError:
                continue
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise _os_error(exc, f"deleting {key} in {self.path}") from None
            self._paths.pop(key, None)
        return True

    def move(self, keys: Iterable[str], folder: str) -> bool:
        """Rename into the target subfolder's cur/ (flags kept; a message from new/ gets ':2,'); final."""
        target = folder_path(self.root, folder)
        if not is_maildir(target):
            raise SourceError("folder", f"target folder {folder!r} does not exist in Maildir {self.root}; create "
                                        "it or fix target_folder")
        for key in keys:
            path = self._path(key)
            name = path.name if ":" in path.name else path.name + ":2,"
            try:
                os.replace(path, target / "cur" / name)  # same file system: atomic, no copy
            except OSError as exc:
                raise _os_error(exc, f"moving {key} to {target}") from None
            self._paths.pop(key, None)
        return True


def _os_error(exc: OSError, doing: str) -> SourceError:
    if isinstance(exc, PermissionError):
        return SourceError("auth", f"permission denied {doing}; run as a user who may read and write the Maildir")
    if isinstance(exc, FileNotFoundError):
        return SourceError("missing", f"file vanished while {doing}")
    return SourceError("protocol", f"{doing} failed: {exc.strerror or exc}")
