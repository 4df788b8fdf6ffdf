"""Outgoing mail: rejection replies to unknown senders, forwards of failed mail to an admin, and the
notifications engine/notifications.py plans (with their Message-ID, In-Reply-To and References).

Mail is planned by the steps, written to the Outbox in the SAME transaction as the message's new state,
and sent after the commit by `send_outbox` (so a crash never sends for work that was rolled back; a crash
after sending but before marking re-sends with the same Message-ID, which receivers de-duplicate).
Loops and backscatter are guarded: never to auto-mail (the steps stop those first), never to our own
addresses, at most REPLIES_PER_DAY rejection replies per address, and every reply says Auto-Submitted.
`probe_smtp` tests [smtp] values (the settings form's "Test SMTP"): the same connection steps, no mail sent.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from ..settings import Settings, SettingsError, SmtpSettings, resolve_secret
from ..store.blobs import read_blob
from ..store.models import MailMessage, Outbox, Ticket, database_proxy, utcnow
from .oauth import sasl
from .oauth import tokens as oauth_tokens
from .sources.base import SourceError

REPLIES_PER_DAY = 3
MAX_ATTEMPTS = 10
SMTP_TIMEOUT = 30
CLAIM_SECONDS = 300


@dataclass(frozen=True)
class PlannedMail:
    """A mail a step wants sent once the message's work commits."""

    kind: str  # rejection | error_forward | report (notifications are written by engine/notifications.py)
    to_addr: str
    from_addr: str
    subject: str
    body: str
    in_reply_to: str = ""
    attach_original: bool = False


def one_line(text: str, limit: int = 200) -> str:
    """Header-safe: an encoded Subject can decode to CR/LF (header injection); keep one short line."""
    return re.sub(r"[\x00-\x1f\x7f]+", " ", text or "").strip()[:limit]


def own_addresses(settings: Settings) -> set[str]:
    """Every address that is us: replying to one of them would start a mail loop."""
    found = {settings.smtp.sender, settings.smtp.login, settings.engine.notify_errors_from}
    for inbox in settings.inboxes:
        found.update((inbox.login, inbox.notify_errors_from, *inbox.aliases))
    return {a.strip().lower() for a in found if a and "@" in a}


def reply_allowed(to_addr: str, own_addresses: set[str]) -> str | None:
    """None when a rejection reply may go to this address, else why not."""
    to_addr = to_addr.lower()
    if not to_addr or "@" not in to_addr:
        return "no address to reply to"
    if to_addr in own_addresses:
        return f"{to_addr} is one of our own addresses (mail loop)"
    since = utcnow() - dt.timedelta(days=1)
    sent = Outbox.select().where((Outbox.kind == "rejection") & (Outbox.to_addr == to_addr)
                                 & (Outbox.created > since)).count()
    if sent >= REPLIES_PER_DAY:
        return f"already {sent} replies to {to_addr} in 24 hours"
    return None


def error_forward(inbox, row: MailMessage, trace: list[str]) -> list[PlannedMail]:
    """The failed mail, forwarded to the inbox's notify_errors_to (both addresses must be set)."""
    if not (inbox.notify_errors_to and inbox.notify_errors_from):
        return []
    fate = ("It was deleted from the mailbox (error_behavior = delete)." if inbox.error_behavior == "delete"
            else "It is kept, marked as error, until an operator resets, ignores or deletes it.")
    body = (f"MailTicket could not process a message of inbox {inbox.name!r}.\n\n"
            f"Reason: {row.error}\nFrom: {row.from_addr}\nSubject: {row.subject}\nMessage #{row.id}\n\n{fate}\n\n"
            "Decision trace:\n" + "\n".join(f"  {line}" for line in trace))
    return [PlannedMail("error_forward", inbox.notify_errors_to, inbox.notify_errors_from,
                        f"[mailticket] {inbox.name}: {one_line(row.error, 120)}", body,
                        attach_original=row.raw_id is not None)]


def admin_report(engine, inbox_name: str, row: MailMessage) -> list[PlannedMail]:
    """Engine-level errors (a message too big to download) go to [engine] notify_errors_to, as in the
    reference; the mail itself is not attached (it was never downloaded whole)."""
    if not (engine.notify_errors_to and engine.notify_errors_from):
        return []
    body = (f"Inbox {inbox_name!r}, message #{row.id} from {row.from_addr or '?'}: {row.subject or '(no subject)'}"
            f"\n\n{row.error}\n")
    return [PlannedMail("report", engine.notify_errors_to, engine.notify_errors_from,
                        f"[mailticket] {inbox_name}: {one_line(row.error, 120)}", body)]


