#!/usr/bin/env python3
"""Portico's reliability torture: seven scenarios, each against a server of its
own on a fresh SQLite file. Python 3 standard library only.

    python3 scripts/torture/torture.py --bin target/debug/portico [SCENARIO ...]

SCENARIO is a number (1-7) or a name; none runs all. Each scenario prints
`PASS <name>: <figure>` or `FAIL <name>: <figure and why>` (details follow,
indented), and the last line is `N passed, M failed`. Exit status 1 when
anything failed. TORTURE_KEEP=1 keeps the temporary directory (databases and
server logs); it is always kept when something failed.
"""

import argparse
import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    ADMIN_PASSWORD, Budget, Cli, CookieJar, HttpError, Server, build_request, claims_for,
    connect, db_query, db_scalar, exchange, find_csrf, form, fresh_email, kill_all_servers,
    mint, request, run_threads, sign, b64u, compact_json, token_secrets,
)

FORM = ("Content-Type", "application/x-www-form-urlencoded")
JSON = ("Accept", "application/json")


class Failed(Exception):
    """A scenario's verdict when a precondition already failed."""


class Scenario:
    def __init__(self, ctx, name):
        self.ctx = ctx
        self.name = name
        self.dir = os.path.join(ctx.root, name)
        os.makedirs(self.dir, exist_ok=True)
        self.db = os.path.join(self.dir, "portico.db")
        self.cli = Cli(ctx.binary, self.db, self.dir)
        self.servers = []
        self.needles = set()  # strings that must never reach a server log
        self.needles.add(ADMIN_PASSWORD)
        self.lock = threading.Lock()
        self.details = []
        self.problems = []  # each one fails the scenario

    def server(self, tag="server"):
        s = Server(self.ctx.binary, self.db, self.dir, tag)
        self.servers.append(s)
        return s

    def track(self, *tokens):
        found = []
        for t in tokens:
            found.extend(token_secrets(t))
        with self.lock:
            self.needles.update(found)

    def secret(self, s):
        with self.lock:
            self.needles.add(s)

    def note(self, text):
        self.details.append(text)

    def problem(self, text):
        self.problems.append(text)


# --------------------------------------------------------------------------
# Shared pieces


def sso_request(port, token, entry, accept_json=False, return_to=None):
    """The raw bytes of one sign-in through entry 0 (GET ?token=), 1 (POST
    form) or 2 (GET /login/TOKEN)."""
    headers = [JSON] if accept_json else []
    if entry == 0:
        target = "/api/auth/sso?token=" + quote(token, safe="")
        if return_to:
            target += "&return_to=" + quote(return_to, safe="")
        return build_request(port, "GET", target, headers)
    if entry == 1:
        pairs = [("token", token)] + ([("return_to", return_to)] if return_to else [])
        return build_request(port, "POST", "/api/auth/sso", headers + [FORM], form(pairs))
    return build_request(port, "GET", "/login/" + token, headers)


def sign_in(port, token, entry=0, accept_json=False, timeout=20.0):
    return exchange(port, sso_request(port, token, entry, accept_json), timeout=timeout)


def session_cookie(resp):
    for sc in resp.header_all("set-cookie"):
        if sc.startswith("portico_session=") and not sc.startswith("portico_session=;"):
            return sc.split(";", 1)[0]
    return None


def status_counts(items):
    counts = {}
    for it in items:
        counts[it] = counts.get(it, 0) + 1
    return ", ".join(f"{k}×{v}" for k, v in sorted(counts.items(), key=lambda kv: str(kv[0])))


def outcome(x):
    """A response's status, or the kind of failure."""
    return x.status if hasattr(x, "status") else getattr(x, "kind", "error")


def check_logs(sc):
    """Every server of the scenario: no token, secret or password in its log,
    no panic."""
    for srv in sc.servers:
        text = srv.log_text()
        if not text:
            continue
        needles = sc.needles
        if len(text) * max(1, len(needles)) < 4e9:
            leaked = [n for n in needles if n in text]
        else:
            runs = set(re.findall(r"[A-Za-z0-9_-]{20,}", text))
            leaked = [n for n in needles if n in runs]
        if leaked:
            lines = [l for l in text.splitlines() if any(n in l for n in leaked[:3])][:3]
            sc.problem(f"server log {os.path.basename(srv.logs[-1])} contains "
                       f"{len(leaked)} token part(s)/secret(s), e.g. line: "
                       f"{(lines[0] if lines else '?')[:300]}")
        serving = srv.serving_log if srv.serving_log is not None else text
        panics = [l for l in serving.splitlines() if "panicked" in l]
        if panics:
            sc.problem(f"server {srv.name} panicked while serving: {panics[0][:300]}")
        late = [l for l in text[len(serving):].splitlines() if "panicked" in l]
        if late:
            # Not a scenario's subject, but never to go unseen.
            sc.note(f"NOTE: server {srv.name} panicked on SIGTERM (shutdown): "
                    + " ".join(text[len(serving):].split("\n")[:3])[:400])
        errors = [l for l in text.splitlines() if " ERROR " in l or "[ERROR" in l]
        if errors:
            sc.note(f"server log has {len(errors)} ERROR line(s), first: {errors[0][:300]}")
    sc.note(f"log check: {len(sc.needles)} token signatures/payloads/secrets searched in "
            f"{sum(len(s.logs) for s in sc.servers)} log file(s)")


def seed_company(sc, name, secret=True, project=False):
    cid = sc.cli.company(name, fresh_email("admin-" + name.lower()))
    sec = sc.cli.rotate(cid) if secret else None
    if sec:
        sc.secret(sec)
    pid = sc.cli.project(cid, "Web") if project else None
    return cid, sec, pid


def http_ok(port):
    try:
        return request(port, "GET", "/healthz", timeout=10).status
    except HttpError as e:
        return e.kind


# --------------------------------------------------------------------------
# 1. 50 simultaneous first sign-ins with one email


def s1_first_signin_race(sc):
    n = 50
    cid, secret, pid = seed_company(sc, "Race", project=True)
    srv = sc.server().start()
    port = srv.port
    email = fresh_email("first")
    tokens = [mint(secret, claims_for(cid, email, pid)) for _ in range(n)]
    sc.track(*tokens)
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        sock = None
        try:
            sock = connect(port)
        except HttpError as e:
            results[i] = e
        try:
            barrier.wait(timeout=30)
        except threading.BrokenBarrierError:
            pass
        if sock is None:
            return
        raw = sso_request(port, tokens[i], i % 3)
        try:
            results[i] = exchange(port, raw, timeout=30, sock=sock)
        except HttpError as e:
            results[i] = e
        finally:
            sock.close()

    stuck = run_threads([lambda i=i: worker(i) for i in range(n)], 45)
    statuses = [outcome(r) for r in results]
    ok = [r for r in results if getattr(r, "status", None) == 303
          and r.header("location") == "/dashboard" and session_cookie(r)]
    users = db_scalar(sc.db, "SELECT COUNT(*) FROM users WHERE email = ?", (email,))
    members = db_scalar(sc.db, "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = "
                        "m.user_id WHERE u.email = ?", (email,))
    jtis = db_scalar(sc.db, "SELECT COUNT(*) FROM used_tokens")
    events = db_scalar(sc.db, "SELECT COUNT(*) FROM sso_events WHERE outcome = 'ok'")
    slowest = max((r.elapsed for r in results if hasattr(r, "elapsed")), default=0)
    figure = (f"{len(ok)}/{n} answered 303 → /dashboard with a session (slowest "
              f"{slowest * 1000:.0f} ms); users={users}, memberships={members}, "
              f"used jti={jtis}, ok events={events}")
    if stuck:
        sc.problem(f"{stuck} client thread(s) still blocked after 45 s")
    if len(ok) != n:
        sc.problem(f"answers: {status_counts(statuses)}")
        for r in results:
            if getattr(r, "status", 303) != 303:
                sc.note(f"non-303 answer: {r.status} {r.text()[:200]!r}")
                break
    if users != 1:
        sc.problem(f"{users} users with the email")
    if members != 1:
        sc.problem(f"{members} memberships for the user")
    if jtis != len(ok):
        sc.problem(f"{jtis} jti recorded for {len(ok)} successful sign-ins")
    return figure


