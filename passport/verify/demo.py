"""Demo data for the verify plugin, on top of the core and certificates demos:

- the scheme's trust key (so the trust bundle and the offline page work straight after ``make run``);
- a care worker from The Oaks who has moved to Meadow View, whose passport Meadow View's training lead
  has accepted (records with provenance, and the standard 16 top-up where it applies);
- a few server-side checks of the demo worker's passport, so *Who checked my passport* has something
  to show.
"""
from __future__ import annotations

import sqlalchemy as sa


def load(db, ctx) -> None:
    from flask import current_app

    from passport.certificates import keys as keyring

    if keyring.current_key(db, "trust") is None:
        keyring.create_key(db, current_app.config["KEY_DIR"], "trust")
    try:
        _accepted_move(db, ctx)
        _checks(db, ctx)
    except (KeyError, IndexError):  # a trimmed-down core demo: nothing to build on
        return


def _passport_of(db, person):
    from passport.certificates.models import Passport

    return db.scalar(sa.select(Passport).where(Passport.person_id == person.id, Passport.revoked_at.is_(None),
                                               Passport.superseded_at.is_(None)).order_by(Passport.id.desc()))


def _accepted_move(db, ctx) -> None:
    from passport.core.access import Principal
    from passport.verify import acceptance, settings

    mover = ctx.workers["oaks"][1]
    meadow, lead = ctx.orgs["meadow"], ctx.people["meadow_lead"]
    passport = _passport_of(db, mover)
    if passport is None:
        return
    # Meadow View gains the mover by accepting their passport (acceptance.accept records the membership).
    facts = passport.claims.get("cc") or {}
    met = [i + 1 for i in range(16) if facts.get("s", 0) >> i & 1]
    acceptance.accept(db, Principal(person=lead), settings(), org_id=meadow.id, person_id=mover.id,
                      token=passport.token, standards=met,
                      categories=[code for _n, code, _ in acceptance.category_options(facts.get("fw"), met)],
                      top_up=acceptance.default_top_up(db, facts.get("fw")),
                      top_up_note="Moved from The Oaks; induction shadow shift booked.", job_role="care_worker")


def _checks(db, ctx) -> None:
    from passport.verify import services, settings

    worker = ctx.workers["oaks"][0]  # the demo "worker" sign-in
    passport = _passport_of(db, worker)
    if passport is None:
        return
    for org_key, addr in (("trust", "192.0.2.14"), (None, "203.0.113.9"), ("nursing_team", "192.0.2.200")):
        org_id = ctx.orgs[org_key].id if org_key else None
        services.check(db, settings(), passport.token, channel="api", org_id=org_id, client_addr=addr)
