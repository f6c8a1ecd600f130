"""Signing keys: files outside the database, thumbprints, life cycle, the JWKS, windows."""
from __future__ import annotations

import os
import stat
from datetime import timedelta

import pytest

from passport import audit
from passport.certificates import keys as keyring
from passport.certificates.models import SigningKey
from passport.db import utcnow
from passport.errors import Conflict

ACTOR = audit.Actor.system("tests")
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def test_rfc7638_thumbprint_vector():
    # RFC 7638 section 3.1 example
    jwk = {"kty": "RSA", "e": "AQAB", "n": (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMs"
        "tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn"
        "1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")}
    assert keyring.thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_create_writes_private_file_0600_in_0700_dir(db, key_dir):
    key, _ = keyring.rotate_key(db, key_dir, "passport", actor=ACTOR)
    path = os.path.join(key_dir, key.file_name)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(key_dir).st_mode) == 0o700
    assert key.alg == "ES256" and key.kid == keyring.thumbprint(key.public_jwk)
    assert not PRIVATE_MEMBERS & set(key.public_jwk)
    private = keyring.private_key_for(key, key_dir)
    assert keyring.thumbprint(keyring.jwk_of(private.public_key())) == key.kid
    with open(path, "rb") as fh:
        assert b"BEGIN PRIVATE KEY" in fh.read()


def test_openbadge_key_is_rs256(db, key_dir):
    key, _ = keyring.rotate_key(db, key_dir, "openbadge", actor=ACTOR)
    assert key.alg == "RS256" and key.public_jwk["kty"] == "RSA"


def test_encrypted_at_rest_with_environment_key(db, key_dir, monkeypatch):
    monkeypatch.setenv(keyring.ENV_ENCRYPTION_KEY, "correct horse battery staple 2026")
    key, _ = keyring.rotate_key(db, key_dir, "passport", actor=ACTOR)
    with open(os.path.join(key_dir, key.file_name), "rb") as fh:
        assert b"BEGIN ENCRYPTED PRIVATE KEY" in fh.read()
    keyring._cache.clear()
    assert keyring.private_key_for(key, key_dir) is not None
    keyring._cache.clear()
    monkeypatch.setenv(keyring.ENV_ENCRYPTION_KEY, "the wrong passphrase")
    with pytest.raises(keyring.KeyUnavailable, match="PASSPORT_KEY_ENCRYPTION_KEY"):
        keyring.private_key_for(key, key_dir)
    monkeypatch.delenv(keyring.ENV_ENCRYPTION_KEY)
    with pytest.raises(keyring.KeyUnavailable):
        keyring.private_key_for(key, key_dir)


def test_create_refuses_second_active_key(db, key_dir, keys):
    with pytest.raises(Conflict, match="rotate"):
        keyring.create_key(db, key_dir, "passport", actor=ACTOR)


def test_rotation_retires_old_key_and_keeps_it_published(db, key_dir, keys):
    old = keys["passport"]
    new, retired = keyring.rotate_key(db, key_dir, "passport", actor=ACTOR)
    assert retired.id == old.id and old.status == "retired" and old.active_until == new.active_from
    assert keyring.active_key(db, "passport").id == new.id
    published = {k["kid"]: k for k in keyring.public_jwks(db)["keys"]}
    assert published[old.kid]["status"] == "retired"
    assert published[old.kid]["exp"] == int(old.active_until.timestamp())
    assert published[new.kid]["status"] == "active" and published[new.kid]["exp"] is None
    # iat inside the old window is fine, after it is not
    assert keyring.key_window_ok(old, old.active_from)
    assert not keyring.key_window_ok(old, old.active_until + timedelta(seconds=keyring.LEEWAY + 1))
    assert not keyring.key_window_ok(new, new.active_from - timedelta(seconds=keyring.LEEWAY + 1))
    assert keyring.retire_key(db, old.kid, actor=ACTOR).status == "retired"  # twice: harmless


def test_destroy_retired_private_file(db, key_dir, keys):
    old = keys["passport"]
    keyring.rotate_key(db, key_dir, "passport", actor=ACTOR)
    assert keyring.destroy_private_key(old, key_dir)
    assert not os.path.exists(os.path.join(key_dir, old.file_name))
    with pytest.raises(keyring.KeyUnavailable, match="missing"):
        keyring.private_key_for(old, key_dir)
    with pytest.raises(Conflict):
        keyring.destroy_private_key(keyring.active_key(db, "passport"), key_dir)


def test_compromised_key_fails_everything(db, key_dir, keys):
    key = keys["passport"]
    keyring.compromise_key(db, key.kid, actor=ACTOR)
    assert key.status == "compromised" and key.compromised_at is not None
    assert not keyring.key_window_ok(key, key.active_from)
    with pytest.raises(keyring.KeyUnavailable, match="compromised"):
        keyring.private_key_for(key, key_dir)
    with pytest.raises(keyring.KeyUnavailable, match="keys create --purpose passport"):
        keyring.active_key(db, "passport")
    assert {k["kid"]: k["status"] for k in keyring.public_jwks(db)["keys"]}[key.kid] == "compromised"


def test_expired_key_gives_clear_message(db, key_dir):
    for k in db.query(SigningKey).filter_by(purpose="passport", status="active"):
        keyring.retire_key(db, k.kid, actor=ACTOR)
    keyring.create_key(db, key_dir, "passport", actor=ACTOR, active_from=utcnow() - timedelta(days=400),
                       active_until=utcnow() - timedelta(days=1))
    with pytest.raises(keyring.KeyUnavailable, match="has expired.*keys rotate"):
        keyring.active_key(db, "passport")


def test_key_actions_are_audited_without_secrets(db, key_dir):
    from passport.audit import entries_for

    key, _ = keyring.rotate_key(db, key_dir, "passport", actor=ACTOR)
    entry = next(e for e in entries_for(db) if e.action == "signing_key.create" and e.object_id == key.kid)
    assert "PRIVATE" not in entry.details and '"d"' not in entry.details
