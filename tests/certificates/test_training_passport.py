"""Mandatory training and the Level 2 Adult Social Care Certificate in the passport (format version 2):
what is stated, the QR budget, the packed QR form, reading old tokens, recognising them at a new home,
and the printed card scanning at 200 dpi."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import zxingcpp
from PIL import Image

from passport import audit
from passport.certificates import qr, render, services, tokens, wire
from passport.core import qualifications, records
from passport.core.access import Principal, today
from passport.core.models import Qualification, TrainingRecord
from passport.errors import PermissionDenied, ValidationError

SIXTEEN = [6, 7, 8, 9, 10, 13, 14, 15, 16, 19, 20, 22, 23, 25, 28, 32]
EIGHT_TASKS = ["insulin_pen", "blood_glucose", "dry_dressing", "catheter_care", "stoma_care", "peg_feeding",
               "eye_drops", "bowel_care"]


def add_subjects(db, person, org, codes, *, ago: int = 40):
    for i, code in enumerate(codes):
        records.add_training_record(db, None, person_id=person.id, org_id=org.id, category_code=code,
                                    completed_on=today() - timedelta(days=ago + 7 * i), source="course",
                                    actor=audit.Actor.system("tests"))


def add_l2(db, person, org):
    from passport.courses.qualifications import record_l2_ascc

    return record_l2_ascc(db, None, person_id=person.id, org_id=org.id, qualification_number="610/4009/5",
                          achieved_on=today() - timedelta(days=100), actor=audit.Actor.system("tests"))


def tasks(n):
    return [(t, "safe_unsupervised", today() + timedelta(days=200 + 17 * i)) for i, t in enumerate(EIGHT_TASKS[:n])]


def read(png: bytes) -> list:
    return zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))


def test_worst_case_fits_version_22_and_typical_version_15(db, home, issue, public_url):
    org, people = home
    worst, typical = people["worker"], people["worker2"]
    add_subjects(db, worst, org, SIXTEEN)
    add_l2(db, worst, org)
    add_subjects(db, typical, org, SIXTEEN[:10])
    p = issue(worst, competencies=tasks(8))
    assert len(p.subjects) == 16 and p.qualification[:2] == ["NQual", "610/4009/5"] and len(p.competencies) == 8
    assert p.awarded_on is not None and p.qr_mode == "packed" and p.qr_version <= 22
    t = issue(typical, competencies=tasks(1))
    assert len(t.subjects) == 10 and t.qr_version <= 15
    for passport in (p, t):
        found = read(render.artifact(db, passport, "qr.png", public_url))
        assert len(found) == 1 and found[0].ec_level == "Q"
        assert qr.token_from_qr_text(found[0].text) == passport.token


def test_only_in_date_subjects_in_the_scheme_setting_are_stated(db, home, issue, make_org, make_person, principal):
    org, people = home
    w = people["worker"]
    add_subjects(db, w, org, [6, 20])
    records.add_training_record(db, None, person_id=w.id, org_id=org.id, category_code=13,  # expired
                                completed_on=today() - timedelta(days=500), source="course")
    records.add_training_record(db, None, person_id=w.id, org_id=org.id, category_code=2,  # not a core subject
                                completed_on=today() - timedelta(days=5), source="course")
    assert [s[0] for s in issue(w).subjects] == [6, 20]
    admin = make_person(make_org(), "scheme_admin")
    from passport.core import services as core_services

    if core_services.get_scheme(db) is None:
        core_services.save_scheme(db, None, {"name": "Subjects Test Scheme", "cc_version": "2025",
                                             "quality_threshold": "", "members": [org.id], "endorsers": []})
    with pytest.raises(PermissionDenied):
        services.set_passport_subjects(db, principal(people["manager"]), [6])
    with pytest.raises(ValidationError) as err:
        services.set_passport_subjects(db, principal(admin), [999])
    assert "subjects" in err.value.fields
    assert services.set_passport_subjects(db, principal(admin), [2, 20]) == [2, 20]
    assert [s[0] for s in issue(w).subjects] == [2, 20]
    assert services.set_passport_subjects(db, principal(admin), None) == list(services.DEFAULT_SUBJECTS)


def test_qualification_needs_an_ofqual_number_and_keeps_its_units(db, home):
    org, people = home
    with pytest.raises(ValidationError) as err:
        qualifications.record_qualification(db, None, person_id=people["worker"].id, org_id=org.id,
                                            awarding_organisation="NQual", qualification_number="6104009",
                                            achieved_on=today())
    assert "qualification_number" in err.value.fields
    q = add_l2(db, people["worker"], org)
    assert q.awarding_organisation == "NQual" and len(q.units) == 15 and q.units[0].reference == "A/651/1482"
    assert qualifications.current_qualification(db, people["worker"].id).id == q.id


def test_packed_form_round_trips_and_refuses_damage(db, home, issue, public_url):
    org, people = home
    add_subjects(db, people["worker"], org, SIXTEEN[:3])
    p = issue(people["worker"], competencies=tasks(2) + [("local_task", "observed", today() + timedelta(days=9))])
    text = qr.qr_text(p.token, public_url, "packed")
    assert wire.jws_from_fragment(text.split("#")[1], wire.iss_of_link(text)) == p.token
    frag = text.split("#")[1]
    with pytest.raises(wire.WireError, match="whole link"):
        wire.jws_from_fragment(frag, None)
    for bad in (frag[:-1], frag + "000", frag[:40] + "99999999999999999" + frag[57:]):
        try:
            rebuilt = wire.jws_from_fragment(bad, public_url)
        except wire.WireError:
            continue
        assert rebuilt != p.token


def _check(app, db, text, now=None):
    from passport.verify import services as vservices, settings

    return vservices.check(db, settings(app), text, channel="cli", log=False, now=now)


def test_verifier_lists_subjects_and_qualification_with_in_date_wording(app, db, home, issue, public_url):
    org, people = home
    add_subjects(db, people["worker"], org, [6, 20])  # both refresh yearly
    add_l2(db, people["worker"], org)
    p = issue(people["worker"])
    result = _check(app, db, qr.qr_text(p.token, public_url, p.qr_mode))
    assert result.state == "valid", result.reason
    body = result.to_json()["passport"]
    names = [m["name"] for m in body["mandatory_training"]]
    assert names == ["Fire safety", "Safeguarding adults"]
    assert all(m["in_date"] and m["wording"].startswith("In date until ") for m in body["mandatory_training"])
    assert body["qualification"]["qualification_number"] == "610/4009/5"
    assert body["qualification"]["wording"].startswith("Achieved ")
    # two years on the passport is still in date, but the yearly subjects have expired
    from passport.verify.verifier import facts

    later = p.claims["iat"] + 2 * 365 * 86400
    expired = facts(p.claims, now=later)["mandatory_training"]
    assert [m["in_date"] for m in expired] == [False, False]
    assert expired[0]["wording"].startswith("Expired on ")


def test_version_one_tokens_still_verify(app, db, home, issue, keys, key_dir, public_url):
    org, people = home
    p = issue(people["worker"])
    claims = tokens.build_claims(iss=public_url, jti=tokens.new_jti(), iat=p.claims["iat"], exp=p.claims["exp"],
                                 given_name="Amelia", family_name="Okonkwo-Richardson", framework="2025",
                                 standards_mask=65535, awarded_on=today(),
                                 competencies=[["insulin_pen", "supervised", (today() + timedelta(days=30)).isoformat()]],
                                 status=(p.status_list_id, p.status_index))
    v1 = tokens.sign_token(claims, p.key, key_dir)
    assert tokens.peek_unverified(v1)[0]["zip"] == "DEF"
    for text in (v1, public_url + "/v#" + v1, public_url + "/v#" + qr.to_digits(v1)):
        result = _check(app, db, text)
        assert result.state == "valid", result.reason
        assert result.passport["competencies"][0]["task"] == "insulin_pen"
        assert result.passport["mandatory_training"] == [] and result.passport["qualification"] is None


def test_accepting_recognises_subjects_and_qualification_with_provenance(app, db, home, issue, make_org,
                                                                        make_person, public_url):
    from passport.core.models import Membership
    from passport.verify import acceptance, settings

    org, people = home
    w = people["worker"]
    add_subjects(db, w, org, [6, 20, 13])
    add_l2(db, w, org)
    p = issue(w)
    new_home = make_org("Meadow View (training test)")
    lead = make_person(new_home, "training_lead")
    db.add(Membership(person_id=w.id, org_id=new_home.id, role="worker", job_role="care_worker",
                      start_date=date(2024, 1, 1)))
    db.flush()
    link = qr.qr_text(p.token, public_url, p.qr_mode)
    with pytest.raises(ValidationError) as err:
        acceptance.accept(db, Principal(person=lead), settings(app), org_id=new_home.id, person_id=w.id,
                          token=link, standards=[], categories=[], top_up=[], subjects=[2])
    assert "subjects" in err.value.fields
    row = acceptance.accept(db, Principal(person=lead), settings(app), org_id=new_home.id, person_id=w.id,
                            token=link, standards=[], categories=[], top_up=[], subjects=[6, 20], qualification=True)
    recs = [db.get(TrainingRecord, i.training_record_id) for i in row.items if i.training_record_id]
    assert sorted(r.category_code for r in recs) == [6, 20]
    for r in recs:
        stated = dict((s[0], s) for s in p.subjects)[r.category_code]
        assert r.org_id == new_home.id and r.source == "passport" and p.jti in r.source_ref
        assert r.completed_on.isoformat() == stated[1] and r.expires_on.isoformat() <= stated[2]
    q = db.query(Qualification).filter_by(person_id=w.id, org_id=new_home.id).one()
    assert q.source == "passport" and q.qualification_number == "610/4009/5" and p.jti in q.source_ref


@pytest.mark.parametrize("kind", ["card.pdf", "a4.pdf"])
def test_printed_qr_decodes_at_200_dpi(db, home, issue, public_url, kind):
    """The worst-case passport's printed code, rasterised at 200 dpi (a cheap office scan), still reads."""
    import pypdfium2

    org, people = home
    add_subjects(db, people["worker"], org, SIXTEEN)
    add_l2(db, people["worker"], org)
    p = issue(people["worker"], competencies=tasks(8))
    pdf = pypdfium2.PdfDocument(render.artifact(db, p, kind, public_url))
    texts = []
    for page in pdf:
        img = page.render(scale=200 / 72).to_pil()
        texts += [r.text for r in zxingcpp.read_barcodes(img)]
    assert texts == [qr.qr_text(p.token, public_url, p.qr_mode)]


