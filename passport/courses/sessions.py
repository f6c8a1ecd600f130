"""Sessions: scheduled runs of a course hosted by one organisation, optionally open to other homes in the
scheme; the register (present, late, absent); and course completion (attendance plus, where the course
has a pass mark, a passed test), which writes training records to the core ledger."""
from __future__ import annotations

from datetime import date, time

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from passport import audit
from passport.core import records
from passport.core.access import Principal, has_role, is_scheme_admin, orgs_with_role, today
from passport.core.models import Organisation, TrainingRecord
from passport.core.services import get_or_404
from passport.courses.common import (
    TRAINING_ROLES, clean_text, collect, member_orgs, require_training_role, scheme_org_ids, to_utc, uk_date_of,
)
from passport.courses.models import ATTENDANCE, Course, CourseAssessment, CourseBooking, CourseSession
from passport.courses.requirements import expiry_for
from passport.db import utcnow
from passport.errors import Conflict, NotFound, PermissionDenied, ValidationError
from passport.params import id_or_none


def _time(value, label: str) -> time:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"Enter the {label} as a 24-hour time, like 09:30.") from None


def _date(value, label: str, required: bool = True) -> date | None:
    if value in (None, ""):
        if required:
            raise ValueError(f"Enter the {label}.")
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"Enter the {label} as a real date, like 2026-03-27.") from None


def _session_fields(data: dict) -> dict:
    def capacity():
        try:
            value = int(data.get("capacity"))
        except (TypeError, ValueError):
            raise ValueError("Enter how many places there are (1 to 1000).") from None
        if not 1 <= value <= 1000:
            raise ValueError("Enter how many places there are (1 to 1000).")
        return value

    cleaned, errors = collect({
        "day": lambda: _date(data.get("date"), "date of the session"),
        "start": lambda: _time(data.get("start_time"), "start time"),
        "end": lambda: _time(data.get("end_time"), "end time"),
        "venue": lambda: clean_text(data.get("venue"), "the venue", 300, required=True),
        "trainer_name": lambda: clean_text(data.get("trainer_name"), "the trainer's name", 200),
        "capacity": capacity,
        "deadline": lambda: _date(data.get("booking_deadline"), "booking deadline", required=False),
        "notes": lambda: clean_text(data.get("notes"), "the notes", 2000),
    })
    if not errors and cleaned["end"] <= cleaned["start"]:
        errors["end_time"] = "The session must end after it starts."
    if not errors and cleaned["deadline"] and cleaned["deadline"] > cleaned["day"]:
        errors["booking_deadline"] = "The booking deadline must be on or before the day of the session."
    for src, dst in (("day", "date"), ("start", "start_time"), ("end", "end_time"), ("deadline", "booking_deadline")):
        if src in errors:
            errors[dst] = errors.pop(src)
    if errors:
        raise ValidationError("The session was not saved: " + "; ".join(errors.values()), errors)
    day = cleaned.pop("day")
    deadline = cleaned.pop("deadline")
    return dict(starts_at=to_utc(day, cleaned.pop("start")), ends_at=to_utc(day, cleaned.pop("end")),
                booking_deadline=to_utc(deadline, time(23, 59)) if deadline else None,
                shared=bool(data.get("shared")), workers_may_book=bool(data.get("workers_may_book")), **cleaned)


def can_manage(db: Session, principal: Principal, s: CourseSession) -> bool:
    """The host organisation's training staff (or a scheme admin) run the session and its register."""
    return has_role(db, principal, TRAINING_ROLES, s.org_id)


def open_to(db: Session, s: CourseSession, org_id: int) -> bool:
    """Whether people from ``org_id`` may have places: the host itself, or any scheme member when shared."""
    if org_id == s.org_id:
        return True
    orgs = scheme_org_ids(db)
    return s.shared and org_id in orgs and s.org_id in orgs


def schedule(db: Session, principal: Principal, org_id: int, course_id: int, data: dict) -> CourseSession:
    """Schedule a session of a course (the host's own course or a scheme course) at ``org_id``."""
    get_or_404(db, Organisation, org_id)
    require_training_role(db, principal, org_id)
    course = db.get(Course, course_id) if isinstance(course_id, int) else None
    if course is None or not course.active or course.org_id not in (None, org_id):
        raise ValidationError("Choose one of your organisation's courses or a scheme course.",
                              {"course_id": "Choose a course from the list."})
    fields = _session_fields(data)
    if fields["shared"] and org_id not in scheme_org_ids(db):
        raise ValidationError("Only scheme members can share places.",
                              {"shared": "Your organisation is not a member of the scheme, so places cannot be shared."})
    s = CourseSession(course_id=course.id, org_id=org_id, created_by_id=principal.person_id, **fields)
    db.add(s)
    db.flush()
    audit.record(db, principal.actor, "session.schedule", "course_session", s.id, org_id=org_id, course_id=course.id,
                 starts_at=s.starts_at.isoformat(), capacity=s.capacity, shared=s.shared)
    return s


