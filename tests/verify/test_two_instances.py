"""Two running deployments, each with its own database and keys: a passport from A is untrusted at B until
B's scheme admin trusts A (keys fetched from A over loopback), then valid; A's revocation reaches B."""
from __future__ import annotations

import json
import re
import urllib.request
from http.cookiejar import CookieJar

import pytest
import sqlalchemy as sa

from passport import db as dbm


def _seed(app, admin_email=None):
    from tests.verify.test_browser import _seed as seed_passports

    seed_passports(app)
    if admin_email:
        from werkzeug.security import generate_password_hash

        from passport.core import services
        from passport.core.models import Membership, Person, User

        with app.app_context():
            db = dbm.session
            org = services.create_organisation(db, None, {"name": "B Care Association", "kind": "care_association"})
            person = Person(given_name="Sam", family_name="Admin", email=admin_email)
            db.add(person)
            db.flush()
            from datetime import date

            db.add(Membership(person_id=person.id, org_id=org.id, role="scheme_admin", start_date=date(2020, 1, 1)))
            db.add(User(person_id=person.id, password_hash=generate_password_hash("correct horse battery staple")))
            db.commit()
            dbm.session.remove()


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    from tests.conftest import start_live_server

    servers = []
    for name in ("a", "b"):
        live, server = start_live_server(str(tmp_path_factory.mktemp(f"instance-{name}")), demo=False,
                                         VERIFY_TRUST_CACHE_SECONDS=0,
                                     VERIFY_STATUS_CACHE_SECONDS=0, VERIFY_STATUS_REFRESH_SECONDS=0)
        servers.append((live, server))
    _seed(servers[0][0].app)
    _seed(servers[1][0].app, admin_email="admin@b.test")
    yield servers[0][0], servers[1][0]
    for live, server in servers:
        server.shutdown()
        dbm.get_engine(live.app).dispose()


def api_verify(base: str, token: str) -> dict:
    req = urllib.request.Request(base + "/api/v1/verify", data=json.dumps({"token": token}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def a_passport(a):
    from passport.certificates.models import Passport

    with a.app.app_context():
        p = dbm.session.scalars(sa.select(Passport).where(Passport.revoked_at.is_(None)).order_by(Passport.id)).first()
        out = (p.id, p.token)
        dbm.session.remove()
    return out


def sign_in(opener, base, email):
    page = opener.open(base + "/sign-in").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "email": email,
                                   "password": "correct horse battery staple"}).encode()
    opener.open(base + "/sign-in", data=data)


def test_untrusted_until_b_trusts_a_then_valid_then_revoked(two):
    import urllib.parse

    a, b = two
    pid, token = a_passport(a)
    assert api_verify(a.url, token)["result"] == "valid"
    before = api_verify(b.url, token)
    assert before["result"] == "untrusted_issuer" and before["passport"] is None
    assert before["issuer"] == {"iss": a.url, "name": None, "trusted": False}

    # B's scheme admin trusts A through the trusted-issuers page; B fetches A's JWKS over loopback.
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    sign_in(opener, b.url, "admin@b.test")
    page = opener.open(b.url + "/verify/trust").read().decode()
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    opener.open(b.url + "/verify/trust", data=urllib.parse.urlencode(
        {"csrf_token": csrf, "iss": a.url, "name": "Instance A Care Group", "jwks": ""}).encode())
    page = opener.open(b.url + "/verify/trust").read().decode()
    assert "Instance A Care Group" in page and "fetched" in page

    after = api_verify(b.url, token)
    assert after["result"] == "valid", after["reason"]
    assert after["issuer"]["name"] == "Instance A Care Group"  # B's trust data names A, not the token
    assert after["status"]["checked"] is True

    # B publishes A in its signed trust bundle
    bundle = urllib.request.urlopen(b.url + "/.well-known/ccp-trust-bundle.jwt").read().decode()
    key = json.loads(urllib.request.urlopen(b.url + "/.well-known/ccp-trust-key.json").read())
    from passport.verify.trustdata import keys_from_jwks, parse_bundle

    store = parse_bundle(bundle, keys_from_jwks([key]))
    assert store.issuers[a.url].name == "Instance A Care Group" and b.url in store.issuers

    # A revokes; B sees it (status list fetched from A over loopback)
    from passport.certificates import services as cservices

    with a.app.app_context():
        cservices.revoke(dbm.session, None, pid, "fraud")
        dbm.session.commit()
        dbm.session.remove()
    assert api_verify(b.url, token)["result"] == "revoked"

    # B stops trusting A: untrusted again
    from passport.verify import trust
    from passport.verify.models import TrustedIssuer

    with b.app.app_context():
        row = dbm.session.scalar(sa.select(TrustedIssuer).where(TrustedIssuer.iss == a.url))
        trust.remove_issuer(dbm.session, None, row.id)
        dbm.session.commit()
        dbm.session.remove()
    assert api_verify(b.url, token)["result"] == "untrusted_issuer"

    # every check at B was logged by B's background writer (a hash of iss|jti, never the token)
    import time

    from passport.verify.models import VerificationCheck
    from passport.verify.services import passport_ref

    deadline = time.monotonic() + 5
    with b.app.app_context():
        while True:
            rows = dbm.session.scalars(sa.select(VerificationCheck.result).where(
                VerificationCheck.passport_ref == passport_ref(a.url, token_jti(token)))).all()
            dbm.session.rollback()
            if len(rows) >= 4 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        dbm.session.remove()
    assert sorted(rows) == ["revoked", "untrusted_issuer", "untrusted_issuer", "valid"]


def token_jti(token: str) -> str:
    from passport.certificates.tokens import peek_unverified

    return peek_unverified(token)[1]["jti"]


@pytest.mark.browser
def test_b_verify_page_checks_a_passport_in_the_browser(two, page):
    from passport.verify import settings, trust

    a, b = two
    with b.app.app_context():
        trust.add_issuer(dbm.session, None, settings(b.app), iss=a.url, name="Instance A Care Group")
        dbm.session.commit()
        dbm.session.remove()
    _pid, token = a_passport(a)
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{b.url}/v#{token}")
    page.wait_for_selector("#result:not([hidden])[data-verification-result]:not([data-verification-result=''])")
    assert page.get_attribute("#result", "data-verification-result") == "valid"
    assert "Instance A Care Group" in page.inner_text("#issuer-name")
    assert all(u.startswith(b.url) for u in requests)  # A's status lists come through B's same-origin mirror
