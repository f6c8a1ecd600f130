"""POST /api/v1/verify and /batch: results, the negative list, bad requests, CORS, rate limits, logging."""
from __future__ import annotations

import io
import json

import pytest
import sqlalchemy as sa

from passport.verify.api import TOKEN_BODY
from passport.verify.models import VerificationCheck

from .tokens import SigningIssuer, negative_cases, numeric

URL = "/api/v1/verify"


def post(client, body, **kw):
    return client.post(URL, json=body, **kw)


def test_valid_own_passport(client, db, issue, worker, home):
    p = issue(worker, home)
    resp = post(client, {"token": p.token})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["result"] == "valid", body["reason"]
    assert set(body) >= {"result", "reason", "passport", "issuer", "checked_at"}
    assert body["passport"]["holder"]["name"] == "Amelia Okonkwo-Richardson"
    assert body["passport"]["care_certificate"]["complete"] is True
    assert body["issuer"]["iss"] == "https://passport.test" and body["issuer"]["trusted"] is True
    assert body["issuer"]["name"] == "Test Care Passport Scheme"
    assert body["issuer"]["endorsers"] == ["Wessex Valley NHS Foundation Trust (test)"]
    assert body["status"]["checked"] is True
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert resp.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("form", ["url", "numeric_url"])
def test_whole_qr_url(client, issue, worker, home, form):
    p = issue(worker, home)
    text = f"https://passport.test/v#{p.token if form == 'url' else numeric(p.token)}"
    assert post(client, {"token": text}).get_json()["result"] == "valid"


def test_revoked_suspended_superseded(app, client, db, issue, worker, home):
    from passport.certificates import services as cservices

    first = issue(worker, home)
    second = cservices.supersede(db, None, first.id, key_dir=app.config["KEY_DIR"], public_url=app.config["PUBLIC_URL"])
    assert post(client, {"token": first.token}).get_json()["result"] == "superseded"
    cservices.suspend(db, None, second.id)
    body = post(client, {"token": second.token}).get_json()
    assert body["result"] == "suspended" and "investigation" in body["reason"].lower()
    cservices.reinstate(db, None, second.id)
    assert post(client, {"token": second.token}).get_json()["result"] == "valid"
    cservices.revoke(db, None, second.id, "fraud")
    body = post(client, {"token": second.token}).get_json()
    assert body["result"] == "revoked"
    assert "Reason given by the issuer" in body["reason"]
    assert body["passport"]["holder"]["family_name"] == "Okonkwo-Richardson"


def test_compromised_key_makes_everything_invalid(app, client, db, issue, worker, home):
    from passport.certificates import keys as keyring

    p = issue(worker, home)
    keyring.compromise_key(db, p.key.kid)
    body = post(client, {"token": p.token}).get_json()
    assert body["result"] == "invalid" and body["reason_code"] == "compromised_key"


def test_negative_list_through_the_api(client, other_issuer):
    for name, text, expected in negative_cases(other_issuer):
        if isinstance(text, bytes):
            continue  # JSON cannot carry raw bytes; covered by the non-UTF-8 body test
        resp = post(client, {"token": text})
        if len(text) > TOKEN_BODY["properties"]["token"]["maxLength"]:  # refused by the documented schema
            assert resp.status_code == 400 and "token" in resp.get_json()["fields"], name
            continue
        assert resp.status_code == 200, name
        assert resp.get_json()["result"] == expected, (name, resp.get_json()["reason"])


def test_other_issuer_trusted_and_named_from_trust_data(client, other_issuer):
    body = post(client, {"token": other_issuer.sign()}).get_json()
    assert body["result"] == "valid"
    assert body["issuer"]["name"] == "Kennet Valley Care Group"
    assert body["trust"]["age_seconds"] is not None


def test_other_issuer_revocation_via_mirror(client, other_issuer):
    claims = other_issuer.claims()
    other_issuer.set_bit("revocation", claims["st"][1])
    other_issuer.mirror()
    assert post(client, {"token": other_issuer.sign(claims)}).get_json()["result"] == "revoked"


