"""Supervision and appraisal: how often each job role has them at a home, recording a session, the worker's
reflection, actions carried to the next session, and who is due or overdue.

Who may read a session's notes (``can_read_notes``): the worker, the supervisor who recorded it, and a
registered manager of the home the session was held for. Nobody else -- not other staff of the home, not
an organisation admin, not a scheme admin, not an API token. Everyone else sees only dates and kinds.
The audit trail records every change by name of the fields changed; note text never goes into it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from passport import audit
from passport.core.access import Principal, has_role, orgs_with_role, today
from passport.core.catalogue_data import JOB_ROLES
from passport.core.models import Membership, Organisation, Person
from passport.errors import NotFound, PermissionDenied, ValidationError
from passport.db import utcnow
from passport.inspection.models import (
    KINDS, TOPIC_LABELS, SupervisionAction, SupervisionFrequency, SupervisionSession,
)

SETTINGS_ROLES = ("registered_manager", "org_admin")
SUPERVISOR_ROLES = ("registered_manager", "training_lead", "assessor")
OVERVIEW_ROLES = ("registered_manager", "org_admin", "training_lead")
DUE_SOON_DAYS = 14
DEFAULT_WEEKS = {"supervision": 8, "appraisal": 52}
JOB_ROLE_CODES = {code for code, _ in JOB_ROLES}
SESSION_NOT_FOUND = "No such session, or you cannot see it."
MAX_NOTES = 20_000


def _current(on: date):
    return sa.and_(Membership.start_date <= on, sa.or_(Membership.end_date.is_(None), Membership.end_date >= on))


# --- frequencies ---------------------------------------------------------------------------------


def frequencies(db: Session, org_ids) -> dict[tuple[int, str, str], int]:
    """(org_id, job_role, kind) -> weeks, for the given homes."""
    return {(o, r, k): w for o, r, k, w in db.execute(
        sa.select(SupervisionFrequency.org_id, SupervisionFrequency.job_role, SupervisionFrequency.kind,
                  SupervisionFrequency.every_weeks).where(SupervisionFrequency.org_id.in_(list(org_ids))))}


def set_frequency(db: Session, principal: Principal, org_id: int, job_role, kind, every_weeks) -> SupervisionFrequency | None:
    """Set how often ``job_role`` at the home has ``kind`` (weeks); empty weeks removes the rule. Audited."""
    if not has_role(db, principal, SETTINGS_ROLES, org_id):
        raise PermissionDenied("Only the home's registered manager or admin can set supervision frequencies.")
    errors = {}
    if job_role not in JOB_ROLE_CODES:
        errors["job_role"] = "Choose a job role from the list."
    if kind not in KINDS:
        errors["kind"] = "Choose supervision or appraisal."
    weeks = None
    if every_weeks not in (None, ""):
        try:
            weeks = int(every_weeks)
        except (TypeError, ValueError):
            weeks = 0
        if not 1 <= weeks <= 104:
            errors["every_weeks"] = "Enter a number of weeks from 1 to 104."
    if errors:
        raise ValidationError("Check the frequency.", errors)
    row = db.scalar(sa.select(SupervisionFrequency).where(
        SupervisionFrequency.org_id == org_id, SupervisionFrequency.job_role == job_role,
        SupervisionFrequency.kind == kind))
    old = row.every_weeks if row else None
    if weeks is None:
        if row is not None:
            db.delete(row)
    elif row is None:
        row = SupervisionFrequency(org_id=org_id, job_role=job_role, kind=kind, every_weeks=weeks)
        db.add(row)
    else:
        row.every_weeks, row.updated_at = weeks, utcnow()
    db.flush()
    audit.record(db, principal.actor, "supervision.frequency_set", "organisation", org_id, org_id=org_id,
                 job_role=job_role, kind=kind, every_weeks=weeks, was=old)
    return row if weeks is not None else None


# --- sessions ------------------------------------------------------------------------------------


def can_read_notes(db: Session, principal: Principal, s: SupervisionSession) -> bool:
    """The worker, the supervisor, or a registered manager of the session's home; never through a token."""
    if principal.token_org_id is not None:
        return False
    if principal.person_id in (s.worker_id, s.supervisor_id):
        return True
    return s.org_id in orgs_with_role(db, principal, "registered_manager")  # no scheme-admin shortcut


