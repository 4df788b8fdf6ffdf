"""A small test harness for rules tests: one IMAP inbox on the private Dovecot, a store, and `run --once`."""
from __future__ import annotations

import json
from pathlib import Path

from mailticket_tui.cli import main
from mailticket_tui.store.models import MailMessage, Person, Ticket, database_proxy


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


class Desk:
    """Append mails, run a pass, look at the store."""

    def __init__(self, account, tmp_path: Path) -> None:
        self.account = account
        self.tmp_path = tmp_path
        self.store = f"sqlite:///{tmp_path / 'desk.db'}"
        self.config = tmp_path / "desk.toml"
        self.configure()

    def configure(self, engine: dict | None = None, org_domains: dict | None = None, **inbox) -> None:
        fields = {"name": "desk", "protocol": "imap", "server": self.account.host, "port": self.account.imap_port,
                  "tls": "none", "login": self.account.login, "password": self.account.password,
                  "unknown_caller_behavior": "create_contact", **inbox}
        text = "".join(f"{k} = {toml_value(v)}\n" for k, v in fields.items())
        engine_text = "".join(f"{k} = {toml_value(v)}\n" for k, v in (engine or {}).items())
        orgs = "".join(f"{json.dumps(k)} = {json.dumps(v)}\n" for k, v in (org_domains or {}).items())
        self.config.write_text(f"[engine]\n{engine_text}\n[org_domains]\n{orgs}\n[[inbox]]\n{text}")
        if Path(self.store[len("sqlite:///"):]).exists():
            assert main(["--db", self.store, "config", "import", str(self.config)]) == 0

    def send(self, raw: bytes) -> int:
        return self.account.append(raw)

    def run(self) -> int:
        code = main(["--config", str(self.config), "--db", self.store, "run", "--once"])
        return code

    def person(self, email: str, **fields) -> Person:
        self.run()  # make sure the store exists and is bootstrapped
        return Person.create(email=email.lower(), **fields)

    def ticket(self, title: str) -> Ticket:
        return Ticket.get(Ticket.title == title)

    def tickets(self) -> list[Ticket]:
        return list(Ticket.select().order_by(Ticket.id))

    def last_message(self) -> MailMessage:
        return MailMessage.select().order_by(MailMessage.id.desc()).get()

    def close(self) -> None:
        database_proxy.close()