def test_stale_mirror_gives_status_unknown_with_age(client, other_issuer, monkeypatch):
    import time

    from passport.verify import fetch

    def offline(url, **kw):
        raise fetch.FetchError("offline")

    monkeypatch.setattr(fetch, "get", offline)  # the issuer is unreachable (no network in tests)
    other_issuer.mirror(iat=int(time.time()) - 8 * 3600)
    body = post(client, {"token": other_issuer.sign()}).get_json()
    assert body["result"] == "valid_status_unknown"
    assert body["status"]["stale"] is True and body["status"]["age_seconds"] >= 8 * 3600


def test_batch(client, issue, worker, home, other_issuer):
    p = issue(worker, home)
    tokens = [p.token, other_issuer.sign(), "junk", SigningIssuer("https://x.test").sign()]
    resp = client.post(URL + "/batch", json={"tokens": tokens})
    assert resp.status_code == 200
    assert [r["result"] for r in resp.get_json()["results"]] == ["valid", "valid", "invalid", "untrusted_issuer"]


def test_batch_limits(client):
    assert client.post(URL + "/batch", json={"tokens": ["x"] * 101}).status_code == 400
    assert client.post(URL + "/batch", json={"tokens": []}).status_code == 400
    assert client.post(URL + "/batch", json={"tokens": [1, 2]}).status_code == 400
    assert client.post(URL + "/batch", json={"token": "x"}).status_code == 400


@pytest.mark.parametrize("kwargs,status,code", [
    ({"data": "token=abc", "content_type": "text/plain"}, 415, "unsupported_media_type"),
    ({"data": "token=abc", "content_type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
    ({"data": "{not json", "content_type": "application/json"}, 400, "malformed_json"),
    ({"data": b'{"token": "\xff\xfe"}', "content_type": "application/json"}, 400, "bad_encoding"),
    ({"data": "[1, 2]", "content_type": "application/json"}, 400, "malformed_json"),
    ({"data": '{"token": ' + "[" * 50 + "]" * 50 + "}", "content_type": "application/json"}, 400, "too_deep"),
    ({"data": '{"token": 12}', "content_type": "application/json"}, 400, "validation_error"),
    ({"data": '{"tok": "x"}', "content_type": "application/json"}, 400, "validation_error"),
    ({"data": "", "content_type": "application/json"}, 400, "malformed_json"),
    ({"data": '{"token": "' + "[" * 100000 + '"}', "content_type": "application/json"}, 400, "validation_error"),
    ({"data": '{"token": "' + "[" * 8000 + '"}', "content_type": "application/json"}, 200, None),
    ({"data": '{"token": "x", "token": "y"}', "content_type": "application/json"}, 400, "duplicate_key"),
])
def test_bad_requests_are_clean_4xx(client, kwargs, status, code):
    resp = client.post(URL, **kwargs)
    assert resp.status_code == status, resp.get_data(as_text=True)[:200]
    body = resp.get_json()
    if code:
        assert body["error"] == code and body["message"]
    else:
        assert body["result"] == "invalid"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


def test_big_body_is_413(client, app):
    big = json.dumps({"token": "A" * (app.config["VERIFY_MAX_JSON_BYTES"] + 10)})
    resp = client.post(URL, data=big, content_type="application/json")
    assert resp.status_code == 413 and resp.get_json()["error"] == "payload_too_large"
    resp = client.post(URL + "/batch", data=big, content_type="application/json")
    assert resp.status_code == 413


def test_deep_nesting_without_closing(client):
    resp = client.post(URL, data="[" * 200000, content_type="application/json")
    assert resp.status_code == 400


def test_qr_photo(client, issue, worker, home):
    import qrcode

    p = issue(worker, home)
    img = qrcode.make(f"https://passport.test/v#{p.token}", error_correction=qrcode.constants.ERROR_CORRECT_Q)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    png = buf.getvalue()
    resp = client.post(URL, data=png, content_type="image/png")
    assert resp.status_code == 200 and resp.get_json()["result"] == "valid"
    resp = client.post(URL, data={"image": (io.BytesIO(png), "qr.png")}, content_type="multipart/form-data")
    assert resp.status_code == 200 and resp.get_json()["result"] == "valid"


@pytest.mark.parametrize("data", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,
                                  b"\xff\xd8\xff\xe0" + b"junk" * 50, b"GIF89a" + b"\x00" * 20])
def test_junk_images_refused_cleanly(client, data):
    resp = client.post(URL, data=data, content_type="image/png")
    assert resp.status_code == 400 and resp.get_json()["error"] == "unreadable_image"


def test_image_without_a_qr_code(client):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (200, 200), "white").save(buf, format="PNG")
    resp = client.post(URL, data=buf.getvalue(), content_type="image/png")
    assert resp.status_code == 400 and "No QR code" in resp.get_json()["message"]


