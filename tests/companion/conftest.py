"""Companion fixtures: a scheme admin, a home with its manager, training lead, assessor and workers, and a
published template pack the home has adopted."""
from __future__ import annotations

from datetime import date

import pytest

from passport.companion import services as svc
from passport.core.access import Principal


@pytest.fixture
def home(make_org, make_person, db):
    org = make_org()
    people = {
        "admin": make_person(make_org(kind="care_association"), "scheme_admin"),
        "manager": make_person(org, "registered_manager"),
        "lead": make_person(org, "training_lead"),
        "assessor": make_person(org, ["assessor", "worker"]),
        "worker": make_person(org, "worker", start_date=date(2026, 1, 5)),
        "other_worker": make_person(org, "worker"),
    }
    return org, people


def P(person) -> Principal:
    return Principal(person=person)


@pytest.fixture
def adopted(db, home):
    """A published template with every kind of item, adopted by the home."""
    org, people = home
    admin = P(people["admin"])
    tpl = svc.create_template(db, admin)
    s1 = svc.add_section(db, admin, tpl.id, {"title": "Fire safety"})
    svc.add_item(db, admin, s1.id, {"kind": "read", "title": "Fire procedure", "body": "Assembly point: TBC by home.",
                                    "due": "before_first_shift"})
    svc.add_item(db, admin, s1.id, {"kind": "shown", "title": "Shown the hoists and slings", "due": "before_first_shift"})
    s2 = svc.add_section(db, admin, tpl.id, {"title": "Who to call"})
    svc.add_item(db, admin, s2.id, {"kind": "contact", "title": "GP surgery", "phone": "01632 960200"})
    svc.add_item(db, admin, s2.id, {"kind": "document", "title": "Safeguarding policy",
                                    "url": "https://example.test/safeguarding.pdf", "due": "within_days"})
    svc.add_item(db, admin, s2.id, {"kind": "read", "title": "Recording care", "body": "Write notes as you go.",
                                    "due": "within_days"})
    svc.publish_template(db, admin, tpl.id)
    pack = svc.adopt_template(db, P(people["manager"]), org.id)
    db.flush()
    return org, people, tpl, pack


@pytest.fixture(autouse=True)
def _no_movement_cache(app):
    """Each test rolls back, so ids repeat between tests: report caching stays off except where tested."""
    app.config["COMPANION_MOVEMENT_CACHE"] = False
    yield
    app.config["COMPANION_MOVEMENT_CACHE"] = True
