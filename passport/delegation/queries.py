"""Read side: who can do a task now, what a worker can do, the registers and what is expiring.

"Now" is decided at read time: a competence counts while ``valid_from <= day <= valid_until`` and it has
not ended, so a delegation lapses by itself the day its competence runs out, whether or not the expiry
command has run yet. Times are UTC; the day is the UK calendar day of the moment asked about.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from passport.core.models import Membership, Person
from passport.core.timeutil import to_uk
from passport.db import UTCDateTime, utcnow
from passport.delegation.models import (
    LEVEL_RANK, Assessment, Competency, Decline, Delegation, Resident, Task, resident_display,
)
from passport.delegation.residents import natural_key, resolve as resolve_resident

#: competences that run out within this many days are flagged where the nurse looks
EXPIRY_WARNING_DAYS = 30


@dataclass(frozen=True)
class Competent:
    person_id: int
    name: str
    level: str
    valid_until: date
    resident_ref: str | None  # the resident's label as shown, for a resident-specific sign-off
    competency_id: int
    delegation_id: int | None = None
    review_date: date | None = None
    resident_id: int | None = None
    #: days until the competence runs out when that is within EXPIRY_WARNING_DAYS, else None
    runs_out_in: int | None = None


def runs_out_in(valid_until: date, day: date, within: int = EXPIRY_WARNING_DAYS) -> int | None:
    """Days from ``day`` until ``valid_until`` when it is within ``within`` days (0 = last day), else None."""
    left = (valid_until - day).days
    return left if 0 <= left <= within else None


def uk_day(at: datetime) -> date:
    return to_uk(at).date()


def _current_worker(home_id: int, day: date):
    return sa.and_(Membership.org_id == home_id, Membership.role == "worker", Membership.start_date <= day,
                   sa.or_(Membership.end_date.is_(None), Membership.end_date >= day))


def _competency_counts(day: date, at: datetime):
    return sa.and_(Competency.valid_from <= day, Competency.valid_until >= day,
                   sa.or_(Competency.ended_at.is_(None), Competency.ended_at > at))


def _who_statement(with_resident: bool):
    """Built once per variant with bind parameters, so each call only binds values (SQLAlchemy caches the
    compiled SQL; psycopg prepares it on the server after a few calls)."""
    day, at, task_id, home_id = (sa.bindparam("day", type_=sa.Date), sa.bindparam("at", type_=UTCDateTime),
                                 sa.bindparam("task_id"), sa.bindparam("home_id"))
    resident = sa.bindparam("resident")
    declined = sa.exists().where(
        Decline.worker_id == Membership.person_id, Decline.task_id == task_id, Decline.declined_at <= at,
        sa.or_(Decline.withdrawn_at.is_(None), Decline.withdrawn_at > at),
        sa.or_(Decline.resident_id.is_(None), Decline.resident_id == resident) if with_resident
        else Decline.resident_id.is_(None))
    q = (sa.select(Person.id, Person.given_name, Person.family_name, Competency.level, Competency.valid_until,
                   Competency.resident_id, Resident.label, Resident.local_id, Competency.id,
                   Delegation.id if with_resident else sa.null(),
                   Delegation.review_date if with_resident else sa.null())
         .select_from(Membership)
         .join(Competency, sa.and_(Competency.worker_id == Membership.person_id, Competency.task_id == task_id,
                                   Competency.valid_until >= day))
         .join(Person, Person.id == Membership.person_id)
         .outerjoin(Resident, Resident.id == Competency.resident_id)
         .where(Membership.org_id == home_id, Membership.role == "worker", Membership.start_date <= day,
                sa.or_(Membership.end_date.is_(None), Membership.end_date >= day),
                Competency.valid_from <= day, sa.or_(Competency.ended_at.is_(None), Competency.ended_at > at),
                ~declined))
    if with_resident:
        q = q.join(Delegation, sa.and_(
            Delegation.competency_id == Competency.id, Delegation.org_id == home_id, Delegation.task_id == task_id,
            Delegation.resident_id == resident, Delegation.start_date <= day,
            sa.or_(Delegation.ended_at.is_(None), Delegation.ended_at > at)))
    return q


_WHO = {}


def who_can_do_it(db: Session, home_id: int, task: Task, resident: Resident | int | str | None = None,
                  at: datetime | None = None) -> list[Competent]:
    """Workers of the home who may do ``task`` at ``at`` (default now), strongest level first.

    Without a resident: everyone with an in-date competence who has not declined the task (for a
    resident-specific task each row names the resident it was signed off for). With a resident (a register
    entry, or its id: matched exactly; or a label or local id naming exactly one entry, else a
    ValidationError rather than an empty answer): only workers holding an open delegation of the task for
    that resident, on an in-date competence. Rows whose competence runs out within 30 days say so.
    One query: it starts from the home's memberships (index on org) and probes competences by
    (worker, task, valid_until) (index ix_delegation_competency_worker_task).
    """
    at = at or utcnow()
    if isinstance(resident, str):  # a label or local id: it must name exactly one resident of the register
        resident = resolve_resident(db, home_id, search_text=resident, partial=False)
    resident_id = resident.id if isinstance(resident, Resident) else resident
    key = resident_id is not None
    if key not in _WHO:
        _WHO[key] = _who_statement(key)
    day = uk_day(at)
    params = {"day": day, "at": at, "task_id": task.id, "home_id": home_id}
    if key:
        params["resident"] = resident_id
    rows = {}
    for pid, given, family, level, until, rid, label, local_id, cid, did, review in db.execute(_WHO[key], params):
        ref = resident_display(label, local_id) if rid is not None else None
        row = Competent(pid, f"{given} {family}", level, until, ref, cid, did, review, rid, runs_out_in(until, day))
        old = rows.get((pid, rid))
        if old is None or (LEVEL_RANK[level], until) > (LEVEL_RANK[old.level], old.valid_until):
            rows[(pid, rid)] = row
    return sorted(rows.values(), key=lambda r: (-LEVEL_RANK[r.level], r.name, r.resident_ref or ""))


def workers_at(db: Session, home_id: int, day: date) -> list[Person]:
    return list(db.scalars(sa.select(Person).join(Membership, Membership.person_id == Person.id)
                           .where(_current_worker(home_id, day)).distinct()
                           .order_by(Person.family_name, Person.given_name)))


def competency_status(c: Competency, day: date) -> str:
    if c.ended_at is not None:
        return "withdrawn" if c.end_reason == "withdrawn" else "superseded"
    if c.valid_until < day:
        return "expired"
    if c.valid_from > day:
        return "not_started"
    return "current"


def delegation_status(d: Delegation, day: date, at: datetime | None = None) -> str:
    """open | review_due | lapsed (competence ran out or ended) | withdrawn | declined | ended."""
    at = at or utcnow()
    if d.ended_at is not None and d.ended_at <= at:
        return {"withdrawn": "withdrawn", "declined": "declined"}.get(d.end_reason, "lapsed")
    c = d.competency
    if c.valid_until < day or (c.ended_at is not None and c.ended_at <= at):
        return "lapsed"
    if d.review_date < day:
        return "review_due"
    return "open"


def worker_summary(db: Session, person_id: int) -> dict:
    """Everything about one worker's delegated tasks, newest first."""
    opts = (joinedload(Competency.task), joinedload(Competency.granted_by), joinedload(Competency.resident))
    return {
        "competencies": list(db.scalars(sa.select(Competency).options(*opts).where(Competency.worker_id == person_id)
                                        .order_by(Competency.ended_at.is_not(None), Competency.valid_until.desc()))),
        "assessments": list(db.scalars(sa.select(Assessment).options(joinedload(Assessment.task),
                                                                     joinedload(Assessment.resident))
                                       .where(Assessment.worker_id == person_id)
                                       .order_by(Assessment.assessed_on.desc(), Assessment.id.desc()))),
        "delegations": list(db.scalars(sa.select(Delegation).options(joinedload(Delegation.task),
                                                                     joinedload(Delegation.resident))
                                       .where(Delegation.worker_id == person_id)
                                       .order_by(Delegation.ended_at.is_not(None), Delegation.created_at.desc()))),
        "declines": list(db.scalars(sa.select(Decline).options(joinedload(Decline.task), joinedload(Decline.resident))
                                    .where(Decline.worker_id == person_id).order_by(Decline.declined_at.desc()))),
    }


