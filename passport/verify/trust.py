"""Trust: the issuers this scheme recognises, the trust store every server-side verifier uses, the
signed trust bundle, and status lists for issuers other than ourselves (fetched, verified, mirrored).

This deployment's own issuer is always trusted. Other deployments are added by a scheme admin by issuer
URL, with their JWKS pasted or fetched from ``<iss>/.well-known/jwks.json``. Stale data keeps working:
results say how old the keys and status lists are.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from passport import audit
from passport.core import services as core_services
from passport.core.access import Principal, is_scheme_admin
from passport.db import intend_to_write, utcnow
from passport.errors import Conflict, NotFound, PermissionDenied, ValidationError
from passport.verify import cache, fetch, own
from passport.verify.jose import JoseError
from passport.verify.models import IssuerEndorser, StatusMirror, TrustedIssuer as IssuerRow
from passport.verify.trustdata import (
    MAX_ENDORSER_CHARS, MAX_ENDORSERS, StatusSnapshot, StatusUnavailable, TrustedIssuer, TrustStore, bundle_payload,
    keys_from_jwks, parse_status_list, sign_bundle,
)

FAILED_FETCH_BACKOFF = 60.0


@dataclass(frozen=True)
class Settings:
    """What trust services need from the app configuration (passed in, never read from a request)."""

    public_url: str
    key_dir: str
    issuer_name: str | None = None
    allow_http: bool = True
    fetch_timeout: float = 5.0
    cache_seconds: float = 10.0
    status_refresh_seconds: float = 300.0
    status_cache_seconds: float = 0.0
    status_max_age_seconds: int = 24 * 3600
    cache_dir: str | None = None  # last known good copy for database outages (passport.verify.cache)


_store_cache: dict[tuple, tuple[float, TrustStore]] = {}
_parsed_status: dict[tuple, StatusSnapshot] = {}
_failed: dict[str, float] = {}
_lock = threading.Lock()


def invalidate() -> None:
    """Forget cached trust data in this process (called after any change to the trusted issuers)."""
    with _lock:
        _store_cache.clear()


def _require_admin(db: Session, principal: Principal | None) -> None:
    if principal is not None and not is_scheme_admin(db, principal):
        raise PermissionDenied("Only scheme admins can change which issuers the scheme trusts.")


def _actor(principal: Principal | None) -> audit.Actor:
    return principal.actor if principal is not None else audit.Actor.system("command line")


def scheme_info(db: Session) -> dict:
    """The scheme as stated in the trust bundle: name, Care Certificate version, threshold, endorsers."""
    scheme = core_services.get_scheme(db)
    endorsers = [o.name for o in core_services.endorsing_organisations(db)]
    if scheme is None:
        return {"name": "", "cc_version": "2025", "quality_threshold": "", "endorsers": endorsers}
    return {"name": scheme.name, "cc_version": scheme.cc_version, "quality_threshold": scheme.quality_threshold,
            "endorsers": endorsers}


def own_name(db: Session, s: Settings) -> str:
    if s.issuer_name:
        return s.issuer_name
    scheme = core_services.get_scheme(db)
    return scheme.name if scheme is not None else s.public_url.split("://", 1)[-1]


def parse_jwks_text(text: str) -> dict:
    """Validate a pasted or fetched JWKS; returns it with public members only. ValidationError if bad."""
    try:
        data = json.loads(text) if isinstance(text, (str, bytes)) else text
        keys = keys_from_jwks(data)
    except (ValueError, JoseError) as exc:
        raise ValidationError(f"The key set was not accepted: {exc}.", {"jwks": f"The key set was not accepted: {exc}."}
                              ) from None
    if not keys:
        raise ValidationError("The key set has no ES256 passport key.", {"jwks": "The key set has no ES256 (P-256) key."})
    return {"keys": [k.jwk for k in keys.values()]}


def _fetch_jwks(iss: str, s: Settings) -> dict:
    try:
        body = fetch.get(iss + "/.well-known/jwks.json", timeout=s.fetch_timeout)
    except fetch.FetchError as exc:
        raise ValidationError(f"The keys could not be fetched: {exc}.", {"iss": f"The keys could not be fetched: {exc}."}
                              ) from None
    return parse_jwks_text(body)


def clean_endorsers(value) -> list[str]:
    """Endorser names from a form (one per line) or a list: trimmed, de-duplicated, in order.
    ValidationError (field ``endorsers``) when there are too many or one is too long."""
    items = value.splitlines() if isinstance(value, str) else list(value or [])
    names: list[str] = []
    for item in items:
        name = " ".join(str(item).split())
        if name and name not in names:
            names.append(name)
    problem = None
    if len(names) > MAX_ENDORSERS:
        problem = f"List at most {MAX_ENDORSERS} endorsing organisations."
    elif any(len(n) > MAX_ENDORSER_CHARS for n in names):
        problem = f"Each endorsing organisation's name must be {MAX_ENDORSER_CHARS} characters or fewer."
    if problem:
        raise ValidationError(problem, {"endorsers": problem})
    return names


def _set_endorsers(row: IssuerRow, names: list[str]) -> None:
    keep = {e.name: e for e in row.endorsers}
    row.endorsers = [keep.get(n) or IssuerEndorser(name=n) for n in names]
    for i, e in enumerate(row.endorsers):
        e.position = i


def set_endorsers(db: Session, principal: Principal | None, issuer_id: int, endorsers) -> IssuerRow:
    """Record which organisations endorse a trusted issuer's passports (as that issuer's scheme publishes
    them). Verifiers show exactly these for its passports. Scheme admins only."""
    _require_admin(db, principal)
    row = get_issuer(db, issuer_id)
    names = clean_endorsers(endorsers)
    _set_endorsers(row, names)
    db.flush()
    audit.record(db, _actor(principal), "trusted_issuer.endorsers", "trusted_issuer", row.id, iss=row.iss,
                 endorsers=names)
    invalidate()
    return row


def list_issuers(db: Session, include_removed: bool = False) -> list[IssuerRow]:
    q = sa.select(IssuerRow).options(selectinload(IssuerRow.endorsers)).order_by(IssuerRow.name)
    if not include_removed:
        q = q.where(IssuerRow.removed_at.is_(None))
    return list(db.scalars(q))


def get_issuer(db: Session, issuer_id: int) -> IssuerRow:
    row = db.get(IssuerRow, issuer_id) if isinstance(issuer_id, int) else None
    if row is None:
        raise NotFound("No such trusted issuer.")
    return row


def add_issuer(db: Session, principal: Principal | None, s: Settings, *, iss: str, name: str,
               jwks_text: str | None = None, status_base: str | None = None, endorsers=None) -> IssuerRow:
    """Trust another deployment. With ``jwks_text`` its keys are taken as pasted; without, they are
    fetched from ``<iss>/.well-known/jwks.json``. ``endorsers`` are the organisations that endorse its
    passports (one per line, or a list). Scheme admins only."""
    _require_admin(db, principal)
    errors = {}
    try:
        endorser_names = clean_endorsers(endorsers)
    except ValidationError as exc:
        errors.update(exc.fields)
    try:
        iss = fetch.check_url(iss, s.allow_http)
    except fetch.FetchError as exc:
        errors["iss"] = str(exc).capitalize() + "."
    name = (name or "").strip()
    if not name or len(name) > 200:
        errors["name"] = "Enter the name verifiers should show for this issuer (200 characters at most)."
    if not errors and iss == s.public_url:
        errors["iss"] = "This is this service's own address; its passports are always trusted."
    if errors:
        raise ValidationError("The issuer was not added: " + " ".join(errors.values()), errors)
    existing = db.scalar(sa.select(IssuerRow).where(IssuerRow.iss == iss))
    if existing is not None and existing.removed_at is None:
        raise Conflict(f"{iss} is already trusted (as {existing.name}).")
    jwks = parse_jwks_text(jwks_text) if (jwks_text or "").strip() else _fetch_jwks(iss, s)
    row = existing or IssuerRow(iss=iss)
    now = utcnow()
    row.name, row.status_base = name, (status_base or iss + "/status").rstrip("/")
    row.jwks_json, row.jwks_source = json.dumps(jwks, sort_keys=True), "pasted" if (jwks_text or "").strip() else "fetched"
    row.keys_as_of, row.last_refresh_at, row.last_refresh_error = now, now, ""
    row.added_by_id, row.added_at, row.removed_at = (principal.person_id if principal else None), now, None
    _set_endorsers(row, endorser_names)
    db.add(row)
    db.flush()
    audit.record(db, _actor(principal), "trusted_issuer.add", "trusted_issuer", row.id, iss=iss, name=name,
                 source=row.jwks_source, kids=[k["kid"] for k in jwks["keys"]], endorsers=endorser_names)
    invalidate()
    return row


def update_keys(db: Session, principal: Principal | None, s: Settings, issuer_id: int, jwks_text: str | None = None
                ) -> IssuerRow:
    """Replace a trusted issuer's keys with a pasted JWKS, or re-fetch them when ``jwks_text`` is empty.
    A failed fetch keeps the old keys (and records the error): verification keeps working on them."""
    _require_admin(db, principal)
    row = get_issuer(db, issuer_id)
    row.last_refresh_at = utcnow()
    try:
        jwks = parse_jwks_text(jwks_text) if (jwks_text or "").strip() else _fetch_jwks(row.iss, s)
    except ValidationError as exc:
        row.last_refresh_error = exc.message[:500]
        db.flush()
        raise
    row.jwks_json, row.keys_as_of, row.last_refresh_error = json.dumps(jwks, sort_keys=True), utcnow(), ""
    row.jwks_source = "pasted" if (jwks_text or "").strip() else "fetched"
    db.flush()
    audit.record(db, _actor(principal), "trusted_issuer.keys", "trusted_issuer", row.id, iss=row.iss,
                 source=row.jwks_source, kids=[k["kid"] for k in jwks["keys"]])
    invalidate()
    return row


def remove_issuer(db: Session, principal: Principal | None, issuer_id: int) -> IssuerRow:
    """Stop trusting an issuer (kept as history); its passports become ``untrusted_issuer`` here."""
    _require_admin(db, principal)
    row = get_issuer(db, issuer_id)
    if row.removed_at is None:
        row.removed_at = utcnow()
        db.flush()
        audit.record(db, _actor(principal), "trusted_issuer.remove", "trusted_issuer", row.id, iss=row.iss)
        invalidate()
    return row


def refresh_all(db: Session, s: Settings) -> list[tuple[IssuerRow, str | None]]:
    """Re-fetch the keys of every trusted issuer whose keys were fetched (CLI/cron), and the status
    lists already mirrored. Returns (issuer, error or None); failures keep the old data."""
    out = []
    for row in list_issuers(db):
        if row.jwks_source != "fetched":
            out.append((row, None))
            continue
        try:
            with db.begin_nested():
                update_keys(db, None, s, row.id)
            out.append((row, None))
        except ValidationError as exc:
            row.last_refresh_error, row.last_refresh_at = exc.message[:500], utcnow()
            out.append((row, exc.message))
    store = trust_store(db, s, fresh=True)
    for mirror in list(db.scalars(sa.select(StatusMirror))):
        issuer = store.issuer(mirror.iss)
        if issuer is not None:
            _refresh_mirror(db, s, issuer, mirror.list_id, mirror.purpose, force=True)
    return out


def _epoch(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def trust_store(db: Session, s: Settings, fresh: bool = False) -> TrustStore:
    """Everything this deployment trusts: itself (live keys) and the trusted issuers (stored keys with
    their age). Cached per process for ``cache_seconds``."""
    bind = db.get_bind()
    cache_key = (id(getattr(bind, "engine", bind)), s.public_url)
    if not fresh and s.cache_seconds > 0:
        with _lock:
            hit = _store_cache.get(cache_key)
        if hit is not None and time.monotonic() - hit[0] < s.cache_seconds:
            return hit[1]
    c = cache.for_db(db, s.cache_dir, s.public_url)
    store = cache.read_through(c, db, "trust-store", lambda: _build_store(db, s), cache.dump_store, cache.load_store)
    with _lock:
        _store_cache[cache_key] = (time.monotonic(), store)
    return store


def _build_store(db: Session, s: Settings) -> TrustStore:
    info = scheme_info(db)
    mine = own.own_issuer(db, s.public_url, own_name(db, s))
    mine.endorsers = list(info["endorsers"])  # our scheme's partners endorse our own passports only
    issuers = {s.public_url: mine}
    for row in list_issuers(db):
        try:
            keys = keys_from_jwks(json.loads(row.jwks_json))
        except (ValueError, JoseError):  # stored data was validated on the way in; never break verification
            keys = {}
        issuers[row.iss] = TrustedIssuer(iss=row.iss, name=row.name, keys=keys, status_base=row.status_base,
                                         as_of=_epoch(row.keys_as_of), endorsers=row.endorser_names)
    from passport.verify import logos

    logos.attach(db, s.public_url, issuers, s.public_url)
    store = TrustStore(issuers=issuers, scheme_name=info["name"], endorsers=info["endorsers"], as_of=None,
                       source="database")
    return store


def trust_bundle(db: Session, s: Settings, now: int | None = None) -> str:
    """The scheme's signed trust bundle (docs/token-format.md), signed with the certificates "trust" key."""
    store = trust_store(db, s, fresh=True)
    private, jwk = own.trust_signer(db, s.key_dir)
    payload = bundle_payload(store, s.public_url, scheme_info(db), now)
    return sign_bundle(private, jwk["kid"], payload)