# --------------------------------------------------------------------------
# 2. One new email provisioned by two companies at once


def s2_cross_company_race(sc):
    rounds, per = 3, 20
    a, sa, _ = seed_company(sc, "Alpha")
    b, sb, _ = seed_company(sc, "Beta")
    srv = sc.server().start()
    port = srv.port
    owners = []
    for rnd in range(rounds):
        email = fresh_email(f"contested{rnd}")
        plan = []
        for i in range(per):
            plan.append(("A", mint(sa, claims_for(a, email))))
            plan.append(("B", mint(sb, claims_for(b, email))))
        sc.track(*(t for _, t in plan))
        barrier = threading.Barrier(len(plan))
        results = [None] * len(plan)

        def worker(i):
            sock = None
            try:
                sock = connect(port)
            except HttpError as e:
                results[i] = e
            try:
                barrier.wait(timeout=30)
            except threading.BrokenBarrierError:
                pass
            if sock is None:
                return
            raw = sso_request(port, plan[i][1], i % 3, accept_json=True)
            try:
                results[i] = exchange(port, raw, timeout=30, sock=sock)
            except HttpError as e:
                results[i] = e
            finally:
                sock.close()

        stuck = run_threads([lambda i=i: worker(i) for i in range(len(plan))], 45)
        if stuck:
            sc.problem(f"round {rnd}: {stuck} client thread(s) blocked after 45 s")
        rows = db_query(sc.db, "SELECT c.public_id FROM users u JOIN companies c ON c.id = "
                        "u.company_id WHERE u.email = ?", (email,))
        if len(rows) != 1:
            sc.problem(f"round {rnd}: {len(rows)} users with the contested email")
            continue
        owner = "A" if rows[0][0] == a else "B"
        owners.append(owner)
        bad = []
        for (side, _), r in zip(plan, results):
            if side == owner:
                if getattr(r, "status", None) != 303:
                    bad.append(f"owner {side}: {outcome(r)}")
            else:
                body = r.json() if hasattr(r, "json") else None
                if getattr(r, "status", None) != 403 or not isinstance(body, dict) \
                        or body.get("error") != "email_taken":
                    bad.append(f"other {side}: {outcome(r)} "
                               f"{(r.text()[:120] if hasattr(r, 'text') else '')!r}")
        if bad:
            sc.problem(f"round {rnd} (owner {owner}): {len(bad)} wrong answer(s): "
                       f"{status_counts(bad)}")
    return (f"{rounds} rounds of {per}+{per} interleaved concurrent first sign-ins: exactly one "
            f"user each (owners {','.join(owners) or '-'}); owner's answers 303, the other's "
            f"403 email_taken" if not sc.problems else f"owners {','.join(owners) or '-'}")


# --------------------------------------------------------------------------
# 3. Rotation with "revoke now" during a sign-in burst


def burst(port, make_token, stop, threads=6, per_thread=3000, deadline=15.0, track=None):
    """Threads signing in continuously; each record is (t_start, t_end,
    status or failure kind, JSON error code)."""
    records = []
    lock = threading.Lock()
    t_limit = time.monotonic() + deadline

    def worker(k):
        mine = []
        for i in range(per_thread):
            if stop.is_set() or time.monotonic() > t_limit:
                break
            token = make_token()
            if track:
                track(token)
            t0 = time.monotonic()
            try:
                r = exchange(port, sso_request(port, token, (k + i) % 3, accept_json=True),
                             timeout=20, t_start=t0)
                body = r.json()
                code = body.get("error") if isinstance(body, dict) else None
                mine.append((r.t_start, r.t_end, r.status, code))
            except HttpError as e:
                mine.append((e.t_start, e.t_end, e.kind, None))
                time.sleep(0.02)
        with lock:
            records.extend(mine)

    ths = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(threads)]
    for t in ths:
        t.start()
    return ths, records


def judge_rotation(sc, label, records, t_rot_start, t_rot_end, new_ok):
    before = [r for r in records if r[1] <= t_rot_start]
    during = [r for r in records if r[1] > t_rot_start and r[0] < t_rot_end]
    after = [r for r in records if r[0] >= t_rot_end]
    ok_b = sum(r[2] == 303 for r in before)
    ok_d = sum(r[2] == 303 for r in during)
    ok_a = [r for r in after if r[2] == 303]
    figure = (f"{label}: old-secret sign-ins 303 before rotation {ok_b}/{len(before)}, "
              f"in flight {ok_d}/{len(during)}, started after it returned {len(ok_a)}/{len(after)}")
    if ok_a:
        late = max(r[0] - t_rot_end for r in ok_a)
        sc.problem(f"{label}: {len(ok_a)} old-secret sign-in(s) STARTED after the rotation "
                   f"returned and succeeded (303), up to {late * 1000:.0f} ms after it")
    if ok_b == 0:
        sc.problem(f"{label}: no old-secret sign-in succeeded before the rotation "
                   "(the burst did not exercise anything)")
    if len(after) < 20:
        sc.problem(f"{label}: only {len(after)} sign-ins started after the rotation returned")
    wrong = [r for r in after if r[2] != 303 and not (r[2] == 401 and r[3] == "bad_signature")]
    if wrong:
        sc.problem(f"{label}: after the rotation, answers other than 401 bad_signature: "
                   f"{status_counts(f'{r[2]} {r[3]}' for r in wrong)}")
    fivexx = [r for r in records if isinstance(r[2], int) and r[2] >= 500]
    errors = [r for r in records if not isinstance(r[2], int)]
    if fivexx:
        sc.problem(f"{label}: {len(fivexx)} 5xx answer(s): {status_counts(r[2] for r in fivexx)}")
    if errors:
        sc.problem(f"{label}: {len(errors)} request(s) without an answer: "
                   f"{status_counts(r[2] for r in errors)}")
    if new_ok != 303:
        sc.problem(f"{label}: a sign-in with the NEW secret answered {new_ok}, not 303")
    answers = status_counts(" ".join(str(x) for x in r[2:4] if x is not None) for r in records)
    sc.note(f"{label}: rotation took {(t_rot_end - t_rot_start) * 1000:.0f} ms; all answers: "
            f"{answers}")
    return figure


