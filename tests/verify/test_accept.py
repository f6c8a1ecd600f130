"""Accepting a new starter's passport at another home, and "who checked my passport"."""
from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from passport.core.access import Principal
from passport.core.models import Membership, StandardAchievement, TrainingRecord
from passport.errors import Conflict, PermissionDenied, ValidationError
from passport.verify import acceptance, settings
from passport.verify.models import Acceptance


@pytest.fixture
def new_home(make_org):
    return make_org("Meadow View (test)")


@pytest.fixture
def lead(make_person, new_home):
    return make_person(new_home, "training_lead", given_name="Lena", family_name="Lead")


def join(db, person, org, role="worker"):
    db.add(Membership(person_id=person.id, org_id=org.id, role=role, job_role="care_worker", start_date=date(2024, 1, 1)))
    db.flush()


def test_accept_creates_records_with_provenance(app, db, issue, worker, home, new_home, lead):
    passport = issue(worker, home)
    join(db, worker, new_home)
    row = acceptance.accept(db, Principal(person=lead), settings(app), org_id=new_home.id, person_id=worker.id,
                            token=f"https://passport.test/v#{passport.token}", standards=list(range(1, 17)),
                            categories=[7, 10], top_up=[], top_up_note="")
    assert row.name_check == "match" and row.jti == passport.jti and row.issuer_name == "Test Care Passport Scheme"
    # the worker's standards were already recorded here (same deployment): nothing duplicated
    assert [i for i in row.items if i.achievement_id] == []
    recs = db.scalars(sa.select(TrainingRecord).where(TrainingRecord.org_id == new_home.id,
                                                      TrainingRecord.source == "passport")).all()
    assert sorted(r.category_code for r in recs) == [7, 10]
    for r in recs:
        assert r.source_ref.startswith(f"Recognised from passport {passport.jti} issued by Test Care Passport Scheme on ")
        assert r.source_ref.endswith("accepted by Lena Lead") and r.recorded_by_id == lead.id
        assert r.expires_on is not None  # the new home's refresh periods apply


def test_accept_other_issuers_2015_certificate_with_top_up(app, db, other_issuer, make_person, new_home, lead):
    person = make_person(new_home, "worker", given_name="Zoë", family_name="O'Neill-Smith")
    claims = other_issuer.claims(n={"g": "Zoe", "f": "ONeill Smith"}, cc={"fw": "2015", "s": (1 << 15) - 1, "d": "2019-05-01"})
    token = other_issuer.sign(claims)
    assert acceptance.default_top_up(db, "2015") == [16]
    row = acceptance.accept(db, Principal(person=lead), settings(app), org_id=new_home.id, person_id=person.id,
                            token=token, standards=list(range(1, 16)), categories=[10], top_up=[16],
                            top_up_note="Book onto the autism awareness session.")
    assert row.top_ups == [16] and row.top_up_framework == "2025" and row.framework == "2015"
    achieved = db.scalars(sa.select(StandardAchievement).where(StandardAchievement.person_id == person.id)).all()
    assert sorted(a.standard_number for a in achieved) == list(range(1, 16))
    assert {a.framework for a in achieved} == {"2015"} and {a.source for a in achieved} == {"passport"}
    assert all(a.met_on == date(2019, 5, 1) for a in achieved)
    assert all("Kennet Valley Care Group" in a.source_ref for a in achieved)
    with pytest.raises(Conflict):
        acceptance.accept(db, Principal(person=lead), settings(app), org_id=new_home.id, person_id=person.id,
                          token=token, standards=[1], categories=[], top_up=[])


