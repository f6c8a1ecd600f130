"""The rota check: the example rota with a blocked assignment, each rule, the home's block/warn settings,
bad rows answered by index and field, people the caller cannot see refused, never a 500, OpenAPI."""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta

import pytest

from passport.core import records
from passport.core.timeutil import UK, uk_today
from passport.courses.models import AscwdsWorkerRef
from passport.courses.requirements import requirements_by_role
from passport.delegation import services as dservices
from passport.inspection import rota

TODAY = uk_today()


def shift(days: int = 1, start: int = 8, hours: int = 12) -> tuple[str, str]:
    s = datetime.combine(TODAY + timedelta(days=days), time(start), UK)
    return s.isoformat(), (s + timedelta(hours=hours)).isoformat()


def row(person, home, days=1, start_hour=8, **kw):
    start, end = shift(days, start_hour)
    return {"worker_id": person.id, "home_id": home.id, "start": start, "end": end, **kw}


def all_training(db, person, home, actor, completed=None, skip=()):
    for code in requirements_by_role(db, home.id)["care_worker"]:
        if code not in skip:
            records.add_training_record(db, None, person_id=person.id, org_id=home.id, category_code=code,
                                        completed_on=completed or TODAY - timedelta(days=30), source="manual",
                                        actor=actor)


def full_care_certificate(db, person, home, actor):
    for n in range(1, 17):
        records.record_achievement(db, None, person_id=person.id, org_id=home.id, framework="2025",
                                   standard_number=n, met_on=TODAY - timedelta(days=20), source="assessment",
                                   actor=actor)


@pytest.fixture
def ready(db, world, actor):
    """world.worker: every required subject in date and the Care Certificate complete."""
    all_training(db, world.worker, world.home, actor)
    full_care_certificate(db, world.worker, world.home, actor)
    return world.worker


def check(db, principal, person, rows):
    return rota.check(db, principal(person, None, None), rows)


def test_example_rota_with_a_blocked_assignment(db, world, ready, principal):
    out = check(db, principal, world.manager, [row(world.worker, world.home), row(world.worker2, world.home)])
    ok, blocked = out["results"]
    assert ok["result"] == "ok" and ok["reasons"] == []
    assert blocked["result"] == "block"
    messages = [r["message"] for r in blocked["reasons"]]
    assert any(m.startswith("No record of") and m.endswith("training.") for m in messages)
    assert any("Care Certificate is not complete" in m for m in messages)
    assert out["summary"] == {"ok": 1, "warn": 0, "block": 1, "error": 0}
    assert out["not_checked"] == ["induction"]  # no plugin contributes an induction rule here


def test_training_expired_or_expiring_before_the_shift_ends(db, world, actor, principal):
    code = requirements_by_role(db, world.home.id)["care_worker"][0]
    all_training(db, world.worker2, world.home, actor, skip=(code,))
    full_care_certificate(db, world.worker2, world.home, actor)
    records.add_training_record(db, None, person_id=world.worker2.id, org_id=world.home.id, category_code=code,
                                completed_on=TODAY - timedelta(days=300), expires_on=TODAY + timedelta(days=2),
                                source="manual", actor=actor)
    # a night shift from the last valid day into the next: expires before the shift ends
    soon, later = check(db, principal, world.manager, [row(world.worker2, world.home, days=2, start_hour=20),
                                                       row(world.worker2, world.home, days=4)])["results"]
    assert soon["result"] == "warn" and soon["reasons"][0]["rule"] == "training_expiring"
    assert "before the shift ends" in soon["reasons"][0]["message"]
    assert later["result"] == "block" and later["reasons"][0]["rule"] == "training_expired"
    assert "expired on" in later["reasons"][0]["message"]