def rotation_run(sc, port, cid, old, rotate, label, fetch_new=None):
    """Old-secret sign-ins in a burst; `rotate()` revokes the old secret and
    returns the new one (or None: then `fetch_new()` reads it)."""
    stop = threading.Event()
    ths, records = burst(port, lambda: mint(old, claims_for(cid, fresh_email("rot"))), stop,
                         track=sc.track)
    time.sleep(1.2)
    t_rot_start = time.monotonic()
    new = rotate()
    t_rot_end = time.monotonic()
    if new is None and fetch_new:
        new = fetch_new()
    if not new:
        stop.set()
        raise Failed(f"{label}: the new secret could not be read")
    sc.secret(new)
    # How soon the new secret works: one new-secret sign-in every 50 ms.
    first_new = {}

    def probe_new():
        for _ in range(200):
            if time.monotonic() > t_rot_end + 5:
                return
            tok = mint(new, claims_for(cid, fresh_email("rotnew")))
            sc.track(tok)
            try:
                r = sign_in(port, tok, accept_json=True)
                first_new.setdefault("answers", []).append(r.status)
                if r.status == 303:
                    first_new["ms"] = (r.t_end - t_rot_end) * 1000
                    return
            except HttpError as e:
                first_new.setdefault("answers", []).append(e.kind)
            time.sleep(0.05)

    prober = threading.Thread(target=probe_new, daemon=True)
    prober.start()
    time.sleep(2.0)
    stop.set()
    for t in ths + [prober]:
        t.join(30)
    if any(t.is_alive() for t in ths + [prober]):
        sc.problem(f"{label}: client threads still blocked 30 s after the stop")
    tok = mint(new, claims_for(cid, fresh_email("rotnew")))
    sc.track(tok)
    try:
        new_ok = sign_in(port, tok, accept_json=True).status
    except HttpError as e:
        new_ok = e.kind
    figure = judge_rotation(sc, label, list(records), t_rot_start, t_rot_end, new_ok)
    if "ms" in first_new:
        figure += f", new secret first accepted {first_new['ms']:.0f} ms after it returned"
    else:
        figure += ", new secret NOT accepted within 5 s"
    refused_new = [a for a in first_new.get("answers", []) if a != 303]
    if refused_new:
        sc.note(f"{label}: new-secret sign-ins refused right after the rotation: "
                f"{status_counts(refused_new)}")
    return figure


def web_signup(sc, port):
    jar = CookieJar()
    r = request(port, "GET", "/signup")
    jar.update(r)
    csrf = find_csrf(r.text())
    if r.status != 200 or not csrf:
        raise Failed(f"GET /signup answered {r.status} without a csrf field")
    email = fresh_email("webadmin")
    r = request(port, "POST", "/signup", jar.header() + [FORM],
                form([("csrf", csrf), ("company", "Webco"), ("name", "Web Admin"),
                      ("email", email), ("password", ADMIN_PASSWORD)]), timeout=60)
    jar.update(r)
    if r.status != 303:
        raise Failed(f"POST /signup answered {r.status}: {r.text()[:200]!r}")
    return jar


def web_settings(port, jar):
    """Settings → SSO: (csrf, company ID, the secret shown once or None)."""
    r = request(port, "GET", "/settings/sso", jar.header())
    jar.update(r)
    if r.status != 200:
        raise Failed(f"GET /settings/sso answered {r.status}")
    html = r.text()
    cid = re.search(r'id="company-id" class="mono">([^<]+)<', html)
    secret = re.search(r'id="new-secret" class="mono">([^<]+)<', html)
    return find_csrf(html), cid.group(1) if cid else None, secret.group(1) if secret else None


def web_rotate(port, jar, csrf):
    """Generate / rotate with "revoke now": the new secret, which only the
    rotation's own answer shows."""
    r = request(port, "POST", "/settings/sso/rotate", jar.header() + [FORM],
                form([("csrf", csrf), ("grace", "0")]))
    jar.update(r)
    if r.status != 200:
        raise Failed(f"POST /settings/sso/rotate answered {r.status}: {r.text()[:200]!r}")
    secret = re.search(r'id="new-secret" class="mono">([^<]+)<', r.text())
    if not secret:
        raise Failed("the rotation's answer does not show the new secret")
    return secret.group(1)


def s3_rotation_revoke_now(sc):
    cid, old, _ = seed_company(sc, "Rotor")
    srv = sc.server().start()
    port = srv.port
    figures = [rotation_run(sc, port, cid, old, lambda: sc.cli.rotate(cid, grace=0),
                            "CLI rotate --grace 0")]
    # The same through Settings → SSO, on a company made with /signup.
    jar = web_signup(sc, port)
    csrf, wcid, _ = web_settings(port, jar)
    if not csrf or not wcid:
        raise Failed("Settings → SSO shows no csrf field or company ID")
    wold = web_rotate(port, jar, csrf)  # "Generate secret": the first one
    csrf, _, shown_again = web_settings(port, jar)
    if not csrf or shown_again:
        raise Failed("Settings → SSO showed the secret again, or no csrf field")
    sc.secret(wold)
    figures.append(rotation_run(
        sc, port, wcid, wold, lambda: web_rotate(port, jar, csrf),
        "Settings → SSO rotate, revoke now"))
    return "; ".join(figures)


# --------------------------------------------------------------------------
# 4. kill -9 during first-visit load


def s4_kill9_under_load(sc):
    cid, secret, pid = seed_company(sc, "Crash", project=True)
    srv = sc.server("before-kill").start()
    port = srv.port
    lock = threading.Lock()
    signed = []  # emails answered 303
    all_out = []
    t_end = time.monotonic() + 3.0

    def worker(k):
        for i in range(5000):
            if time.monotonic() > t_end:
                break
            email = fresh_email(f"crash{k}")
            tok = mint(secret, claims_for(cid, email, pid))
            sc.track(tok)
            try:
                r = exchange(port, sso_request(port, tok, (k + i) % 3), timeout=20)
                with lock:
                    all_out.append(r.status)
                    if r.status == 303:
                        signed.append(email)
            except HttpError as e:
                with lock:
                    all_out.append(e.kind)
                time.sleep(0.02)

    ths = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(8)]
    for t in ths:
        t.start()
    time.sleep(1.5)
    with lock:
        before_kill = len(signed)
    srv.kill9()
    for t in ths:
        t.join(30)
    if any(t.is_alive() for t in ths):
        sc.problem("client threads still blocked 30 s after the load window")
    srv.log_file.close()
    sc.note(f"answers around the kill: {status_counts(all_out)}")
    if before_kill == 0:
        sc.problem("no sign-in had succeeded when the server was killed")

    srv2 = sc.server("after-restart")
    try:
        srv2.start()
    except RuntimeError as e:
        raise Failed(f"the server did not restart on the same file: {e}")
    integrity = db_query(sc.db, "PRAGMA integrity_check")
    fk = db_query(sc.db, "PRAGMA foreign_key_check")
    present = set()
    emails = list(signed)
    for i in range(0, len(emails), 500):
        chunk = emails[i:i + 500]
        rows = db_query(sc.db, f"SELECT email FROM users WHERE email IN "
                        f"({','.join('?' * len(chunk))})", chunk)
        present.update(r[0] for r in rows)
    missing = [e for e in emails if e not in present]
    member_rows = db_scalar(sc.db, "SELECT COUNT(*) FROM memberships m JOIN projects p ON "
                            "p.id = m.project_id WHERE p.public_id = ?", (pid,))
    users_total = db_scalar(sc.db, "SELECT COUNT(*) FROM users WHERE email LIKE 'crash%'")
    if integrity != [("ok",)]:
        sc.problem(f"PRAGMA integrity_check: {integrity[:5]}")
    if fk:
        sc.problem(f"PRAGMA foreign_key_check: {len(fk)} row(s), e.g. {fk[:3]}")
    if missing:
        sc.problem(f"{len(missing)} of {len(emails)} emails answered 303 are not in users, "
                   f"e.g. {missing[:3]}")
    if member_rows < len(present):
        sc.problem(f"only {member_rows} memberships for {len(present)} signed-in users")
    # A sign-in of a survivor, and a new first visit, on the restarted server.
    again = "-"
    if emails:
        tok = mint(secret, claims_for(cid, emails[0], pid))
        sc.track(tok)
        r = sign_in(srv2.port, tok)
        cookie = session_cookie(r)
        dash = request(srv2.port, "GET", "/dashboard", [("Cookie", cookie)] if cookie else [])
        again = f"{r.status}, dashboard {dash.status}"
        if r.status != 303 or dash.status != 200 or emails[0] not in dash.text():
            sc.problem(f"sign-in of a survivor on the restarted server: {again}")
    tok = mint(secret, claims_for(cid, fresh_email("after"), pid))
    sc.track(tok)
    first = sign_in(srv2.port, tok).status
    if first != 303:
        sc.problem(f"a new first visit on the restarted server answered {first}")
    fivexx = [s for s in all_out if isinstance(s, int) and s >= 500]
    if fivexx:
        sc.problem(f"{len(fivexx)} 5xx answers before the kill: {status_counts(fivexx)}")
    return (f"killed after {before_kill} sign-ins; {len(emails)} answered 303 in all, "
            f"{len(emails) - len(missing)} present after restart ({users_total} crash users "
            f"in the file); integrity_check {integrity[0][0] if integrity else '?'}, "
            f"foreign_key_check {len(fk)} rows; survivor sign-in {again}, new sign-in {first}")