def update(db: Session, principal: Principal, session_id: int, data: dict) -> tuple[CourseSession, list]:
    """Change a session. Capacity cannot drop below the places already taken; extra places go to the
    waiting list in order. Returns (session, bookings promoted from the waiting list)."""
    from passport.courses.bookings import promote_waiting

    s = get_session(db, session_id)
    if not can_manage(db, principal, s):
        raise PermissionDenied("Only the host organisation's training staff can change this session.")
    if s.cancelled_at is not None:
        raise Conflict("This session has been cancelled.")
    fields = _session_fields(data)
    if fields["capacity"] < s.places_taken:
        raise ValidationError("Too few places.", {"capacity": f"{s.places_taken} people already have places; "
                                                              "cancel some bookings first or keep at least that many."})
    for k, v in fields.items():
        setattr(s, k, v)
    db.flush()
    promoted = promote_waiting(db, s, principal.actor)
    audit.record(db, principal.actor, "session.update", "course_session", s.id, org_id=s.org_id,
                 capacity=s.capacity, promoted=[b.id for b in promoted])
    return s, promoted


def cancel(db: Session, principal: Principal, session_id: int) -> list[CourseBooking]:
    """Cancel a session and every booking on it; returns the bookings that were live (to tell people)."""
    s = get_session(db, session_id)
    if not can_manage(db, principal, s):
        raise PermissionDenied("Only the host organisation's training staff can cancel this session.")
    if s.cancelled_at is not None:
        raise Conflict("This session is already cancelled.")
    if db.scalar(sa.select(CourseBooking.id).where(CourseBooking.session_id == s.id,
                                                   CourseBooking.attendance.is_not(None)).limit(1)):
        raise Conflict("The register has been taken for this session, so it cannot be cancelled.")
    live = list(db.scalars(sa.select(CourseBooking).where(CourseBooking.session_id == s.id,
                                                          CourseBooking.status != "cancelled")))
    now = utcnow()
    for b in live:
        b.status, b.status_changed_at = "cancelled", now
    s.cancelled_at, s.places_taken = now, 0
    db.flush()
    audit.record(db, principal.actor, "session.cancel", "course_session", s.id, org_id=s.org_id, bookings=len(live))
    return live


def get_session(db: Session, session_id: int) -> CourseSession:
    s = db.get(CourseSession, session_id)
    if s is None:
        raise NotFound("No such session.")
    return s


def can_view(db: Session, principal: Principal, s: CourseSession) -> bool:
    """Host staff, training staff of homes it is open to, and anyone booked on it."""
    if can_manage(db, principal, s) or is_scheme_admin(db, principal):
        return True
    if any(open_to(db, s, o) for o in orgs_with_role(db, principal, TRAINING_ROLES)):
        return True
    if s.workers_may_book and any(open_to(db, s, o) for o in member_orgs(db, principal.person_id)):
        return True
    return db.scalar(sa.select(CourseBooking.id).where(CourseBooking.session_id == s.id,
                                                       CourseBooking.person_id == principal.person_id)) is not None


def list_sessions(db: Session, principal: Principal, *, upcoming: bool = True, org_id: int | None = None,
                  limit: int = 200) -> list[CourseSession]:
    """Sessions the principal can see: hosted by their organisations, shared with them, or open to book."""
    q = (sa.select(CourseSession).options(selectinload(CourseSession.course), selectinload(CourseSession.organisation))
         .order_by(CourseSession.starts_at.desc() if not upcoming else CourseSession.starts_at).limit(limit))
    now = utcnow()
    q = q.where(CourseSession.ends_at >= now) if upcoming else q.where(CourseSession.ends_at < now)
    if not is_scheme_admin(db, principal):
        staff_orgs = orgs_with_role(db, principal, TRAINING_ROLES)
        mine = member_orgs(db, principal.person_id)
        scheme = scheme_org_ids(db)
        in_scheme = bool(set(staff_orgs + mine) & scheme)
        booked = sa.select(CourseBooking.session_id).where(CourseBooking.person_id == principal.person_id)
        q = q.where(sa.or_(
            CourseSession.org_id.in_(staff_orgs),
            sa.and_(CourseSession.shared.is_(True), sa.literal(in_scheme and bool(staff_orgs)),
                    CourseSession.org_id.in_(scheme)),
            sa.and_(CourseSession.workers_may_book.is_(True), sa.or_(
                CourseSession.org_id.in_(mine),
                sa.and_(CourseSession.shared.is_(True), sa.literal(bool(set(mine) & scheme)),
                        CourseSession.org_id.in_(scheme)))),
            CourseSession.id.in_(booked)))
    if org_id is not None:
        q = q.where(CourseSession.org_id == org_id)
    return list(db.scalars(q))


