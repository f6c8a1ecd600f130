"""Job progress for the person who started the job: the page (refreshes itself without JavaScript) and its
JSON; nobody else sees either."""
from __future__ import annotations

from passport import jobs


def _job(db, person, state="running", done=250, total=1000):
    row = jobs.start(db, "reissue", "Re-issue every current passport", person_id=person.id, total=total)
    row.state, row.done = state, done
    db.flush()
    return row


def test_progress_page_and_json_for_who_started_it(app, db, client, make_org, make_person, login):
    org = make_org()
    lead = make_person(org, "training_lead")
    row = _job(db, lead)
    login(client, lead)
    page = client.get(f"/jobs/{row.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<progress id="job-progress"' in html and 'max="1000" value="250"' in html
    assert "250 of 1,000" in html and '<meta http-equiv="refresh"' in html  # works without JavaScript
    data = client.get(f"/jobs/{row.id}/progress.json").get_json()
    assert data["done"] == 250 and data["total"] == 1000 and data["percent"] == 25 and data["state"] == "running"


def test_finished_job_stops_refreshing(app, db, client, make_org, make_person, login):
    lead = make_person(make_org(), "training_lead")
    row = _job(db, lead, state="done", done=1000)
    login(client, lead)
    html = client.get(f"/jobs/{row.id}").get_data(as_text=True)
    assert "Finished" in html and '<meta http-equiv="refresh"' not in html


def test_someone_elses_job_is_not_found(app, db, client, make_org, make_person, login):
    org = make_org()
    row = _job(db, make_person(org, "training_lead"))
    login(client, make_person(org, "training_lead"))
    assert client.get(f"/jobs/{row.id}").status_code == 404
    assert client.get(f"/jobs/{row.id}/progress.json").status_code == 404
    assert client.get("/jobs/999999/progress.json").status_code == 404


def test_signed_out_is_sent_to_sign_in(app, db, client, make_org, make_person):
    row = _job(db, make_person(make_org(), "training_lead"))
    response = client.get(f"/jobs/{row.id}/progress.json")
    assert response.status_code in (302, 401)
