"""Builders shared by the TUI tests: a temporary store with inboxes, messages and tickets, made through the
services and the store models with fixed timestamps (stable snapshots). Holds no test itself.
"""
from __future__ import annotations

import asyncio
import io
import os
import datetime as dt
import hashlib
import json
import textwrap
from pathlib import Path


from rich.console import Console

from mailticket_tui.services import Services, open_services
from mailticket_tui.store.models import (
    Attachment,
    Blob,
    CaseLogEntry,
    Change,
    Inbox,
    MailMessage,
    Organization,
    Person,
    Ticket,
    database_proxy,
)

from .mailgen import make_mail

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")  # no animation to wait for in Pilot tests

WHEN = dt.datetime(2026, 11, 20, 9, 30, 0)

# Everything an attacker controls in a mail, aimed at Rich/Textual markup and at the terminal itself.
HOSTILE = [
    "[@click=app.quit]CLICK ME[/]",
    "Re: [/] oops [bold]bold[/bold] [link=http://evil]x[/link]",
    "esc \x1b[2J\x1b]0;owned\x07 \x1b]52;c;ZXZpbA==\x07 \x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\",
    "c1 \x9b31m csi \x85 nel",
    "rtl \u202egpj.exe bidi \u2066x\u2069 nul \x00 bel \x07 del \x7f",
]
HOSTILE_SUBJECT = " | ".join(HOSTILE)
FORBIDDEN = ("\x1b", "\x9b", "\x00", "\x07", "\u202e", "\x85", "\x7f")


def make_maildir(root: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def open_store(tmp_path: Path, inboxes: str = "", *, relative: bool = False) -> Services:
    """A fresh store bootstrapped from a TOML file holding `inboxes` ([[inbox]] tables).

    `relative` uses paths relative to the current directory (the caller chdir'ed to tmp_path), so the
    header line is the same in every run (snapshots).
    """
    config = tmp_path / "mailticket.toml"
    config.write_text(textwrap.dedent(inboxes), encoding="utf-8")
    if relative:
        return open_services(config="mailticket.toml", db="sqlite:///store.db")
    return open_services(config=str(config), db=f"sqlite:///{tmp_path / 'store.db'}")


def maildir_inbox(name: str, path: Path, extra: str = "") -> str:
    return f"""
    [[inbox]]
    name = "{name}"
    protocol = "maildir"
    server = "{path}"
    unknown_caller_behavior = "create_contact"
    {extra}
    """


def blob(data: bytes) -> Blob:
    digest = hashlib.sha256(data).hexdigest()
    return Blob.get_or_create(sha256=digest, defaults={"size": len(data), "data": data})[0]


def add_messages(inbox: str, count: int, *, subject: str = "Printer jams #{n}", status: str = "processed",
                 sender: str = "alice@acme.example", error: str = "", raw: bytes | None = None,
                 ticket: Ticket | None = None) -> list[int]:
    """`count` message records in one transaction (what the engine would have stored: the helpers' inboxes
    are Maildirs, whose folder epoch, stored as uidvalidity, is 0)."""
    inbox_id = Inbox.get(Inbox.name == inbox).id
    first = MailMessage.select().where(MailMessage.inbox == inbox_id).count()
    raw_blob = blob(raw) if raw is not None else None
    rows = [{"inbox": inbox_id, "folder": "INBOX", "uidvalidity": 0, "uid": first + n + 1, "key": f"{first + n + 1}",
             "message_id": f"m{n}@acme.example", "size": 1000 + n, "date": WHEN + dt.timedelta(minutes=first + n),
             "from_addr": sender, "subject": subject.format(n=n), "status": status, "error": error,
             "trace": f"size ok\ncaller {sender}\ndecision: {status}", "raw": raw_blob,
             "ticket": ticket, "first_seen": WHEN, "last_seen": WHEN, "processed_at": WHEN, "on_server": False}
            for n in range(count)]
    with database_proxy.atomic():
        for start in range(0, len(rows), 500):
            MailMessage.insert_many(rows[start:start + 500]).execute()
    return [m.id for m in MailMessage.select(MailMessage.id).where(MailMessage.inbox == inbox_id)
            .order_by(MailMessage.id)]


def add_ticket(ref: str = "R-000001", title: str = "Printer jams", *, caller: str = "alice@acme.example",
               klass: str = "UserRequest", status: str = "new", inbox: str | None = None,
               attachment_name: str = "report.pdf", log_text: str = "It still jams.") -> Ticket:
    with database_proxy.atomic():
        org = Organization.get_or_create(name="ACME Corp")[0]
        person = Person.get_or_create(email=caller, defaults={"first_name": "Alice", "name": "Martin", "org": org})[0]
        ticket = Ticket.create(klass=klass, ref=ref, title=title, description=f"<p>{title}: description</p>",
                               caller=person, org=org, status=status, created=WHEN, updated=WHEN,
                               inbox=Inbox.get(Inbox.name == inbox).id if inbox else None)
        CaseLogEntry.create(ticket=ticket, author_name="Alice", author_email=caller, date=WHEN,
                            html=f"<p>{log_text}</p>")
        Attachment.create(ticket=ticket, filename=attachment_name, content_type="application/pdf", size=4,
                          blob=blob(b"%PDF"))
        Change.create(ticket=ticket, who="mail", date=WHEN, fields=json.dumps(["title"]), summary="created by mail")
    return ticket


def mail_bytes(subject: str = "Printer jams", sender: str = "Alice Martin <alice@acme.example>") -> bytes:
    return make_mail(sender=sender, subject=subject)


async def settle(pilot) -> None:
    """Let workers finish and their messages land, until no worker is left (the engine's loop aside). Idle
    twice in a row: a screen pushed without being awaited starts its worker only once mounted, and a failed
    worker's StateChanged is handled after it finished."""
    app = pilot.app
    idle = 0
    for _ in range(20):
        await pilot.pause()
        pending = [w for w in app.workers if w.group != "engine" and not w.is_finished]
        if not pending:
            idle += 1
            if idle == 2:
                return
            continue
        idle = 0
        await asyncio.gather(*(w.wait() for w in pending), return_exceptions=True)


def screen_output(app) -> tuple[str, str]:
    """(plain text, terminal bytes as text) of the current screen, rendered like a screenshot."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text(clear=False), console.file.getvalue()
