"""Induction packs: the scheme's template, a home adopting and adapting it, and who may change what."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from passport.companion import services as svc
from passport.companion.models import Item, Pack
from passport.errors import PermissionDenied, ValidationError
from tests.companion.conftest import P


def test_home_adopts_and_adapts_and_changes_are_shown(db, adopted):
    org, people, tpl, pack = adopted
    assert [s.title for s in pack.sections] == ["Fire safety", "Who to call"]
    fire = pack.sections[0].items[0]
    svc.update_item(db, P(people["lead"]), fire.id, {"kind": "read", "title": "Fire procedure", "due": "before_first_shift",
                                                    "body": "The assembly point is the front car park."})
    svc.add_item(db, P(people["manager"]), pack.sections[1].id, {"kind": "contact", "title": "District nurses",
                                                                 "phone": "01632 960300"})
    gp = pack.sections[1].items[0]
    svc.delete_item(db, P(people["manager"]), gp.id)
    changes = {(c.kind, c.title) for c in svc.changes_from_template(db, pack)}
    assert changes == {("changed", "Fire procedure"), ("added", "District nurses"), ("removed", "GP surgery")}
    # the template itself is untouched
    assert db.get(Item, fire.template_item_id).body == "Assembly point: TBC by home."


def test_only_scheme_admin_edits_template(db, adopted):
    org, people, tpl, pack = adopted
    for who in ("manager", "lead", "worker"):
        with pytest.raises(PermissionDenied):
            svc.add_section(db, P(people[who]), tpl.id, {"title": "Mine"})
        with pytest.raises(PermissionDenied):
            svc.publish_template(db, P(people[who]), tpl.id)
    with pytest.raises(PermissionDenied):
        svc.create_template(db, P(people["manager"]))


def test_only_home_manager_or_lead_edits_home_pack(db, adopted, make_org, make_person):
    org, people, tpl, pack = adopted
    item = pack.sections[0].items[0]
    other_manager = make_person(make_org(), "registered_manager")
    for who in (people["worker"], people["assessor"], people["admin"], other_manager):
        with pytest.raises(PermissionDenied):
            svc.update_item(db, P(who), item.id, {"kind": "read", "title": "x", "body": "y"})
        with pytest.raises(PermissionDenied):
            svc.add_section(db, P(who), pack.id, {"title": "x"})
    svc.add_section(db, P(people["lead"]), pack.id, {"title": "Lead's section"})


def test_item_rules_give_field_errors(db, adopted):
    org, people, tpl, pack = adopted
    sid = pack.sections[0].id
    cases = [({"kind": "bogus", "title": "x"}, "kind"), ({"kind": "read", "title": "", "body": "b"}, "title"),
             ({"kind": "read", "title": "t"}, "body"), ({"kind": "document", "title": "t", "url": "javascript:alert(1)"}, "url"),
             ({"kind": "contact", "title": "t", "phone": "call me"}, "phone"), ({"kind": "read", "title": "t" * 201, "body": "b"}, "title"),
             ({"kind": "read", "title": "t", "body": "b", "due": "never"}, "due")]
    before = db.scalar(sa.select(sa.func.count()).select_from(Item))
    for data, field in cases:
        with pytest.raises(ValidationError) as e:
            svc.add_item(db, P(people["manager"]), sid, data)
        assert field in e.value.fields
    assert db.scalar(sa.select(sa.func.count()).select_from(Item)) == before


def test_adopt_needs_published_template_and_once_only(db, home, make_org):
    org, people = home
    with pytest.raises(ValidationError):
        svc.adopt_template(db, P(people["manager"]), org.id)
    tpl = svc.create_template(db, P(people["admin"]))
    with pytest.raises(ValidationError):
        svc.publish_template(db, P(people["admin"]), tpl.id)  # empty
    s = svc.add_section(db, P(people["admin"]), tpl.id, {"title": "S"})
    svc.add_item(db, P(people["admin"]), s.id, {"kind": "read", "title": "T", "body": "B"})
    svc.publish_template(db, P(people["admin"]), tpl.id)
    with pytest.raises(PermissionDenied):
        svc.adopt_template(db, P(people["worker"]), org.id)
    svc.adopt_template(db, P(people["manager"]), org.id)
    with pytest.raises(ValidationError):
        svc.adopt_template(db, P(people["lead"]), org.id)
    assert db.scalar(sa.select(sa.func.count()).select_from(Pack).where(Pack.org_id == org.id)) == 1


def test_pack_pages(client, login, db, adopted):
    org, people, tpl, pack = adopted
    login(client, people["manager"])
    page = client.get(f"/companion/packs/{pack.id}").get_data(as_text=True)
    assert "Fire procedure" in page and "What this home changed" in page
    item = pack.sections[0].items[0]
    r = client.post(f"/companion/items/{item.id}/edit", data={"kind": "read", "title": "", "body": "", "due": "within_days"})
    assert r.status_code == 400 and "Enter a title." in r.get_data(as_text=True)
    r = client.post(f"/companion/items/{item.id}/edit", data={"kind": "read", "title": "Fire", "body": "Car park",
                                                              "due": "before_first_shift"})
    assert r.status_code == 302
    assert client.get(f"/companion/packs/{pack.id}/print").status_code == 200
    for bad in ("/companion/packs/99999999999999999999", "/companion/items/0/edit", "/companion/packs/-1"):
        assert client.get(bad).status_code == 404


def test_pack_page_denials(client, login, db, adopted):
    org, people, tpl, pack = adopted
    item = pack.sections[0].items[0]
    login(client, people["worker"])
    assert client.post(f"/companion/items/{item.id}/edit", data={"kind": "read", "title": "x", "body": "y"}).status_code == 404
    login(client, people["assessor"])  # a senior may read the pack but not change it
    assert client.get(f"/companion/packs/{pack.id}").status_code == 200
    assert client.post(f"/companion/items/{item.id}/edit", data={"kind": "read", "title": "x", "body": "y"}).status_code == 403
    assert client.post(f"/companion/packs/{tpl.id}/sections/new", data={"title": "x"}).status_code == 403
    login(client, people["admin"])
    assert client.post(f"/companion/items/{item.id}/edit", data={"kind": "read", "title": "x", "body": "y"}).status_code == 403


def test_index_and_adopt_pages(client, login, db, home):
    org, people = home
    login(client, people["admin"])
    assert "Create the template induction pack" in client.get("/companion/").get_data(as_text=True)
    login(client, people["manager"])
    page = client.get("/companion/").get_data(as_text=True)
    assert "Set up the induction pack" in page
    page = client.get(f"/companion/orgs/{org.id}/pack").get_data(as_text=True)
    assert "has not published a template" in page
    r = client.post(f"/companion/orgs/{org.id}/pack", data={})
    assert r.status_code == 400
