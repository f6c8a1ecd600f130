"""The journey the scheme exists for, in Chromium, as new users would take it:

1. the scheme admin uploads the two endorsing partners' logos (one PNG, one SVG);
2. a registered manager issues a passport for a worker with mandatory training;
3. its printed card (PDF, rasterised at 200 dpi) shows both logos and its QR decodes with zxing-cpp;
4. a training lead at another home, on a phone-sized page, pastes the link, sees the subjects and the
   logos, and hires the worker from the scan;
5. the worker's records then appear at the new home with provenance.

Also: a logo whose bytes do not match the signed digest is not shown on the verify page.
Screenshots go to tests/artifacts/ (git-ignored).
"""
from __future__ import annotations

import io
import os
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from passport import db as dbm

pytestmark = pytest.mark.browser

ART = os.path.join(os.path.dirname(__file__), "artifacts")
PASSWORD = "journey-passport-2026"
TRUST = "Wessex Valley NHS Foundation Trust"
ASSOCIATION = "North Wessex Care Association"
TEAL, PURPLE = (0, 114, 118), (125, 35, 110)
ASSOCIATION_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="360" height="120" viewBox="0 0 360 120">
  <rect x="4" y="4" width="112" height="112" rx="24" fill="#7d236e"/>
  <circle cx="48" cy="60" r="26" fill="none" stroke="#ffb81c" stroke-width="9"/>
  <circle cx="72" cy="60" r="26" fill="none" stroke="#ffffff" stroke-width="9"/>
  <rect x="132" y="30" width="220" height="24" fill="#7d236e"/><rect x="132" y="66" width="160" height="24" fill="#7d236e"/>
