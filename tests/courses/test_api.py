"""The courses JSON API: the whole flow over HTTP, JSON errors for bad input, and denials."""
from passport.api import build_openapi
from passport.courses import assessments
from tests.courses.conftest import d, slot

API = "/api/v1/courses"


def test_every_route_is_documented(app):
    paths = build_openapi(app)["paths"]
    mine = [r.rule for r in app.url_map.iter_rules() if r.rule.startswith(API)]
    assert len(mine) >= 25
    for rule in mine:
        assert any(p.startswith("/courses") for p in paths)
        assert getattr(app.view_functions[next(r.endpoint for r in app.url_map.iter_rules() if r.rule == rule)],
                       "openapi", None), rule


def test_course_session_booking_register_flow(client, db, world, api_token):
    lead = api_token(world.lead, world.home.id, "training_lead")
    other = api_token(world.other_lead, world.other.id, "training_lead")
    r = client.post(f"{API}/courses", json={"org_id": world.home.id, "title": "Fire safety", "provider_kind": "in_house",
                                           "delivery": "face_to_face", "hours": 2, "categories": [6]}, headers=lead)
    assert r.status_code == 201, r.get_json()
    course = r.get_json()
    assert course["categories"] == [6] and course["scheme_approved"] is False
    assert client.post(f"{API}/courses", json={"org_id": world.home.id, "title": ""}, headers=lead).status_code == 400
    assert client.post(f"{API}/courses", json={"org_id": world.home.id, **course}, headers=other).status_code == 403
    body = {**{k: str(v) for k, v in slot(days=0).items()}, "org_id": world.home.id, "course_id": course["id"],
            "capacity": 1, "shared": True}
    r = client.post(f"{API}/sessions", json=body, headers=lead)
    assert r.status_code == 201, r.get_json()
    sid = r.get_json()["id"]
    assert client.post(f"{API}/sessions", json={**body, "start_time": "25:99"}, headers=lead).get_json()["fields"]
    r1 = client.post(f"{API}/sessions/{sid}/bookings", json={"person_id": world.workers[0].id}, headers=lead)
    r2 = client.post(f"{API}/sessions/{sid}/bookings", json={"person_id": world.other_workers[0].id}, headers=other)
    assert (r1.status_code, r1.get_json()["status"], r2.get_json()["status"]) == (201, "confirmed", "waiting")
    assert client.post(f"{API}/sessions/{sid}/bookings", json={"person_id": world.workers[0].id},
                       headers=lead).status_code == 409
    listing = client.get(f"{API}/sessions/{sid}/bookings", headers=other).get_json()["bookings"]
    assert [b["person_id"] for b in listing] == [world.other_workers[0].id]  # only their own people
    assert listing[0]["waiting_position"] == 1
    r = client.put(f"{API}/sessions/{sid}/attendance", json={"attendance": {str(r1.get_json()["id"]): "present"}},
                   headers=lead)
    assert r.status_code == 200 and len(r.get_json()["records_created"]) == 1
    assert client.put(f"{API}/sessions/{sid}/attendance", json={"attendance": "yes"}, headers=lead).status_code == 400
    assert client.put(f"{API}/sessions/{sid}/attendance", json={"attendance": {}}, headers=other).status_code == 403
    assert client.get(f"{API}/sessions", headers=lead).status_code == 200
    assert client.get(f"{API}/sessions/{sid}").status_code == 401


