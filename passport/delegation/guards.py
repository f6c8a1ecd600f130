"""Shared guards for delegation services: the registered-professional check (and its audited refusal),
input lookups that raise field errors, ending delegations, and the competence signal."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport import audit
from passport.core.access import Principal
from passport.core.models import Organisation, Person
from passport.core.registration import registration_standing
from passport.db import utcnow
from passport.delegation.catalogue import get_task, task_usable_at
from passport.delegation import residents
from passport.delegation.models import Competency, Delegation, Resident, Task
from passport.delegation.rules import HOME_KINDS, Authority, is_worker_at, professional_authority, professional_role
from passport.errors import NotFound, PermissionDenied, ValidationError
from passport.signals import competence_changed


class RefusedAction(PermissionDenied):
    """A clinical action refused because the actor is not a registered professional for the home, or
    their registration confirmation is not current. ``code`` is the reason code the API returns.
    Carries what the edge needs to audit the attempt after rolling back."""

    def __init__(self, message: str, action: str, org_id: int | None, details: dict, code: str = "forbidden"):
        super().__init__(message)
        self.action, self.org_id, self.details, self.code = action, org_id, details, code


def audit_refusal(db: Session, actor: audit.Actor, exc: RefusedAction) -> None:
    """Record a refused attempt (call after rolling back the refused transaction; the edge commits)."""
    audit.record(db, actor, exc.action + ".refused", "organisation", exc.org_id or "", org_id=exc.org_id,
                 reason=exc.message, reason_code=exc.code, **exc.details)


NOT_PROFESSIONAL = ("Only a registered professional (with an NMC, HCPC, GMC or GPhC registration on their record) "
                    "who holds the registered professional role for this home can do that.")


def refusal(db: Session, principal: Principal, home_id: int) -> tuple[str, str] | None:
    """Why the principal may not act clinically for the home, as (reason code, plain English), or None.
    The one explanation used by pages (before showing a form), services, the API and the CLI."""
    if professional_authority(db, principal, home_id) is not None:
        return None
    if principal is None or professional_role(db, principal, home_id) is None:
        return "forbidden", NOT_PROFESSIONAL
    standing = registration_standing(db, principal.person)
    return standing.code, standing.message(yours=True)


def require_professional(db: Session, principal: Principal, home_id: int, action: str, **details) -> Authority:
    """The principal's authority to act clinically for the home, or RefusedAction (403, audited)."""
    authority = professional_authority(db, principal, home_id)
    if authority is None:
        code, message = refusal(db, principal, home_id)
        raise RefusedAction(message, action, home_id, details, code)
    return authority


def home_or_error(db: Session, home_id: int) -> Organisation:
    home = db.get(Organisation, home_id)
    if home is None:
        raise NotFound("No such organisation.")
    if home.kind not in HOME_KINDS:
        raise ValidationError("Tasks are delegated to staff of a care home or home care service.",
                              {"org": "Choose a care home or home care service."})
    return home


def worker_or_error(db: Session, worker_id: int, home_id: int, on: date) -> Person:
    person = db.get(Person, worker_id) if isinstance(worker_id, int) else None
    if person is None:
        raise ValidationError("Unknown worker.", {"worker": "Choose a worker from the list."})
    if not is_worker_at(db, worker_id, home_id, on):
        raise ValidationError(f"{person.full_name} does not work at this home.",
                              {"worker": "Choose a worker who works at this home."})
    return person


def task_or_error(db: Session, code: str, home_id: int) -> Task:
    try:
        task = get_task(db, code or "")
    except NotFound:
        raise ValidationError("Unknown task.", {"task": "Choose a task from the list."}) from None
    if not task.active or not task_usable_at(db, task, home_id):
        raise ValidationError("That task is not available at this home.", {"task": "Choose a task from the list."})
    return task


def resident_or_error(db: Session, home_id: int, resident_id, resident_ref, errors: dict,
                      required: bool) -> Resident | None:
    """The register entry meant by ``resident_id`` (matched exactly) or, for older callers, by a reference
    that matches exactly one entry's label or local id (case, spaces and dashes aside). Field errors go in
    ``errors["resident"]``."""
    try:
        return residents.resolve(db, home_id, resident_id=resident_id, search_text=resident_ref,
                                 required=required, partial=False)
    except ValidationError as exc:
        errors.update(exc.fields)
        return None


def signal(db: Session, actor: audit.Actor, c: Competency, change: str) -> None:
    competence_changed.send(c.worker_id, db=db, actor=actor, task_code=c.task.code, change=change)


def end_delegations(db: Session, actor: audit.Actor, where, reason: str, note: str) -> int:
    """End open delegations matching ``where`` (a SQL condition) with ``reason``; audited one by one."""
    rows = list(db.scalars(sa.select(Delegation).where(Delegation.ended_at.is_(None), where)))
    for d in rows:
        d.ended_at, d.end_reason, d.ended_by_id, d.end_note = utcnow(), reason, actor.person_id, note
        audit.record(db, actor, f"delegation.delegation.{reason}", "delegation", d.id, org_id=d.org_id,
                     task=d.task.code, worker_id=d.worker_id, note=note)
    db.flush()
    return len(rows)
