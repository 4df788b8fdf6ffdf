"""A private Dovecot for tests and benchmarks: start, add users, append mail, stop.

Plain module (no pytest import) so `bench/` can use it too; `tests/fixtures_dovecot.py` wraps it in
fixtures. The instance listens on 127.0.0.1 high ports only, has its own config, passwd-file, TLS
certificate (a throw-away CA made with the `openssl` command), base/state dirs and mail dir in one
temporary folder, and is stopped by the pid in its own pid file. /etc/dovecot is never read.

Also here: `CutProxy`, a loopback TCP proxy that can cut or stall a connection after N bytes from the
server, and `FakeServer`, a line server that speaks just enough IMAP/POP3 to refuse STARTTLS.
"""
from __future__ import annotations

import os
import pwd
import re
import secrets
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
DOMAIN = "example.test"
_APPENDUID = re.compile(rb"APPENDUID \d+ (\d+)")


def missing_reason() -> str | None:
    """None when Dovecot and openssl are usable, else one line saying what to install."""
    if shutil.which("dovecot") is None and not Path("/usr/sbin/dovecot").exists():
        return "dovecot not installed: apt-get install dovecot-imapd dovecot-pop3d"
    if not (Path("/usr/lib/dovecot/imap").exists() and Path("/usr/lib/dovecot/pop3").exists()):
        return "dovecot IMAP/POP3 not installed: apt-get install dovecot-imapd dovecot-pop3d"
    if shutil.which("openssl") is None:
        return "openssl command not installed: apt-get install openssl"
    return None


def _dovecot_bin() -> str:
    return shutil.which("dovecot") or "/usr/sbin/dovecot"


def free_ports(n: int) -> list[int]:
    """n distinct free TCP ports on loopback (held open together so they differ)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind((HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server cert for localhost/127.0.0.1 signed by it: (ca, cert, key)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_crt = folder / "ca.key", folder / "ca.crt"
    key, csr, crt, ext = folder / "server.key", folder / "server.csr", folder / "server.crt", folder / "ext.cnf"
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run = lambda *args: subprocess.run(["openssl", *args], check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", *ec, "-keyout", str(ca_key), "-out", str(ca_crt), "-days", "3",
        "-subj", "/CN=MailTicket test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", *ec, "-keyout", str(key), "-out", str(csr), "-subj", "/CN=localhost")
    ext.write_text("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key), "-CAcreateserial",
        "-out", str(crt), "-days", "3", "-extfile", str(ext))
    return ca_crt, crt, key


@dataclass
class DovecotServer:
    """One private Dovecot instance rooted in `root` (everything it writes lives there)."""

    root: Path
    host: str = HOST
    imap_port: int = 0
    pop3_port: int = 0
    imaps_port: int = 0
    pop3s_port: int = 0
    ca_file: str = ""
    _user_counter: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _process: subprocess.Popen | None = None
    _pool: list[tuple[str, str]] = field(default_factory=list)
    pool_size: int = 300

    # ---- life cycle ---------------------------------------------------------------------------
    @classmethod
    def start_new(cls, root: Path | None = None) -> "DovecotServer":
        """Create the folder tree, certificates and config, start Dovecot, wait for its ports."""
        if root is None:
            # Not under pytest's tmp dir: pytest resets /tmp/pytest-of-<user> to 0700 at the start of
            # every session (also a colleague's concurrent one), which would lock the `mail` user out.
            root = Path(tempfile.mkdtemp(prefix="mailticket-dovecot-"))
        server = cls(root=root)
        server._prepare()
        last_error = ""
        for _ in range(3):  # a free port can be taken by someone else between probe and bind
            server.imap_port, server.pop3_port, server.imaps_port, server.pop3s_port = free_ports(4)
            server._write_config()
            last_error = server._start_once()
            if not last_error:
                return server
        raise RuntimeError(f"private dovecot did not start: {last_error}")

    @property
    def conf(self) -> Path:
        return self.root / "etc" / "dovecot.conf"

    @property
    def passwd_file(self) -> Path:
        return self.root / "etc" / "passwd"

    @property
    def log_file(self) -> Path:
        return self.root / "log" / "dovecot.log"

    def _ids(self) -> tuple[int, int, str]:
        """uid, gid and internal user the mail processes run as (`mail` when root, else ourselves)."""
        if os.geteuid() == 0:
            pw = pwd.getpwnam("mail")
            return pw.pw_uid, pw.pw_gid, "dovecot"
        me = pwd.getpwuid(os.geteuid())
        return me.pw_uid, me.pw_gid, me.pw_name

    def _prepare(self) -> None:
        for sub in ("etc", "run", "state", "log", "mail", "tls"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)  # login/mail processes run as other users and must traverse it
        ca, _, _ = make_certificates(self.root / "tls")
        self.ca_file = str(ca)
        # A pool of users written before start: handing one out needs no passwd-file reload.
        self._pool = [(f"u{i:04d}@{DOMAIN}", f"pw-{i}-{secrets.token_hex(4)}") for i in range(1, self.pool_size + 1)]
        self.passwd_file.write_text("".join(f"{login}:{{PLAIN}}{pw}::::::\n" for login, pw in self._pool))
        uid, gid, _ = self._ids()
        if os.geteuid() == 0:
            os.chown(self.root / "mail", uid, gid)
            import grp

            os.chown(self.passwd_file, 0, grp.getgrnam("dovecot").gr_gid)
            self.passwd_file.chmod(0o640)

    def _write_config(self) -> None:
        uid, gid, internal = self._ids()
        r = self.root
        non_root = "" if os.geteuid() == 0 else (
            f"default_internal_user = {internal}\ndefault_login_user = {internal}\n"
            f"default_internal_group = {pwd.getpwnam(internal).pw_gid}\n")
        self.conf.write_text(f"""# generated by tests/dovecot_server.py -- private test instance
