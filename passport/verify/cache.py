"""Verify's last known good copy of what a verification needs from the database, so the verify page, the
verify API and the public key sets keep answering while the database is unavailable.

Kept in the process and on disk (``VERIFY_CACHE_DIR``, default ``<instance>/verify-cache``), one set of
files per database and public URL:

- the trust store (our own keys, every trusted issuer's keys, names and endorsers), refreshed whenever
  the trust store is rebuilt (every ``VERIFY_TRUST_CACHE_SECONDS``, by the next verification);
- our own status bits, with the time the database last confirmed them, and mirrored status lists of
  other issuers;
- the public, identical-for-everyone answers of ``/.well-known/jwks.json``, the trust bundle, the trust
  key and the offline page's status-list mirror.

When a database call fails, the caller rolls back, the outage is noted, and the cached copy answers. For
``RETRY_SECONDS`` after a failure the database is not tried at all (a verification stays fast during an
outage), then the next request tries again. Signatures are always checked, with the cached keys. Status
bits read before the outage are reported with their real age: once that is past
``VERIFY_STATUS_MAX_AGE_HOURS`` the verifier answers ``valid_status_unknown`` (status_stale). Check-log rows
wait in the batched writer (passport.verify.checklog) until the database is back.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import json
import logging
import os
import tempfile
import threading
import time

import sqlalchemy as sa
from flask import Flask, Response, current_app, request

log = logging.getLogger(__name__)

# What "the database is unavailable" looks like: a driver error (connection refused, server gone, file
# unreadable) or no pooled connection in time.
DB_ERRORS = (sa.exc.DBAPIError, sa.exc.TimeoutError)
RETRY_SECONDS = 5.0
STATUS_PERSIST_SECONDS = 60.0  # own status bits: re-written to disk at most this often when unchanged
MAX_RESPONSES = 200


class Unavailable(Exception):
    """The database is unavailable and nothing was cached yet to answer with (a 503, never a 500)."""


class VerifyCache:
    """The cached copies for one database and public URL (one object per process)."""

    def __init__(self, folder: str, prefix: str):
        self.folder, self.prefix = folder, prefix
        self._mem: dict[str, object] = {}
        self._lock = threading.Lock()
        self.down_until = 0.0
        self.failures = 0
        self._persisted: dict[str, float] = {}

    # --- outage state -----------------------------------------------------------------------------
    def is_down(self) -> bool:
        return time.monotonic() < self.down_until

    def failed(self, db, exc: BaseException) -> None:
        """A database call failed: roll the session back and stop trying for ``RETRY_SECONDS``."""
        try:
            db.rollback()
        except Exception:  # the connection may be gone; the pool replaces it later
            pass
        with self._lock:
            first = not self.is_down()
            self.down_until = time.monotonic() + RETRY_SECONDS
            self.failures += 1
        if first:
            log.warning("Database unavailable (%s); verify answers from its cached trust data and status.",
                        type(exc).__name__)

    def recovered(self) -> None:
        if self.down_until:
            with self._lock:
                self.down_until = 0.0
            log.warning("Database available again; verify uses live trust data and status.")

    # --- storage ----------------------------------------------------------------------------------
    def _path(self, name: str) -> str:
        return os.path.join(self.folder, f"{self.prefix}-{name}.json")

    def get(self, name: str):
        with self._lock:
            if name in self._mem:
                return self._mem[name]
        try:
            with open(self._path(name), encoding="utf-8") as fh:
                value = json.load(fh)
        except (OSError, ValueError):
            return None
        with self._lock:
            self._mem.setdefault(name, value)
        return value

    def put(self, name: str, value, persist: bool = True) -> None:
        with self._lock:
            self._mem[name] = value
            if persist:
                self._persisted[name] = time.monotonic()
        if not persist:
            return
        try:
            os.makedirs(self.folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(value, fh, separators=(",", ":"))
            os.replace(tmp, self._path(name))  # atomic: other processes read old or new, never half
        except OSError:
            log.warning("Could not write the verify cache file for %s.", name, exc_info=True)

    def persisted_ago(self, name: str) -> float:
        with self._lock:
            return time.monotonic() - self._persisted.get(name, float("-inf"))

    def peek(self, name: str):
        """The in-process copy only (no disk read)."""
        with self._lock:
            return self._mem.get(name)


_caches: dict[tuple, VerifyCache] = {}
_caches_lock = threading.Lock()


def for_db(db, folder: str | None, public_url: str) -> VerifyCache | None:
    """The cache for the database ``db`` is bound to and this public URL (None when caching is off)."""
    if not folder:
        return None
    bind = db.get_bind()
    url = getattr(getattr(bind, "engine", bind), "url", "")
    key = (folder, public_url, str(url))
    cache = _caches.get(key)
    if cache is None:
        with _caches_lock:
            prefix = hashlib.sha256(f"{public_url}|{url}".encode()).hexdigest()[:16]
            cache = _caches.setdefault(key, VerifyCache(folder, prefix))
    return cache


def database_down(db, s) -> bool:
    """True while a recent database failure is being waited out (answers come from the cache)."""
    cache = for_db(db, s.cache_dir, s.public_url)
    return cache is not None and cache.is_down()


def read_through(cache: VerifyCache | None, db, name: str, build, dump, load):
    """``build()`` from the database and remember ``dump(value)``; when the database is unavailable,
    ``load(cached)`` instead. Raises Unavailable when there is no cached copy."""
    if cache is None:
        return build()
    if cache.is_down():
        cached = cache.get(name)
        if cached is not None:
            return load(cached)
    try:
        value = build()
    except DB_ERRORS as exc:
        cache.failed(db, exc)
        cached = cache.get(name)
        if cached is None:
            raise Unavailable("The database is unavailable and no trust data was cached yet.") from exc
        return load(cached)
    cache.recovered()
    dumped = dump(value)
    held = cache.peek(name)
    if held != dumped:
        # unchanged apart from its time stamp: kept in memory, re-written to disk at most once a minute
        same = isinstance(dumped, dict) and isinstance(held, dict) and {**held, "saved_at": 0} == {**dumped, "saved_at": 0}
        cache.put(name, dumped, persist=not same or cache.persisted_ago(name) >= STATUS_PERSIST_SECONDS)
    return value


def optional(cache: VerifyCache | None, db, fn, default=None):
    """``fn()``, or ``default`` when the database is unavailable (for extras a result can do without)."""
    if cache is not None and cache.is_down():
        return default
    try:
        return fn()
    except DB_ERRORS as exc:
        if cache is None:
            raise
        cache.failed(db, exc)
        return default


# --- trust store ----------------------------------------------------------------------------------


def dump_store(store) -> dict:
    return {"scheme_name": store.scheme_name, "endorsers": list(store.endorsers),
            "issuers": [{"iss": i.iss, "name": i.name, "status_base": i.status_base, "as_of": i.as_of, "own": i.own,
                         "endorsers": list(i.endorsers), "keys": [k.jwk for k in i.keys.values()]}
                        for i in store.issuers.values()],
            "saved_at": int(time.time())}


def load_store(data: dict):
    """The cached trust store. Our own issuer's keys were live when saved: their age is the save time."""
    from passport.verify.trustdata import TrustedIssuer, TrustStore, keys_from_jwks

    issuers = {}
    for i in data["issuers"]:
        issuers[i["iss"]] = TrustedIssuer(iss=i["iss"], name=i["name"], keys=keys_from_jwks(i["keys"]),
                                          status_base=i["status_base"],
                                          as_of=data["saved_at"] if i["own"] else i["as_of"], own=i["own"],
                                          endorsers=list(i["endorsers"]))
    return TrustStore(issuers=issuers, scheme_name=data["scheme_name"], endorsers=list(data["endorsers"]),
                      as_of=data["saved_at"], source="cache")


