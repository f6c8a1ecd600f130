"""Status lists: random indexes, the three purposes, the signed W3C credential, HTTP caching and CORS."""
from __future__ import annotations

import gzip

import jwt
import pytest

from passport.certificates import keys as keyring, services, status
from passport.certificates.models import LIST_SIZE, StatusList
from passport.errors import Conflict, NotFound, PermissionDenied, ValidationError


def fetch_bits(client, p, purpose, key):
    resp = client.get(f"/status/{p.status_list_id}/{purpose}")
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert resp.headers["Cache-Control"] == f"public, max-age={status.TTL_SECONDS}"
    token = resp.get_data(as_text=True)
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": key.kid, "typ": "statuslist+jwt"}
    claims = jwt.decode(token, jwt.PyJWK(keyring.public_jwk(key)).key, algorithms=["ES256"])
    url = f"https://passport.test/status/{p.status_list_id}/{purpose}"
    assert claims["id"] == url and claims["iss"] == "https://passport.test"
    assert claims["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert claims["ttl"] == status.TTL_SECONDS * 1000 and claims["exp"] - claims["iat"] == status.TTL_SECONDS
    subject = claims["credentialSubject"]
    assert subject == {"id": url + "#list", "type": "BitstringStatusList", "statusPurpose": purpose,
                       "encodedList": subject["encodedList"]}
    bits = status.decode_list(subject["encodedList"])
    assert len(bits) * 8 == LIST_SIZE >= 131_072
    return bits


def test_revocation_changes_the_published_bit(client, db, home, issue, keys, principal):
    org, people = home
    p = issue(people["worker"], org_id=org.id)
    other = issue(people["worker2"], org_id=org.id)
    assert not status.bit(fetch_bits(client, p, "revocation", keys["passport"]), p.status_index)
    services.revoke(db, principal(people["manager"]), p.id, "fraud")
    bits = fetch_bits(client, p, "revocation", keys["passport"])
    assert status.bit(bits, p.status_index)
    if other.status_list_id == p.status_list_id:
        assert not status.bit(bits, other.status_index)
    assert sum(bin(b).count("1") for b in bits) == 1
    assert services.passport_status(db, p.jti)["state"] == "revoked"
    assert services.passport_status(db, p.jti)["reason"] == "fraud"


def test_suspension_and_refresh_lists(client, db, home, issue, keys, principal):
    org, people = home
    lead = principal(people["lead"])
    p = issue(people["worker"], org_id=org.id)
    services.suspend(db, lead, p.id)
    assert status.bit(fetch_bits(client, p, "suspension", keys["passport"]), p.status_index)
    assert services.passport_status(db, p.jti)["reason_label"] == "Under investigation"
    with pytest.raises(Conflict, match="suspended"):
        issue(people["worker"], org_id=org.id)
    services.reinstate(db, lead, p.id)
    assert not status.bit(fetch_bits(client, p, "suspension", keys["passport"]), p.status_index)
    new = issue(people["worker"], org_id=org.id)
    assert status.bit(fetch_bits(client, p, "refresh", keys["passport"]), p.status_index)
    assert services.passport_status(db, p.jti)["superseded_by"] == new.jti
    assert services.passport_status(db, new.jti)["state"] == "valid"
    assert services.passport_status(db, "nope") is None


def test_status_list_lists_are_gzip_and_small(db, home, issue):
    org, people = home
    p = issue(people["worker"], org_id=org.id)
    bits = status.status_bits(db, p.status_list_id, "revocation")
    encoded = status.encode_list(bits)
    assert encoded.startswith("u") and "=" not in encoded and len(encoded) < 400
    assert status.decode_list(encoded) == bits == bytes(LIST_SIZE // 8)
    assert gzip.decompress(status.decode_list.__globals__["base64"].urlsafe_b64decode(
        encoded[1:] + "=" * (-len(encoded[1:]) % 4))) == bits


def test_unknown_list_or_purpose_is_404(client, home, issue):
    org, people = home
    p = issue(people["worker"], org_id=org.id)
    assert client.get(f"/status/{p.status_list_id}/message").status_code == 404
    assert client.get("/status/999999/revocation").status_code == 404
    assert client.get("/status/abc/revocation").status_code == 404


def test_random_unused_indexes_and_new_list_when_half_full(db, home, issue, monkeypatch):
    org, people = home
    a = issue(people["worker"], org_id=org.id)
    lst = db.get(StatusList, a.status_list_id)
    # Random: allocations spread over the whole list, not handed out in sequence.
    picks = [status.allocate_index(db)[1] for _ in range(200)]
    assert max(picks) - min(picks) > LIST_SIZE // 4 and picks != sorted(picks)
    # Unused: when the random draw lands on an index a passport holds, it draws again.
    free = (a.status_index + 1) % LIST_SIZE
    draws = iter([a.status_index, a.status_index, free])
    monkeypatch.setattr(status.secrets, "randbelow", lambda n: next(draws))
    assert status.allocate_index(db) == (lst.id, free)
    monkeypatch.undo()
    # Half full: a new list is started.
    lst.allocated = LIST_SIZE // 2
    list_id, _ = status.allocate_index(db)
    assert list_id != lst.id


def test_revoking_twice_is_harmless(db, home, issue, principal):
    from passport.audit import entries_for

    org, people = home
    p = issue(people["worker"], org_id=org.id)
    manager = principal(people["manager"])
    services.revoke(db, manager, p.id, "issued_in_error")
    first_at = p.revoked_at
    services.revoke(db, manager, p.id, "fraud")
    assert p.revoked_at == first_at and p.revocation_reason == "issued_in_error"
    assert sum(1 for e in entries_for(db) if e.action == "passport.revoke" and e.object_id == str(p.id)) == 1
    with pytest.raises(Conflict):
        services.reinstate(db, manager, p.id)
    with pytest.raises(Conflict):
        services.suspend(db, manager, p.id)


def test_forged_revocation_from_another_organisation_is_refused(db, home, issue, principal, make_org, make_person):
    org, people = home
    p = issue(people["worker"], org_id=org.id)
    rival = make_org()
    rival_manager = make_person(rival, ["registered_manager", "org_admin", "training_lead"])
    for action in (lambda: services.revoke(db, principal(rival_manager), p.id, "fraud"),
                   lambda: services.suspend(db, principal(rival_manager), p.id),
                   lambda: services.reinstate(db, principal(rival_manager), p.id),
                   lambda: services.revoke(db, principal(people["worker"]), p.id, "fraud"),
                   lambda: services.revoke(db, principal(people["assessor"]), p.id, "fraud"),
                   # a token scoped to a worker role cannot act as the manager's other roles
                   lambda: services.revoke(db, principal(people["manager"], org.id, "worker"), p.id, "fraud")):
        with pytest.raises(PermissionDenied):
            action()
    assert p.revoked_at is None and p.suspended_at is None
    with pytest.raises(ValidationError):
        services.revoke(db, principal(people["manager"]), p.id, "because")
    with pytest.raises(NotFound):
        services.revoke(db, principal(people["manager"]), 987654, "fraud")


def test_scheme_issued_passport_only_scheme_admin_revokes(db, home, issue, principal, make_org, make_person):
    org, people = home
    p = issue(people["worker"])  # principal None, no org: the scheme
    assert p.org_id is None
    with pytest.raises(PermissionDenied):
        services.revoke(db, principal(people["manager"]), p.id, "fraud")
    admin = make_person(make_org(), "scheme_admin")
    services.revoke(db, principal(admin), p.id, "withdrawn_by_employer")
    assert p.state() == "revoked"