@pytest.mark.browser
def test_verify_page_reads_the_packed_qr_and_lists_training(tmp_path_factory, browser):
    """The in-browser verifier rebuilds the token from the packed QR link and lists the subjects and the
    qualification with in-date wording, on a phone-sized page."""
    from passport import db as dbm
    from passport.certificates import keys as keyring
    from passport.core import services as core_services
    from passport.core.models import Membership, Person
    from tests.conftest import start_live_server

    live, server = start_live_server(str(tmp_path_factory.mktemp("packed")), demo=False,
                                     VERIFY_TRUST_CACHE_SECONDS=0, VERIFY_STATUS_CACHE_SECONDS=0)
    try:
        app = live.app
        with app.app_context():
            db = dbm.session
            for purpose in ("passport", "trust"):
                keyring.create_key(db, app.config["KEY_DIR"], purpose)
            home = core_services.create_organisation(db, None, {"name": "The Oaks Care Home", "kind": "care_home"})
            core_services.save_scheme(db, None, {"name": "North Wessex Care Passport Scheme", "cc_version": "2025",
                                                 "quality_threshold": "", "members": [home.id], "endorsers": [home.id]})
            person = Person(given_name="Zoë", family_name="O'Neill-Smith")
            db.add(person)
            db.flush()
            db.add(Membership(person_id=person.id, org_id=home.id, role="worker", start_date=date(2022, 1, 1)))
            db.flush()
            add_subjects(db, person, home, SIXTEEN)
            add_l2(db, person, home)
            p = services.issue_passport(db, None, person.id, home.id, key_dir=app.config["KEY_DIR"],
                                        public_url=app.config["PUBLIC_URL"], competencies=tasks(3))
            link = qr.qr_text(p.token, app.config["PUBLIC_URL"], p.qr_mode)
            db.commit()
            dbm.session.remove()
        assert "#p" in link
        context = browser.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        page.goto(link)
        page.wait_for_selector("#result:not([hidden])")
        assert page.get_attribute("#result", "data-verification-result") == "valid"
        assert page.text_content("#holder-name") == "Zoë O'Neill-Smith"
        rows = page.locator("#training tr")
        assert rows.count() == 16
        assert "Fire safety" in rows.nth(0).text_content() and "In date" in rows.nth(0).text_content()
        assert "610/4009/5" in page.text_content("#qualification")
        assert page.locator("#competencies tr").count() == 3
        context.close()
    finally:
        server.shutdown()


