"""The pure verifier core against the negative list in the token design note (no app, no database)."""
from __future__ import annotations

import time

import pytest

from passport.verify import jose
from passport.verify.trustdata import StatusSnapshot, StatusUnavailable, TrustStore, keys_from_jwks
from passport.verify.verifier import STATES, extract_token, verify

from .tokens import SigningIssuer, negative_cases, numeric

ISSUER = SigningIssuer()
CASE_NAMES = [c[0] for c in negative_cases(ISSUER)]


@pytest.fixture(scope="module")
def cases():
    """Made when the module's tests run (the leeway cases are time-sensitive)."""
    return {name: (text, expected) for name, text, expected in negative_cases(ISSUER)}


@pytest.mark.parametrize("name", CASE_NAMES)
def test_negative_list(name, cases):
    text, expected = cases[name]
    result = verify(text, ISSUER.store(), ISSUER.status_source())
    assert result.state == expected, (name, result.reason)
    assert result.state in STATES
    if expected == "invalid":
        assert result.passport is None  # nothing from a damaged token is shown as fact
        assert result.reason


def test_valid_token_facts_and_issuer_from_trust_data():
    claims = ISSUER.claims(n={"g": "Zoë", "f": "Ní Bhriain"})
    result = verify(ISSUER.sign(claims), ISSUER.store(), ISSUER.status_source(), task_names={"insulin_pen": "Insulin"})
    assert result.state == "valid", result.reason
    body = result.to_json()
    assert set(body) >= {"result", "reason", "passport", "issuer", "checked_at"}
    assert body["passport"]["holder"]["name"] == "Zoë Ní Bhriain"
    cc = body["passport"]["care_certificate"]
    assert cc == {"framework": "2025", "standards_met": list(range(1, 17)), "standards_total": 16, "complete": True,
                  "awarded_on": "2025-12-01"}
    assert body["passport"]["competencies"] == [{"task": "insulin_pen", "name": "Insulin", "level": "safe_unsupervised",
                                                 "valid_until": "2027-03-01"}]
    assert body["issuer"]["name"] == "Test Issuer" and body["issuer"]["trusted"] is True
    assert body["issuer"]["endorsers"] == ["Wessex Valley NHS Foundation Trust"]
    assert body["status"]["checked"] is True


def test_issuer_name_never_taken_from_the_token():
    token = ISSUER.sign(ISSUER.claims(issuer_name="Totally Real NHS Trust"))
    result = verify(token, ISSUER.store(), ISSUER.status_source())
    assert result.state == "valid" and result.issuer["name"] == "Test Issuer"


def test_every_character_flipped_fails():
    token = ISSUER.sign()
    store, source = ISSUER.store(), ISSUER.status_source()
    from .tokens import _flip

    for i, ch in enumerate(token):
        if ch == ".":
            continue
        assert verify(_flip(token, i), store, source).state in ("invalid", "untrusted_issuer"), i


@pytest.mark.parametrize("form", ["url", "numeric_url", "ccp", "numeric", "whitespace"])
def test_input_forms(form):
    token = ISSUER.sign()
    text = {"url": f"https://passport.test/v#{token}", "numeric_url": f"https://passport.test/v#{numeric(token)}",
            "ccp": "ccp:/" + numeric(token), "numeric": numeric(token), "whitespace": f"\n  {token}\n"}[form]
    assert extract_token(text) == token
    assert verify(text, ISSUER.store(), ISSUER.status_source()).state == "valid"


@pytest.mark.parametrize("purpose,state", [("revocation", "revoked"), ("suspension", "suspended"),
                                           ("refresh", "superseded")])
def test_status_bits(purpose, state):
    issuer = SigningIssuer()
    claims = issuer.claims()
    issuer.set_bit(purpose, claims["st"][1])
    result = verify(issuer.sign(claims), issuer.store(), issuer.status_source())
    assert result.state == state
    assert result.passport["holder"]["family_name"] == "Okonkwo-Richardson"  # genuine: facts still shown
    issuer.set_bit(purpose, claims["st"][1], on=False)
    assert verify(issuer.sign(claims), issuer.store(), issuer.status_source()).state == "valid"


def test_revoked_is_never_merged_with_fake():
    issuer = SigningIssuer()
    claims = issuer.claims()
    issuer.set_bit("revocation", claims["st"][1])
    token = issuer.sign(claims)
    assert verify(token, issuer.store(), issuer.status_source()).state == "revoked"
    h, p, s = token.split(".")
    forged = f"{h}.{issuer.sign(issuer.claims(st=claims['st'], jti=claims['jti'], n={'f': 'X'})).split('.')[1]}.{s}"
    assert verify(forged, issuer.store(), issuer.status_source()).state == "invalid"


def test_status_unavailable_or_stale_is_amber_never_green():
    token = ISSUER.sign()
    result = verify(token, ISSUER.store(), ISSUER.status_source(unavailable=True))
    assert result.state == "valid_status_unknown" and result.status["as_of"] is None
    old = int(time.time()) - 8 * 3600
    result = verify(token, ISSUER.store(), ISSUER.status_source(iat=old, ttl=6 * 3600))
    assert result.state == "valid_status_unknown"
    assert result.status["stale"] is True and result.status["age_seconds"] >= 8 * 3600
    assert result.reason_code == "status_stale" and "8 hours old" in result.reason


