"""Per-home compliance counts behind the scheme-wide summary.

Counting every required subject of every worker in the scheme touches millions of rows; the summary
instead reads one cached row per home and recomputes, set-based, only the homes that changed. A home's
row is stale when anyone who works there gained a training record (any writer: services, imports,
corrections are new records, so a record id above the row's watermark is enough), when its staff or their
job roles changed (a cheap fingerprint of current memberships), when its requirements changed (marked by
``requirements``), or when its date horizon has passed.

The row does not hold counts for one day. It holds, per subject, how many people need it, how many are in
date throughout the horizon (never expiring, or expiring after it and its due-soon windows) and how many
expire on each day inside it, so the counts for any day of the horizon (in date, due within 30, 60 or 90
days) follow without the database. The horizon is 30 to 59 days, spread by home, so a new day never makes
every home stale at once: about one home in thirty is recomputed on a given day, and no user waits for a
rebuild of every home. ``passport courses refresh-summary`` (nightly, and by ``send-reminders``) brings
homes up to date before anyone asks; ``--all`` rebuilds every home (the only full rebuild, once).
"""
from __future__ import annotations

import bisect
import json
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, defer

from passport.core.access import today
from passport.core.models import Membership, TrainingRecord
from passport.courses.common import current_filter
from passport.courses.matrix import status_subquery
from passport.courses.models import ComplianceCache
from passport.courses.requirements import required_pairs
from passport.db import intend_to_write, utcnow

WINDOWS = (30, 60, 90)
MIN_HORIZON, HORIZON_SPREAD = 30, 30
SPAN = MIN_HORIZON + HORIZON_SPREAD - 1 + max(WINDOWS)  # days after the base date with per-day counts
FORMAT = 4


def horizon(org_id: int) -> int:
    """Days a home's cached counts stay usable after the day they were computed (30 to 59, by home)."""
    return MIN_HORIZON + org_id % HORIZON_SPREAD


def _usable(cache: ComplianceCache, on: date) -> bool:
    return cache.computed_on <= on <= cache.computed_on + timedelta(days=horizon(cache.org_id))


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
    caches = {c.org_id: c for c in db.scalars(sa.select(ComplianceCache).options(defer(ComplianceCache.data)))}
    older = set(db.scalars(sa.select(ComplianceCache.org_id)  # rows written in an earlier format
                           .where(~ComplianceCache.data.startswith('{"v":%d,' % FORMAT, autoescape=True))))
    newest = db.scalar(sa.select(sa.func.max(TrainingRecord.id))) or 0
    stale = {org for org, fp in prints.items() if force or org not in caches or caches[org].stale or org in older
             or not _usable(caches[org], on) or caches[org].fingerprint != fp}
    fresh = [c for org, c in caches.items() if org in prints and org not in stale]
    if fresh:
        watermark = min(c.last_record_id for c in fresh)
        if watermark < newest:
            touched = dict(db.execute(
                sa.select(Membership.org_id, sa.func.max(TrainingRecord.id))
                .join(TrainingRecord, TrainingRecord.person_id == Membership.person_id)
                .where(TrainingRecord.id > watermark, current_filter(on)).group_by(Membership.org_id)).all())
            stale |= {c.org_id for c in fresh if touched.get(c.org_id, 0) > c.last_record_id}
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
    counts: dict[int, dict] = {org: {"v": FORMAT, "people": 0, "subjects": {}} for org in org_ids}
    if db.get_bind().dialect.name == "postgresql":
        db.execute(sa.text("SET LOCAL work_mem = '128MB'"))  # the per-person aggregate fits in memory
    last = on + timedelta(days=SPAN)
    for i in range(0, len(org_ids), 5000):
        part = org_ids[i:i + 5000]
        members = sa.select(Membership.person_id).where(Membership.org_id.in_(part), current_filter(on))
        req = required_pairs(part)
        st = status_subquery(members).subquery("st")
        never = sa.func.coalesce(st.c.never_expires, 0) == 1
        steady = sa.or_(never, st.c.expires_on > last)  # in date, and not due soon, all through the horizon
        day = sa.case((sa.and_(sa.not_(never), st.c.expires_on >= on, st.c.expires_on <= last), st.c.expires_on))
        q = (sa.select(req.c.org_id, req.c.category_code, day, sa.func.count(),
                       sa.func.sum(sa.case((steady, 1), else_=0)))
             .select_from(req.outerjoin(st, sa.and_(st.c.person_id == req.c.person_id,
                                                    st.c.category_code == req.c.category_code)))
             .group_by(req.c.org_id, req.c.category_code, day))
        for org, code, expires, n, steady_n in db.execute(q):
            entry = counts[org]["subjects"].setdefault(str(code), [0, 0, {}])
            entry[0] += n
            entry[1] += int(steady_n or 0)
            if expires is not None:
                entry[2][(expires - on).days] = n
        for data in counts.values():  # one sorted expiry offset per person (counted with bisect)
            for entry in data["subjects"].values():
                entry[2] = [d for d, n in sorted(entry[2].items()) for _ in range(n)]
        for org, people in db.execute(sa.select(req.c.org_id, sa.func.count(sa.distinct(req.c.person_id)))
                                      .group_by(req.c.org_id)):
            counts[org]["people"] = people
    now = utcnow()
    for org in org_ids:
        row = caches.get(org) or ComplianceCache(org_id=org)
        row.computed_on, row.fingerprint, row.last_record_id = on, prints.get(org, ""), newest
        row.stale, row.data, row.computed_at = False, json.dumps(counts[org], separators=(",", ":")), now
        db.add(row)


def counts_on(data: dict, base: date, on: date) -> dict:
    """A home's counts for day ``on`` (inside its horizon) from its cached row computed on ``base``:
    {"people": n, "subjects": {code: [required, in_date, due_30, due_60, due_90]}}. The row holds, per
    subject, [required, steady, the expiry day of each other person in date on ``base``, as days after
    ``base``, sorted]."""
    shift = (on - base).days
    left, right = bisect.bisect_left, bisect.bisect_right
    out = {}
    for code, (required, steady, offsets) in data["subjects"].items():
        gone = left(offsets, shift)  # expired before ``on``
        out[code] = [required, steady + len(offsets) - gone, *[right(offsets, shift + w) - gone for w in WINDOWS]]
    return {"people": data["people"], "subjects": out}


def cached(db: Session, on: date | None = None) -> dict[int, dict]:
    """org id -> its counts for day ``on`` (default today), as stored (call ``refresh(db, on)`` first)."""
    on = on or today()
    rows = db.execute(sa.select(ComplianceCache.org_id, ComplianceCache.computed_on, ComplianceCache.data))
    return {org: counts_on(json.loads(data), base, on) for org, base, data in rows}
