"""Delegation services: assessments and competencies, declines, delegations, withdrawal and expiry.

Every change is audited; granting, withdrawing or expiring a competence emits
``passport.signals.competence_changed`` (the certificates plugin re-issues the worker's passport).
Services flush, never commit. A refused attempt by someone who is not a registered professional raises
``RefusedAction``; the edge (view, API, CLI) rolls back, records the refusal with ``audit_refusal`` and
commits that entry, so the audit trail shows the attempt.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport import audit
from passport.core.access import Principal, has_role
from passport.core.models import Person
from passport.core.records import add_months
from passport.core.timeutil import uk_today
from passport.db import utcnow
from passport.delegation.declines import open_decline, record_decline, withdraw_decline  # noqa: F401
from passport.delegation.guards import (  # noqa: F401  (RefusedAction, audit_refusal: used by the edges)
    RefusedAction, audit_refusal, end_delegations, home_or_error, refusal, require_professional, resident_or_error,
    signal, task_or_error, worker_or_error,
)
from passport.delegation.models import (
    CONSENT_BY, LEVEL_LABELS, LEVEL_RANK, LEVELS, OUTCOMES, Assessment, Competency, Delegation, Resident, Task,
)
from passport.delegation.rules import missing_prerequisites, professional_authority
from passport.errors import Conflict, NotFound, PermissionDenied, ValidationError


# --- assessments and competencies --------------------------------------------------------------


def record_assessment(db: Session, principal: Principal, *, home_id: int, worker_id: int, task_code: str,
                      assessed_on: date, observations: int, outcome: str, level: str | None = None,
                      valid_until: date | None = None, resident_ref: str | None = None, evidence: str = "",
                      observation_notes: str = "", resident_id: int | None = None) -> Assessment:
    """Record a competency assessment. A competent outcome grants a competence at ``level`` until
    ``valid_until`` (default and maximum: the task's reassessment interval) and supersedes the worker's
    current competence for the same task (and resident); open delegations move to the new competence,
    or end when its level is too low. A "not yet competent" outcome ends any current competence."""
    authority = require_professional(db, principal, home_id, "delegation.assessment.record",
                                     worker_id=worker_id, task=str(task_code)[:60])
    home_or_error(db, home_id)
    today = uk_today()
    errors: dict[str, str] = {}
    task = task_or_error(db, task_code, home_id)
    worker = worker_or_error(db, worker_id, home_id, today)
    resident = (resident_or_error(db, home_id, resident_id, resident_ref, errors, True)
                if task.resident_specific else None)
    if not isinstance(assessed_on, date):
        errors["assessed_on"] = "Enter the date of the assessment."
    elif assessed_on > today:
        errors["assessed_on"] = "The assessment date cannot be in the future."
    if not isinstance(observations, int) or not 1 <= observations <= 50:
        errors["observations"] = "Enter how many times you observed the task (1 to 50)."
    if outcome not in OUTCOMES:
        errors["outcome"] = "Choose the outcome."
    if outcome == "competent":
        if level not in LEVELS:
            errors["level"] = "Choose the level of competence reached."
        if isinstance(assessed_on, date) and "assessed_on" not in errors:
            latest = add_months(assessed_on, task.reassess_months)
            valid_until = valid_until or latest
            if valid_until <= assessed_on:
                errors["valid_until"] = "The competence must be valid until a date after the assessment."
            elif valid_until > latest:
                errors["valid_until"] = (f"This task is reassessed every {task.reassess_months} months: "
                                         f"choose a date no later than {latest.strftime('%-d %B %Y')}.")
            elif valid_until < today:
                errors["valid_until"] = "That date has passed: the competence would already have run out."
    else:
        level, valid_until = None, None
    if worker.id == principal.person_id:
        errors["worker"] = "You cannot assess your own competence."
    if not errors and outcome == "competent":
        missing = missing_prerequisites(db, task, worker.id, today)
        if missing:
            errors["task"] = f"{worker.full_name} does not meet the prerequisites: " + "; ".join(missing) + "."
        elif level == "safe_unsupervised":
            since = add_months(assessed_on, -task.reassess_months)
            done = db.scalar(sa.select(sa.func.coalesce(sa.func.sum(Assessment.observations), 0)).where(
                Assessment.worker_id == worker.id, Assessment.task_id == task.id, Assessment.assessed_on > since,
                Assessment.outcome == "competent",
                Assessment.resident_id.is_(None) if resident is None else Assessment.resident_id == resident.id))
            if done + observations < task.observations_required:
                errors["observations"] = (
                    f"Safe unsupervised needs {task.observations_required} observed practices; "
                    f"{done + observations} recorded in the last {task.reassess_months} months. Record this "
                    "assessment as observed or supervised, and reassess later.")
    if errors:
        raise ValidationError("The assessment was not saved: " + "; ".join(errors.values()), errors)
    a = Assessment(task_id=task.id, worker_id=worker.id, org_id=home_id, assessor_id=principal.person_id,
                   assessor_org_id=authority.org_id, resident_id=resident.id if resident else None,
                   assessed_on=assessed_on,
                   observations=observations, observation_notes=(observation_notes or "")[:4000], outcome=outcome,
                   level=level, valid_until=valid_until, evidence=(evidence or "")[:4000])
    db.add(a)
    db.flush()
    actor = principal.actor
    audit.record(db, actor, "delegation.assessment.record", "delegation_assessment", a.id, org_id=home_id,
                 worker_id=worker.id, task=task.code, outcome=outcome, level=level,
                 valid_until=valid_until, assessor_org_id=authority.org_id)
    current = list(db.scalars(sa.select(Competency).where(
        Competency.worker_id == worker.id, Competency.task_id == task.id, Competency.ended_at.is_(None),
        Competency.resident_id.is_(None) if resident is None else Competency.resident_id == resident.id)
        .with_for_update()))
    new = None
    if outcome == "competent":
        new = Competency(assessment_id=a.id, task_id=task.id, worker_id=worker.id, org_id=home_id,
                         resident_id=resident.id if resident else None, level=level, valid_from=assessed_on,
                         valid_until=valid_until,
                         granted_by_id=principal.person_id, registration_confirmation_id=authority.confirmation_id)
        db.add(new)
        db.flush()
        audit.record(db, actor, "delegation.competency.grant", "delegation_competency", new.id, org_id=home_id,
                     worker_id=worker.id, task=task.code, level=level, valid_until=valid_until,
                     registration_confirmation_id=authority.confirmation_id)
    for old in current:
        old.ended_at, old.end_reason, old.ended_by_id = utcnow(), "superseded", principal.person_id
        old.superseded_by_id = new.id if new else None
        old.end_note = "Reassessed" if new else "Reassessed: not yet competent"
        audit.record(db, actor, "delegation.competency.supersede", "delegation_competency", old.id, org_id=old.org_id,
                     worker_id=worker.id, task=task.code, superseded_by=new.id if new else None)
        if new is not None and LEVEL_RANK[new.level] >= LEVEL_RANK[task.min_level]:
            moved = list(db.scalars(sa.select(Delegation).where(Delegation.competency_id == old.id,
                                                                Delegation.ended_at.is_(None))))
            for d in moved:
                d.competency_id = new.id
                audit.record(db, actor, "delegation.delegation.reassessed", "delegation", d.id, org_id=d.org_id,
                             competency_id=new.id)
        else:
            end_delegations(db, actor, Delegation.competency_id == old.id, "competence_ended",
                             "The competence behind it was reassessed")
    db.flush()
    if new is not None:
        signal(db, actor, new, "granted")
    elif current:
        signal(db, actor, current[0], "withdrawn")
    return a


def acknowledge_assessment(db: Session, principal: Principal, assessment_id: int) -> Assessment:
    """The worker confirms they have read the assessment and understand what they may do."""
    a = db.get(Assessment, assessment_id)
    if a is None:
        raise NotFound("No such assessment.")
    if principal.person_id != a.worker_id or principal.token_org_id is not None:
        raise PermissionDenied("Only the worker who was assessed can acknowledge the assessment.")
    if a.worker_acknowledged_at is None:
        a.worker_acknowledged_at = utcnow()
        db.flush()
        audit.record(db, principal.actor, "delegation.assessment.acknowledge", "delegation_assessment", a.id,
                     org_id=a.org_id)
    return a


def withdraw_competency(db: Session, principal: Principal, competency_id: int, reason: str) -> Competency:
    """A registered professional withdraws a competence (with a reason); delegations on it end."""
    c = db.scalar(sa.select(Competency).where(Competency.id == competency_id).with_for_update())
    if c is None:
        raise NotFound("No such competence.")
    require_professional(db, principal, c.org_id, "delegation.competency.withdraw", competency_id=c.id)
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError("Say why the competence is withdrawn.", {"reason": "Enter the reason."})
    if c.ended_at is not None:
        raise Conflict("This competence has already ended.")
    c.ended_at, c.end_reason, c.ended_by_id, c.end_note = utcnow(), "withdrawn", principal.person_id, reason[:2000]
    db.flush()
    audit.record(db, principal.actor, "delegation.competency.withdraw", "delegation_competency", c.id,
                 org_id=c.org_id, worker_id=c.worker_id, task=c.task.code, reason=reason[:500])
    end_delegations(db, principal.actor, Delegation.competency_id == c.id, "competence_ended",
                     "Competence withdrawn: " + reason[:200])
    signal(db, principal.actor, c, "withdrawn")
    return c


# --- delegations -------------------------------------------------------------------------------


def best_competency(db: Session, task: Task, worker_id: int, resident: Resident | None, on: date,
                    lock: bool = False) -> Competency | None:
    """The worker's strongest current, in-date competence for the task (for the resident, if the task
    needs resident-specific sign-off)."""
    q = sa.select(Competency).where(
        Competency.worker_id == worker_id, Competency.task_id == task.id, Competency.ended_at.is_(None),
        Competency.valid_from <= on, Competency.valid_until >= on)
    if task.resident_specific:
        q = q.where(Competency.resident_id == (resident.id if resident else None))
    if lock:
        q = q.with_for_update()
    rows = list(db.scalars(q))
    rows.sort(key=lambda c: (LEVEL_RANK[c.level], c.valid_until), reverse=True)
    return rows[0] if rows else None


def delegation_blockers(db: Session, task: Task, worker: Person, home_id: int, resident: Resident | None, on: date
                        ) -> tuple[list[str], Competency | None]:
    """Why ``worker`` may not be delegated ``task`` for ``resident`` now (empty list = they may)."""
    reasons: list[str] = []
    c = best_competency(db, task, worker.id, resident, on)
    if c is None:
        latest = db.scalar(sa.select(Competency).where(
            Competency.worker_id == worker.id, Competency.task_id == task.id, Competency.ended_at.is_(None),
            Competency.resident_id == (resident.id if resident else None) if task.resident_specific else sa.true())
            .order_by(Competency.valid_until.desc()).limit(1))
        if latest is not None and latest.valid_until < on:
            reasons.append(f"{worker.full_name}'s competence ran out on {latest.valid_until.strftime('%-d %B %Y')}: "
                           "reassess them first.")
        elif task.resident_specific:
            reasons.append(f"{worker.full_name} has no in-date competence signed off for this task for "
                           f"{resident.display if resident else 'this resident'}.")
        else:
            reasons.append(f"{worker.full_name} has no in-date competence for this task.")
    elif LEVEL_RANK[c.level] < LEVEL_RANK[task.min_level]:
        reasons.append(f"{worker.full_name} is competent at the {LEVEL_LABELS[c.level].lower()} level; this task "
                       f"needs {LEVEL_LABELS[task.min_level].lower()} before it can be delegated.")
    missing = missing_prerequisites(db, task, worker.id, on)
    if missing:
        reasons.append("Prerequisites not met: " + "; ".join(missing) + ".")
    if open_decline(db, task.id, worker.id, resident.id if resident else None) is not None:
        reasons.append(f"{worker.full_name} has declined this task.")
    return reasons, c


def create_delegation(db: Session, principal: Principal, *, home_id: int, worker_id: int, task_code: str,
                      start_date: date, review_date: date, instructions_ref: str, consent_recorded: bool,
                      consent_by: str, notes: str = "", resident_id: int | None = None,
                      resident_ref: str | None = None) -> Delegation:
    """Delegate a task to a worker for a resident. Refused, with the reasons, unless the worker is
    competent at the task's level and in date, meets the prerequisites, has resident-specific sign-off
    where the task needs it and has not declined; consent and the written instructions are recorded. The
    resident is picked from the home's register by ``resident_id`` (``resident_ref`` must match exactly
    one entry's label or local id)."""
    authority = require_professional(db, principal, home_id, "delegation.delegation.create",
                                     worker_id=worker_id, task=str(task_code)[:60])
    home_or_error(db, home_id)
    today = uk_today()
    errors: dict[str, str] = {}
    task = task_or_error(db, task_code, home_id)
    worker = worker_or_error(db, worker_id, home_id, today)
    resident = resident_or_error(db, home_id, resident_id, resident_ref, errors, True)
    if not isinstance(start_date, date):
        errors["start_date"] = "Enter the start date."
    elif start_date > today:
        errors["start_date"] = "The start date cannot be in the future."
    if not isinstance(review_date, date):
        errors["review_date"] = "Enter the review date."
    elif isinstance(start_date, date) and review_date < start_date:
        errors["review_date"] = "The review date must be on or after the start date."
    elif review_date < today:
        errors["review_date"] = "The review date has already passed."
    instructions = " ".join((instructions_ref or "").split())
    if not instructions:
        errors["instructions_ref"] = "Enter the reference of the written instructions (care plan or letter)."
    elif len(instructions) > 200:
        errors["instructions_ref"] = "The instructions reference must be 200 characters or fewer."
    if consent_recorded is not True:
        errors["consent_recorded"] = "Confirm that consent to the delegation has been recorded."
    if consent_by not in CONSENT_BY:
        errors["consent_by"] = "Say who gave consent."
    if worker.id == principal.person_id:
        errors["worker"] = "You cannot delegate a task to yourself."
    if resident is not None and not resident.active:
        errors["resident"] = f"{resident.display} is archived in the register: restore them first."
    if errors:
        raise ValidationError("The delegation was not saved: " + "; ".join(errors.values()), errors)
    reasons, _c = delegation_blockers(db, task, worker, home_id, resident, today)
    if reasons:
        raise ValidationError("The task cannot be delegated: " + " ".join(reasons), {"worker": " ".join(reasons)})
    competency = best_competency(db, task, worker.id, resident, today, lock=True)  # a racing withdrawal waits
    if competency is None:
        raise Conflict("The competence behind this delegation has just ended. Check and try again.")
    if start_date < competency.valid_from:
        raise ValidationError("The delegation cannot start before the competence was granted.",
                              {"start_date": "Start on or after " + competency.valid_from.strftime("%-d %B %Y") + "."})
    existing = db.scalar(sa.select(Delegation).where(
        Delegation.task_id == task.id, Delegation.worker_id == worker.id, Delegation.org_id == home_id,
        Delegation.resident_id == resident.id, Delegation.ended_at.is_(None)).with_for_update())
    if existing is not None:
        if is_open(db, existing, today):
            raise Conflict(f"{task.name} is already delegated to {worker.full_name} for {resident.display}.")
        end_delegations(db, principal.actor, Delegation.id == existing.id, "lapsed", "Competence ran out")
    d = Delegation(task_id=task.id, worker_id=worker.id, org_id=home_id, resident_id=resident.id,
                   delegated_by_id=principal.person_id, delegator_org_id=authority.org_id,
                   competency_id=competency.id, registration_confirmation_id=authority.confirmation_id,
                   start_date=start_date, review_date=review_date,
                   instructions_ref=instructions, consent_recorded=True, consent_by=consent_by,
                   notes=(notes or "")[:2000])
    try:
        with db.begin_nested():
            db.add(d)
    except sa.exc.IntegrityError:  # a concurrent request opened the same delegation first
        raise Conflict(f"{task.name} is already delegated to {worker.full_name} for {resident.display}.") from None
    audit.record(db, principal.actor, "delegation.delegation.create", "delegation", d.id, org_id=home_id,
                 worker_id=worker.id, task=task.code, resident_id=resident.id, competency_id=competency.id,
                 delegator_org_id=authority.org_id, review_date=review_date,
                 registration_confirmation_id=authority.confirmation_id)
    return d