def enqueue(plan: PlannedMail, mail: MailMessage | None = None, ticket: Ticket | None = None) -> Outbox:
    """Write one planned mail; call inside the transaction of the work that caused it."""
    domain = plan.from_addr.rpartition("@")[2] or "mailticket.invalid"
    return Outbox.create(kind=plan.kind, to_addr=plan.to_addr.lower(), from_addr=plan.from_addr,
                         subject=one_line(plan.subject, 250), body=plan.body, in_reply_to=plan.in_reply_to,
                         attach_original=plan.attach_original, mail=mail, ticket=ticket,
                         message_id=f"mt.out.{secrets.token_hex(8)}@{domain}")


def auto_submitted(row: Outbox) -> str:
    """RFC 3834: "auto-replied" for mail sent in direct response to a mail (a rejection, a notification a
    processed mail caused: acknowledgement, update), "auto-generated" for the rest (error forwards, reports,
    notifications of an operator's action). Either value stops a conforming responder from answering."""
    if row.kind == "rejection" or (row.kind == "notification" and row.mail_id is not None):
        return "auto-replied"
    return "auto-generated"


def _build(row: Outbox, original: bytes | None, eml_type: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = row.from_addr
    msg["To"] = row.to_addr
    msg["Subject"] = row.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = f"<{row.message_id}>"
    msg["Auto-Submitted"] = auto_submitted(row)
    msg["X-Auto-Response-Suppress"] = "All"
    if row.in_reply_to:
        msg["In-Reply-To"] = f"<{row.in_reply_to}>"
    if row.thread_refs or row.in_reply_to:
        msg["References"] = row.thread_refs or f"<{row.in_reply_to}>"
    msg.set_content(row.body)
    if original is not None:
        main, _, sub = eml_type.partition("/")
        msg.add_attachment(original, maintype=main, subtype=sub or "octet-stream", filename="Original-Message.eml")
    return msg


class CaFileError(smtplib.SMTPException):
    """[smtp] ca_file is missing, unreadable or not PEM: one line naming the key."""


def _ssl_context(smtp: SmtpSettings) -> ssl.SSLContext:
    """The verifying context of `_connect` and `probe_smtp`: system CAs plus [smtp] ca_file, or a
    non-verifying one when verify_certificate is off (smtplib verifies nothing unless given a context)."""
    context = ssl.create_default_context()
    if smtp.ca_file:
        try:
            context.load_verify_locations(cafile=smtp.ca_file)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
            raise CaFileError(f"cannot load CA file {smtp.ca_file!r} ({reason}); fix [smtp] ca_file") from None
    if not smtp.verify_certificate:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def smtp_secret(smtp: SmtpSettings, settings: Settings) -> str:
    """The SMTP password, or with auth = oauth2 the access token of the OAuth2 inbox that is the same account
    (SourceError when that inbox needs authorization)."""
    if smtp.auth != "oauth2":
        return resolve_secret(smtp.password, smtp.password_env, smtp.password_file, "smtp")
    inbox = next((i for i in settings.inboxes
                  if i.auth == "oauth2" and smtp.login and i.login.lower() == smtp.login.lower()), None)
    if inbox is None:
        raise SettingsError([f"smtp.auth: oauth2 uses the token of the OAuth2 inbox whose login is [smtp] login "
                             f"({smtp.login or 'empty'}), and there is none; set [smtp] login to such an inbox's "
                             "login, or auth = \"password\""])
    return oauth_tokens.access_token(inbox)


def smtp_login(client: smtplib.SMTP, smtp: SmtpSettings, secret: str) -> None:
    """LOGIN/PLAIN with the password, or AUTH XOAUTH2 with the token (a refusal's JSON challenge is answered
    with an empty line, after which the server says 535)."""
    if smtp.auth != "oauth2":
        client.login(smtp.login, secret)
        return
    client.ehlo_or_helo_if_needed()
    token_login = sasl.xoauth2(smtp.login, secret).decode()
    client.auth("XOAUTH2", lambda challenge=None: token_login if challenge is None else "", initial_response_ok=True)


def _connect(smtp: SmtpSettings, settings: Settings) -> smtplib.SMTP:
    secret = smtp_secret(smtp, settings)
    context = _ssl_context(smtp)
    if smtp.tls == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.server, smtp.port, timeout=SMTP_TIMEOUT, context=context)
    else:
        client = smtplib.SMTP(smtp.server, smtp.port, timeout=SMTP_TIMEOUT)
        if smtp.tls == "starttls":
            client.ehlo()
            if not client.has_extn("starttls"):
                client.quit()
                raise smtplib.SMTPException(f"{smtp.server}:{smtp.port} does not offer STARTTLS; set [smtp] tls")
            client.starttls(context=context)
    if smtp.login:
        smtp_login(client, smtp, secret)
    return client


