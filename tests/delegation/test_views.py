"""Delegation pages: the phone-first journey, refusals with audit, registers, and the worker's own page."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from passport.audit import AuditEntry
from passport.core.timeutil import uk_today
from passport.delegation.models import Assessment, Delegation

TODAY = uk_today()


def _assess_form(**kw):
    data = {"task": "dry_dressing", "resident": "", "assessed_on": TODAY.isoformat(), "observations": "2",
            "outcome": "competent", "level": "safe_unsupervised", "valid_until": "", "observation_notes":
            "Applied a dry dressing to the lower leg correctly; hand hygiene before and after.", "evidence": ""}
    data.update(kw)
    return data


def _delegate_form(world, **kw):
    data = {"worker": str(world.worker.id), "task": "dry_dressing", "resident": str(world.rid()),
            "start_date": TODAY.isoformat(), "review_date": (TODAY + timedelta(days=90)).isoformat(),
            "instructions_ref": "CP-12 wound plan v2", "consent_by": "resident", "consent_recorded": "y",
            "notes": ""}
    data.update(kw)
    return data


def test_nurse_journey(client, login, world, db):
    login(client, world.nurse)
    home = world.home.id
    # the home list goes straight to the only... or lists homes of the scheme
    page = client.get("/delegation/")
    assert page.status_code in (200, 302)
    page = client.get(f"/delegation/homes/{home}?task=dry_dressing")
    assert page.status_code == 200 and "Nobody at" in page.get_data(as_text=True)
    url = f"/delegation/homes/{home}/workers/{world.worker.id}/assess"
    assert client.get(url).status_code == 200
    resp = client.post(url, data=_assess_form())
    assert resp.status_code == 302, resp.get_data(as_text=True)
    page = client.get(f"/delegation/homes/{home}?task=dry_dressing").get_data(as_text=True)
    assert world.worker.full_name in page and "Safe unsupervised" in page
    resp = client.post(f"/delegation/homes/{home}/delegate", data=_delegate_form(world))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    d = db.scalar(sa.select(Delegation).where(Delegation.worker_id == world.worker.id))
    page = client.get(f"/delegation/homes/{home}/residents").get_data(as_text=True)
    assert "Room 12 – R-0412" in page and "Active" in page
    page = client.get(f"/delegation/homes/{home}?task=dry_dressing&resident={world.rid()}").get_data(as_text=True)
    assert world.worker.full_name in page and "review by" in page
    resp = client.post(f"/delegation/delegations/{d.id}", data={"reason": "Wound healed"})
    assert resp.status_code == 302
    page = client.get(f"/delegation/homes/{home}/residents").get_data(as_text=True)
    assert "Withdrawn" in page
    for path in ("register", "expiring?days=60", "workers", f"workers/{world.worker.id}"):
        assert client.get(f"/delegation/homes/{home}/{path}").status_code == 200, path


def test_delegation_refusal_shows_reason(client, login, world):
    login(client, world.nurse)
    resp = client.post(f"/delegation/homes/{world.home.id}/delegate", data=_delegate_form(world))
    assert resp.status_code == 400
    assert "no in-date competence" in resp.get_data(as_text=True)
    resp = client.post(f"/delegation/homes/{world.home.id}/delegate",
                       data=_delegate_form(world, review_date=(TODAY - timedelta(days=3)).isoformat()))
    assert resp.status_code == 400


def test_bad_assessment_input_gives_field_errors(client, login, world):
    login(client, world.nurse)
    url = f"/delegation/homes/{world.home.id}/workers/{world.worker.id}/assess"
    resp = client.post(url, data=_assess_form(assessed_on=(TODAY + timedelta(days=3)).isoformat()))
    assert resp.status_code == 400 and "cannot be in the future" in resp.get_data(as_text=True)
    resp = client.post(url, data=_assess_form(observations="many"))
    assert resp.status_code == 400
    resp = client.post(url, data=_assess_form(), csrf=False)
    assert resp.status_code == 400


def test_unregistered_gets_403_and_audit(client, login, world, db, make_person):
    senior = make_person(world.home, ["assessor", "registered_manager"])
    login(client, senior)
    url = f"/delegation/homes/{world.home.id}/workers/{world.worker.id}/assess"
    assert client.get(url).status_code == 403
    resp = client.post(url, data=_assess_form())
    assert resp.status_code == 403
    assert db.scalar(sa.select(sa.func.count()).select_from(Assessment)) == 0
    entry = db.scalar(sa.select(AuditEntry).where(AuditEntry.action == "delegation.assessment.record.refused"))
    assert entry is not None and entry.actor_id == senior.id and entry.org_id == world.home.id
    resp = client.post(f"/delegation/homes/{world.home.id}/delegate", data=_delegate_form(world))
    assert resp.status_code == 403
    assert db.scalar(sa.select(AuditEntry).where(AuditEntry.action == "delegation.delegation.create.refused"))
    # but the home's staff can read the registers
    assert client.get(f"/delegation/homes/{world.home.id}/register").status_code == 200


def test_other_home_staff_cannot_see(client, login, world, make_person, make_org):
    elsewhere = make_person(make_org(), ["registered_manager"])
    login(client, elsewhere)
    for path in ("", "/register", "/residents", f"/workers/{world.worker.id}"):
        assert client.get(f"/delegation/homes/{world.home.id}{path}").status_code == 403, path


def test_worker_sees_acknowledges_and_declines(client, login, world, db):
    from tests.delegation.test_services import assess
    from passport.core.access import Principal

    a = assess(db, lambda p: Principal(person=p), world, world.worker)
    login(client, world.worker)
    page = client.get("/delegation/mine").get_data(as_text=True)
    assert "Assessments to confirm" in page and "Simple wound care" in page
    assert client.post(f"/delegation/assessments/{a.id}/acknowledge", data={}).status_code == 302
    db.refresh(a)
    assert a.worker_acknowledged_at is not None
    # a worker cannot see the home's registers
    assert client.get(f"/delegation/homes/{world.home.id}/register").status_code == 403
    resp = client.post(f"/delegation/homes/{world.home.id}/workers/{world.worker.id}/decline",
                       data={"task": "dry_dressing", "resident": "", "reason": "Not confident yet"})
    assert resp.status_code == 302
    assert "I am ready to do this task again" in client.get("/delegation/mine").get_data(as_text=True)
    # not on behalf of a colleague
    resp = client.post(f"/delegation/homes/{world.home.id}/workers/{world.worker2.id}/decline",
                       data={"task": "dry_dressing", "resident": "", "reason": ""})
    assert resp.status_code == 403


def test_catalogue_page_and_org_task(client, login, world):
    login(client, world.manager)
    assert "Insulin administration" in client.get("/delegation/tasks").get_data(as_text=True)
    resp = client.post(f"/delegation/organisations/{world.home.id}/tasks/new", data={
        "name": "Applying prescribed barrier cream", "category_code": "skin_wound", "description": "",
        "observations_required": "1", "reassess_months": "12", "min_level": "safe_unsupervised"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert "Applying prescribed barrier cream" in client.get("/delegation/tasks").get_data(as_text=True)
    login(client, world.worker)
    assert client.get(f"/delegation/organisations/{world.home.id}/tasks/new").status_code == 403


def test_index_lists_scheme_homes_for_the_nurse_only(client, login, world, make_org):
    outside = make_org(name="Home Outside The Scheme")
    login(client, world.nurse)
    page = client.get("/delegation/").get_data(as_text=True)
    assert world.home.name in page and world.other_home.name in page and outside.name not in page
    assert client.get(f"/delegation/homes/{outside.id}").status_code == 403
    # a manager with one home goes straight to it
    login(client, world.manager)
    resp = client.get("/delegation/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/delegation/homes/{world.home.id}")