def test_decompression_bomb_image(client):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("1", (12000, 12000), 1).save(buf, format="PNG")  # tiny file, 144 megapixels
    resp = client.post(URL, data=buf.getvalue(), content_type="image/png")
    assert resp.status_code == 400 and resp.get_json()["error"] == "unreadable_image"


def test_multipart_without_image_field(client):
    resp = client.post(URL, data={"other": (io.BytesIO(b"x"), "x.png")}, content_type="multipart/form-data")
    assert resp.status_code == 400


def test_preflight_cors(client):
    resp = client.options(URL, headers={"Origin": "https://verifier.example", "Access-Control-Request-Method": "POST",
                                        "Access-Control-Request-Headers": "content-type"})
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in resp.headers["Access-Control-Allow-Headers"]


def test_rate_limited_per_client(app, client):
    old = app.config["VERIFY_RATE_LIMIT"]
    app.config["VERIFY_RATE_LIMIT"] = "3 per minute"
    try:
        codes = [post(client, {"token": "junk"}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        resp = post(client, {"token": "junk"})
        assert resp.get_json()["error"] == "too_many_requests"
        other = client.post(URL, json={"token": "junk"}, environ_base={"REMOTE_ADDR": "10.9.9.9"})
        assert other.status_code == 200  # another client has its own allowance
    finally:
        app.config["VERIFY_RATE_LIMIT"] = old


def test_batch_counts_each_token(app, client):
    old = app.config["VERIFY_RATE_LIMIT"]
    app.config["VERIFY_RATE_LIMIT"] = "10 per minute"
    try:
        assert client.post(URL + "/batch", json={"tokens": ["a"] * 8}).status_code == 200
        assert client.post(URL + "/batch", json={"tokens": ["a"] * 8}).status_code == 429
    finally:
        app.config["VERIFY_RATE_LIMIT"] = old


def test_check_is_logged_without_the_token(client, db, issue, worker, home, make_person, api_token):
    from passport.verify.services import passport_ref

    p = issue(worker, home)
    lead = make_person(home, "training_lead")
    post(client, {"token": p.token}, headers=api_token(lead, home.id, "training_lead"),
         environ_base={"REMOTE_ADDR": "203.0.113.77"})
    row = db.scalar(sa.select(VerificationCheck).order_by(VerificationCheck.id.desc()).limit(1))
    assert row.result == "valid" and row.channel == "api" and row.org_id == home.id
    assert row.passport_ref == passport_ref("https://passport.test", p.jti)
    assert row.client_net == "203.0.113.0/24"
    for value in vars(row).values():
        assert p.token not in str(value) and p.jti not in str(value)


def test_ipv6_truncated():
    from passport.verify.services import truncate_address

    assert truncate_address("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert truncate_address("not an address") == ""


def test_fuzz_never_500(client):
    import random

    rng = random.Random(5)
    alphabet = "{}[]\":,.0123456789abcdefAZ_-\\ \n\x00éß"
    for _ in range(150):
        body = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        for path in (URL, URL + "/batch"):
            resp = client.post(path, data=body.encode("utf-8"), content_type="application/json")
            assert resp.status_code < 500, body


def test_openapi_documents_verify(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "post" in doc["paths"]["/verify"] and "post" in doc["paths"]["/verify/batch"]
    assert doc["paths"]["/verify"]["post"]["security"] == []


def test_trust_summary(client, other_issuer):
    body = client.get(URL + "/trust").get_json()
    names = [i["name"] for i in body["issuers"]]
    assert "Kennet Valley Care Group" in names and body["issuers"][0]["own"] is True


def test_background_check_log_writer(tmp_path):
    """The API's batched writer (its own connection, so exercised on a separate database here)."""
    import time

    from passport.verify.checklog import CheckLogWriter

    engine = sa.create_engine(f"sqlite:///{tmp_path}/log.sqlite")
    VerificationCheck.__table__.create(engine)
    writer = CheckLogWriter(engine, interval=0.05, batch=3)
    from passport.db import utcnow

    for i in range(7):
        writer.add({"at": utcnow(), "result": "valid", "channel": "api", "org_id": None, "passport_ref": f"{i:064d}",
                    "client_net": ""})
    deadline = time.monotonic() + 5
    count = 0
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            count = conn.scalar(sa.select(sa.func.count()).select_from(VerificationCheck.__table__))
        if count == 7:
            break
        time.sleep(0.05)
    assert count == 7
    assert writer.flush() == 0
    engine.dispose()


def test_writer_keeps_rows_when_the_database_is_down(tmp_path):
    from passport.verify.checklog import CheckLogWriter

    engine = sa.create_engine(f"sqlite:///{tmp_path}/missing-dir/none.sqlite")
    writer = CheckLogWriter(engine, interval=60)
    writer._rows.append({"at": None})
    assert writer.flush() == 0 and len(writer._rows) == 1
    engine.dispose()


def test_fast_path_matches_the_flask_view(app, client, issue, worker, home, other_issuer, caplog):
    """Anonymous {"token": ...} calls take the lean WSGI path; its answers equal the Flask view's."""
    p = issue(worker, home)
    tokens = [p.token, other_issuer.sign(), "junk", SigningIssuer("https://x.test").sign()]
    fast = [client.post(URL, json={"token": t}) for t in tokens]
    app.config["VERIFY_FAST_PATH"] = False
    try:
        slow = [client.post(URL, json={"token": t}) for t in tokens]
    finally:
        app.config["VERIFY_FAST_PATH"] = True
    for f, s in zip(fast, slow):
        assert f.status_code == s.status_code == 200
        a, b = f.get_json(), s.get_json()
        for body in (a, b):  # times differ by the second or so between the two calls
            body.pop("checked_at")
            body["status"].pop("as_of", None), body["status"].pop("age_seconds", None)
            body["trust"].pop("age_seconds", None)
        assert a == b
        assert f.get_data(as_text=True).startswith('{"checked_at":')  # same compact, sorted JSON
        for header in ("Access-Control-Allow-Origin", "Cache-Control", "Content-Security-Policy",
                       "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Type"):
            assert f.headers.get(header) == s.headers.get(header), header
    assert not [r for r in caplog.records if "fast path" in r.getMessage()]


@pytest.mark.parametrize("body", ['{"token": "x", "extra": 1}', '{"token": 5}', '["x"]', '{"token": "\\ud800"}'])
def test_fast_path_leaves_unusual_bodies_to_the_view(client, body):
    resp = client.post(URL, data=body, content_type="application/json")
    assert resp.status_code in (200, 400)
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


def test_fast_path_behind_a_proxy_sees_the_client_address(tmp_path):
    """With PASSPORT_PROXY_COUNT the fast path sits inside ProxyFix: limits and the log use the real client."""
    import os

    from passport import create_app
    from passport.cli import upgrade
    from passport.verify.checklog import writer_for

    app = create_app({"TESTING": True, "SECRET_KEY": "p" * 40, "DATABASE_URL": f"sqlite:///{tmp_path}/p.sqlite",
                      "KEY_DIR": os.path.join(tmp_path, "keys"), "PUBLIC_URL": "https://proxied.test",
                      "PROXY_COUNT": 1, "VERIFY_CHECK_LOG": "background", "VERIFY_CHECK_LOG_INTERVAL": 60})
    upgrade(app)
    resp = app.test_client().post(URL, json={"token": "junk"}, headers={"X-Forwarded-For": "198.51.100.23"},
                                  environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert resp.status_code == 200 and resp.get_json()["result"] == "invalid"
    rows = writer_for(app)._rows
    assert [r["client_net"] for r in rows] == ["198.51.100.0/24"]
    rows.clear()
    from passport import db as dbm

    dbm.get_engine(app).dispose()
