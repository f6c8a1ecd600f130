"""Recording a learner's Level 2 Adult Social Care Certificate, with its units, in the core ledger.

The qualification is Ofqual-regulated and offered by several awarding organisations under their own
qualification numbers (for example NQual 610/4009/5, Gateway 610/4234/1). Its 15 mandatory units are
built on the Care Certificate standards; the unit titles below follow the standards the Skills for Care
specification is based on (unit references differ between awarding organisations: record the ones on
the learner's certificate).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from passport import audit
from passport.core import qualifications as core_quals
from passport.core.access import Principal
from passport.core.models import Qualification

KNOWN_NUMBERS = {"610/4009/5": "NQual", "610/4234/1": "Gateway Qualifications"}
L2_ASCC_UNITS = [
    (1, "Understand own role", "A/651/1482"),
    (2, "Personal development", "D/651/1483"),
    (3, "Duty of care", ""),
    (4, "Equality, diversity, inclusion and human rights", ""),
    (5, "Work in a person-centred way", ""),
    (6, "Communication", ""),
    (7, "Privacy and dignity", ""),
    (8, "Fluids and nutrition", ""),
    (9, "Awareness of mental health, dementia and learning disability", ""),
    (10, "Safeguarding adults", ""),
    (11, "Safeguarding children", ""),
    (12, "Basic life support", ""),
    (13, "Health and safety", ""),
    (14, "Handling information", ""),
    (15, "Infection prevention and control", ""),
]


def unit_rows(achieved_on: date | None = None, numbers: list[int] | None = None) -> list[dict]:
    """The qualification's units (all of them, or ``numbers``) as rows for ``record_l2_ascc``."""
    return [{"number": n, "title": title, "reference": ref, "achieved_on": achieved_on}
            for n, title, ref in L2_ASCC_UNITS if numbers is None or n in numbers]


def record_l2_ascc(db: Session, principal: Principal | None, *, person_id: int, org_id: int,
                   qualification_number: str, achieved_on: date, awarding_organisation: str = "",
                   units: list[dict] | None = None, source_ref: str = "",
                   actor: audit.Actor | None = None) -> Qualification:
    """Record a Level 2 Adult Social Care Certificate achieved by a learner of ``org_id`` (training leads,
    registered managers, admins and assessors). The awarding organisation defaults to the one that
    offers that qualification number; the units default to all fifteen, achieved on the same date."""
    ao = awarding_organisation or KNOWN_NUMBERS.get((qualification_number or "").strip(), "")
    return core_quals.record_qualification(
        db, principal, person_id=person_id, org_id=org_id, awarding_organisation=ao,
        qualification_number=qualification_number, achieved_on=achieved_on,
        units=units if units is not None else unit_rows(achieved_on), kind="l2_ascc", source="course",
        source_ref=source_ref, actor=actor)
