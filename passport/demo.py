"""Demo data: a believable scheme of an NHS trust, a care association, a community nursing team and three
care homes with about 60 people. Idempotent: a second run changes nothing and prints the same sign-ins.

Plugins add their own demo data through an optional ``demo(db, ctx)`` hook on the plugin object, called
once, in plugin order, on the run that creates the core data. ``ctx`` is a ``DemoContext``.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from passport import audit, db as dbm
from passport.core import records, services
from passport.core.access import today
from passport.core.catalogue_data import DEFAULT_REQUIREMENTS
from passport.core.models import Membership, Organisation, Person, User

DEMO_PASSWORD = "demo-passport-2026"
SCHEME_NAME = "North Wessex Care Passport Scheme"

FIRST = ["Amara", "Ben", "Chloe", "Dev", "Ella", "Femi", "Grace", "Hassan", "Isla", "Jack", "Kiran", "Leah", "Mo",
         "Nia", "Olu", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Vic", "Wes", "Yasmin", "Zoe", "Adam",
         "Bea", "Cal", "Dana", "Eli"]
LAST = ["Adeyemi", "Brown", "Clarke", "Das", "Evans", "Fraser", "Green", "Hughes", "Iqbal", "Jones", "Khan", "Lewis",
        "Morgan", "Nowak", "Okafor", "Patel", "Quinn", "Roberts", "Singh", "Taylor", "Usman", "Vaughan", "Walker",
        "Young", "Zielinski"]


@dataclass
class DemoContext:
    """What the core demo made, for plugins to build on."""

    orgs: dict[str, Organisation] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)      # named key -> person
    workers: dict[str, list[Person]] = field(default_factory=dict)  # org key -> workers
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(2026))


def _person(db, ctx: DemoContext, key: str, org_key: str, roles: list[str], given: str, family: str,
            job_role: str | None, login_label: str | None = None, registration=None, start=None) -> Person:
    email = f"{given}.{family}".lower().replace("'", "") + "@demo.passport.test"
    p = Person(given_name=given, family_name=family, email=email)
    if registration:
        p.registration_body, p.registration_pin = registration
    db.add(p)
    db.flush()
    for i, role in enumerate(roles):  # the home created this record; further roles extend it
        services.create_membership(db, None, p, ctx.orgs[org_key].id,
                                   {"role": role, "job_role": job_role, "start_date": start or date(2021, 4, 1)},
                                   via="created" if i == 0 else "extended")
    if login_label:
        db.add(User(person_id=p.id, password_hash=_HASH[0]))
        ctx.logins.append((login_label, email, DEMO_PASSWORD))
    ctx.people[key] = p
    return p


_HASH: list[str] = []


def load_demo(app) -> list[tuple[str, str, str]]:
    """Create the demo (once) and return the sign-in lines."""
    db = dbm.session
    if not _HASH:
        _HASH.append(generate_password_hash(DEMO_PASSWORD))
    if services.get_scheme(db) is not None and db.scalar(sa.select(Person.id).where(
            Person.email.like("%@demo.passport.test")).limit(1)):
        return _existing_logins(db)
    ctx = DemoContext()
    actor = audit.Actor.system("demo data")
    orgs = [
        ("trust", "Wessex Valley NHS Foundation Trust", "nhs_trust", None, "RX9"),
        ("association", "North Wessex Care Association", "care_association", None, None),
        ("nursing_team", "Kennet Community Nursing Team", "community_nursing", None, "RX9K1"),
        ("oaks", "The Oaks Care Home", "care_home", "1-101000001", None),
        ("riverside", "Riverside Nursing Home", "care_home_nursing", "1-101000002", None),
        ("meadow", "Meadow View Care Home", "care_home", "1-101000003", None),
    ]
    for key, name, kind, cqc, ods in orgs:
        ctx.orgs[key] = services.create_organisation(db, None, {"name": name, "kind": kind, "cqc_location_id": cqc,
                                                                "ods_code": ods})
    services.save_scheme(db, None, {
        "name": SCHEME_NAME, "cc_version": "2025",
        "quality_threshold": "Courses approved by the scheme meet the Care Certificate 2025 standards, are delivered "
                             "by a qualified trainer, include a knowledge assessment with a pass mark of 80% and an "
                             "observation of practice in the workplace.",
        "members": [o.id for o in ctx.orgs.values()],
        "endorsers": [ctx.orgs["trust"].id, ctx.orgs["association"].id],
    })
    _person(db, ctx, "scheme_admin", "association", ["scheme_admin", "org_admin"], "Sarah", "Whitfield",
            "other", "scheme admin")
    for i, (given, family) in enumerate([("Helen", "Marsh"), ("Tom", "Akintola"), ("Ruth", "Kowalski")]):
        _person(db, ctx, f"nurse{i + 1}", "nursing_team", ["registered_professional"], given, family, "registered_nurse",
                "registered professional" if i == 0 else None,
                registration=("NMC", f"{10 + i}A{1234 + i}E"))
    rng = ctx.rng
    pairs = [(f, l) for f in FIRST for l in LAST]
    rng.shuffle(pairs)
    names = iter(pairs)
    for home in ("oaks", "riverside", "meadow"):
        g, f = next(names)
        _person(db, ctx, f"{home}_manager", home, ["registered_manager", "org_admin"], g, f, "registered_manager",
                "registered manager" if home == "oaks" else None)
        g, f = next(names)
        _person(db, ctx, f"{home}_lead", home, ["training_lead"], g, f, "deputy_manager",
                "training lead" if home == "oaks" else None)
        g, f = next(names)
        _person(db, ctx, f"{home}_assessor", home, ["assessor", "worker"], g, f, "senior_care_worker",
                "assessor" if home == "oaks" else None)
        if home == "riverside":
            g, f = next(names)
            _person(db, ctx, "riverside_nurse", home, ["registered_professional", "worker"], g, f, "registered_nurse", None,
                    registration=("NMC", "15C5678F"))
        ctx.workers[home] = []
        for n in range(15):
            g, f = next(names)
            start = today() - timedelta(days=rng.randint(20, 2500))
            job = "senior_care_worker" if n % 5 == 0 else "care_worker"
            label = "worker" if (home == "oaks" and n == 0) else None
            ctx.workers[home].append(_person(db, ctx, f"{home}_worker{n}", home, ["worker"], g, f, job, label,
                                             start=start))
    g, f = "Joan", "Pryce"
    _person(db, ctx, "lapsed_nurse", "nursing_team", ["registered_professional"], g, f, "registered_nurse", LAPSED_LABEL,
            registration=("NMC", "13A1237E"))
    db.flush()
    _training_history(db, ctx, actor)
    _care_certificates(db, ctx, actor)
    _registration_confirmations(db, ctx, actor)
    from passport.plugins import EXTENSION_KEY

    for plugin in app.extensions.get(EXTENSION_KEY, {}).values():
        hook = getattr(plugin, "demo", None)
        if hook is not None:
            hook(db, ctx)
    db.commit()
    return ctx.logins


def _training_history(db, ctx: DemoContext, actor) -> None:
    """Varied histories: most in date, some due soon, some expired, some missing."""
    rng = ctx.rng
    for home, workers in ctx.workers.items():
        org = ctx.orgs[home]
        for w in workers:
            for code in DEFAULT_REQUIREMENTS.get("care_worker", [])[:12]:
                roll = rng.random()
                if roll < 0.08:
                    continue  # missing
                if roll < 0.18:
                    completed = today() - timedelta(days=rng.randint(380, 700))  # expired for a 12-month subject
                elif roll < 0.30:
                    completed = today() - timedelta(days=rng.randint(300, 360))  # due soon
                else:
                    completed = today() - timedelta(days=rng.randint(10, 250))
                records.add_training_record(db, None, person_id=w.id, org_id=org.id, category_code=code,
                                            completed_on=completed, source="manual", actor=actor,
                                            provider_name="North Wessex Care Association")


def _care_certificates(db, ctx: DemoContext, actor) -> None:
    """Workers at every Care Certificate state: complete (2025 and 2015), part way, not started."""
    for home, workers in ctx.workers.items():
        org = ctx.orgs[home]
        manager = ctx.people[f"{home}_manager"]
        for i, w in enumerate(workers):
            if i < 4:
                fw, count = "2025", 16          # complete: ready for a passport
            elif i == 4:
                fw, count = "2015", 15          # complete on 2015: sees the standard 16 gap
            elif i < 8:
                fw, count = "2025", 5 + i       # part way
            else:
                continue
            for n in range(1, count + 1):
                records.record_achievement(db, None, person_id=w.id, org_id=org.id, framework=fw,
                                           standard_number=n, met_on=today() - timedelta(days=40 - n),
                                           source="assessment", signed_off_by_id=manager.id, actor=actor,
                                           evidence="Workbook accepted; practice observed by the home's assessor.")


def _registration_confirmations(db, ctx: DemoContext, actor) -> None:
    """The scheme admin has checked the NMC register for the district nurses: Helen Marsh is confirmed,
    Tom Akintola's renewal date is within 30 days, and Joan Pryce's confirmation lapsed 12 days ago (she is
    refused when she tries to assess or delegate)."""
    from passport.core.access import Principal
    from passport.core.models import RegistrationConfirmation
    from passport.core.registration import record_confirmation

    admin = Principal(person=ctx.people["scheme_admin"])
    for key, renews_in in (("nurse1", 290), ("nurse2", 19), ("nurse3", 200), ("riverside_nurse", 150)):
        p = ctx.people[key]
        record_confirmation(db, admin, register=p.registration_body, pin=p.registration_pin,
                            register_status="registered", checked_on=today() - timedelta(days=5),
                            renews_on=today() + timedelta(days=renews_in), person_id=p.id,
                            notes="Checked on the NMC register online.")
    lapsed = ctx.people["lapsed_nurse"]
    c = RegistrationConfirmation(person_id=lapsed.id, register="NMC", pin=lapsed.registration_pin,
                                 register_status="registered", checked_on=today() - timedelta(days=380),
                                 renews_on=today() - timedelta(days=12), confirmed_by_id=admin.person_id,
                                 org_id=ctx.orgs["association"].id, notes="Checked on the NMC register online.")
    db.add(c)
    db.flush()
    audit.record(db, actor, "registration.confirm", "registration_confirmation", c.id, org_id=c.org_id,
                 person_id=lapsed.id, register="NMC", pin=c.pin, checked_on=c.checked_on, renews_on=c.renews_on)


def _existing_logins(db) -> list[tuple[str, str, str]]:
    rows = db.execute(sa.select(Person.email, Membership.role).join(User, User.person_id == Person.id)
                      .join(Membership, Membership.person_id == Person.id)
                      .where(Person.email.like("%@demo.passport.test"))).all()
    order = ["scheme_admin", "registered_manager", "training_lead", "assessor", "registered_professional", "worker"]
    best: dict[str, str] = {}
    for email, role in rows:
        if role in order and (email not in best or order.index(role) < order.index(best[email])):
            best[email] = role
    from passport.core.registration import current_confirmation

    def label(email: str, role: str) -> str:
        if role == "registered_professional" and current_confirmation(
                db, db.scalar(sa.select(Person).where(Person.email == email))) is None:
            return LAPSED_LABEL
        return role.replace("_", " ")

    return sorted(((label(e, r), e, DEMO_PASSWORD) for e, r in best.items()),
                  key=lambda x: (order.index(best[x[1]]), x[0]))


LAPSED_LABEL = "nurse, confirmation lapsed"
