"""The torture driver's toolbox, Python 3 standard library only.

A raw-socket HTTP/1.1 client (one connection per request, every read bounded
by a deadline, so no request can hang the driver), an HS256 token minter, a
`portico` server supervisor (fresh SQLite file, free port in 21000-21999,
its own log file), the CLI seeders and read-only SQLite queries.

Every byte of traffic goes to 127.0.0.1.
"""

import base64
import hashlib
import hmac
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import uuid

HOST = "127.0.0.1"
PORT_RANGE = (21000, 21999)
ADMIN_PASSWORD = "torture-admin-password-0123456789"


class Budget(Exception):
    """Raised in the main thread when the overall time budget is spent."""


# --------------------------------------------------------------------------
# HTTP


class Response:
    __slots__ = ("status", "reason", "headers", "body", "t_start", "t_end")

    def __init__(self, status, reason, headers, body, t_start, t_end):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (lower-case name, value)
        self.body = body
        self.t_start = t_start
        self.t_end = t_end

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None

    @property
    def elapsed(self):
        return self.t_end - self.t_start


class HttpError(Exception):
    """No (complete) answer: `kind` is `timeout`, `refused`, `reset` or `protocol`."""

    def __init__(self, kind, detail, t_start, t_end):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.t_start = t_start
        self.t_end = t_end


def connect(port, timeout=10.0):
    t0 = time.monotonic()
    try:
        return socket.create_connection((HOST, port), timeout=timeout)
    except socket.timeout as e:
        raise HttpError("timeout", f"connect: {e}", t0, time.monotonic())
    except ConnectionRefusedError as e:
        raise HttpError("refused", str(e), t0, time.monotonic())
    except OSError as e:
        raise HttpError("reset", f"connect: {e}", t0, time.monotonic())


