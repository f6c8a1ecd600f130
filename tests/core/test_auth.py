"""Sign-in, sign-out, password reset, CSRF, rate limiting, redirects and disabled accounts."""
import re

import sqlalchemy as sa

from passport.core.models import User
from tests.conftest import PASSWORD


def _sign_in(client, email, password=PASSWORD, next_url=None):
    url = "/sign-in" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": password})


def test_sign_in_and_out(client, make_org, make_person):
    person = make_person(make_org())
    resp = _sign_in(client, person.email)
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert b"Hello, Alex" in client.get("/").data
    resp = client.post("/sign-out", data={})
    assert resp.status_code == 302
    assert client.get("/account").status_code == 302  # back to sign-in


def test_wrong_password_and_unknown_email_look_the_same(client, make_org, make_person):
    person = make_person(make_org())
    bad = _sign_in(client, person.email, "wrong password!")
    unknown = _sign_in(client, "nobody@example.test", "wrong password!")
    assert bad.status_code == unknown.status_code == 401
    assert b"The email address or password is not right" in bad.data
    assert b"The email address or password is not right" in unknown.data


def test_sign_in_form_errors(client):
    resp = client.post("/sign-in", data={"email": "", "password": ""})
    assert b"Enter your email address." in resp.data and b"Enter your password." in resp.data


def test_csrf_is_required(client, make_org, make_person):
    person = make_person(make_org())
    resp = client.post("/sign-in", data={"email": person.email, "password": PASSWORD}, csrf=False)
    assert resp.status_code in (400, 401)
    assert client.get("/account").status_code == 302  # not signed in


def test_sign_in_is_throttled_after_repeated_failures(client, make_org, make_person):
    person = make_person(make_org())
    codes = [_sign_in(client, person.email, "not the password").status_code for _ in range(6)]
    assert codes[:5] == [401] * 5
    assert codes[5] == 429
    # Even the right password is refused while throttled.
    assert _sign_in(client, person.email).status_code == 429


def test_successful_sign_ins_do_not_count_toward_the_limit(client, make_org, make_person):
    person = make_person(make_org())
    for _ in range(7):
        assert _sign_in(client, person.email).status_code == 302
        client.post("/sign-out", data={})


def test_next_redirects_only_to_our_own_paths(client, make_org, make_person):
    person = make_person(make_org())
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        resp = _sign_in(client, person.email, next_url=evil)
        assert resp.headers["Location"] == "/", evil
        client.post("/sign-out", data={})
    resp = _sign_in(client, person.email, next_url="/account")
    assert resp.headers["Location"] == "/account"


def test_disabled_account_cannot_sign_in_and_loses_its_session(client, db, make_org, make_person, login):
    person = make_person(make_org())
    login(client, person)
    assert client.get("/account").status_code == 200
    user = db.scalar(sa.select(User).where(User.person_id == person.id))
    user.is_disabled = True
    db.flush()
    assert client.get("/account").status_code == 302  # next request: signed out
    assert _sign_in(client, person.email).status_code == 401


def test_admin_disables_account_mid_session(client, db, make_org, make_person, login):
    org = make_org()
    admin = make_person(org, "org_admin")
    worker = make_person(org)
    worker_client = client.application.test_client()
    login(worker_client, worker)
    assert worker_client.get("/account").status_code == 200
    login(client, admin)
    assert client.post(f"/people/{worker.id}/account/disable", data={}).status_code == 302
    assert worker_client.get("/account").status_code == 302


def _reset_link(messages) -> str:
    body = messages[-1].get_payload(decode=True).decode()
    return re.search(r"https://passport\.test(/reset-password/\S+)", body).group(1)


def test_password_reset_by_email_is_single_use(client, make_org, make_person, mail_to):
    person = make_person(make_org())
    resp = client.post("/forgot-password", data={"email": person.email})
    assert resp.status_code == 302
    assert len(mail_to) == 1 and mail_to[0]["To"] == person.email
    link = _reset_link(mail_to)
    assert client.get(link).status_code == 200
    assert client.post(link, data={"password": "short"}).status_code == 400  # too short, link still usable
    assert client.post(link, data={"password": "a brand new passphrase"}).status_code == 302
    assert _sign_in(client, person.email, "a brand new passphrase").status_code == 302
    client.post("/sign-out", data={})
    again = client.post(link, data={"password": "yet another passphrase"})
    assert again.status_code == 400 and b"already been used" in again.data


def test_password_reset_link_expires(client, app, make_org, make_person, mail_to):
    person = make_person(make_org())
    client.post("/forgot-password", data={"email": person.email})
    link = _reset_link(mail_to)
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    try:
        resp = client.post(link, data={"password": "a brand new passphrase"})
    finally:
        app.config["PASSWORD_RESET_MAX_AGE"] = 3600
    assert resp.status_code == 400 and b"expired" in resp.data


def test_forged_reset_link_refused(client):
    resp = client.post("/reset-password/not-a-real-token", data={"password": "a brand new passphrase"})
    assert resp.status_code == 400 and b"not valid" in resp.data


def test_unknown_email_reset_sends_nothing_and_says_the_same(client, mail_to):
    resp = client.post("/forgot-password", data={"email": "nobody@example.test"}, follow_redirects=True)
    assert b"If that address has an account" in resp.data
    assert mail_to == []


def test_security_headers(client):
    resp = client.get("/sign-in")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "HttpOnly" in (client.get("/sign-in").headers.get("Set-Cookie") or "HttpOnly")
