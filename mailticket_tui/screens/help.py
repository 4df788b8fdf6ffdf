"""The `?` screen: every key of every screen, generated from their BINDINGS so it never goes stale."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

INTRO = ("Keyboard only, 80x24 and up. 1-5 switch modes, ctrl+p opens the command palette, "
         "tab moves between fields, escape goes back. Filters accept words and key:value tokens, "
         "e.g. `status:error disk full` or `class:Incident caller:bob`.")


def _keys(bindings: list[BindingType]) -> list[tuple[str, str]]:
    out = []
    for binding in bindings:
        if isinstance(binding, Binding) and binding.description:
            out.append((binding.key_display or binding.key.replace(",", " / "), binding.description))
    return out


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def compose(self) -> ComposeResult:
        from .inbox_form import InboxFormScreen
        from .inboxes import InboxesScreen
        from .mailbox import MailboxScreen
        from .message_detail import MessageDetailScreen
        from .people import PeopleScreen
        from .person_form import PersonFormScreen
        from .ticket_detail import TicketDetailScreen
        from .tickets import TicketsScreen
        from .trace import TraceScreen

        sections = [("Everywhere", self.app.BINDINGS)] + [
            (title, cls.BINDINGS) for title, cls in (
                ("1 Inboxes", InboxesScreen), ("Inbox form", InboxFormScreen), ("2 Mailbox", MailboxScreen),
                ("Message detail", MessageDetailScreen), ("3 Tickets", TicketsScreen),
                ("Ticket detail", TicketDetailScreen), ("4 Trace", TraceScreen), ("5 People", PeopleScreen),
                ("Person form", PersonFormScreen))]
        body = Text(INTRO + "\n")
        for title, bindings in sections:
            body.append(f"\n{title}\n", style="bold underline")
            for key, description in _keys(list(bindings)):
                body.append(f"  {key:<14}", style="bold")
                body.append(f"{description}\n")
        body.append("\nEngine: P pauses or resumes the background engine, G polls now.\n")
        with Vertical(id="dialog"):
            with VerticalScroll():
                yield Static(body, markup=False)
            yield Static(Text("escape: close", style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)
