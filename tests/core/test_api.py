"""The JSON API base: token auth, JSON errors for every 4xx, and the OpenAPI document kept in step."""
import re

import sqlalchemy as sa

from passport.core.models import ApiToken


def test_no_token_gets_401_json(client):
    resp = client.get("/api/v1/me")
    assert resp.status_code == 401
    assert resp.get_json()["error"] == "unauthorized" and "fields" in resp.get_json()


def test_bad_and_revoked_tokens(client, db, make_org, make_person, api_token):
    person = make_person(make_org())
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer ccp_nonsense"}).status_code == 401
    headers = api_token(person)
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and me.get_json()["person"]["id"] == person.id
    db.execute(sa.update(ApiToken).values(revoked_at=sa.func.now()))
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_tokens_are_stored_hashed(db, make_org, make_person, api_token):
    person = make_person(make_org())
    secret = api_token(person)["Authorization"].split()[1]
    row = db.scalar(sa.select(ApiToken))
    assert secret not in (row.token_hash, row.prefix) and len(row.token_hash) == 64


def test_body_errors_are_4xx_json(client, make_org, make_person, api_token):
    org = make_org()
    headers = api_token(make_person(org, "org_admin"), org.id, "org_admin")
    url = f"/api/v1/organisations/{org.id}/people"
    cases = [
        (dict(data="given_name=x", content_type="application/x-www-form-urlencoded"), 415),
        (dict(data="{not json", content_type="application/json"), 400),
        (dict(data=b"\xff\xfe{}", content_type="application/json"), 400),
        (dict(data="[1, 2]", content_type="application/json"), 400),
        (dict(data="[" * 50 + "]" * 50, content_type="application/json"), 400),
        (dict(data='{"a":' * 30 + "1" + "}" * 30, content_type="application/json"), 400),
        (dict(json={"given_name": "", "family_name": "x" * 101, "role": "captain"}), 400),
    ]
    for kwargs, status in cases:
        resp = client.post(url, headers=headers, **kwargs)
        assert resp.status_code == status, (kwargs, resp.status_code, resp.data[:200])
        body = resp.get_json()
        assert set(body) == {"error", "message", "fields"}
    fields = client.post(url, headers=headers, json={"given_name": "", "family_name": "x" * 101,
                                                      "role": "captain"}).get_json()["fields"]
    assert set(fields) >= {"given_name", "family_name", "role"}


def test_oversized_body_is_413_json(client, make_org, make_person, api_token, app):
    org = make_org()
    headers = api_token(make_person(org, "org_admin"), org.id, "org_admin")
    big = '{"given_name": "' + "x" * (app.config["MAX_CONTENT_LENGTH"] + 10) + '"}'
    resp = client.post(f"/api/v1/organisations/{org.id}/people", headers=headers, data=big,
                       content_type="application/json")
    assert resp.status_code == 413 and resp.get_json()["error"]


def test_unknown_route_and_method_are_json(client):
    assert client.get("/api/v1/nothing-here").get_json()["error"] == "not_found"
    assert client.delete("/api/v1/health").status_code == 405


def test_bad_dates_name_the_field(client, make_org, make_person, api_token):
    org = make_org()
    lead = make_person(org, "training_lead")
    worker = make_person(org)
    headers = api_token(lead, org.id, "training_lead")
    url = f"/api/v1/people/{worker.id}/training-records"
    resp = client.post(url, headers=headers, json={"org_id": org.id, "category_code": 1, "completed_on": "31/12/2025"})
    assert resp.status_code == 400 and "completed_on" in resp.get_json()["fields"]
    resp = client.post(url, headers=headers, json={"org_id": org.id, "category_code": 1, "completed_on": "2999-01-01"})
    assert resp.status_code == 400 and "completed_on" in resp.get_json()["fields"]
    resp = client.post(url, headers=headers, json={"org_id": org.id, "category_code": 9999, "completed_on": "2025-01-01"})
    assert resp.status_code == 400 and "category" in resp.get_json()["fields"]
    resp = client.post(url, headers=headers, json={"org_id": org.id, "category_code": 1, "completed_on": "2025-06-01",
                                                   "expires_on": "2025-01-01"})
    assert resp.status_code == 400 and "expires_on" in resp.get_json()["fields"]
    ok = client.post(url, headers=headers, json={"org_id": org.id, "category_code": 1, "completed_on": "2025-06-01"})
    assert ok.status_code == 201 and ok.get_json()["source"] == "manual"


def test_openapi_document_matches_the_routes(client, app):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    routed = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        view = app.view_functions[rule.endpoint]
        assert hasattr(view, "openapi"), f"{rule.rule} has no @api_doc description"
        path = re.sub(r"<(?:[a-z]+:)?([a-zA-Z_]+)>", r"{\1}", rule.rule[len("/api/v1"):])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routed.add((path, method.lower()))
    assert documented == routed
    for ops in doc["paths"].values():
        for op in ops.values():
            assert op["summary"] and "400" in op["responses"]


def test_catalogue_json(client):
    cats = client.get("/api/v1/catalogue/training-categories").get_json()["categories"]
    assert len(cats) == 48
    std = client.get("/api/v1/catalogue/standards/2025").get_json()["standards"]
    assert [s["number"] for s in std] == list(range(1, 17))
    assert len(client.get("/api/v1/catalogue/delegated-categories").get_json()["categories"]) == 8
    assert client.get("/api/v1/catalogue/standards/2019").status_code == 404