# --------------------------------------------------------------------------
# 5. Another process holds the write lock for 10 s


LOCK_HOLDER = r"""
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
con.execute("BEGIN IMMEDIATE")
print("LOCKED", flush=True)
time.sleep(float(sys.argv[2]))
con.execute("ROLLBACK")
con.close()
print("RELEASED", flush=True)
"""

CLIENT_TIMEOUT = 20.0


def s5_write_lock(sc):
    hold = 10.0
    cid, secret, pid = seed_company(sc, "Locked", project=True)
    srv = sc.server().start()
    port = srv.port
    cookies = []
    for i in range(3):
        tok = mint(secret, claims_for(cid, fresh_email("dash"), pid))
        sc.track(tok)
        r = sign_in(port, tok)
        c = session_cookie(r)
        if r.status != 303 or not c:
            raise Failed(f"preparing dashboard sessions: sign-in answered {r.status}")
        cookies.append(c)

    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, sc.db, str(hold)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = holder.stdout.readline().strip()
        t_locked = time.monotonic()
        if line != "LOCKED":
            raise Failed(f"the lock holder did not take the lock: {line!r} "
                         f"{holder.stderr.read()[:300]!r}")
        released = threading.Event()
        t_rel = {}

        def wait_release():
            l2 = holder.stdout.readline().strip()
            t_rel["t"] = time.monotonic()
            t_rel["line"] = l2
            released.set()

        threading.Thread(target=wait_release, daemon=True).start()
        lock = threading.Lock()
        records = []  # (kind, t_start, t_end, status/kind, body)
        signed = []  # emails answered 303

        def signer(k):
            for i in range(2000):
                if released.is_set() or time.monotonic() > t_locked + hold + 5:
                    break
                email = fresh_email(f"lock{k}")
                tok = mint(secret, claims_for(cid, email, pid))
                sc.track(tok)
                t0 = time.monotonic()
                try:
                    r = exchange(port, sso_request(port, tok, (k + i) % 3), timeout=CLIENT_TIMEOUT,
                                 t_start=t0)
                    rec = ("sign-in", r.t_start, r.t_end, r.status, r.text())
                    if r.status == 303:
                        with lock:
                            signed.append(email)
                except HttpError as e:
                    rec = ("sign-in", e.t_start, e.t_end, e.kind, e.detail)
                    time.sleep(0.05)
                with lock:
                    records.append(rec)

        def dasher(k):
            for i in range(20000):
                if released.is_set() or time.monotonic() > t_locked + hold + 5:
                    break
                t0 = time.monotonic()
                try:
                    r = request(port, "GET", "/dashboard", [("Cookie", cookies[k % len(cookies)])],
                                timeout=CLIENT_TIMEOUT, t_start=t0)
                    rec = ("dashboard", r.t_start, r.t_end, r.status, r.text())
                except HttpError as e:
                    rec = ("dashboard", e.t_start, e.t_end, e.kind, e.detail)
                    time.sleep(0.05)
                with lock:
                    records.append(rec)
                time.sleep(0.05)

        fns = [lambda k=k: signer(k) for k in range(12)] + [lambda k=k: dasher(k) for k in range(2)]
        ths = [threading.Thread(target=f, daemon=True) for f in fns]
        for t in ths:
            t.start()
        time.sleep(hold / 2)
        health_during = http_ok(port)
        released.wait(hold + 10)
        t_release = t_rel.get("t", time.monotonic())
        if t_rel.get("line") != "RELEASED":
            sc.problem(f"the lock holder did not report the release: {t_rel.get('line')!r}")
        # Recovery: a fresh first visit every 100 ms until one answers 303.
        recovered = None
        probes = []
        for _ in range(300):
            if time.monotonic() > t_release + 15:
                break
            tok = mint(secret, claims_for(cid, fresh_email("recover"), pid))
            sc.track(tok)
            try:
                r = sign_in(port, tok, timeout=CLIENT_TIMEOUT)
                probes.append(r.status)
                if r.status == 303:
                    recovered = r.t_end - t_release
                    break
            except HttpError as e:
                probes.append(e.kind)
            time.sleep(0.1)
        for t in ths:
            t.join(CLIENT_TIMEOUT + 5)
        stuck = sum(t.is_alive() for t in ths)
        health_after = http_ok(port)
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(10)

    recs = list(records)
    during = [r for r in recs if r[1] < t_release]
    bad = []
    for kind, t0, t1, st, body in recs:
        good = {"sign-in": (303,), "dashboard": (200,)}[kind]
        if st in good:
            continue
        if st == 503 and re.search(r"[A-Za-z]{3,}", body or ""):
            continue
        bad.append((kind, st, t1 - t0, (body or "")[:160]))
    slowest = max((r[2] - r[1] for r in recs), default=0)
    fig_counts = status_counts(f"{r[0]} {r[3]}" for r in recs)
    n503 = sum(r[3] == 503 for r in during)
    figure = (f"client timeout {CLIENT_TIMEOUT:.0f} s; {len(recs)} requests while the lock was "
              f"held ({fig_counts}), slowest {slowest:.1f} s; "
              f"recovered {('%.2f s' % recovered) if recovered is not None else 'NOT'} after the "
              f"release; /healthz during {health_during}, after {health_after}")
    if bad:
        sc.problem(f"{len(bad)} request(s) neither completed nor got a clean 503: "
                   f"{status_counts(f'{b[0]} {b[1]}' for b in bad)}; first: {bad[0]}")
    if stuck:
        sc.problem(f"{stuck} client thread(s) still blocked after the client timeout")
    if recovered is None:
        sc.problem(f"no new sign-in answered 303 within 15 s of the release (probes: "
                   f"{status_counts(probes)})")
    elif recovered > 5.0:
        sc.problem(f"the first 303 after the release took {recovered:.1f} s (bound 5 s)")
    if health_after != 200:
        sc.problem(f"/healthz after the release answered {health_after}")
    sign_ins_during = [r for r in during if r[0] == "sign-in"]
    if not sign_ins_during:
        sc.problem("no sign-in was attempted while the lock was held")
    # Every sign-in answered 303 was committed.
    present = set()
    for i in range(0, len(signed), 500):
        chunk = signed[i:i + 500]
        present.update(r[0] for r in db_query(
            sc.db, f"SELECT email FROM users WHERE email IN ({','.join('?' * len(chunk))})", chunk))
    lost = [e for e in signed if e not in present]
    if lost:
        sc.problem(f"{len(lost)} of {len(signed)} sign-ins answered 303 have no user, e.g. {lost[0]}")
    sc.note(f"503s while locked: {n503}; recovery probes: {status_counts(probes)}")
    return figure


# --------------------------------------------------------------------------
# 6. 10,000 hostile requests


