"""Trusted issuers, the signed trust bundle and trust key, the same-origin status-list mirror."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from passport.core.access import Principal
from passport.errors import Conflict, PermissionDenied, ValidationError
from passport.verify import settings, trust
from passport.verify.jose import JoseError
from passport.verify.trustdata import keys_from_jwks, parse_bundle, parse_status_list
from passport.verify.verifier import verify

from .tokens import SigningIssuer


def test_bundle_lists_own_and_trusted_issuers_signed_with_trust_key(client, db, keys, scheme, other_issuer):
    resp = client.get("/.well-known/ccp-trust-bundle.jwt")
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "*" and "max-age" in resp.headers["Cache-Control"]
    key_doc = client.get("/.well-known/ccp-trust-key.json").get_json()
    assert key_doc["kid"] == keys["trust"].kid and "d" not in key_doc
    store = parse_bundle(resp.get_data(as_text=True), keys_from_jwks([key_doc]))
    assert set(store.issuers) == {"https://passport.test", other_issuer.iss}
    assert store.issuers[other_issuer.iss].name == "Kennet Valley Care Group"
    assert store.issuers["https://passport.test"].name == "Test Care Passport Scheme"
    assert store.endorsers == ["Wessex Valley NHS Foundation Trust (test)"]
    assert store.expires_at - store.as_of == 7 * 24 * 3600
    assert verify(other_issuer.sign(), store, other_issuer.status_source()).state == "valid"
    # pinning: a bundle checked against some other key is refused
    with pytest.raises(JoseError):
        parse_bundle(resp.get_data(as_text=True), keys_from_jwks(SigningIssuer().jwks()))


def test_no_private_material_in_public_files(client, keys, scheme):
    for url in ("/.well-known/ccp-trust-key.json", "/.well-known/jwks.json", "/api/v1/verify/trust"):
        text = client.get(url).get_data(as_text=True)
        for member in ('"d"', '"p"', '"q"', "PRIVATE KEY"):
            assert member not in text, (url, member)


def test_bundle_without_trust_key_is_a_clear_503(client, db, app):
    from passport.certificates.models import SigningKey

    db.execute(sa.delete(SigningKey).where(SigningKey.purpose == "trust"))
    resp = client.get("/.well-known/ccp-trust-bundle.jwt")
    assert resp.status_code == 503 and "trust" in resp.get_data(as_text=True)
    assert client.get("/.well-known/ccp-trust-key.json").status_code == 503


def test_add_issuer_rules(app, db, scheme_admin, keys, make_person, home):
    s = settings(app)
    admin = Principal(person=scheme_admin)
    issuer = SigningIssuer("https://third.test")
    jwks = json.dumps(issuer.jwks())
    with pytest.raises(PermissionDenied):
        trust.add_issuer(db, Principal(person=make_person(home, ["org_admin", "training_lead"])), s,
                         iss=issuer.iss, name="X", jwks_text=jwks)
    with pytest.raises(ValidationError) as exc:
        trust.add_issuer(db, admin, s, iss="https://passport.test", name="Us", jwks_text=jwks)
    assert "own" in exc.value.fields["iss"]
    with pytest.raises(ValidationError):
        trust.add_issuer(db, admin, s, iss="ftp://third.test", name="X", jwks_text=jwks)
    with pytest.raises(ValidationError):
        trust.add_issuer(db, admin, s, iss=issuer.iss, name="", jwks_text=jwks)
    with pytest.raises(ValidationError) as exc:
        trust.add_issuer(db, admin, s, iss=issuer.iss, name="X", jwks_text='{"keys": [{"kty": "EC", "d": "x"}]}')
    assert "private" in exc.value.message
    with pytest.raises(ValidationError):
        trust.add_issuer(db, admin, s, iss=issuer.iss, name="X", jwks_text="not json")
    row = trust.add_issuer(db, admin, s, iss=issuer.iss + "/", name="Third", jwks_text=jwks)
    assert row.iss == issuer.iss and row.jwks_source == "pasted"
    with pytest.raises(Conflict):
        trust.add_issuer(db, admin, s, iss=issuer.iss, name="Again", jwks_text=jwks)
    trust.remove_issuer(db, admin, row.id)
    assert verify(issuer.sign(), trust.trust_store(db, s), issuer.status_source()).state == "untrusted_issuer"
    again = trust.add_issuer(db, admin, s, iss=issuer.iss, name="Third again", jwks_text=jwks)
    assert again.id == row.id and again.removed_at is None


def test_http_issuers_refused_in_production(app, db, scheme_admin):
    from dataclasses import replace

    s = replace(settings(app), allow_http=False)
    with pytest.raises(ValidationError) as exc:
        trust.add_issuer(db, Principal(person=scheme_admin), s, iss="http://passport.example.org", name="X",
                         jwks_text=json.dumps(SigningIssuer().jwks()))
    assert "https" in exc.value.fields["iss"]


def test_unreachable_issuer_is_a_clean_error(app, db, scheme_admin, monkeypatch):
    from passport.verify import fetch

    def offline(url, **kw):
        raise fetch.FetchError(f"could not reach {url}")

    monkeypatch.setattr(fetch, "get", offline)
    with pytest.raises(ValidationError) as exc:
        trust.add_issuer(db, Principal(person=scheme_admin), settings(app), iss="https://unreachable.test", name="X")
    assert "could not be fetched" in exc.value.message


def test_failed_key_refresh_keeps_old_keys(app, db, other_issuer, scheme_admin, monkeypatch):
    from passport.verify import fetch
    from passport.verify.models import TrustedIssuer

    monkeypatch.setattr(fetch, "get", lambda url, **kw: (_ for _ in ()).throw(fetch.FetchError("down")))
    row = db.scalar(sa.select(TrustedIssuer).where(TrustedIssuer.iss == other_issuer.iss))
    with pytest.raises(ValidationError):
        trust.update_keys(db, Principal(person=scheme_admin), settings(app), row.id)
    assert "down" in row.last_refresh_error
    assert verify(other_issuer.sign(), trust.trust_store(db, settings(app)), other_issuer.status_source()).state == "valid"


def test_key_rotation_by_pasting(app, db, other_issuer, scheme_admin):
    from passport.verify.models import TrustedIssuer

    old_token = other_issuer.sign()
    newer = SigningIssuer(other_issuer.iss)
    old_jwk = {**other_issuer.jwk(), "status": "retired", "exp": other_issuer.claims()["iat"] + 3600}
    row = db.scalar(sa.select(TrustedIssuer).where(TrustedIssuer.iss == other_issuer.iss))
    trust.update_keys(db, Principal(person=scheme_admin), settings(app), row.id,
                      json.dumps({"keys": [old_jwk, newer.jwk()]}))
    store = trust.trust_store(db, settings(app))
    assert verify(old_token, store, other_issuer.status_source()).state == "valid"
    assert verify(newer.sign(), store, other_issuer.status_source()).state == "valid"


def test_status_list_mirror_endpoint(client, db, issue, worker, home, other_issuer):
    p = issue(worker, home)
    own = client.get(f"/v/status-list?iss=https://passport.test&list={p.status_list_id}&purpose=revocation")
    assert own.status_code == 200 and own.headers["Access-Control-Allow-Origin"] == "*"
    store = trust.trust_store(db, settings())
    snap = parse_status_list(own.get_data(as_text=True), store.issuers["https://passport.test"], "revocation",
                             p.status_list_id)
    assert snap.bit(p.status_index) is False
    theirs = client.get(f"/v/status-list?iss={other_issuer.iss}&list=1&purpose=suspension")
    assert theirs.status_code == 200
    parse_status_list(theirs.get_data(as_text=True), other_issuer.trusted(), "suspension", 1)
    for bad in ("iss=https://unknown.test&list=1&purpose=revocation", "iss=https://passport.test&list=x&purpose=revocation",
                "iss=https://passport.test&list=1&purpose=other", "iss=https://passport.test&list=99999&purpose=refresh",
                "list=-1&purpose=refresh"):
        assert client.get("/v/status-list?" + bad).status_code == 404, bad


def test_trust_page_for_scheme_admins_only(client, db, login, scheme_admin, make_person, home, keys, scheme):
    login(client, make_person(home, ["org_admin", "training_lead", "registered_manager"]))
    assert client.get("/verify/trust").status_code == 403
    login(client, scheme_admin)
    page = client.get("/verify/trust")
    assert page.status_code == 200 and "Trusted issuers" in page.get_data(as_text=True)
    issuer = SigningIssuer("https://fourth.test")
    resp = client.post("/verify/trust", data={"iss": issuer.iss, "name": "Fourth Care", "jwks": json.dumps(issuer.jwks())})
    assert resp.status_code == 302
    page = client.get("/verify/trust").get_data(as_text=True)
    assert "Fourth Care" in page and "https://fourth.test" in page
    bad = client.post("/verify/trust", data={"iss": "nonsense", "name": "X", "jwks": "{}"})
    assert bad.status_code == 400 and "nhsuk-error-summary" in bad.get_data(as_text=True)
    assert client.post("/verify/trust", data={"iss": "https://x.test", "name": "X"}, csrf=False).status_code == 400
    from passport.verify.models import TrustedIssuer

    row = db.scalar(sa.select(TrustedIssuer).where(TrustedIssuer.iss == issuer.iss))
    assert client.post(f"/verify/trust/{row.id}/remove", data={}).status_code == 302
    assert f"data-iss=\"{issuer.iss}\"" not in client.get("/verify/trust").get_data(as_text=True)


def test_page_is_public_with_strict_csp(client, keys, scheme):
    resp = client.get("/v")
    assert resp.status_code == 200
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert "unsafe-inline" not in csp and "http" not in csp
    html = resp.get_data(as_text=True)
    assert "<script>" not in html and "style=" not in html
    assert "data-verification-result" in html and 'rel="manifest"' in html
    sw = client.get("/v/sw.js")
    assert sw.headers["Service-Worker-Allowed"] == "/v" and sw.mimetype == "text/javascript"
    manifest = client.get("/v/manifest.webmanifest").get_json()
    assert manifest["start_url"] == "/v" and manifest["display"] == "standalone"
