"""The OAuth2 consent of one saved inbox, from the inbox form (ctrl+o) or the Inboxes screen (o).

Shows what the admin acts on, never a token: for the device grant the verification URL and the code, for the
browser grant the consent URL and a field to paste the address the browser was sent to when it runs on another
machine (its redirect to our loopback cannot load there). A countdown runs until the code expires. The
consent runs in a thread worker (services.start_authorization, then `wait`); a refusal, an expired code or an
unreachable provider ends there and is shown by screens/base.py's one path as one line. Escape cancels the
wait and closes. Provider text (URL, code) is shown literally. Dismisses with True once the grant is stored.
"""
from __future__ import annotations

import threading

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Static
from textual.worker import Worker

from ..widgets.safe_text import clean
from .base import WorkerFailures, services_of


class ConsentStarted(Message):
    def __init__(self, consent) -> None:
        super().__init__()
        self.consent = consent


class ConsentTicked(Message):
    """Seconds left; a pending tick is replaced by the newer one."""

    def __init__(self, seconds_left: int) -> None:
        super().__init__()
        self.seconds_left = seconds_left

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ConsentTicked)


class ConsentGranted(Message):
    def __init__(self, line: str) -> None:
        super().__init__()
        self.line = line


class AuthorizeScreen(WorkerFailures, ModalScreen[bool]):
    CSS_PATH = "authorize.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, inbox_name: str) -> None:
        super().__init__()
        self.inbox_name = inbox_name
        self.authorization = None
        self.cancelled = threading.Event()

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(f"Authorize inbox {clean(self.inbox_name)} (OAuth2)", style="bold"), id="title")
            yield Static(Text("asking the provider…", style="italic"), id="consent", markup=False)
            yield Input(placeholder="paste the address the browser was sent to, then enter", id="paste")
            yield Static("", id="countdown", markup=False)
            yield Static(Text("escape cancels", style="dim"), id="keys")

    def on_mount(self) -> None:
        self.query_one("#paste", Input).display = False
        self._consent()

    @work(thread=True, exclusive=True, exit_on_error=False, group="authorize", name="authorize the inbox")
    def _consent(self) -> None:
        authorization, consent = services_of(self).start_authorization(self.inbox_name)
        self.authorization = authorization
        try:
            if self.cancelled.is_set():
                authorization.cancel()
            self.post_message(ConsentStarted(consent))
            line = authorization.wait(lambda left: self.post_message(ConsentTicked(left)))
        finally:
            authorization.close()
        self.post_message(ConsentGranted(line))

    def on_consent_started(self, message: ConsentStarted) -> None:
        consent = message.consent
        if consent.flow == "device":
            text = Text.assemble("Open ", (clean(consent.url, limit=300), "bold underline"), "\nand enter the code ",
                                 (clean(consent.user_code, limit=40), "bold reverse"))
        else:
            text = Text.assemble("Open this address in a browser and sign in:\n",
                                 (clean(consent.url, limit=2000), "underline"),
                                 "\nA browser on another machine cannot load the page it is sent to afterwards: "
                                 "paste that page's address below.")
            paste = self.query_one("#paste", Input)
            paste.display = True
            paste.focus()
        self.query_one("#consent", Static).update(text)

    def on_consent_ticked(self, message: ConsentTicked) -> None:
        minutes, seconds = divmod(message.seconds_left, 60)
        self.query_one("#countdown", Static).update(Text(f"waiting for the consent: {minutes}:{seconds:02d} left",
                                                         style="italic"))

    def on_consent_granted(self, message: ConsentGranted) -> None:
        self.app.notify(message.line, markup=False)
        self.dismiss(True)

    @on(Input.Submitted, "#paste")
    def _pasted(self, event: Input.Submitted) -> None:
        if self.authorization is not None and event.value.strip():
            self.authorization.paste(event.value.strip())
            self.query_one("#countdown", Static).update(Text("checking the pasted address…", style="italic"))

    def action_cancel(self) -> None:
        self.cancelled.set()
        if self.authorization is not None:
            self.authorization.cancel()
        self.dismiss(False)

    def worker_failed(self, worker: Worker, line: str) -> None:
        self.query_one("#countdown", Static).update(Text(f"{line} (escape closes)", style="bold red"))
