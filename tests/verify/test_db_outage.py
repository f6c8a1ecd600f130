"""The database stops mid-run (SQLite and a real PostgreSQL server): the verify page, the verify API (fast
path and Flask view) and the public key sets keep answering from the cached trust data, signatures are
still checked, the status turns ``valid_status_unknown`` once the cached status is past
VERIFY_STATUS_MAX_AGE_HOURS, no client sees a 5xx, and the check log is written once the database is back."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

import pytest
import sqlalchemy as sa

from passport import db as dbm

MAX_AGE_S = 3  # VERIFY_STATUS_MAX_AGE_HOURS below, in seconds
CONFIG = {"VERIFY_STATUS_MAX_AGE_HOURS": MAX_AGE_S / 3600 + 1e-9, "VERIFY_TRUST_CACHE_SECONDS": 0,
          "VERIFY_STATUS_CACHE_SECONDS": 0, "VERIFY_RATE_LIMIT": "100000 per minute",
          "VERIFY_CHECK_LOG_INTERVAL": 0.1}


def call(url: str, body: dict | None = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {},
                                 method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def verify(base: str, token: str, batch: bool = False) -> dict:
    status, body = call(base + "/api/v1/verify" + ("/batch" if batch else ""),
                        {"tokens": [token]} if batch else {"token": token})
    assert status == 200, body[:500]
    data = json.loads(body)
    return data["results"][0] if batch else data


class Load(threading.Thread):
    """Clients that keep verifying and fetching the public pages through the whole run."""

    def __init__(self, base: str, token: str):
        super().__init__(daemon=True)
        self.base, self.token, self.stop, self.seen = base, token, threading.Event(), []

    def run(self):
        while not self.stop.is_set():
            for path, body in (("/api/v1/verify", {"token": self.token}), ("/api/v1/verify/batch", {"tokens": [self.token]}),
                               ("/.well-known/jwks.json", None), ("/v", None)):
                try:
                    self.seen.append((path, call(self.base + path, body)[0]))
                except OSError as exc:  # a client-side error (refused, reset) counts as an error too
                    self.seen.append((path, repr(exc)))
            time.sleep(0.02)


def checks_logged(app) -> int:
    from passport.verify.models import VerificationCheck

    with app.app_context():
        try:
            return dbm.session.scalar(sa.select(sa.func.count()).select_from(VerificationCheck))
        finally:
            dbm.session.remove()


def run_outage(live, stop_db, start_db) -> None:
    from tests.verify.test_browser import _seed
    from tests.verify.test_two_instances import a_passport

    _seed(live.app)
    _, token = a_passport(live)
    base = live.url
    assert verify(base, token)["result"] == "valid"           # warms the cache
    assert verify(base, token, batch=True)["result"] == "valid"
    assert call(base + "/.well-known/jwks.json")[0] == 200
    assert call(base + "/v")[0] == 200
    assert call(base + "/.well-known/ccp-trust-bundle.jwt")[0] == 200
    load = Load(base, token)
    load.start()
    time.sleep(0.5)

    stop_db()
    try:
        down_at = time.monotonic()
        with pytest.raises(Exception):  # the database really is down
            checks_logged(live.app)
        fresh = verify(base, token)
        assert fresh["result"] == "valid", fresh["reason"]    # status confirmed under MAX_AGE_S ago
        assert fresh["trust"]["source"] == "cache"
        assert verify(base, token, batch=True)["result"] == "valid"
        # signatures are still checked with the cached keys
        head, body, sig = token.split(".")
        forged = verify(base, f"{head}.{body}.{sig[:-4]}{'AAAA' if sig[-4:] != 'AAAA' else 'BBBB'}")
        assert forged["result"] == "invalid" and forged["reason_code"] == "bad_signature"
        status, jwks = call(base + "/.well-known/jwks.json")
        assert status == 200 and json.loads(jwks)["keys"]
        status, page = call(base + "/v")
        assert status == 200 and b"North Wessex Care Passport Scheme" in page
        assert call(base + "/.well-known/ccp-trust-bundle.jwt")[0] == 200
        status, body = call(base + "/.well-known/ccp-trust-key.json")  # never fetched before: nothing cached
        assert status == 503 and b"unavailable" in body
        # once the cached status is older than its refresh period, the status is not relied on
        time.sleep(max(0.0, MAX_AGE_S + 1.5 - (time.monotonic() - down_at)))
        stale = verify(base, token)
        assert stale["result"] == "valid_status_unknown" and stale["reason_code"] == "status_stale", stale
        assert verify(base, token, batch=True)["result"] == "valid_status_unknown"
    finally:
        start_db()
    # the database is back: live status again, and the checks made during the outage are written
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        result = verify(base, token)
        if result["result"] == "valid" and result["trust"]["source"] == "database":
            break
        time.sleep(0.5)
    assert result["result"] == "valid" and result["trust"]["source"] == "database", result
    load.stop.set()
    load.join(30)
    errors = [(p, s) for p, s in load.seen if s != 200]
    assert not errors, errors[:10]
    assert len(load.seen) > 20
    verified = 6 + 2 * sum(1 for p, _ in load.seen if p.startswith("/api/")) // 2
    while time.monotonic() < deadline and checks_logged(live.app) < verified:
        time.sleep(0.5)
    assert checks_logged(live.app) >= verified


def test_sqlite_outage(tmp_path):
    from tests.conftest import start_live_server

    live, server = start_live_server(str(tmp_path), demo=False, **CONFIG)
    engine = dbm.get_engine(live.app)
    path = str(tmp_path / "live.sqlite")

    def stop():  # the file becomes unopenable (a directory in its place) and every connection is closed
        os.rename(path, path + ".away")
        os.mkdir(path)
        engine.dispose()

    def start():
        os.rmdir(path)
        os.rename(path + ".away", path)
        engine.dispose()

    try:
        run_outage(live, stop, start)
    finally:
        server.shutdown()
        engine.dispose()


class PrivatePostgres:
    """A PostgreSQL server of our own (PG_BINDIR from scripts/with-postgres.sh), stopped and started at will."""

    def __init__(self, bindir: str):
        self.bindir, self.tmp = bindir, tempfile.mkdtemp(prefix="pg-outage-")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.as_user = []
        if os.getuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.tmp, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", f"{self.tmp}/data", "-U", "passport", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "passport", "outage")
        self.url = f"postgresql+psycopg://passport@127.0.0.1:{self.port}/outage"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, os.path.join(self.bindir, tool), *args], check=True, capture_output=True)

    def start(self) -> None:
        self._run("pg_ctl", "-D", f"{self.tmp}/data", "-l", f"{self.tmp}/log", "-w", "-o",
                  f"-p {self.port} -k {self.tmp} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", f"{self.tmp}/data", "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        subprocess.run([*self.as_user, os.path.join(self.bindir, "pg_ctl"), "-D", f"{self.tmp}/data", "-m",
                        "immediate", "stop"], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.mark.skipif(not os.environ.get("PG_BINDIR"), reason="runs in the PostgreSQL part (scripts/with-postgres.sh "
                    "exports PG_BINDIR)")
def test_postgres_outage(tmp_path):
    from tests.conftest import start_live_server

    pg = PrivatePostgres(os.environ["PG_BINDIR"])
    try:
        live, server = start_live_server(str(tmp_path), demo=False, DATABASE_URL=pg.url, **CONFIG)
        try:
            run_outage(live, pg.stop, pg.start)
        finally:
            server.shutdown()
            dbm.get_engine(live.app).dispose()
    finally:
        pg.remove()
