"""Courses pages: each renders for the right people, forms work and show field errors, denials are 403."""
import io
import re

import sqlalchemy as sa

from passport.core.models import TrainingRecord
from passport.courses import ascwds, bookings, progress
from passport.courses.models import AscwdsUpload, Course, CourseSession
from tests.courses.conftest import d


def test_training_lead_journey_in_pages(client, db, world, login, competent):
    login(client, world.lead)
    assert b"Create a course" in client.get("/courses/").data
    r = client.post("/courses/new", data={"owner": str(world.home.id), "title": "", "provider_kind": "in_house",
                                          "delivery": "face_to_face", "hours": "2"})
    assert r.status_code == 400 and b"Enter a course title" in r.data
    r = client.post("/courses/new", data={"owner": str(world.home.id), "title": "Fire safety", "provider_kind": "in_house",
                                          "delivery": "face_to_face", "hours": "2", "categories": ["6"],
                                          "validity_mode": "subject"})
    assert r.status_code == 302, r.data
    course = db.scalar(sa.select(Course).where(Course.title == "Fire safety"))
    assert client.get(f"/courses/{course.id}").status_code == 200
    r = client.post(f"/courses/{course.id}/sessions/new", data={
        "date": d(0).isoformat(), "start_time": "00:00", "end_time": "23:59", "venue": "Lounge", "capacity": "4",
        "shared": "y"})
    assert r.status_code == 302, r.data
    s = db.scalar(sa.select(CourseSession).where(CourseSession.course_id == course.id))
    page = client.get(f"/courses/sessions/{s.id}").get_data(as_text=True)
    assert world.other_workers[0].full_name not in page  # the lead only books their own people
    r = client.post(f"/courses/sessions/{s.id}", data={"person": f"{world.home.id}:{world.workers[0].id}"})
    assert r.status_code == 302
    assert client.post(f"/courses/sessions/{s.id}", data={"person": "junk"}).status_code == 400
    b = bookings.bookings_for(db, s.id)[0]
    assert client.get(f"/courses/sessions/{s.id}/sign-in-sheet").status_code == 200
    page = client.get(f"/courses/sessions/{s.id}/register")
    assert page.status_code == 200 and b"Take the register" in page.data
    r = client.post(f"/courses/sessions/{s.id}/register", data={f"b{b.id}": "present"})
    assert r.status_code == 302
    assert db.scalar(sa.select(sa.func.count()).select_from(TrainingRecord).where(
        TrainingRecord.person_id == world.workers[0].id, TrainingRecord.source == "course")) == 1
    m = client.get(f"/courses/orgs/{world.home.id}/matrix")
    assert m.status_code == 200 and b"Training matrix" in m.data and b'data-state="green"' in m.data
    assert client.get(f"/courses/orgs/{world.home.id}/matrix?window=30&state=red&q=Worker").status_code == 200
    csv = client.get(f"/courses/orgs/{world.home.id}/matrix.csv")
    assert csv.mimetype == "text/csv" and csv.get_data(as_text=True).startswith("Name,Job role")
    pdf = client.get(f"/courses/orgs/{world.home.id}/matrix.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert client.get(f"/courses/orgs/{world.home.id}/ascwds/export.csv").mimetype == "text/csv"


def test_assessment_and_sign_off_pages(client, db, world, login, competent):
    w = world.workers[1]
    login(client, world.assessor)
    assert client.get(f"/courses/people/{w.id}/assessments/new?framework=2025&standard=3").status_code == 200
    r = client.post(f"/courses/people/{w.id}/assessments/new", data={
        "framework": "2025", "standard_number": "3", "kind": "knowledge", "method": "workbook",
        "workbook_decision": "returned", "return_reason": ""})
    assert r.status_code == 400 and b"Say why the workbook is returned" in r.data
    for data in ({"kind": "knowledge", "method": "workbook", "workbook_decision": "accepted"},
                 {"kind": "observation", "setting": "Lounge", "outcome": "passed"}):
        r = client.post(f"/courses/people/{w.id}/assessments/new", data={"framework": "2025", "standard_number": "3",
                                                                         **data})
        assert r.status_code == 302, r.data
    page = client.get(f"/courses/people/{w.id}/care-certificate").get_data(as_text=True)
    assert "Practice observed" in page and "Sign off" not in page  # assessors cannot sign off
    assert client.get(f"/courses/people/{w.id}/care-certificate/2025/3/sign-off").status_code == 403
    login(client, world.manager)
    page = client.get(f"/courses/people/{w.id}/care-certificate").get_data(as_text=True)
    assert "Review and sign off" in page
    # the sign-off page shows the evidence and the declaration; signing off without confirming it is refused
    review = client.get(f"/courses/people/{w.id}/care-certificate/2025/3/sign-off").get_data(as_text=True)
    assert "Knowledge: workbook accepted" in review and "Practice observed: Lounge" in review
    assert progress.DECLARATION in review and 'name="declaration"' in review
    r = client.post(f"/courses/people/{w.id}/care-certificate/2025/3/sign-off", data={})
    assert r.status_code == 400 and "There is a problem" in r.get_data(as_text=True)
    assert "Confirm that you have reviewed the evidence" in r.get_data(as_text=True)
    r = client.post(f"/courses/people/{w.id}/care-certificate/2025/3/sign-off", data={"declaration": "y"})
    assert r.status_code == 302
    page = client.get(f"/courses/people/{w.id}/care-certificate").get_data(as_text=True)
    assert "Signed off" in page and "Evidence: Workbook accepted on" in page
    assert client.post(f"/courses/people/{w.id}/care-certificate/2025/4/sign-off",
                       data={"declaration": "y"}).status_code == 400
    assert client.post(f"/courses/people/{w.id}/care-certificate/2025/3/sign-off", data={},
                       csrf=False).status_code == 400
    world.workers[2].given_name = "<script>alert(1)</script>"
    db.flush()
    page = client.get(f"/courses/orgs/{world.home.id}/care-certificates").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)" in page and "<script>alert(1)" not in page
    assert f'<a href="/courses/people/{w.id}/care-certificate">' in page  # links are links, not escaped text
    r = client.post(f"/courses/orgs/{world.home.id}/assessors", data={"person_id": str(world.assessor.id),
                                                                      "framework": "2025", "standards": ["1", "2"]})
    assert r.status_code == 302


