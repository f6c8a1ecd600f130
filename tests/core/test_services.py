"""Core services: validation with field errors, nothing half-saved, audit entries for changes."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from passport.audit import AuditEntry
from passport.core import records, services
from passport.core.access import Principal
from passport.core.models import Membership, Person, TrainingRecord
from passport.errors import PermissionDenied, ValidationError


def test_create_person_validates_every_field_at_once(db, make_org, make_person):
    org = make_org()
    admin = Principal(make_person(org, "org_admin"))
    make_person(org, email="taken@example.test")
    with pytest.raises(ValidationError) as exc:
        services.create_person(db, admin, org.id, {
            "given_name": "", "family_name": "x" * 101, "email": "taken@example.test",
            "registration_body": "NMC", "registration_pin": "nope", "role": "captain", "job_role": "astronaut"})
    # An address in use is not a field error (that would say someone has it): see EmailInUse.
    assert set(exc.value.fields) == {"given_name", "family_name", "registration_pin", "role", "job_role"}
    assert db.scalar(sa.select(sa.func.count()).select_from(Person).where(Person.family_name == "x" * 101)) == 0


def test_email_is_normalised_and_unique_case_insensitively(db, make_org, make_person):
    org = make_org()
    admin = Principal(make_person(org, "org_admin"))
    p = services.create_person(db, admin, org.id, {"given_name": "Jo", "family_name": "Bloggs",
                                                   "email": "Jo.Bloggs@Example.TEST", "role": "worker"})
    assert p.email == "jo.bloggs@example.test"
    with pytest.raises(services.EmailInUse) as exc:
        services.create_person(db, admin, org.id, {"given_name": "Jo", "family_name": "B",
                                                   "email": "JO.BLOGGS@example.test", "role": "worker"})
    assert exc.value.email == "jo.bloggs@example.test"


def test_registered_professional_needs_a_valid_pin(db, make_org, make_person):
    org = make_org(kind="community_nursing")
    admin = Principal(make_person(org, "org_admin"))
    with pytest.raises(ValidationError) as exc:
        services.create_person(db, admin, org.id, {"given_name": "N", "family_name": "Urse",
                                                   "role": "registered_professional"})
    assert "registration_pin" in exc.value.fields
    nurse = services.create_person(db, admin, org.id, {"given_name": "N", "family_name": "Urse", "role":
                                   "registered_professional", "registration_body": "NMC",
                                   "registration_pin": "12a 3456e"})
    assert nurse.registration_pin == "12A3456E"


def test_organisation_ids_are_validated(db, make_org, make_person):
    admin = Principal(make_person(make_org(), "scheme_admin"))
    with pytest.raises(ValidationError) as exc:
        services.create_organisation(db, admin, {"name": "X", "kind": "castle", "cqc_location_id": "123",
                                                 "ods_code": "toolongcode"})
    assert set(exc.value.fields) == {"kind", "cqc_location_id", "ods_code"}
    org = services.create_organisation(db, admin, {"name": "Y", "kind": "care_home",
                                                   "cqc_location_id": "1-123456789", "ods_code": "vx1"})
    assert org.ods_code == "VX1"
    with pytest.raises(ValidationError) as exc:
        services.create_organisation(db, admin, {"name": "Y", "kind": "care_home", "cqc_location_id": "1-123456789"})
    assert set(exc.value.fields) == {"name", "cqc_location_id"}


def test_only_scheme_admins_add_organisations_and_scheme_admins(db, make_org, make_person):
    org = make_org()
    admin = Principal(make_person(org, "org_admin"))
    with pytest.raises(PermissionDenied):
        services.create_organisation(db, admin, {"name": "Z", "kind": "care_home"})
    with pytest.raises(PermissionDenied):
        services.create_person(db, admin, org.id, {"given_name": "A", "family_name": "B", "role": "scheme_admin"})


def test_memberships_over_time_and_across_organisations(db, make_org, make_person):
    a, b = make_org(), make_org()
    admin_a, admin_b = Principal(make_person(a, "org_admin")), Principal(make_person(b, "org_admin"))
    worker = make_person(a)
    from passport.core import invitations

    inv, _token = invitations.create_invitation(db, admin_b, b.id, {"email": worker.email, "roles": ["worker"]})
    invitations.accept(db, worker, inv)[0].start_date = date(2024, 1, 1)
    assert {o.id for o in records.organisations_of(db, worker.id)} >= {a.id, b.id}
    m = db.scalar(sa.select(Membership).where(Membership.person_id == worker.id, Membership.org_id == b.id))
    with pytest.raises(PermissionDenied):
        services.end_membership(db, admin_a, m.id)
    services.end_membership(db, admin_b, m.id, date.today() - timedelta(days=1))
    assert worker.id not in {p.id for p in services.people_in_org(db, b.id)}


def test_changes_are_audited(db, make_org, make_person):
    org = make_org()
    admin = Principal(make_person(org, "org_admin"))
    p = services.create_person(db, admin, org.id, {"given_name": "Au", "family_name": "Dit", "role": "worker"})
    entry = db.scalar(sa.select(AuditEntry).where(AuditEntry.action == "person.create",
                                                  AuditEntry.object_id == str(p.id)))
    assert entry.actor_id == admin.person_id and entry.org_id == org.id


def test_record_expiry_uses_refresh_period_and_overrides(db, make_org, make_person):
    org = make_org()
    lead = Principal(make_person(org, "training_lead"))
    worker = make_person(org, job_role="care_worker")
    cat = db.scalar(sa.text("SELECT code FROM core_training_category WHERE refresh_months = 12 LIMIT 1"))
    r = records.add_training_record(db, lead, person_id=worker.id, org_id=org.id, category_code=cat,
                                    completed_on=date(2025, 1, 31), source="manual")
    assert r.expires_on == date(2026, 1, 31)
    records.set_refresh_override(db, lead, org.id, cat, "care_worker", 6)
    r2 = records.add_training_record(db, lead, person_id=worker.id, org_id=org.id, category_code=cat,
                                     completed_on=date(2025, 8, 31), source="manual")
    assert r2.expires_on == date(2026, 2, 28)
    assert [x.id for x in records.current_records(db, worker.id)] == [r2.id]


def test_corrections_keep_history(db, make_org, make_person):
    org = make_org()
    lead = Principal(make_person(org, "training_lead"))
    worker = make_person(org)
    r = records.add_training_record(db, lead, person_id=worker.id, org_id=org.id, category_code=1,
                                    completed_on=date(2025, 3, 1), source="manual")
    with pytest.raises(ValidationError):
        records.correct_training_record(db, lead, r.id, reason="", completed_on=date(2025, 3, 2))
    fixed = records.correct_training_record(db, lead, r.id, reason="Wrong date typed", completed_on=date(2025, 3, 2))
    assert fixed.supersedes_id == r.id
    assert db.get(TrainingRecord, r.id).completed_on == date(2025, 3, 1)  # never overwritten
    assert [x.id for x in records.current_records(db, worker.id)] == [fixed.id]
    with pytest.raises(ValidationError):
        records.correct_training_record(db, lead, r.id, reason="again", completed_on=date(2025, 3, 3))


def test_records_need_a_membership_and_a_role(db, make_org, make_person):
    org, other = make_org(), make_org()
    stranger = make_person(other)
    lead = Principal(make_person(org, "training_lead"))
    with pytest.raises(ValidationError) as exc:
        records.add_training_record(db, lead, person_id=stranger.id, org_id=org.id, category_code=1,
                                    completed_on=date(2025, 1, 1), source="manual")
    assert "person" in exc.value.fields
    worker = Principal(make_person(org))
    with pytest.raises(PermissionDenied):
        records.add_training_record(db, worker, person_id=worker.person_id, org_id=org.id, category_code=1,
                                    completed_on=date(2025, 1, 1), source="manual")


def test_care_certificate_summary(db, make_org, make_person):
    org = make_org()
    manager = Principal(make_person(org, "registered_manager"))
    worker = make_person(org)
    for n in range(1, 16):
        records.record_achievement(db, manager, person_id=worker.id, org_id=org.id, framework="2015",
                                   standard_number=n, met_on=date(2024, 1, n), source="assessment")
    summary = records.care_certificate_summary(db, worker.id)
    assert summary["2015"]["complete"] and summary["2015"]["awarded_on"] == date(2024, 1, 15)
    assert not summary["2025"]["complete"]
    with pytest.raises(ValidationError):
        records.record_achievement(db, manager, person_id=worker.id, org_id=org.id, framework="2015",
                                   standard_number=16, met_on=date(2024, 1, 1), source="assessment")
    with pytest.raises(PermissionDenied):
        records.record_achievement(db, Principal(make_person(org, "training_lead")), person_id=worker.id,
                                   org_id=org.id, framework="2025", standard_number=1, met_on=date(2024, 1, 1),
                                   source="assessment")


def test_organisation_groups(db, make_org, make_person):
    admin = Principal(make_person(make_org(), "scheme_admin"))
    a = services.create_organisation(db, admin, {"name": "Group Home A", "kind": "care_home", "group_name": "Hilltop Care"})
    b = services.create_organisation(db, admin, {"name": "Group Home B", "kind": "care_home", "group_name": "Hilltop Care"})
    assert a.group_id == b.group_id and a.group.name == "Hilltop Care"


def test_refresh_period_page_sets_an_override(client, db, make_org, make_person, login):
    org = make_org()
    lead = make_person(org, "training_lead")
    login(client, lead)
    resp = client.post(f"/organisations/{org.id}/refresh-periods",
                       data={"category_code": "1", "job_role": "care_worker", "refresh_months": "200"})
    assert resp.status_code == 400 and b"nhsuk-error-summary" in resp.data
    resp = client.post(f"/organisations/{org.id}/refresh-periods",
                       data={"category_code": "1", "job_role": "care_worker", "refresh_months": "6"})
    assert resp.status_code == 302
    assert records.refresh_months_for(db, org.id, 1, "care_worker") == 6
    assert b"care worker: 6 months" in client.get(f"/organisations/{org.id}/refresh-periods").data
