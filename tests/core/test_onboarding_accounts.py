"""New staff get the 7-day invitation (not the one-hour reset link); a signed-in person changes their own
password (current password, new one twice), with field errors, the throttle and the audit trail."""
from __future__ import annotations

import re

import sqlalchemy as sa

from passport.audit import AuditEntry
from passport.core.models import Invitation, Person, User
from tests.conftest import PASSWORD

NEW = "a new and longer passphrase"


def test_adding_a_person_with_an_account_sends_the_seven_day_invitation(client, login, db, make_org, make_person,
                                                                        mail_to):
    home = make_org("Account Home")
    login(client, make_person(home, "org_admin"))
    resp = client.post(f"/organisations/{home.id}/people", data={
        "given_name": "Nia", "family_name": "Hale", "email": "nia@example.test", "role": "worker",
        "job_role": "care_worker", "create_account": "y"})
    assert resp.status_code == 302
    [msg] = mail_to
    body = msg.get_payload(decode=True).decode()
    assert "/invitations/accept/" in body and "/reset-password/" not in body
    inv = db.scalar(sa.select(Invitation).where(Invitation.email == "nia@example.test"))
    assert (inv.expires_at - inv.sent_at).days >= 6 and inv.roles == "worker"
    person = db.scalar(sa.select(Person).where(Person.email == "nia@example.test"))
    assert db.scalar(sa.select(User.id).where(User.person_id == person.id)) is None  # made when she accepts
    path = re.search(r"https://passport\.test(/invitations/accept/\S+)", body).group(1)
    client.post("/sign-out")
    with client.session_transaction() as sess:
        sess.clear()
    resp = client.post(path, data={"given_name": "Nia", "family_name": "Hale", "password": NEW})
    assert resp.status_code == 302
    assert db.scalar(sa.select(User.id).where(User.person_id == person.id)) is not None


def test_change_password(client, login, db, make_person, make_org):
    person = make_person(make_org("Pw Home"), "worker")
    login(client, person)
    assert "Change your password" in client.get("/account/password").get_data(as_text=True)
    resp = client.post("/account/password", data={"current_password": PASSWORD, "new_password": NEW,
                                                  "confirm_password": NEW})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/account")
    assert client.get("/account").status_code == 200  # still signed in here
    user = db.scalar(sa.select(User).where(User.person_id == person.id))
    from werkzeug.security import check_password_hash

    assert check_password_hash(user.password_hash, NEW)
    assert db.scalar(sa.select(AuditEntry.id).where(AuditEntry.action == "user.password_set",
                                                    AuditEntry.object_id == str(user.id)))


def test_change_password_refuses_a_wrong_current_password_and_names_each_field(client, login, db, make_person,
                                                                                make_org):
    person = make_person(make_org("Pw Home 2"), "worker")
    login(client, person)
    resp = client.post("/account/password", data={"current_password": "not my password", "new_password": NEW,
                                                  "confirm_password": NEW})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "Your current password is not right." in page
    assert 'href="#current_password"' in page
    resp = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "short",
                                                  "confirm_password": "short"})
    assert resp.status_code == 400 and "at least 12 characters" in resp.get_data(as_text=True)
    resp = client.post("/account/password", data={"current_password": PASSWORD, "new_password": NEW,
                                                  "confirm_password": NEW + "x"})
    assert resp.status_code == 400 and "The two new passwords are different" in resp.get_data(as_text=True)
    user = db.scalar(sa.select(User).where(User.person_id == person.id))
    from werkzeug.security import check_password_hash

    assert check_password_hash(user.password_hash, PASSWORD)


def test_change_password_is_throttled_like_sign_in(app, client, login, db, make_person, make_org):
    person = make_person(make_org("Pw Home 3"), "worker")
    login(client, person)
    codes = [client.post("/account/password", data={"current_password": f"guess {i}", "new_password": NEW,
                                                     "confirm_password": NEW}).status_code for i in range(7)]
    assert codes[:5] == [400] * 5 and codes[-1] == 429


def test_change_password_needs_sign_in(client):
    resp = client.get("/account/password")
    assert resp.status_code == 302 and "/sign-in" in resp.headers["Location"]


def test_inviting_someone_already_here_to_choose_a_password(client, login, db, make_org, make_person, mail_to):
    home = make_org("Account Home 2")
    staff = make_person(home, "worker", account=False, email="owen@example.test")
    login(client, make_person(home, "org_admin"))
    resp = client.post(f"/people/{staff.id}/account/invite", data={})
    assert resp.status_code == 302
    [msg] = mail_to
    assert msg["To"] == "owen@example.test" and "/invitations/accept/" in msg.get_payload(decode=True).decode()
    assert "choose a password" in client.get(f"/people/{staff.id}").get_data(as_text=True)