def test_org_settings_pages(client, db, world, login):
    login(client, world.lead)
    org = world.home.id
    assert client.get(f"/courses/orgs/{org}/requirements").status_code == 200
    r = client.post(f"/courses/orgs/{org}/requirements", data={"job_role": "care_worker", "categories": ["6", "20"]})
    assert r.status_code == 302
    r = client.post(f"/courses/orgs/{org}/settings", data={"s-amber_days": "90", "s-reminder_offsets": "sixty",
                                                           "s-local_est_id": "A1"})
    assert r.status_code == 400 and b"whole numbers of days" in r.data
    r = client.post(f"/courses/orgs/{org}/settings", data={"s-amber_days": "90", "s-reminder_offsets": "30, 7",
                                                           "s-local_est_id": "A1", "s-manager_digest": "y"})
    assert r.status_code == 302
    r = client.post(f"/courses/orgs/{org}/settings", data={"r-category_code": "6", "r-job_role": "",
                                                           "r-refresh_months": "24", "r-renew_month": "3",
                                                           "r-renew_day": "31"})
    assert r.status_code == 302 and b"31/3" in client.get(f"/courses/orgs/{org}/settings").data
    r = client.post(f"/courses/orgs/{org}/worker-ids", data={f"w{world.workers[0].id}": "W0",
                                                             f"w{world.workers[1].id}": "W0"})
    assert r.status_code == 400 and b"already used" in r.data
    r = client.post(f"/courses/orgs/{org}/worker-ids", data={f"w{world.workers[0].id}": "W0"})
    assert r.status_code == 302 and ascwds.worker_refs(db, org)[world.workers[0].id] == "W0"
    header = ",".join(ascwds.HEADER)
    good = f"{header}\nA1,W0,6,,,,,,,{d(3).strftime('%d/%m/%Y')},,\n".encode()
    r = client.post(f"/courses/orgs/{org}/ascwds", data={"file": (io.BytesIO(good), "t.csv"), "check": "Check"},
                    content_type="multipart/form-data")
    assert r.status_code == 200 and b"ready to import" in r.data
    bad = good.replace(b"W0", b"ZZ")
    r = client.post(f"/courses/orgs/{org}/ascwds", data={"file": (io.BytesIO(bad), "t.csv"), "submit": "Import"},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and b"Line 2, UNIQUEWORKERID" in r.data
    r = client.post(f"/courses/orgs/{org}/ascwds", data={"file": (io.BytesIO(good), "t.csv"), "submit": "Import"},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    assert db.scalar(sa.select(sa.func.count()).select_from(TrainingRecord).where(
        TrainingRecord.source == "bulk_upload")) == 1


def test_checked_ascwds_file_is_kept_for_import(client, db, world, login, monkeypatch):
    """Check, then Import without choosing the file again: the checked file is kept under a signed token that
    only the person who checked it, at that home, can use, and only for a while."""
    from datetime import timedelta

    org = world.home.id
    ascwds.set_worker_refs(db, world.p(world.lead), org, {world.workers[0].id: "W0"})
    login(client, world.lead)
    good = f"{','.join(ascwds.HEADER)}\nA1,W0,6,,,,,,,{d(3).strftime('%d/%m/%Y')},,\n".encode()
    r = client.post(f"/courses/orgs/{org}/ascwds", data={"file": (io.BytesIO(good), "t.csv"), "check": "Check"},
                    content_type="multipart/form-data")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "you do not need to choose it again" in page
    token = re.search(r'name="kept" type="hidden" value="([^"]+)"', page) or \
        re.search(r'id="kept" name="kept" type="hidden" value="([^"]+)"', page)
    token = token.group(1)
    assert "LOCALESTID" not in token  # the file stays on the server; the page carries only the token
    assert client.post(f"/courses/orgs/{org}/ascwds", data={"kept": token + "x", "submit": "Import"},
                       content_type="multipart/form-data").status_code == 400  # a tampered token
    login(client, world.manager)  # another person cannot use it
    r = client.post(f"/courses/orgs/{org}/ascwds", data={"kept": token, "submit": "Import"},
                    content_type="multipart/form-data")
    assert r.status_code in (400, 403)
    login(client, world.lead)
    monkeypatch.setattr(ascwds, "UPLOAD_MAX_AGE", timedelta(seconds=-1))  # expired
    r = client.post(f"/courses/orgs/{org}/ascwds", data={"kept": token, "submit": "Import"},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and b"Choose the file again" in r.data
    monkeypatch.undo()
    r = client.post(f"/courses/orgs/{org}/ascwds", data={"kept": token, "submit": "Import"},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    assert db.scalar(sa.select(sa.func.count()).select_from(TrainingRecord).where(
        TrainingRecord.source == "bulk_upload")) == 1
    assert db.scalar(sa.select(sa.func.count()).select_from(AscwdsUpload)) == 0  # removed once imported


def test_denials(client, db, world, login, course, make_session):
    s = make_session()
    org = world.home.id
    login(client, world.other_lead)
    for url in (f"/courses/orgs/{org}/matrix", f"/courses/orgs/{org}/matrix.csv", f"/courses/orgs/{org}/matrix.pdf",
                f"/courses/orgs/{org}/requirements", f"/courses/orgs/{org}/settings", f"/courses/orgs/{org}/ascwds",
                f"/courses/orgs/{org}/worker-ids", f"/courses/orgs/{org}/assessors",
                f"/courses/sessions/{s.id}", f"/courses/sessions/{s.id}/register",
                f"/courses/sessions/{s.id}/sign-in-sheet", f"/courses/{course.id}/edit",
                "/courses/scheme/summary"):
        assert client.get(url).status_code == 403, url
    # a person without a reason to see them is answered as if nobody had that id
    assert client.get(f"/courses/people/{world.workers[0].id}/care-certificate").status_code == 404
    assert client.post(f"/courses/sessions/{s.id}/cancel", data={}).status_code == 403
    login(client, world.workers[0])
    assert client.get("/courses/new").status_code == 403
    assert client.get(f"/courses/orgs/{org}/matrix").status_code == 403
    assert client.post(f"/courses/{course.id}/approval/approve", data={}).status_code == 403
    my = client.get("/courses/my")
    assert my.status_code == 200 and b"My Care Certificate" in my.data
    assert client.get(f"/courses/people/{world.workers[0].id}/care-certificate").status_code == 200  # their own
    assert client.get(f"/courses/people/{world.workers[1].id}/care-certificate").status_code == 404
    client.post("/sign-out", data={})
    assert client.get("/courses/").status_code == 302


def test_scheme_admin_pages(client, db, world, login, course):
    login(client, world.admin)
    page = client.get("/courses/scheme/summary?window=30")
    assert page.status_code == 200 and world.home.name.encode() in page.data
    r = client.post(f"/courses/{course.id}/approval/approve", data={})
    assert r.status_code == 302 and course.scheme_approved
    assert re.search(rb"Approved by the scheme", client.get(f"/courses/{course.id}").data)
