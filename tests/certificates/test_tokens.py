"""The issuer side of the negative list in passport-token.md: what we sign, and how."""
from __future__ import annotations

import base64
import json
import logging
import zlib

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from passport.certificates import keys as keyring, services, tokens, wire
from passport.errors import ValidationError

ALLOWED_CLAIMS = {"iss", "jti", "iat", "exp", "v", "n", "cc", "dt", "ms", "q", "st"}


class CompressedPyJWT(jwt.PyJWT):
    """A strict CCP reader (the pattern from PyJWT's own tests): version 2 uncompressed, version 1 DEF
    only, capped inflate."""

    def _decode_payload(self, decoded):
        if "zip" not in decoded["header"]:
            claims = json.loads(decoded["payload"])
            if claims.get("v") != 2:
                raise jwt.DecodeError("zip")
            return claims
        if decoded["header"].get("zip") != "DEF":
            raise jwt.DecodeError("zip")
        d = zlib.decompressobj(-15)
        raw = d.decompress(decoded["payload"], 65536)
        if d.unconsumed_tail:
            raise jwt.DecodeError("too large")
        return json.loads(raw)


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def public_key(key):
    return jwt.PyJWK(keyring.public_jwk(key)).key


def test_token_header_claims_and_signature_shape(home, issue, public_url):
    org, people = home
    p = issue(people["worker"], org_id=org.id)
    head, payload, sig = p.token.split(".")
    assert json.loads(_b64(head)) == {"alg": "ES256", "kid": p.key.kid, "typ": "ccp+jwt"}
    assert len(_b64(sig)) == 64  # raw r||s, never DER
    claims = json.loads(_b64(payload))
    assert _b64(payload) == wire.canonical(claims)  # the canonical form the packed QR rebuilds
    assert set(claims) <= ALLOWED_CLAIMS
    assert claims["iss"] == public_url and claims["v"] == 2 and claims["n"] == {"g": "Amelia", "f": "Okonkwo-Richardson"}
    assert claims["exp"] > claims["iat"] and claims["st"] == [p.status_list_id, p.status_index]
    assert len(claims["jti"]) == 16 and len(_b64(claims["jti"])) == 12  # 96 random bits
    # A strict verifier with the published key accepts it.
    got = CompressedPyJWT().decode(p.token, public_key(p.key), algorithms=["ES256"], issuer=public_url, leeway=300,
                                   options={"require": ["iss", "jti", "iat", "exp", "v"]})
    assert got == claims == services.passport_claims(None, p)
    assert services.peek_unverified(p.token) == (json.loads(_b64(head)), claims)


def test_jti_is_random_not_derived(home, issue):
    org, people = home
    a = issue(people["worker"], org_id=org.id)
    b = issue(people["worker"], org_id=org.id)
    assert a.jti != b.jti and a.status_index != b.status_index or a.status_list_id != b.status_list_id


def test_never_signed_with_another_algorithm(db, key_dir, keys, home, issue):
    org, people = home
    p = issue(people["worker"], org_id=org.id)
    with pytest.raises(ValidationError, match="ES256"):
        tokens.sign_token(p.claims, keys["openbadge"], key_dir)
    # alg:none and HS256-with-the-public-key are not ours and do not verify
    pub = public_key(p.key)
    none_token = jwt.api_jws.encode(b"{}", None, algorithm="none")
    with pytest.raises(jwt.PyJWTError):
        CompressedPyJWT().decode(none_token, pub, algorithms=["ES256"])
    pem = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(jwt.PyJWTError):
        jwt.api_jws.encode(b"{}", pem, algorithm="HS256")
    for i in range(0, len(p.token), 37):  # tampering anywhere breaks it
        ch = p.token[i]
        if ch == ".":
            continue
        forged = p.token[:i] + ("A" if ch != "A" else "B") + p.token[i + 1:]
        with pytest.raises((jwt.PyJWTError, ValueError, zlib.error)):
            CompressedPyJWT().decode(forged, pub, algorithms=["ES256"], options={"verify_exp": False})


