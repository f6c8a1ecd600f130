"""Declines: a worker says no to a task they do not feel competent or safe to do, without blame."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport import audit
from passport.core.access import Principal, has_role
from passport.core.timeutil import uk_today
from passport.db import utcnow
from passport.delegation.guards import (
    end_delegations, home_or_error, resident_or_error, task_or_error, worker_or_error,
)
from passport.delegation.models import Decline, Delegation
from passport.delegation.rules import professional_authority
from passport.errors import NotFound, PermissionDenied, ValidationError


def record_decline(db: Session, principal: Principal, *, home_id: int, worker_id: int, task_code: str,
                   resident_ref: str | None = None, reason: str = "", resident_id: int | None = None) -> Decline:
    """A worker declines a task (for one resident, or at all). Recorded without blame, by the worker
    themself or by a manager or professional on their behalf; their open delegations of it end."""
    home_or_error(db, home_id)
    is_self = principal.person_id == worker_id and principal.token_org_id is None
    if not (is_self or has_role(db, principal, ("registered_manager", "training_lead"), home_id)
            or professional_authority(db, principal, home_id)):
        raise PermissionDenied("Only the worker, their manager or a registered professional can record this.")
    errors: dict[str, str] = {}
    task = task_or_error(db, task_code, home_id)
    worker_or_error(db, worker_id, home_id, uk_today())
    resident = resident_or_error(db, home_id, resident_id, resident_ref, errors, False)
    if errors:
        raise ValidationError("The decline was not saved: " + "; ".join(errors.values()), errors)
    d = Decline(task_id=task.id, worker_id=worker_id, org_id=home_id, resident_id=resident.id if resident else None,
                reason=" ".join((reason or "").split())[:2000], recorded_by_id=principal.person_id)
    db.add(d)
    db.flush()
    audit.record(db, principal.actor, "delegation.decline.record", "delegation_decline", d.id, org_id=home_id,
                 worker_id=worker_id, task=task.code)
    where = sa.and_(Delegation.worker_id == worker_id, Delegation.task_id == task.id, Delegation.org_id == home_id)
    if resident:
        where = sa.and_(where, Delegation.resident_id == resident.id)
    end_delegations(db, principal.actor, where, "declined", "The worker declined the task")
    return d


def withdraw_decline(db: Session, principal: Principal, decline_id: int) -> Decline:
    """The worker changes their mind: the decline stops applying (history kept)."""
    d = db.get(Decline, decline_id)
    if d is None:
        raise NotFound("No such decline.")
    if principal.person_id != d.worker_id or principal.token_org_id is not None:
        raise PermissionDenied("Only the worker can withdraw their own decline.")
    if d.withdrawn_at is None:
        d.withdrawn_at = utcnow()
        db.flush()
        audit.record(db, principal.actor, "delegation.decline.withdraw", "delegation_decline", d.id, org_id=d.org_id)
    return d


def open_decline(db: Session, task_id: int, worker_id: int, resident_id: int | None) -> Decline | None:
    cond = Decline.resident_id.is_(None)
    if resident_id:
        cond = sa.or_(cond, Decline.resident_id == resident_id)
    return db.scalar(sa.select(Decline).where(Decline.task_id == task_id, Decline.worker_id == worker_id,
                                              Decline.withdrawn_at.is_(None), cond).limit(1))