TRAVERSAL_LEAKS = [b"root:x:0:0", b"[package]", b"fn main", b"DATABASE_URL", b"SQLite format"]


class Hostile:
    """Deterministic generator of hostile requests: `make(i)` returns (label,
    raw bytes, half_close, kind) with kind `sso` (an SSO entry point: no
    token here is valid, so a 303 there is an accepted forgery), `path` (a
    traversal attempt: the body must not leak a file) or `other`."""

    def __init__(self, port, cid, secret, pid, replays, other_admin, seed=1234):
        self.port = port
        self.cid = cid
        self.secret = secret
        self.pid = pid
        self.replays = replays
        self.other_admin = other_admin
        self.seed = seed
        self.gens = [getattr(self, n) for n in sorted(dir(self)) if n.startswith("g_")]
        self.sent_tokens = []

    def make(self, i):
        rng = random.Random(self.seed * 1_000_003 + i)
        gen = self.gens[i % len(self.gens)]
        return gen(rng)

    # helpers
    def req(self, method, target, headers=(), body=None):
        return build_request(self.port, method, target, list(headers), body)

    def sso(self, rng, token, label):
        if isinstance(token, str):
            self.sent_tokens.append(token)
        entry = rng.randrange(3)
        accept = rng.random() < 0.5
        if entry == 2 and isinstance(token, str) and not any(c in token for c in "?#% \r\n"):
            raw = self.req("GET", "/login/" + token, [JSON] if accept else [])
        elif entry == 1:
            raw = self.req("POST", "/api/auth/sso", [FORM] + ([JSON] if accept else []),
                           "token=" + quote(token, safe="") if isinstance(token, str) else token)
        else:
            raw = self.req("GET", "/api/auth/sso?token=" + quote(token, safe=""),
                           [JSON] if accept else [])
        return label, raw, False, "sso"

    def claims(self, rng, **over):
        c = claims_for(self.cid, f"h{rng.randrange(10**9)}@hostile.test")
        c.update(over)
        return {k: v for k, v in c.items() if v is not None}

    # malformed tokens
    def g_malformed(self, rng):
        now = int(time.time())
        choices = [
            "", ".", "..", "...", "a.b", "a.b.c.d", "e30.e30.", "e30.e30.e30",
            b64u("{") + "." + b64u("{}") + ".x",
            b64u('{"alg":"HS256"}') + "." + b64u("[1,2,3]") + ".abc",
            b64u('{"alg":"HS256"}') + "." + b64u("null") + ".abc",
            b64u('{"alg":"HS256"}') + "." + b64u("[" * 3000 + "]" * 3000) + ".abc",
            b64u('{"alg":"HS256"}') + "." + b64u('{"a":' * 1000 + "1" + "}" * 1000) + ".abc",
            b64u('{"alg":"HS256"}') + "." + b64u(b"\xff\xfe\x00garbage") + ".abc",
            "!!!.@@@.###", "eyJ" * 50, "\u00e9\u00e8.\u4e2d\u6587.\U0001F600",
            "a\x00b.c\x00d.e", " " * 10, "Bearer " + mint(self.secret, self.claims(rng, exp=now - 9999)),
            mint(self.secret, self.claims(rng, exp="9999999999")),
            mint(self.secret, self.claims(rng, companyId=12345)),
            mint(self.secret, self.claims(rng, email=["a@b.c"])),
            mint(self.secret, self.claims(rng, iat=1e308)),
            mint(self.secret, self.claims(rng, exp=2 ** 70)),
            mint(self.secret, self.claims(rng, sub={"id": 1})),
            mint(self.secret, self.claims(rng, aud=42)),
            mint(self.secret, "not json at all"),
            mint(self.secret, '{"companyId":"%s","email":"x@y.z","exp":1e999}' % self.cid),
            mint(self.secret, '{"companyId":"%s","companyId":"cmp_other","email":"x@y.z"}' % self.cid),
        ]
        tok = rng.choice(choices)
        if rng.random() < 0.3 and tok:
            tok = tok[: rng.randrange(len(tok))]
        return self.sso(rng, tok, "malformed")

    def g_oversized(self, rng):
        now = int(time.time())
        size = rng.choice([9 * 1024, 9 * 1024, 100 * 1024])
        pad = "x" * size
        tok = mint(self.secret, self.claims(rng, name=pad, iat=now, exp=now + 300))
        self.sent_tokens.append(tok)
        where = rng.randrange(4)
        if where == 0:
            return "oversized-query", self.req("GET", "/api/auth/sso?token=" + tok), False, "sso"
        if where == 1:
            return "oversized-form", self.req("POST", "/api/auth/sso", [FORM], "token=" + tok), \
                False, "sso"
        if where == 2:
            return "oversized-path", self.req("GET", "/login/" + tok), False, "sso"
        body = rng.choice([b"token=" + b"A" * (100 * 1024), os.urandom(100 * 1024),
                           b"A" * (1024 * 1024)])
        target = rng.choice(["/api/auth/sso", "/login", "/signup", "/logout",
                             "/settings/sso/rotate", "/settings/sso/check"])
        return "oversized-body", self.req("POST", target, [FORM], body), False, \
            "sso" if target == "/api/auth/sso" else "other"

    def g_algorithms(self, rng):
        c = self.claims(rng)
        h = rng.choice([
            {"alg": "none", "typ": "JWT"}, {"alg": "None"}, {"alg": "NONE"}, {"alg": "nOnE"},
            {"alg": "HS512", "typ": "JWT"}, {"alg": "HS384"}, {"alg": "RS256"}, {"alg": "ES256"},
            {"alg": "PS256"}, {"alg": "EdDSA"}, {"alg": "hs256"}, {"alg": "HS256 "},
            {"typ": "JWT"}, {"alg": None}, {"alg": 256}, {"alg": ["HS256"]},
            {"alg": "HS256", "crit": ["exp"], "b64": False},
            {"alg": "RS256", "jwk": {"kty": "oct", "k": b64u(self.secret)}},
            {"alg": "HS256", "kid": "../../../../dev/null"},
            {"alg": "HS256", "jku": "http://127.0.0.1:1/jwks.json", "typ": "JWT", "zip": "DEF"},
        ])
        hp = b64u(compact_json(h)) + "." + b64u(compact_json(c))
        alg = h.get("alg") if isinstance(h.get("alg"), str) else ""
        if alg.lower() == "none":
            tok = hp + rng.choice(["", ".", "." + sign(self.secret, hp)])
            if tok.endswith(".."):
                tok = tok[:-1]
            if tok.count(".") == 1:
                tok += "."
        elif alg == "HS512":
            tok = hp + "." + sign(self.secret, hp, hashlib.sha512)
        elif alg == "HS384":
            tok = hp + "." + sign(self.secret, hp, hashlib.sha384)
        elif h.get("alg") == "HS256" and ("crit" in h or "kid" in h or "jku" in h):
            # Signed right, but with headers no one should honour: mark the
            # token invalid by expiry so a 303 still means a forgery.
            c["exp"] = int(time.time()) - 3600
            c["iat"] = c["exp"] - 300
            hp = b64u(compact_json(h)) + "." + b64u(compact_json(c))
            tok = hp + "." + sign(self.secret, hp)
        else:
            tok = hp + "." + sign(self.secret, hp)
        return self.sso(rng, tok, "algorithm")

    def g_replay(self, rng):
        return self.sso(rng, rng.choice(self.replays), "replay")

    def g_expired_or_early(self, rng):
        now = int(time.time())
        c = rng.choice([
            self.claims(rng, iat=now - 4000, exp=now - 3600),
            self.claims(rng, iat=now - 400, exp=now - 61),
            self.claims(rng, iat=None, exp=None),
            self.claims(rng, iat=now + 3600, exp=now + 3900),
            self.claims(rng, nbf=now + 600),
            self.claims(rng, iat=now, exp=now + 100000),
            self.claims(rng, exp=-1),
            self.claims(rng, exp=0, iat=0),
            self.claims(rng, iat=-(2 ** 62), exp=now + 100),
            self.claims(rng, exp=2 ** 63 - 1),
            self.claims(rng, iat=now, exp=now + 300, aud="https://evil.test"),
            self.claims(rng, exp=None, iat=now),
        ])
        return self.sso(rng, mint(self.secret, c), "expired/time")

    def g_wrong_signature(self, rng):
        c = self.claims(rng)
        good = mint(self.secret, c)
        h, p, s = good.split(".")
        variants = [
            mint("not-the-secret", c),
            mint(self.secret + " ", c),
            mint(self.secret.upper(), c),
            f"{h}.{p}." + s[:-2],
            f"{h}.{p}." + s[:-1] + ("A" if s[-1] != "A" else "B"),
            f"{h}.{p}.",
            f"{h}.{p}." + s + "=",
            f"{h}.{p}." + s.replace("-", "+").replace("_", "/") + "x",
            f"{h}.{p}." + s * 40,
            f"{h}.{b64u(compact_json(dict(c, email='swapped@hostile.test')))}.{s}",
            f"{h}.{p}.{b64u(os.urandom(32))}",
            mint("", c),
        ]
        tok = rng.choice(variants)
        return self.sso(rng, tok, "wrong-signature")

    def g_claims(self, rng):
        # Correctly signed, but every one must be refused by a later check.
        c = rng.choice([
            self.claims(rng, companyId="cmp_doesnotexist"),
            self.claims(rng, companyId=""),
            self.claims(rng, companyId=None, sub=999999999),
            self.claims(rng, companyId=None, sub="abc"),
            self.claims(rng, email="not-an-email"),
            self.claims(rng, email="x" * 300 + "@hostile.test"),
            self.claims(rng, email="\u00fc\u00f1\u00ee@hostile.test"),
            self.claims(rng, email="a@b"),
            self.claims(rng, email=""),
            self.claims(rng, email=None),
            self.claims(rng, role="ADMIN"),
            self.claims(rng, role="agent"),
            self.claims(rng, role="ROOT"),
            self.claims(rng, projectId="proj_nope"),
            self.claims(rng, email=self.other_admin),
            self.claims(rng, email=self.other_admin.upper()),
            self.claims(rng, email="  " + self.other_admin + "  "),
            self.claims(rng, email="<script>@hostile.test"),
            self.claims(rng, email="a\r\nSet-Cookie: x=1@hostile.test"),
        ])
        return self.sso(rng, mint(self.secret, c), "claims")

    def g_percent(self, rng):
        target = rng.choice([
            "/api/auth/sso?token=%zz", "/api/auth/sso?token=%", "/api/auth/sso?token=%E0%A4%A",
            "/api/auth/sso?token=%00%00", "/api/auth/sso?token=%ff%fe%fd",
            "/api/auth/sso?%=%&&&=&token", "/api/auth/sso?token=a&token=b&token=%",
            "/api/auth/sso?token=x&return_to=%0d%0aSet-Cookie:%20pwn=1",
            "/api/auth/sso?token=x&return_to=//evil.test", "/login/%ff%fe%fd", "/login/%",
            "/login/%00", "/login/%zz.%zz.%zz", "/login/%2e%2e%2f", "/%", "/%%%", "/dashboard%00",
            "/static/%", "/static/%ff", "/settings/%zz", "/api/auth/sso/%2f%2f",
            "/login/a%0d%0aX-Injected:%20yes",
        ])
        raw = self.req(rng.choice(["GET", "GET", "POST"]), target, [FORM], b"")
        kind = "sso" if target.startswith(("/api/auth/sso", "/login/")) else "other"
        return "percent", raw, False, kind

    def g_traversal(self, rng):
        target = rng.choice([
            "/login/../../../../etc/passwd", "/login/..%2f..%2f..%2f..%2fetc%2fpasswd",
            "/login/%2e%2e/%2e%2e/%2e%2e/Cargo.toml", "/login/....//....//etc/passwd",
            "/login/..\\..\\..\\Cargo.toml", "/login/%2e%2e%5c%2e%2e%5cCargo.toml",
            "/static/../../Cargo.toml", "/static/..%2f..%2fCargo.toml",
            "/static/%2e%2e%2f%2e%2e%2fsrc%2fmain.rs", "/static/..%252f..%252fCargo.toml",
            "/static/....//Cargo.toml", "/static/app.css/../../../etc/passwd",
            "/static/%2e%2e/%2e%2e/portico.db", "/../../../../etc/passwd",
            "/login/../../portico.db", "/static//etc/passwd", "/static/..",
            "//etc/passwd", "/login/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
        ])
        return "traversal", self.req("GET", target), False, "path"

    def g_methods(self, rng):
        method = rng.choice(["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "HEAD", "FOO",
                             "PROPFIND", "GET", "POST", "M-SEARCH", "G\x01ET", "get"])
        target = rng.choice(["/api/auth/sso", "/login/abc.def.ghi", "/dashboard", "/healthz",
                             "/settings/sso/rotate", "/logout", "/signup", "/login",
                             "/settings/people/1/disable", "/settings/projects/1/delete", "/"])
        if method in ("GET", "POST", "get"):
            # the wrong one for these routes
            target = rng.choice(["/settings/sso/rotate", "/logout", "/settings/sso/check"]) \
                if method == "GET" else rng.choice(["/dashboard", "/healthz", "/login/x.y.z"])
        raw = self.req(method, target, [FORM], b"csrf=x&grace=0&token=a.b.c")
        kind = "sso" if target.startswith(("/api/auth/sso", "/login/")) else "other"
        return "method", raw, False, kind

    def g_headers(self, rng):
        p = self.port
        tok = mint(self.secret, self.claims(rng, exp=int(time.time()) - 7200))
        base = f"/api/auth/sso?token={tok}"
        pick = rng.randrange(16)
        if pick == 0:
            raw = self.req("GET", base, [("X-Huge", "A" * (100 * 1024))])
        elif pick == 1:
            raw = self.req("GET", base, [(f"X-H{k}", "v" * 50) for k in range(300)])
        elif pick == 2:
            raw = self.req("GET", base, [("Bad Header Name", "x"), ("X:Colon", "y")])
        elif pick == 3:
            raw = (f"GET {base} HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nConnection: close\r\n"
                   "NoColonHere\r\n\r\n").encode()
        elif pick == 4:
            raw = self.req("GET", base, [("X-Nul", "a\x00b"), ("X-Ctl", "\x01\x02\x7f")])
        elif pick == 5:
            raw = self.req("POST", "/api/auth/sso", [FORM, ("Content-Length", "-1")], b"token=x")
        elif pick == 6:
            raw = self.req("POST", "/api/auth/sso", [FORM, ("Content-Length", "abc")], b"token=x")
        elif pick == 7:
            raw = (f"POST /api/auth/sso HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nConnection: close\r\n"
                   "Content-Length: 7\r\nTransfer-Encoding: chunked\r\n"
                   f"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
                   "0\r\n\r\nGET /login/x HTTP/1.1\r\n\r\n").encode()
        elif pick == 8:
            raw = (f"POST /api/auth/sso HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nConnection: close\r\n"
                   "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n0\r\n\r\n").encode()
        elif pick == 9:
            raw = self.req("GET", base, [("Accept", rng.choice([
                "application/json;q=abc", "*/*;q=2", ";;;", "application/", "\xff\xfe",
                "application/json, " * 500, "text/html;level=" + "9" * 500]))])
        elif pick == 10:
            raw = self.req("GET", rng.choice(["/dashboard", "/settings/sso", "/"]), [
                ("Cookie", "portico_session=" + rng.choice([
                    b64u(os.urandom(300)), "A" * 4000, "%%%", "\"" * 10, "a=b=c;;;"]))])
        elif pick == 11:
            raw = self.req("GET", "/dashboard", [("Cookie", "x=" + "y" * (100 * 1024))])
        elif pick == 12:
            raw = (f"GET {base} HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n").encode()
        elif pick == 13:
            raw = f"GET {base} HTTP/1.0\r\n\r\n".encode()
        elif pick == 14:
            raw = rng.choice([f"GET / HTTP/9.9\r\nHost: x\r\n\r\n".encode(),
                              b"GET /\r\n\r\n",
                              f"GET http://evil.test/login/{tok} HTTP/1.1\r\nHost: evil.test\r\n"
                              f"Connection: close\r\n\r\n".encode(),
                              ("GET /" + "a" * (100 * 1024) + " HTTP/1.1\r\nHost: x\r\n\r\n").encode()])
        else:
            raw = self.req("GET", base, [("Content-Type", "multipart/form-data; boundary=" + "-" * 5000),
                                         ("Origin", "null"), ("Sec-Fetch-Site", "cross-site"),
                                         ("X-Forwarded-For", "1.2.3.4, " * 200),
                                         ("Authorization", "Bearer " + tok)])
        self.sent_tokens.append(tok)
        return "headers", raw, True, "sso"

    def g_random_bytes(self, rng):
        n = rng.choice([1, 7, 64, 512, 4096, 70000])
        data = bytes(rng.getrandbits(8) for _ in range(min(n, 4096)))
        if n > 4096:
            data = data * (n // 4096)
        if rng.random() < 0.3:
            data = b"GET /api/auth/sso?token=" + data
        elif rng.random() < 0.3:
            data = b"POST /api/auth/sso HTTP/1.1\r\nContent-Length: 10\r\n\r\n" + data
        return "random-bytes", data, True, "other"

    def g_forms(self, rng):
        body = rng.choice([
            "token=a&token=b", "token[]=x", "token=%zz&return_to=%", "=&=&=&", "&" * 5000,
            "token=" + "%41" * 3000, "return_to=/x", "token=" + quote(mint("x", {"a": 1}), safe=""),
            "\x00\x01\x02", "token=" + "a." * 3000,
        ])
        ctype = rng.choice(["application/x-www-form-urlencoded", "application/json",
                            "text/plain", "multipart/form-data; boundary=zz", ""])
        headers = [("Content-Type", ctype)] if ctype else []
        raw = self.req("POST", "/api/auth/sso", headers, body.encode("latin-1", "replace"))
        return "forms", raw, False, "sso"


def s6_hostile(sc):
    total, conc = 10_000, 16
    cid, secret, pid = seed_company(sc, "Hostile", project=True)
    other_admin = fresh_email("admin-other")
    sc.cli.company("Other", other_admin)
    srv = sc.server().start()
    port = srv.port
    rss_start = srv.rss_kib()
    replays = []
    for i in range(20):
        tok = mint(secret, claims_for(cid, fresh_email("replay"), pid))
        sc.track(tok)
        r = sign_in(port, tok, entry=i % 3)
        if r.status != 303:
            raise Failed(f"preparing replay tokens: a first use answered {r.status}")
        replays.append(tok)
    gen = Hostile(port, cid, secret, pid, replays, other_admin)

    lock = threading.Lock()
    stats = {}
    fivexx = []
    accepted = []
    leaks = []
    hangs = []
    injected = []
    driver_errors = []
    counter = iter(range(total))
    t_limit = time.monotonic() + 240

    def worker():
        while time.monotonic() < t_limit:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            try:
                label, raw, half, kind = gen.make(i)
            except Exception as e:  # a driver bug: counted, never silent
                with lock:
                    driver_errors.append(f"request {i}: {type(e).__name__}: {e}")
                continue
            try:
                r = exchange(port, raw, timeout=20, half_close=half)
                key = (label, r.status)
                bad5 = r.status >= 500
                acc = kind == "sso" and r.status == 303 and r.header("location") != "/login"
                leak = kind == "path" and any(m in r.body for m in TRAVERSAL_LEAKS)
                inj = r.header("x-injected") or any(
                    "pwn" in v for v in r.header_all("set-cookie"))
            except HttpError as e:
                key = (label, e.kind)
                bad5 = acc = leak = inj = False
                if e.kind == "timeout":
                    with lock:
                        hangs.append((i, label, e.detail))
            with lock:
                stats[key] = stats.get(key, 0) + 1
                if bad5:
                    fivexx.append((i, label, r.status, r.text()[:200]))
                if acc:
                    accepted.append((i, label, r.header("location")))
                if leak:
                    leaks.append((i, label))
                if inj:
                    injected.append((i, label))

    # Warm-up: the first 200 of the very same mix, to let thread pools and
    # allocator arenas reach their working size before the baseline.
    warm = Hostile(port, cid, secret, pid, replays, other_admin, seed=99)
    warm_bad = []
    for i in range(200):
        label, raw, half, kind = warm.make(i)
        try:
            r = exchange(port, raw, timeout=20, half_close=half)
            if r.status >= 500 or (kind == "sso" and r.status == 303
                                   and r.header("location") != "/login"):
                warm_bad.append(f"{label} {r.status}")
        except HttpError as e:
            if e.kind == "timeout":
                warm_bad.append(f"{label} timeout")
    if warm_bad:
        sc.problem(f"warm-up: {status_counts(warm_bad)}")
    sc.track(*warm.sent_tokens)
    time.sleep(0.5)
    rss_before = srv.rss_kib()
    t0 = time.monotonic()
    stuck = run_threads([worker for _ in range(conc)], 300)
    elapsed = time.monotonic() - t0
    time.sleep(1.0)
    alive = srv.alive()
    rss_after = srv.rss_kib() if alive else 0
    health = http_ok(port) if alive else "server died"
    sc.track(*gen.sent_tokens)
    sent = sum(stats.values())
    growth_mb = (rss_after - rss_before) / 1024
    figure = (f"{sent} requests in {elapsed:.1f} s ({conc} concurrent): 5xx={len(fivexx)}, "
              f"hangs={len(hangs)}, accepted forgeries={len(accepted)}; VmRSS {rss_start / 1024:.1f} "
              f"MB at start, {rss_before / 1024:.1f} MB before (after a 200-request warm-up), "
              f"{rss_after / 1024:.1f} MB after ({growth_mb:+.1f} MB); /healthz {health}")
    by_label = {}
    for (label, st), n in stats.items():
        by_label.setdefault(label, []).append(f"{st}×{n}")
    for label in sorted(by_label):
        sc.note(f"{label}: {', '.join(sorted(by_label[label]))}")
    if driver_errors:
        sc.problem(f"{len(driver_errors)} request(s) could not be built (driver bug): "
                   f"{driver_errors[0]}")
    if sent < total:
        sc.problem(f"only {sent} of {total} requests were sent within the time bound")
    if stuck:
        sc.problem(f"{stuck} client thread(s) still blocked")
    if not alive:
        sc.problem("the server process died")
    if fivexx:
        sc.problem(f"{len(fivexx)} 5xx answer(s): {status_counts(f'{f[1]} {f[2]}' for f in fivexx)}; "
                   f"first: {fivexx[0]}")
    if hangs:
        sc.problem(f"{len(hangs)} request(s) got no answer within 20 s: "
                   f"{status_counts(h[1] for h in hangs)}; first: {hangs[0]}")
    if accepted:
        sc.problem(f"{len(accepted)} hostile token(s) signed someone in: "
                   f"{status_counts(a[1] for a in accepted)}")
    if leaks:
        sc.problem(f"{len(leaks)} traversal answer(s) leaked a file")
    if injected:
        sc.problem(f"{len(injected)} answer(s) carried an injected header")
    if growth_mb > 20:
        sc.problem(f"VmRSS grew by {growth_mb:.1f} MB (bound 20 MB)")
    if health != 200:
        sc.problem(f"/healthz at the end answered {health}")
    return figure


# --------------------------------------------------------------------------
# 7. a thousand clients sending their bodies one byte at a time


def s7_slow_bodies(sc):
    """1,000 connections send a POST head and then their body a byte every
    second: /healthz must answer within 1 s and a sign-in within 2 s all the
    while, and every slow client must get 408 (or be closed) once its 10 s
    are up."""
    import resource
    import socket
    n = 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 500), hard))
    cid, secret, _ = seed_company(sc, "Slow")
    srv = sc.server().start()
    port = srv.port
    rss_start = srv.rss_kib()
    head = (f"POST /api/auth/sso HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: 4096\r\n\r\nt").encode()
    socks = []
    t_open = time.monotonic()
    for _ in range(n):
        s = connect(port)
        s.sendall(head)
        socks.append(s)
    opened = time.monotonic() - t_open
    health, signin = [], []
    stop = threading.Event()

    def trickle():
        while not stop.is_set():
            for s in socks:
                try:
                    s.send(b"o")
                except OSError:
                    pass
            stop.wait(1.0)

    th = threading.Thread(target=trickle, daemon=True)
    th.start()
    try:
        for i in range(8):
            t0 = time.monotonic()
            status = http_ok(port)
            health.append((status, time.monotonic() - t0))
            tok = mint(secret, claims_for(cid, fresh_email("slowpoke")))
            sc.track(tok)
            t0 = time.monotonic()
            try:
                st = sign_in(port, tok, timeout=10).status
            except HttpError as e:
                st = e.kind
            signin.append((st, time.monotonic() - t0))
            time.sleep(0.5)
        # Past the deadline, every slow client has been answered or closed.
        time.sleep(max(0.0, 11.0 - (time.monotonic() - t_open)))
    finally:
        stop.set()
        th.join()
    answered = closed = held = 0
    for s in socks:
        s.settimeout(3.0)
        try:
            data = s.recv(200)
            if data.startswith(b"HTTP/1.1 408"):
                answered += 1
            elif not data:
                closed += 1
            else:
                held += 1
        except OSError:
            held += 1
        finally:
            s.close()
    rss_end = srv.rss_kib()
    worst_health = max(t for _, t in health)
    worst_signin = max(t for _, t in signin)
    figure = (f"{n} slow bodies (opened in {opened:.1f} s): /healthz worst {worst_health * 1000:.0f} ms, "
              f"sign-in worst {worst_signin * 1000:.0f} ms; after 10 s: {answered} answered 408, "
              f"{closed} closed, {held} still held; RSS {rss_start} -> {rss_end} KiB")
    if any(st != 200 for st, _ in health) or worst_health > 1.0:
        sc.problem(f"/healthz during the slow bodies: {health}")
    if any(st != 303 for st, _ in signin) or worst_signin > 2.0:
        sc.problem(f"sign-ins during the slow bodies: {signin}")
    if held:
        sc.problem(f"{held} slow clients were neither answered nor closed after 10 s")
    if http_ok(port) != 200:
        sc.problem("/healthz after the slow bodies did not answer 200")
    return figure


