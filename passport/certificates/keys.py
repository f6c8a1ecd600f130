"""Signing keys: create, rotate, retire, mark compromised, load, publish.

The database holds each key's public JWK and life cycle (``SigningKey``). The private half is a PEM file
``<purpose>-<kid>.pem`` in ``KEY_DIR`` (directory mode 0700, file mode 0600), encrypted with
``PASSPORT_KEY_ENCRYPTION_KEY`` from the environment when that is set. Private keys are never logged,
rendered, returned by the API or put in the JWKS.

Purposes: ``passport`` (ES256: QR tokens and status lists), ``openbadge`` (RS256: the Open Badges 3.0
export), ``trust`` (ES256: the scheme key the verify plugin signs the trust bundle with).
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from datetime import datetime

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy.orm import Session

from passport import audit
from passport.certificates.models import PURPOSES, SigningKey
from passport.db import utcnow
from passport.errors import Conflict, NotFound, ServiceError, ValidationError

ENV_ENCRYPTION_KEY = "PASSPORT_KEY_ENCRYPTION_KEY"
LEEWAY = 300  # seconds, as in docs/token-format.md
RSA_BITS = 3072


class KeyUnavailable(ServiceError):
    """No usable signing key (none created, expired, retired, or its private file is missing)."""

    status = 503
    code = "no_signing_key"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64(n: int, length: int | None = None) -> str:
    length = length or (n.bit_length() + 7) // 8
    return b64url(n.to_bytes(length, "big"))


def jwk_of(public_key) -> dict:
    """The public JWK members of a key (RFC 7517): EC P-256 or RSA. No private members, ever."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        nums = public_key.public_numbers()
        return {"kty": "EC", "crv": "P-256", "x": _int_b64(nums.x, 32), "y": _int_b64(nums.y, 32)}
    if isinstance(public_key, rsa.RSAPublicKey):
        nums = public_key.public_numbers()
        return {"kty": "RSA", "n": _int_b64(nums.n), "e": _int_b64(nums.e)}
    raise TypeError("unsupported key type")


def thumbprint(jwk: dict) -> str:
    """RFC 7638 SHA-256 JWK thumbprint, base64url without padding: the ``kid``."""
    members = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("e", "kty", "n")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode("ascii")).digest())


def _passphrase() -> bytes | None:
    value = os.environ.get(ENV_ENCRYPTION_KEY)
    return value.encode("utf-8") if value else None


def _check_purpose(purpose: str) -> str:
    if purpose not in PURPOSES:
        raise ValidationError(f"Unknown key purpose {purpose!r}; use one of {', '.join(PURPOSES)}.",
                              {"purpose": "Choose passport, openbadge or trust."})
    return PURPOSES[purpose]


def _ensure_dir(key_dir: str) -> None:
    os.makedirs(key_dir, mode=0o700, exist_ok=True)
    os.chmod(key_dir, 0o700)


def _write_private(path: str, private_key) -> None:
    passphrase = _passphrase()
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, 0o600)


def create_key(db: Session, key_dir: str, purpose: str, *, actor: audit.Actor | None = None,
               active_from: datetime | None = None, active_until: datetime | None = None,
               replace_active: bool = False) -> SigningKey:
    """Generate a key for ``purpose`` (ES256, or RS256 for ``openbadge``), write its private PEM to
    ``key_dir`` (0600) and record its public half. Refuses if an active key for the purpose exists,
    unless ``replace_active`` (used by ``rotate_key``)."""
    alg = _check_purpose(purpose)
    # Whole seconds, so the published nbf/exp and the tokens' integer iat compare exactly.
    active_from = (active_from or utcnow()).replace(microsecond=0)
    if active_until is not None and active_until <= active_from:
        raise ValidationError("The key's end date must be after its start.",
                              {"active_until": "Choose a date after the start."})
    if not replace_active and current_key(db, purpose) is not None:
        raise Conflict(f"There is already an active {purpose} key. Use 'rotate' to replace it.")
    private = ec.generate_private_key(ec.SECP256R1()) if alg == "ES256" else \
        rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    jwk = jwk_of(private.public_key())
    key = SigningKey(kid=thumbprint(jwk), alg=alg, purpose=purpose, status="active", active_from=active_from,
                     active_until=active_until, public_jwk_json=json.dumps(jwk, sort_keys=True),
                     created_by=(actor.label if actor else "command line")[:200])
    _ensure_dir(key_dir)
    _write_private(os.path.join(key_dir, key.file_name), private)
    db.add(key)
    db.flush()
    audit.record(db, actor or audit.Actor.system("command line"), "signing_key.create", "signing_key", key.kid,
                 purpose=purpose, alg=alg)
    return key