def get_session(db: Session, principal: Principal, session_id) -> SupervisionSession:
    """A session whose notes the principal may read, else NotFound (the id reveals nothing)."""
    s = db.get(SupervisionSession, session_id) if isinstance(session_id, int) and 0 < session_id < 2**63 else None
    if s is None or not can_read_notes(db, principal, s):
        raise NotFound(SESSION_NOT_FOUND)
    return s


def _clean_topics(topics) -> list[str]:
    topics = [t for t in (topics or []) if t]
    if any(t not in TOPIC_LABELS for t in topics):
        raise ValidationError("Choose topics from the list.", {"topics": "Choose topics from the list."})
    return sorted(set(topics), key=list(TOPIC_LABELS).index)


def _clean_text(value, name: str, label: str, limit: int = MAX_NOTES) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        raise ValidationError(f"{label} is too long.", {name: f"{label} must be {limit:,} characters or fewer."})
    return text


def open_actions(db: Session, worker_id: int, org_id: int) -> list[SupervisionAction]:
    """Actions agreed in the worker's earlier sessions at this home that are not yet closed."""
    return list(db.scalars(sa.select(SupervisionAction).join(SupervisionSession, SupervisionSession.id ==
                                                             SupervisionAction.session_id)
                           .where(SupervisionSession.worker_id == worker_id, SupervisionSession.org_id == org_id,
                                  SupervisionAction.done_at.is_(None))
                           .order_by(SupervisionSession.held_on, SupervisionAction.id)))


def record_session(db: Session, principal: Principal, org_id: int, worker_id, *, kind, held_on, topics=(),
                   notes="", actions=(), closed_actions=()) -> SupervisionSession:
    """Record a supervision or appraisal the principal held with a worker of the home. ``actions`` are the
    new actions agreed (one text each); ``closed_actions`` are ids of the worker's open actions reviewed
    and closed in this session. Open actions not closed carry on to the next session. Audited."""
    if principal.token_org_id is not None or org_id not in orgs_with_role(db, principal, SUPERVISOR_ROLES):
        raise PermissionDenied("Only a registered manager, training lead or assessor of this home can record "
                               "supervision.")
    errors = {}
    worker = db.get(Person, worker_id) if isinstance(worker_id, int) else None
    on = today()
    if worker is None or db.scalar(sa.select(Membership.id).where(
            Membership.person_id == worker.id, Membership.org_id == org_id, _current(on)).limit(1)) is None:
        errors["worker_id"] = "Choose someone who works at this home."
    elif worker.id == principal.person_id:
        errors["worker_id"] = "You cannot record your own supervision; your supervisor records it."
    if kind not in KINDS:
        errors["kind"] = "Choose supervision or appraisal."
    if not isinstance(held_on, date):
        errors["held_on"] = "Enter the date the session was held."
    elif held_on > on:
        errors["held_on"] = "The date cannot be in the future."
    elif held_on < on - timedelta(days=366):
        errors["held_on"] = "The date must be within the last year."
    if errors:
        raise ValidationError("Check the session details.", errors)
    topics = _clean_topics(topics)
    notes = _clean_text(notes, "notes", "Notes")
    new_actions = [_clean_text(a, "actions", "An action", 1000) for a in (actions or [])]
    s = SupervisionSession(org_id=org_id, worker_id=worker.id, supervisor_id=principal.person_id, kind=kind,
                           held_on=held_on, topics=",".join(topics), notes=notes)
    db.add(s)
    db.flush()
    closing = {a.id: a for a in open_actions(db, worker.id, org_id)}
    closed = []
    for aid in closed_actions or []:
        if aid in closing:
            closing[aid].done_at, closing[aid].closed_in_id = utcnow(), s.id
            closed.append(aid)
    for text in filter(None, new_actions):
        db.add(SupervisionAction(session_id=s.id, text=text))
    db.flush()
    audit.record(db, principal.actor, "supervision.recorded", "supervision_session", s.id, org_id=org_id,
                 worker_id=worker.id, kind=kind, held_on=held_on.isoformat(), topics=topics,
                 actions_added=len([a for a in new_actions if a]), actions_closed=closed)
    return s