def test_stale_status_still_shows_a_revocation():
    issuer = SigningIssuer()
    claims = issuer.claims()
    issuer.set_bit("revocation", claims["st"][1])
    result = verify(issuer.sign(claims), issuer.store(), issuer.status_source(iat=int(time.time()) - 86400))
    assert result.state == "revoked"


def test_compromised_key_rejects_everything_it_signed():
    issuer = SigningIssuer()
    token = issuer.sign()
    issuer.key_meta["status"] = "compromised"
    result = verify(token, issuer.store(), issuer.status_source())
    assert result.state == "invalid" and result.reason_code == "compromised_key"


def test_retired_key_window():
    issuer = SigningIssuer()
    now = int(time.time())
    inside = issuer.sign(issuer.claims(iat=now - 3 * 86400))
    after = issuer.sign(issuer.claims(iat=now - 86400))
    issuer.key_meta.update(status="retired", exp=now - 2 * 86400)
    store = issuer.store()
    assert verify(inside, store, issuer.status_source()).state == "valid"
    result = verify(after, store, issuer.status_source())
    assert result.state == "invalid" and result.reason_code == "outside_key_window"


def test_expired_takes_precedence_over_superseded_but_not_revoked():
    issuer = SigningIssuer()
    now = int(time.time())
    claims = issuer.claims(iat=now - 4 * 365 * 86400, exp=now - 86400)
    issuer.key_meta["nbf"] = now - 5 * 365 * 86400
    issuer.set_bit("refresh", claims["st"][1])
    assert verify(issuer.sign(claims), issuer.store(), issuer.status_source()).state == "expired"
    issuer.set_bit("revocation", claims["st"][1])
    assert verify(issuer.sign(claims), issuer.store(), issuer.status_source()).state == "revoked"


def test_status_index_outside_list_is_not_green():
    issuer = SigningIssuer()
    token = issuer.sign(issuer.claims(st=[1, 2 ** 30]))
    assert verify(token, issuer.store(), issuer.status_source()).state == "valid_status_unknown"


def test_trust_data_age_is_reported():
    issuer = SigningIssuer()
    as_of = int(time.time()) - 3 * 86400
    store = TrustStore(issuers={issuer.iss: issuer.trusted(as_of=as_of)})
    result = verify(issuer.sign(), store, issuer.status_source())
    assert result.state == "valid" and result.trust["age_seconds"] >= 3 * 86400


def test_jwks_import_rules():
    issuer = SigningIssuer()
    jwk = issuer.jwk()
    with pytest.raises(jose.JoseError, match="private"):
        keys_from_jwks({"keys": [{**jwk, "d": "AAAA"}]})
    with pytest.raises(jose.JoseError, match="thumbprint"):
        keys_from_jwks({"keys": [{**jwk, "kid": "made-up"}]})
    with pytest.raises(jose.JoseError, match="curve"):
        keys_from_jwks({"keys": [{**jwk, "y": jwk["x"]}]})
    rsa = {"kty": "RSA", "n": "AQAB", "e": "AQAB", "alg": "RS256", "kid": "r"}
    assert list(keys_from_jwks({"keys": [rsa, jwk]})) == [issuer.kid]  # the OB 3.0 RSA key is skipped
    with pytest.raises(jose.JoseError):
        keys_from_jwks({"keys": "nope"})


def test_status_list_credential_round_trip():
    from passport.verify.trustdata import parse_status_list

    issuer = SigningIssuer()
    issuer.set_bit("revocation", 7)
    snap = parse_status_list(issuer.status_jwt(3, "revocation"), issuer.trusted(), "revocation", 3)
    assert isinstance(snap, StatusSnapshot) and snap.bit(7) is True and snap.bit(8) is False
    with pytest.raises(jose.JoseError):
        parse_status_list(issuer.status_jwt(3, "revocation"), issuer.trusted(), "suspension", 3)
    with pytest.raises(jose.JoseError):
        parse_status_list(issuer.status_jwt(3, "revocation"), SigningIssuer().trusted(), "revocation", 3)
    h, p, s = issuer.status_jwt(3, "revocation").split(".")
    with pytest.raises(jose.JoseError):
        parse_status_list(f"{h}.{p[:-2]}AA.{s}", issuer.trusted(), "revocation", 3)


def test_trust_bundle_round_trip_and_pinning():
    from cryptography.hazmat.primitives.asymmetric import ec

    from passport.verify.trustdata import bundle_payload, parse_bundle, sign_bundle

    issuer = SigningIssuer()
    trust_private = ec.generate_private_key(ec.SECP256R1())
    trust_jwk = jose.public_jwk(trust_private.public_key())
    payload = bundle_payload(issuer.store(), "https://scheme.test", {"name": "S", "endorsers": ["Org A"]})
    bundle = sign_bundle(trust_private, trust_jwk["kid"], payload)
    store = parse_bundle(bundle, keys_from_jwks([trust_jwk]))
    assert store.endorsers == ["Org A"] and issuer.iss in store.issuers
    assert verify(issuer.sign(), store, issuer.status_source()).state == "valid"
    impostor = ec.generate_private_key(ec.SECP256R1())
    forged = sign_bundle(impostor, trust_jwk["kid"], payload)
    with pytest.raises(jose.JoseError):
        parse_bundle(forged, keys_from_jwks([trust_jwk]))


def test_status_source_errors_are_contained():
    def broken(issuer, list_id, purpose):
        raise StatusUnavailable("down")

    assert verify(ISSUER.sign(), ISSUER.store(), broken).state == "valid_status_unknown"
