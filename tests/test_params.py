"""Ids and numbers from paths, query strings and JSON bodies: out of range or malformed is a 404 (path) or a
400 naming the field (query, body), on pages and the API alike, never a 500."""
from __future__ import annotations

import json

import pytest
from werkzeug.routing import IntegerConverter

from passport.params import MAX_ID, IdConverter

TOO_BIG = str(2 ** 63)  # SQLite raised OverflowError for it
PG_TOO_BIG = str(MAX_ID + 1)  # 2147483648: PostgreSQL's INTEGER ids stop just short of it


@pytest.fixture
def admin(make_org, make_person):
    return make_person(make_org("Scheme Office", "care_association"), "scheme_admin")


def _id_rules(app):
    for rule in app.url_map.iter_rules():
        ids = [a for a in rule.arguments if isinstance(rule._converters[a], IdConverter)]
        if ids:
            yield rule, ids


def _url(rule, value: str) -> str:
    url = rule.rule
    for name, conv in rule._converters.items():
        raw = value if isinstance(conv, IdConverter) else ("2025" if name == "framework" else "x")
        url = url.replace(f"<{'id:' if isinstance(conv, IdConverter) else ''}{name}>", raw)
        url = url.replace(f"<{name}>", raw)
    return url


def test_no_route_takes_an_unbounded_integer(app):
    plain = [r.rule for r in app.url_map.iter_rules()
             if any(isinstance(c, IntegerConverter) for c in r._converters.values())]
    assert plain == [], "use <id:...> for ids (see passport.params)"
    assert sum(1 for _ in _id_rules(app)) > 80


@pytest.mark.parametrize("value", [TOO_BIG, PG_TOO_BIG, "99999999999999999999999", "0", "007"])
def test_every_id_route_answers_404_for_an_id_out_of_range(app, client, login, api_token, admin, value):
    login(client, admin)
    headers = api_token(admin)
    seen = 0
    for rule, _ids in _id_rules(app):
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        url = _url(rule, value)
        if rule.rule.startswith("/api/"):
            resp = client.open(url, method=method, headers=headers, json={} if method != "GET" else None)
            assert resp.status_code == 404, (url, resp.status_code, resp.data[:200])
            assert resp.get_json()["error"] == "not_found"
        elif method == "GET":
            resp = client.get(url)
            assert resp.status_code == 404, (url, resp.status_code)
        else:
            resp = client.post(url, data={})
            assert resp.status_code == 404, (url, resp.status_code)
        seen += 1
    assert seen > 80


def test_the_largest_id_still_matches_and_is_not_found(client, api_token, admin):
    resp = client.get(f"/api/v1/people/{MAX_ID}", headers=api_token(admin))
    assert resp.status_code == 404 and resp.get_json()["error"] == "not_found"
    for value in (TOO_BIG, PG_TOO_BIG):
        resp = client.get(f"/api/v1/people/{value}", headers=api_token(admin))
        assert resp.status_code == 404 and resp.get_json()["error"] == "not_found"


@pytest.fixture
def org(make_org):
    return make_org("Params Home")


API_QUERY_IDS = [
    ("/api/v1/passports", "person_id"),
    ("/api/v1/courses/courses", "org_id"),
    ("/api/v1/courses/sessions", "org_id"),
    ("/api/v1/courses/records", "org_id"),
    ("/api/v1/delegation/competent", "org"),
]


@pytest.mark.parametrize("url,name", API_QUERY_IDS)
@pytest.mark.parametrize("value", [TOO_BIG, PG_TOO_BIG, "abc", "-1", "0", "1.5", "²"])
def test_api_query_ids_are_400_with_a_field_error(client, api_token, admin, url, name, value):
    resp = client.get(f"{url}?{name}={value}", headers=api_token(admin))
    assert resp.status_code == 400, (url, value, resp.status_code, resp.data[:200])
    body = resp.get_json()
    assert body["error"] == "validation_error" and name in body["fields"]


@pytest.mark.parametrize("query,name", [
    ("window=0", "window"), ("window=366", "window"), ("window=abc", "window"), ("window=" + TOO_BIG, "window"),
    ("category=" + TOO_BIG, "category"), ("category=x", "category"), ("category=" + PG_TOO_BIG, "category"),
])
def test_api_matrix_refuses_malformed_numbers(client, api_token, admin, org, query, name):
    resp = client.get(f"/api/v1/courses/orgs/{org.id}/matrix?{query}", headers=api_token(admin))
    assert resp.status_code == 400 and name in resp.get_json()["fields"]


