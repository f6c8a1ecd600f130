"""Per-home compliance counts behind the scheme-wide summary.

Counting every required subject of every worker in the scheme touches millions of rows; the summary
instead reads one cached row per home and recomputes, set-based, only the homes that changed. A home's
row is stale when it was computed on an earlier day, when anyone who works there gained a training record
(any writer: services, imports, corrections are new records, so a record id above the row's watermark is
enough), when its staff or their job roles changed (a cheap fingerprint of current memberships), or when
its requirements changed (marked by ``requirements``). ``passport courses refresh-summary`` (run nightly,
and by ``send-reminders``) rebuilds every home so the first request of the day is fast too.
"""
from __future__ import annotations

import json
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport.core.access import today
from passport.core.models import Membership, TrainingRecord
from passport.courses.common import current_filter
from passport.courses.matrix import status_subquery
from passport.courses.models import ComplianceCache
from passport.courses.requirements import required_pairs
from passport.db import intend_to_write, utcnow

WINDOWS = (30, 60, 90)


def fingerprints(db: Session, on: date) -> dict[int, str]:
    """org id -> a fingerprint of its current memberships (who, and in which job roles)."""
    rows = db.execute(sa.select(Membership.org_id, sa.func.count(), sa.func.sum(Membership.person_id),
                                sa.func.max(Membership.id),
                                sa.func.sum(sa.func.length(sa.func.coalesce(Membership.job_role, ""))))
                      .where(current_filter(on)).group_by(Membership.org_id))
    return {org: f"{n}:{s}:{m}:{j}" for org, n, s, m, j in rows}


def mark_stale(db: Session, org_id: int) -> None:
    """Requirements changed: recompute this home at the next summary."""
    db.execute(sa.update(ComplianceCache).where(ComplianceCache.org_id == org_id).values(stale=True))


def refresh(db: Session, on: date | None = None, force: bool = False) -> int:
    """Bring every home's cached counts up to date; returns how many homes were recomputed. Flushes only."""
    on = on or today()
    prints = fingerprints(db, on)
    caches = {c.org_id: c for c in db.scalars(sa.select(ComplianceCache))}
    newest = db.scalar(sa.select(sa.func.max(TrainingRecord.id))) or 0
    stale = {org for org, fp in prints.items() if force or org not in caches or caches[org].stale
             or caches[org].computed_on != on or caches[org].fingerprint != fp}
    fresh = [c for org, c in caches.items() if org in prints and org not in stale]
    if fresh:
        watermark = min(c.last_record_id for c in fresh)
        if watermark < newest:
            touched = set(db.scalars(
                sa.select(Membership.org_id).join(TrainingRecord, TrainingRecord.person_id == Membership.person_id)
                .where(TrainingRecord.id > watermark, current_filter(on)).distinct()))
            stale |= {c.org_id for c in fresh if c.org_id in touched}
    gone = set(caches) - set(prints)
    if stale or gone:
        intend_to_write(db)  # a warm summary stays a pure read
    for org in gone:  # nobody works there any more
        db.delete(caches.pop(org))
    if stale:
        _compute(db, sorted(stale), on, prints, newest, caches)
    db.flush()
    return len(stale)


def _compute(db: Session, org_ids: list[int], on: date, prints: dict, newest: int, caches: dict) -> None:
    counts: dict[int, dict] = {org: {"people": 0, "subjects": {}} for org in org_ids}
    for i in range(0, len(org_ids), 5000):
        part = org_ids[i:i + 5000]
        members = sa.select(Membership.person_id).where(Membership.org_id.in_(part), current_filter(on))
        req = required_pairs(part)
        st = status_subquery(members).subquery("st")
        never = sa.func.coalesce(st.c.never_expires, 0) == 1
        in_date = sa.or_(never, st.c.expires_on >= on)

        def due(days):
            return sa.func.sum(sa.case((sa.and_(sa.not_(never), st.c.expires_on >= on,
                                                st.c.expires_on <= on + timedelta(days=days)), 1), else_=0))

        q = (sa.select(req.c.org_id, req.c.category_code, sa.func.count(),
                       sa.func.sum(sa.case((in_date, 1), else_=0)), *[due(d) for d in WINDOWS])
             .select_from(req.outerjoin(st, sa.and_(st.c.person_id == req.c.person_id,
                                                    st.c.category_code == req.c.category_code)))
             .group_by(req.c.org_id, req.c.category_code))
        for org, code, required, ok, *soon in db.execute(q):
            counts[org]["subjects"][str(code)] = [required, int(ok or 0)] + [int(x or 0) for x in soon]
        for org, people in db.execute(sa.select(req.c.org_id, sa.func.count(sa.distinct(req.c.person_id)))
                                      .group_by(req.c.org_id)):
            counts[org]["people"] = people
    now = utcnow()
    for org in org_ids:
        row = caches.get(org) or ComplianceCache(org_id=org)
        row.computed_on, row.fingerprint, row.last_record_id = on, prints.get(org, ""), newest
        row.stale, row.data, row.computed_at = False, json.dumps(counts[org], separators=(",", ":")), now
        db.add(row)


def cached(db: Session) -> dict[int, dict]:
    """org id -> its counts, as stored (call ``refresh`` first)."""
    return {org: json.loads(data) for org, data in db.execute(sa.select(ComplianceCache.org_id, ComplianceCache.data))}
