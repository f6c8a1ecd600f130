"""An organisation gains a person only with a reason: it creates the record, the person accepts its
invitation, or it accepts the person's passport. Extending a current member's roles is fine. A person's
id or email address is never enough, and refusals never reveal whether someone exists."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from passport.audit import AuditEntry
from passport.core import invitations, services
from passport.core.access import Principal, require_person_visible
from passport.core.models import Invitation, Membership, Person
from passport.errors import NotFound


@pytest.fixture
def world(make_org, make_person):
    """Two homes. The worker is at home A only; B's admin and training lead have no reason to see her."""
    a, b = make_org("Home A"), make_org("Home B")
    worker = make_person(a, "worker", given_name="Wendy", email="wendy@example.test")
    admin_b = make_person(b, "org_admin", given_name="Adam")
    lead_b = make_person(b, "training_lead", given_name="Lara")
    return a, b, worker, admin_b, lead_b


def memberships(db, person_id: int, org_id: int) -> list[Membership]:
    return list(db.scalars(sa.select(Membership).where(Membership.person_id == person_id,
                                                       Membership.org_id == org_id)))


# --- the API -----------------------------------------------------------------------------------------


def test_api_cannot_add_a_non_member_by_id(client, db, api_token, world):
    a, b, worker, admin_b, _lead = world
    headers = api_token(admin_b, b.id, "org_admin")
    resp = client.post(f"/api/v1/people/{worker.id}/memberships", headers=headers, json={"org_id": b.id, "role": "worker"})
    assert resp.status_code == 404
    unknown = client.post("/api/v1/people/987654321/memberships", headers=headers, json={"org_id": b.id, "role": "worker"})
    assert unknown.status_code == 404 and unknown.get_json() == resp.get_json()  # no existence leak
    huge = client.post(f"/api/v1/people/{2**63}/memberships", headers=headers, json={"org_id": b.id, "role": "worker"})
    assert huge.status_code == 404
    assert memberships(db, worker.id, b.id) == []


def test_api_extends_a_current_member(client, db, api_token, world, make_person):
    _a, b, _worker, admin_b, _lead = world
    colleague = make_person(b, "worker")
    resp = client.post(f"/api/v1/people/{colleague.id}/memberships", headers=api_token(admin_b, b.id, "org_admin"),
                       json={"org_id": b.id, "role": "assessor"})
    assert resp.status_code == 201 and resp.get_json()["via"] == "extended"
    m = db.get(Membership, resp.get_json()["id"])
    assert (m.via, m.role) == ("extended", "assessor")
    entry = db.scalar(sa.select(AuditEntry).where(AuditEntry.action == "membership.create",
                                                  AuditEntry.object_id == str(m.id)))
    assert entry.actor_id == admin_b.id and '"via": "extended"' in entry.details


def test_a_membership_that_has_ended_is_not_a_reason(client, db, api_token, world, make_person):
    _a, b, _worker, admin_b, _lead = world
    leaver = make_person(b, "worker", start_date=date(2020, 1, 1))
    db.execute(sa.update(Membership).where(Membership.person_id == leaver.id)
               .values(end_date=date.today() - timedelta(days=1)))
    resp = client.post(f"/api/v1/people/{leaver.id}/memberships", headers=api_token(admin_b, b.id, "org_admin"),
                       json={"org_id": b.id, "role": "worker"})
    assert resp.status_code == 404  # rejoining is an invitation


def test_api_reads_refused_without_a_reason(client, api_token, world):
    a, b, worker, _admin_b, lead_b = world
    headers = api_token(lead_b, b.id, "training_lead")
    for url in ("/api/v1/people/{}", "/api/v1/people/{}/training-records"):
        resp = client.get(url.format(worker.id), headers=headers)
        unknown = client.get(url.format(987654321), headers=headers)
        assert resp.status_code == unknown.status_code == 404
        assert resp.get_json() == unknown.get_json()
    resp = client.post(f"/api/v1/people/{worker.id}/training-records", headers=headers,
                       json={"org_id": b.id, "category_code": 1, "completed_on": "2026-01-05"})
    assert resp.status_code == 404


def test_api_add_person_with_an_address_in_use_sends_an_invitation(client, db, api_token, world, mail_to):
    a, b, worker, admin_b, _lead = world
    headers = api_token(admin_b, b.id, "org_admin")
    before = db.scalar(sa.select(sa.func.count()).select_from(Person))
    resp = client.post(f"/api/v1/organisations/{b.id}/people", headers=headers, json={
        "given_name": "Someone", "family_name": "Else", "email": "WENDY@example.test", "role": "worker"})
    assert resp.status_code == 202
    body = resp.get_json()
    assert body["status"] == "invited" and body["invitation"]["email"] == "wendy@example.test"
    assert "Wendy" not in resp.get_data(as_text=True) and str(worker.id) not in str(body.get("person", ""))
    assert db.scalar(sa.select(sa.func.count()).select_from(Person)) == before
    assert memberships(db, worker.id, b.id) == []
    assert [m["To"] for m in mail_to] == ["wendy@example.test"]
    # a new address makes a new person record, the reason "created"
    resp = client.post(f"/api/v1/organisations/{b.id}/people", headers=headers, json={
        "given_name": "New", "family_name": "Starter", "email": "new.starter@example.test", "role": "worker"})
    assert resp.status_code == 201
    m = memberships(db, resp.get_json()["id"], b.id)
    assert [(x.via, x.role) for x in m] == [("created", "worker")]


