"""Inspection fixtures: the delegation world (a home, a second home, a nursing team, a district nurse,
two workers and the manager) plus a training lead, an assessor, an admin-only person, a scheme admin and
the other home's manager, and supervision frequencies at the home."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from passport.inspection.models import SupervisionFrequency
from tests.delegation.conftest import World, give_prerequisites, world  # noqa: F401  (fixtures)


@dataclass
class Staff:
    lead: object
    assessor: object
    admin: object
    scheme_admin: object
    other_manager: object
    professional: object


@pytest.fixture
def staff(db, world, make_person, make_org) -> Staff:
    lead = make_person(world.home, "training_lead", given_name="Lena", job_role="deputy_manager")
    assessor = make_person(world.home, ["assessor", "worker"], given_name="Asha", job_role="senior_care_worker")
    admin = make_person(world.home, "org_admin", given_name="Adam", job_role="administrative")
    scheme_admin = make_person(make_org(kind="care_association"), "scheme_admin", given_name="Sarah")
    other_manager = make_person(world.other_home, "registered_manager", given_name="Omar",
                                job_role="registered_manager")
    professional = make_person(world.home, "registered_professional", given_name="Priti",
                               registration=("NMC", "99Z9999Z"), job_role="registered_nurse")
    return Staff(lead, assessor, admin, scheme_admin, other_manager, professional)


@pytest.fixture
def frequencies(db, world):
    for role in ("care_worker", "senior_care_worker"):
        db.add(SupervisionFrequency(org_id=world.home.id, job_role=role, kind="supervision", every_weeks=8))
        db.add(SupervisionFrequency(org_id=world.home.id, job_role=role, kind="appraisal", every_weeks=52))
    db.flush()