def is_open(db: Session, d: Delegation, on: date, at: datetime | None = None) -> bool:
    """True while the delegation counts: not ended, started, and its competence in date and not ended."""
    at = at or utcnow()
    c = d.competency
    return ((d.ended_at is None or d.ended_at > at) and d.start_date <= on and c.valid_from <= on
            and c.valid_until >= on and (c.ended_at is None or c.ended_at > at))


def withdraw_delegation(db: Session, principal: Principal, delegation_id: int, reason: str) -> Delegation:
    """End a delegation with a reason: a registered professional for the home, or its registered manager."""
    d = db.scalar(sa.select(Delegation).where(Delegation.id == delegation_id).with_for_update())
    if d is None:
        raise NotFound("No such delegation.")
    if not (professional_authority(db, principal, d.org_id)
            or has_role(db, principal, "registered_manager", d.org_id)):
        code, message = refusal(db, principal, d.org_id)
        if code == "forbidden":
            code, message = "forbidden", ("Only a registered professional for this home, or its registered "
                                          "manager, can withdraw a delegation.")
        raise RefusedAction(message, "delegation.delegation.withdraw", d.org_id, {"delegation_id": d.id}, code)
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError("Say why the delegation is withdrawn.", {"reason": "Enter the reason."})
    if d.ended_at is not None:
        raise Conflict("This delegation has already ended.")
    end_delegations(db, principal.actor, Delegation.id == d.id, "withdrawn", reason[:2000])
    return d