def session_day(s: CourseSession) -> date:
    return uk_date_of(s.starts_at)


# --- the register and completion -----------------------------------------------------------------


def record_attendance(db: Session, principal: Principal, session_id: int, marks: dict) -> dict:
    """Take the register: ``marks`` maps booking id -> 'present' | 'late' | 'absent' ('' leaves it unmarked).
    Completes the course for attendees where no test is needed (or the test is already passed).
    Returns counts and the training records created."""
    s = get_session(db, session_id)
    if not can_manage(db, principal, s):
        raise PermissionDenied("Only the host organisation's training staff can take the register.")
    if s.cancelled_at is not None:
        raise Conflict("This session has been cancelled.")
    if session_day(s) > today():
        raise ValidationError("The session has not happened yet.",
                              {"attendance": "You can take the register from the day of the session."})
    bookings = {b.id: b for b in db.scalars(sa.select(CourseBooking).where(CourseBooking.session_id == s.id))}
    errors = {}
    for key, mark in marks.items():
        b = bookings.get(id_or_none(key))
        if b is None or b.status != "confirmed":
            errors[f"booking-{key}"] = "That person does not have a confirmed place on this session."
        elif mark not in ("", None) and mark not in ATTENDANCE:
            errors[f"booking-{key}"] = "Choose present, late or absent."
        elif b.completed_on is not None and mark not in ("present", "late"):
            errors[f"booking-{key}"] = (f"{b.person.full_name} has completed the course; their training record "
                                        "stands (correct the record if it is wrong).")
    if errors:
        raise ValidationError("The register was not saved.", errors)
    now, counts, created = utcnow(), {k: 0 for k in ATTENDANCE}, []
    for key, mark in marks.items():
        b = bookings[id_or_none(key)]
        mark = mark or None
        if mark != b.attendance:
            b.attendance, b.attendance_by_id, b.attendance_at = mark, principal.person_id, now
        if mark:
            counts[mark] += 1
    db.flush()
    audit.record(db, principal.actor, "session.register", "course_session", s.id, org_id=s.org_id, **counts)
    for b in bookings.values():
        created += try_complete(db, principal, b)
    return {"counts": counts, "records": created}


def try_complete(db: Session, principal: Principal, booking: CourseBooking) -> list[TrainingRecord]:
    """Write the training records for a booking once the course is complete: attended (present or late)
    and, when the course has a pass mark, a passed test at this session. Idempotent."""
    s = booking.session
    course = s.course
    if booking.completed_on is not None or booking.attendance not in ("present", "late") or booking.status != "confirmed":
        return []
    if course.pass_mark is not None and db.scalar(sa.select(CourseAssessment.id).where(
            CourseAssessment.session_id == s.id, CourseAssessment.person_id == booking.person_id,
            CourseAssessment.outcome == "passed").limit(1)) is None:
        return []
    completed = session_day(s)
    if completed > today():
        return []
    booking.completed_on = completed
    created = []
    host = s.organisation.name
    for category in course.categories:
        if course.validity_mode == "none":
            expires, never = None, True
        else:
            expires, never = expiry_for(db, booking.org_id, booking.person_id, category.code, completed,
                                        months=course.validity_months if course.validity_mode == "months" else None)
        created.append(records.add_training_record(
            db, None, person_id=booking.person_id, org_id=booking.org_id, category_code=category.code,
            completed_on=completed, source="course", title=course.title, expires_on=expires, no_expiry=never,
            source_ref=f"courses:session:{s.id}:booking:{booking.id}", accredited=course.accredited,
            provider_name=course.provider_name or host, actor=principal.actor,
            notes=f"{course.title} at {s.venue} ({host})" + ("; scheme-approved course" if course.scheme_approved else "")))
    db.flush()
    return created


def session_json(s: CourseSession) -> dict:
    return {"id": s.id, "course_id": s.course_id, "course_title": s.course.title, "org_id": s.org_id,
            "host": s.organisation.name, "starts_at": s.starts_at.isoformat(), "ends_at": s.ends_at.isoformat(),
            "venue": s.venue, "trainer_name": s.trainer_name, "capacity": s.capacity, "places_taken": s.places_taken,
            "places_left": s.places_left, "booking_deadline": s.booking_deadline.isoformat() if s.booking_deadline else None,
            "shared": s.shared, "workers_may_book": s.workers_may_book, "notes": s.notes,
            "cancelled": s.cancelled_at is not None}