# --------------------------------------------------------------------------
# Driver


SCENARIOS = [
    ("first-signin-race", s1_first_signin_race),
    ("cross-company-race", s2_cross_company_race),
    ("rotation-revoke-now", s3_rotation_revoke_now),
    ("kill9-under-load", s4_kill9_under_load),
    ("write-lock-10s", s5_write_lock),
    ("hostile-10k", s6_hostile),
    ("slow-bodies-1000", s7_slow_bodies),
]


class Ctx:
    def __init__(self, binary, root):
        self.binary = binary
        self.root = root


def on_budget(signum, frame):
    raise Budget(f"time budget exhausted (signal {signum})")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--bin", required=True, help="the portico binary")
    ap.add_argument("--budget", type=int, default=540, help="overall time limit, seconds")
    ap.add_argument("scenarios", nargs="*", help="numbers or names; none runs all")
    args = ap.parse_args()
    binary = os.path.abspath(args.bin)
    if not os.access(binary, os.X_OK):
        print(f"FAIL setup: no executable portico at {binary}")
        print("0 passed, 1 failed")
        return 1
    chosen = []
    for s in args.scenarios or [str(i + 1) for i in range(len(SCENARIOS))]:
        for i, (name, fn) in enumerate(SCENARIOS):
            if s == str(i + 1) or s == name:
                chosen.append((name, fn))
                break
        else:
            print(f"unknown scenario {s!r}; known: " +
                  ", ".join(f"{i + 1}={n}" for i, (n, _) in enumerate(SCENARIOS)), file=sys.stderr)
            return 2

    signal.signal(signal.SIGALRM, on_budget)
    signal.signal(signal.SIGTERM, on_budget)
    signal.alarm(max(1, args.budget))
    root = tempfile.mkdtemp(prefix="portico-torture-")
    ctx = Ctx(binary, root)
    passed = failed = 0
    t_all = time.monotonic()
    out_of_time = None
    for name, fn in chosen:
        if out_of_time:
            print(f"FAIL {name}: not run ({out_of_time})", flush=True)
            failed += 1
            continue
        sc = Scenario(ctx, name)
        t0 = time.monotonic()
        figure = ""
        try:
            figure = fn(sc) or ""
        except Failed as e:
            sc.problem(str(e))
        except Budget as e:
            out_of_time = str(e)
            sc.problem(out_of_time)
        except Exception as e:  # a driver bug or an unexpected server answer
            sc.problem(f"{type(e).__name__}: {e}")
            sc.note(traceback.format_exc().strip().replace("\n", "\n    "))
        finally:
            try:
                for srv in sc.servers:
                    was_alive = srv.alive()
                    code = srv.stop()
                    if was_alive and code != 0:
                        sc.note(f"NOTE: server {srv.name} "
                                + (f"exited {code} on SIGTERM" if code is not None
                                   else "did not stop within 15 s of SIGTERM (killed)"))
                check_logs(sc)
            except Budget as e:
                out_of_time = str(e)
                sc.problem(out_of_time)
                kill_all_servers()
        took = time.monotonic() - t0
        if sc.problems:
            failed += 1
            why = "; ".join(sc.problems)
            print(f"FAIL {name}: {figure + ' — ' if figure else ''}{why} [{took:.1f} s]", flush=True)
            for srv in sc.servers:
                tail = srv.log_tail(8)
                if tail:
                    sc.note(f"log tail of {srv.name}: {tail[:1500]}")
        else:
            passed += 1
            print(f"PASS {name}: {figure} [{took:.1f} s]", flush=True)
        for d in sc.details:
            print(f"    {d}", flush=True)
    signal.alarm(0)
    kill_all_servers()
    keep = failed or os.environ.get("TORTURE_KEEP")
    if keep:
        print(f"    (databases and server logs kept in {root})", flush=True)
    else:
        shutil.rmtree(root, ignore_errors=True)
    print(f"    total {time.monotonic() - t_all:.1f} s", flush=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