def competency_register(db: Session, home_id: int, day: date) -> list[Competency]:
    """In-date competences of the home's current workers, by worker then task."""
    return list(db.scalars(
        sa.select(Competency).options(joinedload(Competency.task), joinedload(Competency.worker),
                                      joinedload(Competency.resident))
        .join(Membership, Membership.person_id == Competency.worker_id).join(Person, Person.id == Competency.worker_id)
        .where(_current_worker(home_id, day), Competency.ended_at.is_(None), Competency.valid_from <= day,
               Competency.valid_until >= day).distinct()
        .order_by(Person.family_name, Person.given_name, Competency.task_id)))


def resident_register(db: Session, home_id: int, include_ended_days: int = 90,
                      resident_id: int | None = None) -> dict[Resident, list[Delegation]]:
    """Delegations at the home grouped by resident (by label): open ones, and those ended recently."""
    since = utcnow() - timedelta(days=include_ended_days)
    rows = db.scalars(
        sa.select(Delegation).options(joinedload(Delegation.task), joinedload(Delegation.worker),
                                      joinedload(Delegation.delegated_by), joinedload(Delegation.competency),
                                      joinedload(Delegation.resident))
        .join(Resident, Resident.id == Delegation.resident_id)
        .where(Delegation.org_id == home_id, sa.or_(Delegation.ended_at.is_(None), Delegation.ended_at >= since),
               sa.true() if resident_id is None else Delegation.resident_id == resident_id)
        .order_by(Resident.search_key, Resident.id, Delegation.ended_at.is_not(None), Delegation.task_id))
    out: dict[Resident, list[Delegation]] = {}
    for d in rows:
        out.setdefault(d.resident, []).append(d)
    return {r: out[r] for r in sorted(out, key=natural_key)}