def test_assessments_progress_and_sign_off(client, db, world, api_token, competent):
    assessor = api_token(world.assessor, world.home.id, "assessor")
    manager = api_token(world.manager, world.home.id, "registered_manager")
    w = world.workers[0]
    base = {"person_id": w.id, "framework": "2025", "standard_number": 4}
    r = client.post(f"{API}/assessments", json={**base, "kind": "knowledge", "method": "score", "score": 85,
                                               "pass_mark": 80, "assessed_on": d(2).isoformat()}, headers=assessor)
    assert r.status_code == 201 and r.get_json()["outcome"] == "passed"
    r = client.post(f"{API}/assessments", json={**base, "kind": "observation", "setting": "Dining room",
                                               "outcome": "passed"}, headers=assessor)
    assert r.status_code == 201
    assert client.post(f"{API}/assessments", json={**base, "kind": "knowledge"}, headers=manager).status_code in (400, 403)
    assert client.post(f"{API}/assessments", json={**base, "kind": "observation", "setting": "x", "outcome": "passed"},
                       headers=manager).status_code == 403
    cc = client.get(f"{API}/people/{w.id}/care-certificate", headers=manager).get_json()
    assert next(s for s in cc["standards"] if s["number"] == 4)["state"] == "practice"
    assert client.post(f"{API}/people/{w.id}/care-certificate/2025/4/sign-off", headers=assessor,
                       json={"declaration": True}).status_code == 403
    no_declaration = client.post(f"{API}/people/{w.id}/care-certificate/2025/4/sign-off", headers=manager)
    assert no_declaration.status_code == 400 and "declaration" in no_declaration.get_json()["fields"]
    assert client.post(f"{API}/people/{w.id}/care-certificate/2025/4/sign-off", headers=manager,
                       json={"declaration": True}).status_code == 201
    assert client.post(f"{API}/people/{w.id}/care-certificate/2025/4/sign-off", headers=manager,
                       json={"declaration": True}).status_code == 409
    assert client.post(f"{API}/people/{w.id}/care-certificate/2025/5/sign-off", headers=manager,
                       json={"declaration": True}).status_code == 400
    other = api_token(world.other_lead, world.other.id, "training_lead")
    assert client.get(f"{API}/people/{w.id}/care-certificate", headers=other).status_code == 404
    assert len(client.get(f"{API}/people/{w.id}/assessments", headers=manager).get_json()["assessments"]) == 2


def test_push_records_in_and_read_compliance_out(client, db, world, api_token):
    from passport.courses import ascwds

    ascwds.set_worker_refs(db, world.p(world.lead), world.home.id, {world.workers[1].id: "LMS-1"})
    lead = api_token(world.lead, world.home.id, "training_lead")
    r = client.post(f"{API}/records", json={"org_id": world.home.id, "records": [
        {"person_id": world.workers[0].id, "category_code": 6, "completed_on": d(3).isoformat(), "external_ref": "x1"},
        {"unique_worker_id": "LMS-1", "category_code": 20, "completed_on": d(3).isoformat(), "no_expiry": True}]},
        headers=lead)
    assert r.status_code == 201, r.get_json()
    made = r.get_json()["records"]
    assert made[0]["source"] == "course" and made[0]["source_ref"] == "api:x1" and made[1]["expires_on"] is None
    rows = [{"person_id": world.workers[0].id, "category_code": 6, "completed_on": d(-3).isoformat()},
            {"person_id": world.outsider_lead.id, "category_code": 6, "completed_on": d(3).isoformat()},
            {"person_id": world.workers[0].id, "category_code": 6, "completed_on": "yesterday"}]
    bad = client.post(f"{API}/records", json={"org_id": world.home.id, "records": rows[:2]}, headers=lead)
    assert bad.status_code == 400 and set(bad.get_json()["fields"]) == {"1", "2"}
    assert "future" in bad.get_json()["fields"]["1"] and "not a member" in bad.get_json()["fields"]["2"]
    bad = client.post(f"{API}/records", json={"org_id": world.home.id, "records": rows}, headers=lead)
    assert bad.status_code == 400 and set(bad.get_json()["fields"]) == {"3"}
    other = api_token(world.other_lead, world.other.id, "training_lead")
    assert client.post(f"{API}/records", json={"org_id": world.home.id, "records": [
        {"person_id": world.workers[0].id, "category_code": 6, "completed_on": d(3).isoformat()}]},
        headers=other).status_code == 403
    listing = client.get(f"{API}/records?org_id={world.home.id}", headers=lead).get_json()
    assert len(listing["records"]) == 2
    assert client.get(f"{API}/records?org_id={world.home.id}", headers=other).status_code == 403
    m = client.get(f"{API}/orgs/{world.home.id}/matrix?window=30", headers=lead).get_json()
    assert m["window_days"] == 30 and any(p["cells"].get("6", {}).get("state") == "green" for p in m["people"])
    assert client.get(f"{API}/orgs/{world.home.id}/matrix?window=0", headers=lead).status_code == 400
    assert client.get(f"{API}/orgs/{world.home.id}/matrix", headers=other).status_code == 403
    admin = api_token(world.admin)
    assert client.get(f"{API}/summary", headers=admin).get_json()["homes"]
    assert client.get(f"{API}/summary", headers=lead).status_code == 403