def test_what_blocks_is_a_home_setting(db, world, principal):
    data = {r: "warn" for r in rota.RULES} | {"training_expired": "off", "care_certificate_required": True}
    rota.save_settings(db, principal(world.manager), world.home.id, data)
    result = check(db, principal, world.manager, [row(world.worker2, world.home)])["results"][0]
    assert result["result"] == "warn" and {r["rule"] for r in result["reasons"]} == {"care_certificate"}
    rota.save_settings(db, principal(world.manager), world.home.id, data | {"care_certificate_required": False})
    assert check(db, principal, world.manager, [row(world.worker2, world.home)])["results"][0]["result"] == "ok"
    from passport.errors import PermissionDenied, ValidationError

    with pytest.raises(PermissionDenied):
        rota.save_settings(db, principal(world.worker), world.home.id, data)
    with pytest.raises(ValidationError):
        rota.save_settings(db, principal(world.manager), world.home.id, {"competence": "maybe"})


def test_competence_delegation_and_lapse(db, world, ready, principal):
    dservices.record_assessment(db, principal(world.nurse), home_id=world.home.id, worker_id=world.worker.id,
                                task_code="dry_dressing", assessed_on=TODAY, observations=2, outcome="competent",
                                level="safe_unsupervised", valid_until=TODAY + timedelta(days=3))
    dservices.create_delegation(db, principal(world.nurse), home_id=world.home.id, worker_id=world.worker.id,
                                task_code="dry_dressing", resident_ref="R-0412", start_date=TODAY,
                                review_date=TODAY + timedelta(days=60), instructions_ref="Care plan CP-12",
                                consent_recorded=True, consent_by="resident")
    rows = [row(world.worker, world.home, tasks=[{"task": "dry_dressing", "resident": "R-0412"}]),
            row(world.worker, world.home, tasks=[{"task": "dry_dressing", "resident": "R-9999"}]),
            row(world.worker, world.home, tasks=[{"task": "dry_dressing"}]),
            row(world.worker, world.home, days=3, start_hour=20, tasks=[{"task": "dry_dressing", "resident": "R-0412"}]),
            row(world.worker, world.home, tasks=[{"task": "pressure_area_care"}])]
    ok, other_resident, no_resident, lapsing, never = check(db, principal, world.manager, rows)["results"]
    assert ok["result"] == "ok"
    assert other_resident["result"] == "block"
    assert other_resident["reasons"][0]["message"] == "No current delegation of Dry dressing for resident R-9999." \
        or "R-9999" in other_resident["reasons"][0]["message"]
    assert no_resident["result"] == "ok"
    assert lapsing["result"] == "warn" and lapsing["reasons"][0]["rule"] == "delegation_lapses"
    assert never["result"] == "block" and never["reasons"][0]["rule"] == "competence"


def test_bad_rows_get_their_index_and_field(db, world, ready, principal):
    start, end = shift()
    rows = [row(world.worker, world.home), "not an object",
            {"worker_id": "seven", "home_id": world.home.id, "start": start, "end": end},
            {"worker_id": world.worker.id, "home_id": world.home.id, "start": "tomorrow", "end": end},
            {"worker_id": world.worker.id, "home_id": world.home.id, "start": end, "end": start},
            row(world.worker, world.home, tasks=[{"task": "no_such_task"}]),
            row(world.worker, world.home, tasks=[{"task": "insulin_pen"}]),
            {"unique_worker_id": "X-404", "home_id": world.home.id, "start": start, "end": end}]
    out = check(db, principal, world.manager, rows)["results"]
    assert [r["index"] for r in out] == list(range(len(rows)))
    assert out[0]["result"] == "ok"
    assert out[1]["errors"] == {"row": "Each assignment must be a JSON object."}
    assert "worker_id" in out[2]["errors"]
    assert "start" in out[3]["errors"]
    assert "end" in out[4]["errors"]
    assert "tasks[0].task" in out[5]["errors"]
    assert "tasks[0].resident" in out[6]["errors"]
    assert out[7]["errors"] == {"unique_worker_id": rota.WORKER_NOT_FOUND}


def test_the_homes_own_worker_id(db, world, ready, principal):
    db.add(AscwdsWorkerRef(org_id=world.home.id, person_id=world.worker.id, unique_worker_id="OAK-0042"))
    db.flush()
    start, end = shift()
    out = check(db, principal, world.manager, [{"unique_worker_id": "OAK-0042", "home_id": world.home.id,
                                                 "start": start, "end": end}])["results"][0]
    assert out["result"] == "ok" and out["worker_id"] == world.worker.id


