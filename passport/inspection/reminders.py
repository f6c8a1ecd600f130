"""The "supervision" reminder source: a supervision or appraisal is due within 14 days, or overdue. Each
goes to the worker and the home's registered managers. Keys name the home, the person, the kind, the due
date and the recipient (``supervision:<org>:<person>:<kind>:<due date>:<notice>:<recipient>``), so each
notice goes once per due date: recording a session moves the due date and starts afresh. Emails never
carry note content."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport.core.models import Organisation
from passport.delegation.rules import managers_of
from passport.inspection import supervision as sv
from passport.inspection.models import KIND_LABELS, SupervisionFrequency
from passport.reminders import Reminder


def due(db: Session, today: date) -> list[Reminder]:
    """Reminders due on ``today`` for every home with a supervision frequency (already-sent ones are
    dropped by the core sender)."""
    org_ids = list(db.scalars(sa.select(SupervisionFrequency.org_id).distinct()))
    out: list[Reminder] = []
    for org_id, rows in sv.status(db, org_ids, today).items():
        home = db.get(Organisation, org_id)
        managers = list(managers_of(db, org_id, today))
        for r in rows:
            for d in r.items.values():
                if d.state == "in_date":
                    continue
                notice = "overdue" if d.state == "overdue" else "due"
                kind = KIND_LABELS[d.kind].lower()
                when = d.due_on.strftime("%-d %B %Y")
                subject = (f"{KIND_LABELS[d.kind]} overdue since {when}: {r.person.full_name}" if notice == "overdue"
                           else f"{KIND_LABELS[d.kind]} due by {when}: {r.person.full_name}")
                for role, person in [("worker", r.person)] + [("manager", m) for m in managers]:
                    if not person.email or (role == "manager" and person.id == r.person.id):
                        continue
                    action = ("Please agree a date with your supervisor." if role == "worker" else
                              f"Please arrange it at {home.name}.")
                    out.append(Reminder(
                        key=f"supervision:{org_id}:{r.person.id}:{d.kind}:{d.due_on.isoformat()}:{notice}:{person.id}",
                        to_email=person.email, subject=subject,
                        body=f"Hello {person.given_name},\n\n{r.person.full_name}'s {kind} at {home.name} "
                             f"{'was due on' if notice == 'overdue' else 'is due by'} {when}.\n\n{action}\n\n"
                             "Sign in to the care training passport to see the details (Inspection).\n"))
    return out