def test_requirements_settings_ascwds_and_competence(client, db, world, api_token):
    lead = api_token(world.lead, world.home.id, "training_lead")
    other = api_token(world.other_lead, world.other.id, "training_lead")
    r = client.put(f"{API}/orgs/{world.home.id}/requirements", json={"job_role": "care_worker", "categories": [6, 20]},
                   headers=lead)
    assert r.status_code == 200 and r.get_json()["categories"] == [6, 20]
    assert client.get(f"{API}/orgs/{world.home.id}/requirements", headers=lead).get_json()["customised"] is True
    assert client.put(f"{API}/orgs/{world.home.id}/requirements", json={"job_role": "care_worker", "categories": [6]},
                      headers=other).status_code == 403
    r = client.put(f"{API}/orgs/{world.home.id}/settings", json={"amber_days": 90, "reminder_offsets": [30, 7],
                                                               "local_est_id": "ALPHA1"}, headers=lead)
    assert r.status_code == 200 and r.get_json()["reminder_offsets"] == [30, 7]
    assert client.put(f"{API}/orgs/{world.home.id}/settings", json={"amber_days": 0, "reminder_offsets": "x"},
                      headers=lead).get_json()["fields"].keys() >= {"amber_days", "reminder_offsets"}
    r = client.put(f"{API}/orgs/{world.home.id}/worker-ids", json={"worker_ids": {str(world.workers[0].id): "A-1"}},
                   headers=lead)
    assert r.status_code == 200
    csv_ok = f"LOCALESTID,UNIQUEWORKERID,CATEGORY,TRAININGNAME,ACCREDITED,WHODELIVERED,PROVIDERNAME,HOWDELIVERED," \
             f"VALIDITY,DATECOMPLETED,EXPIRYDATE,NOTES\nALPHA1,A-1,6,,,,,,,{d(5).strftime('%d/%m/%Y')},,\n"
    r = client.post(f"{API}/orgs/{world.home.id}/ascwds?dry_run=1", data=csv_ok, content_type="text/csv", headers=lead)
    assert r.status_code == 200 and r.get_json()["new"] == 1 and r.get_json()["dry_run"]
    r = client.post(f"{API}/orgs/{world.home.id}/ascwds", data=csv_ok.replace("A-1", "NOPE"), content_type="text/csv",
                    headers=lead)
    assert r.status_code == 422 and r.get_json()["problems"][0]["line"] == 2
    r = client.post(f"{API}/orgs/{world.home.id}/ascwds", data=csv_ok, content_type="text/csv", headers=lead)
    assert r.status_code == 201 and r.get_json()["import_id"]
    assert client.post(f"{API}/orgs/{world.home.id}/ascwds", json={}, headers=lead).status_code == 415
    assert client.post(f"{API}/orgs/{world.home.id}/ascwds", data=csv_ok, content_type="text/csv",
                       headers=other).status_code == 403
    r = client.get(f"{API}/orgs/{world.home.id}/ascwds", headers=lead)
    assert r.status_code == 200 and r.mimetype == "text/csv" and "A-1" in r.get_data(as_text=True)
    manager = api_token(world.manager, world.home.id, "registered_manager")
    r = client.put(f"{API}/orgs/{world.home.id}/assessors/{world.assessor.id}",
                   json={"framework": "2025", "standards": [1, 2]}, headers=manager)
    assert r.status_code == 200 and assessments.competences(db, world.home.id)[world.assessor.id]["2025"] == [1, 2]
    assert client.put(f"{API}/orgs/{world.home.id}/assessors/{world.assessor.id}",
                      json={"framework": "2025", "standards": [1]}, headers=other).status_code == 403


def test_correct_a_record_keeps_history(client, db, world, api_token):
    from passport.core import records

    rec = records.add_training_record(db, world.p(world.lead), person_id=world.workers[0].id, org_id=world.home.id,
                                      category_code=6, completed_on=d(30), source="manual")
    lead = api_token(world.lead, world.home.id, "training_lead")
    assert client.post(f"{API}/records/{rec.id}/correction", json={"completed_on": d(20).isoformat()},
                       headers=lead).status_code == 400  # a reason is required
    r = client.post(f"{API}/records/{rec.id}/correction", json={"reason": "Typo in the date",
                                                               "completed_on": d(20).isoformat()}, headers=lead)
    assert r.status_code == 201 and r.get_json()["supersedes_id"] == rec.id
    other = api_token(world.other_lead, world.other.id, "training_lead")
    new_id = r.get_json()["id"]
    assert client.post(f"{API}/records/{new_id}/correction", json={"reason": "x"}, headers=other).status_code == 403
