"""The sign-in throttle counts across processes: the app served by gunicorn with several worker processes
(as in production), the counters in the database table, and twelve failed sign-ins for one account sent
at once. Exactly the limit gets through, not the limit once per worker. The same with the counters in
Redis, when redis-server and the redis client are installed (the suite does not need them)."""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import contextmanager
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from passport import create_app, db as dbm
from tests.conftest import _CSRF_RE, PASSWORD

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3
ATTEMPTS = 12
LIMIT = 5


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def redis_server(tmp_path):
    """A private redis-server on a free port, if Redis and its Python client are installed."""
    binary = shutil.which("redis-server")
    if binary is None or importlib.util.find_spec("redis") is None:
        pytest.skip("Redis run: needs redis-server and the redis client (the `redis` extra)")
    port = _free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("redis-server did not start")
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def backend(request, tmp_path):
    """(database URL, extra settings): the counters in SQLite, in PostgreSQL, or in Redis."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/throttle.sqlite", {}
        return
    if request.param == "redis":
        with redis_server(tmp_path) as url:
            yield f"sqlite:///{tmp_path}/throttle.sqlite", {"RATELIMIT_STORAGE_URI": url}
        return
    base = os.environ.get("PASSPORT_TEST_DATABASE_URL")
    if not base or not base.startswith("postgresql"):
        pytest.skip("PostgreSQL run: set PASSPORT_TEST_DATABASE_URL (scripts/with-postgres.sh does)")
    name = "throttle_" + uuid.uuid4().hex[:8]
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield base.rsplit("/", 1)[0] + "/" + name, {}
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def keep_limiter():
    """Creating another app re-points the one module-level Flask-Limiter at that app's storage: put the
    test session's storage back afterwards (it would otherwise be a Redis server that has stopped)."""
    from passport.core.auth import limiter

    saved = limiter._storage, limiter._limiter
    yield
    limiter._storage, limiter._limiter = saved


@pytest.fixture
def served(backend, tmp_path, keep_limiter):
    """gunicorn with WORKERS sync workers on a free port; yields (base URL, access log path, emails)."""
    from passport.cli import upgrade
    from passport.core.models import Organisation, Person, User

    database_url, extra = backend
    config = {"DATABASE_URL": database_url, "SECRET_KEY": "throttle-test-" + "z" * 32,
              "KEY_DIR": str(tmp_path / "keys"), "PUBLIC_URL": "http://127.0.0.1", **extra}
    app = create_app(config)
    upgrade(app)
    with app.app_context():
        org = Organisation(name="Willow House", kind="care_home")
        dbm.session.add(org)
        emails = ["careless@example.test", "colleague@example.test"]
        for email in emails:
            person = Person(given_name="Sam", family_name="Tester", email=email)
            dbm.session.add(person)
            dbm.session.flush()
            dbm.session.add(User(person_id=person.id, password_hash=generate_password_hash(PASSWORD)))
        dbm.session.commit()
        dbm.session.remove()
    dbm.get_engine(app).dispose()

    port = _free_port()
    log = tmp_path / "access.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), **{f"PASSPORT_{k}": v for k, v in config.items()}}
    env["PASSPORT_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
         "--chdir", str(ROOT), "--access-logfile", str(log), "--access-logformat", "%(p)s %(m)s %(U)s %(s)s",
         "--error-logfile", str(tmp_path / "error.log"), "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(base + "/health", timeout=5).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start:\n" + (tmp_path / "error.log").read_text())
                time.sleep(0.3)
        yield base, log, emails
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _attempt(base: str, email: str, password: str, barrier: threading.Barrier | None = None) -> int:
    """A browser's sign-in: fetch the form (session cookie and CSRF token), then post it."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect())
    page = opener.open(base + "/sign-in", timeout=60).read().decode()
    token = _CSRF_RE.search(page).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password}).encode()
    if barrier is not None:
        barrier.wait(timeout=120)
    try:
        return opener.open(base + "/sign-in", data=data, timeout=120).status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_failures_are_counted_once_across_worker_processes(served):
    base, log, (careless, colleague) = served
    codes: list[int] = []
    barrier = threading.Barrier(ATTEMPTS)

    def run():
        codes.append(_attempt(base, careless, "not the password at all", barrier))

    threads = [threading.Thread(target=run) for _ in range(ATTEMPTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert sorted(codes) == [401] * LIMIT + [429] * (ATTEMPTS - LIMIT), codes
    # Refused with the right password too, while a colleague at the same address signs in.
    assert _attempt(base, careless, PASSWORD) == 429
    assert _attempt(base, colleague, PASSWORD) == 302

    # The failed attempts really were spread over more than one worker process.
    # (A worker writes its access-log line just after answering: give the last one a moment.)
    deadline = time.monotonic() + 10
    while True:
        posts = [line.split() for line in log.read_text().splitlines() if re.search(r" POST /sign-in ", line)]
        if len(posts) >= ATTEMPTS + 2 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(posts) == ATTEMPTS + 2
    assert len({pid for pid, *_ in posts[:ATTEMPTS]}) >= 2, posts


def test_one_storage_setting_puts_every_counter_in_redis(tmp_path, keep_limiter):
    """With a redis:// RATELIMIT_STORAGE_URI the sign-in throttle and Flask-Limiter (the verify API's
    per-client limit) both count in Redis, and the database table is not used."""
    from limits.storage import RedisStorage

    from passport.cli import upgrade
    from passport.core import throttle
    from passport.core.auth import limiter
    from passport.core.models import RateCounter

    with redis_server(tmp_path) as url:
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/r.sqlite", "RATELIMIT_STORAGE_URI": url,
                          "KEY_DIR": str(tmp_path / "keys")})
        upgrade(app)
        store = throttle.store_for(app)
        assert isinstance(store, throttle.LimitsStore) and isinstance(store.storage, RedisStorage)
        assert isinstance(limiter.storage, RedisStorage)
        with app.test_request_context("/sign-in", environ_base={"REMOTE_ADDR": "203.0.113.9"}):
            for _ in range(5):
                throttle.begin(throttle.SIGN_IN, "someone@example.test")
            with pytest.raises(throttle.Throttled) as refused:
                throttle.begin(throttle.SIGN_IN, "someone@example.test")
            assert 14 * 60 < refused.value.retry_after <= 15 * 60
            throttle.begin(throttle.SIGN_IN, "colleague@example.test").succeeded()
            assert dbm.session.scalar(sa.select(sa.func.count()).select_from(RateCounter)) == 0
            dbm.session.remove()
        dbm.get_engine(app).dispose()