def _claim(row: Outbox) -> bool:
    """Hold the row for CLAIM_SECONDS; a crashed sender's claim expires and the row is retried."""
    now = utcnow()
    with database_proxy.atomic():
        return bool(Outbox.update(claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS)).where(
            (Outbox.id == row.id) & Outbox.sent.is_null()
            & (Outbox.claimed_until.is_null() | (Outbox.claimed_until < now))).execute())


def send_outbox(settings: Settings, limit: int = 200) -> tuple[int, str | None]:
    """Send what is due; returns (sent, error or None). Rows that fail stay for the next pass."""
    now = utcnow()
    due = list(Outbox.select().where(Outbox.sent.is_null() & (Outbox.attempts < MAX_ATTEMPTS)
                                     & (Outbox.claimed_until.is_null() | (Outbox.claimed_until < now)))
               .order_by(Outbox.id).limit(limit))
    if not due:
        return 0, None
    if not settings.smtp.server:
        return 0, f"{len(due)} mail(s) waiting in the outbox: [smtp] server is not set"
    try:
        client = _connect(settings.smtp, settings)
    except (OSError, smtplib.SMTPException, SettingsError, SourceError) as exc:
        return 0, f"SMTP {settings.smtp.server}:{settings.smtp.port}: {exc}"
    sent = 0
    try:
        for row in due:
            if not _claim(row):
                continue  # another runner is sending it
            original = None
            if row.attach_original and row.mail_id:
                source = MailMessage.get_or_none(MailMessage.id == row.mail_id)
                original = read_blob(source.raw_id) if source and source.raw_id else None
            try:
                client.send_message(_build(row, original, settings.engine.eml_attachment_mime_type))
            except (smtplib.SMTPException, ValueError) as exc:
                with database_proxy.atomic():
                    Outbox.update(attempts=Outbox.attempts + 1, last_error=one_line(str(exc), 500),
                                  claimed_until=None).where(
                        Outbox.id == row.id).execute()
                continue
            with database_proxy.atomic():
                Outbox.update(sent=utcnow(), attempts=Outbox.attempts + 1, last_error="").where(
                    Outbox.id == row.id).execute()
            sent += 1
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return sent, None


# ---------------------------------------------------------------- connection test ("Test SMTP")


@dataclass(frozen=True)
class SmtpProbe:
    """Outcome of an SMTP connection test, shaped like sources/probe.py's ProbeResult (widgets/probe_result.py
    shows both): `stage` is where it stopped (settings|dns|connect|tls|ehlo|starttls|auth|done)."""

    ok: bool
    stage: str
    message: str
    banner: str = ""  # the server's 220 greeting
    tls: str = "none"  # e.g. "TLSv1.3 (implicit)", "TLSv1.3 (STARTTLS)", "none"
    auth: str = ""  # e.g. "logged in as helpdesk@example.com", "no login"
    capabilities: tuple[str, ...] = ()  # EHLO keywords, after STARTTLS when there was one
    warning: str | None = None
    message_count: None = None  # ProbeResult's field; an SMTP server has no folder


class _Greeted:
    """Keeps the server's greeting (smtplib reads it in connect() and drops it)."""

    greeting = b""

    def connect(self, host: str = "localhost", port: int = 0, source_address=None):
        code, message = super().connect(host, port, source_address)  # type: ignore[misc]
        self.greeting = message
        return code, message


class _ProbeSMTP(_Greeted, smtplib.SMTP):
    pass


class _ProbeSMTPS(_Greeted, smtplib.SMTP_SSL):
    pass


def _probe_failure(exc: BaseException, stage: str, where: str, smtp: SmtpSettings, timeout: float) -> tuple[str, str]:
    """(stage, one line: what, where, how to fix) for an exception raised at `stage` of the probe."""
    if isinstance(exc, socket.gaierror):
        return "dns", f"cannot resolve {smtp.server!r} ({exc.strerror}); check [smtp] server"
    if isinstance(exc, ConnectionRefusedError):
        return "connect", f"{where} refused the connection; check [smtp] port and that the server runs"
    if isinstance(exc, TimeoutError):
        return stage, (f"{where} did not answer within {timeout:g} s; check host, port, firewall, and that "
                       f"tls={smtp.tls!r} matches the port (465 = ssl, 587 = starttls)")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "tls", (f"{where}: certificate verify failed ({exc.verify_message}); give its CA in [smtp] "
                       "ca_file, or set [smtp] verify_certificate = false (unsafe)")
    if isinstance(exc, ssl.SSLError):
        return "tls", (f"{where}: TLS handshake failed ({exc.reason or exc}); check that tls={smtp.tls!r} matches "
                       "the port")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "auth", (f"{where} refused the login {smtp.login!r} ({exc.smtp_code} {_text(exc.smtp_error)}); "
                        "check [smtp] login and its password")
    if isinstance(exc, smtplib.SMTPConnectError):
        return "connect", f"{where} refused service ({exc.smtp_code} {_text(exc.smtp_error)}); retry later"
    if isinstance(exc, smtplib.SMTPResponseException):
        return stage, f"{where} answered {exc.smtp_code} {_text(exc.smtp_error)} at {stage}"
    if isinstance(exc, (smtplib.SMTPServerDisconnected, ConnectionError, EOFError)):
        return stage, (f"{where} closed the connection at {stage} ({exc or type(exc).__name__}); check that "
                       f"tls={smtp.tls!r} matches the port")
    if isinstance(exc, OSError):
        return stage, f"cannot reach {where} ({exc.strerror or exc}); check network and port"
    return stage, f"{where}: unexpected answer at {stage} ({exc}); is it an SMTP server?"