# --- status lists ----------------------------------------------------------------------------------


def _refresh_mirror(db: Session, s: Settings, issuer: TrustedIssuer, list_id: int, purpose: str,
                    force: bool = False) -> StatusMirror | None:
    url = f"{issuer.status_base}/{list_id}/{purpose}"
    row = db.scalar(sa.select(StatusMirror).where(StatusMirror.iss == issuer.iss, StatusMirror.list_id == list_id,
                                                  StatusMirror.purpose == purpose))
    with _lock:
        failed_at = _failed.get(url)
    if not force and failed_at is not None and time.monotonic() - failed_at < FAILED_FETCH_BACKOFF:
        return row
    try:
        jws = fetch.get(url, timeout=s.fetch_timeout).decode("ascii").strip()
        snap = parse_status_list(jws, issuer, purpose, list_id)
    except (fetch.FetchError, JoseError, UnicodeDecodeError):
        with _lock:
            _failed[url] = time.monotonic()
        return row
    intend_to_write(db)  # also from GET /v/status-list and verifications
    row = row or StatusMirror(iss=issuer.iss, list_id=list_id, purpose=purpose)
    row.jwt, row.fetched_at = jws, utcnow()
    row.issued_at = datetime.fromtimestamp(snap.issued_at, timezone.utc)
    row.expires_at = datetime.fromtimestamp(snap.expires_at, timezone.utc)
    db.add(row)
    db.flush()
    with _lock:
        _failed.pop(url, None)
    return row


