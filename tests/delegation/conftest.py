"""Delegation fixtures: a scheme with a care home and a community nursing team, a district nurse with an
NMC PIN, a worker who meets the prerequisites for a dry dressing, the home's registered manager, and the
home's register of residents."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from passport.core import records
from passport.core.models import Organisation, Person, Scheme, SchemeMember
from passport.core.timeutil import uk_today
from passport.delegation.models import Resident
from passport.delegation.residents import normalise
from tests.conftest import add_confirmation

#: the home's register in the fixture: labels as the home wrote them
RESIDENTS = ("Room 12 – R-0412", "Room 3 – R-0103", "Room 4 – R-0104", "Room 1 – R-0001", "Room 30 – R-0130")


@dataclass
class World:
    home: Organisation
    team: Organisation
    other_home: Organisation
    nurse: Person
    worker: Person
    worker2: Person
    manager: Person
    unregistered: Person
    residents: dict[str, Resident]

    def rid(self, label: str = "Room 12 – R-0412") -> int:
        return self.residents[label].id


def add_resident(db, home: Organisation, label: str, local_id: str | None = None) -> Resident:
    r = Resident(org_id=home.id, local_id=local_id or label.split("– ")[-1], label=label, search_key=normalise(label))
    db.add(r)
    db.flush()
    return r


def give_prerequisites(db, worker: Person, home: Organisation, actor, categories=(10, 15), standards=(13, 15),
                       completed: date | None = None) -> None:
    """Training records in the core ledger (manual entry) and Care Certificate sign-offs."""
    completed = completed or uk_today() - timedelta(days=30)
    for code in categories:
        records.add_training_record(db, None, person_id=worker.id, org_id=home.id, category_code=code,
                                    completed_on=completed, source="manual", actor=actor)
    for n in standards:
        records.record_achievement(db, None, person_id=worker.id, org_id=home.id, framework="2025",
                                   standard_number=n, met_on=completed, source="assessment", actor=actor)


@pytest.fixture
def world(db, make_org, make_person, actor) -> World:
    home = make_org(kind="care_home")
    other_home = make_org(kind="care_home")
    team = make_org(kind="community_nursing")
    outsider_team = make_org(kind="community_nursing")
    scheme = Scheme(name=f"Scheme for {home.name}", cc_version="2025")
    db.add(scheme)
    db.flush()
    for org in (home, team, other_home):
        db.add(SchemeMember(scheme_id=scheme.id, org_id=org.id))
    db.flush()
    nurse = make_person(team, "registered_professional", given_name="Helen", registration=("NMC", "10A1234E"),
                        job_role="nurse")
    add_confirmation(db, nurse)
    worker = make_person(home, "worker", given_name="Wendy")
    worker2 = make_person(home, "worker", given_name="Will")
    manager = make_person(home, ["registered_manager", "org_admin"], given_name="Mandy")
    # holds the professional role but has no registration on record
    unregistered = make_person(outsider_team, "registered_professional", given_name="Una")
    for w in (worker, worker2):
        give_prerequisites(db, w, home, actor)
    residents = {label: add_resident(db, home, label) for label in RESIDENTS}
    return World(home, team, other_home, nurse, worker, worker2, manager, unregistered, residents)
