"""Workforce movement: who joined and left homes, where they came from and went, turnover as Skills for Care
defines it, training recognised from passports instead of repeated, and how long joiners took to complete
the Care Certificate.

It lives in the verify plugin because it reads what verify owns (accepted passports, ``verify_acceptance``)
together with core data every plugin may read (memberships over time and the Care Certificate ledger). The
companion plugin shows it (pages, SVG charts, CSV) and adds what only it may read: course durations from
the courses plugin (for hours and pounds) and first delegated tasks from the delegation plugin.

Definitions (also in docs/companion.md):

- a *stint* is a person's time at one home: their membership rows there merged (roles other than scheme
  admin), from the earliest start to the latest end (open when any row is open);
- a *joiner* has a stint starting in the period; a *leaver* has one ending in the period;
- a leaver *moved within the scheme* when the same person started at another home of the scheme within
  ``MOVE_WINDOW_DAYS`` of leaving (or before leaving); otherwise they *left the scheme*;
- a joiner *came from* another home of the scheme (the same match, backwards), from another scheme (a
  passport from another issuer was accepted), or was *new to the scheme*;
- *turnover* = leavers in the 12 months to the end of the period ÷ the average of the staff in post at the
  start and at the end of those 12 months (Skills for Care's method);
- cross-organisation reports (a group, the scheme) suppress every count from 1 to 4 (``suppress``).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import median
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from passport.core.models import Membership, Organisation, StandardAchievement
from passport.verify.models import Acceptance, AcceptanceItem

CARE_KINDS = ("care_home", "care_home_nursing", "home_care")
MOVE_WINDOW_DAYS = 90
SUPPRESS_BELOW = 5
CC_COUNT = {"2015": 15, "2025": 16}


class Stint(NamedTuple):
    person_id: int
    org_id: int
    start: date
    end: date | None


@dataclass
class Report:
    start: date
    end: date
    org_ids: list[int] | None          # None: the whole scheme
    cross_org: bool
    org_names: dict[int, str] = field(default_factory=dict)
    joiners: int | None = 0
    leavers: int | None = 0
    in_post_start: int | None = 0
    in_post_end: int | None = 0
    turnover_leavers_12m: int | None = 0
    turnover_average_in_post: float | None = 0.0
    turnover_percent: float | None = None
    moved_within: int | None = 0        # leavers who started at another home of the scheme
    left_scheme: int | None = 0
    origins: dict[str, int | None] = field(default_factory=dict)
    from_homes: list[tuple[int, int | None]] = field(default_factory=list)     # (org id, joiners from it)
    flows: list[tuple[int, int, int | None]] = field(default_factory=list)     # (from org, to org, moves)
    flows_hidden: int | None = 0        # moves in pairs with fewer than 5, when suppressed
    months: list[dict] = field(default_factory=list)
    acceptances: int | None = 0
    reused_records: int | None = 0
    reused_standards: int | None = 0
    reused_by_category: dict[int, int] = field(default_factory=dict)
    cc_completed: int | None = 0
    cc_arrived_with: int | None = 0
    cc_median_days: float | None = None
    joiner_ids: list[tuple[int, int, date]] = field(default_factory=list)  # (person, org, start): not shown


def suppress(n: int | None) -> int | None:
    """Counts from 1 to 4 become None ("fewer than 5"); 0 and 5 or more stay."""
    if n is None or n == 0 or n >= SUPPRESS_BELOW:
        return n
    return None


def care_orgs(db: Session, org_ids=None, group_id: int | None = None) -> dict[int, str]:
    q = sa.select(Organisation.id, Organisation.name).where(Organisation.kind.in_(CARE_KINDS))
    if group_id is not None:
        q = q.where(Organisation.group_id == group_id)
    if org_ids is not None:
        q = q.where(Organisation.id.in_(list(org_ids)))
    return dict(db.execute(q).all())


def _stint_select(m):
    """Stints from membership alias ``m``: (person_id, org_id, start, end) per person and home."""
    return (sa.select(m.person_id, m.org_id, sa.func.min(m.start_date).label("start"),
                      sa.case((sa.func.count(m.end_date) < sa.func.count(), None),
                              else_=sa.func.max(m.end_date)).label("end"))
            .join(Organisation, Organisation.id == m.org_id)
            .where(Organisation.kind.in_(CARE_KINDS), m.role != "scheme_admin")
            .group_by(m.person_id, m.org_id))


def stints_and_posts(db: Session, scope: set[int] | None, lo: date, hi: date,
                     days: list[date]) -> tuple[dict[int, list[Stint]], dict[date, int]]:
    """In one statement (one pass that merges memberships into stints): the stints (at any of the scheme's
    homes) of everyone who started or left a home in ``scope`` between ``lo`` and ``hi``, by person in start
    order — everyone else changes nothing in the period — and the staff in post in ``scope`` on each of
    ``days`` (as rows with a negative person id)."""
    st = _stint_select(aliased(Membership)).cte("stints")
    in_scope = st.c.org_id.in_(list(scope)) if scope is not None else sa.true()
    touched = sa.select(st.c.person_id).where(in_scope, sa.or_(st.c.start.between(lo, hi), st.c.end.between(lo, hi)))
    days = sorted(set(days))
    parts = [sa.select(st.c.person_id, st.c.org_id, st.c.start, st.c.end).where(st.c.person_id.in_(touched))]
    for i, d in enumerate(days):
        parts.append(sa.select(sa.literal(-1 - i, sa.Integer), sa.cast(sa.func.count(), sa.Integer),
                               sa.cast(sa.null(), sa.Date), sa.cast(sa.null(), sa.Date))
                     .where(in_scope, st.c.start <= d, sa.or_(st.c.end.is_(None), st.c.end >= d)))
    out: dict[int, list[Stint]] = defaultdict(list)
    posts: dict[date, int] = {}
    for row in db.connection().execute(sa.union_all(*parts)):
        if row[0] < 0:
            posts[days[-1 - row[0]]] = int(row[1])
        else:
            out[row[0]].append(Stint._make(row))
    for stints in out.values():
        if len(stints) > 1:
            stints.sort(key=lambda s: s.start)
    return out, posts


def _previous(stints: list[Stint], s: Stint) -> Stint | None:
    best = None
    for o in stints:
        if o is s or o.org_id == s.org_id or o.start >= s.start:
            continue
        if o.end is not None and s.start - timedelta(days=MOVE_WINDOW_DAYS) <= o.end <= s.start + timedelta(days=MOVE_WINDOW_DAYS):
            if best is None or o.end > best.end:
                best = o
    return best


def _next(stints: list[Stint], s: Stint) -> Stint | None:
    for o in stints:
        if o is s or o.org_id == s.org_id or o.start <= s.start:
            continue
        if s.end - timedelta(days=MOVE_WINDOW_DAYS) <= o.start <= s.end + timedelta(days=MOVE_WINDOW_DAYS):
            return o
    return None


def _months(start: date, end: date) -> list[tuple[date, date]]:
    out = []
    d = date(start.year, start.month, 1)
    while d <= end:
        nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        out.append((max(d, start), min(nxt - timedelta(days=1), end)))
        d = nxt
    return out


def movement(db: Session, start: date, end: date, org_ids: list[int] | None = None, *, cross_org: bool | None = None,
             own_issuer: str | None = None) -> Report:
    """The movement report for homes ``org_ids`` (None: every home of the scheme) over ``start``..``end``.
    Counts are exact; call ``apply_suppression`` before showing a cross-organisation report."""
    if end < start:
        raise ValueError("end before start")
    names = care_orgs(db, org_ids)
    scope = None if org_ids is None else set(names)
    cross = cross_org if cross_org is not None else (scope is None or len(scope) > 1)
    rep = Report(start=start, end=end, org_ids=sorted(scope) if scope is not None else None, cross_org=cross,
                 org_names=care_orgs(db) if scope is not None else names)
    t_start = end - timedelta(days=364)
    months = _months(start, end)
    by_person, posts = stints_and_posts(db, scope, min(start, t_start), end,
                                        [start, end, t_start] + [b for _a, b in months])

    def in_scope(org_id: int) -> bool:
        return scope is None or org_id in scope

    month_rows = [{"label": a.strftime("%b %Y"), "start": a, "end": b, "joiners": 0, "leavers": 0, "moves": 0}
                  for a, b in months]

    by_month = {(r["start"].year, r["start"].month): r for r in month_rows}

    def month_of(d: date) -> dict:
        return by_month.get((d.year, d.month), {})

    origins: Counter = Counter()
    from_homes: Counter = Counter()
    flows: Counter = Counter()
    joiner_ids = []
    unmatched_joiners: list[tuple[int, int]] = []
    leavers_12m = 0
    for stints in by_person.values():
        for s in stints:
            if not in_scope(s.org_id):
                continue
            if start <= s.start <= end:
                rep.joiners += 1
                mo = month_of(s.start)
                mo["joiners"] = mo.get("joiners", 0) + 1
                joiner_ids.append((s.person_id, s.org_id, s.start))
                prev = _previous(stints, s)
                if prev is not None:
                    origins["another home in the scheme"] += 1
                    from_homes[prev.org_id] += 1
                else:
                    origins["_unmatched"] += 1
                    unmatched_joiners.append((s.person_id, s.org_id))
            if s.end is not None and start <= s.end <= end:
                rep.leavers += 1
                mo = month_of(s.end)
                mo["leavers"] = mo.get("leavers", 0) + 1
                nxt = _next(stints, s)
                if nxt is not None:
                    rep.moved_within += 1
                    flows[(s.org_id, nxt.org_id)] += 1
                    mo["moves"] = mo.get("moves", 0) + 1
                else:
                    rep.left_scheme += 1
            if s.end is not None and t_start <= s.end <= end:
                leavers_12m += 1
    for r in month_rows:
        r["in_post"] = posts[r["end"]]
    rep.months = month_rows
    rep.in_post_start, rep.in_post_end = posts[start], posts[end]
    avg = (posts[t_start] + posts[end]) / 2
    rep.turnover_leavers_12m, rep.turnover_average_in_post = leavers_12m, avg
    rep.turnover_percent = round(100 * leavers_12m / avg, 1) if avg else None

    # Where joiners not matched to another home came from: a passport from another scheme, or new.
    unmatched = origins.pop("_unmatched", 0)
    other_scheme = 0
    if unmatched_joiners and own_issuer:
        q = sa.select(Acceptance.person_id, Acceptance.org_id).where(Acceptance.iss != own_issuer)
        if scope is not None:
            q = q.where(Acceptance.org_id.in_(list(scope)))
        other = set(db.execute(q).all())
        other_scheme = sum(1 for k in unmatched_joiners if k in other)
    origins["another scheme (passport accepted)"] = other_scheme
    origins["new to the scheme"] = unmatched - other_scheme
    rep.origins = dict(origins)
    rep.from_homes = sorted(from_homes.items(), key=lambda x: -x[1])
    rep.flows = sorted(((a, b, n) for (a, b), n in flows.items()), key=lambda x: -x[2])
    rep.joiner_ids = joiner_ids

    # Training re-use: passports accepted in the period at these homes.
    from datetime import datetime, time, timezone

    lo = datetime.combine(start, time(0), tzinfo=timezone.utc)
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=timezone.utc)
    acc_q = sa.select(Acceptance.id).where(Acceptance.accepted_at >= lo, Acceptance.accepted_at < hi)
    if scope is not None:
        acc_q = acc_q.where(Acceptance.org_id.in_(list(scope)))
    rep.acceptances = db.scalar(sa.select(sa.func.count()).select_from(acc_q.subquery())) or 0
    if rep.acceptances:
        from passport.core.models import TrainingRecord

        rep.reused_standards = db.scalar(sa.select(sa.func.count(AcceptanceItem.id)).where(
            AcceptanceItem.acceptance_id.in_(acc_q), AcceptanceItem.achievement_id.is_not(None))) or 0
        cats = db.execute(sa.select(TrainingRecord.category_code, sa.func.count()).join(
            AcceptanceItem, AcceptanceItem.training_record_id == TrainingRecord.id).where(
            AcceptanceItem.acceptance_id.in_(acc_q)).group_by(TrainingRecord.category_code)).all()
        rep.reused_by_category = {c: n for c, n in cats}
        rep.reused_records = sum(rep.reused_by_category.values())

    # Time from starting to a complete Care Certificate, for this period's joiners.
    if joiner_ids:
        complete = completion_dates(db, scope, start, end)
        days = []
        for pid, _o, started in joiner_ids:
            done = complete.get(pid)
            if done is None:
                continue
            if done < started:
                rep.cc_arrived_with += 1
            else:
                days.append((done - started).days)
        rep.cc_completed = len(days)
        rep.cc_median_days = float(median(days)) if days else None
    return rep


def joined_between(scope: set[int] | None, start: date, end: date):
    """A subquery of the people who started at a home in ``scope`` between ``start`` and ``end``."""
    j = aliased(Membership)
    q = sa.select(j.person_id).where(j.start_date.between(start, end), j.role != "scheme_admin")
    return q.where(j.org_id.in_(list(scope))) if scope is not None else q


def completion_dates(db: Session, scope: set[int] | None, start: date, end: date) -> dict[int, date]:
    """When each of the period's joiners first had every standard of a Care Certificate framework met."""
    a = StandardAchievement
    firsts = (sa.select(a.person_id, a.framework, a.standard_number, sa.func.min(a.met_on).label("met"))
              .where(a.withdrawn_at.is_(None), a.person_id.in_(joined_between(scope, start, end)))
              .group_by(a.person_id, a.framework, a.standard_number).subquery())
    needed = sa.case((firsts.c.framework == "2015", CC_COUNT["2015"]), else_=CC_COUNT["2025"])
    rows = db.execute(sa.select(firsts.c.person_id, sa.func.max(firsts.c.met))
                      .group_by(firsts.c.person_id, firsts.c.framework)
                      .having(sa.func.count() >= sa.func.min(needed))).all()
    out: dict[int, date] = {}
    for pid, done in rows:
        out[pid] = min(done, out.get(pid, done))
    return out