# --- status ---------------------------------------------------------------------------------------


def own_status(cache: VerifyCache | None, db, list_id: int, purpose: str, now: int, max_age: int, read):
    """Our own status bits: ``read()`` (a StatusSnapshot from the database) remembered with the time it was
    confirmed; during an outage the remembered bits, dated when they were last confirmed."""
    from passport.verify.trustdata import StatusSnapshot, StatusUnavailable

    name = f"status-{list_id}-{purpose}"
    if cache is None:
        return read()

    def from_cache():
        cached = cache.get(name)
        if cached is None:
            raise StatusUnavailable("database unavailable and no status cached")
        at = int(cached["at"])
        return StatusSnapshot(bits=base64.b64decode(cached["bits"]), issued_at=at, expires_at=at + max_age)

    if cache.is_down():
        return from_cache()
    try:
        snap = read()
    except DB_ERRORS as exc:
        cache.failed(db, exc)
        return from_cache()
    cache.recovered()
    held = cache.peek(name)
    if held is None or held.get("_bits") is not snap.bits or now - held.get("_persisted", 0) >= STATUS_PERSIST_SECONDS:
        data = {"bits": base64.b64encode(snap.bits).decode("ascii"), "at": now}
        cache.put(name, data)  # written to disk as is; the in-process copy also keeps the decoded bits
        data.update(_bits=snap.bits, _persisted=now)
    else:
        held["at"] = now  # confirmed again (on disk at most STATUS_PERSIST_SECONDS older)
    return snap


