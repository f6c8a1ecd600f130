"""Demo data for the certificates plugin: keys (if missing) and passports for some workers.

The core demo gives four workers per home a complete 2025 Care Certificate. The first worker at each
home also holds the Level 2 Adult Social Care Certificate. The first two at each home get a passport
here (stating their in-date mandatory training too); the other two are left for a registered manager to
issue in the demo.
"""
from __future__ import annotations

from flask import current_app

from passport import audit
from passport.certificates import keys as keyring, services, settings
from passport.core import qualifications
from passport.core.access import today

PASSPORTS_PER_HOME = 2


def load(db, ctx) -> None:
    """Create the issuer's keys if there are none, then issue demo passports (idempotent per person)."""
    cfg = settings(current_app)
    actor = audit.Actor.system("demo data")
    for purpose in ("passport", "openbadge"):
        if keyring.current_key(db, purpose) is None:
            keyring.create_key(db, cfg["key_dir"], purpose, actor=actor)
    for home, workers in ctx.workers.items():
        org = ctx.orgs[home]
        if workers and qualifications.current_qualification(db, workers[0].id) is None:
            from datetime import timedelta

            from passport.courses.qualifications import unit_rows

            achieved = today() - timedelta(days=120)
            qualifications.record_qualification(
                db, None, person_id=workers[0].id, org_id=org.id, awarding_organisation="NQual",
                qualification_number="610/4009/5", achieved_on=achieved, units=unit_rows(achieved), actor=actor)
        for worker in workers[:PASSPORTS_PER_HOME]:
            if services.current_passport(db, worker.id) is None:
                services.issue_passport(db, None, worker.id, org.id, actor=actor, **cfg)
