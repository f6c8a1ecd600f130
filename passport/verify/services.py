"""Server-side verification (API, CLI, accepting a passport) and "who checked my passport".

Each server-side check is logged without the token: a hash of issuer and passport id, the result, the
verifying organisation when the checker is signed in, and the client's network truncated (/24 for IPv4,
/48 for IPv6). Checks made in the browser on the offline page never reach us and leave no trace.
"""
from __future__ import annotations

import functools
import hashlib
import ipaddress
import time
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from passport.core.catalogue_data import DELEGATED_TASKS
from passport.db import utcnow
from passport.verify import cache, checklog, own, trust, wording
from passport.verify.models import VerificationCheck
from passport.verify.verifier import Result, verify

TASK_NAMES = {t["code"]: t["name"] for t in DELEGATED_TASKS}
LEVEL_LABELS = {"observed": "Observed practice", "supervised": "Can do it with supervision",
                "safe_unsupervised": "Safe to do it without supervision"}
RESULT_LABELS = wording.RESULT_LABELS
CHANNEL_LABELS = {"api": "Verify service", "cli": "Command line", "accept": "Accepted by an employer"}


def passport_ref(iss: str, jti: str) -> str:
    """The only trace of a passport in the check log: SHA-256 of ``iss|jti``."""
    return hashlib.sha256(f"{iss}|{jti}".encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=4096)
def truncate_address(addr: str | None) -> str:
    """A client address cut to its network (/24 for IPv4, /48 for IPv6), so no one person is named."""
    try:
        ip = ipaddress.ip_address((addr or "").strip())
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def check(db: Session, s: trust.Settings, text, *, channel: str = "api", org_id: int | None = None,
          client_addr: str | None = None, log: bool = True, sink=None, now: int | None = None) -> Result:
    """Verify one token against this deployment's trust data and live status, log the check, and
    return the result (the issuer's own revocation reason is added for our own passports).

    The log row goes into ``db`` (this transaction), or to ``sink.add(row)`` when a sink is given (the
    verify API's batched writer, see passport.verify.checklog)."""
    now = int(time.time()) if now is None else now
    store = trust.trust_store(db, s)
    result = verify(text, store, trust.status_source(db, s, now), now=now, task_names=TASK_NAMES,
                    status_max_age=s.status_max_age_seconds)
    c = cache.for_db(db, s.cache_dir, s.public_url)
    if result.state in ("revoked", "suspended") and result.iss == s.public_url and result.jti:
        label = cache.optional(c, db, lambda: own.revocation_reason(db, result.jti))
        if label:
            result.reason += f" Reason given by the issuer: {label}."
    if log:
        row = check_row(result, channel=channel, org_id=org_id, client_addr=client_addr)
        if sink is not None:
            sink.add(row)
        elif cache.optional(c, db, lambda: db.execute(sa.insert(VerificationCheck.__table__), row) or True) is None:
            checklog.count_dropped(1)  # database unavailable: this check is not logged (counted, with a warning)
    return result


def check_row(result: Result, *, channel: str, org_id: int | None, client_addr: str | None) -> dict:
    """The check-log row for a result: never the token, only a hash of issuer and passport id."""
    return {"at": utcnow(), "result": result.state, "channel": channel, "org_id": org_id,
            "passport_ref": passport_ref(result.iss, result.jti) if result.iss and result.jti else None,
            "client_net": truncate_address(client_addr)}


@dataclass(frozen=True)
class CheckRow:
    at: datetime
    result: str
    result_label: str
    who: str
    channel: str


def checks_for_person(db: Session, person_id: int, limit: int = 200, public_url: str | None = None
                      ) -> list[CheckRow]:
    """Server-side checks of any passport issued to this person here, newest first. ``public_url``
    defaults to the current app's (our issuer URL)."""
    if public_url is None:
        from flask import current_app

        public_url = current_app.config["PUBLIC_URL"]
    refs = [passport_ref(public_url, jti) for jti in own.passport_jtis(db, person_id)]
    if not refs:
        return []
    rows = db.scalars(sa.select(VerificationCheck).options(joinedload(VerificationCheck.organisation))
                      .where(VerificationCheck.passport_ref.in_(refs))
                      .order_by(VerificationCheck.at.desc(), VerificationCheck.id.desc()).limit(limit))
    return [CheckRow(at=r.at, result=r.result, result_label=RESULT_LABELS[r.result],
                     who=r.organisation.name if r.organisation is not None else "Someone not signed in (a public check)",
                     channel=CHANNEL_LABELS[r.channel]) for r in rows]


def iso_or_none(ts: int | None) -> str | None:
    from passport.verify.verifier import iso

    return iso(ts)