# --- public, identical-for-everyone GET answers ---------------------------------------------------

KEPT_HEADERS = ("Cache-Control", "Access-Control-Allow-Origin", "Content-Security-Policy", "Service-Worker-Allowed")


def keep_serving(app: Flask, endpoint: str) -> None:
    """Wrap a public GET view: each 200 answer is remembered (per path and query); while the database
    is unavailable the remembered answer is served. Nothing user-specific may go through this."""
    view = app.view_functions.get(endpoint)
    if view is None or getattr(view, "_kept", False):
        return

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        from passport import db as dbm
        from passport.verify import settings

        s = settings()
        cache = for_db(dbm.session, s.cache_dir, s.public_url)
        name = "response-" + hashlib.sha256(request.full_path.encode()).hexdigest()[:20]
        if cache is not None and cache.is_down():
            cached = cache.get(name)
            if cached is not None:
                return _response(cached)
        try:
            resp = current_app.make_response(view(*args, **kwargs))
        except DB_ERRORS as exc:
            if cache is None:
                raise
            cache.failed(dbm.session, exc)
            cached = cache.get(name)
            if cached is None:
                raise Unavailable("The database is unavailable and this answer was not cached yet.") from exc
            return _response(cached)
        if cache is not None and resp.status_code == 200 and not resp.is_streamed:
            cache.recovered()
            kept = {"body": resp.get_data(as_text=True), "type": resp.content_type,
                    "headers": {h: resp.headers[h] for h in KEPT_HEADERS if h in resp.headers}}
            if cache.peek(name) != kept and len(cache._mem) < MAX_RESPONSES + 50:
                # signed answers change with every request (their iat): to disk at most once a minute
                cache.put(name, kept, persist=cache.persisted_ago(name) >= STATUS_PERSIST_SECONDS)
        return resp

    wrapper._kept = True
    app.view_functions[endpoint] = wrapper


def _response(cached: dict) -> Response:
    resp = Response(cached["body"], content_type=cached["type"])
    for k, v in cached["headers"].items():
        resp.headers[k] = v
    return resp


def init_app(app: Flask) -> None:
    """Answer 503 (not 500) when the database is down and nothing is cached; keep the public GETs."""
    if app.config.get("VERIFY_CACHE_DIR") is None:
        app.config["VERIFY_CACHE_DIR"] = os.path.join(app.instance_path, "verify-cache")

    @app.errorhandler(Unavailable)
    def _unavailable(exc):
        from passport.api import error_response

        message = "The service is briefly unavailable. Try again in a minute."
        if request.path.startswith("/api/"):
            resp = error_response(503, "service_unavailable", message)
        else:
            resp = Response(message, status=503, content_type="text/plain; charset=utf-8")
        resp.headers["Retry-After"] = str(int(RETRY_SECONDS))
        return resp

    for endpoint in ("certificates_public.jwks", "verify.trust_bundle", "verify.trust_key", "verify.status_list"):
        keep_serving(app, endpoint)