def _remote_jwt(db: Session, s: Settings, issuer: TrustedIssuer, list_id: int, purpose: str, now: int
                ) -> StatusMirror | None:
    row = db.scalar(sa.select(StatusMirror).where(StatusMirror.iss == issuer.iss, StatusMirror.list_id == list_id,
                                                  StatusMirror.purpose == purpose))
    due = row is None or _epoch(row.expires_at) < now or now - _epoch(row.fetched_at) >= s.status_refresh_seconds
    if due:
        row = _refresh_mirror(db, s, issuer, list_id, purpose) or row
    return row


def _remote_row(db: Session, s: Settings, issuer: TrustedIssuer, list_id: int, purpose: str, now: int
                ) -> dict | None:
    row = _remote_jwt(db, s, issuer, list_id, purpose, now)
    return None if row is None else {"jwt": row.jwt, "fetched_at": row.fetched_at.timestamp()}


def status_source(db: Session, s: Settings, now: int):
    """A StatusSource for the verifier: our own bits in-process; other issuers' lists from the mirror,
    refreshed when expired (a failed refresh leaves the stale copy, which the verifier reports)."""

    memo: dict = {}
    c = cache.for_db(db, s.cache_dir, s.public_url)

    def source(issuer: TrustedIssuer, list_id: int, purpose: str) -> StatusSnapshot:
        if issuer.own:
            return cache.own_status(c, db, list_id, purpose, now, s.status_max_age_seconds,
                                    lambda: own.status_snapshot(db, list_id, purpose, now, memo, s.status_cache_seconds))
        name = "mirror-" + hashlib.sha256(f"{issuer.iss}|{list_id}|{purpose}".encode()).hexdigest()[:20]
        try:
            row = cache.read_through(c, db, name, lambda: _remote_row(db, s, issuer, list_id, purpose, now),
                                     lambda r: r, lambda r: r)
        except cache.Unavailable:
            row = None
        if row is None:
            raise StatusUnavailable("never fetched")
        key = (issuer.iss, list_id, purpose, row["fetched_at"], len(row["jwt"]), hash(row["jwt"]))
        with _lock:
            snap = _parsed_status.get(key)
        if snap is None:
            try:
                snap = parse_status_list(row["jwt"], issuer, purpose, list_id)
            except JoseError:
                raise StatusUnavailable("stored list no longer verifies") from None
            with _lock:
                if len(_parsed_status) > 1000:
                    _parsed_status.clear()
                _parsed_status[key] = snap
        return snap

    return source


def status_list_jwt(db: Session, s: Settings, iss: str, list_id: int, purpose: str) -> str | None:
    """A signed status list for the offline page, same-origin: ours, or a trusted issuer's mirrored copy."""
    store = trust_store(db, s)
    issuer = store.issuer(iss)
    if issuer is None:
        return None
    if issuer.own:
        return own.status_list_jwt(db, list_id, purpose, s.key_dir, s.public_url)
    row = _remote_jwt(db, s, issuer, list_id, purpose, int(time.time()))
    return row.jwt if row is not None else None
