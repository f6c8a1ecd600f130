"""Registration confirmations: who may confirm (a care home never confirms its own staff), lapse by date,
withdrawal ends authority but keeps records, records store the confirmation, the review list, and the
denials through pages, the API and the command line."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from passport.audit import AuditEntry
from passport.core import registration as reg
from passport.core.models import Organisation, OrgGroup, Person, Scheme, SchemeMember
from passport.core.timeutil import uk_today
from passport.errors import Conflict, ValidationError
from tests.conftest import add_confirmation

TODAY = uk_today()
PIN = "10A1234E"
HOME_PIN = "15C5678F"


@dataclass
class W:
    association: Organisation
    trust: Organisation
    team: Organisation
    gp: Organisation
    home: Organisation
    sister_home: Organisation
    outside_trust: Organisation
    admin: Person
    trust_admin: Person
    gp_admin: Person
    home_admin: Person
    outside_admin: Person
    nurse: Person
    home_nurse: Person
    worker: Person


@pytest.fixture
def w(db, make_org, make_person, actor) -> W:
    group = OrgGroup(name=f"Group {TODAY.isoformat()}-{id(db)}")
    db.add(group)
    db.flush()
    association = make_org(kind="care_association")
    trust, team, gp = make_org(kind="nhs_trust"), make_org(kind="community_nursing"), make_org(kind="gp_practice")
    home = make_org(kind="care_home_nursing", group_id=group.id)
    sister_home = make_org(kind="care_home", group_id=group.id)
    outside_trust = make_org(kind="nhs_trust")
    scheme = Scheme(name=f"Registration scheme {home.name}")
    db.add(scheme)
    db.flush()
    for org in (association, trust, team, gp, home, sister_home):
        db.add(SchemeMember(scheme_id=scheme.id, org_id=org.id))
    db.flush()
    from tests.delegation.conftest import add_resident, give_prerequisites

    worker = make_person(home, "worker", given_name="Wendy")
    give_prerequisites(db, worker, home, actor)
    for label in ("Room 12 – R-0412", "Room 3 – R-0103"):  # the home's register of residents
        add_resident(db, home, label)
    return W(association, trust, team, gp, home, sister_home, outside_trust,
             admin=make_person(association, ["scheme_admin", "org_admin"], given_name="Sarah"),
             trust_admin=make_person(trust, "org_admin", given_name="Tess"),
             gp_admin=make_person(gp, "org_admin", given_name="Gita"),
             home_admin=make_person(home, ["org_admin", "registered_manager"], given_name="Hana"),
             outside_admin=make_person(outside_trust, "org_admin", given_name="Otto"),
             nurse=make_person(team, "registered_professional", given_name="Helen", registration=("NMC", PIN)),
             home_nurse=make_person(home, ["registered_professional", "worker"], given_name="Rita",
                                    registration=("NMC", HOME_PIN)),
             worker=worker)


def confirm(db, principal, by, pin=PIN, **kw):
    data = dict(register="NMC", pin=pin, register_status="registered", checked_on=TODAY,
                renews_on=TODAY + timedelta(days=200))
    data.update(kw)
    return reg.record_confirmation(db, principal(by), **data)


def assess(db, principal, w, by, **kw):
    from passport.delegation import services

    return services.record_assessment(db, principal(by), home_id=w.home.id, worker_id=w.worker.id,
                                      task_code="dry_dressing", assessed_on=TODAY, observations=2,
                                      outcome="competent", level="safe_unsupervised", **kw)


def delegate(db, principal, w, by, **kw):
    from passport.delegation import services

    data = dict(start_date=TODAY, review_date=TODAY + timedelta(days=90), instructions_ref="Care plan CP-12",
                consent_recorded=True, consent_by="resident", resident_ref="Room 12 – R-0412")
    data.update(kw)
    return services.create_delegation(db, principal(by), home_id=w.home.id, worker_id=w.worker.id,
                                      task_code="dry_dressing", **data)


# --- who may confirm -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "trust_admin", "gp_admin"])
def test_scheme_admin_and_nhs_admins_in_the_scheme_confirm(db, w, principal, who):
    c = confirm(db, principal, getattr(w, who))
    assert c.person_id == w.nurse.id and c.confirmed_by_id == getattr(w, who).id
    expected = {"admin": w.association, "trust_admin": w.trust, "gp_admin": w.gp}[who]
    assert c.org_id == expected.id
    assert reg.current_confirmation(db, w.nurse) == c
    entry = db.scalar(sa.select(AuditEntry).where(AuditEntry.action == "registration.confirm"))
    assert entry is not None and entry.object_id == str(c.id)


def test_care_home_admin_and_outsiders_cannot_confirm(db, w, principal):
    for who in (w.home_admin, w.outside_admin, w.worker, w.nurse):
        with pytest.raises(reg.RegistrationRefused) as refused:
            confirm(db, principal, who)
        assert refused.value.code == "not_a_confirmer" and refused.value.status == 403
    assert reg.current_confirmation(db, w.nurse) is None


def test_a_care_home_may_not_confirm_its_own_staff(db, w, principal, make_person):
    from passport.core.models import Membership

    # a scheme admin who is also an admin of the home where the professional works
    db.add(Membership(person_id=w.admin.id, org_id=w.home.id, role="org_admin", start_date=TODAY))
    db.flush()
    with pytest.raises(reg.RegistrationRefused) as refused:
        confirm(db, principal, w.admin, pin=HOME_PIN)
    assert refused.value.code == "own_staff" and "may not confirm its own staff" in refused.value.message
    # an NHS trust admin who also works shifts at a home of the same provider group
    db.add(Membership(person_id=w.trust_admin.id, org_id=w.sister_home.id, role="worker", start_date=TODAY))
    db.flush()
    with pytest.raises(reg.RegistrationRefused) as refused:
        confirm(db, principal, w.trust_admin, pin=HOME_PIN)
    assert refused.value.code == "own_staff" and "provider group" in refused.value.message
    # nobody confirms themself
    nurse_admin = make_person(w.gp, ["org_admin", "registered_professional"], registration=("NMC", "33D3333D"))
    with pytest.raises(reg.RegistrationRefused) as refused:
        confirm(db, principal, nurse_admin, pin="33D3333D")
    assert refused.value.code == "own_staff"
    # someone independent of the home can confirm the same nurse
    assert confirm(db, principal, w.gp_admin, pin=HOME_PIN).person_id == w.home_nurse.id


def test_api_token_carries_confirming_only_for_its_role(db, w, principal):
    with pytest.raises(reg.RegistrationRefused):
        reg.record_confirmation(db, principal(w.trust_admin, w.trust.id, "registered_manager"), register="NMC",
                                pin=PIN, register_status="registered", checked_on=TODAY,
                                renews_on=TODAY + timedelta(days=30))
    assert reg.record_confirmation(db, principal(w.trust_admin, w.trust.id, "org_admin"), register="NMC", pin=PIN,
                                   register_status="registered", checked_on=TODAY,
                                   renews_on=TODAY + timedelta(days=30)).org_id == w.trust.id


def test_named_confirmer_appointed_and_ended_by_the_scheme_admin(db, w, principal, make_person):
    named = make_person(w.association, "training_lead", given_name="Nadia")
    with pytest.raises(reg.RegistrationRefused):
        confirm(db, principal, named)
    with pytest.raises(reg.RegistrationRefused) as refused:  # only a scheme admin names confirmers
        reg.appoint_confirmer(db, principal(w.trust_admin), email=named.email, org_id=w.association.id)
    assert refused.value.code == "not_scheme_admin"
    with pytest.raises(ValidationError) as bad:  # never for a care home
        reg.appoint_confirmer(db, principal(w.admin), email=w.home_admin.email, org_id=w.home.id)
    assert "care home" in bad.value.fields["org_id"]
    with pytest.raises(ValidationError) as bad:  # they must work for the organisation
        reg.appoint_confirmer(db, principal(w.admin), email=named.email, org_id=w.trust.id)
    assert "does not work for" in bad.value.fields["email"]
    row = reg.appoint_confirmer(db, principal(w.admin), email=named.email, org_id=w.association.id)
    with pytest.raises(Conflict):
        reg.appoint_confirmer(db, principal(w.admin), email=named.email, org_id=w.association.id)
    c = confirm(db, principal, named)
    assert c.org_id == w.association.id
    with pytest.raises(reg.RegistrationRefused):  # an appointment is not carried by an API token
        reg.record_confirmation(db, principal(named, w.association.id, "training_lead"), register="NMC", pin=PIN,
                                register_status="registered", checked_on=TODAY, renews_on=TODAY + timedelta(days=9))
    reg.end_confirmer(db, principal(w.admin), row.id)
    with pytest.raises(reg.RegistrationRefused):
        confirm(db, principal, named)
    assert reg.current_confirmation(db, w.nurse) == c  # the past confirmation stands


def test_confirmation_field_rules(db, w, principal):
    cases = [
        (dict(pin="99Z9999Z"), "pin", "Nobody has this registration"),
        (dict(pin="nonsense"), "pin", "NMC PIN like"),
        (dict(register_status="suspended"), "register_status", "Only a current registration"),
        (dict(checked_on=TODAY + timedelta(days=1)), "checked_on", "future"),
        (dict(checked_on=TODAY - timedelta(days=45)), "checked_on", "within 30 days"),
        (dict(renews_on=TODAY), "renews_on", "passed or is today"),
        (dict(renews_on=TODAY + timedelta(days=6 * 366)), "renews_on", "5 years"),
        (dict(renews_on="31/12/2027"), "renews_on", "as a date"),
    ]
    for kw, field, text in cases:
        with pytest.raises(ValidationError) as bad:
            confirm(db, principal, w.admin, **kw)
        assert text in bad.value.fields[field], (kw, bad.value.fields)
    with pytest.raises(ValidationError) as bad:  # renewing for a named person checks their PIN on record
        confirm(db, principal, w.admin, pin=HOME_PIN, person_id=w.nurse.id)
    assert "on Helen" in bad.value.fields["pin"]


# --- lapse, withdrawal, records --------------------------------------------------------------------


def test_lapses_on_the_renewal_date(db, w, principal):
    c = add_confirmation(db, w.nurse, checked_on=TODAY - timedelta(days=300), renews_on=TODAY + timedelta(days=1))
    assert reg.current_confirmation(db, w.nurse, TODAY) == c
    tomorrow = TODAY + timedelta(days=1)
    assert reg.current_confirmation(db, w.nurse, tomorrow) is None
    s = reg.registration_standing(db, w.nurse, tomorrow)
    assert s.code == "registration_lapsed" and tomorrow.strftime("%-d %B %Y") in s.message()
    assert reg.confirmation_state(c, TODAY) == "due"
    # a PIN changed on the record after the check is not covered by it
    w.nurse.registration_pin = "10A1234F"
    db.flush()
    assert reg.registration_standing(db, w.nurse).code == "registration_changed"


def test_lapsed_professional_cannot_assess_or_delegate(db, w, principal):
    from passport.delegation import services

    with pytest.raises(services.RefusedAction) as refused:
        assess(db, principal, w, w.nurse)
    assert refused.value.code == "registration_not_confirmed"
    add_confirmation(db, w.nurse, checked_on=TODAY - timedelta(days=400), renews_on=TODAY - timedelta(days=3))
    with pytest.raises(services.RefusedAction) as refused:
        assess(db, principal, w, w.nurse)
    assert refused.value.code == "registration_lapsed"
    assert "lapsed on " + (TODAY - timedelta(days=3)).strftime("%-d %B %Y") in refused.value.message


def test_records_store_the_confirmation_and_withdrawal_keeps_them(db, w, principal):
    from passport.delegation import queries, services
    from passport.delegation.catalogue import get_task
    from passport.delegation.models import Competency

    c = confirm(db, principal, w.trust_admin)
    a = assess(db, principal, w, w.nurse)
    competency = db.scalar(sa.select(Competency).where(Competency.assessment_id == a.id))
    d = delegate(db, principal, w, w.nurse)
    assert competency.registration_confirmation_id == c.id and d.registration_confirmation_id == c.id
    reg.withdraw_confirmation(db, principal(w.trust_admin), c.id, "The register now shows an interim suspension.")
    with pytest.raises(Conflict):
        reg.withdraw_confirmation(db, principal(w.trust_admin), c.id, "Again")
    # authority has ended...
    with pytest.raises(services.RefusedAction) as refused:
        delegate(db, principal, w, w.nurse, resident_ref="Room 3 – R-0103")
    assert refused.value.code == "registration_withdrawn"
    with pytest.raises(services.RefusedAction):
        services.withdraw_competency(db, principal(w.nurse), competency.id, "Changed my mind")
    # ...the records have not: the worker can still do the task, and both are listed for review
    assert competency.ended_at is None and d.ended_at is None
    who = queries.who_can_do_it(db, w.home.id, get_task(db, "dry_dressing"))
    assert [r.person_id for r in who] == [w.worker.id]
    rows = reg.relying_records(db, c.id)
    assert {(r["kind"], r["id"], r["open"]) for r in rows} == {("competence", competency.id, True),
                                                               ("delegation", d.id, True)}
    # the home's registered manager can still withdraw the delegation after review
    services.withdraw_delegation(db, principal(w.home_admin), d.id, "Reviewed after the confirmation was withdrawn")
    assert {r["kind"]: r["open"] for r in reg.relying_records(db, c.id)}["delegation"] is False
    # only a scheme admin or a confirmer for the recording organisation may withdraw
    c2 = confirm(db, principal, w.gp_admin)
    with pytest.raises(reg.RegistrationRefused):
        reg.withdraw_confirmation(db, principal(w.trust_admin), c2.id, "Not mine")
    assert reg.withdraw_confirmation(db, principal(w.admin), c2.id, "Checked again").withdrawn_at is not None


def test_renewal_is_a_new_confirmation(db, w, principal):
    old = add_confirmation(db, w.nurse, checked_on=TODAY - timedelta(days=360), renews_on=TODAY + timedelta(days=5))
    new = confirm(db, principal, w.admin, person_id=w.nurse.id, renews_on=TODAY + timedelta(days=370))
    assert reg.current_confirmation(db, w.nurse) == new and old.withdrawn_at is None
    assert [h.id for h in reg.history(db, w.nurse.id)] == [new.id, old.id]


def test_overview_groups_due_lapsed_withdrawn_and_unconfirmed(db, w, principal, make_person):
    due = add_confirmation(db, w.nurse, renews_on=TODAY + timedelta(days=10))
    lapsed_person = make_person(w.team, "registered_professional", registration=("NMC", "44E4444E"))
    lapsed = add_confirmation(db, lapsed_person, checked_on=TODAY - timedelta(days=400),
                              renews_on=TODAY - timedelta(days=1))
    groups = reg.overview(db)
    assert due in groups["due"] and lapsed in groups["lapsed"]
    assert w.home_nurse in groups["unconfirmed"] and w.nurse not in groups["unconfirmed"]


def test_courses_assessor_eligibility_needs_a_current_confirmation(db, w, principal):
    from passport.courses.assessments import eligibility

    assert eligibility(db, principal(w.home_nurse), [w.home.id]) is None
    add_confirmation(db, w.home_nurse)
    assert eligibility(db, principal(w.home_nurse), [w.home.id]) == "registered_professional"


# --- pages -----------------------------------------------------------------------------------------


def test_pages_for_the_scheme_admin(client, login, db, w):
    due = add_confirmation(db, w.nurse, renews_on=TODAY + timedelta(days=10))
    w.nurse.family_name = "<img src=x>"
    login(client, w.admin)
    page = client.get("/registration/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Renewal due within 30 days (1)" in text and "Never confirmed" in text
    assert f'<a href="/registration/confirmations/{due.id}">Helen &lt;img src=x&gt;</a>' in text
    form = {"register": "NMC", "pin": HOME_PIN, "register_status": "registered", "checked_on": TODAY.isoformat(),
            "renews_on": (TODAY - timedelta(days=1)).isoformat(), "org_id": str(w.association.id), "notes": ""}
    bad = client.post("/registration/confirm", data=form)
    assert bad.status_code == 400 and "That renewal date has passed" in bad.get_data(as_text=True)
    ok = client.post("/registration/confirm", data={**form, "renews_on": (TODAY + timedelta(days=300)).isoformat()})
    assert ok.status_code == 302
    c = reg.current_confirmation(db, w.home_nurse)
    assert c is not None and ok.headers["Location"].endswith(f"/registration/confirmations/{c.id}")
    detail = client.get(f"/registration/confirmations/{c.id}").get_data(as_text=True)
    assert "What relied on this confirmation" in detail and (TODAY + timedelta(days=300)).strftime("%-d %B %Y") in detail
    empty = client.post(f"/registration/confirmations/{c.id}", data={"reason": ""})
    assert empty.status_code == 400 and "Enter the reason." in empty.get_data(as_text=True)
    done = client.post(f"/registration/confirmations/{c.id}", data={"reason": "Register shows a suspension"})
    assert done.status_code == 302 and reg.current_confirmation(db, w.home_nurse) is None
    assert client.get("/registration/confirmers").status_code == 200


def test_pages_refuse_care_home_admins_and_own_staff(client, login, db, w):
    from passport.core.models import Membership

    login(client, w.home_admin)
    for url in ("/registration/", "/registration/confirm", "/registration/confirmers"):
        assert client.get(url).status_code == 403, url
    c = add_confirmation(db, w.nurse)
    assert client.get(f"/registration/confirmations/{c.id}").status_code == 403
    assert client.post(f"/registration/confirmations/{c.id}", data={"reason": "x"}).status_code == 403
    db.add(Membership(person_id=w.admin.id, org_id=w.home.id, role="org_admin", start_date=TODAY))
    db.flush()
    login(client, w.admin)
    r = client.post("/registration/confirm", data={
        "register": "NMC", "pin": HOME_PIN, "register_status": "registered", "checked_on": TODAY.isoformat(),
        "renews_on": (TODAY + timedelta(days=90)).isoformat(), "org_id": str(w.association.id), "notes": ""})
    assert r.status_code == 403 and "may not confirm its own staff" in r.get_data(as_text=True)
    assert reg.current_confirmation(db, w.home_nurse) is None


def test_lapsed_nurse_sees_why_on_the_delegate_page(client, login, db, w):
    add_confirmation(db, w.nurse, checked_on=TODAY - timedelta(days=400), renews_on=TODAY - timedelta(days=2))
    login(client, w.nurse)
    home = client.get(f"/delegation/homes/{w.home.id}")  # may still see the home, and is told why not act
    assert home.status_code == 200 and "You cannot assess or delegate" in home.get_data(as_text=True)
    page = client.get(f"/delegation/homes/{w.home.id}/delegate")
    assert page.status_code == 403 and "registration confirmation lapsed on" in page.get_data(as_text=True)
    r = client.post(f"/delegation/homes/{w.home.id}/delegate", data={
        "worker": str(w.worker.id), "task": "dry_dressing", "resident_ref": "Room 12 – R-0412",
        "start_date": TODAY.isoformat(), "review_date": (TODAY + timedelta(days=90)).isoformat(),
        "instructions_ref": "CP-12", "consent_by": "resident", "consent_recorded": "y", "notes": ""})
    assert r.status_code == 403 and "lapsed" in r.get_data(as_text=True)
    refused = db.scalar(sa.select(AuditEntry).where(AuditEntry.action == "delegation.delegation.create.refused"))
    assert refused is not None and "registration_lapsed" in refused.details


# --- API -------------------------------------------------------------------------------------------


def test_api_confirm_review_withdraw_and_refusals(client, api_token, db, w, principal):
    body = {"register": "NMC", "pin": PIN, "register_status": "registered", "checked_on": TODAY.isoformat(),
            "renews_on": (TODAY + timedelta(days=365)).isoformat()}
    home_h = api_token(w.home_admin, w.home.id, "org_admin")
    r = client.post("/api/v1/registration/confirmations", json=body, headers=home_h)
    assert r.status_code == 403 and r.get_json()["error"] == "not_a_confirmer"
    trust_h = api_token(w.trust_admin, w.trust.id, "org_admin")
    r = client.post("/api/v1/registration/confirmations", json={**body, "renews_on": "tomorrow"}, headers=trust_h)
    assert r.status_code == 400 and "renews_on" in r.get_json()["fields"]
    r = client.post("/api/v1/registration/confirmations", json=body, headers=trust_h)
    assert r.status_code == 201 and r.get_json()["state"] == "current"
    cid = r.get_json()["id"]
    nurse_h = api_token(w.nurse, w.team.id, "registered_professional")
    r = client.post("/api/v1/delegation/assessments", headers=nurse_h, json={
        "org_id": w.home.id, "worker_id": w.worker.id, "task": "dry_dressing", "assessed_on": TODAY.isoformat(),
        "observations": 2, "outcome": "competent", "level": "safe_unsupervised"})
    assert r.status_code == 201
    r = client.get(f"/api/v1/registration/confirmations/{cid}/review", headers=trust_h)
    assert r.status_code == 200 and [x["kind"] for x in r.get_json()["records"]] == ["competence"]
    assert client.get(f"/api/v1/registration/confirmations/{cid}/review", headers=home_h).status_code == 403
    r = client.post(f"/api/v1/registration/confirmations/{cid}/withdraw", json={"reason": "Suspended"}, headers=trust_h)
    assert r.status_code == 200 and r.get_json()["state"] == "withdrawn"
    r = client.post(f"/api/v1/registration/confirmations/{cid}/withdraw", json={"reason": "Again"}, headers=trust_h)
    assert r.status_code == 409
    r = client.post("/api/v1/delegation/delegations", headers=nurse_h, json={
        "org_id": w.home.id, "worker_id": w.worker.id, "task": "dry_dressing", "resident_ref": "Room 12 – R-0412",
        "start_date": TODAY.isoformat(), "review_date": (TODAY + timedelta(days=60)).isoformat(),
        "instructions_ref": "CP-12", "consent_recorded": True, "consent_by": "resident"})
    assert r.status_code == 403 and r.get_json()["error"] == "registration_withdrawn"
    r = client.get(f"/api/v1/registration/people/{w.nurse.id}/standing", headers=nurse_h)
    assert r.get_json()["confirmed"] is False and r.get_json()["code"] == "registration_withdrawn"
    admin_h = api_token(w.admin, w.association.id, "scheme_admin")
    r = client.get("/api/v1/registration/confirmations?state=withdrawn", headers=admin_h)
    assert [c["id"] for c in r.get_json()["withdrawn"]] == [cid]
    assert client.get("/api/v1/registration/confirmations?state=nope", headers=admin_h).status_code == 400
    assert client.get("/api/v1/registration/confirmations", headers=nurse_h).status_code == 403
    assert client.get("/api/v1/registration/confirmations/999999999", headers=admin_h).status_code == 404


def test_openapi_documents_the_registration_api(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/registration/confirmations", "/registration/confirmations/{confirmation_id}/withdraw",
            "/registration/confirmations/{confirmation_id}/review", "/registration/people/{person_id}/standing"} \
        <= set(paths)
    assert "409" in paths["/registration/confirmations/{confirmation_id}/withdraw"]["post"]["responses"]


# --- command line ----------------------------------------------------------------------------------


def test_cli_check_confirm_and_withdraw(app, db, w):
    db.commit()  # part of the test's outer transaction, so a refused command's rollback keeps it
    runner = app.test_cli_runner()
    r = runner.invoke(args=["registration", "check", "--email", w.nurse.email])
    assert r.exit_code == 1 and "registration_not_confirmed" in r.output
    args = ["registration", "confirm", "--register", "NMC", "--pin", PIN, "--checked-on", TODAY.isoformat(),
            "--renews-on", (TODAY + timedelta(days=100)).isoformat()]
    r = runner.invoke(args=args + ["--by", w.home_admin.email])
    assert r.exit_code == 1 and "not_a_confirmer" in r.output
    r = runner.invoke(args=args + ["--by", w.gp_admin.email])
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["registration", "check", "--email", w.nurse.email])
    assert r.exit_code == 0 and "confirmed on" in r.output
    cid = reg.current_confirmation(db, w.nurse).id
    r = runner.invoke(args=["registration", "withdraw", str(cid), "--by", w.home_admin.email, "--reason", "x"])
    assert r.exit_code == 1 and "not_a_confirmer" in r.output
    r = runner.invoke(args=["registration", "withdraw", str(cid), "--by", w.admin.email, "--reason", "Suspended"])
    assert r.exit_code == 0 and "0 record(s) relied on it" in r.output
    r = runner.invoke(args=["registration", "list", "--state", "withdrawn"])
    assert "withdrawn: 1" in r.output
