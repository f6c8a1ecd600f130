"""Demo data for the certificates plugin: keys (if missing) and passports for some workers.

The core demo gives four workers per home a complete 2025 Care Certificate. The first two at each home
get a passport here; the other two are left for a registered manager to issue in the demo.
"""
from __future__ import annotations

from flask import current_app

from passport import audit
from passport.certificates import keys as keyring, services, settings

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
        for worker in workers[:PASSPORTS_PER_HOME]:
            if services.current_passport(db, worker.id) is None:
                services.issue_passport(db, None, worker.id, org.id, actor=actor, **cfg)
