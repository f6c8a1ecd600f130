"""Throttling for the forms anyone can post without signing in that check a secret or send mail: sign-in
and password-reset requests.

Twenty staff in a care home often share one internet address, so one person's mistakes must not lock the
home out. Each attempt is therefore counted twice, in separate counters with separate limits:

- against the **account** it names: the e-mail address as typed (trimmed, lower-cased), keyed by an HMAC
  of it so the store holds no addresses. An unknown e-mail address is counted exactly like a known one,
  so the throttle never reveals whether an account exists. Default: 5 failed sign-ins per 15 minutes.
- against the **client address** (an IPv6 address by its /64 network, since one household or home gets a
  whole /64). Default: 100 failed sign-ins per 15 minutes, far above what one home's staff reach.

Attempts are counted *before* the password is checked (reserve, then settle), so parallel requests cannot
slip past the limit: a successful sign-in then clears the account's counter and gives back its reservation
on the address counter, so only failures remain counted. While an account or address is over its limit no
password is checked at all, the right one included. A window starts at the first counted attempt and lasts
the limit's period; further refused attempts do not extend it.

The counters live where every process sees them. ``RATELIMIT_STORAGE_URI`` is the one setting: with its
default ``memory://`` (which would be per process) they go in the ``core_rate_counter`` table, updated with
one atomic upsert (SQLite and PostgreSQL); with a shared store such as ``redis://...`` they go there, next
to Flask-Limiter's counters for the verify API.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask import Flask, current_app, request
from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string

from passport import db as dbm
from passport.errors import ServiceError

EXTENSION_KEY = "passport.throttle"


@dataclass(frozen=True)
class Rule:
    """One throttled action: the settings naming its two limits, and what to tell someone refused."""

    name: str
    account_setting: str
    address_setting: str
    account_message: str
    address_message: str


SIGN_IN = Rule(
    "sign-in", "LOGIN_ACCOUNT_LIMIT", "LOGIN_ADDRESS_LIMIT",
    "There have been too many failed attempts to sign in with this email address. Wait {wait} and try "
    "again, or reset your password.",
    "There have been too many failed sign-in attempts from your network. Wait {wait} and try again.",
)
PASSWORD_RESET = Rule(
    "password-reset", "PASSWORD_RESET_ACCOUNT_LIMIT", "PASSWORD_RESET_ADDRESS_LIMIT",
    "There have been too many requests to reset the password for this email address. Wait {wait} and "
    "try again, and check your spam or junk folder for a link already sent.",
    "There have been too many password reset requests from your network. Wait {wait} and try again.",
)
RULES = (SIGN_IN, PASSWORD_RESET)


class Throttled(ServiceError):
    """Refused by the throttle; ``retry_after`` is whole seconds until the window ends."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def wait_in_words(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


# --- stores -----------------------------------------------------------------------------------------

class DatabaseStore:
    """Counters in ``core_rate_counter``, through the request's session (``dbm.session``)."""

    def hit(self, key: str, seconds: int, now: datetime) -> tuple[int, datetime]:
        """Count one attempt under ``key``; the count so far in the window and when the window ends.
        One statement: insert, or on conflict add one (or start a new window if the old one ended)."""
        from passport.core.models import RateCounter as C

        dialect = dbm.session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            raise RuntimeError(f"No atomic upsert for the {dialect} database.")
        ins = insert(C).values(key=key, window_start=now, expires_at=now + timedelta(seconds=seconds), count=1)
        ended = C.expires_at <= ins.excluded.window_start
        stmt = ins.on_conflict_do_update(index_elements=[C.key], set_={
            "count": sa.case((ended, 1), else_=C.count + 1),
            "window_start": sa.case((ended, ins.excluded.window_start), else_=C.window_start),
            "expires_at": sa.case((ended, ins.excluded.expires_at), else_=C.expires_at),
        }).returning(C.count, C.expires_at)
        count, expires_at = dbm.session.execute(stmt).one()
        if count == 1:  # a new window: the moment to drop windows that have ended (indexed)
            dbm.session.execute(sa.delete(C).where(C.expires_at <= now))
        return count, expires_at

    def refund(self, key: str, now: datetime) -> None:
        from passport.core.models import RateCounter as C

        dbm.session.execute(sa.update(C).where(C.key == key, C.count > 0, C.expires_at > now)
                            .values(count=C.count - 1))

    def clear(self, key: str) -> None:
        from passport.core.models import RateCounter as C

        dbm.session.execute(sa.delete(C).where(C.key == key))

    def commit(self) -> None:
        dbm.session.commit()


