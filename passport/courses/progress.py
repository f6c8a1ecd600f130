"""Care Certificate progress: for each standard of the worker's framework, its state and the evidence.

States: not started -> in progress (some evidence, not enough) -> knowledge evidenced -> practice observed
(knowledge plus enough observations; ready for sign-off) -> signed off (a registered manager's sign-off,
recorded in the core ledger as a StandardAchievement). A worker who completed the 2015 certificate sees
the 2025 gap (standard 16) and can top it up.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport.core import records
from passport.core.access import Principal, has_role, today
from passport.core.models import FRAMEWORKS, CCStandard, StandardAchievement
from passport.core.timeutil import format_date
from passport.core.services import get_scheme
from passport.courses.common import member_orgs
from passport.courses.models import Course, CourseAssessment, course_standard
from passport.errors import Conflict, PermissionDenied, ValidationError

STATES = {
    "not_started": "Not started",
    "in_progress": "In progress",
    "knowledge": "Knowledge evidenced",
    "practice": "Practice observed",
    "signed_off": "Signed off",
}
STATE_TAGS = {"not_started": "grey", "in_progress": "yellow", "knowledge": "aqua-green", "practice": "blue",
              "signed_off": "green"}
# Observations of practice needed before sign-off. A local-policy default, not a national rule (the research
# gives none): standards with a large practical element (basic life support; health and safety, which covers
# moving and assisting, fire and hazardous substances) need two.
OBSERVATIONS_REQUIRED = {12: 2, 13: 2}
# What the registered manager confirms when signing a standard off (shown beside the evidence, stored with it).
DECLARATION = ("I have reviewed the evidence listed for this standard. The knowledge was assessed and the practice "
               "observed by a competent assessor, and I confirm the worker meets every outcome of the standard.")


@dataclass
class StandardProgress:
    framework: str
    number: int
    title: str
    state: str = "not_started"
    knowledge: list = field(default_factory=list)
    observations: list = field(default_factory=list)
    observations_needed: int = 1
    achievement: StandardAchievement | None = None

    @property
    def label(self) -> str:
        return STATES[self.state]

    @property
    def passed_observations(self) -> int:
        return sum(1 for a in self.observations if a.outcome == "passed")

    @property
    def ready(self) -> bool:
        return self.state == "practice"


def framework_for(db: Session, person_id: int) -> str:
    """The worker's Care Certificate version, taken from the certificate itself, never from the latest record:

    1. a complete certificate decides (2025 before 2015: a 2015 holder who topped up stays on 2025 only
       once every 2025 standard is met);
    2. otherwise the version with the most standards signed off (a 2025 standard 16 top-up on its own
       does not count, it sits beside a 2015 certificate);
    3. otherwise the version with the most standards assessed;
    4. otherwise, or on a tie, the scheme's agreed version (2025 by default).

    So one stray 2015 assessment never turns a worker with a complete 2025 certificate into "2015, 0 of 15".
    """
    summary = records.care_certificate_summary(db, person_id)
    for fw in ("2025", "2015"):
        if summary[fw]["complete"]:
            return fw
    scheme = get_scheme(db)
    default = scheme.cc_version if scheme else "2025"
    signed = {fw: len([n for n in summary[fw]["met"] if not (fw == "2025" and n == 16)]) for fw in FRAMEWORKS}
    assessed: dict[str, int] = {fw: 0 for fw in FRAMEWORKS}
    for fw, count in db.execute(
            sa.select(CourseAssessment.framework, sa.func.count(sa.distinct(CourseAssessment.standard_number)))
            .where(CourseAssessment.person_id == person_id, CourseAssessment.framework.is_not(None))
            .group_by(CourseAssessment.framework)):
        assessed[fw] = count
    for counts in (signed, assessed):
        best = max(counts.values())
        if best:
            leaders = [fw for fw, n in counts.items() if n == best]
            return default if default in leaders else leaders[0]
    return default


def progress(db: Session, person_id: int, framework: str | None = None) -> dict:
    """Every standard of the framework with its state and evidence; plus completion and the 2015 -> 2025 gap."""
    framework = framework or framework_for(db, person_id)
    standards = list(db.scalars(sa.select(CCStandard).where(CCStandard.framework == framework)
                                .order_by(CCStandard.number)))
    items = {s.number: StandardProgress(framework, s.number, s.title,
                                        observations_needed=OBSERVATIONS_REQUIRED.get(s.number, 1))
             for s in standards}
    _fill(db, person_id, framework, items)
    summary = records.care_certificate_summary(db, person_id)
    result = {"framework": framework, "standards": list(items.values()), "summary": summary,
              "complete": summary[framework]["complete"], "awarded_on": summary[framework]["awarded_on"],
              "signed_off": sum(1 for i in items.values() if i.state == "signed_off"), "total": len(items),
              "gap": None}
    if framework == "2015" and summary["2015"]["complete"]:
        gap = {16: StandardProgress("2025", 16, _title(db, "2025", 16))}
        _fill(db, person_id, "2025", gap)
        result["gap"] = gap[16]
    return result


def _title(db: Session, framework: str, number: int) -> str:
    return db.scalar(sa.select(CCStandard.title).where(CCStandard.framework == framework, CCStandard.number == number)) or ""


def _fill(db: Session, person_id: int, framework: str, items: dict[int, StandardProgress]) -> None:
    assessments = list(db.scalars(sa.select(CourseAssessment).where(CourseAssessment.person_id == person_id)
                                  .order_by(CourseAssessment.assessed_on, CourseAssessment.id)))
    session_courses = {a.course_id for a in assessments if a.standard_number is None and a.course_id}
    covers: dict[int, set[int]] = {}
    if session_courses:
        for course_id, number in db.execute(
                sa.select(course_standard.c.course_id, CCStandard.number)
                .join(CCStandard, CCStandard.id == course_standard.c.standard_id)
                .join(Course, Course.id == course_standard.c.course_id)
                .where(course_standard.c.course_id.in_(session_courses), CCStandard.framework == framework)):
            covers.setdefault(course_id, set()).add(number)
    for a in assessments:
        numbers = ([a.standard_number] if a.framework == framework and a.standard_number
                   else sorted(covers.get(a.course_id, ())) if a.standard_number is None else [])
        for n in numbers:
            if n in items:
                (items[n].observations if a.kind == "observation" else items[n].knowledge).append(a)
    for ach in db.scalars(sa.select(StandardAchievement).where(
            StandardAchievement.person_id == person_id, StandardAchievement.framework == framework,
            StandardAchievement.withdrawn_at.is_(None)).order_by(StandardAchievement.met_on)):
        if ach.standard_number in items and items[ach.standard_number].achievement is None:
            items[ach.standard_number].achievement = ach
    for item in items.values():
        knowledge_ok = any(a.outcome == "passed" for a in item.knowledge)
        if item.achievement is not None:
            item.state = "signed_off"
        elif knowledge_ok and item.passed_observations >= item.observations_needed:
            item.state = "practice"
        elif knowledge_ok:
            item.state = "knowledge"
        elif item.knowledge or item.observations:
            item.state = "in_progress"


def sign_off(db: Session, principal: Principal, person_id: int, framework: str, number: int,
             org_id: int | None = None, met_on: date | None = None, declared: bool = False) -> StandardAchievement:
    """A registered manager signs a standard off once knowledge is evidenced and practice observed, confirming
    the ``DECLARATION`` (``declared``) against the evidence it rests on (``sign_off_evidence``).
    Written to the core ledger (``records.record_achievement``, which emits care_certificate_changed)."""
    orgs = [org_id] if org_id is not None else member_orgs(db, person_id)
    org = next((o for o in orgs if has_role(db, principal, "registered_manager", o)), None)
    if org is None:
        raise PermissionDenied("Only a registered manager of the worker's organisation can sign off a standard.")
    if principal.person_id == person_id:
        raise PermissionDenied("You cannot sign off your own Care Certificate.")
    item = standard_progress(db, person_id, framework, number)
    if item is None:
        raise ValidationError("Unknown standard.", {"standard": f"The {framework} Care Certificate has no standard {number}."})
    if item.state == "signed_off":
        raise Conflict(f"Standard {number} is already signed off.")
    if item.state != "practice":
        need = item.observations_needed
        raise ValidationError("Not ready for sign-off.", {"standard": (
            f"Standard {number} needs knowledge evidenced and {need} observation{'s' if need > 1 else ''} of "
            "practice before it can be signed off.")})
    if not declared:
        raise ValidationError("Confirm the declaration.", {"declaration": (
            "Confirm that you have reviewed the evidence and that the worker meets the standard.")})
    used = sign_off_evidence(item)
    evidence_ids = [a.id for a in used]
    evidence = "; ".join(_describe(a) for a in used) + ". Declaration: " + DECLARATION
    return records.record_achievement(
        db, principal, person_id=person_id, org_id=org, framework=framework, standard_number=number,
        met_on=met_on or today(), source="assessment", evidence=evidence[:4000],
        source_ref="courses:assessments:" + ",".join(str(i) for i in evidence_ids))


def sign_off_evidence(item: StandardProgress) -> list:
    """The passed assessments a sign-off rests on: knowledge first, then observations of practice."""
    return [a for a in item.knowledge + item.observations if a.outcome == "passed"]


def standard_progress(db: Session, person_id: int, framework: str, number: int) -> StandardProgress | None:
    """One standard's progress with its evidence, or None when the framework has no such standard."""
    return next((s for s in progress(db, person_id, framework)["standards"] if s.number == number), None)


