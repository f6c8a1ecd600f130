"""Load driver for bench/scaleout.sh: verifiers and signed-in users against the proxy, one app instance
killed half-way, and checks that the per-client verify limit and the sign-in throttle hold across both
instances (their counters are in the shared Redis).

    python bench/scaleout_load.py BASE TOKENS_FILE ACCOUNTS_FILE --kill-pgid PGID
        [--duration 60] [--verifiers 50] [--users 20] [--verify-limit 3000]

Each verifier is its own client address (127.0.1.N: the proxy passes it to the app as X-Forwarded-For),
so the per-client limit applies to each. Prints a report and exits 1 when any client saw an error or a
check failed. An error is anything but the expected answer: a non-200 status, a failed connection, or a
verification whose result is not ``valid``.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import statistics
import sys
import threading
import time
import urllib.parse
from collections import Counter
from http.cookies import SimpleCookie

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
USER_PAGES = ("/", "/v", "/my-checks")


class Client:
    """One HTTP/1.1 keep-alive client from a given local address, with its own cookies."""

    def __init__(self, base: str, source: str = "127.0.0.1"):
        u = urllib.parse.urlsplit(base)
        self.host, self.port, self.source = u.hostname, u.port, source
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """(status, headers, body); a connection failure raises OSError (reconnects on the next call)."""
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30,
                                                       source_address=(self.source, 0))
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                # the proxy closed an idle keep-alive connection: reconnect once, as every HTTP client does
                self.conn.close()
                self.conn = None
                if attempt == 2 or isinstance(exc, ConnectionResetError) and method == "POST":
                    raise
                continue
            for value in resp.headers.get_all("Set-Cookie") or []:
                for k, morsel in SimpleCookie(value).items():
                    self.cookies[k] = morsel.value
            if resp.headers.get("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            return resp.status, resp.headers, data
        raise OSError("unreachable")


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.ok = Counter()
        self.errors: Counter = Counter()
        self.samples: list[str] = []
        self.latency: dict[str, list[float]] = {"verify": [], "page": []}
        self.upstreams = Counter()
        self.after_kill = Counter()

    def record(self, kind: str, ok: bool, elapsed: float, what: str, upstream: str | None, killed: bool):
        with self.lock:
            if ok:
                self.ok[kind] += 1
                self.latency[kind].append(elapsed)
            else:
                self.errors[(kind, what)] += 1
                if len(self.samples) < 20:
                    self.samples.append(f"{kind}: {what}")
            if upstream:
                self.upstreams[upstream] += 1
            if killed:
                self.after_kill[kind] += 1


def timed(stats: Stats, kind: str, killed: threading.Event, fn):
    t = time.perf_counter()
    try:
        ok, what, upstream = fn()
    except OSError as exc:
        ok, what, upstream = False, f"connection: {exc!r}"[:120], None
    stats.record(kind, ok, time.perf_counter() - t, what, upstream, killed.is_set())


def sign_in(client: Client, email: str, password: str) -> tuple[int, bytes]:
    status, _, page = client.request("GET", "/sign-in")
    token = CSRF_RE.search(page.decode()).group(1)
    body = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password}).encode()
    status, _, page = client.request("POST", "/sign-in", body,
                                     {"Content-Type": "application/x-www-form-urlencoded"})
    return status, page


def verifier(base: str, n: int, tokens: list[str], stats: Stats, stop: threading.Event, killed: threading.Event):
    client = Client(base, f"127.0.1.{n + 1}")
    rng = random.Random(n)

    def once():
        status, headers, data = client.request("POST", "/api/v1/verify", json.dumps({"token": rng.choice(tokens)}).encode(),
                                               {"Content-Type": "application/json"})
        upstream = headers.get("X-Upstream")
        if status != 200:
            return False, f"HTTP {status}", upstream
        result = json.loads(data)["result"]
        return result == "valid", f"result {result}", upstream

    while not stop.is_set():
        timed(stats, "verify", killed, once)


def user(base: str, email: str, password: str, stats: Stats, stop: threading.Event, killed: threading.Event,
         signed_in: threading.Barrier):
    client = Client(base)
    status, _ = sign_in(client, email, password)
    if status != 302:
        stats.record("page", False, 0, f"sign-in HTTP {status}", None, False)
    signed_in.wait()
    i = 0
    while not stop.is_set():
        path = USER_PAGES[i % len(USER_PAGES)]
        i += 1

        def once():
            status, headers, _ = client.request("GET", path)
            return status == 200, f"{path} HTTP {status}", headers.get("X-Upstream")

        timed(stats, "page", killed, once)


def probe_verify_limit(base: str, tokens: list[str], limit: int) -> dict:
    """One client (127.0.2.1) sends batches of 100 tokens (each token counts one) until refused, then a few
    more: exactly ``limit`` verifications may pass, whichever instance answers."""
    client = Client(base, "127.0.2.1")
    batch = json.dumps({"tokens": tokens[:100]}).encode()
    passed, refused, upstreams = 0, 0, Counter()
    for _ in range(limit // 100 + 5):
        status, headers, _ = client.request("POST", "/api/v1/verify/batch", batch, {"Content-Type": "application/json"})
        upstreams[headers.get("X-Upstream")] += 1
        if status == 200:
            passed += 100
        elif status == 429:
            refused += 1
        else:
            raise SystemExit(f"limit probe: unexpected HTTP {status}")
    return {"limit": limit, "passed": passed, "refused_batches": refused, "upstreams": dict(upstreams),
            "holds": passed == limit and len(upstreams) >= 2}


def probe_sign_in_throttle(base: str, email: str, password: str, account_limit: int = 5) -> dict:
    """Wrong passwords for one account across both instances: the first ``account_limit`` are checked
    (401), then refused unchecked (429), the right password included."""
    codes, upstreams = [], Counter()
    for i in range(account_limit + 3):
        client = Client(base)  # a fresh connection each time: the proxy spreads them over both instances
        status, headers, page = client.request("GET", "/sign-in")
        upstreams[headers.get("X-Upstream")] += 1
        right = i == account_limit + 2
        status, _ = sign_in(client, email, password if right else "not-the-password")
        codes.append(status)
    expected = [401] * account_limit + [429, 429, 429]
    return {"email": email, "codes": codes, "expected": expected, "upstreams": dict(upstreams),
            "holds": codes == expected and len(upstreams) >= 2}


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round((len(values) - 1) * p)))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("tokens")
    ap.add_argument("accounts")
    ap.add_argument("--kill-pgid", type=int, required=True)
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--verifiers", type=int, default=50)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--verify-limit", type=int, default=3000)
    args = ap.parse_args()
    tokens = open(args.tokens).read().split()
    accounts = [line.split() for line in open(args.accounts).read().splitlines() if line.strip()]
    probe_account, accounts = accounts[0], accounts[1:]

    # the limits first, while both instances answer
    limit = probe_verify_limit(args.base, tokens, args.verify_limit)
    throttle = probe_sign_in_throttle(args.base, *probe_account)

    stats, stop, killed = Stats(), threading.Event(), threading.Event()
    signed_in = threading.Barrier(args.users + 1)
    threads = [threading.Thread(target=user, args=(args.base, *accounts[i % len(accounts)], stats, stop, killed, signed_in),
                                daemon=True) for i in range(args.users)]
    for t in threads:
        t.start()
    signed_in.wait(60)  # every user signs in (a POST) before the clock starts
    threads += [threading.Thread(target=verifier, args=(args.base, i, tokens, stats, stop, killed), daemon=True)
                for i in range(args.verifiers)]
    for t in threads[args.users:]:
        t.start()
    start = time.monotonic()
    time.sleep(args.duration / 2)
    os.killpg(args.kill_pgid, signal.SIGKILL)  # one app instance, master and workers, without warning
    killed.set()
    kill_at = time.monotonic() - start
    time.sleep(max(0.0, args.duration - (time.monotonic() - start)))
    stop.set()
    for t in threads:
        t.join(60)
    elapsed = time.monotonic() - start

    errors = sum(stats.errors.values())
    print(f"duration {elapsed:.1f} s; one instance killed (SIGKILL) at {kill_at:.1f} s")
    for kind, label in (("verify", f"{args.verifiers} verifiers"), ("page", f"{args.users} signed-in users")):
        lat = stats.latency[kind]
        print(f"  {label:<20} {stats.ok[kind]:>7} ok ({stats.ok[kind] / elapsed:6.1f}/s), "
              f"{sum(v for (k, _), v in stats.errors.items() if k == kind)} errors; "
              f"p50 {pct(lat, .5) * 1000:.0f} ms, p99 {pct(lat, .99) * 1000:.0f} ms, "
              f"{stats.after_kill[kind]} after the kill")
    print(f"  answered by: {dict(stats.upstreams)}")
    print(f"  client errors: {errors}" + (f" -- {dict(stats.errors)}" if errors else ""))
    for s in stats.samples:
        print("    " + s)
    print(f"  verify limit across instances: {limit['passed']} of {limit['limit']} passed, then "
          f"{limit['refused_batches']} batches refused; answered by {limit['upstreams']}: "
          f"{'holds' if limit['holds'] else 'DOES NOT HOLD'}")
    print(f"  sign-in throttle across instances: codes {throttle['codes']} (expected {throttle['expected']}); "
          f"answered by {throttle['upstreams']}: {'holds' if throttle['holds'] else 'DOES NOT HOLD'}")
    print("RESULT " + json.dumps({"errors": errors, "verify_ok": stats.ok["verify"], "page_ok": stats.ok["page"],
                                  "verify_p99_ms": round(pct(stats.latency["verify"], .99) * 1000),
                                  "limit_holds": limit["holds"], "throttle_holds": throttle["holds"]}))
    return 0 if errors == 0 and limit["holds"] and throttle["holds"] else 1


if __name__ == "__main__":
    sys.exit(main())