class LimitsStore:
    """Counters in a ``limits`` storage (Redis, Memcached, ...), the library Flask-Limiter uses."""

    def __init__(self, storage: Storage):
        self.storage = storage

    def hit(self, key: str, seconds: int, now: datetime) -> tuple[int, datetime]:
        # incr starts the expiry when it creates the key, so the window begins at the first attempt.
        count = self.storage.incr(key, seconds)
        return count, datetime.fromtimestamp(self.storage.get_expiry(key), timezone.utc)

    def refund(self, key: str, now: datetime) -> None:
        if self.storage.get(key) > 0:
            self.storage.incr(key, 1, amount=-1)

    def clear(self, key: str) -> None:
        self.storage.clear(key)

    def commit(self) -> None:
        pass


def store_for(app: Flask) -> DatabaseStore | LimitsStore:
    return app.extensions[EXTENSION_KEY]


def _limit(app: Flask, setting: str) -> RateLimitItem:
    return parse(app.config[setting])


def init_app(app: Flask) -> None:
    """Check the limit settings and choose the store from ``RATELIMIT_STORAGE_URI``."""
    from passport.config import ConfigError

    for rule in RULES:
        for setting in (rule.account_setting, rule.address_setting):
            try:
                _limit(app, setting)
            except ValueError:
                raise ConfigError(f"PASSPORT_{setting} must be one limit such as '5 per 15 minutes', "
                                  f"not {app.config[setting]!r}.") from None
    uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if uri.startswith("memory://"):
        app.extensions[EXTENSION_KEY] = DatabaseStore()
    else:
        app.extensions[EXTENSION_KEY] = LimitsStore(
            storage_from_string(uri, **(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})))


# --- keys -------------------------------------------------------------------------------------------

def address_key(addr: str | None) -> str:
    """The client address as counted: IPv4 as is, IPv6 by its /64 network."""
    try:
        ip = ipaddress.ip_address((addr or "").strip())
    except ValueError:
        return "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def account_key(app: Flask, email: str) -> str:
    """An HMAC of the normalised e-mail address: the same for known and unknown addresses."""
    normalised = (email or "").strip().lower().encode("utf-8", "replace")
    return hmac.new(str(app.config["SECRET_KEY"]).encode(), normalised, hashlib.sha256).hexdigest()[:40]


# --- attempts ---------------------------------------------------------------------------------------

@dataclass
class Attempt:
    """A counted attempt. Call ``succeeded()`` when it turned out right (in the caller's transaction,
    committed with it); a failure needs nothing more, it is already counted."""

    store: DatabaseStore | LimitsStore | None
    account: str = ""
    address: str = ""

    def succeeded(self) -> None:
        if self.store is not None:
            self.store.clear(self.account)
            self.store.refund(self.address, dbm.utcnow())


def begin(rule: Rule, email: str, address: str | None = None, *, app: Flask | None = None,
          now: datetime | None = None) -> Attempt:
    """Count an attempt of ``rule`` for ``email`` from ``address`` (default: this request's client), or
    raise :class:`Throttled` if the account or the address is over its limit.

    The counts are committed at once, before the secret is checked, so a failed attempt stays counted
    even though the rest of its request is rolled back: call this before doing any other work."""
    app = app or current_app
    if not app.config.get("RATELIMIT_ENABLED", True):
        return Attempt(None)
    store = store_for(app)
    now = now or dbm.utcnow()
    addr = f"throttle/{rule.name}/address/{address_key(request.remote_addr if address is None else address)}"
    acct = f"throttle/{rule.name}/account/{account_key(app, email)}"
    try:
        limit = _limit(app, rule.address_setting)
        count, until = store.hit(addr, limit.get_expiry(), now)
        if count > limit.amount:
            raise _refusal(rule.address_message, until, now, limit)
        limit = _limit(app, rule.account_setting)
        count, until = store.hit(acct, limit.get_expiry(), now)
        if count > limit.amount:
            # Attempts refused for the account do not count against everyone else at the address.
            store.refund(addr, now)
            raise _refusal(rule.account_message, until, now, limit)
    except Throttled:
        store.commit()
        raise
    store.commit()
    return Attempt(store, acct, addr)


def clear_account(rule: Rule, email: str, *, app: Flask | None = None) -> None:
    """Forget the counted attempts of ``rule`` for ``email`` (in the caller's transaction): used when a
    password reset succeeds, so the new password works at once."""
    app = app or current_app
    if app.config.get("RATELIMIT_ENABLED", True):
        store_for(app).clear(f"throttle/{rule.name}/account/{account_key(app, email)}")


def _refusal(message: str, until: datetime, now: datetime, limit: RateLimitItem) -> Throttled:
    # Redis reports whole seconds to live from its own "now": never say more than the window's length.
    seconds = min(limit.get_expiry(), max(1, math.ceil((until - now).total_seconds())))
    return Throttled(message.format(wait=wait_in_words(seconds)), seconds)