def _describe(a: CourseAssessment) -> str:
    who = a.assessor.full_name if a.assessor else "unknown assessor"
    if a.method == "score":
        return f"Knowledge test {a.score}% (pass mark {a.pass_mark}%) on {format_date(a.assessed_on)}, {who}"
    if a.method == "workbook":
        return f"Workbook accepted on {format_date(a.assessed_on)} by {who}"
    return f"Practice observed ({a.setting}) on {format_date(a.assessed_on)} by {who}"


def progress_json(p: dict) -> dict:
    def item(s: StandardProgress) -> dict:
        return {"framework": s.framework, "number": s.number, "title": s.title, "state": s.state,
                "knowledge_evidence": [a.id for a in s.knowledge],
                "observations": [a.id for a in s.observations], "observations_needed": s.observations_needed,
                "signed_off_on": s.achievement.met_on.isoformat() if s.achievement else None,
                "signed_off_by_id": s.achievement.signed_off_by_id if s.achievement else None}

    return {"framework": p["framework"], "complete": p["complete"],
            "awarded_on": p["awarded_on"].isoformat() if p["awarded_on"] else None,
            "signed_off": p["signed_off"], "total": p["total"], "standards": [item(s) for s in p["standards"]],
            "gap_2025_standard_16": item(p["gap"]) if p["gap"] is not None else None}
