"""Invitations: invite by email (real SMTP), accept signed in or with a new account, single use, expiry,
resend and revoke, through pages and the API."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from passport.core import invitations
from passport.core.access import Principal
from passport.core.models import Invitation, Membership, Person, User
from passport.db import utcnow

LINK = re.compile(r"https://passport\.test(/invitations/accept/([A-Za-z0-9_-]+))")


@pytest.fixture
def home(make_org):
    return make_org("Invite Home")


@pytest.fixture
def admin(make_person, home):
    return make_person(home, "org_admin", given_name="Ada")


@pytest.fixture
def elsewhere(make_person, make_org):
    """Someone with an account at another home."""
    return make_person(make_org("Elsewhere Home"), "worker", given_name="Elsie", email="elsie@example.test")


def link_in(message) -> tuple[str, str]:
    text = message.get_payload(decode=True).decode("utf-8")
    match = LINK.search(text)
    assert match, text
    return match.group(1), match.group(2)


def invite_by_page(client, login, admin, home, email="elsie@example.test", roles=("worker",)):
    login(client, admin)
    return client.post(f"/organisations/{home.id}/invitations", data={"email": email, "roles": list(roles)})


def members(db, person_id, org_id):
    return list(db.scalars(sa.select(Membership).where(Membership.person_id == person_id,
                                                       Membership.org_id == org_id)))


def test_invite_sends_a_single_use_link_stored_only_as_a_hash(app, client, db, login, admin, home, mail_to):
    resp = invite_by_page(client, login, admin, home)
    assert resp.status_code == 302
    [msg] = mail_to
    assert msg["To"] == "elsie@example.test" and "Invite Home" in msg["Subject"]
    _path, token = link_in(msg)
    assert len(token) >= 43  # 256 random bits; at least 128 required
    inv = db.scalar(sa.select(Invitation).where(Invitation.email == "elsie@example.test"))
    assert inv.token_hash == invitations.token_hash(token) and token not in inv.token_hash
    assert inv.created_by_id == admin.id and inv.role_list == ["worker"] and inv.send_count == 1
    days = app.config["INVITATION_DAYS"]
    assert days == 7 and abs((inv.expires_at - utcnow()) - timedelta(days=days)) < timedelta(minutes=1)
    page = client.get(f"/organisations/{home.id}/invitations").get_data(as_text=True)
    assert "elsie@example.test" in page and "Resend" in page and "Withdraw" in page


def test_signed_in_person_accepts_through_the_link_once(client, db, login, admin, home, elsewhere, mail_to):
    invite_by_page(client, login, admin, home)
    path, _token = link_in(mail_to[0])
    client.post("/sign-out", data={})
    page = client.get(path).get_data(as_text=True)
    assert "Sign in to accept" in page  # the address has an account
    login(client, elsewhere)
    assert "Accept and join Invite Home" in client.get(path).get_data(as_text=True)
    assert client.post(path, data={}).status_code == 302
    [m] = members(db, elsewhere.id, home.id)
    assert (m.role, m.via) == ("worker", "invitation")
    assert client.get(path).status_code == 404  # single use
    assert client.post(path, data={}).status_code == 404


def test_someone_else_signed_in_cannot_use_the_link(client, db, login, admin, home, elsewhere, make_person, mail_to):
    invite_by_page(client, login, admin, home)
    path, _token = link_in(mail_to[0])
    intruder = make_person(None, "worker", email="intruder@example.test")
    login(client, intruder)
    assert "different email address" in client.get(path).get_data(as_text=True)
    assert client.post(path, data={}).status_code == 403
    assert members(db, intruder.id, home.id) == [] and members(db, elsewhere.id, home.id) == []


def test_new_person_sets_a_password_and_joins(client, db, login, admin, home, mail_to):
    invite_by_page(client, login, admin, home, email="brand.new@example.test", roles=("worker", "assessor"))
    path, _token = link_in(mail_to[0])
    client.post("/sign-out", data={})
    assert "Set up your account" in client.get(path).get_data(as_text=True)
    short = client.post(path, data={"given_name": "Bea", "family_name": "New", "password": "short"})
    assert short.status_code == 400 and db.scalar(sa.select(Person).where(Person.email == "brand.new@example.test")) is None
    resp = client.post(path, data={"given_name": "Bea", "family_name": "New", "password": "a long enough passphrase"})
    assert resp.status_code == 302
    person = db.scalar(sa.select(Person).where(Person.email == "brand.new@example.test"))
    assert person.full_name == "Bea New" and db.scalar(sa.select(User).where(User.person_id == person.id))
    assert sorted((m.role, m.via) for m in members(db, person.id, home.id)) == [("assessor", "invitation"),
                                                                                ("worker", "invitation")]
    assert client.get("/").status_code == 200 and "Bea" in client.get("/").get_data(as_text=True)  # signed in
    client.post("/sign-out", data={})
    assert client.get(path).status_code == 404


def test_signed_in_person_sees_and_accepts_invitations_to_their_address(client, db, login, admin, home, elsewhere,
                                                                       make_person):
    inv, _token = invitations.create_invitation(db, Principal(admin), home.id, {"email": "ELSIE@example.test",
                                                                               "roles": ["worker"]})
    other = make_person(None, "worker", email="other@example.test")
    login(client, other)
    assert "no invitations" in client.get("/invitations").get_data(as_text=True)
    assert client.post(f"/invitations/{inv.id}/accept", data={}).status_code == 404  # not addressed to them
    login(client, elsewhere)
    assert "Invitations for you" in client.get("/").get_data(as_text=True)
    assert "Invite Home" in client.get("/invitations").get_data(as_text=True)
    assert client.post(f"/invitations/{inv.id}/accept", data={}).status_code == 302
    assert [m.via for m in members(db, elsewhere.id, home.id)] == ["invitation"]
    assert client.post(f"/invitations/{inv.id}/accept", data={}).status_code == 404


def test_expired_invitation_cannot_be_accepted_but_can_be_resent(client, db, login, admin, home, elsewhere, mail_to):
    invite_by_page(client, login, admin, home)
    path, _token = link_in(mail_to[0])
    inv = db.scalar(sa.select(Invitation).where(Invitation.email == "elsie@example.test"))
    inv.expires_at = utcnow() - timedelta(seconds=1)
    login(client, elsewhere)
    assert client.get(path).status_code == 404
    assert client.post(path, data={}).status_code == 404
    assert "no invitations" in client.get("/invitations").get_data(as_text=True)
    login(client, admin)
    assert client.post(f"/invitations/{inv.id}/resend", data={}).status_code == 302
    new_path, _ = link_in(mail_to[1])
    assert new_path != path and inv.send_count == 2 and inv.expires_at > utcnow()
    login(client, elsewhere)
    assert client.get(path).status_code == 404  # the old link stays dead
    assert client.post(new_path, data={}).status_code == 302
    assert [m.via for m in members(db, elsewhere.id, home.id)] == ["invitation"]


def test_expiry_follows_the_setting(app, db, admin, home):
    inv, _ = invitations.create_invitation(db, Principal(admin), home.id, {"email": "x@example.test", "roles": "worker"},
                                           days=2)
    assert abs((inv.expires_at - utcnow()) - timedelta(days=2)) < timedelta(minutes=1)


def test_revoked_invitation_stops_working(client, db, login, admin, home, elsewhere, mail_to):
    invite_by_page(client, login, admin, home)
    path, _token = link_in(mail_to[0])
    inv = db.scalar(sa.select(Invitation).where(Invitation.email == "elsie@example.test"))
    assert client.post(f"/invitations/{inv.id}/revoke", data={}).status_code == 302
    assert inv.revoked_at is not None
    assert invitations.list_invitations(db, Principal(admin), home.id) == []
    login(client, elsewhere)
    assert client.get(path).status_code == 404
    assert members(db, elsewhere.id, home.id) == []
    login(client, admin)
    assert client.post(f"/invitations/{inv.id}/resend", data={}).status_code == 409


def test_a_new_invitation_replaces_the_pending_one(db, admin, home):
    first, token1 = invitations.create_invitation(db, Principal(admin), home.id, {"email": "x@example.test",
                                                                                 "roles": ["worker"]})
    second, token2 = invitations.create_invitation(db, Principal(admin), home.id, {"email": "x@example.test",
                                                                                  "roles": ["assessor"]})
    assert first.revoked_at is not None and second.revoked_at is None
    with pytest.raises(Exception):
        invitations.by_token(db, token1)
    assert invitations.by_token(db, token2) is second


def test_who_may_invite(client, db, login, home, make_person, make_org):
    lead = make_person(home, "training_lead")
    worker = make_person(home, "worker")
    outsider = make_person(make_org(), "org_admin")
    login(client, worker)
    assert client.get(f"/organisations/{home.id}/invitations").status_code == 403
    login(client, outsider)
    assert client.get(f"/organisations/{home.id}/invitations").status_code == 403
    login(client, lead)
    assert client.post(f"/organisations/{home.id}/invitations",
                       data={"email": "a@example.test", "roles": ["org_admin"]}).status_code == 400  # not a choice
    with pytest.raises(Exception):
        invitations.create_invitation(db, Principal(lead), home.id, {"email": "a@example.test", "roles": ["org_admin"]})
    assert client.post(f"/organisations/{home.id}/invitations",
                       data={"email": "a@example.test", "roles": ["worker"]}).status_code == 302


def test_managing_another_organisations_invitation_is_not_found(client, db, login, admin, home, make_person, make_org):
    inv, _ = invitations.create_invitation(db, Principal(admin), home.id, {"email": "x@example.test",
                                                                          "roles": ["worker"]})
    other_admin = make_person(make_org(), "org_admin")
    login(client, other_admin)
    for action in ("resend", "revoke"):
        assert client.post(f"/invitations/{inv.id}/{action}", data={}).status_code == 404
        assert client.post(f"/invitations/987654321/{action}", data={}).status_code == 404
    assert inv.revoked_at is None


def test_bad_links_all_answer_the_same(client):
    for token in ("x", "A" * 43, "A" * 500):
        resp = client.get(f"/invitations/accept/{token}")
        assert resp.status_code == 404 and "not valid" in resp.get_data(as_text=True)


# --- the API -----------------------------------------------------------------------------------------


def test_api_create_list_resend_revoke(client, db, api_token, admin, home, elsewhere, mail_to):
    headers = api_token(admin, home.id, "org_admin")
    known = client.post(f"/api/v1/organisations/{home.id}/invitations", headers=headers,
                        json={"email": "elsie@example.test", "roles": ["worker"]})
    unknown = client.post(f"/api/v1/organisations/{home.id}/invitations", headers=headers,
                          json={"email": "nobody@example.test", "roles": ["worker"]})
    assert known.status_code == unknown.status_code == 201
    assert set(known.get_json()) == set(unknown.get_json())  # the same answer whoever owns the address
    _path, token = link_in(mail_to[0])
    assert token not in known.get_data(as_text=True)  # the link goes only to the mailbox
    listed = client.get(f"/api/v1/organisations/{home.id}/invitations", headers=headers).get_json()["invitations"]
    assert {i["email"] for i in listed} == {"elsie@example.test", "nobody@example.test"}
    inv_id = known.get_json()["id"]
    resent = client.post(f"/api/v1/invitations/{inv_id}/resend", headers=headers)
    assert resent.status_code == 200 and resent.get_json()["send_count"] == 2 and len(mail_to) == 3
    revoked = client.post(f"/api/v1/invitations/{inv_id}/revoke", headers=headers)
    assert revoked.status_code == 200 and revoked.get_json()["state"] == "revoked"
    assert client.post("/api/v1/invitations/987654321/revoke", headers=headers).status_code == 404


def test_api_refusals(client, db, api_token, admin, home, make_person, make_org):
    worker = make_person(home, "worker")
    outsider = make_person(make_org(), "org_admin")
    lead = make_person(home, "training_lead")
    body = {"email": "x@example.test", "roles": ["worker"]}
    url = f"/api/v1/organisations/{home.id}/invitations"
    assert client.post(url, json=body).status_code == 401
    assert client.post(url, json=body, headers=api_token(worker, home.id, "worker")).status_code == 403
    other = api_token(outsider, outsider.memberships[0].org_id, "org_admin")
    assert client.post(url, json=body, headers=other).status_code == 403
    assert client.get(url, headers=other).status_code == 403
    lead_headers = api_token(lead, home.id, "training_lead")
    assert client.post(url, json={**body, "roles": ["org_admin"]}, headers=lead_headers).status_code == 403
    admin_headers = api_token(admin, home.id, "org_admin")
    bad = client.post(url, json={"email": "not an email", "roles": ["worker"]}, headers=admin_headers)
    assert bad.status_code == 400 and "email" in bad.get_json()["fields"]
    bad = client.post(url, json={"email": "new@example.org", "roles": ["captain"]}, headers=admin_headers)
    assert bad.status_code == 400 and "roles.0" in bad.get_json()["fields"]
    inv_id = client.post(url, json=body, headers=lead_headers).get_json()["id"]
    assert client.post(f"/api/v1/invitations/{inv_id}/revoke", headers=other).status_code == 404


def test_openapi_documents_the_invitation_routes(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"post", "get"} <= set(paths["/organisations/{org_id}/invitations"])
    assert "post" in paths["/invitations/{invitation_id}/revoke"]
    assert "post" in paths["/invitations/{invitation_id}/resend"]
    assert "202" in paths["/organisations/{org_id}/people"]["post"]["responses"]
    assert "404" in paths["/people/{person_id}/memberships"]["post"]["responses"]
