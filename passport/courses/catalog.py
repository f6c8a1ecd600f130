"""Courses: what is taught, by whom, for which Care Certificate standards and training subjects, for how
long it stays valid, and whether the scheme has approved it (only approved courses count toward a
passport recognised across the scheme)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from passport import audit
from passport.core.access import Principal, is_scheme_admin, orgs_with_role
from passport.core.models import FRAMEWORKS, CCOutcome, CCStandard, Organisation, TrainingCategory
from passport.core.services import get_or_404
from passport.courses.common import TRAINING_ROLES, clean_text, collect, require_scheme_admin, require_training_role
from passport.courses.models import DELIVERY, PROVIDER_KINDS, VALIDITY_MODES, Course
from passport.db import utcnow
from passport.errors import NotFound, PermissionDenied, ValidationError


def _int_list(value) -> list[int]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [v for v in value.replace(";", ",").split(",") if v.strip()]
    out = []
    for v in value:
        if isinstance(v, bool):
            raise ValueError
        out.append(int(str(v).strip()))
    return sorted(set(out))


def _course_fields(db: Session, data: dict) -> dict:
    """Validate course input; raise one ValidationError naming every bad field."""
    def provider_kind():
        if data.get("provider_kind") not in PROVIDER_KINDS:
            raise ValueError("Choose whether the course is run in-house or by an external provider.")
        return data["provider_kind"]

    def delivery():
        if data.get("delivery") not in DELIVERY:
            raise ValueError("Choose how the course is delivered: face to face, e-learning or blended.")
        return data["delivery"]

    def hours():
        try:
            value = Decimal(str(data.get("hours"))).quantize(Decimal("0.1"))
        except (InvalidOperation, ValueError):
            raise ValueError("Enter the length of the course in hours, like 3 or 1.5.") from None
        if not Decimal("0") < value <= Decimal("1000"):
            raise ValueError("Enter between 0.1 and 1000 hours.")
        return value

    def framework():
        value = (data.get("cc_framework") or "").strip() or None
        if value is not None and value not in FRAMEWORKS:
            raise ValueError("Choose the 2015 or 2025 Care Certificate, or none.")
        return value

    def validity():
        mode = data.get("validity_mode") or "subject"
        if mode not in VALIDITY_MODES:
            raise ValueError("Choose how long the training stays valid.")
        months = data.get("validity_months")
        if mode != "months":
            return mode, None
        try:
            months = int(months)
        except (TypeError, ValueError):
            raise ValueError("Enter the number of months the training stays valid (1 to 999).") from None
        if not 1 <= months <= 999:
            raise ValueError("Enter the number of months the training stays valid (1 to 999).")
        return mode, months

    def pass_mark():
        value = data.get("pass_mark")
        if value in (None, ""):
            return None
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise ValueError("Enter the pass mark as a percentage from 1 to 100.") from None
        if not 1 <= value <= 100:
            raise ValueError("Enter the pass mark as a percentage from 1 to 100.")
        return value

    def categories():
        try:
            codes = _int_list(data.get("categories"))
        except (TypeError, ValueError):
            raise ValueError("Choose training subjects from the list.") from None
        found = list(db.scalars(sa.select(TrainingCategory).where(TrainingCategory.code.in_(codes))))
        if len(found) != len(codes):
            raise ValueError("Choose training subjects from the list.")
        return found

    cleaned, errors = collect({
        "title": lambda: clean_text(data.get("title"), "a course title", 200, required=True),
        "description": lambda: clean_text(data.get("description"), "the description", 5000),
        "provider_kind": provider_kind,
        "provider_name": lambda: clean_text(data.get("provider_name"), "the provider's name", 200,
                                            required=data.get("provider_kind") == "external"),
        "delivery": delivery, "hours": hours, "cc_framework": framework, "validity_mode": validity,
        "pass_mark": pass_mark, "categories": categories,
    })
    fw = cleaned.get("cc_framework")
    try:
        numbers = _int_list(data.get("standards"))
    except (TypeError, ValueError):
        numbers, errors["standards"] = [], "Choose Care Certificate standards from the list."
    standards: list[CCStandard] = []
    if numbers and not fw and "cc_framework" not in errors:
        errors["cc_framework"] = "Choose the Care Certificate version the standards belong to."
    elif numbers and fw:
        standards = list(db.scalars(sa.select(CCStandard).where(CCStandard.framework == fw,
                                                                CCStandard.number.in_(numbers))))
        if len(standards) != len(numbers):
            errors["standards"] = f"The {fw} Care Certificate has standards 1 to {15 if fw == '2015' else 16}."
    codes = [c.strip() for c in str(data.get("outcomes") or "").replace(";", ",").split(",") if c.strip()] \
        if isinstance(data.get("outcomes"), (str, type(None))) else [str(c).strip() for c in data["outcomes"]]
    outcomes: list[CCOutcome] = []
    if codes and standards:
        by_code = {o.code: o for s in standards for o in s.outcomes}
        unknown = [c for c in codes if c not in by_code]
        if unknown:
            errors["outcomes"] = ("These outcomes are not part of the chosen standards: " + ", ".join(unknown[:10]) + ".")
        outcomes = [by_code[c] for c in codes if c in by_code]
    elif codes:
        errors["outcomes"] = "Choose the standards first; outcomes belong to a standard."
    if not errors.get("categories") and not cleaned.get("categories") and not numbers:
        errors["categories"] = "Choose at least one training subject or Care Certificate standard the course covers."
    if errors:
        raise ValidationError("The course was not saved: " + "; ".join(errors.values()), errors)
    mode, months = cleaned.pop("validity_mode")
    cleaned.update(validity_mode=mode, validity_months=months, standards=standards, outcomes=outcomes,
                   accredited=bool(data.get("accredited")))
    if cleaned["provider_kind"] == "in_house" and not cleaned["provider_name"]:
        cleaned["provider_name"] = ""
    return cleaned


def can_manage(db: Session, principal: Principal, course: Course) -> bool:
    """Owner organisation's training staff, or a scheme admin (the only ones for scheme courses)."""
    if is_scheme_admin(db, principal):
        return True
    return course.org_id is not None and course.org_id in orgs_with_role(db, principal, TRAINING_ROLES)


