"""The training matrix: for a home, every person by every subject their job role requires, red / amber /
green, with compliance % by home, subject and person; and the scheme-wide summary across homes.

The home matrix is set-based: four small queries however many people and subjects there are (people,
requirements, the status aggregate, upcoming bookings). The scheme summary reads per-home counts kept by
``passport.courses.compliance``.
A subject's status comes from the person's non-superseded records in it (any organisation: training done
elsewhere counts): in date if any record has not expired, using the latest expiry.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy.orm import Session, aliased

from passport.core.access import Principal, has_role, today
from passport.core.models import Membership, Organisation, Person, TrainingCategory, TrainingRecord
from passport.core.services import get_or_404
from passport.courses.common import MATRIX_ROLES, current_filter, require_scheme_admin
from passport.courses.models import CourseBooking, CourseSession, course_category
from passport.courses.requirements import JOB_ROLE_LABELS, requirements_by_role, settings_for, status_of
from passport.db import utcnow
from passport.errors import PermissionDenied, ValidationError

STATE_LABELS = {"green": "In date", "amber": "Due soon", "red": "Expired or missing", "none": "Not required"}


@dataclass
class Cell:
    state: str  # green | amber | red | none (not required)
    completed_on: date | None = None
    expires_on: date | None = None
    never_expires: bool = False
    booked_on: date | None = None

    @property
    def missing(self) -> bool:
        return self.state == "red" and self.completed_on is None


@dataclass
class Row:
    person: Person
    job_role: str | None
    cells: dict[int, Cell] = field(default_factory=dict)

    @property
    def required(self) -> int:
        return sum(1 for c in self.cells.values() if c.state != "none")

    @property
    def in_date(self) -> int:
        return sum(1 for c in self.cells.values() if c.state in ("green", "amber"))

    @property
    def percent(self) -> int | None:
        return round(100 * self.in_date / self.required) if self.required else None


@dataclass
class Matrix:
    org: Organisation
    window: int
    on: date
    subjects: list[TrainingCategory]
    rows: list[Row]
    subject_stats: dict[int, dict] = field(default_factory=dict)
    totals: dict = field(default_factory=dict)
    # Before the subject filter: for the page's filter choices, without building the matrix twice.
    all_subjects: list[TrainingCategory] = field(default_factory=list)
    job_roles: list[str] = field(default_factory=list)


def status_subquery(person_ids=None):
    """(person_id, category_code, last_completed, expires_on, never_expires) over non-superseded records."""
    tr, newer = TrainingRecord, aliased(TrainingRecord)
    q = (sa.select(tr.person_id, tr.category_code,
                   sa.func.max(tr.completed_on).label("last_completed"),
                   sa.func.max(tr.expires_on).label("expires_on"),
                   sa.func.max(sa.case((tr.expires_on.is_(None), 1), else_=0)).label("never_expires"))
         .where(~sa.exists().where(newer.supersedes_id == tr.id))
         .group_by(tr.person_id, tr.category_code))
    if person_ids is not None:
        q = q.where(tr.person_id.in_(person_ids))
    return q


def can_view_matrix(db: Session, principal: Principal, org_id: int) -> bool:
    return has_role(db, principal, MATRIX_ROLES, org_id)


def home_matrix(db: Session, principal: Principal, org_id: int, window: int | None = None, *,
                job_role: str | None = None, category: int | None = None, state: str | None = None,
                search: str | None = None, on: date | None = None) -> Matrix:
    """The matrix for one organisation, filtered by job role, subject, status or name."""
    org = get_or_404(db, Organisation, org_id)
    if not can_view_matrix(db, principal, org_id):
        raise PermissionDenied("Only the home's training lead, registered manager or admin can see its matrix.")
    on = on or today()
    window = window or settings_for(db, org_id).amber_days
    members = (sa.select(Membership.person_id).where(Membership.org_id == org_id, current_filter(on))
               .scalar_subquery())
    # 1. people and job roles
    people: dict[int, Row] = {}
    for person, role in db.execute(
            sa.select(Person, Membership.job_role).join(Membership, Membership.person_id == Person.id)
            .where(Membership.org_id == org_id, current_filter(on))
            .order_by(Person.family_name, Person.given_name, Membership.job_role.is_(None))):
        row = people.setdefault(person.id, Row(person, role))
        row.job_role = min(filter(None, (row.job_role, role)), default=None)  # as requirements.staff_subquery
    # 2. requirements by job role
    by_role = requirements_by_role(db, org_id)
    needed = {pid: set(by_role.get(r.job_role or "", [])) for pid, r in people.items()}
    codes = sorted(set().union(*needed.values())) if needed else []
    subjects = list(db.scalars(sa.select(TrainingCategory).where(TrainingCategory.code.in_(codes))
                               .order_by(TrainingCategory.name)))
    # 3. status of every (person, subject) in one aggregate
    status = {(r.person_id, r.category_code): r for r in db.execute(
        status_subquery(members).where(TrainingRecord.category_code.in_(codes)))}
    # 4. upcoming confirmed bookings on courses for those subjects (the action already taken)
    booked: dict[tuple[int, int], date] = {}
    for pid, code, starts in db.execute(
            sa.select(CourseBooking.person_id, course_category.c.category_code, sa.func.min(CourseSession.starts_at))
            .join(CourseSession, CourseSession.id == CourseBooking.session_id)
            .join(course_category, course_category.c.course_id == CourseSession.course_id)
            .where(CourseBooking.person_id.in_(members), CourseBooking.status == "confirmed",
                   CourseSession.cancelled_at.is_(None), CourseSession.starts_at >= utcnow())
            .group_by(CourseBooking.person_id, course_category.c.category_code)):
        booked[(pid, code)] = starts.date() if hasattr(starts, "date") else starts
    for pid, row in people.items():
        for s in subjects:
            st = status.get((pid, s.code))
            if s.code not in needed[pid]:
                row.cells[s.code] = Cell("none", st.last_completed if st else None, st.expires_on if st else None,
                                         bool(st.never_expires) if st else False)
                continue
            cell = Cell(status_of(st.expires_on, bool(st.never_expires), window, on) if st else "red",
                        st.last_completed if st else None, st.expires_on if st else None,
                        bool(st.never_expires) if st else False, booked.get((pid, s.code)))
            row.cells[s.code] = cell
    rows = list(people.values())
    all_subjects, job_roles = subjects, sorted(by_role)
    if job_role:
        rows = [r for r in rows if r.job_role == job_role]
    if search:
        needle = search.strip().lower()
        rows = [r for r in rows if needle in r.person.full_name.lower()]
    if category:
        subjects = [s for s in subjects if s.code == category]
        for r in rows:
            r.cells = {k: v for k, v in r.cells.items() if k == category}
    if state in ("red", "amber", "green"):
        rows = [r for r in rows if any(c.state == state for c in r.cells.values())]
    m = Matrix(org=org, window=window, on=on, subjects=subjects, rows=rows, all_subjects=all_subjects,
               job_roles=job_roles)
    _stats(m)
    return m


# Status as words and a mark as well as colour (WCAG 1.4.1), so a black-and-white print still reads:
# in date "✓ 14/05/27", due soon "Due 24/01/27", expired "Expired 08/07/26", no record "Missing".
STATE_MARKS = {"green": "✓", "amber": "Due", "red": "Expired"}


def cell_label(c: Cell, fmt, html: bool = False, marks: dict | None = None, sep: str = " ") -> str:
    """A required cell's visible status text, shared by the page and the PDF (``fmt`` formats a date;
    ``marks`` replaces ``STATE_MARKS``, e.g. where a font has no tick). With ``html``, the mark is hidden from
    screen readers and the full status is spoken instead."""
    marks = marks or STATE_MARKS
    if c.missing:
        return "Missing"
    if c.never_expires:
        mark, rest, spoken = marks["green"], "No expiry", "In date, does not expire"
    else:
        mark, rest, spoken = marks[c.state], fmt(c.expires_on), _SPOKEN[c.state]
    if not html:
        return f"{mark}{sep}{rest}" if mark else rest
    return (f'<span class="app-cell__mark" aria-hidden="true">{mark}</span> '
            f'<span class="nhsuk-u-visually-hidden">{spoken} </span>{rest}')


_SPOKEN = {"green": "In date, expires", "amber": "Due soon, expires", "red": "Expired on"}


def cell_renderer(subjects: list[TrainingCategory]):
    """``cells(row)``: a row's cells as table HTML, for the matrix page.

    A home's matrix has thousands of cells but few distinct ones (a state, an expiry date, a booking),
    so each distinct cell is built once per page and reused: no per-cell template work, one date
    formatting per distinct date. Everything in a cell is a fixed label or a date, so nothing needs escaping.
    """
    codes = [s.code for s in subjects]
    memo: dict[tuple, str] = {}
    none = '<td data-state="none"><span class="app-cell app-cell--none"><span class="nhsuk-u-visually-hidden">' \
           'Not required</span>–</span></td>'

    def build(c: Cell) -> str:
        if c.state == "none":
            return none
        text = cell_label(c, lambda d: d.strftime("%d/%m/%y"), html=True)
        if c.booked_on:
            text += f'<span class="app-cell__booked">Booked {c.booked_on.strftime("%d/%m")}</span>'
        return f'<td data-state="{c.state}"><span class="app-cell app-cell--{c.state}">{text}</span></td>'

    def cells(row: Row) -> Markup:
        out = []
        for code in codes:
            c = row.cells.get(code)
            if c is None or c.state == "none":
                out.append(none)
                continue
            key = (c.state, c.missing, c.never_expires, c.expires_on, c.booked_on)
            html = memo.get(key)
            if html is None:
                html = memo[key] = build(c)
            out.append(html)
        return Markup("".join(out))

    return cells


def _stats(m: Matrix) -> None:
    counts = {"green": 0, "amber": 0, "red": 0}
    for s in m.subjects:
        c = {"green": 0, "amber": 0, "red": 0}
        for r in m.rows:
            cell = r.cells.get(s.code)
            if cell is not None and cell.state in c:
                c[cell.state] += 1
        total = sum(c.values())
        m.subject_stats[s.code] = {**c, "required": total,
                                   "percent": round(100 * (c["green"] + c["amber"]) / total) if total else None}
        for k in counts:
            counts[k] += c[k]
    required = sum(counts.values())
    m.totals = {**counts, "required": required, "people": len(m.rows),
                "percent": round(100 * (counts["green"] + counts["amber"]) / required) if required else None}


def scheme_summary(db: Session, principal: Principal, window: int = 60, on: date | None = None) -> dict:
    """Compliance across every organisation, per home and per subject, from the per-home cache (homes that
    changed are recomputed first; see ``passport.courses.compliance``). ``window``: 30, 60 or 90 days."""
    from passport.courses import compliance

    require_scheme_admin(db, principal)
    if window not in compliance.WINDOWS:
        raise ValidationError("Choose 30, 60 or 90 days.", {"window": "Choose 30, 60 or 90 days."})
    on = on or today()
    compliance.refresh(db, on)
    col = 2 + compliance.WINDOWS.index(window)
    homes: dict[int, dict] = {}
    subjects: dict[int, dict] = {}
    people: dict[int, int] = {}
    for org_id, data in compliance.cached(db, on).items():
        people[org_id] = data["people"]
        for code, values in data["subjects"].items():
            required, in_date, amber = values[0], values[1], values[col]
            for bucket, key in ((homes, org_id), (subjects, int(code))):
                agg = bucket.setdefault(key, {"required": 0, "green": 0, "amber": 0})
                agg["required"] += required
                agg["green"] += in_date - amber
                agg["amber"] += amber
    names = dict(db.execute(sa.select(Organisation.id, Organisation.name)).all())
    cats = dict(db.execute(sa.select(TrainingCategory.code, TrainingCategory.name)).all())

    def finish(agg: dict) -> dict:
        agg["red"] = agg["required"] - agg["green"] - agg["amber"]
        agg["percent"] = round(100 * (agg["green"] + agg["amber"]) / agg["required"]) if agg["required"] else None
        return agg

    home_rows = sorted(({"org_id": k, "name": names.get(k, str(k)), "people": people.get(k, 0), **finish(v)}
                        for k, v in homes.items()),
                       key=lambda r: (r["percent"] if r["percent"] is not None else 101, r["name"]))
    subject_rows = sorted(({"code": k, "name": cats.get(k, str(k)), **finish(v)} for k, v in subjects.items()),
                          key=lambda r: (r["percent"] if r["percent"] is not None else 101, r["name"]))
    total = finish({"required": sum(h["required"] for h in home_rows), "green": sum(h["green"] for h in home_rows),
                    "amber": sum(h["amber"] for h in home_rows)})
    return {"window": window, "on": on, "homes": home_rows, "subjects": subject_rows, "total": total}


def matrix_json(m: Matrix) -> dict:
    return {
        "org_id": m.org.id, "organisation": m.org.name, "on": m.on.isoformat(), "window_days": m.window,
        "subjects": [{"code": s.code, "name": s.name, **m.subject_stats.get(s.code, {})} for s in m.subjects],
        "people": [{"person_id": r.person.id, "name": r.person.full_name, "job_role": r.job_role,
                    "required": r.required, "in_date": r.in_date, "percent": r.percent,
                    "cells": {str(code): {"state": c.state,
                                          "completed_on": c.completed_on.isoformat() if c.completed_on else None,
                                          "expires_on": c.expires_on.isoformat() if c.expires_on else None,
                                          "never_expires": c.never_expires,
                                          "booked_on": c.booked_on.isoformat() if c.booked_on else None}
                              for code, c in r.cells.items()}} for r in m.rows],
        "totals": m.totals,
    }


def job_role_label(code: str | None) -> str:
    return JOB_ROLE_LABELS.get(code or "", (code or "Not set").replace("_", " ").capitalize())
