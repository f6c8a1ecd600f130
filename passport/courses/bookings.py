"""Bookings: places and the waiting list.

A place is taken by ``UPDATE courses_session SET places_taken = places_taken + 1 WHERE id = :id AND
places_taken < capacity``: the database decides who gets the last place. On PostgreSQL the second
writer waits for the first's row lock and then re-checks the condition; on SQLite writers are serialised
(``BEGIN IMMEDIATE``). The CHECK constraint ``places_taken <= capacity`` is the backstop. Whoever does
not get a place goes on the waiting list, and is promoted automatically when a place frees.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport import audit
from passport.core.access import Principal, has_role
from passport.core.models import Person
from passport.courses.common import TRAINING_ROLES, is_current_member, member_orgs
from passport.courses.models import CourseBooking, CourseSession
from passport.courses.sessions import can_manage, get_session, open_to
from passport.db import utcnow
from passport.errors import Conflict, NotFound, PermissionDenied, ValidationError


def _take_place(db: Session, session_id: int) -> bool:
    result = db.execute(
        sa.update(CourseSession)
        .where(CourseSession.id == session_id, CourseSession.places_taken < CourseSession.capacity,
               CourseSession.cancelled_at.is_(None))
        .values(places_taken=CourseSession.places_taken + 1)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def _free_place(db: Session, session_id: int) -> None:
    db.execute(sa.update(CourseSession).where(CourseSession.id == session_id, CourseSession.places_taken > 0)
               .values(places_taken=CourseSession.places_taken - 1).execution_options(synchronize_session=False))


def _refresh(db: Session, s: CourseSession) -> None:
    db.refresh(s, ["places_taken"])


def book(db: Session, principal: Principal, session_id: int, person_id: int, org_id: int | None = None
         ) -> CourseBooking:
    """Book ``person_id`` on a session under their home ``org_id``: a confirmed place if one is left, else
    the waiting list. Training staff book people of their own organisation; a worker may book themself
    when the session allows it and the booking deadline has not passed."""
    s = get_session(db, session_id)
    person = db.get(Person, person_id) if isinstance(person_id, int) else None
    if person is None:
        raise ValidationError("Unknown person.", {"person_id": "Choose someone to book."})
    if s.cancelled_at is not None:
        raise Conflict("This session has been cancelled.")
    self_booking = principal.person_id == person_id and principal.token_org_id is None
    if org_id is None:
        candidates = [o for o in member_orgs(db, person_id) if open_to(db, s, o)]
        staff = [o for o in candidates if has_role(db, principal, TRAINING_ROLES, o)]
        org_id = (staff or candidates or [None])[0]
    if org_id is None or not is_current_member(db, person_id, org_id):
        raise ValidationError("That person cannot be booked on this session.",
                              {"person_id": "Places on this session are not open to this person's organisation."})
    if not open_to(db, s, org_id):
        raise PermissionDenied("Places on this session are not open to that organisation.")
    if has_role(db, principal, TRAINING_ROLES, org_id):
        pass  # training staff may book their own people, even after the deadline (e.g. recording a past session)
    elif self_booking:
        if not s.workers_may_book:
            raise PermissionDenied("Ask your training lead to book you on this session.")
        now = utcnow()
        if now >= s.starts_at or (s.booking_deadline is not None and now > s.booking_deadline):
            raise Conflict("Booking for this session has closed.")
    else:
        raise PermissionDenied("You can only book people from organisations where you are training staff.")
    existing = db.scalar(sa.select(CourseBooking).where(CourseBooking.session_id == s.id,
                                                        CourseBooking.person_id == person_id))
    if existing is not None and existing.status != "cancelled":
        raise Conflict(f"{person.full_name} is already " + (
            "booked on this session." if existing.status == "confirmed" else "on the waiting list for this session."))
    now = utcnow()
    try:
        with db.begin_nested():  # the place and the booking row succeed or fail together
            status = "confirmed" if _take_place(db, s.id) else "waiting"
            booking = existing or CourseBooking(session_id=s.id, person_id=person_id)
            booking.org_id, booking.status, booking.booked_at, booking.status_changed_at = org_id, status, now, now
            booking.booked_by_id, booking.attendance, booking.completed_on = principal.person_id, None, None
            db.add(booking)
            db.flush()
    except sa.exc.IntegrityError:  # the same person booked twice at the same moment
        raise Conflict(f"{person.full_name} is already booked on this session.") from None
    _refresh(db, s)
    audit.record(db, principal.actor, "booking.create", "course_booking", booking.id, org_id=org_id,
                 session_id=s.id, person_id=person_id, status=status)
    return booking


def book_many(db: Session, principal: Principal, session_id: int, picks: list[tuple[int, int]]
              ) -> tuple[list[CourseBooking], list[str]]:
    """Book several people (``(org_id, person_id)`` pairs, in order) on one session: each gets a place while
    places last, then the waiting list. Someone already booked is skipped and named; any other refusal
    (not allowed, not open to that home) stops the whole request, so nothing is half done.
    Returns (the new bookings, the names of people already booked)."""
    booked = set(db.scalars(sa.select(CourseBooking.person_id).where(
        CourseBooking.session_id == session_id, CourseBooking.status != "cancelled")))
    made, already = [], []
    for org_id, person_id in dict.fromkeys(picks):
        if person_id in booked:
            person = db.get(Person, person_id)
            already.append(person.full_name if person else str(person_id))
            continue
        made.append(book(db, principal, session_id, person_id, org_id))
        booked.add(person_id)
    return made, already


def cancel(db: Session, principal: Principal, booking_id: int) -> tuple[CourseBooking, list[CourseBooking]]:
    """Cancel a place or a waiting-list entry. A freed place goes to the next person waiting.
    Returns (the booking, bookings promoted from the waiting list)."""
    b = db.get(CourseBooking, booking_id)
    if b is None:
        raise NotFound("No such booking.")
    s = b.session
    is_self = principal.person_id == b.person_id and principal.token_org_id is None
    if not (has_role(db, principal, TRAINING_ROLES, b.org_id) or can_manage(db, principal, s) or is_self):
        raise PermissionDenied("You cannot cancel this booking.")
    if is_self and not has_role(db, principal, TRAINING_ROLES, b.org_id) and utcnow() >= s.starts_at:
        raise Conflict("The session has started; ask your training lead.")
    if b.attendance is not None:
        raise Conflict("The register has been taken for this booking, so it cannot be cancelled.")
    old = b.status
    if old == "cancelled":
        raise Conflict("This booking is already cancelled.")
    result = db.execute(sa.update(CourseBooking).where(CourseBooking.id == b.id, CourseBooking.status == old)
                        .values(status="cancelled", status_changed_at=utcnow())
                        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict("This booking changed while you were cancelling it; reload and try again.")
    if old == "confirmed":
        _free_place(db, s.id)
    db.refresh(b)
    _refresh(db, s)
    promoted = promote_waiting(db, s, principal.actor) if old == "confirmed" else []
    audit.record(db, principal.actor, "booking.cancel", "course_booking", b.id, org_id=b.org_id, session_id=s.id,
                 was=old, promoted=[p.id for p in promoted])
    return b, promoted


def promote_waiting(db: Session, s: CourseSession, actor: audit.Actor) -> list[CourseBooking]:
    """Give free places to the people waiting longest; returns the bookings promoted."""
    promoted = []
    if s.cancelled_at is not None or s.starts_at <= utcnow():
        return promoted
    while True:
        nxt = db.scalar(sa.select(CourseBooking.id).where(CourseBooking.session_id == s.id,
                                                          CourseBooking.status == "waiting")
                        .order_by(CourseBooking.booked_at, CourseBooking.id).limit(1))
        if nxt is None or not _take_place(db, s.id):
            break
        done = db.execute(sa.update(CourseBooking).where(CourseBooking.id == nxt, CourseBooking.status == "waiting")
                          .values(status="confirmed", status_changed_at=utcnow())
                          .execution_options(synchronize_session=False))
        if done.rowcount != 1:  # cancelled by someone else meanwhile: give the place back and look again
            _free_place(db, s.id)
            continue
        booking = db.get(CourseBooking, nxt)
        db.refresh(booking)
        promoted.append(booking)
        audit.record(db, actor, "booking.promote", "course_booking", booking.id, org_id=booking.org_id,
                     session_id=s.id, person_id=booking.person_id)
    _refresh(db, s)
    return promoted


def bookings_for(db: Session, session_id: int) -> list[CourseBooking]:
    """Every booking on a session: confirmed by name, then the waiting list in order, then cancelled."""
    rows = list(db.scalars(sa.select(CourseBooking).join(Person, Person.id == CourseBooking.person_id)
                           .where(CourseBooking.session_id == session_id)
                           .order_by(CourseBooking.booked_at, CourseBooking.id)))
    order = {"confirmed": 0, "waiting": 1, "cancelled": 2}
    return sorted(rows, key=lambda b: (order[b.status], (b.person.family_name, b.person.given_name)
                                       if b.status != "waiting" else ("", "")))


def waiting_position(bookings: list[CourseBooking], booking: CourseBooking) -> int | None:
    waiting = [b.id for b in bookings if b.status == "waiting"]
    return waiting.index(booking.id) + 1 if booking.id in waiting else None


def bookings_of_person(db: Session, person_id: int, upcoming_only: bool = False) -> list[CourseBooking]:
    q = (sa.select(CourseBooking).join(CourseSession, CourseSession.id == CourseBooking.session_id)
         .where(CourseBooking.person_id == person_id).order_by(CourseSession.starts_at.desc()))
    if upcoming_only:
        q = q.where(CourseSession.ends_at >= utcnow(), CourseBooking.status != "cancelled")
    return list(db.scalars(q))


def booking_json(b: CourseBooking) -> dict:
    return {"id": b.id, "session_id": b.session_id, "person_id": b.person_id, "person_name": b.person.full_name,
            "org_id": b.org_id, "status": b.status, "booked_at": b.booked_at.isoformat(),
            "attendance": b.attendance, "completed_on": b.completed_on.isoformat() if b.completed_on else None}


def view_check(db: Session, principal: Principal, session: CourseSession) -> None:
    from passport.courses.sessions import can_view

    if not can_view(db, principal, session):
        raise PermissionDenied("You cannot see this session.")


def session_for(db: Session, principal: Principal, session_id: int) -> CourseSession:
    s = get_session(db, session_id)
    view_check(db, principal, s)
    return s
