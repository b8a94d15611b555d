"""Three Portico instances on one PostgreSQL behind nginx (round robin): the
multi-instance test of scripts/instances.sh. Python 3 standard library only;
the HTTP client, token minter and CLI runner are the torture driver's
(scripts/torture/harness.py); the database is read with psql.

Every scenario prints `PASS <name>: <figure>` or `FAIL <name>: <why>`; the
last line is `N passed, M failed` and the exit status is non-zero on any
failure.
"""

import argparse
import os
import re
import subprocess
import sys
import threading
import time
import traceback
import uuid
from urllib.parse import quote

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "torture"))
import harness  # noqa: E402
from nginx import Nginx  # noqa: E402
from harness import (ADMIN_PASSWORD, CookieJar, HttpError, claims_for, find_csrf,  # noqa: E402
                     form, mint, request)

harness.PORT_RANGE = (23000, 23999)
FORM = ("Content-Type", "application/x-www-form-urlencoded")
JSON = ("Accept", "application/json")
# The client as the load balancer sees it: nginx appends the TCP peer, and the
# instances trust 127.0.0.1 as a proxy (PORTICO_TRUSTED_PROXIES).
CLIENT = ("X-Forwarded-For", "203.0.113.7")


class Failed(Exception):
    pass


def psql(url, sql):
    # The statement goes in on stdin: a list of every email a load answered
    # outgrows the command line's limit (E2BIG).
    p = subprocess.run(["psql", url, "-XAtq", "-v", "ON_ERROR_STOP=1"], input=sql,
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise Failed(f"psql: {p.stderr.strip()[:300]}")
    return p.stdout.strip()


class Cluster:
    """The throw-away PostgreSQL of scripts/instances.sh, stopped and started
    again by the outage scenario."""

    def __init__(self, directory, port):
        self.dir, self.port = directory, port
        bins = sorted(d for d in os.listdir("/usr/lib/postgresql"))
        self.pg_ctl = f"/usr/lib/postgresql/{bins[-1]}/bin/pg_ctl"

    def _run(self, *args):
        cmd = [self.pg_ctl, "-D", os.path.join(self.dir, "data"), *args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=90)

    def stop(self):
        self._run("-m", "fast", "-w", "stop")

    def start(self):
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c max_connections=1000"
        self._run("-l", os.path.join(self.dir, "server.log"), "-w", "-t", "60", "-o", opts, "start")


class Instance(harness.Server):
    """A `portico serve` on PostgreSQL whose base URL is the load balancer's."""

    def __init__(self, binary, url, workdir, name, base_url):
        super().__init__(binary, url, workdir, name)
        self.base_url = base_url

    def start(self, timeout=60.0):
        port = harness.free_port()
        log_path = os.path.join(self.workdir, f"{self.name}.{len(self.logs)}.log")
        self.log_file = open(log_path, "wb")
        env = harness.clean_env({"PORTICO_BIND": f"127.0.0.1:{port}",
                                 "PORTICO_BASE_URL": self.base_url,
                                 "PORTICO_TRUSTED_PROXIES": "127.0.0.1",
                                 "DATABASE_URL": self.db})
        self.proc = subprocess.Popen([self.binary, "serve"], cwd=self.workdir, env=env,
                                     stdin=subprocess.DEVNULL, stdout=self.log_file,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.port = port
        self.logs.append(log_path)
        return self

    def wait_healthy(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Failed(f"{self.name} exited {self.proc.poll()}: {self.log_tail(5)}")
            try:
                if request(self.port, "GET", "/healthz", timeout=2.0).status == 200:
                    return
            except HttpError:
                pass
            time.sleep(0.05)
        raise Failed(f"{self.name} not healthy after {timeout:.0f} s: {self.log_tail(5)}")


class Portal:
    """The three instances, nginx in front, one company with an admin."""

    def __init__(self, args):
        self.url = args.database
        self.cli = harness.Cli(args.bin, self.url, args.workdir)
        self.lb = harness.free_port()
        base = f"http://127.0.0.1:{self.lb}"
        self.instances = [Instance(args.bin, self.url, args.workdir, f"portico-{i + 1}", base)
                          for i in range(3)]
        # All three start together: the migrations run once, under the lock.
        for inst in self.instances:
            inst.start()
        for inst in self.instances:
            inst.wait_healthy()
        self.nginx = Nginx(args.workdir, self.lb, [i.port for i in self.instances])
        try:
            self.nginx.start()
            self.admin = f"admin-{uuid.uuid4().hex[:8]}@multi.test"
            self.company = self.cli.company("Multico", self.admin)
            self.secret = self.cli.rotate(self.company)
            self.cluster = Cluster(args.pg_dir, args.pg_port)
        except BaseException:
            # main() never gets a portal to stop: nginx would outlive the test.
            self.stop()
            raise

    def ports(self):
        return [i.port for i in self.instances if i.alive()]

    def token(self, email, secret=None, **claims):
        return mint(secret or self.secret, claims_for(self.company, email, **claims))

    def sso(self, port, token, jar=None, headers=()):
        r = request(port, "GET", "/api/auth/sso?token=" + quote(token, safe=""),
                    [JSON, CLIENT, *headers], timeout=30)
        if jar is not None:
            jar.update(r)
        return r

    def stop(self):
        self.nginx.stop()
        for inst in self.instances:
            inst.stop()


def code_of(r):
    """The reason code of a refusal (`{"error": "bad_signature", …}`)."""
    try:
        return r.json().get("error")
    except Exception:  # noqa: BLE001
        return None


def web_login(port, email, password, jar, client=CLIENT):
    r = request(port, "GET", "/login", jar.header() + [client])
    jar.update(r)
    csrf = find_csrf(r.text())
    r = request(port, "POST", "/login", jar.header() + [FORM, client],
                form([("csrf", csrf), ("email", email), ("password", password)]), timeout=60)
    jar.update(r)
    return r


def admin_page(portal, port, jar, path):
    r = request(port, "GET", path, jar.header() + [CLIENT])
    jar.update(r)
    if r.status != 200:
        raise Failed(f"GET {path} answered {r.status}")
    return r.text()


def admin_post(portal, port, jar, path, csrf, pairs):
    r = request(port, "POST", path, jar.header() + [FORM, CLIENT],
                form([("csrf", csrf), *pairs]), timeout=60)
    jar.update(r)
    return r


def admin_jar(portal, port):
    jar = CookieJar()
    r = web_login(port, portal.admin, ADMIN_PASSWORD, jar)
    if r.status != 303:
        raise Failed(f"the admin's sign-in answered {r.status}")
    return jar


# --------------------------------------------------------------------------
# Scenarios


def session_everywhere(p):
    jar = CookieJar()
    r = p.sso(p.lb, p.token(f"pat-{uuid.uuid4().hex[:6]}@multi.test"), jar)
    if r.status != 303:
        raise Failed(f"the sign-in through nginx answered {r.status}")
    seen = [request(port, "GET", "/dashboard", jar.header()).status for port in p.ports()]
    if seen != [200, 200, 200]:
        raise Failed(f"the dashboard on each instance answered {seen}")
    return "a session made through nginx opens the dashboard on each of the 3 instances"


def rotation_revokes_everywhere(p):
    # Each instance signs someone in with the current secret: each has the
    # company and its secret cached.
    old = p.secret
    for port in p.ports():
        r = p.sso(port, p.token(f"warm-{uuid.uuid4().hex[:6]}@multi.test"))
        if r.status != 303:
            raise Failed(f"a sign-in on :{port} answered {r.status}")
    jar = admin_jar(p, p.ports()[0])
    html = admin_page(p, p.ports()[0], jar, "/settings/sso")
    r = admin_post(p, p.ports()[0], jar, "/settings/sso/rotate", find_csrf(html), [("grace", "0")])
    if r.status not in (200, 303):
        raise Failed(f"the rotation answered {r.status}")
    # At once, on every instance: the old secret's tokens are refused.
    codes = [code_of(p.sso(port, p.token(f"late-{uuid.uuid4().hex[:6]}@multi.test", old)))
             for port in p.ports()]
    if codes != ["bad_signature"] * 3:
        raise Failed(f"old-secret tokens right after the rotation: {codes}")
    p.secret = psql(p.url, "SELECT secret FROM sso_secrets s JOIN companies c ON c.id = "
                           f"s.company_id WHERE c.public_id = '{p.company}' AND state = 'current'")
    fresh = [p.sso(port, p.token(f"new-{uuid.uuid4().hex[:6]}@multi.test")).status
             for port in p.ports()]
    if fresh != [303] * 3:
        raise Failed(f"new-secret tokens: {fresh}")
    return "rotated with revoke-now on instance 1: old-secret tokens refused at once on all 3"


def disable_ends_sessions(p):
    email = f"dis-{uuid.uuid4().hex[:6]}@multi.test"
    jar = CookieJar()
    r = p.sso(p.lb, p.token(email), jar)
    if r.status != 303:
        raise Failed(f"the sign-in answered {r.status} {code_of(r)}")
    for port in p.ports():
        if request(port, "GET", "/dashboard", jar.header()).status != 200:
            raise Failed(f"the dashboard on :{port} did not open")
    uid = psql(p.url, f"SELECT id FROM users WHERE email = '{email}'")
    admin = admin_jar(p, p.ports()[1])
    html = admin_page(p, p.ports()[1], admin, "/settings/people")
    started = time.monotonic()
    r = admin_post(p, p.ports()[1], admin, f"/settings/people/{uid}/disable", find_csrf(html), [])
    if r.status not in (200, 303):
        raise Failed(f"disable answered {r.status}")
    ended = {}
    while len(ended) < 3 and time.monotonic() - started < 3:
        for port in p.ports():
            if port not in ended and request(port, "GET", "/dashboard", jar.header()).status != 200:
                ended[port] = time.monotonic() - started
        time.sleep(0.01)
    if len(ended) < 3 or max(ended.values()) > 1.0:
        raise Failed(f"sessions ended after {ended} s")
    return "disabled on instance 2: the session ends on all 3 within " \
           f"{max(ended.values()) * 1000:.0f} ms"


def jti_single_use(p):
    token = p.token(f"jti-{uuid.uuid4().hex[:6]}@multi.test", jti=uuid.uuid4().hex)
    ports = p.ports()
    first = p.sso(ports[0], token).status
    others = [code_of(p.sso(port, token)) for port in ports[1:]]
    if first != 303 or others != ["token_replayed"] * 2:
        raise Failed(f"first {first}, then {others}")
    return "a jti used on instance 1 is token_replayed on instances 2 and 3"


def first_sign_in_race(p):
    email = f"race-{uuid.uuid4().hex[:6]}@multi.test"
    ports = p.ports()
    statuses = []
    barrier = threading.Barrier(30)

    def one(i):
        token = p.token(email)
        barrier.wait()
        statuses.append(p.sso(ports[i % 3], token).status)

    harness.run_threads([lambda i=i: one(i) for i in range(30)], 60)
    users = psql(p.url, f"SELECT count(*) FROM users WHERE email = '{email}'")
    if users != "1" or statuses.count(303) != 30:
        raise Failed(f"{users} users; answers {sorted(statuses)}")
    return "30 simultaneous first sign-ins of one email over 3 instances: 30 sign-ins, 1 user"


def throttle_counts_across(p):
    victim = p.admin
    answers = []
    # A network of its own: the admin's own sign-ins above came from CLIENT.
    stranger = ("X-Forwarded-For", "198.51.100.23")
    for _ in range(12):
        r = web_login(p.lb, victim, "wrong-password-" + uuid.uuid4().hex, CookieJar(), stranger)
        answers.append(r.status)
    allowed = sum(1 for s in answers if s != 429)
    # ACCOUNT_BURST (src/auth/throttle.rs): 5 untrusted attempts on one
    # account from one network, whichever instance takes them.
    if allowed != 5 or answers[5:] != [429] * 7:
        raise Failed(f"answers {answers}")
    return "12 wrong passwords round-robin over 3 instances: 5 checked, 7 refused 429 (as on one)"


def kill9_under_load(p):
    done, lost_reqs = [], []
    stop = threading.Event()
    lock = threading.Lock()

    def client(n):
        i = 0
        while not stop.is_set():
            email = f"load-{n}-{i}-{uuid.uuid4().hex[:6]}@multi.test"
            i += 1
            try:
                r = p.sso(p.lb, p.token(email, jti=False))
                with lock:
                    (done if r.status == 303 else lost_reqs).append((email, r.status))
            except HttpError as e:
                with lock:
                    lost_reqs.append((email, e.kind))

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    victim = p.instances[2]
    victim.kill9()
    killed_at = len(done)
    time.sleep(2.5)
    stop.set()
    for t in threads:
        t.join(30)
    after = len(done) - killed_at
    emails = [e for e, _ in done]
    found = int(psql(p.url, "SELECT count(*) FROM users WHERE email IN (" +
                     ",".join(f"'{e}'" for e in emails) + ")")) if emails else 0
    if found != len(emails):
        raise Failed(f"{len(emails) - found} of {len(emails)} answered sign-ins are not stored")
    if after < 50 or len(lost_reqs) > max(10, len(done) // 50):
        raise Failed(f"{after} sign-ins after the kill, {len(lost_reqs)} failed: "
                     f"{lost_reqs[:5]}")
    victim.start()
    victim.wait_healthy()
    return (f"kill -9 of instance 3 under 8 clients: {len(done)} sign-ins answered "
            f"({after} after the kill), all {found} stored; {len(lost_reqs)} failed")


def database_outage(p):
    p.cluster.stop()
    try:
        slow, answers = [], []
        for port in p.ports():
            t0 = time.monotonic()
            r = request(port, "GET", "/healthz", timeout=20)
            answers.append((r.status, r.text().strip()))
            t1 = time.monotonic()
            r2 = p.sso(port, p.token(f"down-{uuid.uuid4().hex[:6]}@multi.test"))
            t2 = time.monotonic()
            answers.append((r2.status, code_of(r2)))
            slow.append(max(t1 - t0, t2 - t1))
        health = [a for a in answers[0::2]]
        signin = [a[0] for a in answers[1::2]]
        if any(h[0] != 503 or "unavailable" not in h[1] for h in health) or \
                any(s != 503 for s in signin) or max(slow) > 8:
            raise Failed(f"while down: healthz {health}, sign-ins {signin}, "
                         f"slowest {max(slow):.1f} s")
    finally:
        p.cluster.start()
    t0 = time.monotonic()
    recovered = set()
    while len(recovered) < 3 and time.monotonic() - t0 < 30:
        for port in p.ports():
            if port not in recovered and \
                    request(port, "GET", "/healthz", timeout=5).status == 200 and \
                    p.sso(port, p.token(f"back-{uuid.uuid4().hex[:6]}@multi.test")).status == 303:
                recovered.add(port)
        time.sleep(0.1)
    if len(recovered) < 3:
        raise Failed(f"only {len(recovered)} instances recovered in 30 s")
    return (f"PostgreSQL stopped: healthz 503 unavailable and sign-ins 503 on all 3 "
            f"(slowest {max(slow):.1f} s); started again: all 3 sign in within "
            f"{time.monotonic() - t0:.1f} s, no restart")


SCENARIOS = [session_everywhere, rotation_revokes_everywhere, disable_ends_sessions,
             jti_single_use, first_sign_in_race, throttle_counts_across, kill9_under_load,
             database_outage]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--database", required=True)
    ap.add_argument("--pg-dir", required=True)
    ap.add_argument("--pg-port", required=True, type=int)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    passed = failed = 0
    portal = None
    try:
        portal = Portal(args)
        print(f"== 3 instances on :{' :'.join(str(p) for p in portal.ports())}, "
              f"nginx on :{portal.lb}", flush=True)
        migrations = psql(args.database, "SELECT count(*) FROM __diesel_schema_migrations")
        print(f"PASS joint-start: 3 instances started together; {migrations} migrations "
              "applied once", flush=True)
        passed += 1
        for scenario in SCENARIOS:
            name = scenario.__name__.replace("_", "-")
            try:
                print(f"PASS {name}: {scenario(portal)}", flush=True)
                passed += 1
            except Exception as e:  # noqa: BLE001
                failed += 1
                detail = str(e) if isinstance(e, Failed) else traceback.format_exc(limit=3)
                print(f"FAIL {name}: {detail}", flush=True)
    except Exception:  # noqa: BLE001
        failed += 1
        print(f"FAIL set-up: {traceback.format_exc(limit=4)}", flush=True)
    finally:
        if portal is not None:
            portal.stop()
        harness.kill_all_servers()
    print(f"{passed} passed, {failed} failed")
    if failed and portal is not None:
        for inst in portal.instances:
            print(f"-- {inst.name}: {inst.log_tail(8)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
