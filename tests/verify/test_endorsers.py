"""Endorsements belong to the scheme that issued: a passport from another trusted issuer shows the
endorsers our trust data records for *that* issuer, or none -- never this scheme's own partners, and
never anything the token says. Checked through the core, the bundle, the API, the CLI and the pages."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import ec

from passport.core.access import Principal
from passport.errors import PermissionDenied, ValidationError
from passport.verify import jose, settings, trust
from passport.verify.models import TrustedIssuer
from passport.verify.trustdata import bundle_payload, keys_from_jwks, parse_bundle, sign_bundle
from passport.verify.verifier import verify

from .tokens import SigningIssuer

OURS = "Wessex Valley NHS Foundation Trust (test)"
THEIRS = ["Kennet Valley NHS Trust", "Kennet Care Providers Association"]


def _row(db, iss):
    return db.scalar(sa.select(TrustedIssuer).where(TrustedIssuer.iss == iss))


@pytest.fixture
def endorsed(db, other_issuer, scheme_admin):
    trust.set_endorsers(db, Principal(person=scheme_admin), _row(db, other_issuer.iss).id, THEIRS)
    return other_issuer


def test_other_issuer_without_endorsers_never_shows_ours(client, scheme, other_issuer):
    body = client.post("/api/v1/verify", json={"token": other_issuer.sign()}).get_json()
    assert body["result"] == "valid"
    assert body["issuer"]["endorsers"] == []
    assert OURS not in json.dumps(body)


def test_other_issuer_shows_its_own_endorsers(client, scheme, endorsed):
    body = client.post("/api/v1/verify", json={"token": endorsed.sign()}).get_json()
    assert body["issuer"]["endorsers"] == THEIRS
    assert body["issuer"]["scheme"] == "Kennet Valley Care Group"


def test_own_passport_shows_our_partners(client, issue, worker, home, endorsed):
    body = client.post("/api/v1/verify", json={"token": issue(worker, home).token}).get_json()
    assert body["result"] == "valid" and body["issuer"]["endorsers"] == [OURS]


def test_endorsers_never_taken_from_the_token(client, scheme, endorsed):
    token = endorsed.sign(endorsed.claims(endorsers=["Totally Real NHS Trust"], e=["Fake Org"]))
    body = client.post("/api/v1/verify", json={"token": token}).get_json()
    assert body["result"] == "valid" and body["issuer"]["endorsers"] == THEIRS
    assert "Totally Real" not in json.dumps(body) and "Fake Org" not in json.dumps(body)


def test_bundle_carries_endorsers_per_issuer(client, keys, scheme, endorsed):
    key_doc = client.get("/.well-known/ccp-trust-key.json").get_json()
    text = client.get("/.well-known/ccp-trust-bundle.jwt").get_data(as_text=True)
    payload = json.loads(jose.b64url_decode(text.split(".")[1]))
    assert payload["v"] == 2
    entries = {e["iss"]: e for e in payload["issuers"]}
    assert entries[endorsed.iss]["endorsers"] == [{"name": n} for n in THEIRS]
    assert entries["https://passport.test"]["endorsers"] == [{"name": OURS}]
    store = parse_bundle(text, keys_from_jwks([key_doc]))
    assert store.issuers[endorsed.iss].endorsers == THEIRS
    result = verify(endorsed.sign(), store, endorsed.status_source())
    assert result.state == "valid" and result.issuer["endorsers"] == THEIRS


def _signed(payload):
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = jose.public_jwk(private.public_key())
    return sign_bundle(private, jwk["kid"], payload), keys_from_jwks([jwk])


def test_version_1_bundle_gives_scheme_endorsers_to_its_own_issuer_only():
    ours, theirs = SigningIssuer("https://scheme.test", "Our scheme"), SigningIssuer("https://theirs.test", "Theirs")
    store = ours.store(endorsers=())
    store.issuers[theirs.iss] = theirs.trusted()
    payload = bundle_payload(store, ours.iss, {"name": "Our scheme", "endorsers": ["Our partner"]})
    payload.pop("v")
    for entry in payload["issuers"]:
        entry.pop("endorsers")
    parsed = parse_bundle(*_signed(payload))
    assert parsed.issuers[ours.iss].endorsers == ["Our partner"]
    assert parsed.issuers[theirs.iss].endorsers == []
    assert verify(theirs.sign(), parsed, theirs.status_source()).issuer["endorsers"] == []


@pytest.mark.parametrize("endorsers", [["not an object"], [{"name": ""}], [{"name": 3}], "Org",
                                       [{"name": f"Org {i}"} for i in range(21)]])
def test_bundle_with_malformed_endorsers_refused(endorsers):
    issuer = SigningIssuer()
    payload = bundle_payload(issuer.store(), issuer.iss, {"name": "S"})
    payload["issuers"][0]["endorsers"] = endorsers
    with pytest.raises(jose.JoseError):
        parse_bundle(*_signed(payload))


def test_unknown_bundle_version_refused():
    issuer = SigningIssuer()
    payload = {**bundle_payload(issuer.store(), issuer.iss, {"name": "S"}), "v": 3}
    with pytest.raises(jose.JoseError):
        parse_bundle(*_signed(payload))


def test_set_endorsers_rules(app, db, other_issuer, scheme_admin, make_person, home):
    row = _row(db, other_issuer.iss)
    admin = Principal(person=scheme_admin)
    with pytest.raises(PermissionDenied):
        trust.set_endorsers(db, Principal(person=make_person(home, "org_admin")), row.id, ["X"])
    with pytest.raises(ValidationError) as exc:
        trust.set_endorsers(db, admin, row.id, ["x" * 201])
    assert "endorsers" in exc.value.fields
    with pytest.raises(ValidationError):
        trust.set_endorsers(db, admin, row.id, [f"Org {i}" for i in range(21)])
    trust.set_endorsers(db, admin, row.id, "  Org B \n\nOrg A\nOrg B\n")
    assert row.endorser_names == ["Org B", "Org A"]
    trust.set_endorsers(db, admin, row.id, ["Org A"])
    db.expire_all()
    assert _row(db, other_issuer.iss).endorser_names == ["Org A"]
    assert trust.trust_store(db, settings(app), fresh=True).issuers[other_issuer.iss].endorsers == ["Org A"]


def test_add_issuer_with_endorsers(app, db, scheme_admin, keys):
    issuer = SigningIssuer("https://third.test")
    row = trust.add_issuer(db, Principal(person=scheme_admin), settings(app), iss=issuer.iss, name="Third",
                           jwks_text=json.dumps(issuer.jwks()), endorsers="Third NHS Trust\nThird Care Association")
    assert row.endorser_names == ["Third NHS Trust", "Third Care Association"]


def test_trust_page_records_endorsers(client, db, login, scheme_admin, make_person, home, keys, scheme, other_issuer):
    row = _row(db, other_issuer.iss)
    login(client, make_person(home, ["org_admin", "training_lead"]))
    assert client.post(f"/verify/trust/{row.id}/endorsers", data={"endorsers": "X"}).status_code == 403
    login(client, scheme_admin)
    resp = client.post(f"/verify/trust/{row.id}/endorsers", data={"endorsers": "\n".join(THEIRS)})
    assert resp.status_code == 302
    page = client.get("/verify/trust").get_data(as_text=True)
    assert all(n in page for n in THEIRS)
    assert client.post(f"/verify/trust/{row.id}/endorsers", data={"endorsers": "X"}, csrf=False).status_code == 400
    issuer = SigningIssuer("https://fifth.test")
    assert client.post("/verify/trust", data={"iss": issuer.iss, "name": "Fifth", "jwks": json.dumps(issuer.jwks()),
                                              "endorsers": "Fifth Trust"}).status_code == 302
    assert _row(db, issuer.iss).endorser_names == ["Fifth Trust"]


def test_trust_summary_lists_endorsers_per_issuer(client, scheme, endorsed):
    body = client.get("/api/v1/verify/trust").get_json()
    by_iss = {i["iss"]: i for i in body["issuers"]}
    assert by_iss[endorsed.iss]["endorsers"] == THEIRS
    assert by_iss["https://passport.test"]["endorsers"] == [OURS]


def test_cli_check_and_trust_endorsers(app, db, scheme, other_issuer):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["verify", "check", "--no-log", other_issuer.sign()])
    assert json.loads(out.output)["issuer"]["endorsers"] == []
    out = runner.invoke(args=["verify", "trust-endorsers", other_issuer.iss, "--endorser", THEIRS[0],
                              "--endorser", THEIRS[1]])
    assert out.exit_code == 0, out.output
    assert THEIRS[0] in out.output
    out = runner.invoke(args=["verify", "check", "--no-log", other_issuer.sign()])
    assert json.loads(out.output)["issuer"]["endorsers"] == THEIRS
    assert THEIRS[1] in runner.invoke(args=["verify", "trust-list"]).output
    assert runner.invoke(args=["verify", "trust-endorsers", "https://nobody.test"]).exit_code != 0
