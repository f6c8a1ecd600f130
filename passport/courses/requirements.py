"""Requirements and training settings: which subjects each job role must hold, the RAG window, reminder
offsets, fixed renewal dates, and the expiry a new record gets.

Requirements start from Skills for Care's guidance (``DEFAULT_REQUIREMENTS``, loaded into
``courses_default_requirement``). The first time an organisation changes its list, the defaults are copied
into its own rows, so later edits to the defaults never change a list someone has chosen.
"""
from __future__ import annotations

import calendar
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from passport import audit
from passport.core.access import Principal, today
from passport.core.catalogue_data import DEFAULT_REQUIREMENTS, JOB_ROLES
from passport.core.models import Membership, Organisation, TrainingCategory, TrainingRecord
from passport.core.records import add_months, job_role_of, refresh_months_for
from passport.core.services import get_or_404
from passport.courses.common import current_filter, require_training_role
from passport.courses.models import (
    DefaultTrainingRequirement, TrainingRenewalRule, TrainingRequirement, TrainingSettings,
)
from passport.errors import ValidationError

JOB_ROLE_LABELS = dict(JOB_ROLES)
DEFAULT_OFFSETS = (60, 30, 7, 0)
AMBER_CHOICES = (30, 60, 90)


# --- settings ------------------------------------------------------------------------------------


def settings_for(db: Session, org_id: int) -> TrainingSettings:
    """The organisation's settings, or unsaved defaults when it has none yet."""
    row = db.get(TrainingSettings, org_id)
    return row or TrainingSettings(org_id=org_id, amber_days=60, reminder_offsets="60,30,7,0", manager_digest=True,
                                   requirements_customised=False, local_est_id=None)


def parse_offsets(text: str | None) -> list[int]:
    """'60, 30, 7, 0' -> [60, 30, 7, 0]; ValueError with a plain message when it is not a list of days."""
    parts = [p.strip() for p in (text or "").replace(";", ",").split(",") if p.strip()]
    if not parts:
        raise ValueError("Enter the days before expiry to send reminders, like 60, 30, 7, 0.")
    try:
        days = sorted({int(p) for p in parts}, reverse=True)
    except ValueError:
        raise ValueError("Enter whole numbers of days separated by commas, like 60, 30, 7, 0.") from None
    if any(d < 0 or d > 365 for d in days) or len(days) > 8:
        raise ValueError("Use up to 8 reminders, each 0 to 365 days before expiry.")
    return days


def save_settings(db: Session, principal: Principal, org_id: int, data: dict) -> TrainingSettings:
    """Change the RAG window, reminder offsets, manager digest and ASC-WDS workplace id."""
    get_or_404(db, Organisation, org_id)
    require_training_role(db, principal, org_id)
    errors, cleaned = {}, {}
    try:
        amber = int(data.get("amber_days"))
        if not 1 <= amber <= 365:
            raise ValueError
        cleaned["amber_days"] = amber
    except (TypeError, ValueError):
        errors["amber_days"] = "Choose how many days ahead counts as due soon (for example 30, 60 or 90)."
    try:
        cleaned["reminder_offsets"] = ",".join(str(d) for d in parse_offsets(data.get("reminder_offsets")))
    except ValueError as exc:
        errors["reminder_offsets"] = str(exc)
    local = (data.get("local_est_id") or "").strip()
    if len(local) > 50:
        errors["local_est_id"] = "The ASC-WDS workplace id (LOCALESTID) must be 50 characters or fewer."
    if errors:
        raise ValidationError("The settings were not saved.", errors)
    row = db.get(TrainingSettings, org_id) or TrainingSettings(org_id=org_id)
    row.amber_days, row.reminder_offsets = cleaned["amber_days"], cleaned["reminder_offsets"]
    row.manager_digest = bool(data.get("manager_digest"))
    row.local_est_id = local or None
    db.add(row)
    db.flush()
    audit.record(db, principal.actor, "courses.settings.save", "organisation", org_id, org_id=org_id,
                 amber_days=row.amber_days, reminder_offsets=row.reminder_offsets, local_est_id=row.local_est_id)
    return row


# --- requirements -------------------------------------------------------------------------------


def requirements_by_role(db: Session, org_id: int) -> dict[str, list[int]]:
    """Job role -> required category codes for the organisation (its own list, or the defaults)."""
    if settings_for(db, org_id).requirements_customised:
        rows = db.execute(sa.select(TrainingRequirement.job_role, TrainingRequirement.category_code)
                          .where(TrainingRequirement.org_id == org_id)).all()
    else:
        rows = db.execute(sa.select(DefaultTrainingRequirement.job_role,
                                    DefaultTrainingRequirement.category_code)).all()
    out: dict[str, list[int]] = {}
    for role, code in rows:
        out.setdefault(role, []).append(code)
    return {role: sorted(codes) for role, codes in out.items()}