# --- time --------------------------------------------------------------------------------------


def expire_due(db: Session, today: date | None = None, actor: audit.Actor | None = None) -> dict:
    """Record every competence that ran out before ``today`` (once each: the conditional update is the
    claim), emit ``competence_changed`` "expired", and record its open delegations as lapsed."""
    today = today or uk_today()
    actor = actor or audit.Actor.system("delegation expiry")
    ids = list(db.scalars(sa.select(Competency.id).where(
        Competency.ended_at.is_(None), Competency.expiry_recorded_at.is_(None), Competency.valid_until < today)
        .order_by(Competency.id)))
    expired = lapsed = 0
    for cid in ids:
        claimed = db.execute(sa.update(Competency).where(Competency.id == cid,
                                                         Competency.expiry_recorded_at.is_(None))
                             .values(expiry_recorded_at=utcnow())).rowcount
        if not claimed:
            continue
        c = db.get(Competency, cid)
        audit.record(db, actor, "delegation.competency.expire", "delegation_competency", c.id, org_id=c.org_id,
                     worker_id=c.worker_id, task=c.task.code, valid_until=c.valid_until)
        lapsed += end_delegations(db, actor, Delegation.competency_id == c.id, "lapsed",
                                   "The competence behind it expired")
        signal(db, actor, c, "expired")
        expired += 1
    return {"expired": expired, "lapsed": lapsed}


# --- for the certificates plugin ----------------------------------------------------------------


def current_competencies_for_passport(db: Session, person_id: int, on: date | None = None
                                      ) -> list[tuple[str, str, date]]:
    """(task_code, level, valid_until) for the person's current, in-date competencies, one per task, at
    most 8, most relevant first (highest level, then longest valid). Resident references never appear."""
    on = on or uk_today()
    rows = db.execute(sa.select(Task.code, Competency.level, Competency.valid_until).join(
        Task, Task.id == Competency.task_id).where(
        Competency.worker_id == person_id, Competency.ended_at.is_(None), Competency.valid_from <= on,
        Competency.valid_until >= on)).all()
    best: dict[str, tuple[str, str, date]] = {}
    for code, level, until in rows:
        cur = best.get(code)
        if cur is None or (LEVEL_RANK[level], until) > (LEVEL_RANK[cur[1]], cur[2]):
            best[code] = (code, level, until)
    ranked = sorted(best.values(), key=lambda r: (-LEVEL_RANK[r[1]], -r[2].toordinal(), r[0]))
    return ranked[:8]