def test_people_the_callers_organisation_cannot_see_are_refused(db, world, staff, make_person, principal):
    stranger = make_person(world.other_home, "worker", given_name="Stella")
    out = check(db, principal, world.manager, [row(stranger, world.home), row(world.worker, world.other_home)])
    assert out["results"][0]["errors"] == {"worker_id": rota.WORKER_NOT_FOUND}
    assert out["results"][1]["errors"] == {"home_id": "You cannot check the rota for this home."}
    # a worker cannot check a rota at all; a token scoped to another home cannot either
    assert check(db, principal, world.worker, [row(world.worker, world.home)])["results"][0]["result"] == "error"
    scoped = rota.check(db, principal(staff.other_manager, world.other_home.id, "registered_manager"),
                        [row(world.worker, world.home)])
    assert scoped["results"][0]["errors"] == {"home_id": "You cannot check the rota for this home."}


def test_api_end_to_end(client, db, world, ready, api_token):
    headers = api_token(world.manager, world.home.id, "registered_manager")
    resp = client.post("/api/v1/rota/check", headers=headers,
                       json={"assignments": [row(world.worker, world.home), row(world.worker2, world.home)]})
    assert resp.status_code == 200
    assert [r["result"] for r in resp.json["results"]] == ["ok", "block"]
    assert client.post("/api/v1/rota/check", json={"assignments": []}).status_code == 401
    for body in ({}, {"assignments": []}, {"assignments": "x"}, {"assignments": [{}] * 2001}):
        bad = client.post("/api/v1/rota/check", headers=headers, json=body)
        assert bad.status_code == 400 and bad.json["error"] == "validation_error"
    assert client.post("/api/v1/rota/check", headers=headers, data="[", content_type="application/json").status_code == 400


def test_never_a_500_on_random_rows(client, db, world, api_token):
    headers = api_token(world.manager, world.home.id, "registered_manager")
    rng = random.Random(14)
    junk = [None, True, -1, 0, 2**70, 1.5, "", "x" * 100, [], {}, "2026-13-45T99:00", "2026-12-07T08:00:00+25:00",
            world.home.id, world.worker.id, [{"task": None}], [{"task": "dry_dressing", "resident": 7}], [1, 2]]
    for _ in range(60):
        rows = [{k: rng.choice(junk) for k in rng.sample(["worker_id", "unique_worker_id", "home_id", "start", "end",
                                                         "tasks"], rng.randint(0, 6))} for _ in range(rng.randint(1, 4))]
        resp = client.post("/api/v1/rota/check", headers=headers, json={"assignments": rows})
        assert resp.status_code in (200, 400), (rows, resp.json)


def test_openapi_documents_the_rota_check(client):
    doc = client.get("/api/v1/openapi.json").json
    op = doc["paths"]["/rota/check"]["post"]
    assert op["security"] == [{"bearer": []}]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["assignments"]
    assert set(schema["properties"]["assignments"]["items"]["properties"]) >= {
        "worker_id", "unique_worker_id", "home_id", "start", "end", "tasks"}


def test_the_example_client_reads_a_csv_rota(client, db, world, ready, api_token, tmp_path):
    import importlib.util
    import os

    path = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "rota_check_client.py")
    spec = importlib.util.spec_from_file_location("rota_check_client", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    start, end = shift()
    csv_file = tmp_path / "rota.csv"
    csv_file.write_text("worker_id,home_id,start,end,task,resident\n"
                        f"{world.worker.id},{world.home.id},{start},{end},,\n"
                        f"{world.worker2.id},{world.home.id},{start},{end},pressure_area_care,\n", encoding="utf-8")
    assignments = mod.read_rota(str(csv_file))
    assert assignments[1]["tasks"] == [{"task": "pressure_area_care", "resident": None}]
    resp = client.post("/api/v1/rota/check", json={"assignments": assignments},
                       headers=api_token(world.manager, world.home.id, "registered_manager"))
    assert [r["result"] for r in resp.json["results"]] == ["ok", "block"]