def update_notes(db: Session, principal: Principal, session_id, *, topics=None, notes=None) -> SupervisionSession:
    """The supervisor corrects topics or notes. Audited with the names of the fields changed, not the text."""
    s = get_session(db, principal, session_id)
    if s.supervisor_id != principal.person_id:
        raise PermissionDenied("Only the supervisor who recorded the session can change its notes.")
    changed = []
    if topics is not None and ",".join(_clean_topics(topics)) != s.topics:
        s.topics = ",".join(_clean_topics(topics))
        changed.append("topics")
    if notes is not None and _clean_text(notes, "notes", "Notes") != s.notes:
        s.notes = _clean_text(notes, "notes", "Notes")
        changed.append("notes")
    if changed:
        s.updated_at = utcnow()
        db.flush()
        audit.record(db, principal.actor, "supervision.updated", "supervision_session", s.id, org_id=s.org_id,
                     fields=changed)
    return s


def add_reflection(db: Session, principal: Principal, session_id, text) -> SupervisionSession:
    """The worker adds (or replaces) their own reflection on a session. Audited without the text."""
    s = get_session(db, principal, session_id)
    if s.worker_id != principal.person_id:
        raise PermissionDenied("Only the person supervised can add their reflection.")
    text = _clean_text(text, "reflection", "Your reflection")
    if not text:
        raise ValidationError("Write your reflection.", {"reflection": "Write your reflection."})
    s.reflection, s.reflection_at, s.updated_at = text, utcnow(), utcnow()
    db.flush()
    audit.record(db, principal.actor, "supervision.reflection_added", "supervision_session", s.id, org_id=s.org_id)
    return s


def sessions_of(db: Session, principal: Principal) -> list[SupervisionSession]:
    """Sessions the principal took part in, as worker or supervisor, newest first."""
    return list(db.scalars(sa.select(SupervisionSession)
                           .where(sa.or_(SupervisionSession.worker_id == principal.person_id,
                                         SupervisionSession.supervisor_id == principal.person_id))
                           .options(selectinload(SupervisionSession.actions))
                           .order_by(SupervisionSession.held_on.desc(), SupervisionSession.id.desc())))


# --- due and overdue -----------------------------------------------------------------------------


@dataclass
class Due:
    kind: str
    every_weeks: int
    last_held: date | None
    due_on: date
    state: str  # overdue | due_soon | in_date


@dataclass
class StaffStatus:
    person: Person
    job_role: str | None
    started: date
    items: dict[str, Due] = field(default_factory=dict)

    @property
    def worst(self) -> str:
        states = [d.state for d in self.items.values()]
        return next((s for s in ("overdue", "due_soon", "in_date") if s in states), "none")


STATE_LABELS = {"overdue": "Overdue", "due_soon": "Due soon", "in_date": "In date", "none": "Not set"}


def state_of(due_on: date, on: date) -> str:
    if due_on < on:
        return "overdue"
    return "due_soon" if (due_on - on).days <= DUE_SOON_DAYS else "in_date"