def apply_suppression(rep: Report) -> Report:
    """Hide every count from 1 to 4 in a cross-organisation report, and figures derived from them."""
    if not rep.cross_org:
        return rep
    s = suppress
    if s(rep.turnover_leavers_12m) is None:
        rep.turnover_percent = None
    if rep.cc_completed and rep.cc_completed < SUPPRESS_BELOW:
        rep.cc_median_days = None
    for name in ("joiners", "leavers", "in_post_start", "in_post_end", "turnover_leavers_12m", "moved_within",
                 "left_scheme", "acceptances", "reused_records", "reused_standards", "cc_completed", "cc_arrived_with"):
        setattr(rep, name, s(getattr(rep, name)))
    rep.origins = {k: s(v) for k, v in rep.origins.items()}
    rep.from_homes = [(o, s(n)) for o, n in rep.from_homes if s(n) is not None]
    hidden = sum(n for _a, _b, n in rep.flows if s(n) is None)
    rep.flows = [(a, b, n) for a, b, n in rep.flows if s(n) is not None]
    rep.flows_hidden = s(hidden)
    rep.reused_by_category = {c: n for c, n in rep.reused_by_category.items() if s(n) is not None}
    for m in rep.months:
        for k in ("joiners", "leavers", "moves", "in_post"):
            m[k] = s(m[k])
    return rep
