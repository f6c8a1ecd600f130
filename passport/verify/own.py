"""This deployment as an issuer, read in-process from the ``certificates`` plugin.

Everything verify needs from certificates goes through this one module: our own passport keys (for the
trust store), our status bits (for the verify API), our signed status lists (for the offline page's
same-origin mirror), the scheme trust key (to sign the trust bundle) and a person's passports (for
"who checked my passport"). The verify API never makes an HTTP request to its own server.
"""
from __future__ import annotations

import threading
import time

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport.verify.jose import JoseError
from passport.verify.trustdata import StatusSnapshot, StatusUnavailable, TrustedIssuer, keys_from_jwks

STATUS_TTL = 6 * 3600
_bits_cache: dict[tuple, tuple] = {}
_version_cache: dict[tuple, tuple] = {}
_lock = threading.Lock()


def own_issuer(db: Session, public_url: str, name: str) -> TrustedIssuer:
    """Our own issuer with every published passport key (active, retired, compromised)."""
    from passport.certificates import keys as keyring

    jwks = [keyring.public_jwk(k) for k in keyring.keys_for(db, ("passport",))]
    try:
        keys = keys_from_jwks(jwks)
    except JoseError:  # pragma: no cover - our own keys are well-formed by construction
        keys = {}
    return TrustedIssuer(iss=public_url, name=name, keys=keys, status_base=public_url + "/status", as_of=None,
                         own=True)


def _engine_id(db: Session) -> int:
    bind = db.get_bind()
    return id(getattr(bind, "engine", bind))


def _list_version(db: Session, engine_id: int, list_id: int, max_age: float):
    """The list's ``updated_at`` (bumped on every status change), re-read at most every ``max_age`` s."""
    from passport.certificates.models import StatusList

    key = (engine_id, list_id)
    now = time.monotonic()
    with _lock:
        hit = _version_cache.get(key)
    if hit is not None and now - hit[0] < max_age:
        return hit[1]
    version = db.execute(sa.select(StatusList.updated_at).where(StatusList.id == list_id)).scalar()
    with _lock:
        if len(_version_cache) > 1000:
            _version_cache.clear()
        _version_cache[key] = (now, version)
    return version


def status_snapshot(db: Session, list_id: int, purpose: str, now: int, memo: dict | None = None,
                    max_age: float = 0.0) -> StatusSnapshot:
    """Our own status bits, read from the passports themselves. The decoded bits are cached per process
    until the list's ``updated_at`` changes; that version is re-read at most every ``max_age`` seconds
    (0: on every check, so a revocation shows at once), and once per check (``memo``)."""
    from passport.certificates import status as cstatus
    from passport.errors import NotFound

    memo = {} if memo is None else memo
    if "engine" not in memo:
        memo["engine"] = _engine_id(db)
    if list_id not in memo:
        memo[list_id] = _list_version(db, memo["engine"], list_id, max_age)
    updated = memo[list_id]
    if updated is None:
        raise StatusUnavailable("no such status list")
    key = (memo["engine"], list_id, purpose)
    with _lock:
        hit = _bits_cache.get(key)
    if hit is None or hit[0] != updated:
        try:
            bits = cstatus.status_bits(db, list_id, purpose)
        except NotFound:
            raise StatusUnavailable("no such status list") from None
        hit = (updated, bits)
        with _lock:
            if len(_bits_cache) > 1000:
                _bits_cache.clear()
            _bits_cache[key] = hit
    return StatusSnapshot(bits=hit[1], issued_at=now, expires_at=now + STATUS_TTL)


def status_list_jwt(db: Session, list_id: int, purpose: str, key_dir: str, public_url: str) -> str | None:
    """Our signed status-list credential (as served at /status/...), or None for an unknown list."""
    from passport.certificates import status as cstatus
    from passport.errors import NotFound

    try:
        return cstatus.status_list_jwt(db, list_id, purpose, key_dir, public_url)
    except NotFound:
        return None


def trust_signer(db: Session, key_dir: str):
    """``(private_key, public_jwk)`` of the scheme's active trust key. Raises the certificates plugin's
    KeyUnavailable (a 503 with instructions) when there is none."""
    from passport.certificates import keys as keyring

    key = keyring.active_key(db, "trust")
    return keyring.private_key_for(key, key_dir), keyring.public_jwk(key)


def trust_public_jwks(db: Session) -> list[dict]:
    """Every published trust key (newest first), for pinning by verifiers."""
    from passport.certificates import keys as keyring

    return [keyring.public_jwk(k) for k in keyring.keys_for(db, ("trust",))]


def passport_jtis(db: Session, person_id: int) -> list[str]:
    """The ids of every passport issued to a person here."""
    from passport.certificates.models import Passport

    return list(db.scalars(sa.select(Passport.jti).where(Passport.person_id == person_id)))


def revocation_reason(db: Session, jti: str) -> str | None:
    """The issuer's own reason label for a revoked or suspended passport of ours (never in the list)."""
    from passport.certificates import services

    info = services.passport_status(db, jti)
    return info.get("reason_label") if info else None