def _text(raw: bytes | str) -> str:
    return one_line(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw), 200)


def probe_smtp(smtp: SmtpSettings, password: str, timeout: float = SMTP_TIMEOUT) -> SmtpProbe:
    """Connect (ssl / starttls / none as [smtp] tls says), verify the certificate unless told not to, EHLO,
    STARTTLS (never continuing in plain text when it is asked for and not offered), LOGIN when a login is
    set, then QUIT. No mail is sent. Returns the first step that failed, never raises for a server problem.

    smtplib verifies nothing by default: the context is built here and passed explicitly, as `_connect` does.
    """
    warning = None
    if smtp.tls == "none":
        warning = "no TLS: the login and the mail cross the network in clear"
    elif not smtp.verify_certificate:
        warning = "certificate verification is OFF: anyone on the path can pose as the server"
    if not smtp.server:
        return SmtpProbe(False, "settings", "[smtp] server is not set, so nothing is sent; give the SMTP host",
                         warning=warning)
    if not 0 < smtp.port < 65536:
        return SmtpProbe(False, "settings", f"[smtp] port {smtp.port} is not a TCP port; 587 for STARTTLS, 465 "
                                            "for implicit TLS", warning=warning)
    where = f"{smtp.server}:{smtp.port}"
    try:
        context = _ssl_context(smtp)
    except CaFileError as exc:
        return SmtpProbe(False, "settings", str(exc), warning=warning)
    stage, client, greeting = "connect", None, ""
    try:
        if smtp.tls == "ssl":
            client = _ProbeSMTPS(smtp.server, smtp.port, timeout=timeout, context=context)
        else:
            client = _ProbeSMTP(smtp.server, smtp.port, timeout=timeout)
        greeting = _text(client.greeting)
        stage = "ehlo"
        code, reply = client.ehlo()
        if code != 250:
            return SmtpProbe(False, stage, f"{where} refused EHLO ({code} {_text(reply)}); is it an SMTP server?",
                             greeting, warning=warning)
        if smtp.tls == "starttls":
            stage = "starttls"
            if not client.has_extn("starttls"):
                return SmtpProbe(False, stage, f"{where} does not offer STARTTLS, and the login and mail must not "
                                               "go in plain text; use the server's STARTTLS port (587), or tls = "
                                               "\"ssl\" on port 465", greeting, warning=warning)
            client.starttls(context=context)
            stage = "ehlo"
            client.ehlo()
        tls = "none"
        if isinstance(client.sock, ssl.SSLSocket):
            tls = f"{client.sock.version()} ({'implicit' if smtp.tls == 'ssl' else 'STARTTLS'})"
        auth = "no login (used without authentication)"
        if smtp.login:
            stage = "auth"
            if not client.has_extn("auth"):
                hint = " (many servers offer it only over TLS)" if tls == "none" else ""
                return SmtpProbe(False, stage, f"{where} offers no AUTH{hint}, but [smtp] login is set; check tls, "
                                               "or empty the login", greeting, tls, warning=warning)
            smtp_login(client, smtp, password)
            auth = f"logged in as {smtp.login}" + (" (XOAUTH2)" if smtp.auth == "oauth2" else "")
        capabilities = tuple(sorted(k.upper() for k in client.esmtp_features))
    except (OSError, EOFError, smtplib.SMTPException) as exc:
        if client is not None and not isinstance(exc, smtplib.SMTPResponseException):
            client.close()  # the link is broken or stalled: a QUIT would only wait for the timeout again
            client = None
        failed, message = _probe_failure(exc, stage, where, smtp, timeout)
        return SmtpProbe(False, failed, message, greeting, warning=warning)
    finally:
        if client is not None:
            _quit(client)
    return SmtpProbe(True, "done", f"{where}: {greeting or '(no greeting)'}; {auth}", greeting, tls, auth,
                     capabilities, warning)


def _quit(client: smtplib.SMTP) -> None:
    """QUIT politely; a server that drops the line first changes nothing about the test's outcome."""
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()