def expiring(db: Session, home_id: int, day: date, days: int) -> list[Competency]:
    """Current competences of the home's workers that run out within ``days`` days of ``day``."""
    return list(db.scalars(
        sa.select(Competency).options(joinedload(Competency.task), joinedload(Competency.worker),
                                      joinedload(Competency.resident))
        .join(Membership, Membership.person_id == Competency.worker_id)
        .where(_current_worker(home_id, day), Competency.ended_at.is_(None), Competency.valid_from <= day,
               Competency.valid_until >= day, Competency.valid_until <= day + timedelta(days=days)).distinct()
        .order_by(Competency.valid_until, Competency.worker_id)))


def delegations_for_resident(db: Session, home_id: int, resident_id: int) -> list[Delegation]:
    return list(db.scalars(sa.select(Delegation).options(joinedload(Delegation.task), joinedload(Delegation.worker),
                                                         joinedload(Delegation.resident))
                           .where(Delegation.org_id == home_id, Delegation.resident_id == resident_id)
                           .order_by(Delegation.created_at.desc())))


#: plain-English words for competence and delegation states (pages and the review list)
STATUS_LABELS = {"open": "Active", "review_due": "Review due", "lapsed": "Lapsed", "withdrawn": "Withdrawn",
                "declined": "Declined", "current": "In date", "expired": "Expired", "superseded": "Replaced",
                "not_started": "Not started"}


