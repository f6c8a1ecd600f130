"""Pages: My passport, organisation and person lists, one passport, printing, downloads, actions."""
from __future__ import annotations

import io

import zxingcpp
from PIL import Image

from passport.certificates import qr, services


def test_my_passport_shows_current_downloads_and_history(client, login, home, issue, principal):
    org, people = home
    first = issue(people["worker"], principal(people["manager"]))
    second = issue(people["worker"], principal(people["manager"]))
    login(client, people["worker"])
    page = client.get("/certificates/my")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Amelia Okonkwo-Richardson" in html
    assert f"/certificates/passports/{second.id}/download/phone.png" in html
    assert f"/certificates/passports/{first.id}" in html  # history
    assert "Replaced by a newer one" in html
    assert "My passport" in client.get("/").get_data(as_text=True)


def test_my_passport_without_one(client, login, home):
    org, people = home
    login(client, people["newbie"])
    assert "You do not have a passport yet" in client.get("/certificates/my").get_data(as_text=True)


def test_manager_issues_from_person_page(client, login, home, keys, db):
    org, people = home
    login(client, people["manager"])
    listing = client.get(f"/certificates/organisations/{org.id}").get_data(as_text=True)
    assert "Amelia Okonkwo-Richardson" in listing
    assert client.get(f"/certificates/people/{people['worker'].id}").status_code == 200
    resp = client.post(f"/certificates/people/{people['worker'].id}", data={"org_id": org.id})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    p = services.current_passport(db, people["worker"].id)
    assert resp.headers["Location"].endswith(f"/certificates/passports/{p.id}")
    assert p.org_id == org.id and p.issued_by_id == people["manager"].id
    page = client.get(f"/certificates/passports/{p.id}").get_data(as_text=True)
    assert "Revoke this passport" in page and p.token in page


def test_issue_refused_with_nothing_to_certify(client, login, home, keys):
    org, people = home
    login(client, people["manager"])
    resp = client.post(f"/certificates/people/{people['newbie'].id}", data={"org_id": org.id})
    assert resp.status_code == 400
    assert "nothing to certify" in resp.get_data(as_text=True)


def test_issue_without_csrf_is_refused(client, login, home, keys, db):
    org, people = home
    login(client, people["manager"])
    resp = client.post(f"/certificates/people/{people['worker'].id}", data={"org_id": org.id}, csrf=False)
    assert resp.status_code == 400
    assert services.current_passport(db, people["worker"].id) is None


def test_worker_cannot_issue_or_see_others(client, login, home, issue, db):
    org, people = home
    other = issue(people["worker2"])
    login(client, people["worker"])
    assert client.post(f"/certificates/people/{people['worker'].id}", data={"org_id": org.id}).status_code == 403
    assert client.get(f"/certificates/passports/{other.id}").status_code == 403
    assert client.get(f"/certificates/passports/{other.id}/download/qr.png").status_code == 403
    assert client.get(f"/certificates/organisations/{org.id}").status_code == 403
    assert client.post(f"/certificates/passports/{other.id}/revoke", data={"reason": "fraud"}).status_code == 403
    assert client.get("/certificates/keys").status_code == 403


def test_revoke_suspend_reinstate_reissue_through_pages(client, login, home, issue, db):
    org, people = home
    p = issue(people["worker"], org_id=org.id)
    login(client, people["lead"])
    assert client.post(f"/certificates/passports/{p.id}/suspend", data={}).status_code == 302
    assert p.state() == "suspended"
    assert client.post(f"/certificates/passports/{p.id}/reinstate", data={}).status_code == 302
    assert p.state() == "valid"
    resp = client.post(f"/certificates/passports/{p.id}/reissue", data={})
    assert resp.status_code == 302
    new = services.current_passport(db, people["worker"].id)
    assert new.id != p.id and p.state() == "superseded"
    bad = client.post(f"/certificates/passports/{new.id}/revoke", data={})
    assert bad.status_code == 400 and "Choose why the passport is being revoked" in bad.get_data(as_text=True)
    assert client.post(f"/certificates/passports/{new.id}/revoke", data={"reason": "issued_in_error"}).status_code == 302
    assert new.state() == "revoked" and new.revocation_reason == "issued_in_error"


def test_print_pages_and_downloads(client, login, home, issue, public_url):
    org, people = home
    p = issue(people["worker"], org_id=org.id)
    login(client, people["worker"])
    for layout in ("a4", "card"):
        page = client.get(f"/certificates/passports/{p.id}/print?layout={layout}")
        assert page.status_code == 200
        assert f"print-{layout}.css" in page.get_data(as_text=True)
    assert client.get(f"/certificates/passports/{p.id}/print?layout=poster").status_code == 404
    for kind, magic in (("a4.pdf", b"%PDF"), ("card.pdf", b"%PDF"), ("qr.png", b"\x89PNG"), ("phone.png", b"\x89PNG"),
                        ("qr.svg", b"<?xml")):
        resp = client.get(f"/certificates/passports/{p.id}/download/{kind}")
        assert resp.status_code == 200 and resp.data.startswith(magic), kind
    png = client.get(f"/certificates/passports/{p.id}/download/qr.png").data
    text = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))[0].text
    assert text == qr.qr_text(p.token, public_url, p.qr_mode)
    assert client.get(f"/certificates/passports/{p.id}/download/openbadge.jwt").data.count(b".") == 2
    assert client.get(f"/certificates/passports/{p.id}/download/nope").status_code == 404


def test_keys_page_for_scheme_admin(client, login, make_org, make_person, keys):
    admin = make_person(make_org(), "scheme_admin")
    login(client, admin)
    page = client.get("/certificates/keys").get_data(as_text=True)
    assert keys["passport"].kid in page and "BEGIN" not in page
