"""Who may do what in delegation, and the checks shared by services and queries.

The registered-professional rule (documented in docs/delegation.md): a person may record competency
assessments and delegate tasks for a home H when

1. they have a professional registration (body and PIN) on their record,
2. they hold the ``registered_professional`` role today, either in H itself (e.g. a nurse employed by a
   nursing home), or in a clinical organisation (community nursing team, GP practice, NHS trust) that
   belongs to the same scheme as H, and
3. a registration confirmation for that registration is current today: someone accountable outside the
   care home checked the register (``passport.core.registration.current_confirmation``, docs/registration.md).

Conditions 1 and 2 alone (``professional_role``) let them *see* the home's delegation pages; acting
needs all three (``professional_authority``), and what they sign off records the confirmation.

An API token only carries that authority when it was issued for the ``registered_professional`` role
in the organisation the authority comes from. Scheme admins get no special power here: delegation is
a clinical decision.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from passport.core.access import Principal, current_memberships, has_role, is_scheme_admin, memberships_of
from passport.core.models import Membership, Organisation, SchemeMember
from passport.core.registration import current_confirmation
from passport.core.records import care_certificate_summary, current_records
from passport.core.catalogue_data import CC_2025_FROM_2015
from passport.core.models import CCStandard, TrainingCategory

CLINICAL_KINDS = ("community_nursing", "gp_practice", "nhs_trust")
HOME_KINDS = ("care_home", "care_home_nursing", "home_care")
#: home staff who may see the registers and who-can-do-it for their home
HOME_STAFF_ROLES = ("registered_manager", "training_lead", "org_admin", "assessor", "registered_professional")
PROFESSIONAL_ROLE = "registered_professional"

# A resident reference is a short local label chosen by the home, such as "Room 12 – R-0412".
RESIDENT_REF_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .,/#()'–-]{0,39}$")
_TEN_DIGITS = re.compile(r"\d{3}\s?\d{3}\s?\d{4}")  # looks like an NHS number
_DATE_LIKE = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}")  # looks like a date of birth


@dataclass(frozen=True)
class Authority:
    """Where a professional's right to act for a home comes from."""

    person_id: int
    org_id: int  # the organisation in which they hold the registered_professional role
    confirmation_id: int | None = None  # the registration confirmation it rests on


def is_registered(person) -> bool:
    return bool(person.registration_body and person.registration_pin)


def schemes_of(db: Session, org_id: int) -> set[int]:
    return set(db.scalars(sa.select(SchemeMember.scheme_id).where(SchemeMember.org_id == org_id)))


def professional_authority(db: Session, principal: Principal, home_id: int, on: date | None = None
                           ) -> Authority | None:
    """The organisation through which ``principal`` may assess and delegate for ``home_id``, with the
    current registration confirmation it rests on, or None."""
    role = professional_role(db, principal, home_id, on)
    if role is None:
        return None
    confirmation = current_confirmation(db, principal.person, on)
    if confirmation is None:
        return None
    return Authority(role.person_id, role.org_id, confirmation.id)


def professional_role(db: Session, principal: Principal, home_id: int, on: date | None = None
                      ) -> Authority | None:
    """Registration on record and the professional role for the home (or a clinical organisation of its
    scheme), whether or not a confirmation is current: enough to see the home, not to act for it."""
    if principal is None or not is_registered(principal.person):
        return None
    if principal.token_role is not None and principal.token_role != PROFESSIONAL_ROLE:
        return None
    roles = [m for m in memberships_of(db, principal, on) if m.role == PROFESSIONAL_ROLE]
    if principal.token_org_id is not None:
        roles = [m for m in roles if m.org_id == principal.token_org_id]
    for m in roles:
        if m.org_id == home_id:
            return Authority(principal.person_id, m.org_id)
    home_schemes = schemes_of(db, home_id)
    if not home_schemes:
        return None
    for m in sorted(roles, key=lambda m: m.org_id):
        if m.organisation.kind in CLINICAL_KINDS and schemes_of(db, m.org_id) & home_schemes:
            return Authority(principal.person_id, m.org_id)
    return None


def homes_for_professional(db: Session, principal: Principal) -> list[Organisation]:
    """Every home the principal may act for as a registered professional (one query, for menus)."""
    if principal is None or not is_registered(principal.person):
        return []
    if principal.token_role is not None and principal.token_role != PROFESSIONAL_ROLE:
        return []
    roles = [m for m in memberships_of(db, principal) if m.role == PROFESSIONAL_ROLE
             and principal.token_org_id in (None, m.org_id)]
    direct = [m.org_id for m in roles]
    clinical = [m.org_id for m in roles if m.organisation.kind in CLINICAL_KINDS]
    schemes = sa.select(SchemeMember.scheme_id).where(SchemeMember.org_id.in_(clinical or [-1]))
    in_scheme = sa.select(SchemeMember.org_id).where(SchemeMember.scheme_id.in_(schemes))
    return list(db.scalars(sa.select(Organisation).where(
        Organisation.kind.in_(HOME_KINDS), sa.or_(Organisation.id.in_(direct or [-1]), Organisation.id.in_(in_scheme)))
        .order_by(Organisation.name)))


