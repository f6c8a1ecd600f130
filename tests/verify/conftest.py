"""Fixtures for the verify plugin: real signing keys, real passports issued by the certificates plugin,
and a second issuer (keys made in the test) that the scheme can be told to trust."""
from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta, timezone

import pytest

from passport.core import records
from passport.core.access import Principal

from .tokens import SigningIssuer


@pytest.fixture(autouse=True)
def _no_trust_cache(app):
    """Each test rolls its data back, so per-process trust caching must be off."""
    app.config["VERIFY_TRUST_CACHE_SECONDS"] = 0
    app.config["VERIFY_STATUS_CACHE_SECONDS"] = 0
    app.config["VERIFY_CHECK_LOG"] = "request"  # rows in the test's transaction (the writer has its own test)
    from passport.verify import trust

    trust.invalidate()
    yield


@pytest.fixture
def keys(app, db):
    """The passport and trust signing keys of this deployment (created in KEY_DIR)."""
    from passport.certificates import keys as keyring

    out = {}
    for purpose in ("passport", "trust"):
        out[purpose] = keyring.current_key(db, purpose) or keyring.create_key(db, app.config["KEY_DIR"], purpose)
    return out


@pytest.fixture
def scheme(db, make_org):
    from passport.core import services

    existing = services.get_scheme(db)
    if existing is not None:
        return existing
    trust_org = make_org("Wessex Valley NHS Foundation Trust (test)", kind="nhs_trust")
    return services.save_scheme(db, None, {"name": "Test Care Passport Scheme", "cc_version": "2025",
                                           "quality_threshold": "Approved courses only.", "members": [trust_org.id],
                                           "endorsers": [trust_org.id]})


def complete_cc(db, person, org, framework: str = "2025", count: int | None = None) -> None:
    count = count or (16 if framework == "2025" else 15)
    for n in range(1, count + 1):
        records.record_achievement(db, None, person_id=person.id, org_id=org.id, framework=framework,
                                   standard_number=n, met_on=date.today() - timedelta(days=60 - n),
                                   source="assessment")


@pytest.fixture
def issue(app, db, keys, scheme):
    """Issue a real passport (certificates plugin) for a person with a Care Certificate."""
    from passport.certificates import services as cservices

    def do(person, org, framework: str = "2025", count: int | None = None):
        complete_cc(db, person, org, framework, count)
        p = cservices.issue_passport(db, None, person.id, org.id, key_dir=app.config["KEY_DIR"],
                                     public_url=app.config["PUBLIC_URL"])
        db.flush()
        return p

    return do


@pytest.fixture
def home(make_org):
    return make_org()


@pytest.fixture
def worker(make_person, home):
    return make_person(home, "worker", given_name="Amelia", family_name="Okonkwo-Richardson")


@pytest.fixture
def scheme_admin(make_person, make_org):
    return make_person(make_org(kind="care_association"), ["scheme_admin", "org_admin"])


@pytest.fixture
def other_issuer(app, db, scheme_admin, keys):
    """Another deployment, trusted by pasting its JWKS, with fresh status lists already mirrored."""
    from passport.verify import settings, trust
    from passport.verify.models import StatusMirror

    issuer = SigningIssuer("https://other-issuer.test", "Kennet Valley Care Group")
    trust.add_issuer(db, Principal(person=scheme_admin), settings(app), iss=issuer.iss, name=issuer.name,
                     jwks_text=json.dumps(issuer.jwks()))

    def mirror(list_id: int = 1, iat: int | None = None, ttl: int = 6 * 3600):
        for purpose in ("revocation", "suspension", "refresh"):
            row = db.query(StatusMirror).filter_by(iss=issuer.iss, list_id=list_id, purpose=purpose).one_or_none()
            row = row or StatusMirror(iss=issuer.iss, list_id=list_id, purpose=purpose)
            jws = issuer.status_jwt(list_id, purpose, iat=iat, ttl=ttl)
            now = int(time.time()) if iat is None else iat
            row.jwt, row.fetched_at = jws, datetime.now(timezone.utc)
            row.issued_at = datetime.fromtimestamp(now, timezone.utc)
            row.expires_at = datetime.fromtimestamp(now + ttl, timezone.utc)
            db.add(row)
        db.flush()

    issuer.mirror = mirror
    mirror()
    return issuer