def set_requirements(db: Session, principal: Principal, org_id: int, job_role: str, codes) -> list[int]:
    """Replace the subjects ``job_role`` must hold at the organisation."""
    get_or_404(db, Organisation, org_id)
    require_training_role(db, principal, org_id)
    if job_role not in JOB_ROLE_LABELS:
        raise ValidationError("Unknown job role.", {"job_role": "Choose a job role from the list."})
    try:
        wanted = sorted({int(c) for c in codes or []})
    except (TypeError, ValueError):
        raise ValidationError("Unknown training subject.", {"categories": "Choose subjects from the list."}) from None
    known = set(db.scalars(sa.select(TrainingCategory.code)))
    if set(wanted) - known:
        raise ValidationError("Unknown training subject.", {"categories": "Choose subjects from the list."})
    settings = db.get(TrainingSettings, org_id) or TrainingSettings(org_id=org_id)
    if not settings.requirements_customised:
        for role, role_codes in requirements_by_role(db, org_id).items():  # copy the defaults once
            for code in role_codes:
                db.add(TrainingRequirement(org_id=org_id, job_role=role, category_code=code))
        settings.requirements_customised = True
        db.add(settings)
        db.flush()
    db.execute(sa.delete(TrainingRequirement).where(TrainingRequirement.org_id == org_id,
                                                    TrainingRequirement.job_role == job_role))
    for code in wanted:
        db.add(TrainingRequirement(org_id=org_id, job_role=job_role, category_code=code))
    db.flush()
    audit.record(db, principal.actor, "courses.requirements.set", "organisation", org_id, org_id=org_id,
                 job_role=job_role, categories=wanted)
    _changed(db, org_id)
    return wanted


def reset_requirements(db: Session, principal: Principal, org_id: int) -> None:
    """Go back to the default requirements (Skills for Care guidance)."""
    require_training_role(db, principal, org_id)
    db.execute(sa.delete(TrainingRequirement).where(TrainingRequirement.org_id == org_id))
    settings = db.get(TrainingSettings, org_id)
    if settings is not None:
        settings.requirements_customised = False
    db.flush()
    audit.record(db, principal.actor, "courses.requirements.reset", "organisation", org_id, org_id=org_id)
    _changed(db, org_id)


def _changed(db: Session, org_id: int) -> None:
    from passport.courses.compliance import mark_stale

    mark_stale(db, org_id)


def load_default_requirements(db: Session) -> int:
    """Make ``courses_default_requirement`` match ``DEFAULT_REQUIREMENTS``; returns rows changed."""
    want = {(role, code) for role, codes in DEFAULT_REQUIREMENTS.items() for code in codes}
    have = set(db.execute(sa.select(DefaultTrainingRequirement.job_role,
                                    DefaultTrainingRequirement.category_code)).all())
    for role, code in have - want:
        db.execute(sa.delete(DefaultTrainingRequirement).where(DefaultTrainingRequirement.job_role == role,
                                                               DefaultTrainingRequirement.category_code == code))
    for role, code in sorted(want - have):
        db.add(DefaultTrainingRequirement(job_role=role, category_code=code))
    db.flush()
    return len(have ^ want)


def staff_subquery(org_ids=None):
    """(org_id, person_id, job_role) for every person with a current membership with a job role; one row per
    person and organisation (someone holding two job roles there counts under the first by name, as in the
    matrix), so requirements never count twice."""
    q = (sa.select(Membership.org_id, Membership.person_id, sa.func.min(Membership.job_role).label("job_role"))
         .where(Membership.job_role.is_not(None), current_filter()).group_by(Membership.org_id, Membership.person_id))
    if org_ids is not None:
        q = q.where(Membership.org_id.in_(list(org_ids)))
    return q.subquery("staff")


def is_required(staff, category_col):
    """SQL condition: the subject in ``category_col`` is required for the ``staff`` row's job role at its
    organisation (its own list when customised, else the defaults)."""
    customised = sa.select(TrainingSettings.org_id).where(TrainingSettings.requirements_customised.is_(True))
    return sa.or_(
        sa.and_(staff.c.org_id.not_in(customised), sa.exists().where(
            DefaultTrainingRequirement.job_role == staff.c.job_role,
            DefaultTrainingRequirement.category_code == category_col)),
        sa.and_(staff.c.org_id.in_(customised), sa.exists().where(
            TrainingRequirement.org_id == staff.c.org_id, TrainingRequirement.job_role == staff.c.job_role,
            TrainingRequirement.category_code == category_col)))


def best_records(expiring_by: date):
    """Non-superseded records that expire by ``expiring_by`` and are the best (latest-expiring; a record that
    never expires beats all) of their person and subject: (id, person_id, category_code, expires_on)."""
    tr, sup, better, sup2 = (aliased(TrainingRecord) for _ in range(4))
    return (sa.select(tr.id, tr.person_id, tr.category_code, tr.expires_on)
            .where(tr.expires_on <= expiring_by, ~sa.exists().where(sup.supersedes_id == tr.id),
                   ~sa.exists().where(better.person_id == tr.person_id, better.category_code == tr.category_code,
                                      sa.or_(better.expires_on.is_(None), better.expires_on > tr.expires_on,
                                             sa.and_(better.expires_on == tr.expires_on, better.id > tr.id)),
                                      ~sa.exists().where(sup2.supersedes_id == better.id)))
            .subquery("best"))


