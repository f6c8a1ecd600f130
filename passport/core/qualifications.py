"""Qualifications in the ledger: the Level 2 Adult Social Care Certificate, with its units.

Core owns the rows because several plugins use them: ``courses`` records a learner's qualification
(``passport.courses.qualifications``), ``certificates`` states it on the passport and ``verify``
records one recognised from a passport. Rows are never edited: a correction withdraws the old one.
"""
from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport import audit
from passport.core.access import Principal, org_can_see_person, require_role, today
from passport.core.models import QUALIFICATION_KINDS, RECORD_SOURCES, Person, Qualification, QualificationUnit
from passport.core.records import RECORDING_ROLES
from passport.errors import ValidationError

QN_RE = re.compile(r"^\d{3}/\d{4}/\d$")
TITLES = {"l2_ascc": "Level 2 Adult Social Care Certificate"}


def record_qualification(db: Session, principal: Principal | None, *, person_id: int, org_id: int,
                         awarding_organisation: str, qualification_number: str, achieved_on: date,
                         units: list[dict] | None = None, kind: str = "l2_ascc", source: str = "course",
                         source_ref: str = "", actor: audit.Actor | None = None) -> Qualification:
    """Record that a person holds a qualification. ``units``: ``[{"number", "title", "reference",
    "achieved_on"}]``. ``principal=None`` is a trusted caller that checked access itself."""
    if principal is not None:
        require_role(db, principal, RECORDING_ROLES, org_id)
    errors = {}
    ao = " ".join((awarding_organisation or "").split())
    qn = (qualification_number or "").strip()
    if kind not in QUALIFICATION_KINDS:
        errors["kind"] = "Choose a qualification from the list."
    if not ao or len(ao) > 100:
        errors["awarding_organisation"] = "Enter the awarding organisation (100 characters or fewer)."
    if not QN_RE.match(qn):
        errors["qualification_number"] = "Enter the qualification number as on the certificate, like 610/4009/5."
    if not isinstance(achieved_on, date):
        errors["achieved_on"] = "Enter the date the qualification was achieved."
    elif achieved_on > today():
        errors["achieved_on"] = "The date the qualification was achieved cannot be in the future."
    if source not in RECORD_SOURCES:
        errors["source"] = "Unknown source."
    if db.get(Person, person_id) is None:
        errors["person"] = "Unknown person."
    elif not org_can_see_person(db, org_id, person_id):
        errors["person"] = "This person is not a member of the organisation."
    seen: set[int] = set()
    for u in units or []:
        n = u.get("number")
        if not isinstance(n, int) or not 1 <= n <= 99 or n in seen or not (u.get("title") or "").strip():
            errors["units"] = "Each unit needs a different number from 1 to 99 and a title."
        elif u.get("achieved_on") is not None and (not isinstance(u["achieved_on"], date)
                                                   or u["achieved_on"] > today()):
            errors["units"] = "A unit's date cannot be in the future."
        seen.add(n)
    if errors:
        raise ValidationError("The qualification was not saved: " + " ".join(errors.values()), errors)
    who = actor or (principal.actor if principal else audit.Actor.system("command line"))
    q = Qualification(person_id=person_id, org_id=org_id, kind=kind, title=TITLES[kind], awarding_organisation=ao,
                      qualification_number=qn, achieved_on=achieved_on, source=source, source_ref=source_ref[:300],
                      recorded_by_id=principal.person_id if principal else who.person_id)
    q.units = [QualificationUnit(number=u["number"], title=u["title"].strip()[:200],
                                 reference=(u.get("reference") or "").strip()[:20], achieved_on=u.get("achieved_on"))
               for u in units or []]
    db.add(q)
    db.flush()
    audit.record(db, who, "qualification.add", "qualification", q.id, org_id=org_id, person_id=person_id,
                 qualification_number=qn, source=source)
    return q


def current_qualification(db: Session, person_id: int, kind: str = "l2_ascc") -> Qualification | None:
    """The person's earliest-achieved qualification of this kind that has not been withdrawn."""
    return db.scalar(sa.select(Qualification).where(
        Qualification.person_id == person_id, Qualification.kind == kind, Qualification.withdrawn_at.is_(None))
        .order_by(Qualification.achieved_on, Qualification.id).limit(1))


def qualifications_of(db: Session, person_id: int) -> list[Qualification]:
    return list(db.scalars(sa.select(Qualification).where(Qualification.person_id == person_id,
                                                          Qualification.withdrawn_at.is_(None))
                           .order_by(Qualification.achieved_on.desc(), Qualification.id.desc())))
