"""The QR version of every demo worker's passport (format version 2, error correction Q).

Run from the repository root (see bench/README.md, "Passport QR versions across the demo"):

    .venv/bin/python bench/passport_qr_versions.py

Loads the demo into a temporary SQLite database, issues a passport for every demo worker who has
anything to certify (nothing is kept), and prints a Markdown table: what each passport states, its
QR form and version, and the budget (worst case <= 22, a typical worker <= 15).
"""
from __future__ import annotations

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main() -> None:
    from passport import audit, create_app, db as dbm
    from passport.certificates import services, settings
    from passport.cli import upgrade
    from passport.core.models import Membership, Person
    from passport.demo import load_demo
    from passport.errors import ServiceError

    tmp = tempfile.mkdtemp(prefix="qrversions-")
    app = create_app({"SECRET_KEY": "bench-" + "x" * 40, "DATABASE_URL": f"sqlite:///{tmp}/demo.sqlite",
                      "KEY_DIR": os.path.join(tmp, "keys"), "PUBLIC_URL": "https://passport.example.org"})
    upgrade(app)
    with app.app_context():
        load_demo(app)
        db = dbm.session
        cfg = settings(app)
        rows = []
        people = db.query(Person).join(Membership, Membership.person_id == Person.id).filter(
            Membership.role == "worker").distinct().order_by(Person.family_name, Person.given_name).all()
        for person in people:
            try:
                p = services.issue_passport(db, None, person.id, services.employer_of(db, person.id),
                                            actor=audit.Actor.system("bench"), **cfg)
            except ServiceError as exc:
                rows.append((person.full_name, "-", "-", "-", "-", "not issued: " + exc.message[:60], ""))
                continue
            cc = "complete" if p.awarded_on else f"{len(p.standards_met)} standards" if p.framework else "none"
            rows.append((p.full_name, cc, str(len(p.subjects)), "yes" if p.qualification else "no",
                         str(len(p.competencies)), p.qr_mode, str(p.qr_version)))
        db.rollback()
    print("| worker | Care Certificate | subjects | L2 qualification | tasks | QR form | version |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    versions = [int(r[6]) for r in rows if r[6].isdigit()]
    print(f"\n{len(versions)} passports: versions {min(versions)} to {max(versions)}, "
          f"median {sorted(versions)[len(versions) // 2]}.")
    dbm.get_engine(app).dispose()


if __name__ == "__main__":
    main()
