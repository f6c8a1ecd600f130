"""The verify page in a phone-sized Chromium: in-browser verification, revocation, tampering, the negative
list, paste and photo upload, no third-party requests, and offline use with the network switched off."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from passport import db as dbm

from .tokens import SigningIssuer, negative_cases

pytestmark = pytest.mark.browser


def _start(tmp_path_factory, name):
    """A live server with just what these tests need (the full demo takes ~15 s to load)."""
    from tests.conftest import start_live_server

    live, server = start_live_server(str(tmp_path_factory.mktemp(name)), demo=False, VERIFY_TRUST_CACHE_SECONDS=0,
                                     VERIFY_STATUS_CACHE_SECONDS=0)
    _seed(live.app)
    return live, server


def _seed(app):
    from datetime import date

    from passport.certificates import keys as keyring, services as cservices
    from passport.core import services
    from passport.core.models import Membership, Person

    from .conftest import complete_cc

    with app.app_context():
        db = dbm.session
        for purpose in ("passport", "trust"):
            keyring.create_key(db, app.config["KEY_DIR"], purpose)
        trust_org = services.create_organisation(db, None, {"name": "Wessex Valley NHS Foundation Trust", "kind": "nhs_trust"})
        home = services.create_organisation(db, None, {"name": "The Oaks Care Home", "kind": "care_home"})
        services.save_scheme(db, None, {"name": "North Wessex Care Passport Scheme", "cc_version": "2025",
                                        "quality_threshold": "", "members": [trust_org.id, home.id],
                                        "endorsers": [trust_org.id]})
        for given, family in (("Amara", "Okafor"), ("Ben", "Clarke")):
            person = Person(given_name=given, family_name=family)
            db.add(person)
            db.flush()
            db.add(Membership(person_id=person.id, org_id=home.id, role="worker", start_date=date(2022, 1, 1)))
            db.flush()
            complete_cc(db, person, home)
            cservices.issue_passport(db, None, person.id, home.id, key_dir=app.config["KEY_DIR"],
                                     public_url=app.config["PUBLIC_URL"])
        db.commit()
        dbm.session.remove()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    live, server = _start(tmp_path_factory, "verify-live")
    yield live
    server.shutdown()
    dbm.get_engine(live.app).dispose()


def passports(live, n=2):
    from passport.certificates.models import Passport

    with live.app.app_context():
        rows = dbm.session.scalars(sa.select(Passport).where(Passport.revoked_at.is_(None),
                                                             Passport.superseded_at.is_(None),
                                                             Passport.suspended_at.is_(None))
                                   .order_by(Passport.id).limit(n)).all()
        out = [(r.id, r.token, f"{r.given_name} {r.family_name}") for r in rows]
        dbm.session.remove()
    assert len(out) == n
    return out


def result_of(page, timeout=10000) -> str:
    page.wait_for_selector("#result:not([hidden])[data-verification-result]:not([data-verification-result=''])",
                           timeout=timeout)
    return page.get_attribute("#result", "data-verification-result")


def test_valid_then_revoked_then_tampered(live, page):
    from passport.certificates import services as cservices

    (pid, token, name), _ = passports(live)
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{live.url}/v#{token}")
    assert result_of(page) == "valid"
    assert page.inner_text("#holder-name") == name
    assert "Check their photo ID" in page.inner_text("#result")
    assert "North Wessex Care Passport Scheme" in page.inner_text("#issuer-name")
    assert "Wessex Valley NHS Foundation Trust" in page.inner_text("#endorsers")
    assert "Care Certificate (2025 standards) complete" in page.inner_text("#cc-summary")
    assert "no record of this check was kept" in page.inner_text("#where-checked")
    assert "vp-result--green" in page.get_attribute("#result", "class")
    assert all(u.startswith(live.url) for u in requests), [u for u in requests if not u.startswith(live.url)]
    assert page.evaluate("document.body.scrollWidth") <= 390  # fits a small phone, no sideways scrolling

    with live.app.app_context():
        cservices.revoke(dbm.session, None, pid, "withdrawn_by_employer")
        dbm.session.commit()
        dbm.session.remove()
    page.reload()
    assert result_of(page) == "revoked"
    assert "vp-result--red" in page.get_attribute("#result", "class")

    h, p, s = token.split(".")
    tampered = f"{h}.{p[:-6]}{'A' if p[-6] != 'A' else 'B'}{p[-5:]}.{s}"
    page.goto(f"{live.url}/v#{tampered}")
    assert result_of(page) == "invalid"
    assert page.is_hidden("#result-details")


@pytest.fixture(scope="module")
def trusted_other(live):
    """A second issuer trusted by the live server (keys pasted), with its status lists mirrored."""
    from passport.verify import settings, trust
    from passport.verify.models import StatusMirror

    issuer = SigningIssuer("https://other-issuer.test", "Kennet Valley Care Group")
    with live.app.app_context():
        trust.add_issuer(dbm.session, None, settings(live.app), iss=issuer.iss, name=issuer.name,
                         jwks_text=json.dumps(issuer.jwks()), endorsers=["Kennet Valley NHS Trust"])
        now = int(time.time())
        for purpose in ("revocation", "suspension", "refresh"):
            dbm.session.add(StatusMirror(iss=issuer.iss, list_id=1, purpose=purpose,
                                         jwt=issuer.status_jwt(1, purpose, iat=now),
                                         issued_at=datetime.fromtimestamp(now, timezone.utc),
                                         expires_at=datetime.fromtimestamp(now + 6 * 3600, timezone.utc)))
        dbm.session.commit()
        dbm.session.remove()
    return issuer


def test_negative_list_in_the_browser(live, page, trusted_other):
    page.goto(f"{live.url}/v")
    page.wait_for_selector("html[data-ready='1']", state="attached")
    failures = []
    for name, text, expected in negative_cases(trusted_other):
        if isinstance(text, bytes):
            text = text.decode("latin-1")  # the closest a browser gets to raw bytes
        got = page.evaluate("async (t) => (await window.ccpVerify(t)).result", text)
        if got["result"] != expected:
            failures.append((name, expected, got["result"], got["reason"]))
        if expected == "invalid" and got["passport"] is not None:
            failures.append((name, "no facts", got["passport"]))
    assert not failures, failures
    got = page.evaluate("async (t) => (await window.ccpVerify(t)).result", trusted_other.sign())
    assert got["issuer"]["name"] == "Kennet Valley Care Group"


def test_other_scheme_shows_its_own_endorsers(live, page, trusted_other):
    """Endorsers come from the bundle's entry for that issuer: never this scheme's partners, never the token."""
    token = trusted_other.sign(trusted_other.claims(endorsers=["Totally Real NHS Trust"]))
    page.goto(f"{live.url}/v#{token}")
    assert result_of(page) == "valid"
    endorsers = page.inner_text("#endorsers")
    assert "Kennet Valley NHS Trust" in endorsers
    assert "Wessex Valley" not in endorsers and "Totally Real" not in page.inner_text("#result")
    [(_pid, own_token, _name)] = passports(live, 1)
    page.goto(f"{live.url}/v#{own_token}")
    assert result_of(page) == "valid"
    assert "Wessex Valley NHS Foundation Trust" in page.inner_text("#endorsers")
    assert "Kennet" not in page.inner_text("#endorsers")


def test_paste_and_photo(live, page, tmp_path):
    import qrcode

    [(pid, token, name)] = passports(live, 1)
    page.goto(f"{live.url}/v")
    page.fill("#token-input", f"{live.url}/v#{token}")
    page.click("#paste-form button[type=submit]")
    assert result_of(page) == "valid"
    png = tmp_path / "qr.png"
    qrcode.make(f"{live.url}/v#{token}", error_correction=qrcode.constants.ERROR_CORRECT_Q).save(png)
    page.goto(f"{live.url}/v")
    page.set_input_files("#photo-input", str(png))
    page.wait_for_selector("#where-checked:not(:empty)")
    assert result_of(page) == "valid"
    where = page.inner_text("#where-checked")
    detector = page.evaluate("'BarcodeDetector' in window")
    assert ("sent to the passport service" in where) != detector  # says which way the photo was read
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    page.goto(f"{live.url}/v")
    page.set_input_files("#photo-input", str(junk))
    page.wait_for_selector("#photo-error:not([hidden])")
    assert "not an image" in page.inner_text("#photo-error")


def test_verification_time_in_the_browser(live, page, trusted_other):
    page.goto(f"{live.url}/v")
    page.wait_for_selector("html[data-ready='1']", state="attached")
    tokens = [trusted_other.sign() for _ in range(30)]
    times = page.evaluate("""async (tokens) => {
        const out = [];
        for (const t of tokens) { const r = await window.ccpVerify(t); if (r.result.result !== 'valid') throw new Error(r.result.reason); out.push(r.ms); }
        return out; }""", tokens)
    warm = sorted(times[1:])
    assert warm[len(warm) // 2] < 50, times


def test_offline_with_the_network_off(tmp_path_factory, browser):
    live, server = _start(tmp_path_factory, "verify-offline")
    try:
        (pid, token, name), (pid2, token2, _n2) = passports(live)
        context = browser.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        page.goto(f"{live.url}/v#{token}")
        assert result_of(page) == "valid"
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.reload()  # now controlled by the service worker, which caches what the page fetches
        assert result_of(page) == "valid"
        assert page.evaluate("navigator.serviceWorker.controller !== null")
    finally:
        server.shutdown()  # the service itself is gone, as well as the network
    try:
        context.set_offline(True)
        page.goto(f"{live.url}/v#{token2}")
        assert result_of(page) == "valid"  # signature checked on the device; status lists fresh enough
        assert "offline" in page.inner_text("#network-state").lower()
        h, p, s = token2.split(".")
        page.goto(f"{live.url}/v#{h}.{p}.{s[::-1]}")
        assert result_of(page) == "invalid"
        # Seven hours later the saved status lists (6-hour lifetime) are out of date: amber, with their age.
        context.clock.set_system_time(datetime.now(timezone.utc) + timedelta(hours=7))
        page.goto(f"{live.url}/v#{token}")
        assert result_of(page) == "valid_status_unknown"
        assert "vp-result--amber" in page.get_attribute("#result", "class")
        text = page.inner_text("#result-reason")
        # the plain words (served in the cached page) with the data's age and what to do
        assert "7 hours old" in text and "Connect to the internet" in text, text
        assert page.get_attribute("#result", "data-reason-code") == "status_stale"
    finally:
        context.close()
        dbm.get_engine(live.app).dispose()


ALTERED = ("This code has been altered or is not a care passport. Ask the person for their printed card or check "
           "with their employer.")


def test_plain_words_and_withheld_tasks_in_the_browser(live, page, trusted_other):
    """The page's words come from passport/verify/wording.py; not-current passports show no tasks."""
    page.goto(f"{live.url}/v#{trusted_other.sign()}")
    assert result_of(page) == "valid"
    reason = page.inner_text("#result-reason")
    assert reason.startswith("Genuine and in date. Not revoked, suspended or replaced as of ") and "today" in reason
    assert not page.is_hidden("#competencies-block") and page.is_hidden("#tasks-withheld")

    now = int(time.time())
    expired = trusted_other.sign(trusted_other.claims(iat=now - 4 * 365 * 86400, exp=now - 3600))
    page.goto(f"{live.url}/v#{expired}")
    assert result_of(page) == "expired"
    assert page.is_hidden("#competencies-block") and not page.is_hidden("#tasks-withheld")
    assert "not current" in page.inner_text("#what-certified")
    assert "expired on" in page.inner_text("#result-reason") and "Insulin" not in page.inner_text("#result")

    std = {"alg": "ES256", "kid": trusted_other.kid, "typ": "JWT", "zip": "DEF"}
    page.goto(f"{live.url}/v#{trusted_other.sign(header=std)}")
    assert result_of(page) == "invalid"
    assert page.inner_text("#result-reason") == ALTERED
    assert page.get_attribute("#result", "data-reason-code") == "wrong_type"
    got = page.evaluate("async (t) => (await window.ccpVerify(t)).result", "hello")
    assert got["reason_code"] == "not_a_passport_code" and "typ" not in got["reason"]


def test_status_older_than_the_setting_is_amber_in_the_browser(live, page):
    """VERIFY_STATUS_MAX_AGE_HOURS reaches the page: data two hours old with a one-hour setting is amber."""
    [(_pid, token, _name)] = passports(live, 1)
    live.app.config["VERIFY_STATUS_MAX_AGE_HOURS"] = 1
    try:
        page.clock.set_system_time(datetime.now(timezone.utc) + timedelta(hours=2))
        page.goto(f"{live.url}/v#{token}")
        assert result_of(page) == "valid_status_unknown"
    finally:
        live.app.config["VERIFY_STATUS_MAX_AGE_HOURS"] = 24
    assert page.get_attribute("#result", "data-reason-code") == "status_stale"
    assert "vp-result--amber" in page.get_attribute("#result", "class")
    reason = page.inner_text("#result-reason")
    assert "2 hours old" in reason and "Connect to the internet" in reason and "Not revoked" not in reason
