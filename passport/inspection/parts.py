"""The parts of "download all my data" that come from core and the plugins this one reads.

Each part is ``fn(db, person_id) -> {"title": str, "items": [dict, ...]}`` (kind ``"personal_data"`` in
``passport.plugins.contribute``). Rule for every part: only the subject's own data. Other people who acted
on the subject's records appear only as a role and an organisation ("a member of staff at Oak House"),
never by name, email or id; another person's records, notes or sessions never appear.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport.audit import AuditEntry
from passport.core.models import (
    Invitation, Membership, Organisation, Person, StandardAchievement, TrainingRecord,
)


def _orgs(db: Session) -> dict[int, str]:
    return dict(db.execute(sa.select(Organisation.id, Organisation.name)).all())


def _d(value) -> str | None:
    return value.isoformat() if value is not None else None


def _staff(orgs: dict, org_id) -> str:
    return f"A member of staff at {orgs.get(org_id, 'another organisation')}"


def core_person(db: Session, person_id: int) -> dict:
    p = db.get(Person, person_id)
    return {"title": "About you", "items": [{
        "given_name": p.given_name, "family_name": p.family_name, "email": p.email,
        "registration_body": p.registration_body, "registration_pin": p.registration_pin,
        "record_created": _d(p.created_at)}]}


def core_memberships(db: Session, person_id: int) -> dict:
    orgs = _orgs(db)
    rows = db.scalars(sa.select(Membership).where(Membership.person_id == person_id).order_by(Membership.start_date))
    return {"title": "Your roles in organisations", "items": [{
        "organisation": orgs.get(m.org_id), "role": m.role, "job_role": m.job_role, "start_date": _d(m.start_date),
        "end_date": _d(m.end_date), "how_added": m.via} for m in rows]}


def core_training(db: Session, person_id: int) -> dict:
    orgs = _orgs(db)
    rows = db.scalars(sa.select(TrainingRecord).where(TrainingRecord.person_id == person_id)
                      .order_by(TrainingRecord.completed_on, TrainingRecord.id))
    return {"title": "Training records (with where each came from)", "items": [{
        "id": r.id, "subject_code": r.category_code, "title": r.title, "completed_on": _d(r.completed_on),
        "expires_on": _d(r.expires_on), "source": r.source, "source_reference": r.source_ref,
        "accredited": r.accredited, "provider": r.provider_name, "recorded_for": orgs.get(r.org_id),
        "recorded_by": (None if r.recorded_by_id is None else "You" if r.recorded_by_id == person_id
                        else _staff(orgs, r.org_id)),
        "recorded_at": _d(r.recorded_at), "notes": r.notes, "corrects_record": r.supersedes_id,
        "correction_reason": r.correction_reason} for r in rows]}


def core_care_certificate(db: Session, person_id: int) -> dict:
    orgs = _orgs(db)
    rows = db.scalars(sa.select(StandardAchievement).where(StandardAchievement.person_id == person_id)
                      .order_by(StandardAchievement.framework, StandardAchievement.standard_number))
    return {"title": "Care Certificate evidence", "items": [{
        "framework": a.framework, "standard": a.standard_number, "met_on": _d(a.met_on), "source": a.source,
        "source_reference": a.source_ref, "evidence": a.evidence, "recorded_for": orgs.get(a.org_id),
        "signed_off_by": None if a.signed_off_by_id is None else _staff(orgs, a.org_id),
        "withdrawn_at": _d(a.withdrawn_at)} for a in rows]}


def core_invitations(db: Session, person_id: int) -> dict:
    p = db.get(Person, person_id)
    orgs = _orgs(db)
    q = sa.select(Invitation).where(sa.or_(Invitation.accepted_by_id == person_id,
                                           *( [Invitation.email == p.email] if p.email else [])))
    return {"title": "Invitations", "items": [{
        "organisation": orgs.get(i.org_id), "email": i.email, "roles": i.roles, "job_role": i.job_role,
        "sent_at": _d(i.sent_at), "expires_at": _d(i.expires_at), "accepted_at": _d(i.accepted_at),
        "revoked_at": _d(i.revoked_at)} for i in db.scalars(q.order_by(Invitation.created_at))]}


def core_audit(db: Session, person_id: int) -> dict:
    """Audit entries about the person (the person record, or actions naming them) and their own actions.
    Details are left out: they can name other people."""
    orgs = _orgs(db)
    q = (sa.select(AuditEntry).where(sa.or_(
        sa.and_(AuditEntry.object_type == "person", AuditEntry.object_id == str(person_id)),
        AuditEntry.actor_id == person_id,
        AuditEntry.details.like(f'%"worker_id": {person_id},%'), AuditEntry.details.like(f'%"worker_id": {person_id}}}'),
        AuditEntry.details.like(f'%"person_id": {person_id},%'), AuditEntry.details.like(f'%"person_id": {person_id}}}')))
         .order_by(AuditEntry.id))
    return {"title": "Audit trail entries about you", "items": [{
        "at": _d(e.at), "action": e.action, "object_type": e.object_type,
        "object_id": e.object_id if e.object_type != "person" or e.object_id == str(person_id) else None,
        "organisation": orgs.get(e.org_id),
        "by": "You" if e.actor_id == person_id else (e.actor_label if e.actor_id is None else _staff(orgs, e.org_id))}
        for e in db.scalars(q)]}


def courses_part(db: Session, person_id: int) -> dict:
    from passport.courses.models import Course, CourseAssessment, CourseBooking, CourseSession

    orgs = _orgs(db)
    items = [{"kind": "booking", "course": title, "starts_at": _d(starts), "status": b.status,
              "attendance": b.attendance, "completed_on": _d(b.completed_on), "organisation": orgs.get(b.org_id)}
             for b, title, starts in db.execute(
                 sa.select(CourseBooking, Course.title, CourseSession.starts_at)
                 .join(CourseSession, CourseSession.id == CourseBooking.session_id)
                 .join(Course, Course.id == CourseSession.course_id)
                 .where(CourseBooking.person_id == person_id).order_by(CourseSession.starts_at))]
    items += [{"kind": "assessment", "assessment": a.kind, "method": a.method, "framework": a.framework,
               "standard": a.standard_number, "subject_code": a.category_code, "assessed_on": _d(a.assessed_on),
               "score": a.score, "pass_mark": a.pass_mark, "outcome": a.outcome, "notes": a.notes,
               "assessor": None if a.assessor_id is None else _staff(orgs, a.org_id)}
              for a in db.scalars(sa.select(CourseAssessment).where(CourseAssessment.person_id == person_id)
                                  .order_by(CourseAssessment.assessed_on))]
    return {"title": "Courses, bookings and assessments", "items": items}


def delegation_part(db: Session, person_id: int) -> dict:
    """Competences, assessments and delegations, with resident references but no other resident data."""
    from passport.delegation.models import Assessment, Competency, Delegation, Task

    orgs = _orgs(db)
    names = dict(db.execute(sa.select(Task.id, Task.name)).all())
    items = [{"kind": "assessment", "task": names.get(a.task_id), "resident_ref": a.resident_ref,
              "assessed_on": _d(a.assessed_on), "observations": a.observations, "outcome": a.outcome,
              "level": a.level, "valid_until": _d(a.valid_until), "observation_notes": a.observation_notes,
              "evidence": a.evidence, "assessed_by": _staff(orgs, a.assessor_org_id)}
             for a in db.scalars(sa.select(Assessment).where(Assessment.worker_id == person_id)
                                 .order_by(Assessment.assessed_on))]
    items += [{"kind": "competence", "task": names.get(c.task_id), "resident_ref": c.resident_ref, "level": c.level,
               "valid_from": _d(c.valid_from), "valid_until": _d(c.valid_until), "organisation": orgs.get(c.org_id),
               "ended_at": _d(c.ended_at), "end_reason": c.end_reason}
              for c in db.scalars(sa.select(Competency).where(Competency.worker_id == person_id)
                                  .order_by(Competency.valid_from))]
    items += [{"kind": "delegation", "task": names.get(d.task_id), "resident_ref": d.resident_ref,
               "home": orgs.get(d.org_id), "delegated_by": _staff(orgs, d.delegator_org_id),
               "start_date": _d(d.start_date), "review_date": _d(d.review_date), "ended_at": _d(d.ended_at),
               "end_reason": d.end_reason}
              for d in db.scalars(sa.select(Delegation).where(Delegation.worker_id == person_id)
                                  .order_by(Delegation.start_date))]
    return {"title": "Delegated healthcare tasks: competences and delegations", "items": items}


def certificates_part(db: Session, person_id: int) -> dict:
    from passport.certificates.models import Passport

    orgs = _orgs(db)
    items = []
    for p in db.scalars(sa.select(Passport).where(Passport.person_id == person_id).order_by(Passport.issued_at)):
        history = [{"status": "issued", "at": _d(p.issued_at), "reason": p.issue_reason}]
        for status, at, reason in (("suspended", p.suspended_at, p.suspension_reason),
                                   ("revoked", p.revoked_at, p.revocation_reason),
                                   ("superseded", p.superseded_at, None)):
            if at is not None:
                history.append({"status": status, "at": _d(at), "reason": reason})
        items.append({"passport_id": p.jti, "issuer": orgs.get(p.org_id) if p.org_id else "The scheme",
                      "name_on_passport": p.full_name, "framework": p.framework, "standards_met": p.standards_met,
                      "awarded_on": _d(p.awarded_on), "competencies": p.competencies, "issued_at": _d(p.issued_at),
                      "expires_at": _d(p.expires_at), "status_now": p.state(), "status_history": history})
    return {"title": "Your passports and their status history", "items": items}


def verify_part(db: Session, person_id: int) -> dict:
    """Who checked the person's passports (organisation and when) and which organisations accepted them."""
    from passport.verify.models import Acceptance, VerificationCheck

    orgs = _orgs(db)
    items = [{"kind": "accepted", "organisation": orgs.get(a.org_id), "passport_id": a.jti,
              "accepted_at": _d(a.accepted_at), "name_check": a.name_check}
             for a in db.scalars(sa.select(Acceptance).where(Acceptance.person_id == person_id)
                                 .order_by(Acceptance.accepted_at))]
    try:
        from passport.certificates.models import Passport

        jtis = list(db.scalars(sa.select(Passport.jti).where(Passport.person_id == person_id)))
    except ImportError:  # pragma: no cover - certificates not installed
        jtis = []
    if jtis:
        items += [{"kind": "checked", "organisation": orgs.get(c.org_id) if c.org_id else "Someone not signed in",
                   "passport_id": c.passport_ref, "checked_at": _d(c.at), "result": c.result, "channel": c.channel}
                  for c in db.scalars(sa.select(VerificationCheck).where(VerificationCheck.passport_ref.in_(jtis))
                                      .order_by(VerificationCheck.at))]
    return {"title": "Who checked or accepted your passport", "items": items}


