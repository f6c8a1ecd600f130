"""Data for bench/pages.sh, after ``passport demo``: grow The Oaks Care Home to 60 people with training
records, give its demo worker's passport a history of checks, and print the URLs the benchmark requests.

    python bench/pages_setup.py [PEOPLE]      # default 60; prints "name<TAB>who<TAB>path" lines
"""
from __future__ import annotations

import sys
from datetime import date, timedelta

import sqlalchemy as sa

from passport import audit, create_app, db as dbm
from passport.certificates.models import Passport
from passport.core import records
from passport.core.models import Membership, Organisation, Person
from passport.db import utcnow
from passport.verify.models import VerificationCheck
from passport.verify.services import passport_ref

HOME = "The Oaks Care Home"
MANAGER = "dev.patel@demo.passport.test"
WORKER = "dev.brown@demo.passport.test"
SUBJECTS = (1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)


def main(people: int) -> None:
    app = create_app()
    actor = audit.Actor.system("bench")
    with app.app_context():
        db = dbm.session
        home = db.scalar(sa.select(Organisation).where(Organisation.name == HOME))
        have = db.scalar(sa.select(sa.func.count(sa.distinct(Membership.person_id))).where(Membership.org_id == home.id))
        for i in range(have, people):
            p = Person(given_name=f"Bench{i}", family_name=f"Worker{i:03d}", email=f"bench{i}@bench.passport.test")
            db.add(p)
            db.flush()
            db.add(Membership(person_id=p.id, org_id=home.id, role="worker", job_role="care_worker",
                              start_date=date(2024, 1, 1)))
            db.flush()
            for n, code in enumerate(SUBJECTS[: 4 + i % 9]):
                done = date.today() - timedelta(days=30 + 37 * ((i + n) % 30))
                records.add_training_record(db, None, person_id=p.id, org_id=home.id, category_code=code,
                                            completed_on=done, source="manual", actor=actor)
        worker = db.scalar(sa.select(Person).where(Person.email == WORKER))
        passport = db.scalar(sa.select(Passport).where(Passport.person_id == worker.id).order_by(Passport.id.desc()))
        if passport is not None:
            ref = passport_ref(app.config["PUBLIC_URL"], passport.jti)
            orgs = list(db.scalars(sa.select(Organisation.id)))
            for i in range(30):
                db.add(VerificationCheck(passport_ref=ref, result="valid", channel="api", org_id=orgs[i % len(orgs)],
                                         at=utcnow() - timedelta(days=i)))
        db.commit()
        manager = db.scalar(sa.select(Person).where(Person.email == MANAGER))
        print(f"dashboard\t{MANAGER}\t/")
        print(f"dashboard-worker\t{WORKER}\t/")
        print(f"my-passport\t{WORKER}\t/certificates/my")
        print(f"matrix-{people}\t{MANAGER}\t/courses/orgs/{home.id}/matrix")
        print(f"who-can-do-it\t{MANAGER}\t/delegation/homes/{home.id}?task=dry_dressing")
        print(f"person\t{MANAGER}\t/people/{worker.id}")
        assert manager is not None


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
