"""A registered manager, as a new user would, issues a passport, prints the card, scans its QR and lands
on the verify URL; revoking it changes its published status. Real Chromium, real QR reader."""
from __future__ import annotations

import io

import jwt
import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from passport import db as dbm
from passport.certificates import keys as keyring, qr, services, status
from passport.core.models import Membership, Person, User
from passport.core.records import care_certificate_summary
from tests.conftest import sign_in

pytestmark = pytest.mark.browser


def _manager_and_worker(live):
    """A registered manager with a sign-in, and a worker at their home with a complete Care Certificate
    and no current passport."""
    with live.app.app_context():
        db = dbm.session
        manager = db.scalars(sa.select(Person).join(Membership).join(User, User.person_id == Person.id)
                             .where(Membership.role == "registered_manager").order_by(Person.id)).first()
        org_id = next(m.org_id for m in manager.memberships if m.role == "registered_manager")
        workers = db.scalars(sa.select(Person).join(Membership).where(
            Membership.org_id == org_id, Membership.role == "worker").order_by(Person.id)).all()
        worker = next(w for w in workers if care_certificate_summary(db, w.id)["2025"]["complete"]
                      and services.current_passport(db, w.id) is None)
        return manager.email, worker.id, worker.full_name


def _read(png: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert found, "no QR code found in the screenshot"
    return found[0].text


def test_manager_issues_prints_scans_and_revokes(browser, live_server):
    live = live_server
    email, worker_id, worker_name = _manager_and_worker(live)
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=3)
    page = context.new_page()
    try:
        sign_in(page, live, email)
        page.click(".nhsuk-card__link:text-is('Passports')")
        assert page.inner_text("h1").startswith("Passports")
        page.click(f"a:has-text('Issue'):has-text('{worker_name}')")
        assert worker_name in page.inner_text("h1")
        page.click("button:has-text('Issue a passport')")
        assert page.inner_text("h1") == f"Passport for {worker_name}"
        assert "Valid" in page.inner_text(".nhsuk-tag")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        passport_url = page.url

        page.click("text=Print the card")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.querySelector('.app-passport__qr img').naturalWidth > 0")
        page.emulate_media(media="print")
        card = page.locator(".app-passport").screenshot()
        assert len(page.pdf(width="210mm", height="297mm")) > 1000  # Chromium prints it
        page.emulate_media(media="screen")
        text = _read(card)
        assert text.startswith(live.url + "/v#")

        with live.app.app_context():
            p = services.current_passport(dbm.session, worker_id)
            assert qr.token_from_qr_text(text) == p.token
            list_id, index, kid = p.status_list_id, p.status_index, p.key.kid
            public = jwt.PyJWK(keyring.public_jwk(p.key)).key

        landing = page.goto(text)  # what a phone camera does with the scanned text
        assert landing.ok and page.url.split("#")[0] == live.url + "/v"

        def revoked_bit() -> bool:
            resp = page.request.get(f"{live.url}/status/{list_id}/revocation")
            assert resp.ok and resp.headers["access-control-allow-origin"] == "*"
            claims = jwt.decode(resp.text(), public, algorithms=["ES256"])
            assert jwt.get_unverified_header(resp.text())["kid"] == kid
            return status.bit(status.decode_list(claims["credentialSubject"]["encodedList"]), index)

        assert not revoked_bit()
        page.goto(passport_url)
        page.check("input[value=withdrawn_by_employer]")
        page.click("button:has-text('Revoke this passport')")
        assert "Revoked" in page.inner_text(".nhsuk-tag")
        assert revoked_bit()
    finally:
        context.close()


def test_worker_sees_my_passport_on_a_phone(page, live_server):
    live = live_server
    with live.app.app_context():
        db = dbm.session
        email = db.scalars(sa.select(Person.email).join(User, User.person_id == Person.id).join(Membership)
                           .where(Membership.role == "worker", Person.email.like("%@demo.passport.test"))
                           .order_by(Person.id)).first()
        person = db.scalar(sa.select(Person).where(Person.email == email))
        has_passport = services.current_passport(db, person.id) is not None
    sign_in(page, live, email)
    page.click(".nhsuk-card__link:has-text('My passport')")
    assert page.inner_text("h1") == "My passport"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    if has_passport:
        assert page.is_visible(".app-passport__qr img")
        assert page.is_visible("text=Image for your phone's photos")
        # The SVG, as the browser draws it, is read back by a real QR reader.
        src = page.get_attribute(".app-passport__qr img", "src")
        page.set_viewport_size({"width": 800, "height": 800})
        page.goto(live.url + src)
        text = _read(page.screenshot())
        with live.app.app_context():
            assert qr.token_from_qr_text(text) == services.current_passport(dbm.session, person.id).token