</svg>"""


def _seed(app) -> dict:
    from werkzeug.security import generate_password_hash

    from passport import audit
    from passport.certificates import keys as keyring
    from passport.core import records, services
    from passport.core.models import Membership, Person, User

    from tests.verify.conftest import complete_cc

    ids = {}
    with app.app_context():
        db = dbm.session
        for purpose in ("passport", "trust"):
            keyring.create_key(db, app.config["KEY_DIR"], purpose)
        orgs = {key: services.create_organisation(db, None, {"name": name, "kind": kind}) for key, name, kind in (
            ("trust", TRUST, "nhs_trust"), ("association", ASSOCIATION, "care_association"),
            ("oaks", "The Oaks Care Home", "care_home"), ("meadow", "Meadow View Care Home", "care_home"))}
        services.save_scheme(db, None, {"name": "North Wessex Care Passport Scheme", "cc_version": "2025",
                                        "quality_threshold": "", "members": [o.id for o in orgs.values()],
                                        "endorsers": [orgs["trust"].id, orgs["association"].id]})
        hashed = generate_password_hash(PASSWORD)

        def person(key, given, family, org, roles, account=True):
            p = Person(given_name=given, family_name=family, email=f"{key}@journey.test" if account else None)
            db.add(p)
            db.flush()
            for role in roles:
                db.add(Membership(person_id=p.id, org_id=orgs[org].id, role=role, job_role="care_worker",
                                  start_date=date(2022, 1, 1), via="created"))
            if account:
                db.add(User(person_id=p.id, password_hash=hashed))
            db.flush()
            ids[key] = p.id
            return p

        person("admin", "Sarah", "Whitfield", "association", ["scheme_admin", "org_admin"])
        person("manager", "Grace", "Adeyemi", "oaks", ["registered_manager"])
        person("lead", "Lena", "Morris", "meadow", ["training_lead"])
        worker = person("worker", "Priya", "Raman", "oaks", ["worker"], account=False)
        complete_cc(db, worker, orgs["oaks"])
        for i, code in enumerate((6, 20, 15, 10, 13)):  # fire, safeguarding, moving, infection, medication
            records.add_training_record(db, None, person_id=worker.id, org_id=orgs["oaks"].id, category_code=code,
                                        completed_on=date.today() - timedelta(days=60 + 9 * i), source="course",
                                        actor=audit.Actor.system("journey"))
        db.commit()
        ids.update({f"org_{k}": o.id for k, o in orgs.items()})
        dbm.session.remove()
    return ids


@pytest.fixture(scope="module")
def journey(tmp_path_factory):
    from tests.conftest import start_live_server

    live, server = start_live_server(str(tmp_path_factory.mktemp("journey")), demo=False,
                                     VERIFY_TRUST_CACHE_SECONDS=0, VERIFY_STATUS_CACHE_SECONDS=0)
    ids = _seed(live.app)
    yield live, ids
    server.shutdown()
    dbm.get_engine(live.app).dispose()


def _sign_in(page, live, key):
    page.goto(live.url + "/sign-in")
    page.fill("#email", f"{key}@journey.test")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _count(img, box, colour, tol=40) -> int:
    region = img.crop(box)
    return sum(1 for px in region.get_flattened_data() if all(abs(px[i] - colour[i]) <= tol for i in range(3)))


def test_hire_from_one_scan(browser, journey, tmp_path):
    import pypdfium2 as pdfium
    import zxingcpp

    from passport.verify.demo_logos import draw

    live, ids = journey
    os.makedirs(ART, exist_ok=True)
    trust_png = tmp_path / "wessex-valley.png"
    trust_png.write_bytes(draw(TRUST))
    assoc_svg = tmp_path / "north-wessex.svg"
    assoc_svg.write_text(ASSOCIATION_SVG)

    # 1. the scheme admin uploads the two logos (desktop)
    desk = browser.new_context(viewport={"width": 1366, "height": 768})
    page = desk.new_page()
    _sign_in(page, live, "admin")
    page.goto(live.url + "/verify/trust")
    page.click("text=Upload the endorsing partners' logos")
    for name, path in ((TRUST, trust_png), (ASSOCIATION, assoc_svg)):
        item = page.locator(f'li[data-endorser="{name}"]')
        item.locator("input[type=file]").set_input_files(str(path))
        item.locator("button[value=upload]").click()
        page.wait_for_load_state()
        assert "was saved" in page.inner_text("body")
    # a file that is not a logo is refused with a clear field error
    bad = tmp_path / "notes.txt"
    bad.write_text("not a picture")
    item = page.locator(f'li[data-endorser="{TRUST}"]')
    item.locator("input[type=file]").set_input_files(str(bad))
    item.locator("button[value=upload]").click()
    page.wait_for_load_state()
    assert "Upload the logo as a PNG, JPEG or SVG file." in page.inner_text(".nhsuk-error-message")
    page.goto(live.url + "/verify/logos")
    assert page.locator("img.app-logo-preview").count() == 2
    assert page.evaluate("Array.from(document.querySelectorAll('img.app-logo-preview')).every(i => i.naturalWidth > 0)")
    page.screenshot(path=os.path.join(ART, "journey-1-logos-1366.png"), full_page=True)
    desk.close()

    # 2. the registered manager issues the worker's passport
    desk = browser.new_context(viewport={"width": 1366, "height": 768})
    page = desk.new_page()
    _sign_in(page, live, "manager")
    page.goto(f"{live.url}/certificates/people/{ids['worker']}")
    page.click("button:has-text('Issue a passport')")
    page.wait_for_load_state()
    assert page.locator(".app-passport__logo--image img").count() == 2
    assert page.evaluate("Array.from(document.querySelectorAll('.app-passport__logo--image img'))"
                         ".every(i => i.naturalWidth > 0)")
    page.screenshot(path=os.path.join(ART, "journey-2-passport-1366.png"), full_page=True)
    card_href = page.locator("a[href$='/download/card.pdf']").first.get_attribute("href")
    pdf_bytes = page.request.get(live.url + card_href).body()
    # the A4 sheet and the phone image carry the same logos along the bottom
    a4 = pdfium.PdfDocument(page.request.get(live.url + card_href.replace("card.pdf", "a4.pdf")).body())
    sheet = a4[0].render(scale=200 / 72).to_pil().convert("RGB")
    a4.close()
    sheet.save(os.path.join(ART, "journey-2-a4-200dpi.png"))
    bottom = (0, int(sheet.size[1] * 0.85), sheet.size[0], sheet.size[1])
    assert _count(sheet, bottom, PURPLE) > 1000 and _count(sheet, bottom, TEAL) > 1000
    phone_png = page.request.get(live.url + card_href.replace("card.pdf", "phone.png")).body()
    with open(os.path.join(ART, "journey-2-phone-image.png"), "wb") as fh:
        fh.write(phone_png)
    desk.close()

    # 3. the printed card at 200 dpi: both logos along the bottom, and the QR decodes
    pdf = pdfium.PdfDocument(pdf_bytes)
    front = pdf[0].render(scale=200 / 72).to_pil().convert("RGB")
    pdf.close()
    front.save(os.path.join(ART, "journey-3-card-200dpi.png"))
    mm = 200 / 25.4
    W, H = front.size
    strip = (0, int(H - 12 * mm), int(W - 45 * mm), H)  # the strip under the text column, left of the QR
    half = (strip[2] - strip[0]) // 2
    halves = [(strip[0], strip[1], strip[0] + half, strip[3]), (strip[0] + half, strip[1], strip[2], strip[3])]
    counts = [(_count(front, box, PURPLE), _count(front, box, TEAL)) for box in halves]
    # the partners in name order: the association's (purple) logo, then the trust's (teal)
    assert counts[0][0] > 300 and counts[1][1] > 300 and counts[0][1] < 50 and counts[1][0] < 50, counts
    codes = zxingcpp.read_barcodes(front)
    assert codes, "the card's QR did not decode at 200 dpi"
    link = codes[0].text
    assert link.startswith(live.url + "/v#")

    # 4. a training lead at another home, on a phone, pastes the link and hires from the scan
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = phone.new_page()
    _sign_in(page, live, "lead")
    page.goto(f"{live.url}/verify/orgs/{ids['org_meadow']}/accept")
    page.fill("textarea[name=token]", link)
    page.click("button:has-text('Check passport')")
    page.wait_for_load_state()
    body = page.inner_text("main")
    assert "Priya Raman" in body
    for subject in ("Fire safety", "Safeguarding adults", "Medication management"):
        assert subject in body
    assert "Endorsed by" in body
    logos = page.locator("[data-endorsed-by] img")
    assert logos.count() == 2
    assert page.evaluate("Array.from(document.querySelectorAll('[data-endorsed-by] img')).every(i => i.naturalWidth > 0)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    page.screenshot(path=os.path.join(ART, "journey-4-scan-phone.png"), full_page=True)
    chosen = page.evaluate("(() => { const s = document.querySelector('select[name=person]');"
                           " return s.options[s.selectedIndex].text; })()")
    assert chosen == "Priya Raman – new to your staff: add them from this passport"
    page.select_option("select[name=job_role]", "care_worker")
    page.click("button:has-text('Accept and add records')")
    page.wait_for_load_state()
    assert "Priya Raman is on your staff" in page.inner_text("main")
    page.screenshot(path=os.path.join(ART, "journey-5-hired-phone.png"), full_page=True)

    # 5. their records are at the new home, with provenance
    with live.app.app_context():
        from passport.core.models import Membership, TrainingRecord

        db = dbm.session
        m = db.scalar(sa.select(Membership).where(Membership.person_id == ids["worker"],
                                                  Membership.org_id == ids["org_meadow"]))
        assert m is not None and m.via == "passport"
        recs = db.scalars(sa.select(TrainingRecord).where(TrainingRecord.person_id == ids["worker"],
                                                          TrainingRecord.org_id == ids["org_meadow"])).all()
        assert {6, 20, 15, 10, 13} <= {r.category_code for r in recs}
        assert all(r.source == "passport" and "issued by North Wessex Care Passport Scheme on " in r.source_ref
                   and r.source_ref.endswith("accepted by Lena Morris") for r in recs)
        dbm.session.remove()
    page.goto(f"{live.url}/people/{ids['worker']}")
    assert "Fire safety" in page.inner_text("main")
    page.screenshot(path=os.path.join(ART, "journey-6-records-phone.png"), full_page=True)
    phone.close()

    # the verify page on a phone shows the logos (checked against the signed digests in the browser)
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    page = phone.new_page()
    page.goto(link)
    page.wait_for_selector("#endorsed-block:not([hidden]) img.vp-logo__img >> nth=1", timeout=15000)
    page.screenshot(path=os.path.join(ART, "journey-7-verify-phone.png"), full_page=True)
    phone.close()

    # a tampered logo (bytes that do not match the signed digest) is not shown; the name is, instead
    phone = browser.new_context(viewport={"width": 390, "height": 844}, service_workers="block")
    page = phone.new_page()
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (300, 100), (255, 0, 0)).save(buf, format="PNG")
    page.route("**/v/logo/**", lambda route: route.fulfill(status=200, content_type="image/png", body=buf.getvalue()))
    page.goto(link)
    page.wait_for_selector("#endorsed-block:not([hidden])")
    page.wait_for_timeout(1500)
    assert page.locator("img.vp-logo__img").count() == 0
    assert TRUST in page.inner_text("#endorsed-logos") and ASSOCIATION in page.inner_text("#endorsed-logos")
    page.screenshot(path=os.path.join(ART, "journey-8-tampered-logo-phone.png"), full_page=True)
    phone.close()
