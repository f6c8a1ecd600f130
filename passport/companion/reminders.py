"""The "induction" reminder source: overdue checklist items, to the worker (employee or agency worker with an
email address) once per due date, and a weekly summary to each home's registered managers."""
from __future__ import annotations

from collections import defaultdict
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport.core.models import Membership, Organisation, Person
from passport.core.timeutil import format_date
from passport.reminders import Reminder
from passport.companion.services import overdue_steps


def induction_reminders(db: Session, today: date):
    by_induction = defaultdict(list)
    for step, ind in overdue_steps(db, today):
        by_induction[ind].append(step)
    per_org = defaultdict(list)
    for ind, steps in by_induction.items():
        per_org[ind.org_id].append((ind, steps))
        if not ind.email:
            continue
        first_due = min(s.due_on for s in steps)
        lines = "\n".join(f"- {s.title} (due {format_date(s.due_on)})" for s in steps)
        yield Reminder(key=f"induction:{ind.id}:{first_due.isoformat()}", to_email=ind.email,
                       subject=f"Induction at {ind.organisation.name}: {len(steps)} item(s) overdue",
                       body=(f"Hello {ind.worker_name},\n\nThese parts of your induction at {ind.organisation.name} "
                             f"are overdue:\n\n{lines}\n\nAsk a senior member of staff on your next shift. "
                             "Items to be shown in person are confirmed by them.\n"))
    if not per_org:
        return
    week = today.isocalendar()
    managers = db.execute(sa.select(Membership.org_id, Person).join(Person, Person.id == Membership.person_id).where(
        Membership.org_id.in_(list(per_org)), Membership.role == "registered_manager", Person.email.is_not(None),
        Membership.start_date <= today, sa.or_(Membership.end_date.is_(None), Membership.end_date >= today))).all()
    for org_id, manager in managers:
        org = db.get(Organisation, org_id)
        lines = "\n".join(f"- {ind.worker_name}{' (agency)' if ind.kind == 'agency' else ''}: {len(steps)} item(s)"
                          for ind, steps in per_org[org_id])
        yield Reminder(key=f"induction-summary:{org_id}:{manager.id}:{week[0]}-{week[1]}", to_email=manager.email,
                       subject=f"Overdue induction items at {org.name}",
                       body=f"Hello {manager.given_name},\n\nThese inductions at {org.name} have overdue items:\n\n"
                            f"{lines}\n\nSee the Care home companion for details.\n")
