"""The OAuth2 consent in the TUI: from the Inboxes screen (o) and the inbox form (ctrl+o), the code shown
with a countdown, granted at the local authorization server, the connection then no longer "needs
authorization"; a declined consent is one line in the dialog; unsaved values are not authorized."""
from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import Input, Static

from mailticket_tui.app import build_app
from mailticket_tui.screens.authorize import AuthorizeScreen
from mailticket_tui.screens.inbox_form import InboxFormScreen
from mailticket_tui.store.models import OAuthGrant

from .oauth_server import CLIENT_ID
from .test_tui_support import open_store, settle

pytest_plugins = ["tests.oauth_fixtures"]


def generic_inbox(server) -> str:
    return f"""
    [[inbox]]
    name = "cloud"
    protocol = "imap"
    server = "127.0.0.1"
    port = 1
    tls = "none"
    login = "desk@example.test"
    auth = "oauth2"
    oauth_provider = "generic"
    oauth_client_id = "{CLIENT_ID}"
    oauth_token_url = "{server.url}/token"
    oauth_device_authorization_url = "{server.url}/device"
    """


async def shown_code(pilot, screen: AuthorizeScreen) -> str:
    for _ in range(100):
        await pilot.pause(0.05)
        text = str(screen.query_one("#consent", Static).visual)
        if "enter the code" in text:
            return text.rsplit(" ", 1)[1].strip()
    raise AssertionError("no code shown")


async def test_authorize_from_the_inboxes_screen(oauth_server, tmp_path: Path) -> None:
    services = open_store(tmp_path, generic_inbox(oauth_server))
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "needs authorization" in str(app.screen.query_one("#inbox-info", Static).visual)
        await pilot.press("o")
        screen = app.screen
        assert isinstance(screen, AuthorizeScreen)
        code = await shown_code(pilot, screen)
        assert f"Open {oauth_server.url}/verify" in str(screen.query_one("#consent", Static).visual)
        for _ in range(60):
            await pilot.pause(0.05)
            if "left" in str(screen.query_one("#countdown", Static).visual):
                break
        assert "waiting for the consent:" in str(screen.query_one("#countdown", Static).visual)
        oauth_server.approve(code, "desk@example.test")
        for _ in range(100):
            await asyncio.sleep(0.05)
            await pilot.pause()
            if app.screen is not screen:
                break
        assert app.screen is not screen
        assert OAuthGrant.get().status == "authorized"
        await settle(pilot)
        assert "needs authorization" not in str(app.screen.query_one("#inbox-info", Static).visual)


async def test_a_declined_consent_is_one_line_in_the_dialog(oauth_server, tmp_path: Path) -> None:
    services = open_store(tmp_path, generic_inbox(oauth_server))
    app = build_app(services, start_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        form = app.screen
        assert isinstance(form, InboxFormScreen)
        await pilot.press("ctrl+o")
        screen = app.screen
        assert isinstance(screen, AuthorizeScreen)
        oauth_server.deny(await shown_code(pilot, screen))
        await settle(pilot)
        line = str(screen.query_one("#countdown", Static).visual)
        assert "the consent was declined; authorize again and accept (escape closes)" in line
        await pilot.press("escape")
        assert app.screen is form
        form.query_one("#field-login", Input).value = "other@example.test"
        await pilot.press("ctrl+o")
        assert app.screen is form  # unsaved values: nothing is authorized
        assert "save these values first" in str(form.query_one("#field-doc", Static).visual)
    assert OAuthGrant.select().count() == 0
