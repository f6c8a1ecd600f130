"""Fixtures for the courses tests: a scheme with two homes and an outsider, and the people who work there."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta

import pytest

from passport.core.access import Principal, today
from passport.core.models import Organisation, Person, Scheme, SchemeMember
from passport.courses import assessments, catalog, sessions
from tests.conftest import add_confirmation


@dataclass
class World:
    home: Organisation
    other: Organisation
    outsider: Organisation
    lead: Person
    manager: Person
    assessor: Person
    other_lead: Person
    outsider_lead: Person
    nurse: Person
    admin: Person
    workers: list[Person] = field(default_factory=list)
    other_workers: list[Person] = field(default_factory=list)

    def p(self, person: Person) -> Principal:
        return Principal(person=person)


@pytest.fixture
def world(db, make_org, make_person):
    home, other, outsider = make_org("Alpha Care Home"), make_org("Beta Nursing Home", "care_home_nursing"), \
        make_org("Outside Home")
    scheme = Scheme(name="Test Scheme", cc_version="2025")
    db.add(scheme)
    db.flush()
    for org in (home, other):
        db.add(SchemeMember(scheme_id=scheme.id, org_id=org.id))
    admin_org = make_org("Test Association", "care_association")
    db.add(SchemeMember(scheme_id=scheme.id, org_id=admin_org.id))
    db.flush()
    w = World(
        home=home, other=other, outsider=outsider,
        lead=make_person(home, "training_lead", given_name="Lena", job_role="deputy_manager"),
        manager=make_person(home, ["registered_manager", "org_admin"], given_name="Maya", job_role="registered_manager"),
        assessor=make_person(home, ["assessor", "worker"], given_name="Ade", job_role="senior_care_worker"),
        other_lead=make_person(other, "training_lead", given_name="Olu", job_role="deputy_manager"),
        outsider_lead=make_person(outsider, "training_lead", given_name="Xena", job_role="deputy_manager"),
        nurse=make_person(home, "registered_professional", given_name="Nell", job_role="registered_nurse",
                          registration=("NMC", "12A3456E")),
        admin=make_person(admin_org, "scheme_admin", given_name="Sam", job_role="other"),
    )
    add_confirmation(db, w.nurse)
    w.workers = [make_person(home, "worker", given_name=f"Worker{i}") for i in range(4)]
    w.other_workers = [make_person(other, "worker", given_name=f"Beta{i}") for i in range(3)]
    return w


@pytest.fixture
def course(db, world):
    """A home course with one subject (fire safety, 12-month refresh) and no test."""
    return catalog.create_course(db, world.p(world.lead), world.home.id, {
        "title": "Fire safety", "provider_kind": "in_house", "delivery": "face_to_face", "hours": "2",
        "categories": [6]})


def slot(days: int = 7, capacity: int = 5, **kw) -> dict:
    return {"date": today() + timedelta(days=days), "start_time": time(9, 30), "end_time": time(12, 0),
            "venue": "Training room", "capacity": capacity, **kw}


@pytest.fixture
def make_session(db, world, course):
    def make(days: int = 7, capacity: int = 5, course_obj=None, org=None, by=None, **kw):
        return sessions.schedule(db, world.p(by or world.lead), (org or world.home).id, (course_obj or course).id,
                                 slot(days, capacity, **kw))
    return make


@pytest.fixture
def competent(db, world):
    """Make the home's assessor competent in every 2025 standard."""
    assessments.set_competence(db, world.p(world.manager), world.home.id, world.assessor.id, "2025", range(1, 17))
    return world.assessor


def d(days_ago: int) -> date:
    return today() - timedelta(days=days_ago)