@pytest.mark.parametrize("query", ["past=null", "past=yes", "past=2"])
def test_api_flags_are_true_or_false(client, api_token, admin, query):
    resp = client.get(f"/api/v1/courses/sessions?{query}", headers=api_token(admin))
    assert resp.status_code == 400 and "past" in resp.get_json()["fields"]
    assert client.get("/api/v1/courses/sessions?past=true", headers=api_token(admin)).status_code == 200


@pytest.mark.parametrize("value", [2 ** 63, MAX_ID + 1, 0, -5, "12", True, 1.5])
def test_api_body_ids_are_400_with_a_field_error(client, api_token, admin, org, value):
    headers = api_token(admin)
    for url, body, name in [
        ("/api/v1/passports", {"person_id": value}, "person_id"),
        ("/api/v1/courses/sessions", {"org_id": value, "course_id": 1, "date": "2026-12-01", "start_time": "09:00",
                                      "end_time": "10:00", "venue": "Hall", "capacity": 5}, "org_id"),
        ("/api/v1/courses/assessments", {"person_id": value, "kind": "knowledge"}, "person_id"),
    ]:
        resp = client.post(url, headers=headers, json=body)
        assert resp.status_code == 400, (url, value, resp.status_code, resp.data[:300])
        assert name in resp.get_json()["fields"], (url, resp.get_json())


@pytest.mark.parametrize("number", ["99999999999999999999999", PG_TOO_BIG, "-2147483649"])
def test_any_json_number_beyond_the_database_integers_is_refused(client, api_token, admin, org, number):
    raw = '{"org_id": %d, "records": [{"person_id": 1, "category_code": %s, ' \
          '"completed_on": "2026-01-01"}]}' % (org.id, number)
    resp = client.post("/api/v1/courses/records", headers={**api_token(admin), "Content-Type": "application/json"},
                       data=raw)
    assert resp.status_code == 400 and resp.get_json()["error"] == "number_out_of_range"
    assert list(resp.get_json()["fields"]) == ["records.0.category_code"]
    for constant in ("NaN", "Infinity", "-Infinity"):
        resp = client.post("/api/v1/passports", headers={**api_token(admin), "Content-Type": "application/json"},
                           data='{"person_id": %s}' % constant)
        assert resp.status_code == 400 and resp.get_json()["error"] == "malformed_json"


def test_worker_id_keys_are_ids(client, api_token, admin, org):
    resp = client.put(f"/api/v1/courses/orgs/{org.id}/worker-ids", headers=api_token(admin),
                      json={"worker_ids": {TOO_BIG: "W1"}})
    assert resp.status_code == 400 and "worker_ids" in resp.get_json()["fields"]


def test_pages_answer_400_for_malformed_query_numbers(client, login, admin, org, make_person):
    login(client, admin)
    for url in (f"/courses/orgs/{org.id}/matrix?category={TOO_BIG}", f"/courses/orgs/{org.id}/matrix?window=abc",
                f"/courses/scheme/summary?window={TOO_BIG}", f"/courses/orgs/{org.id}/assessors?person_id={TOO_BIG}"):
        resp = client.get(url)
        assert resp.status_code == 400, (url, resp.status_code)
        assert "not valid" in resp.get_data(as_text=True) or "must be an id" in resp.get_data(as_text=True)


@pytest.mark.parametrize("body", ['{"token": "a", "token": "b"}', '{"tokens": ["a"], "x": {"k": 1, "k": 2}}'])
def test_duplicate_keys_are_refused(client, body):
    for url in ("/api/v1/verify", "/api/v1/verify/batch"):
        resp = client.post(url, data=body, headers={"Content-Type": "application/json"})
        assert resp.status_code == 400, (url, resp.status_code)
        assert resp.get_json()["error"] == "duplicate_key"


def test_parse_json_is_the_one_body_parser():
    from passport.api import ApiError, parse_json

    assert parse_json(json.dumps({"a": [1, {"b": MAX_ID}]}).encode()) == {"a": [1, {"b": MAX_ID}]}
    for raw in (b'{"a": 1, "a": 1}', b'{"a": 2147483648}', b'{"a": -9223372036854775809}', b'[NaN]'):
        with pytest.raises(ApiError) as exc:
            parse_json(raw)
        assert exc.value.status == 400


def test_id_text_is_ascii_digits_only():
    from passport.params import id_or_none

    assert id_or_none("12") == 12 and id_or_none(12) == 12 and id_or_none(str(MAX_ID)) == MAX_ID
    for bad in ("²", "١٢", "1.0", "-1", "0", TOO_BIG, "1" * 40, True, None, 1.0, [1]):
        assert id_or_none(bad) is None, bad