def relying_on_confirmation(db: Session, confirmation_id: int) -> list[dict]:
    """Competences and delegations made on the strength of a registration confirmation (for review when
    it is withdrawn): the registration-confirmation reliance source of this plugin."""
    day = uk_day(utcnow())
    out = []
    for c in db.scalars(sa.select(Competency).options(joinedload(Competency.task), joinedload(Competency.worker),
                                                      joinedload(Competency.organisation),
                                                      joinedload(Competency.resident))
                        .where(Competency.registration_confirmation_id == confirmation_id).order_by(Competency.id)):
        status = competency_status(c, day)
        out.append({"kind": "competence", "id": c.id, "title": c.task.name, "task": c.task.code,
                    "worker": c.worker.full_name, "worker_id": c.worker_id, "home": c.organisation.name,
                    "org_id": c.org_id, "resident_ref": c.resident_ref, "since": c.valid_from,
                    "open": status == "current", "status": STATUS_LABELS[status],
                    "endpoint": "delegation.worker", "args": {"home_id": c.org_id, "person_id": c.worker_id}})
    for d in db.scalars(sa.select(Delegation).options(joinedload(Delegation.task), joinedload(Delegation.worker),
                                                      joinedload(Delegation.organisation),
                                                      joinedload(Delegation.resident))
                        .where(Delegation.registration_confirmation_id == confirmation_id).order_by(Delegation.id)):
        status = delegation_status(d, day)
        out.append({"kind": "delegation", "id": d.id, "title": d.task.name, "task": d.task.code,
                    "worker": d.worker.full_name, "worker_id": d.worker_id, "home": d.organisation.name,
                    "org_id": d.org_id, "resident_ref": d.resident_ref, "since": d.start_date,
                    "open": status in ("open", "review_due"), "status": STATUS_LABELS[status],
                    "endpoint": "delegation.delegation", "args": {"delegation_id": d.id}})
    return out


# --- what a district nurse looks at first ------------------------------------------------------------

#: open delegations whose review date falls within this many days are listed as "review soon"
REVIEW_SOON_DAYS = 14


def reviews_due(db: Session, home_ids, day: date, within: int = REVIEW_SOON_DAYS) -> list[Delegation]:
    """Open delegations at these homes whose review date has passed or falls within ``within`` days,
    on a competence still in date, soonest first."""
    home_ids = list(home_ids)
    if not home_ids:
        return []
    return list(db.scalars(
        sa.select(Delegation).options(joinedload(Delegation.task), joinedload(Delegation.worker),
                                      joinedload(Delegation.resident), joinedload(Delegation.organisation))
        .join(Competency, Competency.id == Delegation.competency_id)
        .where(Delegation.org_id.in_(home_ids), Delegation.ended_at.is_(None), Competency.ended_at.is_(None),
               Competency.valid_until >= day, Delegation.review_date <= day + timedelta(days=within))
        .order_by(Delegation.review_date, Delegation.id)))


def expiring_at(db: Session, home_ids, day: date, days: int = EXPIRY_WARNING_DAYS) -> list[Competency]:
    """Current competences of these homes' workers that run out within ``days`` days, soonest first."""
    home_ids = list(home_ids)
    if not home_ids:
        return []
    return list(db.scalars(
        sa.select(Competency).options(joinedload(Competency.task), joinedload(Competency.worker),
                                      joinedload(Competency.organisation), joinedload(Competency.resident))
        .join(Membership, sa.and_(Membership.person_id == Competency.worker_id, Membership.org_id == Competency.org_id))
        .where(Competency.org_id.in_(home_ids), Membership.role == "worker", Membership.start_date <= day,
               sa.or_(Membership.end_date.is_(None), Membership.end_date >= day), Competency.ended_at.is_(None),
               Competency.valid_from <= day, Competency.valid_until >= day,
               Competency.valid_until <= day + timedelta(days=days)).distinct()
        .order_by(Competency.valid_until, Competency.id)))


def homes_worked_with(db: Session, org_ids, person_id: int) -> set[int]:
    """Homes where this professional, or their clinical organisations, have assessed or delegated."""
    org_ids = list(org_ids)
    assessed = sa.select(Assessment.org_id).where(sa.or_(Assessment.assessor_org_id.in_(org_ids),
                                                         Assessment.assessor_id == person_id))
    delegated = sa.select(Delegation.org_id).where(sa.or_(Delegation.delegator_org_id.in_(org_ids),
                                                          Delegation.delegated_by_id == person_id))
    return set(db.scalars(assessed.union(delegated)))
