"""Writing a file the user named (a saved .eml, an attachment, `config export -o`): the one way to do it.

Such files may hold mail and secrets, and their name may come from mail or be typed in a hurry, so every
writer of the TUI and the CLI goes through `write_private`:
* mode 0600, whatever the umask (set on the open descriptor, never after the content is in);
* never through a symbolic link (O_NOFOLLOW, and a link is refused even when replacing is asked: the
  link's target is not ours to change);
* never over an existing file unless the caller asked (`overwrite=True`, after asking the user); replacing
  writes a temporary file beside the target and renames it over, so a failed write leaves the old file.
Refusals are `UnsafeWriteError`, an OSError whose message is one line naming the path and the way out.
Never imports textual or rich (the CLI uses it too).
"""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

MODE = 0o600
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class UnsafeWriteError(OSError):
    """A write refused before touching anything: `reason` is exists | symlink | not_file."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_target(path: str | Path, overwrite: bool = False) -> Path:
    """The target as it will be written (`~` expanded), or UnsafeWriteError when it is a symbolic link, not a
    regular file, or exists and `overwrite` is not asked. For asking the user before writing."""
    target = Path(path).expanduser()
    if target.is_symlink():
        raise UnsafeWriteError("symlink", f"{target} is a symbolic link; not written through it, choose another name")
    if target.exists():
        if not target.is_file():
            raise UnsafeWriteError("not_file", f"{target} exists and is not a regular file; choose another name")
        if not overwrite:
            raise UnsafeWriteError("exists", f"{target} already exists; not replaced")
    return target


def write_private(path: str | Path, data: bytes | str, overwrite: bool = False) -> Path:
    """Write `data` (str as UTF-8) to `path`, mode 0600, never through a symlink, never over an existing file
    unless `overwrite`. Returns the path written. Raises UnsafeWriteError for a refusal, OSError otherwise
    (missing folder, no permission), with nothing left behind."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    target = check_target(path, overwrite)
    if overwrite and os.path.lexists(target):
        return _replace(target, payload)
    try:
        fd = os.open(target, _FLAGS, MODE)
    except FileExistsError:  # appeared since the check, or a link created meanwhile
        return _refuse_existing(target)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeWriteError("symlink", f"{target} is a symbolic link; not written through it, choose "
                                              "another name") from None
        raise
    _fill(fd, target, payload, remove_on_error=True)
    return target


def _refuse_existing(target: Path) -> Path:
    check_target(target)  # raises the precise refusal (link, not a file, exists)
    raise UnsafeWriteError("exists", f"{target} already exists; not replaced")


def _fill(fd: int, target: Path, payload: bytes, remove_on_error: bool) -> None:
    try:
        os.fchmod(fd, MODE)  # the umask may have taken bits away; never more than 0600 either way
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        if remove_on_error:
            Path(target).unlink(missing_ok=True)
        raise


def _replace(target: Path, payload: bytes) -> Path:
    """Write a temporary file in the target's folder (mkstemp: O_EXCL, 0600), then rename it over the target:
    the old content stays whole until the new one is complete, and a link put there meanwhile is replaced,
    not followed."""
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    _fill(fd, Path(temporary), payload, remove_on_error=True)
    try:
        if os.path.isdir(target) and not os.path.islink(target):
            raise UnsafeWriteError("not_file", f"{target} exists and is not a regular file; choose another name")
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