def required_pairs(org_ids=None):
    """A set-based selectable of (org_id, person_id, category_code): every subject every current member
    must hold, from the organisation's own list or the defaults. Used by the scheme summary and reminders."""
    staff = staff_subquery(org_ids)
    customised = sa.select(TrainingSettings.org_id).where(TrainingSettings.requirements_customised.is_(True))
    own = (sa.select(staff.c.org_id, staff.c.person_id, TrainingRequirement.category_code)
           .join(TrainingRequirement, sa.and_(TrainingRequirement.org_id == staff.c.org_id,
                                              TrainingRequirement.job_role == staff.c.job_role)))
    defaults = (sa.select(staff.c.org_id, staff.c.person_id, DefaultTrainingRequirement.category_code)
                .join(DefaultTrainingRequirement, DefaultTrainingRequirement.job_role == staff.c.job_role)
                .where(staff.c.org_id.not_in(customised)))
    return sa.union_all(own, defaults).subquery("req")  # disjoint: an organisation uses one list or the other


# --- expiry: rolling or a fixed renewal date ------------------------------------------------------


def set_renewal_rule(db: Session, principal: Principal, org_id: int, category_code: int, job_role: str,
                     month: int | None, day: int | None) -> TrainingRenewalRule | None:
    """Renew a subject on a fixed date each year (month and day), or go back to rolling (None)."""
    require_training_role(db, principal, org_id)
    if db.get(TrainingCategory, category_code) is None:
        raise ValidationError("Unknown training subject.", {"category_code": "Choose a subject from the list."})
    job_role = job_role or ""
    if job_role and job_role not in JOB_ROLE_LABELS:
        raise ValidationError("Unknown job role.", {"job_role": "Choose a job role from the list."})
    row = db.scalar(sa.select(TrainingRenewalRule).where(
        TrainingRenewalRule.org_id == org_id, TrainingRenewalRule.category_code == category_code,
        TrainingRenewalRule.job_role == job_role))
    if month is None:
        if row is not None:
            db.delete(row)
            db.flush()
        audit.record(db, principal.actor, "courses.renewal_rule.clear", "organisation", org_id, org_id=org_id,
                     category=category_code, job_role=job_role)
        return None
    try:
        date(2024, int(month), int(day))  # a leap year, so 29 February is allowed
    except (TypeError, ValueError):
        raise ValidationError("That is not a real date.", {"renew_day": "Enter a real day and month, like 31 3."}) from None
    row = row or TrainingRenewalRule(org_id=org_id, category_code=category_code, job_role=job_role)
    row.renew_month, row.renew_day = int(month), int(day)
    db.add(row)
    db.flush()
    audit.record(db, principal.actor, "courses.renewal_rule.set", "organisation", org_id, org_id=org_id,
                 category=category_code, job_role=job_role, month=row.renew_month, day=row.renew_day)
    return row


def renewal_rules(db: Session, org_id: int) -> list[TrainingRenewalRule]:
    return list(db.scalars(sa.select(TrainingRenewalRule).where(TrainingRenewalRule.org_id == org_id)
                           .order_by(TrainingRenewalRule.category_code, TrainingRenewalRule.job_role)))


def fixed_date(rolling: date, completed: date, month: int, day: int) -> date:
    """The renewal date in the year the rolling period ends (so everyone renews together), never on or
    before the completion date."""
    year = rolling.year
    while True:
        fixed = date(year, month, min(day, calendar.monthrange(year, month)[1]))
        if fixed > completed:
            return fixed
        year += 1


def expiry_for(db: Session, org_id: int, person_id: int, category_code: int, completed_on: date,
               months: int | None = None, job_role: str | None = None) -> tuple[date | None, bool]:
    """(expires_on, no_expiry) for new training: ``months`` when the course sets its own validity, else the
    subject's refresh period for the organisation and job role; moved to the fixed renewal date if one is set."""
    job_role = job_role if job_role is not None else job_role_of(db, person_id, org_id)
    if months is None:
        months = refresh_months_for(db, org_id, category_code, job_role)
    if not months:
        return None, True
    rolling = add_months(completed_on, months)
    rule = None
    for key in ((job_role or ""), ""):
        rule = rule or db.scalar(sa.select(TrainingRenewalRule).where(
            TrainingRenewalRule.org_id == org_id, TrainingRenewalRule.category_code == category_code,
            TrainingRenewalRule.job_role == key))
    if rule is None:
        return rolling, False
    return fixed_date(rolling, completed_on, rule.renew_month, rule.renew_day), False


def status_of(expires_on: date | None, never_expires: bool, window_days: int, on: date | None = None) -> str:
    """'green' in date, 'amber' due within the window, 'red' expired (missing is 'red' too)."""
    on = on or today()
    if never_expires:
        return "green"
    if expires_on is None or expires_on < on:
        return "red"
    return "amber" if (expires_on - on).days <= window_days else "green"
