"""Demo data: supervision and appraisal at The Oaks -- frequencies for care roles, a year of sessions
(some people overdue, a few never supervised), the demo worker's last session with an open action, and
the home's rota check settings."""
from __future__ import annotations

from datetime import timedelta

from passport.core.access import today
from passport.inspection.models import (
    RotaSettings, SupervisionAction, SupervisionFrequency, SupervisionSession,
)

TOPIC_SETS = [["wellbeing", "practice"], ["training", "goals"], ["safeguarding", "practice", "wellbeing"],
              ["incidents", "policies"], ["feedback", "training"]]


def load(db, ctx) -> None:
    oaks = ctx.orgs["oaks"]
    for role in ("care_worker", "senior_care_worker"):
        db.add(SupervisionFrequency(org_id=oaks.id, job_role=role, kind="supervision", every_weeks=8))
        db.add(SupervisionFrequency(org_id=oaks.id, job_role=role, kind="appraisal", every_weeks=52))
    db.add(RotaSettings(org_id=oaks.id))
    manager, assessor = ctx.people["oaks_manager"], ctx.people["oaks_assessor"]
    rng, on = ctx.rng, today()
    workers = ctx.workers["oaks"]
    for n, w in enumerate(workers[:12]):
        supervisor = manager if n % 3 else assessor
        # most recent supervision between 2 and 14 weeks ago: about a third are overdue
        last = on - timedelta(days=rng.randint(14, 98))
        for k, held in enumerate((last - timedelta(weeks=8), last)):
            if held < w.memberships[0].start_date:
                continue
            s = SupervisionSession(org_id=oaks.id, worker_id=w.id, supervisor_id=supervisor.id, kind="supervision",
                                   held_on=held, topics=",".join(TOPIC_SETS[(n + k) % len(TOPIC_SETS)]),
                                   notes="Talked through the last few weeks on the unit; no concerns raised.")
            db.add(s)
            db.flush()
            if n == 0 and k == 1:
                db.add(SupervisionAction(session_id=s.id, text="Book the dementia awareness refresher."))
        if n % 2 == 0 and last - timedelta(days=200) >= w.memberships[0].start_date:
            db.add(SupervisionSession(org_id=oaks.id, worker_id=w.id, supervisor_id=manager.id, kind="appraisal",
                                      held_on=last - timedelta(days=200), topics="goals,training",
                                      notes="Yearly appraisal: goals agreed for the coming year."))
    db.flush()