def test_acceptance_needs_a_valid_passport(app, db, issue, worker, home, new_home, lead):
    from passport.certificates import services as cservices

    passport = issue(worker, home)
    join(db, worker, new_home)
    cservices.revoke(db, None, passport.id, "issued_in_error")
    with pytest.raises(ValidationError) as exc:
        acceptance.accept(db, Principal(person=lead), settings(app), org_id=new_home.id, person_id=worker.id,
                          token=passport.token, standards=[1], categories=[], top_up=[])
    assert "revoked" in exc.value.message
    with pytest.raises(ValidationError):
        acceptance.accept(db, Principal(person=lead), settings(app), org_id=new_home.id, person_id=worker.id,
                          token=passport.token[:-3] + "AAA", standards=[1], categories=[], top_up=[])


def test_acceptance_needs_a_current_member_or_the_passports_holder(app, db, issue, worker, home, new_home, lead,
                                                                   make_person):
    passport = issue(worker, home)
    stranger = make_person(home, "worker", given_name=worker.given_name, family_name=worker.family_name)
    with pytest.raises(ValidationError) as exc:  # someone else who is not on the staff: refused
        acceptance.accept(db, Principal(person=lead), settings(app), org_id=new_home.id, person_id=stranger.id,
                          token=passport.token, standards=[1], categories=[], top_up=[])
    assert "person" in exc.value.fields
    # the holder of a passport issued here joins the organisation that accepts it, with the reason recorded
    row = acceptance.accept(db, Principal(person=lead), settings(app), org_id=new_home.id, person_id=worker.id,
                            token=passport.token, standards=[1], categories=[], top_up=[])
    m = db.scalar(sa.select(Membership).where(Membership.person_id == worker.id, Membership.org_id == new_home.id))
    assert m.via == "passport" and passport.jti in m.via_ref and str(row.id) in m.via_ref


def test_names_must_match_or_be_explained(app, db, issue, worker, home, new_home, lead, make_person):
    passport = issue(worker, home)
    someone_else = make_person(new_home, "worker", given_name="Bob", family_name="Builder")
    kwargs = dict(org_id=new_home.id, person_id=someone_else.id, token=passport.token, standards=[], categories=[],
                  top_up=[])
    with pytest.raises(ValidationError) as exc:
        acceptance.accept(db, Principal(person=lead), settings(app), **kwargs)
    assert "name_note" in exc.value.fields
    row = acceptance.accept(db, Principal(person=lead), settings(app), name_note="Changed name on marriage; "
                            "saw passport and marriage certificate.", **kwargs)
    assert row.name_check == "override"


def test_only_standards_the_passport_states(app, db, other_issuer, make_person, new_home, lead):
    person = make_person(new_home, "worker", given_name="Amelia", family_name="Okonkwo-Richardson")
    token = other_issuer.sign(other_issuer.claims(cc={"fw": "2025", "s": 0b111}))
    with pytest.raises(ValidationError) as exc:
        acceptance.accept(db, Principal(person=lead), settings(app), org_id=new_home.id, person_id=person.id,
                          token=token, standards=[1, 2, 3, 4], categories=[], top_up=[])
    assert "standards" in exc.value.fields


@pytest.mark.parametrize("role", ["worker", "assessor", "registered_professional"])
def test_wrong_role_denied(app, db, issue, worker, home, new_home, make_person, role):
    passport = issue(worker, home)
    join(db, worker, new_home)
    someone = make_person(new_home, role)
    with pytest.raises(PermissionDenied):
        acceptance.accept(db, Principal(person=someone), settings(app), org_id=new_home.id, person_id=worker.id,
                          token=passport.token, standards=[], categories=[], top_up=[])


