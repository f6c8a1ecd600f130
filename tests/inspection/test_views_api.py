"""Pages and API calls not covered elsewhere, each with its denial: frequency form, rota settings, subject
access request page, the supervision due API, the inspection index."""
from __future__ import annotations

from passport.inspection import rota


def test_only_managers_and_admins_set_frequencies(client, login, world, staff):
    login(client, staff.lead)  # may see the overview, may not change it
    assert client.get(f"/inspection/orgs/{world.home.id}/supervision").status_code == 200
    resp = client.post(f"/inspection/orgs/{world.home.id}/supervision",
                       data={"job_role": "care_worker", "kind": "supervision", "every_weeks": "4"})
    assert resp.status_code == 403
    login(client, world.manager)
    bad = client.post(f"/inspection/orgs/{world.home.id}/supervision",
                      data={"job_role": "care_worker", "kind": "supervision", "every_weeks": "400"})
    assert bad.status_code == 400 and "from 1 to 104" in bad.get_data(as_text=True)
    ok = client.post(f"/inspection/orgs/{world.home.id}/supervision",
                     data={"job_role": "care_worker", "kind": "supervision", "every_weeks": "4"})
    assert ok.status_code == 302


def test_rota_settings_page(client, login, db, world, staff):
    login(client, world.manager)
    assert "Rota check settings" in client.get(f"/inspection/orgs/{world.home.id}/rota-settings").get_data(as_text=True)
    data = {r: "warn" for r in rota.RULES} | {"care_certificate_required": "y"}
    assert client.post(f"/inspection/orgs/{world.home.id}/rota-settings", data=data).status_code == 302
    assert rota.settings_for(db, world.home.id).training_expired == "warn"
    for person in (staff.lead, world.worker, staff.other_manager):
        login(client, person)
        assert client.post(f"/inspection/orgs/{world.home.id}/rota-settings", data=data).status_code == 403


def test_subject_access_page(client, login, db, world, staff):
    login(client, world.manager)  # also the home's org admin in this world
    page = client.get(f"/inspection/orgs/{world.home.id}/subject-access")
    assert page.status_code == 200 and world.worker.full_name in page.get_data(as_text=True)
    assert client.post(f"/inspection/orgs/{world.home.id}/subject-access",
                       data={"person_id": world.worker.id, "reason": ""}).status_code == 400
    resp = client.post(f"/inspection/orgs/{world.home.id}/subject-access",
                       data={"person_id": world.worker.id, "reason": "Email of 30 November 2026"})
    assert resp.status_code == 302
    assert "Subject access request" in client.get("/inspection/my/data").get_data(as_text=True)
    login(client, staff.lead)
    assert client.get(f"/inspection/orgs/{world.home.id}/subject-access").status_code == 403


def test_supervision_due_api(client, db, world, staff, frequencies, api_token):
    resp = client.get(f"/api/v1/supervision/due/{world.home.id}",
                      headers=api_token(world.manager, world.home.id, "registered_manager"))
    assert resp.status_code == 200
    people = {p["person_id"]: p for p in resp.json["people"]}
    assert people[world.worker.id]["items"][0]["state"] == "overdue"
    assert "notes" not in resp.get_data(as_text=True)
    denied = client.get(f"/api/v1/supervision/due/{world.home.id}",
                        headers=api_token(staff.other_manager, world.other_home.id, "registered_manager"))
    assert denied.status_code == 403 and denied.json["error"] == "forbidden"
    assert client.get(f"/api/v1/supervision/due/{world.home.id}").status_code == 401


def test_index_lists_the_homes_a_manager_runs(client, login, world):
    login(client, world.manager)
    page = client.get("/inspection/").get_data(as_text=True)
    assert world.home.name in page and "Evidence pack for an inspection" in page
    login(client, world.worker)
    page = client.get("/inspection/").get_data(as_text=True)
    assert world.home.name not in page and "Download all my data" in page
