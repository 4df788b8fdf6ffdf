"""Helpers shared by the runner tests: settings files for IMAP/POP3/Maildir inboxes, the CLI in-process,
and quick looks at the store and the server."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from mailticket_tui.cli import main
from mailticket_tui.store.models import MailMessage, Ticket

from .desk import toml_value


def inbox_toml(name: str, protocol: str, account=None, maildir: Path | None = None, port: int | None = None,
               **fields) -> str:
    """One [[inbox]] table; IMAP/POP3 against the private Dovecot (plain), or a Maildir path."""
    values: dict = {"name": name, "protocol": protocol, "unknown_caller_behavior": "create_contact"}
    if protocol == "maildir":
        values["server"] = str(maildir)
    else:
        values.update(server=account.host, tls="none", login=account.login, password=account.password,
                      port=port or (account.imap_port if protocol == "imap" else account.pop3_port))
    values.update(fields)
    return "[[inbox]]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in values.items())


def settings_text(*inboxes: str, **engine) -> str:
    head = "[engine]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in engine.items()) if engine else ""
    return head + "\n" + "\n".join(inboxes)


def write_settings(tmp_path: Path, *inboxes: str, name: str = "mailticket.toml", **engine) -> Path:
    path = tmp_path / name
    path.write_text(settings_text(*inboxes, **engine), encoding="utf-8")
    return path


class Cli:
    """`mailticket` in-process against one store; returns (exit code, stdout, stderr)."""

    def __init__(self, store_url: str, capsys) -> None:
        self.store_url, self.capsys = store_url, capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(["--db", self.store_url, *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def use(self, config: Path) -> None:
        """Make these the store's settings (the store owns them once bootstrapped)."""
        code, _, err = self("config", "import", str(config))
        assert code == 0, err

    def run_once(self, *extra: str) -> tuple[int, str, str]:
        return self("run", "--once", *extra)

    def messages(self, *extra: str) -> list[dict]:
        code, out, err = self("messages", "list", "--json", *extra)
        assert code == 0, err
        return json.loads(out)


def tickets() -> list[Ticket]:
    return list(Ticket.select().order_by(Ticket.id))


def records() -> list[MailMessage]:
    return list(MailMessage.select().order_by(MailMessage.id))


def age(field, days: float, **where) -> None:
    """Move a timestamp of the matching message records `days` into the past."""
    when = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(days=days)
    query = MailMessage.update({field: when})
    for name, value in where.items():
        query = query.where(getattr(MailMessage, name) == value)
    assert query.execute(), f"no record matched {where}"


def subjects(account, folder: str = "INBOX") -> list[str]:
    """Subjects of the messages in a folder of the account (read-only look)."""
    client = account.imap()
    client.select_folder(folder, readonly=True)
    try:
        uids = client.search("ALL")
        data = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"]) if uids else {}
    finally:
        client.unselect_folder()
    return sorted(v[b"BODY[HEADER.FIELDS (SUBJECT)]"].decode().split(":", 1)[1].strip() for v in data.values())