def test_refuses_to_sign_outside_the_key_window(db, key_dir, keys, home, issue):
    org, people = home
    p = issue(people["worker"], org_id=org.id)
    claims = dict(p.claims, iat=int(keys["passport"].active_from.timestamp()) - 3600)
    with pytest.raises(keyring.KeyUnavailable, match="not active"):
        tokens.sign_token(claims, keys["passport"], key_dir)
    keyring.compromise_key(db, keys["passport"].kid)
    with pytest.raises(keyring.KeyUnavailable):
        tokens.sign_token(p.claims, keys["passport"], key_dir)


def test_issue_refused_without_key(db, key_dir, public_url, home):
    org, people = home
    for purpose in ("passport",):
        key = keyring.current_key(db, purpose)
        if key is not None:
            keyring.retire_key(db, key.kid)
    with pytest.raises(keyring.KeyUnavailable, match="keys create --purpose passport"):
        services.issue_passport(db, None, people["worker"].id, org.id, key_dir=key_dir, public_url=public_url)
    assert services.current_passport(db, people["worker"].id) is None


def test_names_are_nfc(home, issue, db):
    org, people = home
    people["worker"].given_name = "Zoe\u0301"  # decomposed e + combining acute
    p = issue(people["worker"], org_id=org.id)
    assert p.claims["n"]["g"] == "Zo\u00e9"


def test_peek_unverified_rejects_junk():
    for junk in ("", "a.b", "a.b.c.d", "!!!.@@@.###", "x" * 5000, "eyJ9.e30.AA", None, b"abc"):
        with pytest.raises(tokens.TokenError):
            tokens.peek_unverified(junk)
    bomb = base64.urlsafe_b64encode(tokens.deflate(b"[" + b"0," * 200000 + b"0]")).rstrip(b"=").decode()
    header = base64.urlsafe_b64encode(b'{"zip":"DEF"}').rstrip(b"=").decode()
    with pytest.raises(tokens.TokenError, match="64 KiB"):
        tokens.peek_unverified(f"{header}.{bomb}.AA")


def test_no_private_material_in_responses_or_logs(client, login, db, key_dir, keys, home, issue, api_token, caplog):
    caplog.set_level(logging.DEBUG)
    org, people = home
    p = issue(people["worker"], org_id=org.id)
    secrets_ = []
    for key in keys.values():
        priv = keyring.private_key_for(key, key_dir)
        pem = priv.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()
        secrets_.append(pem.splitlines()[1][:40])
        jwk = json.loads(jwt.algorithms.get_default_algorithms()[key.alg].to_jwk(priv))
        secrets_ += [jwk[m] for m in ("d", "p", "q") if m in jwk]
    login(client, people["worker"])
    headers = api_token(people["manager"], org.id, "registered_manager")
    bodies = [client.get("/.well-known/jwks.json").get_data(as_text=True),
              client.get(f"/keys/{keys['passport'].kid}.json").get_data(as_text=True),
              client.get(f"/keys/{keys['openbadge'].kid}.json").get_data(as_text=True),
              client.get(f"/status/{p.status_list_id}/revocation").get_data(as_text=True),
              client.get("/certificates/my").get_data(as_text=True),
              client.get(f"/certificates/passports/{p.id}").get_data(as_text=True),
              client.get(f"/certificates/passports/{p.id}/download/openbadge.json").get_data(as_text=True),
              client.get(f"/api/v1/passports/{p.id}", headers=headers).get_data(as_text=True),
              client.get(f"/api/v1/passports/{p.id}/openbadge.jwt", headers=headers).get_data(as_text=True)]
    jwks = json.loads(bodies[0])
    assert all(not {"d", "p", "q", "dp", "dq", "qi", "k"} & set(k) for k in jwks["keys"])
    everything = "\n".join(bodies) + "\n".join(r.getMessage() for r in caplog.records)
    for s in secrets_:
        assert s not in everything
    assert "PRIVATE KEY" not in everything