def test_show_to_a_checker_page(client, login, home, issue):
    org, people = home
    p = issue(people["worker"])
    assert client.get("/certificates/my/show").status_code in (302, 401)  # signed out: no passport shown
    login(client, people["worker"])
    html = client.get("/certificates/my/show").get_data(as_text=True)
    assert "Amelia Okonkwo-Richardson" in html and f"/certificates/passports/{p.id}/download/qr.svg" in html
    assert "Show to a checker" in client.get("/certificates/my").get_data(as_text=True)
    login(client, people["newbie"])  # no passport yet: back to My passport, which says so
    assert client.get("/certificates/my/show").headers["Location"].endswith("/certificates/my")


@pytest.mark.browser
def test_show_to_a_checker_fits_a_phone_without_scrolling(live_server, browser, tmp_path):
    """On a 390 x 844 phone the QR spans the width at the top, the name is visible, nothing scrolls; the
    code on screen scans."""
    from tests.conftest import sign_in

    from passport import db as dbm
    from passport.certificates.models import Passport
    from passport.core.models import Person, User

    with live_server.app.app_context():
        row = dbm.session.query(Passport, Person).join(Person, Person.id == Passport.person_id).join(
            User, User.person_id == Person.id).filter(Passport.superseded_at.is_(None),
                                                      Passport.revoked_at.is_(None)).first()
        email = row[1].email
        dbm.session.remove()
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = context.new_page()
    sign_in(page, live_server, email)
    page.goto(live_server.url + "/certificates/my/show")
    page.wait_for_load_state("networkidle")
    box = page.locator(".app-show__qr img").bounding_box()
    assert box["y"] < 10 and box["width"] >= 0.95 * 390
    name = page.locator(".app-show__name").bounding_box()
    assert name["y"] + name["height"] <= 844
    assert page.evaluate("document.documentElement.scrollHeight") <= 844
    shot = tmp_path / "show.png"
    page.screenshot(path=str(shot))
    found = zxingcpp.read_barcodes(Image.open(shot))
    assert len(found) == 1 and "/v#p" in found[0].text
    context.close()