instance_name = mailticket-test-{os.getpid()}-{r.name}
base_dir = {r}/run
state_dir = {r}/state
listen = {self.host}
protocols = imap pop3
{non_root}ssl = yes
ssl_cert = <{r}/tls/server.crt
ssl_key = <{r}/tls/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login apop cram-md5  # cram-md5 needs the passdb scheme=PLAIN below
auth_failure_delay = 0  # tests try wrong passwords; the 2 s default would slow them
log_path = {r}/log/dovecot.log
info_log_path = {r}/log/dovecot-info.log
mail_location = maildir:{r}/mail/%d/%n/Maildir
first_valid_uid = {uid}
last_valid_uid = 0
mail_fsync = never
mail_max_userip_connections = 100
default_vsz_limit = 1G
pop3_uidl_format = %08Xu%08Xv
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {r}/etc/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={r}/mail/%d/%n
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
service anvil {{
  # no auth penalty: after a wrong-password test, every login from 127.0.0.1 would wait 2-15 s
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = {self.host}
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = {self.host}
    port = {self.imaps_port}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = {self.host}
    port = {self.pop3_port}
  }}
  inet_listener pop3s {{
    address = {self.host}
    port = {self.pop3s_port}
    ssl = yes
  }}
}}
""")

    def _start_once(self) -> str:
        """Start the master in the foreground as our child; '' on success, else the reason."""
        # -F: no daemonising, so we hold the master's pid (and reap it) instead of reading a pid file.
        err = (self.root / "log" / "master.err").open("wb")
        self._process = subprocess.Popen([_dovecot_bin(), "-F", "-c", str(self.conf)], stdin=subprocess.DEVNULL,
                                         stdout=err, stderr=err, start_new_session=True,
                                         preexec_fn=_die_with_parent)
        err.close()
        deadline = time.monotonic() + 10
        ports = [self.imap_port, self.pop3_port, self.imaps_port, self.pop3s_port]
        while time.monotonic() < deadline and self._process.poll() is None:
            if all(_port_open(self.host, p) for p in ports):
                return ""
            time.sleep(0.05)
        logs = [self.root / "log" / "master.err", self.log_file]
        text = " ".join(f.read_text(errors="replace")[-400:] for f in logs if f.exists()).strip()
        self.stop(remove=False)
        return f"ports not listening; {text}"

    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def stop(self, remove: bool = True) -> None:
        """SIGTERM our own master (the child we started), wait for it, then remove the folder."""
        proc, self._process = self._process, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if remove and not os.environ.get("MAILTICKET_KEEP_DOVECOT"):
            shutil.rmtree(self.root, ignore_errors=True)

    # ---- users --------------------------------------------------------------------------------
    def add_user(self, name: str | None = None, password: str | None = None, extra: str = "") -> "MailAccount":
        """A fresh account: taken from the pool written before start, else appended to the passwd-file.
        `extra`: passwd-file extra fields, e.g. `userdb_imap_capability=IMAP4rev1` (a server without IDLE).

        Dovecot stats the passwd-file at most once per second, so an entry appended in the second of
        a previous lookup stays unknown until the next second: appending waits for that boundary.
        """
        with self._lock:
            if name is None and password is None and not extra and self._pool:
                login, pw = self._pool.pop(0)
                return MailAccount(self, login, pw)
            self._user_counter += 1
            login = f"{name or f'x{self._user_counter:04d}'}@{DOMAIN}"
            pw = password or f"pw-{secrets.token_hex(4)}"
            with self.passwd_file.open("a") as f:
                f.write(f"{login}:{{PLAIN}}{pw}::::::{extra}\n")
            time.sleep(1.05 - (time.time() % 1.0))
        return MailAccount(self, login, pw)

    def maildir(self, login: str) -> Path:
        local, domain = login.split("@", 1)
        return self.root / "mail" / domain / local / "Maildir"


@dataclass
class MailAccount:
    """One mailbox user on the private Dovecot, with admin helpers over its own IMAP connection."""

    server: DovecotServer = field(repr=False)
    login: str
    password: str = field(repr=False)
    _client: object = field(default=None, repr=False)

    host = property(lambda self: self.server.host)
    imap_port = property(lambda self: self.server.imap_port)
    pop3_port = property(lambda self: self.server.pop3_port)
    imaps_port = property(lambda self: self.server.imaps_port)
    pop3s_port = property(lambda self: self.server.pop3s_port)
    ca_file = property(lambda self: self.server.ca_file)
    maildir = property(lambda self: self.server.maildir(self.login))

    def imap(self):
        """The helper's own plain IMAP connection (lazy; never used by the code under test)."""
        if self._client is None:
            from imapclient import IMAPClient

            client = IMAPClient(self.host, self.imap_port, ssl=False, timeout=30)
            client._imap.debug = 0
            client.login(self.login, self.password)
            self._client = client
        return self._client

    def append(self, raw: bytes, folder: str = "INBOX", flags: tuple = ()) -> int:
        """APPEND a message; returns its UID (from UIDPLUS' APPENDUID)."""
        resp = self.imap().append(folder, raw, flags=flags)
        m = _APPENDUID.search(resp)
        assert m, f"no APPENDUID in {resp!r}"
        return int(m.group(1))

    def create_folder(self, name: str) -> None:
        self.imap().create_folder(name)

    def delete_folder(self, name: str) -> None:
        self.imap().delete_folder(name)

    def folder_exists(self, name: str) -> bool:
        return self.imap().folder_exists(name)

    def uids(self, folder: str = "INBOX") -> list[int]:
        client = self.imap()
        client.select_folder(folder, readonly=True)
        try:
            return sorted(client.search("ALL"))
        finally:
            client.unselect_folder()

    def message_count(self, folder: str = "INBOX") -> int:
        return int(self.imap().folder_status(folder, ["MESSAGES"])[b"MESSAGES"])

    def uidvalidity(self, folder: str = "INBOX") -> int:
        return int(self.imap().folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"])

    def flags(self, uid: int, folder: str = "INBOX") -> tuple[bytes, ...]:
        """Flags of one message, read with EXAMINE so looking changes nothing."""
        client = self.imap()
        client.select_folder(folder, readonly=True)
        try:
            return tuple(client.fetch([uid], ["FLAGS"]).get(uid, {}).get(b"FLAGS", ()))
        finally:
            client.unselect_folder()

    def source_config(self, protocol: str = "imap", **overrides):
        """A SourceConfig for this account: plain by default; tls='ssl' picks the implicit-TLS port."""
        from mailticket_tui.engine.sources.base import SourceConfig

        tls = overrides.pop("tls", "none")
        if protocol == "maildir":
            values = dict(name=self.login, protocol="maildir", server=str(self.maildir), tls="none")
        else:
            plain, implicit = ((self.imap_port, self.imaps_port) if protocol == "imap"
                               else (self.pop3_port, self.pop3s_port))
            values = dict(name=self.login, protocol=protocol, server=self.host,
                          port=implicit if tls == "ssl" else plain, tls=tls, login=self.login,
                          password=self.password, ca_file=self.ca_file, timeout=10.0)
        values.update(overrides)
        return SourceConfig(**values)

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.logout()
            except Exception:  # the test may have broken the connection on purpose
                pass
            self._client = None


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it when the test process dies, even by SIGKILL (Linux only)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class CutProxy:
    """Loopback TCP proxy to (host, port) that can cut or stall each connection after N server bytes.

    cut_after: after forwarding that many bytes from the server, close both sides (server dropped us).
    stall_after: after that many bytes, stop forwarding but keep the socket open (server hung).
    """

    def __init__(self, port: int, host: str = HOST, cut_after: int | None = None,
                 stall_after: int | None = None, listen_host: str = HOST) -> None:
        self.target = (host, port)
        self.cut_after = cut_after
        self.stall_after = stall_after
        self.bytes_from_server = 0  # forwarded to the client, all connections together
        self.connections = 0
        self._closed = threading.Event()
        self._listener = socket.create_server((listen_host, 0))
        self._listener.settimeout(0.1)
        self.host, self.port = listen_host, self._listener.getsockname()[1]
        self._threads = [threading.Thread(target=self._accept_loop, daemon=True)]
        self._threads[0].start()

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except (socket.timeout, OSError):
                continue
            self.connections += 1
            t = threading.Thread(target=self._pump, args=(client,), daemon=True)
            self._threads.append(t)
            t.start()

    def _pump(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        sent = 0
        readers = [client, upstream]
        try:
            while not self._closed.is_set():
                ready, _, _ = select.select(readers, [], [], 0.1)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is client:
                        upstream.sendall(data)
                        continue
                    limit = self.cut_after if self.cut_after is not None else self.stall_after
                    if limit is not None and sent + len(data) >= limit:
                        data = data[: max(0, limit - sent)]
                        client.sendall(data)
                        self.bytes_from_server += len(data)
                        sent += len(data)
                        if self.cut_after is not None:
                            return
                        readers = [client]  # stall: keep the client hanging, read nothing more
                        continue
                    client.sendall(data)
                    sent += len(data)
                    self.bytes_from_server += len(data)
        except OSError:
            pass
        finally:
            for s in (client, upstream):
                try:
                    s.close()
                except OSError:
                    pass

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        for t in self._threads:
            t.join(timeout=2)


class FakeServer:
    """A tiny IMAP or POP3 line server that never offers STARTTLS/STLS; records what clients send."""

    def __init__(self, protocol: str) -> None:
        self.protocol = protocol
        self.received: list[bytes] = []
        self._listener = socket.create_server((HOST, 0))
        self._listener.settimeout(0.1)
        self.host, self.port = HOST, self._listener.getsockname()[1]
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except (socket.timeout, OSError):
                continue
            with conn:
                conn.settimeout(5)
                try:
                    self._talk(conn.makefile("rwb", buffering=0))
                except OSError:
                    pass

    def _talk(self, f) -> None:
        imap = self.protocol == "imap"
        f.write(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake ready\r\n" if imap else b"+OK fake ready\r\n")
        while True:
            line = f.readline()
            if not line:
                return
            self.received.append(line)
            if imap:
                tag, _, rest = line.strip().partition(b" ")
                cmd = rest.split(b" ")[0].upper()
                if cmd == b"CAPABILITY":
                    f.write(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
                elif cmd == b"LOGOUT":
                    f.write(b"* BYE bye\r\n" + tag + b" OK done\r\n")
                    return
                else:
                    f.write(tag + b" BAD not here\r\n")
            else:
                cmd = line.strip().split(b" ")[0].upper()
                if cmd == b"CAPA":
                    f.write(b"+OK\r\nUSER\r\nUIDL\r\nTOP\r\n.\r\n")
                elif cmd == b"QUIT":
                    f.write(b"+OK bye\r\n")
                    return
                else:
                    f.write(b"-ERR not here\r\n")

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        self._thread.join(timeout=2)


def make_message(n: int, body: bytes = b"", subject: str | None = None, message_id: str | None = "auto",
                 sender: str = "alice@example.org") -> bytes:
    """A small RFC 5322 message with CRLF line ends (what IMAP/POP3 hand back byte for byte)."""
    headers = [f"From: {sender}", "To: support@example.test", f"Subject: {subject or f'message {n}'}",
               "Date: Mon, 02 Jan 2026 10:00:00 +0000"]
    if message_id == "auto":
        message_id = f"<msg-{n}-{time.monotonic_ns()}@example.org>"
    if message_id:
        headers.append(f"Message-ID: {message_id}")
    text = body or f"Body of message {n}.\r\n".encode()
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + text