def uses_delegation(db: Session, principal: Principal | None) -> bool:
    """Cheap check for menus: a staff role anywhere, or a scheme admin."""
    if principal is None:
        return False
    return is_scheme_admin(db, principal) or any(
        m.role in HOME_STAFF_ROLES for m in memberships_of(db, principal))


def can_view_home(db: Session, principal: Principal | None, home_id: int) -> bool:
    """Home staff, a professional who may act for the home, or a scheme admin."""
    if principal is None:
        return False
    return (has_role(db, principal, HOME_STAFF_ROLES, home_id)
            or professional_role(db, principal, home_id) is not None)


def homes_for_viewer(db: Session, principal: Principal) -> list[Organisation]:
    """Homes whose delegation pages the principal may see."""
    if principal is None:
        return []
    if is_scheme_admin(db, principal):
        return list(db.scalars(sa.select(Organisation).where(Organisation.kind.in_(HOME_KINDS))
                               .order_by(Organisation.name)))
    staff = {m.org_id for m in memberships_of(db, principal) if m.role in HOME_STAFF_ROLES
             and (principal.token_org_id in (None, m.org_id))}
    homes = {o.id: o for o in homes_for_professional(db, principal)}
    for org_id in staff:
        org = db.get(Organisation, org_id)
        if org is not None and org.kind in HOME_KINDS:
            homes[org.id] = org
    return sorted(homes.values(), key=lambda o: o.name)


def is_worker_at(db: Session, person_id: int, home_id: int, on: date | None = None) -> bool:
    return any(m.org_id == home_id and m.role == "worker" for m in current_memberships(db, person_id, on))


def managers_of(db: Session, home_id: int, on: date):
    """People holding the registered_manager role at the home today."""
    from passport.core.models import Person

    m = aliased(Membership)
    return list(db.scalars(sa.select(Person).join(m, m.person_id == Person.id).where(
        m.org_id == home_id, m.role == "registered_manager", m.start_date <= on,
        sa.or_(m.end_date.is_(None), m.end_date >= on)).distinct()))


def clean_resident_ref(value: str | None, required: bool = True) -> str | None:
    """Normalise a resident reference or raise ValueError saying why it is not acceptable."""
    value = " ".join((value or "").split())
    if not value:
        if required:
            raise ValueError("Enter the resident's local reference, like Room 12 – R-0412.")
        return None
    if len(value) > 40:
        raise ValueError("The resident reference must be 40 characters or fewer.")
    if _TEN_DIGITS.search(value) or _DATE_LIKE.search(value):
        raise ValueError("Use the home's own reference, not an NHS number or a date of birth.")
    if not RESIDENT_REF_RE.match(value):
        raise ValueError("Use letters, numbers, spaces and - / . # ( ) only, like Room 12 – R-0412.")
    return value


# --- prerequisites -----------------------------------------------------------------------------


def missing_prerequisites(db: Session, task, person_id: int, on: date) -> list[str]:
    """Plain-English list of what the worker lacks for ``task`` on ``on`` (empty = all met).

    Training comes from the core ledger (the latest record per category, corrections applied; any
    source: course, manual entry, accepted passport...), so this works without the courses plugin.
    A Care Certificate standard counts when met in the 2025 framework, or in the 2015 one where the
    2015 standard maps to it.
    """
    if not task.prerequisites:
        return []
    records = {r.category_code: r for r in current_records(db, person_id)}
    summary = None
    missing = []
    for p in task.prerequisites:
        if p.kind == "training":
            rec = records.get(p.ref)
            name = db.scalar(sa.select(TrainingCategory.name).where(TrainingCategory.code == p.ref)) or str(p.ref)
            if rec is None:
                missing.append(f"No {name} training on record")
            elif rec.completed_on > on:
                missing.append(f"{name} training is not yet completed")
            elif rec.expires_on is not None and rec.expires_on < on:
                missing.append(f"{name} training expired on {rec.expires_on.strftime('%-d %B %Y')}")
        else:
            summary = summary or care_certificate_summary(db, person_id)
            met_2025 = p.ref in summary["2025"]["met"]
            met_2015 = any(v == p.ref and n in summary["2015"]["met"] for n, v in CC_2025_FROM_2015.items())
            if not (met_2025 or met_2015):
                title = db.scalar(sa.select(CCStandard.title).where(CCStandard.framework == "2025",
                                                                    CCStandard.number == p.ref))
                missing.append(f"Care Certificate standard {p.ref}" + (f" ({title})" if title else "")
                               + " not signed off")
    return missing
