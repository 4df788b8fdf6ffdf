"""Files too big for the store go to `big_files_dir`, and the ticket gets a warning file saying where.

The bytes are written 0600 under a name made from their sha256 and the cleaned display name, never a path
taken from the mail; writing the same file again (a retried message) finds it there and reuses it. The
write happens before the ticket transaction commits: a rollback can leave a file behind, never lose one.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..safe_files import UnsafeWriteError, write_private


def target_name(sha256: str, filename: str) -> str:
    """`<first 16 hex of sha256>-<name>`, only [A-Za-z0-9._-] kept from the display name."""
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", filename)[:120].lstrip(".") or "file"
    return f"{sha256[:16]}-{clean}"


def save(folder: str, sha256: str, filename: str, data: bytes) -> tuple[str, str]:
    """(path, problem): the path written (or found with the same size), else "" and why not."""
    if not folder:
        return "", "big_files_dir is not set"
    target = Path(folder).expanduser() / target_name(sha256, filename)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_private(target, data)
    except UnsafeWriteError as exc:
        if exc.reason == "exists" and target.stat().st_size == len(data):
            return str(target), ""
        return "", str(exc)
    except OSError as exc:
        return "", f"{target}: {exc.strerror or exc}"
    return str(target), ""


def warning_text(filename: str, size: int, content_type: str, reason: str, path: str, problem: str) -> str:
    """The body of the warning file that stands in for the big file on the ticket."""
    where = f"It was saved on the MailTicket host as:\n{path}\n" if path else (
        f"It could not be saved ({problem}); the original mail stays in the store (messages show --eml).\n")
    return (f"The attachment {filename!r} ({size} bytes, {content_type}) was not stored on this ticket: {reason}.\n"
            + where)


_CONTENT_HEADERS = (b"content-type", b"content-transfer-encoding", b"content-disposition", b"mime-version")


def standin_mail(headers: bytes, size: int, reason: str, path: str) -> bytes:
    """A small mail standing in for one too big to process: the original's headers (so threading, caller
    and subject work as usual), a body saying where the whole mail is, and the same text as a warning file."""
    kept, skipping = [], False
    for line in headers.replace(b"\r\n", b"\n").split(b"\n"):
        if not line.strip():
            break
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        skipping = line.split(b":", 1)[0].strip().lower() in _CONTENT_HEADERS
        if not skipping:
            kept.append(line)
    text = (f"This mail was too big to be processed ({size} bytes): {reason}.\n"
            + (f"The whole mail was saved on the MailTicket host as:\n{path}\n" if path else
               "It was not saved (big_files_dir is not set).\n"))
    body = text.encode("utf-8")
    boundary = b"mailticket-big-mail"
    return (b"\r\n".join(kept) + b"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"" + boundary
            + b"\"\r\n\r\n--" + boundary + b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body
            + b"\r\n--" + boundary + b"\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Disposition: attachment; filename=\"warning-big-mail.txt\"\r\n\r\n" + body
            + b"\r\n--" + boundary + b"--\r\n")