def rotate_key(db: Session, key_dir: str, purpose: str, *, actor: audit.Actor | None = None
               ) -> tuple[SigningKey, SigningKey | None]:
    """Make a new active key for ``purpose`` and retire the current one (it stays published so what it
    signed while active still verifies). Returns ``(new, old_or_None)``."""
    old = current_key(db, purpose)
    new = create_key(db, key_dir, purpose, actor=actor, replace_active=True)
    if old is not None:
        retire_key(db, old.kid, actor=actor, at=new.active_from)
    return new, old


def get_key(db: Session, kid: str) -> SigningKey:
    key = db.scalar(sa.select(SigningKey).where(SigningKey.kid == kid))
    if key is None:
        raise NotFound(f"No signing key with id {kid!r}.")
    return key


def retire_key(db: Session, kid: str, *, actor: audit.Actor | None = None, at: datetime | None = None
               ) -> SigningKey:
    """Stop signing with a key from ``at`` (default now). It stays in the JWKS with ``exp`` = retirement
    time. Retiring twice is harmless; a compromised key stays compromised."""
    key = get_key(db, kid)
    if key.status != "active":
        return key
    at = (at or utcnow()).replace(microsecond=0)
    key.status = "retired"
    key.active_until = max(key.active_from, min(at, key.active_until or at))
    db.flush()
    audit.record(db, actor or audit.Actor.system("command line"), "signing_key.retire", "signing_key", key.kid,
                 purpose=key.purpose)
    return key


def compromise_key(db: Session, kid: str, *, actor: audit.Actor | None = None, at: datetime | None = None
                   ) -> SigningKey:
    """Mark a key compromised: it is listed with ``status: compromised`` and everything it ever signed is
    invalid. Callers then issue a replacement key and re-issue (see ``services.reissue_signed_by``)."""
    key = get_key(db, kid)
    if key.status == "compromised":
        return key
    at = (at or utcnow()).replace(microsecond=0)
    key.status = "compromised"
    key.compromised_at = at
    key.active_until = max(key.active_from, min(at, key.active_until or at))
    db.flush()
    audit.record(db, actor or audit.Actor.system("command line"), "signing_key.compromise", "signing_key",
                 key.kid, purpose=key.purpose)
    return key


def current_key(db: Session, purpose: str, at: datetime | None = None) -> SigningKey | None:
    """The newest key for ``purpose`` that is active at ``at`` (default now), or None."""
    at = at or utcnow()
    return db.scalar(sa.select(SigningKey).where(
        SigningKey.purpose == purpose, SigningKey.status == "active", SigningKey.active_from <= at,
        sa.or_(SigningKey.active_until.is_(None), SigningKey.active_until > at))
        .order_by(SigningKey.active_from.desc(), SigningKey.id.desc()).limit(1))


