"""The passports JSON API: who may do what, bad input, renderings."""
from __future__ import annotations

import io

import zxingcpp
from PIL import Image

from passport.certificates import qr


def _issue(client, headers, person, org_id=None):
    body = {"person_id": person.id}
    if org_id is not None:
        body["org_id"] = org_id
    return client.post("/api/v1/passports", json=body, headers=headers)


def test_manager_issues_and_fetches(client, home, keys, api_token, public_url):
    org, people = home
    headers = api_token(people["manager"], org.id, "registered_manager")
    resp = _issue(client, headers, people["worker"])
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["org_id"] == org.id and body["state"] == "valid"
    assert body["care_certificate"]["standards_met"] == list(range(1, 17))
    assert body["qr"]["text"] == qr.qr_text(body["token"], public_url, body["qr"]["mode"])
    got = client.get(f"/api/v1/passports/{body['id']}", headers=headers).get_json()
    assert got["jti"] == body["jti"]
    listing = client.get(f"/api/v1/passports?person_id={people['worker'].id}", headers=headers).get_json()
    assert [p["id"] for p in listing["passports"]] == [body["id"]]
    png = client.get(f"/api/v1/passports/{body['id']}/qr.png", headers=headers)
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))[0].text == body["qr"]["text"]
    assert client.get(f"/api/v1/passports/{body['id']}/qr.svg", headers=headers).mimetype == "image/svg+xml"
    for layout in ("a4", "card"):
        pdf = client.get(f"/api/v1/passports/{body['id']}/passport.pdf?layout={layout}", headers=headers)
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get(f"/api/v1/passports/{body['id']}/passport.pdf?layout=x", headers=headers).status_code == 400
    assert client.get(f"/api/v1/passports/{body['id']}/phone.png", headers=headers).status_code == 200


def test_training_lead_and_admin_may_issue_assessor_and_worker_may_not(client, home, keys, api_token):
    org, people = home
    assert _issue(client, api_token(people["lead"], org.id, "training_lead"), people["worker"]).status_code == 201
    assert _issue(client, api_token(people["manager"], org.id, "org_admin"), people["worker2"]).status_code == 201
    for who, role in (("assessor", "assessor"), ("worker", "worker")):
        resp = _issue(client, api_token(people[who], org.id, role), people["worker"])
        assert resp.status_code == 403, (who, resp.get_json())


def test_other_organisation_refused(client, home, keys, api_token, make_org, make_person):
    org, people = home
    rival = make_org()
    rival_manager = make_person(rival, ["registered_manager"])
    headers = api_token(rival_manager, rival.id, "registered_manager")
    assert _issue(client, headers, people["worker"]).status_code == 403
    assert _issue(client, headers, people["worker"], org.id).status_code == 403
    assert _issue(client, headers, people["worker"], rival.id).status_code == 400  # not their employer
    own = _issue(client, api_token(people["manager"], org.id, "registered_manager"), people["worker"]).get_json()
    for action, body in (("revoke", {"reason": "fraud"}), ("suspend", {}), ("reinstate", {})):
        resp = client.post(f"/api/v1/passports/{own['id']}/{action}", json=body, headers=headers)
        assert resp.status_code == 403, action
    assert client.get(f"/api/v1/passports/{own['id']}", headers=headers).status_code == 403
    assert client.post(f"/api/v1/passports/{own['id']}/reissue", headers=headers).status_code == 403


def test_worker_sees_only_their_own(client, home, issue, api_token):
    org, people = home
    mine = issue(people["worker"], org_id=org.id)
    theirs = issue(people["worker2"], org_id=org.id)
    headers = api_token(people["worker"], org.id, "worker")
    listing = client.get("/api/v1/passports", headers=headers).get_json()
    assert [p["id"] for p in listing["passports"]] == [mine.id]
    assert client.get(f"/api/v1/passports?person_id={people['worker2'].id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/passports/{theirs.id}", headers=headers).status_code == 403
    assert client.get(f"/api/v1/passports/{theirs.id}/qr.png", headers=headers).status_code == 403
    assert client.get(f"/api/v1/passports/{theirs.id}/openbadge.jwt", headers=headers).status_code == 403
    assert client.get(f"/api/v1/passports/{mine.id}/openbadge.json", headers=headers).status_code == 200