def status(db: Session, org_ids, on: date | None = None, person_ids=None,
           names: dict | None = None) -> dict[int, list[StaffStatus]]:
    """Per home: every current member with a job role and, for each kind with a frequency for that role,
    when it was last held there and when it is next due (from their start date if never held). One
    statement whatever the number of people (it runs on the dashboard and the matrix). ``names``, when
    given, is filled with the homes' names."""
    on = on or today()
    org_ids = list(org_ids)
    members = (sa.select(Membership.org_id, Membership.person_id, sa.func.min(Membership.job_role).label("job_role"),
                         sa.func.min(Membership.start_date).label("started"))
               .where(Membership.org_id.in_(org_ids), Membership.job_role.is_not(None), _current(on))
               .group_by(Membership.org_id, Membership.person_id))
    if person_ids is not None:
        members = members.where(Membership.person_id.in_(list(person_ids)))
    members = members.subquery("members")
    last = (sa.select(SupervisionSession.org_id, SupervisionSession.worker_id, SupervisionSession.kind,
                      sa.func.max(SupervisionSession.held_on).label("held"))
            .where(SupervisionSession.org_id.in_(org_ids))
            .group_by(SupervisionSession.org_id, SupervisionSession.worker_id, SupervisionSession.kind)
            .subquery("last"))
    q = (sa.select(Person, members.c.org_id, members.c.job_role, members.c.started, SupervisionFrequency.kind,
                   SupervisionFrequency.every_weeks, last.c.held, Organisation.name)
         .join(members, members.c.person_id == Person.id)
         .join(Organisation, Organisation.id == members.c.org_id)
         .outerjoin(SupervisionFrequency, sa.and_(SupervisionFrequency.org_id == members.c.org_id,
                                                  SupervisionFrequency.job_role == members.c.job_role))
         .outerjoin(last, sa.and_(last.c.org_id == members.c.org_id, last.c.worker_id == Person.id,
                                  last.c.kind == SupervisionFrequency.kind))
         .order_by(Person.family_name, Person.given_name, Person.id, SupervisionFrequency.kind))
    out: dict[int, list[StaffStatus]] = {o: [] for o in org_ids}
    rows: dict[tuple[int, int], StaffStatus] = {}
    for person, org_id, job_role, started, kind, weeks, held, org_name in db.execute(q):
        if names is not None:
            names[org_id] = org_name
        row = rows.get((org_id, person.id))
        if row is None:
            row = rows[(org_id, person.id)] = StaffStatus(person, job_role, started)
            out[org_id].append(row)
        if kind is not None:
            due_on = (held or started) + timedelta(weeks=weeks)
            row.items[kind] = Due(kind, weeks, held, due_on, state_of(due_on, on))
    return out


def require_overview(db: Session, principal: Principal, org_id: int) -> Organisation:
    org = db.get(Organisation, org_id) if isinstance(org_id, int) else None
    if org is None or not has_role(db, principal, OVERVIEW_ROLES, org_id):
        raise PermissionDenied("Only the home's registered manager, training lead or admin can see supervision.")
    return org


def overview(db: Session, principal: Principal, org_id: int, on: date | None = None) -> dict:
    """The home's supervision page: staff with due dates (no notes), overdue first, and counts."""
    org = require_overview(db, principal, org_id)
    rows = status(db, [org_id], on)[org_id]
    order = {"overdue": 0, "due_soon": 1, "in_date": 2, "none": 3}
    rows.sort(key=lambda r: (order[r.worst], min((d.due_on for d in r.items.values()), default=date.max)))
    counts = {k: sum(1 for r in rows for d in r.items.values() if d.state == k) for k in ("overdue", "due_soon")}
    return {"org": org, "rows": rows, "counts": counts, "frequencies": frequencies(db, [org_id]), "on": on or today()}


def recent_sessions(db: Session, principal: Principal, org_id: int, limit: int = 50) -> list[SupervisionSession]:
    """Recent sessions at the home (for the overview: date, kind, people -- the template shows no notes)."""
    require_overview(db, principal, org_id)
    return list(db.scalars(sa.select(SupervisionSession).where(SupervisionSession.org_id == org_id)
                           .order_by(SupervisionSession.held_on.desc(), SupervisionSession.id.desc()).limit(limit)))
