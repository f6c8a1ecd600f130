"""Hiring from one scan: a training lead at a new home checks the passport of someone not on the staff list,
and in the same flow adds them (membership via "passport"), chooses what to recognise and records a top-up."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from passport import audit
from passport.certificates import wire
from passport.core.access import Principal, today
from passport.core.models import Membership, Person, TrainingRecord
from passport.errors import ValidationError
from passport.verify import acceptance, settings
from passport.verify.models import Acceptance



@pytest.fixture
def new_home(make_org):
    return make_org("Meadow View (test)")


@pytest.fixture
def lead(make_person, new_home):
    return make_person(new_home, "training_lead", given_name="Lena", family_name="Lead")


def foreign_token(other_issuer, given="Joanna", family="Pereira"):
    """A format-2 passport from another trusted scheme: full 2025 Care Certificate, one in-date subject
    (safeguarding adults, 10) and one expired (moving and handling, 7)."""
    base = other_issuer.claims()
    done = today() - timedelta(days=400)
    claims = wire.claims_v2(
        iss=other_issuer.iss, jti=base["jti"], iat=base["iat"], exp=base["exp"], given_name=given, family_name=family,
        framework="2025", standards_mask=(1 << 16) - 1, awarded_on=today() - timedelta(days=500), competencies=[],
        subjects=[(10, done, today() + timedelta(days=300)), (7, done, today() - timedelta(days=35))],
        qualification=None, status=tuple(base["st"]))
    return other_issuer.sign(claims, header={"alg": "ES256", "kid": other_issuer.kid, "typ": "ccp+jwt"},
                             raw_payload=wire.canonical(claims))


def test_foreign_passport_creates_the_person_and_membership(app, db, other_issuer, new_home, lead):
    token = foreign_token(other_issuer)
    before = db.scalar(sa.select(sa.func.count(Person.id)))
    row = acceptance.accept(db, Principal(person=lead), settings(app), org_id=new_home.id, person_id=None, token=token,
                            standards=list(range(1, 17)), categories=[], top_up=[15],
                            top_up_note="Shadow shift on safeguarding.", subjects=[10],
                            new_person={"given_name": "Joanna", "family_name": "Pereira", "job_role": "senior_care_worker"})
    assert db.scalar(sa.select(sa.func.count(Person.id))) == before + 1
    person = row.person
    assert person.full_name == "Joanna Pereira" and person.email is None
    m = db.scalar(sa.select(Membership).where(Membership.person_id == person.id))
    assert (m.org_id, m.role, m.job_role, m.via) == (new_home.id, "worker", "senior_care_worker", "passport")
    assert m.via_ref.startswith(f"passport {row.jti}")
    recs = db.scalars(sa.select(TrainingRecord).where(TrainingRecord.person_id == person.id)).all()
    assert [r.category_code for r in recs] == [10]  # the expired subject (7) is not offered or recorded
    assert re.search(r"issued by Kennet Valley Care Group on \d{1,2} [A-Z][a-z]+ \d{4}, accepted by Lena Lead$",
                     recs[0].source_ref)
    assert row.top_ups == [15]
    actions = [a.action for a in db.scalars(sa.select(audit.AuditEntry).where(
        audit.AuditEntry.object_type.in_(("person", "membership", "acceptance"))))]
    assert {"person.create", "membership.create", "passport.accept"} <= set(actions)


def test_bad_new_person_fields_create_nothing(app, db, other_issuer, new_home, lead):
    before = db.scalar(sa.select(sa.func.count(Person.id)))
    with pytest.raises(ValidationError) as exc:
        acceptance.accept(db, Principal(person=lead), settings(app), org_id=new_home.id, person_id=None,
                          token=foreign_token(other_issuer), standards=[], categories=[], top_up=[],
                          new_person={"given_name": " ", "family_name": "Pereira", "job_role": "astronaut"})
    assert set(exc.value.fields) >= {"given_name", "job_role"}
    with pytest.raises(ValidationError) as exc:  # a different name needs a reason (photo ID seen)
        acceptance.accept(db, Principal(person=lead), settings(app), org_id=new_home.id, person_id=None,
                          token=foreign_token(other_issuer), standards=[], categories=[], top_up=[],
                          new_person={"given_name": "Someone", "family_name": "Else"})
    assert "name_note" in exc.value.fields
    assert db.scalar(sa.select(sa.func.count(Person.id))) == before


def test_own_passport_holder_joins_as_themselves(app, db, issue, worker, home, new_home, lead):
    passport = issue(worker, home)
    before = db.scalar(sa.select(sa.func.count(Person.id)))
    row = acceptance.accept(db, Principal(person=lead), settings(app), org_id=new_home.id, person_id=None,
                            token=passport.token, standards=[], categories=[], top_up=[],
                            new_person={"given_name": "Amelia", "family_name": "Okonkwo-Richardson",
                                        "job_role": "care_worker"})
    assert row.person_id == worker.id and db.scalar(sa.select(sa.func.count(Person.id))) == before
    assert db.scalar(sa.select(Membership.via).where(Membership.person_id == worker.id,
                                                     Membership.org_id == new_home.id)) == "passport"


def test_someone_already_on_staff_is_not_hired_again(app, db, issue, worker, home, lead, make_person):
    passport = issue(worker, home)
    home_lead = make_person(home, "training_lead", given_name="Hana", family_name="Lead")
    with pytest.raises(ValidationError) as exc:
        acceptance.accept(db, Principal(person=home_lead), settings(app), org_id=home.id, person_id=None,
                          token=passport.token, standards=[], categories=[], top_up=[],
                          new_person={"given_name": "Amelia", "family_name": "Okonkwo-Richardson"})
    assert "person" in exc.value.fields


def test_page_flow_hires_from_the_scan(app, client, login, db, other_issuer, new_home, lead):
    login(client, lead)
    token = foreign_token(other_issuer)
    page = client.post(f"/verify/orgs/{new_home.id}/accept", data={"token": token})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "new to your staff" in html
    assert re.search(r'<option selected value="new">|<option value="new" selected>', html)
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", re.sub(r"<[^>]+>", " ", html))  # no ISO dates shown
    done = client.post(f"/verify/orgs/{new_home.id}/accept/confirm", data={
        "token": token, "person": "new", "given_name": "Joanna", "family_name": "Pereira", "job_role": "care_worker",
        "standards": [str(n) for n in range(1, 17)], "subjects": ["10"], "top_up": ["16"], "top_up_note": ""})
    assert done.status_code == 302, done.get_data(as_text=True)
    row = db.scalar(sa.select(Acceptance).where(Acceptance.org_id == new_home.id))
    assert row.person.full_name == "Joanna Pereira"
    detail = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Joanna Pereira is on your staff" in detail


def test_only_accepting_roles_may_hire(app, client, login, db, other_issuer, new_home, make_person):
    worker_here = make_person(new_home, "worker", given_name="Wes", family_name="Worker")
    login(client, worker_here)
    token = foreign_token(other_issuer)
    assert client.post(f"/verify/orgs/{new_home.id}/accept", data={"token": token}).status_code == 403
    before = db.scalar(sa.select(sa.func.count(Person.id)))
    resp = client.post(f"/verify/orgs/{new_home.id}/accept/confirm", data={
        "token": token, "person": "new", "given_name": "Joanna", "family_name": "Pereira"})
    assert resp.status_code in (403, 404)
    assert db.scalar(sa.select(sa.func.count(Person.id))) == before


def test_page_offers_the_own_holder_by_the_passport_name_only(app, client, login, db, issue, worker, home, new_home,
                                                               lead):
    passport = issue(worker, home)
    worker.email = "amelia.private@example.test"
    db.flush()
    login(client, lead)
    html = client.post(f"/verify/orgs/{new_home.id}/accept", data={"token": passport.token}).get_data(as_text=True)
    assert f'value="{worker.id}">Amelia Okonkwo-Richardson – new to your staff' in html.replace(" selected", "")
    assert "amelia.private@example.test" not in html and home.name not in html
    done = client.post(f"/verify/orgs/{new_home.id}/accept/confirm", data={
        "token": passport.token, "person": str(worker.id), "job_role": "senior_care_worker"})
    assert done.status_code == 302
    m = db.scalar(sa.select(Membership).where(Membership.person_id == worker.id, Membership.org_id == new_home.id))
    assert m.via == "passport" and m.job_role == "senior_care_worker"