def active_key(db: Session, purpose: str, at: datetime | None = None) -> SigningKey:
    """The key to sign with now, or KeyUnavailable saying what an administrator must do."""
    _check_purpose(purpose)
    key = current_key(db, purpose, at)
    if key is None:
        expired = db.scalar(sa.select(SigningKey.id).where(SigningKey.purpose == purpose,
                                                           SigningKey.status == "active"))
        detail = "has expired" if expired else "does not exist"
        raise KeyUnavailable(
            f"The {purpose} signing key {detail}, so nothing can be signed. An administrator must run "
            f"'passport certificates keys {'rotate' if expired else 'create'} --purpose {purpose}'.")
    return key


def keys_for(db: Session, purposes=tuple(PURPOSES)) -> list[SigningKey]:
    return list(db.scalars(sa.select(SigningKey).where(SigningKey.purpose.in_(list(purposes)))
                           .order_by(SigningKey.purpose, SigningKey.active_from.desc(), SigningKey.id.desc())))


_cache: dict[tuple, object] = {}
_cache_lock = threading.Lock()


def private_key_for(key: SigningKey, key_dir: str):
    """Load the private key object for ``key`` from ``key_dir`` (cached per file and change time).
    Raises KeyUnavailable if the file is missing, unreadable or encrypted with another passphrase."""
    if key.status == "compromised":
        raise KeyUnavailable("This key is marked compromised and must not sign anything.")
    path = os.path.join(key_dir, key.file_name)
    try:
        stat = os.stat(path)
    except OSError:
        raise KeyUnavailable(f"The private file for {key.purpose} key {key.kid[:8]}… is missing from the key "
                             "directory. Restore it from the key backup, or rotate the key.") from None
    cache_key = (path, stat.st_mtime_ns, stat.st_ino)
    with _cache_lock:
        if cache_key in _cache:
            return _cache[cache_key]
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        private = serialization.load_pem_private_key(data, password=_passphrase() if b"ENCRYPTED" in data else None)
    except (ValueError, TypeError):
        raise KeyUnavailable(f"The private file for {key.purpose} key {key.kid[:8]}… could not be opened. If it is "
                             f"encrypted, set {ENV_ENCRYPTION_KEY} to the passphrase it was written with.") from None
    if thumbprint(jwk_of(private.public_key())) != key.kid:
        raise KeyUnavailable(f"The private file for key {key.kid[:8]}… does not match its public key.")
    with _cache_lock:
        _cache[cache_key] = private
    return private


def destroy_private_key(key: SigningKey, key_dir: str) -> bool:
    """Delete a retired or compromised key's private file (call after the change is committed).
    Returns True if a file was removed. Active keys are never destroyed."""
    if key.status == "active":
        raise Conflict("An active key's private file cannot be destroyed; retire or rotate it first.")
    path = os.path.join(key_dir, key.file_name)
    try:
        os.remove(path)
    except FileNotFoundError:
        return False
    with _cache_lock:
        for k in [k for k in _cache if k[0] == path]:
            del _cache[k]
    return True


def _epoch(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value is not None else None


def public_jwk(key: SigningKey) -> dict:
    """The key as published: public members plus use, alg, kid, status, nbf and exp (docs/token-format.md)."""
    return {**key.public_jwk, "use": "sig", "alg": key.alg, "kid": key.kid, "status": key.status,
            "nbf": _epoch(key.active_from), "exp": _epoch(key.active_until)}


def public_jwks(db: Session, purposes=("passport", "openbadge")) -> dict:
    """``{"keys": [...]}`` for ``/.well-known/jwks.json``: active, retired and compromised keys of the
    given purposes, public members only."""
    return {"keys": [public_jwk(k) for k in keys_for(db, purposes)]}


def key_window_ok(key: SigningKey, iat: int | float | datetime, leeway: int = LEEWAY) -> bool:
    """True when ``iat`` falls inside the key's active window (with leeway) and the key is not compromised."""
    if key.status == "compromised":
        return False
    t = iat.timestamp() if isinstance(iat, datetime) else float(iat)
    if t < key.active_from.timestamp() - leeway:
        return False
    return key.active_until is None or t <= key.active_until.timestamp() + leeway