def test_other_organisations_lead_denied(app, db, issue, worker, home, new_home, make_person, make_org):
    passport = issue(worker, home)
    join(db, worker, new_home)
    elsewhere = make_person(make_org(), "training_lead")
    with pytest.raises(PermissionDenied):
        acceptance.accept(db, Principal(person=elsewhere), settings(app), org_id=new_home.id, person_id=worker.id,
                          token=passport.token, standards=[], categories=[], top_up=[])


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_accept_journey_through_the_pages(client, db, login, other_issuer, make_person, new_home, lead):
    person = make_person(new_home, "worker", given_name="Amelia", family_name="Okonkwo-Richardson")
    token = other_issuer.sign()
    login(client, lead)
    assert "Accept a new starter" in client.get("/").get_data(as_text=True)
    start = client.get(f"/verify/orgs/{new_home.id}/accept")
    assert start.status_code == 200
    empty = client.post(f"/verify/orgs/{new_home.id}/accept", data={"token": ""})
    assert empty.status_code == 400 and "Paste the passport" in empty.get_data(as_text=True)
    shown = client.post(f"/verify/orgs/{new_home.id}/accept", data={"token": f"https://other-issuer.test/v#{token}"})
    html = shown.get_data(as_text=True)
    assert 'data-verification-result="valid"' in html and "Kennet Valley Care Group" in html
    assert f'<option selected value="{person.id}">' in html  # the name matched one person on the staff list
    resp = client.post(f"/verify/orgs/{new_home.id}/accept/confirm", data={
        "token": token, "person": str(person.id), "standards": [str(n) for n in range(1, 17)],
        "categories": ["10", "20"], "top_up": [], "name_note": "", "top_up_note": ""})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    detail = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Records added" in detail and "Care Certificate 2025 standard 16 met" in detail
    assert "Safeguarding adults" in detail
    listing = client.get(f"/verify/orgs/{new_home.id}/accepted").get_data(as_text=True)
    assert "Amelia Okonkwo-Richardson" in listing
    row = db.scalar(sa.select(Acceptance).where(Acceptance.person_id == person.id))
    assert len(row.items) == 18


def test_accept_pages_deny_other_roles(client, login, make_person, new_home, home):
    login(client, make_person(home, "training_lead"))
    assert client.get(f"/verify/orgs/{new_home.id}/accept").status_code == 403
    assert client.get(f"/verify/orgs/{new_home.id}/accepted").status_code == 403
    login(client, make_person(new_home, "worker"))
    assert client.get(f"/verify/orgs/{new_home.id}/accept").status_code == 403
    assert client.get("/verify/orgs/999999/accept").status_code == 404


def test_accept_a_revoked_passport_shows_why(client, db, login, issue, worker, home, new_home, lead):
    from passport.certificates import services as cservices

    passport = issue(worker, home)
    cservices.revoke(db, None, passport.id, "fraud")
    login(client, lead)
    html = client.post(f"/verify/orgs/{new_home.id}/accept", data={"token": passport.token}).get_data(as_text=True)
    assert 'data-verification-result="revoked"' in html and "accept-form" not in html


def test_who_checked_my_passport(client, db, login, issue, worker, home, new_home, lead, api_token):
    passport = issue(worker, home)
    client.post("/api/v1/verify", json={"token": passport.token})
    client.post("/api/v1/verify", json={"token": passport.token}, headers=api_token(lead, new_home.id, "training_lead"))
    from passport.verify.services import checks_for_person

    checks = checks_for_person(db, worker.id)
    assert [c.who for c in checks] == [new_home.name, "Someone not signed in (a public check)"]
    login(client, worker)
    page = client.get("/my-checks").get_data(as_text=True)
    assert new_home.name in page and "Someone not signed in" in page and "never sent to us" in page
    assert passport.token not in page
    dashboard = client.get("/").get_data(as_text=True)
    assert "Who checked my passport" in dashboard
    my_passport = client.get("/certificates/my").get_data(as_text=True)  # the certificates page shows them too
    assert "Who checked my passport" in my_passport and new_home.name in my_passport


def test_my_checks_needs_sign_in_and_is_only_mine(client, login, issue, worker, home, make_person):
    assert client.get("/my-checks").status_code == 302
    passport = issue(worker, home)
    client.post("/api/v1/verify", json={"token": passport.token})
    login(client, make_person(home, "worker"))
    page = client.get("/my-checks").get_data(as_text=True)
    assert "No one has checked your passport" in page
