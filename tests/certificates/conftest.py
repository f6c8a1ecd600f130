"""Fixtures for the certificates tests: keys in the app's KEY_DIR and workers with Care Certificates."""
from __future__ import annotations

import os
from datetime import timedelta

import pytest

from passport import audit
from passport.certificates import keys as keyring, services
from passport.certificates.models import SigningKey
from passport.core import records
from passport.core.access import today
from passport.db import utcnow


@pytest.fixture
def key_dir(app):
    return app.config["KEY_DIR"]


@pytest.fixture
def public_url(app):
    return app.config["PUBLIC_URL"]


_KEY_CACHE: dict[str, dict] = {}


@pytest.fixture
def keys(db, key_dir):
    """An active passport key (ES256) and Open Badges key (RS256). Key files are generated once per session
    (RSA generation is slow) and their public rows re-recorded in each test's transaction; a test that
    destroys a file gets a freshly generated key next time."""
    out = {}
    for purpose in ("passport", "openbadge"):
        cached = _KEY_CACHE.get(purpose)
        if cached and os.path.exists(os.path.join(key_dir, f"{purpose}-{cached['kid']}.pem")):
            current = keyring.current_key(db, purpose)
            if current is not None:
                keyring.retire_key(db, current.kid)
            key = SigningKey(**cached, status="active", active_from=utcnow().replace(microsecond=0))
            db.add(key)
            db.flush()
        else:
            key, _old = keyring.rotate_key(db, key_dir, purpose, actor=audit.Actor.system("tests"))
            _KEY_CACHE[purpose] = {"kid": key.kid, "alg": key.alg, "purpose": purpose,
                                   "public_jwk_json": key.public_jwk_json}
        out[purpose] = key
    return out


@pytest.fixture
def sign_off(db):
    """Sign off Care Certificate standards 1..count for a person (complete when count is 16 on 2025)."""

    def do(person, org, count: int = 16, framework: str = "2025"):
        for n in range(1, count + 1):
            records.record_achievement(db, None, person_id=person.id, org_id=org.id, framework=framework,
                                       standard_number=n, met_on=today() - timedelta(days=30 - n),
                                       source="assessment", actor=audit.Actor.system("tests"))
        return person

    return do


@pytest.fixture
def home(make_org, make_person, sign_off):
    """A care home with a registered manager, a training lead, an assessor and two workers with
    complete Care Certificates and one with nothing signed off."""
    org = make_org()
    people = {
        "manager": make_person(org, ["registered_manager", "org_admin"], given_name="Mina"),
        "lead": make_person(org, "training_lead", given_name="Lee"),
        "assessor": make_person(org, "assessor", given_name="Asa"),
        "worker": make_person(org, "worker", given_name="Amelia", family_name="Okonkwo-Richardson"),
        "worker2": make_person(org, "worker", given_name="Ben"),
        "newbie": make_person(org, "worker", given_name="Nia"),
    }
    sign_off(people["worker"], org)
    sign_off(people["worker2"], org)
    return org, people


@pytest.fixture
def issue(db, key_dir, public_url, keys):
    def do(person, principal=None, org_id=None, **kw):
        return services.issue_passport(db, principal, person.id, org_id, key_dir=key_dir, public_url=public_url, **kw)

    return do
