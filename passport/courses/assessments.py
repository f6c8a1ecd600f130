"""Assessments and assessor competence.

Knowledge is evidenced by a test score against a pass mark or a workbook accepted (or returned with
reasons); practice by an observation in the workplace (assessor, date, setting, outcome, notes). Only an
eligible assessor may record one: someone holding the assessor role who is recorded as competent in that
Care Certificate standard, or a registered professional whose registration confirmation is current
(docs/registration.md) (Skills for Care: the assessor must be occupationally competent in the standard
assessed).
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport import audit
from passport.core.access import Principal, current_memberships, has_role, memberships_of, today
from passport.core.models import FRAMEWORKS, CCStandard, Person, TrainingCategory
from passport.core.registration import current_confirmation
from passport.core.services import get_or_404
from passport.courses.common import clean_text, is_current_member, member_orgs
from passport.courses.models import (
    ASSESSMENT_METHODS, CCAssessorCompetence, CourseAssessment, CourseBooking, WORKBOOK_DECISIONS,
)
from passport.db import utcnow
from passport.errors import PermissionDenied, ValidationError
from passport.params import id_or_none

COMPETENCE_GRANTORS = ("training_lead", "registered_manager")


def holds(db: Session, principal: Principal, role: str, org_id: int) -> bool:
    """The principal really holds ``role`` in ``org_id`` today (a scheme admin does not count as an assessor)."""
    if principal.token_org_id is not None and (principal.token_org_id != org_id or principal.token_role != role):
        return False
    return any(m.org_id == org_id and m.role == role for m in memberships_of(db, principal))


def is_competent(db: Session, person_id: int, org_id: int, framework: str, number: int) -> bool:
    return db.scalar(sa.select(CCAssessorCompetence.id).where(
        CCAssessorCompetence.person_id == person_id, CCAssessorCompetence.org_id == org_id,
        CCAssessorCompetence.framework == framework, CCAssessorCompetence.standard_number == number,
        CCAssessorCompetence.withdrawn_at.is_(None))) is not None


def eligibility(db: Session, principal: Principal, org_ids, framework: str | None = None,
                number: int | None = None, also: tuple[str, ...] = ()) -> str | None:
    """Why the principal may assess at one of ``org_ids`` ('registered_professional', 'assessor_competent',
    'assessor' for a subject without a standard, or one of ``also``), or None when they may not."""
    for org_id in org_ids:
        if holds(db, principal, "registered_professional", org_id) and current_confirmation(db, principal.person):
            return "registered_professional"
        if holds(db, principal, "assessor", org_id):
            if number is None or is_competent(db, principal.person_id, org_id, framework, number):
                return "assessor_competent" if number is not None else "assessor"
        for role in also:
            if holds(db, principal, role, org_id):
                return role
    return None


def _assessment_fields(db: Session, data: dict) -> dict:
    errors, out = {}, {}
    kind = data.get("kind")
    method = "observation" if kind == "observation" else data.get("method")
    if kind not in ("knowledge", "observation"):
        errors["kind"] = "Choose knowledge or observed practice."
    elif method not in ASSESSMENT_METHODS or method == "observation" and kind != "observation":
        errors["method"] = "Choose a test score or a workbook."
    fw, number = (data.get("framework") or None), data.get("standard_number")
    if number in ("", None):
        fw = number = None
    else:
        try:
            number = int(number)
        except (TypeError, ValueError):
            number = -1
        if fw not in FRAMEWORKS or db.scalar(sa.select(CCStandard.id).where(
                CCStandard.framework == fw, CCStandard.number == number)) is None:
            errors["standard_number"] = "Choose a Care Certificate standard from the list."
    code = data.get("category_code")
    if code in ("", None):
        code = None
    else:
        try:
            code = int(code)
        except (TypeError, ValueError):
            code = -1
        if db.get(TrainingCategory, code) is None:
            errors["category_code"] = "Choose a training subject from the list."
    if fw is None and code is None and "standard_number" not in errors and "category_code" not in errors:
        errors["standard_number"] = "Choose the Care Certificate standard (or training subject) assessed."
    on = data.get("assessed_on") or today()
    if isinstance(on, str):
        try:
            on = date.fromisoformat(on)
        except ValueError:
            on = None
    if not isinstance(on, date):
        errors["assessed_on"] = "Enter the date of the assessment, like 2026-03-27."
    elif on > today():
        errors["assessed_on"] = "The assessment date cannot be in the future."
    elif on.year < 2000:
        errors["assessed_on"] = "Enter a date from 2000 onwards."
    out.update(kind=kind, method=method, framework=fw, standard_number=number, category_code=code, assessed_on=on)
    try:
        out["notes"] = clean_text(data.get("notes"), "the notes", 5000)
    except ValueError as exc:
        errors["notes"] = str(exc)
    if method == "score":
        for key, low in (("score", 0), ("pass_mark", 1)):
            try:
                out[key] = int(data.get(key))
                if not low <= out[key] <= 100:
                    raise ValueError
            except (TypeError, ValueError):
                errors[key] = f"Enter the {'score' if key == 'score' else 'pass mark'} as a percentage, {low} to 100."
        if not errors:
            out["outcome"] = "passed" if out["score"] >= out["pass_mark"] else "not_yet"
    elif method == "workbook":
        decision = data.get("workbook_decision")
        if decision not in WORKBOOK_DECISIONS:
            errors["workbook_decision"] = "Choose whether the workbook is accepted or returned."
        reason = str(data.get("return_reason") or "").strip()
        if decision == "returned" and not reason:
            errors["return_reason"] = "Say why the workbook is returned, so the worker knows what to do next."
        out.update(workbook_decision=decision, return_reason=reason[:5000] if decision == "returned" else "",
                   outcome="passed" if decision == "accepted" else "not_yet")
    elif method == "observation":
        try:
            out["setting"] = clean_text(data.get("setting"), "where the practice was observed", 200, required=True)
        except ValueError as exc:
            errors["setting"] = str(exc)
        if data.get("outcome") not in ("passed", "not_yet"):
            errors["outcome"] = "Choose whether the practice met the standard (competent) or not yet."
        out["outcome"] = data.get("outcome")
    if errors:
        raise ValidationError("The assessment was not saved: " + "; ".join(errors.values()), errors)
    return out


def record(db: Session, principal: Principal, person_id: int, data: dict, org_id: int | None = None
           ) -> CourseAssessment:
    """Record a knowledge assessment or an observation for a worker by an eligible assessor (the principal)."""
    person = get_or_404(db, Person, person_id)
    if principal.person_id == person.id:
        raise PermissionDenied("You cannot assess yourself.")
    fields = _assessment_fields(db, data)
    orgs = [org_id] if org_id is not None else member_orgs(db, person.id)
    orgs = [o for o in orgs if is_current_member(db, person.id, o)]
    basis, where = None, None
    for o in orgs:
        basis = eligibility(db, principal, [o], fields["framework"], fields["standard_number"])
        if basis:
            where = o
            break
    if basis is None:
        what = (f"standard {fields['standard_number']} of the {fields['framework']} Care Certificate"
                if fields["standard_number"] else "this subject")
        raise PermissionDenied(f"Only an assessor recorded as competent in {what}, or a registered professional "
                               f"whose registration confirmation is current, at {person.full_name}'s "
                               "organisation can record this assessment.")
    a = CourseAssessment(person_id=person.id, org_id=where, assessor_id=principal.person_id, assessor_basis=basis,
                         **fields)
    db.add(a)
    db.flush()
    audit.record(db, principal.actor, "assessment.record", "course_assessment", a.id, org_id=where,
                 person_id=person.id, kind=a.kind, method=a.method, framework=a.framework,
                 standard=a.standard_number, category=a.category_code, outcome=a.outcome)
    if a.category_code is not None and a.outcome == "passed":
        _record_subject(db, principal, a)
    return a


def _record_subject(db: Session, principal: Principal, a: CourseAssessment) -> None:
    """A passed assessment in a training subject (e.g. a medication competency observation) is training in
    that subject: add it to the ledger with the assessment as its provenance."""
    from passport.core import records
    from passport.courses.requirements import expiry_for

    expires, never = expiry_for(db, a.org_id, a.person_id, a.category_code, a.assessed_on)
    what = {"score": "Knowledge test", "workbook": "Workbook", "observation": "Observed practice"}[a.method]
    records.add_training_record(
        db, None, person_id=a.person_id, org_id=a.org_id, category_code=a.category_code, completed_on=a.assessed_on,
        source="assessment", expires_on=expires, no_expiry=never, source_ref=f"courses:assessment:{a.id}",
        title=f"{what}: {a.category.name if a.category else ''}"[:200], actor=principal.actor,
        notes=(a.setting + "; " if a.setting else "") + a.notes)


def record_session_tests(db: Session, principal: Principal, session_id: int, scores: dict,
                         assessed_on: date | None = None) -> list[CourseAssessment]:
    """Record test scores for a session's attendees (course pass mark); completes the course for those
    who passed. The marker must be eligible for every standard the course covers (or, for a course
    without standards, an assessor, registered professional or training lead at the host)."""
    from passport.courses.sessions import get_session, session_day, try_complete

    s = get_session(db, session_id)
    course = s.course
    if course.pass_mark is None:
        raise ValidationError("This course has no test.", {"scores": "The course has no pass mark, so there is no test to record."})
    assessed_on = assessed_on or min(today(), session_day(s))
    if session_day(s) > today():
        raise ValidationError("The session has not happened yet.", {"scores": "Record test scores on or after the day of the session."})
    bookings = {b.id: b for b in db.scalars(sa.select(CourseBooking).where(CourseBooking.session_id == s.id,
                                                                            CourseBooking.status == "confirmed"))}
    errors, clean = {}, {}
    for key, value in scores.items():
        b = bookings.get(id_or_none(key))
        if value in ("", None):
            continue
        if b is None or b.attendance not in ("present", "late"):
            errors[f"score-{key}"] = "Only people marked present or late can have a test score."
            continue
        try:
            score = int(value)
            if not 0 <= score <= 100:
                raise ValueError
            clean[b.id] = score
        except (TypeError, ValueError):
            errors[f"score-{key}"] = f"Enter {b.person.full_name}'s score as a percentage, 0 to 100."
    if errors:
        raise ValidationError("The scores were not saved: " + "; ".join(errors.values()), errors)
    created = []
    for booking_id, score in clean.items():
        b = bookings[booking_id]
        if principal.person_id == b.person_id:
            raise PermissionDenied("You cannot mark your own test.")
        basis = _session_basis(db, principal, course, [s.org_id, b.org_id])
        if basis is None:
            raise PermissionDenied("Only an assessor competent in every standard this course covers, or a "
                                   "registered professional, can record its test scores.")
        a = CourseAssessment(person_id=b.person_id, org_id=b.org_id, kind="knowledge", method="score", score=score,
                             pass_mark=course.pass_mark, outcome="passed" if score >= course.pass_mark else "not_yet",
                             course_id=course.id, session_id=s.id, assessed_on=assessed_on,
                             assessor_id=principal.person_id, assessor_basis=basis,
                             notes=f"Test for {course.title}")
        db.add(a)
        db.flush()
        audit.record(db, principal.actor, "assessment.record", "course_assessment", a.id, org_id=b.org_id,
                     person_id=b.person_id, kind="knowledge", method="score", session_id=s.id, outcome=a.outcome)
        created.append(a)
        try_complete(db, principal, b)
    return created


def _session_basis(db: Session, principal: Principal, course, org_ids) -> str | None:
    if not course.standards:
        return eligibility(db, principal, org_ids, also=("training_lead",))
    bases = {eligibility(db, principal, org_ids, st.framework, st.number) for st in course.standards}
    return None if None in bases else sorted(bases)[0]


def assessments_of(db: Session, person_id: int) -> list[CourseAssessment]:
    return list(db.scalars(sa.select(CourseAssessment).where(CourseAssessment.person_id == person_id)
                           .order_by(CourseAssessment.assessed_on.desc(), CourseAssessment.id.desc())))


# --- assessor competence -----------------------------------------------------------------------


def set_competence(db: Session, principal: Principal, org_id: int, person_id: int, framework: str,
                   numbers, evidence: str = "") -> list[int]:
    """Record exactly which standards an assessor is competent to assess at ``org_id`` (adds and withdraws)."""
    if not has_role(db, principal, COMPETENCE_GRANTORS, org_id):
        raise PermissionDenied("Only a training lead or registered manager can record assessor competence.")
    if principal.person_id == person_id:
        raise PermissionDenied("Someone else must record your own competence to assess.")
    if framework not in FRAMEWORKS:
        raise ValidationError("Choose a framework.", {"framework": "Choose the 2015 or 2025 Care Certificate."})
    person = get_or_404(db, Person, person_id)
    if not any(m.org_id == org_id and m.role == "assessor" for m in current_memberships(db, person_id)):
        raise ValidationError("Not an assessor.", {"person_id": f"{person.full_name} does not have the assessor "
                                                                 "role here; an organisation admin can add it."})
    try:
        wanted = {int(n) for n in numbers or []}
    except (TypeError, ValueError):
        wanted = {-1}
    valid = set(db.scalars(sa.select(CCStandard.number).where(CCStandard.framework == framework)))
    if wanted - valid:
        raise ValidationError("Unknown standard.", {"standards": "Choose standards from the list."})
    rows = {c.standard_number: c for c in db.scalars(sa.select(CCAssessorCompetence).where(
        CCAssessorCompetence.org_id == org_id, CCAssessorCompetence.person_id == person_id,
        CCAssessorCompetence.framework == framework))}
    now = utcnow()
    for n in valid:
        row = rows.get(n)
        if n in wanted and (row is None or row.withdrawn_at is not None):
            row = row or CCAssessorCompetence(org_id=org_id, person_id=person_id, framework=framework,
                                              standard_number=n)
            row.withdrawn_at, row.recorded_by_id, row.recorded_at = None, principal.person_id, now
            row.evidence = (evidence or "")[:2000]
            db.add(row)
        elif n not in wanted and row is not None and row.withdrawn_at is None:
            row.withdrawn_at = now
    db.flush()
    audit.record(db, principal.actor, "assessor_competence.set", "person", person_id, org_id=org_id,
                 framework=framework, standards=sorted(wanted))
    return sorted(wanted)


def competences(db: Session, org_id: int) -> dict[int, dict[str, list[int]]]:
    """person id -> framework -> standards they are competent to assess at the organisation."""
    out: dict[int, dict[str, list[int]]] = {}
    for c in db.scalars(sa.select(CCAssessorCompetence).where(CCAssessorCompetence.org_id == org_id,
                                                              CCAssessorCompetence.withdrawn_at.is_(None))
                        .order_by(CCAssessorCompetence.standard_number)):
        out.setdefault(c.person_id, {}).setdefault(c.framework, []).append(c.standard_number)
    return out


def assessment_json(a: CourseAssessment) -> dict:
    return {"id": a.id, "person_id": a.person_id, "org_id": a.org_id, "kind": a.kind, "method": a.method,
            "framework": a.framework, "standard_number": a.standard_number, "category_code": a.category_code,
            "course_id": a.course_id, "session_id": a.session_id, "assessed_on": a.assessed_on.isoformat(),
            "score": a.score, "pass_mark": a.pass_mark, "workbook_decision": a.workbook_decision,
            "return_reason": a.return_reason, "setting": a.setting, "notes": a.notes, "outcome": a.outcome,
            "assessor_id": a.assessor_id, "assessor_basis": a.assessor_basis,
            "recorded_at": a.recorded_at.isoformat()}
