"""Induction checklists for employees and agency workers, seniors' confirmations, agency links, the manager's
view, overdue items on the dashboard and in the reminders."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from passport import reminders
from passport.companion import services as svc
from passport.companion.models import AgencyLink, Induction, Step
from passport.companion.reminders import induction_reminders
from passport.core.access import today
from passport.errors import NotFound, PermissionDenied, ValidationError
from tests.companion.conftest import P


def _agency(db, org, people, first=None, ends=None, email="priya@example.test"):
    first = first or today()
    return svc.start_induction(db, P(people["manager"]), org.id, {
        "kind": "agency", "worker_name": "Priya Shah", "agency_name": "Wessex Staffing", "email": email,
        "first_shift_on": first.isoformat(), "ends_on": (ends or first + timedelta(days=3)).isoformat()})


def test_employee_checklist_due_dates(db, adopted):
    org, people, tpl, pack = adopted
    first = today() + timedelta(days=2)
    ind = svc.start_induction(db, P(people["lead"]), org.id, {"kind": "employee", "person_id": str(people["worker"].id),
                                                             "first_shift_on": first.isoformat()})
    due = {s.title: s.due_on for s in ind.steps}
    assert due["Fire procedure"] == first and due["Shown the hoists and slings"] == first
    assert due["Recording care"] == first + timedelta(days=pack.due_days)
    assert due["GP surgery"] is None  # contacts are for reference
    assert svc.progress(ind).total == 4


def test_start_rejects_bad_input_and_saves_nothing(db, adopted, make_person, make_org):
    org, people, tpl, pack = adopted
    stranger = make_person(make_org(), "worker")
    cases = [({"kind": "employee", "person_id": str(stranger.id), "first_shift_on": today().isoformat()}, "person_id"),
             ({"kind": "employee", "person_id": "abc", "first_shift_on": today().isoformat()}, "person_id"),
             ({"kind": "agency", "worker_name": "", "agency_name": "A", "first_shift_on": today().isoformat(),
               "ends_on": today().isoformat()}, "worker_name"),
             ({"kind": "agency", "worker_name": "N", "agency_name": "A", "first_shift_on": today().isoformat(),
               "ends_on": (today() - timedelta(days=1)).isoformat()}, "ends_on"),
             ({"kind": "agency", "worker_name": "N", "agency_name": "A", "email": "not-an-email",
               "first_shift_on": today().isoformat(), "ends_on": today().isoformat()}, "email"),
             ({"kind": "agency", "worker_name": "N", "agency_name": "A", "first_shift_on": "2026-02-30",
               "ends_on": today().isoformat()}, "first_shift_on"),
             ({"kind": "martian"}, "kind")]
    for data, field in cases:
        with pytest.raises(ValidationError) as e:
            svc.start_induction(db, P(people["manager"]), org.id, data)
        assert field in e.value.fields, (data, e.value.fields)
    assert db.scalar(sa.select(sa.func.count()).select_from(Induction)) == 0
    with pytest.raises(PermissionDenied):
        svc.start_induction(db, P(people["worker"]), org.id, {"kind": "agency"})


def test_worker_ticks_reads_senior_confirms_shown(db, adopted):
    org, people, tpl, pack = adopted
    ind = svc.start_induction(db, None, org.id, {"kind": "employee", "person_id": people["worker"].id,
                                                 "first_shift_on": today()})
    read = next(s for s in ind.steps if s.kind == "read")
    shown = next(s for s in ind.steps if s.kind == "shown")
    svc.tick(db, P(people["worker"]), ind.id, read.id)
    assert read.done_at is not None
    with pytest.raises(PermissionDenied):
        svc.tick(db, P(people["worker"]), ind.id, shown.id)
    with pytest.raises(PermissionDenied):
        svc.confirm(db, P(people["worker"]), ind.id, shown.id)
    with pytest.raises(NotFound):
        svc.get_induction(db, P(people["other_worker"]), ind.id)
    svc.confirm(db, P(people["assessor"]), ind.id, shown.id)
    assert shown.confirmed_by_name == people["assessor"].full_name and shown.done_at


def test_agency_link_is_unguessable_hashed_and_scoped(db, adopted, client):
    org, people, tpl, pack = adopted
    ind = _agency(db, org, people)
    other = _agency(db, org, people)
    secret, link = svc.issue_link(db, P(people["manager"]), ind.id)
    assert len(secret) >= 43 and re.fullmatch(r"[A-Za-z0-9_-]+", secret)  # 32 random bytes = 256 bits
    assert secret not in link.token_hash and len(link.token_hash) == 64
    assert svc.induction_for_link(db, secret).id == ind.id
    page = client.get(f"/companion/a/{secret}")
    assert page.status_code == 200 and "Priya Shah" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    # a step of another worker's checklist cannot be ticked through this link
    foreign = other.steps[0]
    client.post(f"/companion/a/{secret}/steps/{foreign.id}", data={})
    db.refresh(foreign)
    assert foreign.done_at is None
    read = next(s for s in ind.steps if s.kind == "read")
    assert client.post(f"/companion/a/{secret}/steps/{read.id}", data={}).status_code == 302
    db.refresh(read)
    assert read.done_at is not None
    shown = next(s for s in ind.steps if s.kind == "shown")
    assert client.post(f"/companion/a/{secret}/steps/{shown.id}", data={}).status_code == 403
    assert client.get("/companion/a/" + "A" * 43).status_code == 404
    assert client.get("/companion/a/short").status_code == 404
    with pytest.raises(NotFound):
        svc.issue_link(db, P(people["worker"]), ind.id)


def test_agency_link_revoked_and_expired(db, adopted, client, login):
    org, people, tpl, pack = adopted
    ind = _agency(db, org, people)
    secret, link = svc.issue_link(db, P(people["manager"]), ind.id)
    login(client, people["manager"])
    assert client.post(f"/companion/links/{link.id}/revoke", data={}).status_code == 302
    assert client.get(f"/companion/a/{secret}").status_code == 404
    secret2, link2 = svc.issue_link(db, None, ind.id)
    link2.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    db.flush()
    assert client.get(f"/companion/a/{secret2}").status_code == 404
    # the link ends when the booking ends (UK midnight after the last day)
    assert svc._end_of(ind.ends_on) > datetime.combine(ind.ends_on, datetime.min.time(), tzinfo=timezone.utc)
    ended = _agency(db, org, people, first=today() - timedelta(days=5), ends=today() - timedelta(days=1))
    with pytest.raises(ValidationError):
        svc.issue_link(db, None, ended.id)


def test_agency_link_is_rate_limited(db, adopted, client, app):
    org, people, tpl, pack = adopted
    ind = _agency(db, org, people)
    secret, _ = svc.issue_link(db, None, ind.id)
    old = app.config["COMPANION_LINK_RATE_LIMIT"]
    app.config["COMPANION_LINK_RATE_LIMIT"] = "3 per minute"
    try:
        codes = [client.get(f"/companion/a/{secret}").status_code for _ in range(4)]
        guesses = client.get("/companion/a/" + "B" * 43).status_code
    finally:
        app.config["COMPANION_LINK_RATE_LIMIT"] = old
    assert codes == [200, 200, 200, 429] and guesses == 429


def test_manager_sees_completion_for_staff_and_this_weeks_agency(db, adopted, client, login):
    org, people, tpl, pack = adopted
    emp = svc.start_induction(db, None, org.id, {"kind": "employee", "person_id": people["worker"].id,
                                                 "first_shift_on": today()})
    ag = _agency(db, org, people)
    _agency(db, org, people, first=today() + timedelta(days=30), ends=today() + timedelta(days=32))  # not this week
    for s in emp.steps:
        if s.kind in ("read", "document"):
            svc.tick(db, P(people["worker"]), emp.id, s.id)
    data = svc.completion(db, P(people["manager"]), org.id)
    assert [i.id for i, _ in data["staff"]] == [emp.id]
    assert [i.id for i, _ in data["agency"]] == [ag.id]
    assert data["staff"][0][1].done == 3
    with pytest.raises(PermissionDenied):
        svc.completion(db, P(people["worker"]), org.id)
    login(client, people["manager"])
    page = client.get(f"/companion/orgs/{org.id}/inductions").get_data(as_text=True)
    assert "Priya Shah" in page and "% complete" in page
    login(client, people["worker"])
    assert client.get(f"/companion/orgs/{org.id}/inductions").status_code == 403


def test_overdue_on_dashboard_and_in_reminders(db, adopted, client, login):
    org, people, tpl, pack = adopted
    ind = svc.start_induction(db, None, org.id, {"kind": "employee", "person_id": people["worker"].id,
                                                 "first_shift_on": today() - timedelta(days=3)})
    assert svc.has_overdue(db, P(people["worker"])) and svc.has_overdue(db, P(people["manager"]))
    assert not svc.has_overdue(db, P(people["other_worker"]))
    login(client, people["worker"])
    assert "Induction: items overdue" in client.get("/").get_data(as_text=True)
    due = list(induction_reminders(db, today()))
    to = {r.to_email for r in due}
    assert people["worker"].email in to and people["manager"].email in to
    assert "induction" in reminders.sources()
    for s in ind.steps:
        if s.kind in ("read", "document"):
            svc.tick(db, P(people["worker"]), ind.id, s.id)
        elif s.kind == "shown":
            svc.confirm(db, P(people["manager"]), ind.id, s.id)
    assert not list(induction_reminders(db, today()))


def test_induction_pages_and_qr(db, adopted, client, login):
    org, people, tpl, pack = adopted
    login(client, people["manager"])
    r = client.post(f"/companion/orgs/{org.id}/inductions/new", data={"kind": "agency", "worker_name": "",
                                                                      "first_shift_on": "soon"})
    assert r.status_code == 400 and "Enter the worker" in r.get_data(as_text=True)
    r = client.post(f"/companion/orgs/{org.id}/inductions/new", data={
        "kind": "agency", "worker_name": "Sam Lee", "agency_name": "Staffing Co", "email": "",
        "first_shift_on": today().isoformat(), "ends_on": (today() + timedelta(days=2)).isoformat()})
    assert r.status_code == 302
    ind_id = int(r.headers["Location"].rsplit("/", 1)[1])
    page = client.post(f"/companion/inductions/{ind_id}/links", data={"send": "qr"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "data:image/svg+xml;base64," in text
    url = re.search(r'id="agency-link">([^<]+)<', text).group(1)
    assert "/companion/a/" in url
    assert client.get(f"/companion/inductions/{ind_id}/print").status_code == 200
    assert client.get("/companion/inductions/99999999999999999999999").status_code == 404


from tests.verify.conftest import _no_trust_cache, issue, keys, scheme  # noqa: E402,F401  (real passports)


def test_agency_induction_starts_from_a_passport_scan(db, adopted, issue, make_org, make_person):
    org, people, tpl, pack = adopted
    agency_worker = make_person(make_org(), "worker", given_name="Ola", family_name="Bright")
    passport = issue(agency_worker, agency_worker.memberships[0].organisation)
    token = f"https://passport.test/v#{passport.token}"  # what the QR code holds
    ind = svc.start_induction(db, P(people["manager"]), org.id, {
        "kind": "agency", "passport": token, "agency_name": "Wessex Staffing", "first_shift_on": today().isoformat(),
        "ends_on": today().isoformat()})
    assert ind.worker_name == "Ola Bright" and ind.person_id is None
    with pytest.raises(ValidationError) as e:
        svc.start_induction(db, P(people["manager"]), org.id, {
            "kind": "agency", "passport": token[:-5] + "AAAAA", "agency_name": "A",
            "first_shift_on": today().isoformat(), "ends_on": today().isoformat()})
    assert "passport" in e.value.fields


def test_agency_link_by_email(db, adopted, client, login, mail_to):
    org, people, tpl, pack = adopted
    ind = _agency(db, org, people, email="ola@example.test")
    login(client, people["manager"])
    r = client.post(f"/companion/inductions/{ind.id}/links", data={"send": "email"})
    assert r.status_code == 200 and "emailed to ola@example.test" in r.get_data(as_text=True)
    assert len(mail_to) == 1 and mail_to[0]["To"] == "ola@example.test"
    body = mail_to[0].get_payload(decode=True).decode()
    secret = re.search(r"/companion/a/([A-Za-z0-9_-]+)", body).group(1)
    assert svc.induction_for_link(db, secret).id == ind.id
