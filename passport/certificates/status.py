"""W3C Bitstring Status Lists: random index allocation, the bits, and the signed list credential.

Each list id has three lists (revocation, suspension, refresh) of 131,072 entries sharing one index per
passport. The bits are derived from the passports themselves (``revoked_at`` / ``suspended_at`` /
``superseded_at``), so a status change is one row update and the lists can never disagree with it.
"""
from __future__ import annotations

import base64
import gzip
import secrets

import jwt
import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport.certificates import keys as keyring
from passport.certificates.models import LIST_SIZE, STATUS_PURPOSES, Passport, StatusList
from passport.db import utcnow
from passport.errors import NotFound

TTL_SECONDS = 6 * 3600
FILL_LIMIT = 0.5  # start a new list at half full: random probing stays cheap, the herd stays large
MAX_PROBES = 64


def _current_list(db: Session) -> StatusList:
    lst = db.scalar(sa.select(StatusList).where(StatusList.allocated < StatusList.size * FILL_LIMIT)
                    .order_by(StatusList.id.desc()).limit(1))
    if lst is None:
        lst = StatusList(size=LIST_SIZE, allocated=0)
        db.add(lst)
        db.flush()
    return lst


def allocate_index(db: Session) -> tuple[int, int]:
    """Reserve a random, unused ``(list_id, index)`` for a new passport (counted at once; the unique
    constraint on the passport table is the final guard against a concurrent pick)."""
    lst = _current_list(db)
    for _ in range(MAX_PROBES):
        index = secrets.randbelow(lst.size)
        taken = db.scalar(sa.select(Passport.id).where(Passport.status_list_id == lst.id,
                                                       Passport.status_index == index))
        if taken is None:
            lst.allocated += 1
            return lst.id, index
    # Practically unreachable below half full; start a fresh list rather than loop.
    lst.allocated = lst.size
    db.flush()
    return allocate_index(db)


def touch(db: Session, list_id: int) -> None:
    """Record that a bit in ``list_id`` changed (cached signed lists then refresh)."""
    lst = db.get(StatusList, list_id)
    if lst is not None:
        lst.updated_at = utcnow()


def _column(purpose: str):
    return {"revocation": Passport.revoked_at, "suspension": Passport.suspended_at,
            "refresh": Passport.superseded_at}[purpose]


def get_list(db: Session, list_id: int, purpose: str) -> StatusList:
    lst = db.get(StatusList, list_id) if isinstance(list_id, int) else None
    if lst is None or purpose not in STATUS_PURPOSES:
        raise NotFound("No such status list.")
    return lst


def status_bits(db: Session, list_id: int, purpose: str) -> bytes:
    """The raw bitstring for ``purpose`` (revocation | suspension | refresh): ``size / 8`` bytes,
    index 0 = most significant bit of the first byte. A set bit means revoked / suspended / superseded."""
    lst = get_list(db, list_id, purpose)
    bits = bytearray(lst.size // 8)
    q = sa.select(Passport.status_index).where(Passport.status_list_id == lst.id, _column(purpose).is_not(None))
    for index in db.scalars(q):
        bits[index >> 3] |= 0x80 >> (index & 7)
    return bytes(bits)


def encode_list(bits: bytes) -> str:
    """Multibase base64url (``u`` prefix, no padding) of the GZIP-compressed bitstring."""
    packed = gzip.compress(bits, compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")


def list_url(public_url: str, list_id: int, purpose: str) -> str:
    return f"{public_url.rstrip('/')}/status/{list_id}/{purpose}"


def status_list_claims(db: Session, list_id: int, purpose: str, public_url: str, now: int | None = None) -> dict:
    now = int(now if now is not None else utcnow().timestamp())
    url = list_url(public_url, list_id, purpose)
    return {
        "iss": public_url.rstrip("/"), "iat": now, "exp": now + TTL_SECONDS, "ttl": TTL_SECONDS * 1000,
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "id": url,
        "credentialSubject": {"id": url + "#list", "type": "BitstringStatusList", "statusPurpose": purpose,
                              "encodedList": encode_list(status_bits(db, list_id, purpose))},
    }


def status_list_jwt(db: Session, list_id: int, purpose: str, key_dir: str, public_url: str) -> str:
    """The signed BitstringStatusListCredential (compact JWS, ES256 with the active passport key,
    ``typ: statuslist+jwt``), valid for six hours. NotFound for an unknown list or purpose."""
    claims = status_list_claims(db, list_id, purpose, public_url)
    key = keyring.active_key(db, "passport")
    private = keyring.private_key_for(key, key_dir)
    return jwt.encode(claims, private, algorithm="ES256", headers={"kid": key.kid, "typ": "statuslist+jwt"})


def decode_list(encoded: str) -> bytes:
    """Inverse of ``encode_list`` (for tests and the issuer's own checks)."""
    if not encoded.startswith("u"):
        raise ValueError("not multibase base64url")
    raw = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))


def bit(bits: bytes, index: int) -> bool:
    return bool(bits[index >> 3] & (0x80 >> (index & 7)))