def build_request(port, method, target, headers=(), body=None):
    """A well-formed HTTP/1.1 request with `Connection: close`."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {HOST}:{port}", "Connection: close"]
    has_length = False
    for k, v in headers:
        lines.append(f"{k}: {v}")
        if k.lower() == "content-length":
            has_length = True
    if body is None:
        body = b""
    if isinstance(body, str):
        body = body.encode()
    if (body or method in ("POST", "PUT", "PATCH")) and not has_length:
        lines.append(f"Content-Length: {len(body)}")
    # UTF-8 for whatever is not Latin-1: the bytes are sent as they are.
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape") + body


def exchange(port, raw, timeout=20.0, half_close=False, sock=None, t_start=None):
    """Sends `raw` bytes, reads one response. Every step is bounded by one
    overall deadline of `timeout` seconds from the start. Raises HttpError
    when no complete status line and headers came back."""
    t0 = time.monotonic() if t_start is None else t_start
    deadline = t0 + timeout
    own = sock is None
    if own:
        sock = connect(port, timeout=timeout)
    try:
        try:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            sock.sendall(raw)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except socket.timeout as e:
            raise HttpError("timeout", f"send: {e}", t0, time.monotonic())
        except OSError:
            # The server may answer (e.g. 413, 431) and close before reading
            # everything: try to read what it said anyway.
            pass
        buf = bytearray()
        head_end = -1
        need = None
        chunked = False
        while True:
            if head_end >= 0 and need is not None and len(buf) >= head_end + need:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                raise HttpError("timeout", f"no complete answer after {timeout:.0f} s "
                                f"({len(buf)} bytes read)", t0, time.monotonic())
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                continue
            except OSError as e:
                if head_end >= 0:
                    break
                raise HttpError("reset", f"recv: {e}", t0, time.monotonic())
            if not chunk:
                break
            buf += chunk
            if head_end < 0:
                i = buf.find(b"\r\n\r\n")
                if i >= 0:
                    head_end = i + 4
                    head = bytes(buf[:i]).decode("latin-1")
                    for line in head.split("\r\n")[1:]:
                        k, _, v = line.partition(":")
                        k = k.strip().lower()
                        if k == "content-length":
                            try:
                                need = int(v.strip())
                            except ValueError:
                                need = None
                        elif k == "transfer-encoding" and "chunked" in v.lower():
                            chunked = True
                    if chunked:
                        need = None
                    elif need is None and re.match(r"HTTP/1\.[01] (1\d\d|204|304)", head):
                        need = 0
        t1 = time.monotonic()
        if head_end < 0:
            if not buf:
                raise HttpError("reset", "connection closed without an answer", t0, t1)
            raise HttpError("protocol", f"no header end in {bytes(buf[:80])!r}", t0, t1)
        head = bytes(buf[: head_end - 4]).decode("latin-1")
        lines = head.split("\r\n")
        m = re.match(r"HTTP/\d\.\d (\d{3})(?: (.*))?$", lines[0])
        if not m:
            raise HttpError("protocol", f"bad status line {lines[0][:80]!r}", t0, t1)
        headers = []
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.append((k.strip().lower(), v.strip()))
        body = bytes(buf[head_end:])
        if need is not None:
            body = body[:need]
        elif chunked:
            body = dechunk(body)
        return Response(int(m.group(1)), m.group(2) or "", headers, body, t0, t1)
    finally:
        if own:
            try:
                sock.close()
            except OSError:
                pass


def dechunk(data):
    out = bytearray()
    i = 0
    while True:
        j = data.find(b"\r\n", i)
        if j < 0:
            return bytes(out)
        try:
            n = int(data[i:j].split(b";")[0], 16)
        except ValueError:
            return bytes(out)
        if n == 0:
            return bytes(out)
        out += data[j + 2 : j + 2 + n]
        i = j + 2 + n + 2


def request(port, method, target, headers=(), body=None, timeout=20.0, sock=None,
            t_start=None):
    raw = build_request(port, method, target, headers, body)
    return exchange(port, raw, timeout=timeout, sock=sock, t_start=t_start)


class CookieJar:
    """Just enough of a cookie jar for one host."""

    def __init__(self):
        self.cookies = {}
        self.lock = threading.Lock()

    def header(self):
        with self.lock:
            if not self.cookies:
                return []
            return [("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))]

    def update(self, resp):
        with self.lock:
            for sc in resp.header_all("set-cookie"):
                first, _, attrs = sc.partition(";")
                name, _, value = first.partition("=")
                name = name.strip()
                gone = value == "" or re.search(r"max-age=0\b", attrs, re.I) or \
                    re.search(r"expires=[^;]*1970", attrs, re.I)
                if gone:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value.strip()

    def copy(self):
        j = CookieJar()
        j.cookies = dict(self.cookies)
        return j


def form(pairs):
    from urllib.parse import urlencode
    return urlencode(pairs)


def find_csrf(html):
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    return m.group(1) if m else None


# --------------------------------------------------------------------------
# Tokens


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact_json(obj):
    return json.dumps(obj, separators=(",", ":"))


def sign(secret, signing_input, digest=hashlib.sha256):
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    return b64u(hmac.new(secret, signing_input.encode(), digest).digest())


def mint(secret, claims, header=None, digest=hashlib.sha256):
    """An HS256 JWT exactly as the usual libraries make it."""
    h = b64u(compact_json(header if header is not None else {"alg": "HS256", "typ": "JWT"}))
    p = b64u(compact_json(claims) if not isinstance(claims, (bytes, str)) else claims)
    si = f"{h}.{p}"
    return f"{si}.{sign(secret, si, digest)}"


def claims_for(company_id, email, project_id=None, jti=True, now=None, ttl=300, **extra):
    now = int(time.time()) if now is None else now
    c = {"companyId": company_id, "email": email, "iat": now, "exp": now + ttl}
    if project_id:
        c["projectId"] = project_id
    if jti is True:
        c["jti"] = uuid.uuid4().hex
    elif jti:
        c["jti"] = jti
    c.update(extra)
    return c


def token_secrets(token):
    """The parts of a token that must never show in a log: its signature and
    payload when long enough to be distinctive."""
    if not isinstance(token, str):
        return []
    parts = token.split(".")
    out = []
    for part in parts[1:3]:
        if len(part) >= 20 and len(set(part)) > 4:
            out.append(part)
    return out


def fresh_email(tag):
    return f"{tag}-{uuid.uuid4().hex[:12]}@torture.test"


# --------------------------------------------------------------------------
# The server and the CLI


def free_port(rng=random):
    for _ in range(200):
        port = rng.randint(*PORT_RANGE)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((HOST, port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port in 21000-21999")


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("PORTICO_") or k in ("DATABASE_URL", "RUST_LOG"))}
    env["RUST_LOG"] = os.environ.get("TORTURE_RUST_LOG", "warn")
    if extra:
        env.update(extra)
    return env


class Cli:
    def __init__(self, binary, db, workdir):
        self.binary = binary
        self.db = db
        self.workdir = workdir

    def run(self, *args, timeout=60):
        env = clean_env({"PORTICO_ADMIN_PASSWORD": ADMIN_PASSWORD})
        p = subprocess.run([self.binary, "--database", self.db, *args], cwd=self.workdir,
                           env=env, capture_output=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"portico {' '.join(args)} exited {p.returncode}: "
                               f"{p.stderr.decode(errors='replace').strip()[:400]}")
        return json.loads(p.stdout.decode())

    def company(self, name, admin_email):
        out = self.run("company", "create", "--name", name, "--admin-email", admin_email)
        return out["companyId"]

    def rotate(self, company_id, grace=None):
        args = ["sso", "rotate", "--company", company_id]
        if grace is not None:
            args += ["--grace", str(grace)]
        return self.run(*args)["secret"]

    def project(self, company_id, name):
        return self.run("project", "create", "--company", company_id, "--name", name)["projectId"]


class Server:
    """One `portico` process on its own port, logging to its own file."""

    registry = []  # every server started, so the driver can kill leftovers

    def __init__(self, binary, db, workdir, name):
        self.binary = binary
        self.db = db
        self.workdir = workdir
        self.name = name
        self.proc = None
        self.port = None
        self.logs = []  # one log file per start
        self.serving_log = None  # the log as it was when stop() began
        self.log_file = None
        Server.registry.append(self)

    def start(self, timeout=30.0):
        last = None
        for attempt in range(5):
            port = free_port()
            log_path = os.path.join(self.workdir, f"{self.name}.{len(self.logs)}.log")
            self.log_file = open(log_path, "wb")
            env = clean_env({"PORTICO_BIND": f"{HOST}:{port}",
                             "PORTICO_BASE_URL": f"http://{HOST}:{port}"})
            self.proc = subprocess.Popen([self.binary, "--database", self.db], cwd=self.workdir,
                                         env=env, stdin=subprocess.DEVNULL,
                                         stdout=self.log_file, stderr=subprocess.STDOUT,
                                         start_new_session=True)
            self.port = port
            self.logs.append(log_path)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    r = request(port, "GET", "/healthz", timeout=2.0)
                    if r.status == 200:
                        # Ours, not a stranger on the port: still running.
                        time.sleep(0.2)
                        if self.proc.poll() is None:
                            return self
                        break
                except HttpError:
                    pass
                time.sleep(0.05)
            code = self.proc.poll()
            last = f"exit code {code}" if code is not None else f"not healthy after {timeout:.0f} s"
            self.kill9()
            self.log_file.close()
            tail = self.log_tail(5)
            last += f"; log: {tail}"
            if code is None:
                break
        raise RuntimeError(f"server {self.name} did not start: {last}")

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def threads(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
        return -1

    def kill9(self):
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def stop(self, timeout=15.0):
        """SIGTERM, then SIGKILL after `timeout`. Returns the exit code (None
        when it had to be killed)."""
        if self.proc is None:
            return None
        # What it logged while serving, told apart from what it logs on the
        # way out.
        self.serving_log = self.log_text()
        code = self.proc.poll()
        if code is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
                code = None
        if self.log_file:
            self.log_file.close()
        return code

    def log_text(self):
        out = []
        for path in self.logs:
            try:
                with open(path, "rb") as f:
                    out.append(f.read().decode("utf-8", "replace"))
            except OSError:
                pass
        return "\n".join(out)

    def log_tail(self, n=15):
        lines = self.log_text().splitlines()
        return " | ".join(lines[-n:])


def kill_all_servers():
    for s in Server.registry:
        try:
            s.kill9()
        except Exception:
            pass


# --------------------------------------------------------------------------
# The database, read from the side


def db_query(path, sql, args=()):
    con = sqlite3.connect(path, timeout=15)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def db_scalar(path, sql, args=()):
    return db_query(path, sql, args)[0][0]


# --------------------------------------------------------------------------
# Threads


def run_threads(fns, join_timeout):
    """Runs each callable in a daemon thread; returns the number of threads
    still alive after `join_timeout` seconds (they are abandoned)."""
    threads = [threading.Thread(target=f, daemon=True) for f in fns]
    for t in threads:
        t.start()
    deadline = time.monotonic() + join_timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return sum(t.is_alive() for t in threads)
