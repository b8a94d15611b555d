#!/usr/bin/env python3
"""The support-request part of scripts/bench.sh (Python 3 standard library).

  requests_bench.py seed --db DB --requests N --messages M
      N requests and M messages for the seeded company (before the server
      starts), plus one request of exactly 20 messages; prints its id.
  requests_bench.py sessions --base URL --secret S --company C --role AGENT --count K --out F
      K people signed in over SSO (agents are created on their first visit);
      F: one `GET <path>` line per cookie for each --path.
  requests_bench.py jars --base URL --sessions F --out F2 --count N
      N POST /requests lines (cookie, CSRF token, a new subject each).
  requests_bench.py uploads --base URL --sessions F --files 8 --mib 10 --pid PID
      8 simultaneous multipart requests with one 10 MiB file each; prints a
      JSON line: statuses, seconds, the server's VmHWM before and after.
"""

import argparse
import json
import random
import re
import sqlite3
import sys
import threading
import time
import urllib.parse

import bench

WORDS = (
    "invoice export login password error timeout billing report dashboard upload "
    "payment refund account email notification sync mobile browser crash slow "
    "permission project team calendar reminder import csv pdf printer network "
    "webhook api token integration setting language timezone backup restore"
).split()


def sentence(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def cmd_seed(args):
    conn = sqlite3.connect(args.db)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = OFF")
    company_id = conn.execute("SELECT id FROM companies").fetchone()[0]
    customers = [r[0] for r in conn.execute("SELECT id FROM users WHERE role = 'CUSTOMER'")]
    staff = [r[0] for r in conn.execute("SELECT id FROM users WHERE role = 'ADMIN'")]
    rng = random.Random(7)
    statuses = ["new"] * 2 + ["open"] * 3 + ["pending"] * 2 + ["solved"] * 2 + ["closed"]
    now_ms = int(time.time() * 1000) - args.requests * 10
    per = max(1, args.messages // args.requests)
    with conn:
        for i in range(args.requests):
            t = now_ms + i * 10
            cur = conn.execute(
                "INSERT INTO requests (company_id, project_id, requester_id, assignee_id, subject,"
                " status, priority, created_at, updated_at, public_updated_at)"
                " VALUES (?, NULL, ?, ?, ?, ?, 'normal', ?, ?, ?)",
                (company_id, rng.choice(customers), rng.choice(staff) if rng.random() < 0.5 else None,
                 sentence(rng, 5).capitalize(), rng.choice(statuses), t // 1000, t, t),
            )
            rid = cur.lastrowid
            rows = []
            for m in range(per):
                # Common words, and two of 5,000 rarer ones (`kw123`): a search
                # for those finds ~120 messages, one for a common word most.
                body = f"{sentence(rng, 30)} kw{rng.randrange(5000)} kw{rng.randrange(5000)}"
                internal = 1 if m > 0 and rng.random() < 0.1 else 0
                author = staff[0] if m % 2 else customers[0]
                rows.append((rid, author, body, f"<p>{body}</p>", internal, t // 1000))
            conn.executemany(
                "INSERT INTO messages (request_id, author_id, body, html, internal, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)", rows)
        t = int(time.time() * 1000)
        cur = conn.execute(
            "INSERT INTO requests (company_id, project_id, requester_id, assignee_id, subject,"
            " status, priority, created_at, updated_at, public_updated_at)"
            " VALUES (?, NULL, ?, NULL, 'A long conversation', 'open', 'high', ?, ?, ?)",
            (company_id, customers[0], t // 1000, t, t),
        )
        page_id = cur.lastrowid
        for m in range(20):
            body = f"Message {m + 1}: " + sentence(rng, 60)
            conn.execute(
                "INSERT INTO messages (request_id, author_id, body, html, internal, created_at)"
                " VALUES (?, ?, ?, ?, 0, ?)",
                (page_id, staff[0] if m % 2 else customers[0], body,
                 f"<p>{body}</p><ul><li>one</li><li>two</li></ul>", t // 1000),
            )
        # The triggers log what the search index takes; the server, finding no
        # index file, builds it from the requests and messages at its start
        # (src/db/search/index.rs), so the log of the seeding is not needed.
        conn.execute("DELETE FROM search_staged")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(page_id)


def cmd_sessions(args):
    key = args.secret.encode("utf-8")
    lines = []
    for i in range(1, args.count + 1):
        email = f"{args.role.lower()}{i}@{bench.SEED_DOMAIN}" if args.role != "CUSTOMER" \
            else bench.customer_email(i)
        now = int(time.time())
        claims = {"companyId": args.company, "email": email, "role": args.role,
                  "iat": now, "exp": now + 300}
        path = "/api/auth/sso?" + urllib.parse.urlencode({"token": bench.mint(key, claims)})
        resp, _ = bench.fetch(args.base, "GET", path)
        cookie = bench.session_cookie(resp)
        if resp.status != 303 or not cookie:
            bench.die(f"SSO sign-in of {email} answered {resp.status}")
        for p in args.path:
            resp, _ = bench.fetch(args.base, "GET", p, {"Cookie": cookie})
            if resp.status != 200:
                bench.die(f"GET {p} as {email} answered {resp.status}")
            lines.append(f"GET\t{p}\t{cookie}\t\n")
    with open(args.out, "w") as out:
        out.writelines(lines)


def csrf_of(base, cookie):
    resp, body = bench.fetch(base, "GET", "/requests/new", {"Cookie": cookie})
    m = bench.CSRF_FIELD.search(body)
    if resp.status != 200 or not m:
        bench.die(f"GET /requests/new answered {resp.status}")
    return m.group(1).decode()


def cookies_of(path):
    with open(path) as f:
        return sorted({line.split("\t")[2] for line in f if line.strip()})


def cmd_jars(args):
    lines = []
    jars = [(c, csrf_of(args.base, c)) for c in cookies_of(args.sessions)]
    for n in range(args.count):
        cookie, csrf = jars[n % len(jars)]
        body = urllib.parse.urlencode({
            "csrf": csrf, "subject": f"Bench request {args.tag}-{n}",
            "body": "The report export fails with **error 500** since this morning.",
        })
        lines.append(f"POST\t/requests\t{cookie}\t{body}\n")
    with open(args.out, "w") as out:
        out.writelines(lines)


def hwm_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) // 1024
    return -1


def cmd_uploads(args):
    cookie = cookies_of(args.sessions)[0]
    csrf = csrf_of(args.base, cookie)
    data = bytes(random.Random(3).getrandbits(8) for _ in range(1024)) * (args.mib * 1024)
    boundary = "benchboundary7MA4YWxkTrZu0gW"

    def part(name, value):
        return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                f"{value}\r\n").encode()

    body = (part("csrf", csrf) + part("subject", "Upload") + part("body", "A big file.")
            + f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
              f"filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n".encode()
            + data + f"\r\n--{boundary}--\r\n".encode())
    headers = {"Cookie": cookie, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    before = hwm_mb(args.pid)
    statuses = []
    lock = threading.Lock()

    def send():
        resp, _ = bench.fetch(args.base, "POST", "/requests", headers, body)
        with lock:
            statuses.append(resp.status)

    start = time.time()
    threads = [threading.Thread(target=send) for _ in range(args.files)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"statuses": sorted(statuses), "seconds": round(time.time() - start, 2),
                      "hwm_before_mb": before, "hwm_after_mb": hwm_mb(args.pid),
                      "files": args.files, "mib": args.mib}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("seed")
    s.add_argument("--db", required=True)
    s.add_argument("--requests", type=int, default=100_000)
    s.add_argument("--messages", type=int, default=300_000)
    s.set_defaults(fn=cmd_seed)
    s = sub.add_parser("sessions")
    for a in ("--base", "--secret", "--company", "--out"):
        s.add_argument(a, required=True)
    s.add_argument("--role", default="AGENT")
    s.add_argument("--count", type=int, default=8)
    s.add_argument("--path", action="append", required=True)
    s.set_defaults(fn=cmd_sessions)
    s = sub.add_parser("jars")
    for a in ("--base", "--sessions", "--out"):
        s.add_argument(a, required=True)
    s.add_argument("--count", type=int, default=100_000)
    s.add_argument("--tag", default="x")
    s.set_defaults(fn=cmd_jars)
    s = sub.add_parser("uploads")
    for a in ("--base", "--sessions"):
        s.add_argument(a, required=True)
    s.add_argument("--pid", type=int, required=True)
    s.add_argument("--files", type=int, default=8)
    s.add_argument("--mib", type=int, default=10)
    s.set_defaults(fn=cmd_uploads)
    args = p.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
