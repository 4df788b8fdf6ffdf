"""An in-process SMTP server (aiosmtpd) that keeps what it receives, for the notification tests."""
from __future__ import annotations

import email
import email.policy
from contextlib import contextmanager
from typing import Iterator

from aiosmtpd.controller import Controller

from .dovecot_server import free_ports


class Sink:
    """Every mail received, parsed, with its envelope recipients."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.rcpts: list[list[str]] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        self.rcpts.append(list(envelope.rcpt_tos))
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def body(self, message: email.message.EmailMessage) -> str:
        return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


@contextmanager
def smtp_sink() -> Iterator[Sink]:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_ports(1)[0])
    controller.start()
    sink.port = controller.port
    try:
        yield sink
    finally:
        controller.stop()
