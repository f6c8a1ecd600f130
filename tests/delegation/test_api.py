"""The delegation API: who can do it now, recording through the API, refusals and time zones."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from passport.audit import AuditEntry
from passport.core.timeutil import uk_today

TODAY = uk_today()


def _assess(client, headers, world, **kw):
    body = {"org_id": world.home.id, "worker_id": world.worker.id, "task": "dry_dressing",
            "assessed_on": TODAY.isoformat(), "observations": 2, "outcome": "competent",
            "level": "safe_unsupervised"}
    body.update(kw)
    return client.post("/api/v1/delegation/assessments", json=body, headers=headers)


def _delegate(client, headers, world, **kw):
    body = {"org_id": world.home.id, "worker_id": world.worker.id, "task": "dry_dressing",
            "resident_id": world.rid(), "start_date": TODAY.isoformat(),
            "review_date": (TODAY + timedelta(days=60)).isoformat(), "instructions_ref": "CP-12",
            "consent_recorded": True, "consent_by": "resident"}
    body.update(kw)
    return client.post("/api/v1/delegation/delegations", json=body, headers=headers)


def test_competent_api_flow(client, api_token, world):
    h = api_token(world.nurse, world.team.id, "registered_professional")
    assert _assess(client, h, world).status_code == 201
    r = client.get(f"/api/v1/delegation/competent?org={world.home.id}&task=dry_dressing", headers=h)
    assert r.status_code == 200
    people = r.get_json()["people"]
    assert [p["person_id"] for p in people] == [world.worker.id]
    assert people[0]["level"] == "safe_unsupervised"
    r = _delegate(client, h, world)
    assert r.status_code == 201, r.get_json()
    did = r.get_json()["id"]
    assert _delegate(client, h, world).status_code == 409
    r = client.get(f"/api/v1/delegation/competent?org={world.home.id}&task=dry_dressing"
                   f"&resident=Room 12 – R-0412", headers=h)
    assert r.get_json()["people"][0]["delegation_id"] == did
    r = client.get(f"/api/v1/delegation/competent?org={world.home.id}&task=dry_dressing"
                   f"&resident_id={world.rid()}", headers=h)
    assert r.get_json()["people"][0]["delegation_id"] == did and r.get_json()["resident"]["local_id"] == "R-0412"
    # another resident of the register: nobody; a search matching nobody is a 400 saying so, not "nobody"
    r = client.get(f"/api/v1/delegation/competent?org={world.home.id}&task=dry_dressing"
                   f"&resident_id={world.rid('Room 3 – R-0103')}", headers=h)
    assert r.get_json()["people"] == []
    r = client.get(f"/api/v1/delegation/competent?org={world.home.id}&task=dry_dressing&resident=Room 9",
                   headers=h)
    assert r.status_code == 400 and "No resident" in r.get_json()["fields"]["resident"]
    r = client.get(f"/api/v1/delegation/competent?org={world.home.id}&task=dry_dressing&resident=Room 3",
                   headers=h)  # Room 3 and Room 30
    assert r.status_code == 400 and "2 residents match" in r.get_json()["message"]
    # a moment before the delegation existed (UK local time without an offset)
    r = client.get(f"/api/v1/delegation/competent?org={world.home.id}&task=dry_dressing"
                   f"&resident=Room 12 – R-0412&at={(TODAY - timedelta(days=2)).isoformat()}T09:00", headers=h)
    assert r.get_json()["people"] == []
    r = client.post(f"/api/v1/delegation/delegations/{did}/withdraw", json={"reason": "Healed"}, headers=h)
    assert r.status_code == 200 and r.get_json()["status"] == "withdrawn"
    r = client.get(f"/api/v1/delegation/people/{world.worker.id}", headers=h)
    assert r.status_code == 200 and r.get_json()["competencies"][0]["task"] == "dry_dressing"


def test_api_refusals(client, api_token, world, db):
    worker_h = api_token(world.manager, world.home.id, "registered_manager")
    r = _assess(client, worker_h, world)
    assert r.status_code == 403 and r.get_json()["error"] == "forbidden"
    assert db.scalar(sa.select(AuditEntry).where(AuditEntry.action == "delegation.assessment.record.refused"))
    nurse_h = api_token(world.nurse, world.team.id, "registered_professional")
    r = _assess(client, nurse_h, world, assessed_on=(TODAY + timedelta(days=1)).isoformat())
    assert r.status_code == 400 and "assessed_on" in r.get_json()["fields"]
    r = _assess(client, nurse_h, world, observations="two")
    assert r.status_code == 400 and "observations" in r.get_json()["fields"]
    r = client.post("/api/v1/delegation/assessments", data="nope", headers=nurse_h)
    assert r.status_code == 415
    r = _delegate(client, nurse_h, world)
    assert r.status_code == 400 and "no in-date competence" in r.get_json()["message"]
    assert client.get("/api/v1/delegation/competent?org=x&task=dry_dressing", headers=nurse_h).status_code == 400
    r = client.get(f"/api/v1/delegation/competent?org={world.home.id}&task=nope", headers=nurse_h)
    assert r.status_code == 404
    r = client.get(f"/api/v1/delegation/competent?org={world.home.id}", headers=nurse_h)
    assert r.status_code == 400 and "task" in r.get_json()["fields"]
    r = client.get(f"/api/v1/delegation/competent?org={world.home.id}&task=dry_dressing&at=yesterday",
                   headers=nurse_h)
    assert r.status_code == 400 and "at" in r.get_json()["fields"]
    r = client.get(f"/api/v1/delegation/competent?org={world.home.id}&task=dry_dressing&resident=943 476 5919",
                   headers=nurse_h)
    assert r.status_code == 400
    assert client.get(f"/api/v1/delegation/competent?org={world.home.id}&task=dry_dressing").status_code == 401
    worker_only = api_token(world.worker, world.home.id, "worker")
    r = client.get(f"/api/v1/delegation/competent?org={world.home.id}&task=dry_dressing", headers=worker_only)
    assert r.status_code == 403


def test_openapi_documents_delegation(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "/delegation/competent" in doc["paths"]
    params = {p["name"] for p in doc["paths"]["/delegation/competent"]["get"]["parameters"]}
    assert params == {"org", "task", "resident_id", "resident", "at"}
    assert "/delegation/homes/{org_id}/residents" in doc["paths"]
    assert "/delegation/delegations/{delegation_id}/reviews" in doc["paths"]
    body = doc["paths"]["/delegation/delegations"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "resident_id" in body["properties"] and "from the home's register" in \
        body["properties"]["resident_id"]["description"]


def test_at_is_read_as_uk_local_time(client, api_token, world, db):
    """A competence valid until 30 June counts until midnight UK time (BST), not midnight UTC."""
    from datetime import date

    from passport.delegation.catalogue import get_task
    from passport.delegation.models import Assessment, Competency

    task = get_task(db, "dry_dressing")
    a = Assessment(task_id=task.id, worker_id=world.worker.id, org_id=world.home.id, assessor_id=world.nurse.id,
                   assessor_org_id=world.team.id, assessed_on=date(2025, 7, 1), observations=2, outcome="competent",
                   level="safe_unsupervised", valid_until=date(2026, 6, 30))
    db.add(a)
    db.flush()
    db.add(Competency(assessment_id=a.id, task_id=task.id, worker_id=world.worker.id, org_id=world.home.id,
                      level="safe_unsupervised", valid_from=date(2025, 7, 1), valid_until=date(2026, 6, 30)))
    db.flush()
    h = api_token(world.nurse, world.team.id, "registered_professional")
    url = f"/api/v1/delegation/competent?org={world.home.id}&task=dry_dressing&at="

    def who(at):
        r = client.get(url + at.replace("+", "%2B"), headers=h)
        assert r.status_code == 200, r.get_json()
        return [p["person_id"] for p in r.get_json()["people"]]

    assert who("2026-06-30T23:30") == [world.worker.id]          # UK local time, still 30 June
    assert who("2026-07-01T00:30") == []                         # UK local time, 1 July
    assert who("2026-06-30T22:30:00Z") == [world.worker.id]      # 23:30 BST
    assert who("2026-06-30T23:30:00+00:00") == []                # 00:30 BST on 1 July
    r = client.get(url + "2026-07-01T00:30", headers=h).get_json()
    assert r["at_uk"].startswith("2026-07-01T00:30") and r["at"].startswith("2026-06-30T23:30")
