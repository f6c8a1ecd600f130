"""The "delegation" reminder source: a competence's reassessment is due (30 days before it runs out) or
it has just run out (within the last 7 days). Each goes to the worker, the home's registered managers
and the registered professionals involved (who signed it off, and who delegated on it).

Keys name the competence, the notice and the recipient (``delegation:<id>:due30:<person id>``), so the
core reminder log's unique key guarantees no one is sent the same notice twice. Emails never carry the
resident reference.
"""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from passport.core.models import Person
from passport.delegation.models import LEVEL_LABELS, Competency, Delegation
from passport.delegation.rules import is_worker_at, managers_of
from passport.reminders import Reminder

DUE_DAYS = 30
EXPIRED_GRACE_DAYS = 7


def _fmt(d: date) -> str:
    return d.strftime("%-d %B %Y")


def due(db: Session, today: date) -> list[Reminder]:
    """Reminders due on ``today`` (the core sender drops those already sent)."""
    rows = db.scalars(sa.select(Competency).options(joinedload(Competency.task), joinedload(Competency.worker),
                                                    joinedload(Competency.granted_by), joinedload(Competency.organisation))
                      .where(Competency.ended_at.is_(None),
                             Competency.valid_until >= today - timedelta(days=EXPIRED_GRACE_DAYS),
                             Competency.valid_until <= today + timedelta(days=DUE_DAYS))
                      .order_by(Competency.valid_until, Competency.id))
    out: list[Reminder] = []
    for c in rows:
        if not is_worker_at(db, c.worker_id, c.org_id, today):
            continue  # they have left the home: nobody there to reassess
        notice = "due30" if c.valid_until >= today else "expired"
        worker, task, home = c.worker, c.task, c.organisation
        scope = " for a named resident" if c.resident_id else ""
        if notice == "due30":
            subject = f"Reassessment due by {_fmt(c.valid_until)}: {task.name} – {worker.full_name}"
            status = (f"{worker.full_name}'s competence for {task.name.lower()}{scope} "
                      f"({LEVEL_LABELS[c.level].lower()}) runs out on {_fmt(c.valid_until)}.")
        else:
            subject = f"Competence has run out: {task.name} – {worker.full_name}"
            status = (f"{worker.full_name}'s competence for {task.name.lower()}{scope} ran out on "
                      f"{_fmt(c.valid_until)}. Any delegation relying on it has lapsed.")
        professionals = {p.id: p for p in db.scalars(
            sa.select(Person).join(Delegation, Delegation.delegated_by_id == Person.id)
            .where(Delegation.competency_id == c.id, Delegation.ended_at.is_(None)))}
        if c.granted_by is not None:
            professionals[c.granted_by.id] = c.granted_by
        recipients = [("worker", worker)] + [("manager", m) for m in managers_of(db, c.org_id, today)] + \
            [("professional", p) for p in professionals.values()]
        seen: set[int] = set()
        for role, person in recipients:
            if person.id in seen or not person.email:
                continue
            seen.add(person.id)
            action = {
                "worker": "Please arrange a reassessment with the registered professional who delegates this task. "
                          "Until then, do not carry out the task unless a valid delegation says you may.",
                "manager": f"Please arrange a reassessment at {home.name} with the community nursing team.",
                "professional": "You signed off or delegated this task. Please reassess, or withdraw the delegation.",
            }[role]
            out.append(Reminder(
                key=f"delegation:{c.id}:{notice}:{person.id}", to_email=person.email, subject=subject,
                body=f"Hello {person.given_name},\n\n{status}\n\n{action}\n\nSign in to the care training passport "
                     f"to see the details (Delegated tasks, {home.name}).\n"))
    return out