def create_course(db: Session, principal: Principal, org_id: int | None, data: dict) -> Course:
    """Add a course owned by ``org_id`` (its training staff) or by the scheme (``None``: scheme admins)."""
    if org_id is None:
        require_scheme_admin(db, principal)
    else:
        get_or_404(db, Organisation, org_id)
        require_training_role(db, principal, org_id)
    fields = _course_fields(db, data)
    course = Course(org_id=org_id, created_by_id=principal.person_id, **fields)
    db.add(course)
    db.flush()
    audit.record(db, principal.actor, "course.create", "course", course.id, org_id=org_id, title=course.title)
    return course


def update_course(db: Session, principal: Principal, course_id: int, data: dict) -> Course:
    """Change a course. Changing what it covers withdraws scheme approval until a scheme admin looks again."""
    course = get_or_404(db, Course, course_id)
    if not can_manage(db, principal, course):
        raise PermissionDenied("Only the course owner's training staff can change this course.")
    fields = _course_fields(db, data)
    covered_before = ({c.code for c in course.categories}, {s.id for s in course.standards}, course.validity_mode,
                      course.validity_months, course.pass_mark)
    for k, v in fields.items():
        setattr(course, k, v)
    if "active" in data:
        course.active = bool(data["active"])
    covered_after = ({c.code for c in course.categories}, {s.id for s in course.standards}, course.validity_mode,
                     course.validity_months, course.pass_mark)
    withdrawn = course.scheme_approved and covered_before != covered_after and not is_scheme_admin(db, principal)
    if withdrawn:
        course.scheme_approved, course.approved_at, course.approved_by_id = False, None, None
    db.flush()
    audit.record(db, principal.actor, "course.update", "course", course.id, org_id=course.org_id,
                 approval_withdrawn=withdrawn)
    return course


def set_approval(db: Session, principal: Principal, course_id: int, approved: bool) -> Course:
    """Scheme admins mark a course as meeting (or no longer meeting) the scheme's quality threshold."""
    require_scheme_admin(db, principal)
    course = get_or_404(db, Course, course_id)
    course.scheme_approved = bool(approved)
    course.approved_at = utcnow() if approved else None
    course.approved_by_id = principal.person_id if approved else None
    db.flush()
    audit.record(db, principal.actor, "course.approve" if approved else "course.unapprove", "course", course.id,
                 org_id=course.org_id)
    return course


def get_course(db: Session, principal: Principal, course_id: int) -> Course:
    """A course anyone signed in may read (courses describe training, not people)."""
    course = db.get(Course, course_id)
    if course is None:
        raise NotFound("No such course.")
    return course


def list_courses(db: Session, principal: Principal, org_id: int | None = None, include_inactive: bool = False
                 ) -> list[Course]:
    """Courses the principal can run sessions of: their organisations' own courses plus the scheme's."""
    q = (sa.select(Course).options(selectinload(Course.categories), selectinload(Course.standards),
                                   selectinload(Course.organisation))
         .order_by(Course.title))
    if not include_inactive:
        q = q.where(Course.active.is_(True))
    if org_id is not None:
        q = q.where(sa.or_(Course.org_id == org_id, Course.org_id.is_(None)))
    elif not is_scheme_admin(db, principal):
        q = q.where(sa.or_(Course.org_id.in_(orgs_with_role(db, principal, TRAINING_ROLES)), Course.org_id.is_(None)))
    return list(db.scalars(q))


def course_json(c: Course) -> dict:
    return {"id": c.id, "org_id": c.org_id, "owner": c.owner_label, "title": c.title, "description": c.description,
            "provider_kind": c.provider_kind, "provider_name": c.provider_name, "delivery": c.delivery,
            "hours": float(c.hours), "cc_framework": c.cc_framework, "standards": [s.number for s in c.standards],
            "outcomes": [o.code for o in c.outcomes], "categories": [cat.code for cat in c.categories],
            "validity_mode": c.validity_mode, "validity_months": c.validity_months, "accredited": c.accredited,
            "pass_mark": c.pass_mark, "scheme_approved": c.scheme_approved,
            "approved_at": c.approved_at.isoformat() if c.approved_at else None, "active": c.active}
