"""Small helpers shared by the courses services: who counts as training staff, scheme membership,
current members, and UK local date/time conversion."""
from __future__ import annotations

from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport.core.access import Principal, has_role, is_scheme_admin, today
from passport.core.models import Membership, SchemeMember
from passport.core.timeutil import UK
from passport.errors import PermissionDenied

#: roles that run training for an organisation (courses, sessions, bookings, matrix, imports)
TRAINING_ROLES = ("training_lead", "registered_manager", "org_admin")
#: roles that may see an organisation's matrix and records
MATRIX_ROLES = ("training_lead", "registered_manager", "org_admin")


def current_filter(on: date | None = None):
    """SQL condition: the membership is current on ``on`` (default today)."""
    on = on or today()
    return sa.and_(Membership.start_date <= on, sa.or_(Membership.end_date.is_(None), Membership.end_date >= on))


def is_current_member(db: Session, person_id: int, org_id: int) -> bool:
    return db.scalar(sa.select(Membership.id).where(Membership.person_id == person_id, Membership.org_id == org_id,
                                                    current_filter()).limit(1)) is not None


def member_orgs(db: Session, person_id: int) -> list[int]:
    """Organisations where the person has a current membership (any role)."""
    return sorted(set(db.scalars(sa.select(Membership.org_id).where(Membership.person_id == person_id,
                                                                     current_filter()))))


def scheme_org_ids(db: Session) -> set[int]:
    """Organisations taking part in the scheme (places on shared sessions are open to these)."""
    return set(db.scalars(sa.select(SchemeMember.org_id)))


def require_training_role(db: Session, principal: Principal, org_id: int | None, roles=TRAINING_ROLES) -> None:
    if not has_role(db, principal, roles, org_id):
        raise PermissionDenied("You need to be a training lead, registered manager or organisation admin "
                               "of this organisation to do that.")


def require_scheme_admin(db: Session, principal: Principal) -> None:
    if not is_scheme_admin(db, principal):
        raise PermissionDenied("Only a scheme admin can do that.")


def to_utc(day: date, at: time) -> datetime:
    """A UK wall-clock date and time as an aware datetime (stored in UTC by UTCDateTime)."""
    return datetime.combine(day, at, tzinfo=UK)


def uk_date_of(value: datetime) -> date:
    return value.astimezone(UK).date()


def clean_text(value, label: str, max_len: int, required: bool = False) -> str:
    """Strip and check a text field; raise ValueError with a plain-English message."""
    value = ("" if value is None else str(value)).strip()
    if required and not value:
        raise ValueError(f"Enter {label}.")
    if len(value) > max_len:
        raise ValueError(f"{label[0].upper() + label[1:]} must be {max_len} characters or fewer.")
    return value


def collect(checks: dict) -> tuple[dict, dict]:
    """Run each check; return (cleaned values, errors by field)."""
    cleaned, errors = {}, {}
    for name, check in checks.items():
        try:
            cleaned[name] = check()
        except ValueError as exc:
            errors[name] = str(exc)
    return cleaned, errors