# --- the pages ---------------------------------------------------------------------------------------


def test_add_role_page_is_not_offered_for_non_members(client, db, login, world):
    a, b, worker, admin_b, _lead = world
    login(client, admin_b)
    url = f"/organisations/{b.id}/people/{worker.id}/roles"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"role": "worker"}).status_code == 404
    assert client.get(f"/organisations/{b.id}/people/987654321/roles").status_code == 404
    assert client.get(f"/organisations/{b.id}/people/{2**63}/roles").status_code == 404
    assert memberships(db, worker.id, b.id) == []


def test_add_role_page_extends_a_member(client, db, login, world, make_person):
    _a, b, _worker, admin_b, _lead = world
    colleague = make_person(b, "worker")
    login(client, admin_b)
    resp = client.post(f"/organisations/{b.id}/people/{colleague.id}/roles", data={"role": "assessor"})
    assert resp.status_code == 302
    assert {(m.role, m.via) for m in memberships(db, colleague.id, b.id)} == {("worker", "created"),
                                                                              ("assessor", "extended")}


def test_add_person_page_with_an_address_in_use_invites_without_saying_so(client, db, login, world, mail_to):
    a, b, worker, admin_b, _lead = world
    login(client, admin_b)
    resp = client.post(f"/organisations/{b.id}/people", data={
        "given_name": "Wendy", "family_name": "Whoever", "email": "wendy@example.test", "role": "worker"},
        follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "We have emailed an invitation to wendy@example.test" in page
    assert "already uses" not in page and "cannot be used" not in page and "Wendy Tester" not in page
    assert memberships(db, worker.id, b.id) == []
    assert db.scalar(sa.select(Invitation).where(Invitation.email == "wendy@example.test")).org_id == b.id
    assert len(mail_to) == 1
    # a brand-new address invited through the invitation page answers in the same words
    resp = client.post(f"/organisations/{b.id}/invitations", data={"email": "nobody.yet@example.test",
                                                                   "roles": ["worker"]}, follow_redirects=True)
    assert "We have emailed an invitation to nobody.yet@example.test" in resp.get_data(as_text=True)


def test_pages_refuse_a_person_without_a_reason(client, login, world):
    a, b, worker, admin_b, lead_b = world
    for who in (admin_b, lead_b):
        login(client, who)
        for url in ("/people/{}", "/people/{}/edit"):
            assert client.get(url.format(worker.id)).status_code == 404
            assert client.get(url.format(987654321)).status_code == 404
        assert client.get(f"/organisations/{b.id}/people/{worker.id}/records/new").status_code in (403, 404)
    login(client, lead_b)
    assert client.get(f"/organisations/{b.id}/people/{worker.id}/records/new").status_code == 404
    assert client.get(f"/people/{2**63}").status_code == 404


def test_passport_print_and_qr_need_a_reason(app, client, db, login, world, make_person):
    from passport.certificates import keys as keyring, services as cservices
    from passport.core import records

    a, b, worker, _admin_b, lead_b = world
    keyring.current_key(db, "passport") or keyring.create_key(db, app.config["KEY_DIR"], "passport")
    for n in range(1, 17):
        records.record_achievement(db, None, person_id=worker.id, org_id=a.id, framework="2025", standard_number=n,
                                   met_on=date.today() - timedelta(days=30), source="assessment")
    passport = cservices.issue_passport(db, None, worker.id, a.id, key_dir=app.config["KEY_DIR"],
                                        public_url=app.config["PUBLIC_URL"])
    lead_a = make_person(a, "training_lead")
    urls = [f"/certificates/people/{worker.id}", f"/certificates/passports/{passport.id}",
            f"/certificates/passports/{passport.id}/print", f"/certificates/passports/{passport.id}/download/qr.png"]
    login(client, lead_b)
    for url in urls:
        assert client.get(url).status_code in (403, 404), url
    login(client, lead_a)
    for url in urls:
        assert client.get(url).status_code == 200, url


# --- the one service ------------------------------------------------------------------------------


def test_create_membership_needs_a_known_reason(db, world):
    a, b, worker, admin_b, _lead = world
    with pytest.raises(ValueError):
        services.create_membership(db, None, worker, b.id, {"role": "worker"}, via="because")
    with pytest.raises(NotFound):  # "created" only for a brand-new record
        services.create_membership(db, Principal(admin_b), worker, b.id, {"role": "worker"}, via="created")
    with pytest.raises(NotFound):  # the command line cannot extend a non-member either
        services.create_membership(db, None, worker.id, b.id, {"role": "worker"}, via="extended")
    with pytest.raises(ValueError):  # an invitation or passport membership names it
        services.create_membership(db, None, worker, b.id, {"role": "worker"}, via="invitation")
    assert memberships(db, worker.id, b.id) == []


def test_require_person_visible(db, world, make_person):
    a, b, worker, admin_b, lead_b = world
    assert require_person_visible(db, Principal(worker), worker.id) is worker
    assert require_person_visible(db, Principal(make_person(a, "training_lead")), worker.id) is worker
    for pid in (worker.id, 987654321, 2**63, -1, "1"):
        with pytest.raises(NotFound) as exc:
            require_person_visible(db, Principal(lead_b), pid)
        assert exc.value.message == "No such person, or you cannot see them."


def test_invitation_acceptance_then_extends(db, world):
    a, b, worker, admin_b, _lead = world
    inv, _token = invitations.create_invitation(db, Principal(admin_b), b.id, {"email": worker.email,
                                                                              "roles": ["worker"]})
    [m] = invitations.accept(db, worker, inv)
    assert (m.via, m.via_ref) == ("invitation", f"invitation {inv.id}")
    extra = services.add_membership(db, Principal(admin_b), worker.id, b.id, {"role": "assessor"})
    assert extra.via == "extended"


def test_accepting_a_passport_adds_its_holder_with_the_reason(app, client, db, login, world):
    """The page flow: B's training lead pastes the worker's passport; the holder is offered and joins B."""
    from passport.certificates import keys as keyring, services as cservices
    from passport.core import records

    app.config["VERIFY_TRUST_CACHE_SECONDS"] = 0
    a, b, worker, _admin_b, lead_b = world
    keyring.current_key(db, "passport") or keyring.create_key(db, app.config["KEY_DIR"], "passport")
    keyring.current_key(db, "trust") or keyring.create_key(db, app.config["KEY_DIR"], "trust")
    if services.get_scheme(db) is None:
        services.save_scheme(db, None, {"name": "Access Test Scheme", "cc_version": "2025", "members": [a.id]})
    for n in range(1, 17):
        records.record_achievement(db, None, person_id=worker.id, org_id=a.id, framework="2025", standard_number=n,
                                   met_on=date.today() - timedelta(days=30), source="assessment")
    passport = cservices.issue_passport(db, None, worker.id, a.id, key_dir=app.config["KEY_DIR"],
                                        public_url=app.config["PUBLIC_URL"])
    login(client, lead_b)
    page = client.post(f"/verify/orgs/{b.id}/accept", data={"token": passport.token}).get_data(as_text=True)
    assert f'value="{worker.id}"' in page  # the holder is offered although not (yet) on B's staff
    resp = client.post(f"/verify/orgs/{b.id}/accept/confirm", data={
        "token": passport.token, "person": str(worker.id), "standards": [], "categories": [], "top_up": []})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    [m] = memberships(db, worker.id, b.id)
    assert m.via == "passport" and passport.jti in m.via_ref
    # and now B has a reason: its training lead can read her records
    assert client.get(f"/people/{worker.id}").status_code == 200


# --- the command line and the demo -------------------------------------------------------------------


def test_setup_command_records_reasons(app, db):
    if services.get_scheme(db) is not None:
        pytest.skip("a scheme already exists in this database")
    runner = app.test_cli_runner()
    res = runner.invoke(args=["setup", "--scheme", "Reason Scheme", "--org", "Reason Association",
                              "--admin-email", "reason.admin@example.test", "--given-name", "Rae",
                              "--family-name", "Son"])
    assert res.exit_code == 0, res.output
    person = db.scalar(sa.select(Person).where(Person.email == "reason.admin@example.test"))
    assert sorted((m.role, m.via) for m in person.memberships) == [("org_admin", "extended"),
                                                                  ("scheme_admin", "created")]


def test_demo_memberships_all_have_reasons(app, db):
    from passport.demo import load_demo

    if services.get_scheme(db) is not None:
        pytest.skip("a scheme already exists in this database")
    load_demo(app)
    vias = dict(db.execute(sa.select(Membership.via, sa.func.count()).group_by(Membership.via)).all())
    assert set(vias) <= {"created", "extended", "invitation", "passport"} and vias["created"] > 50
    assert vias.get("invitation", 0) >= 1  # a training lead joined a sister home by invitation
    assert vias.get("passport", 0) >= 1  # a mover joined Meadow View by an accepted passport
