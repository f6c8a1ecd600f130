"""Download all my data: the archive holds the subject's data and nobody else's (tested with a worker who
shares a home, a supervisor, a session and a resident's delegations with others), downloads are audited,
an organisation admin answers a subject access request with the request recorded."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa

from passport.audit import AuditEntry
from passport.core.timeutil import uk_today
from passport.delegation import services as dservices
from passport.errors import NotFound, PermissionDenied, ValidationError
from passport.inspection import export, supervision as sv
from passport.inspection.models import DataExport
from passport.plugins import contributions

TODAY = uk_today()
OTHER_NOTES = "Will said his father is unwell and he is tired on nights"
OWN_NOTES = "Wendy is ready to mentor new starters"


@pytest.fixture
def shared(db, world, staff, principal):
    """Wendy (world.worker) and Will (world.worker2) share a home, a supervisor and a resident. Asha (the
    assessor, also a worker) supervised Will, and was supervised by the manager."""
    for person in (world.worker, world.worker2):
        dservices.record_assessment(db, principal(world.nurse), home_id=world.home.id, worker_id=person.id,
                                    task_code="dry_dressing", assessed_on=TODAY, observations=2, outcome="competent",
                                    level="safe_unsupervised", observation_notes=f"Observed {person.given_name}")
        dservices.create_delegation(db, principal(world.nurse), home_id=world.home.id, worker_id=person.id,
                                    task_code="dry_dressing", resident_ref="R-0412", start_date=TODAY,
                                    review_date=TODAY + timedelta(days=60), instructions_ref="Care plan CP-12",
                                    consent_recorded=True, consent_by="resident")
    sv.record_session(db, principal(world.manager), world.home.id, world.worker.id, kind="supervision",
                      held_on=TODAY - timedelta(days=2), topics=["goals"], notes=OWN_NOTES, actions=["Mentor course"])
    sv.record_session(db, principal(world.manager), world.home.id, world.worker2.id, kind="supervision",
                      held_on=TODAY - timedelta(days=2), topics=["wellbeing"], notes=OTHER_NOTES)
    sv.record_session(db, principal(staff.assessor), world.home.id, world.worker2.id, kind="appraisal",
                      held_on=TODAY - timedelta(days=1), notes=OTHER_NOTES + " (appraisal)")
    sv.record_session(db, principal(world.manager), world.home.id, staff.assessor.id, kind="supervision",
                      held_on=TODAY - timedelta(days=1), notes="Asha's own session")
    return world


def archive(db, app, person_id):
    content = export.build_archive(db, person_id, contributions(app, "personal_data"))
    z = zipfile.ZipFile(io.BytesIO(content))
    return json.loads(z.read("data.json")), z.read("summary.html").decode("utf-8")


def others(world, staff):
    people = [world.worker2, world.manager, world.nurse, staff.lead, staff.admin]
    return [p.full_name for p in people] + [p.email for p in people] + [p.given_name for p in people]


def test_archive_holds_everything_about_the_subject(app, db, shared, staff):
    data, html = archive(db, app, shared.worker.id)
    parts = data["parts"]
    assert set(parts) >= {"person", "memberships", "training", "care_certificate", "invitations", "courses",
                          "delegation", "certificates", "verify", "supervision", "audit"}
    assert parts["person"]["items"][0]["email"] == shared.worker.email
    sessions = parts["supervision"]["items"]
    assert [s["notes"] for s in sessions] == [OWN_NOTES]
    assert sessions[0]["actions"][0]["text"] == "Mentor course"
    kinds = {i["kind"] for i in parts["delegation"]["items"]}
    assert kinds == {"assessment", "competence", "delegation"}
    assert all(i.get("resident_ref") is None or "R-0412" in i["resident_ref"] for i in parts["delegation"]["items"])
    assert parts["training"]["items"] and all(t["source"] for t in parts["training"]["items"])
    assert OWN_NOTES in html and "<h2>Supervision and appraisal</h2>" in html
    assert (TODAY - timedelta(days=2)).strftime("%-d %B %Y") in html  # dates readable in the summary


def test_archive_has_nobody_elses_personal_data(app, db, shared, staff):
    text = json.dumps(archive(db, app, shared.worker.id)[0]) + archive(db, app, shared.worker.id)[1]
    assert OTHER_NOTES not in text and "Asha's own session" not in text and "Observed Will" not in text
    for value in others(shared, staff) + [staff.assessor.full_name]:
        assert value not in text, value
    # the assessor supervised Will: her archive shows that she did, not what was said or about whom
    data, html = archive(db, app, staff.assessor.id)
    text = json.dumps(data) + html
    assert OTHER_NOTES not in text and shared.worker2.full_name not in text
    mine = data["parts"]["supervision"]["items"]
    assert {"your_part": "supervisor", "kind": "appraisal", "held_on": (TODAY - timedelta(days=1)).isoformat(),
            "home": shared.home.name} in mine
    assert any(s.get("notes") == "Asha's own session" for s in mine)


def test_worker_downloads_their_archive_and_the_download_is_audited(client, login, db, shared):
    login(client, shared.worker)
    resp = client.post("/inspection/my/data", data={})
    assert resp.status_code == 302
    e = db.scalar(sa.select(DataExport).where(DataExport.person_id == shared.worker.id))
    assert e.status == "ready"
    page = client.get("/inspection/my/data").get_data(as_text=True)
    assert f"/inspection/exports/{e.id}/download" in page
    got = client.get(f"/inspection/exports/{e.id}/download")
    assert got.status_code == 200 and got.mimetype == "application/zip"
    assert set(zipfile.ZipFile(io.BytesIO(got.data)).namelist()) == {"data.json", "summary.html", "README.txt"}
    actions = list(db.scalars(sa.select(AuditEntry.action).where(AuditEntry.object_type == "person",
                                                                 AuditEntry.object_id == str(shared.worker.id))))
    assert {"data_export.requested", "data_export.prepared", "data_export.downloaded"} <= set(actions)
    login(client, shared.worker2)
    assert client.get(f"/inspection/exports/{e.id}/download").status_code == 404


def test_subject_access_request_by_the_organisation_admin(db, shared, staff, principal, make_person):
    with pytest.raises(ValidationError) as err:
        export.request_for_subject(db, principal(shared.manager), shared.home.id, shared.worker.id, "")
    assert "reason" in err.value.fields
    e = export.request_for_subject(db, principal(shared.manager), shared.home.id, shared.worker.id,
                                   "Letter received 1 December 2026")
    entry = db.scalar(sa.select(AuditEntry).where(AuditEntry.action == "data_export.subject_access_request"))
    assert json.loads(entry.details)["request"] == "Letter received 1 December 2026"
    assert e.org_id == shared.home.id and e.requested_by_id == shared.manager.id
    # not an admin there, a different organisation, or someone the organisation has no reason to see
    with pytest.raises(PermissionDenied):
        export.request_for_subject(db, principal(staff.lead), shared.home.id, shared.worker.id, "Letter")
    with pytest.raises(PermissionDenied):
        export.request_for_subject(db, principal(staff.scheme_admin), shared.home.id, shared.worker.id, "Letter")
    stranger = make_person(shared.other_home, "worker")
    with pytest.raises(ValidationError):
        export.request_for_subject(db, principal(shared.manager), shared.home.id, stranger.id, "Letter")
    # the subject and the requesting admin may download it; other staff may not
    from passport.plugins import contributions
    from flask import current_app

    export.prepare(db, e, contributions(current_app, "personal_data"))
    assert export.download(db, principal(shared.manager), e.id).content
    assert export.download(db, principal(shared.worker), e.id).downloads == 2
    for person in (staff.lead, shared.worker2, staff.scheme_admin):
        with pytest.raises(NotFound):
            export.download(db, principal(person), e.id)


def test_pending_archives_are_prepared_by_the_command(app, db, shared, principal):
    e = export.request_own(db, principal(shared.worker))
    db.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["inspection", "exports-run"])
    assert result.exit_code == 0 and "1 archive(s) prepared." in result.output
    db.refresh(e)
    assert e.status == "ready" and e.sha256