def test_revoke_suspend_reinstate_reissue(client, home, issue, api_token):
    org, people = home
    p = issue(people["worker"], org_id=org.id)
    headers = api_token(people["lead"], org.id, "training_lead")
    url = f"/api/v1/passports/{p.id}"
    assert client.post(url + "/suspend", json={}, headers=headers).get_json()["state"] == "suspended"
    assert client.post(url + "/reinstate", headers=headers).get_json()["state"] == "valid"
    new = client.post(url + "/reissue", headers=headers)
    assert new.status_code == 201 and client.get(url, headers=headers).get_json()["state"] == "superseded"
    new_url = f"/api/v1/passports/{new.get_json()['id']}"
    first = client.post(new_url + "/revoke", json={"reason": "withdrawn_by_employer"}, headers=headers)
    again = client.post(new_url + "/revoke", json={"reason": "withdrawn_by_employer"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.get_json()["state"] == "revoked" and again.get_json()["reason_label"] == "Withdrawn by the employer"
    assert "token" not in again.get_json()
    conflict = client.post(new_url + "/reinstate", headers=headers)
    assert conflict.status_code == 409


def test_bad_input_is_4xx_json(client, home, keys, api_token):
    org, people = home
    headers = api_token(people["manager"], org.id, "registered_manager")
    assert client.post("/api/v1/passports", data="x", headers=headers).status_code == 415
    assert client.post("/api/v1/passports", data="{", headers=headers, content_type="application/json").status_code == 400
    for body in ({}, {"person_id": "1"}, {"person_id": True}, {"person_id": 1, "org_id": "x"}):
        resp = client.post("/api/v1/passports", json=body, headers=headers)
        assert resp.status_code == 400 and resp.get_json()["error"] == "validation_error", body
    assert client.post("/api/v1/passports", json={"person_id": 99999999}, headers=headers).status_code == 404
    nothing = _issue(client, headers, people["newbie"])
    assert nothing.status_code == 400 and "nothing to certify" in nothing.get_json()["message"]
    assert client.get("/api/v1/passports?person_id=abc", headers=headers).status_code == 400
    assert client.get("/api/v1/passports/424242", headers=headers).status_code == 404
    p = _issue(client, headers, people["worker"]).get_json()
    resp = client.post(f"/api/v1/passports/{p['id']}/revoke", json={"reason": "bored"}, headers=headers)
    assert resp.status_code == 400 and "reason" in resp.get_json()["fields"]
    assert client.post(f"/api/v1/passports/{p['id']}/suspend", json={"reason": "x"}, headers=headers).status_code == 400
    assert client.get("/api/v1/passports").status_code == 401


def test_no_key_is_503_with_instructions(client, db, home, api_token):
    from passport.certificates import keys as keyring

    org, people = home
    key = keyring.current_key(db, "passport")
    if key is not None:
        keyring.retire_key(db, key.kid)
    resp = _issue(client, api_token(people["manager"], org.id, "registered_manager"), people["worker"])
    assert resp.status_code == 503 and "keys create" in resp.get_json()["message"]


def test_routes_are_in_openapi(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/passports", "/passports/{passport_id}", "/passports/{passport_id}/revoke",
                 "/passports/{passport_id}/openbadge.jwt", "/passports/{passport_id}/qr.png"):
        assert path in paths


def test_jwks_endpoint_headers(client, keys):
    resp = client.get("/.well-known/jwks.json")
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert resp.headers["Cache-Control"] == "public, max-age=3600"
    kids = {k["kid"]: k for k in resp.get_json()["keys"]}
    entry = kids[keys["passport"].kid]
    assert {"kty", "crv", "x", "y", "use", "alg", "kid", "status", "nbf", "exp"} == set(entry)
    assert entry["use"] == "sig" and entry["alg"] == "ES256" and entry["crv"] == "P-256"
    rsa = kids[keys["openbadge"].kid]
    assert rsa["kty"] == "RSA" and rsa["alg"] == "RS256" and {"n", "e"} <= set(rsa)
    single = client.get(f"/keys/{keys['openbadge'].kid}.json")
    assert single.get_json() == rsa and single.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get("/keys/unknown.json").status_code == 404