def inspection_part(db: Session, person_id: int) -> dict:
    """Sessions the person took part in. As the one supervised: everything, notes and reflection included.
    As the supervisor of someone else: only the date and kind (the notes are about the other person)."""
    from passport.inspection.models import SupervisionAction, SupervisionSession

    orgs = _orgs(db)
    items = []
    for s in db.scalars(sa.select(SupervisionSession).where(sa.or_(
            SupervisionSession.worker_id == person_id, SupervisionSession.supervisor_id == person_id))
            .order_by(SupervisionSession.held_on)):
        if s.worker_id == person_id:
            actions = db.scalars(sa.select(SupervisionAction).where(SupervisionAction.session_id == s.id)
                                 .order_by(SupervisionAction.id))
            items.append({"your_part": "supervised", "kind": s.kind, "held_on": _d(s.held_on),
                          "home": orgs.get(s.org_id), "supervisor": _staff(orgs, s.org_id),
                          "topics": s.topic_codes, "notes": s.notes, "your_reflection": s.reflection,
                          "actions": [{"text": a.text, "done_at": _d(a.done_at)} for a in actions]})
        else:
            items.append({"your_part": "supervisor", "kind": s.kind, "held_on": _d(s.held_on),
                          "home": orgs.get(s.org_id)})
    return {"title": "Supervision and appraisal", "items": items}


def register(app) -> None:
    """Offer the parts for core and for each installed plugin this one reads."""
    from passport.plugins import contribute, enabled

    for name, fn in (("person", core_person), ("memberships", core_memberships), ("training", core_training),
                     ("care_certificate", core_care_certificate), ("invitations", core_invitations)):
        contribute(app, "personal_data", name, fn)
    contribute(app, "personal_data", "courses", courses_part)
    contribute(app, "personal_data", "delegation", delegation_part)
    if enabled(app, "certificates"):
        contribute(app, "personal_data", "certificates", certificates_part)
    if enabled(app, "verify"):
        contribute(app, "personal_data", "verify", verify_part)
    contribute(app, "personal_data", "supervision", inspection_part)
    contribute(app, "personal_data", "audit", core_audit)

