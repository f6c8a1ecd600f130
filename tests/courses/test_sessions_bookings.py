"""Sessions and bookings: shared places, the waiting list, cancellation, self-booking, the register."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from passport.core.access import today
from passport.core.models import TrainingRecord
from passport.courses import bookings, sessions
from passport.courses.models import CourseSession
from passport.db import utcnow
from passport.errors import Conflict, PermissionDenied, ValidationError
from tests.courses.conftest import slot


def test_schedule_validation_and_access(db, world, course, make_session):
    with pytest.raises(ValidationError) as exc:
        sessions.schedule(db, world.p(world.lead), world.home.id, course.id,
                          {**slot(), "end_time": "08:00", "capacity": 0, "venue": ""})
    assert {"end_time", "capacity", "venue"} <= set(exc.value.fields) or {"capacity", "venue"} <= set(exc.value.fields)
    with pytest.raises(ValidationError) as exc:
        sessions.schedule(db, world.p(world.lead), world.home.id, course.id,
                          {**slot(), "booking_deadline": today() + timedelta(days=30)})
    assert "booking_deadline" in exc.value.fields
    with pytest.raises(PermissionDenied):
        sessions.schedule(db, world.p(world.other_lead), world.home.id, course.id, slot())
    with pytest.raises(ValidationError):  # another home's course cannot be scheduled by Beta
        sessions.schedule(db, world.p(world.other_lead), world.other.id, course.id, slot())
    with pytest.raises(ValidationError) as exc:  # only scheme members can share
        from passport.courses import catalog

        c = catalog.create_course(db, world.p(world.outsider_lead), world.outsider.id, {
            "title": "X", "provider_kind": "in_house", "delivery": "blended", "hours": 1, "categories": [6]})
        sessions.schedule(db, world.p(world.outsider_lead), world.outsider.id, c.id, slot(shared=True))
    assert "shared" in exc.value.fields
    s = make_session(shared=True)
    assert s.places_left == 5 and s.starts_at.tzinfo is not None


def test_shared_places_book_staff_from_two_homes(db, world, make_session, make_person):
    s = make_session(shared=True)
    stranger = make_person(world.outsider, "worker")
    b1 = bookings.book(db, world.p(world.lead), s.id, world.workers[0].id, world.home.id)
    b2 = bookings.book(db, world.p(world.other_lead), s.id, world.other_workers[0].id, world.other.id)
    assert (b1.status, b2.status) == ("confirmed", "confirmed")
    assert s.places_taken == 2
    # Beta's lead sees only Beta's own bookings unless they host
    assert sessions.can_view(db, world.p(world.other_lead), s)
    assert not sessions.can_view(db, world.p(world.outsider_lead), s)
    with pytest.raises(PermissionDenied):  # not open to the outsider
        bookings.book(db, world.p(world.outsider_lead), s.id, stranger.id, world.outsider.id)
    with pytest.raises(ValidationError):  # booked under a home they do not work at
        bookings.book(db, world.p(world.outsider_lead), s.id, world.workers[1].id, world.outsider.id)
    with pytest.raises(PermissionDenied):  # Beta's lead cannot book Alpha's staff
        bookings.book(db, world.p(world.other_lead), s.id, world.workers[1].id, world.home.id)
    with pytest.raises(Conflict):
        bookings.book(db, world.p(world.lead), s.id, world.workers[0].id, world.home.id)


def test_unshared_session_is_for_the_host_only(db, world, make_session):
    s = make_session(shared=False)
    with pytest.raises(PermissionDenied):
        bookings.book(db, world.p(world.other_lead), s.id, world.other_workers[0].id, world.other.id)
    assert not sessions.can_view(db, world.p(world.other_lead), s)


def test_waiting_list_promotes_in_order_when_a_place_frees(db, world, make_session):
    s = make_session(capacity=2, shared=True)
    booked = [bookings.book(db, world.p(world.lead), s.id, w.id, world.home.id) for w in world.workers]
    booked.append(bookings.book(db, world.p(world.other_lead), s.id, world.other_workers[0].id, world.other.id))
    assert [b.status for b in booked] == ["confirmed", "confirmed", "waiting", "waiting", "waiting"]
    rows = bookings.bookings_for(db, s.id)
    assert [bookings.waiting_position(rows, b) for b in booked[2:]] == [1, 2, 3]
    cancelled, promoted = bookings.cancel(db, world.p(world.lead), booked[0].id)
    assert cancelled.status == "cancelled" and [p.id for p in promoted] == [booked[2].id]
    db.refresh(booked[2])
    assert booked[2].status == "confirmed" and s.places_taken == 2
    # leaving the waiting list frees nothing and promotes no one
    _b, promoted = bookings.cancel(db, world.p(world.lead), booked[3].id)
    assert promoted == [] and s.places_taken == 2
    # more places: the next person waiting moves up
    sessions.update(db, world.p(world.lead), s.id, {**slot(capacity=3), "shared": True})
    db.refresh(booked[4])
    assert booked[4].status == "confirmed" and s.places_taken == 3
    with pytest.raises(ValidationError):  # cannot shrink below the places taken
        sessions.update(db, world.p(world.lead), s.id, slot(capacity=1))
    # re-booking a cancelled place puts them at the back of the queue
    again = bookings.book(db, world.p(world.lead), s.id, world.workers[0].id, world.home.id)
    assert again.id == booked[0].id and again.status == "waiting"


def test_database_refuses_overbooking(db, world, make_session):
    s = make_session(capacity=1)
    with pytest.raises(sa.exc.IntegrityError):
        with db.begin_nested():
            db.execute(sa.update(CourseSession).where(CourseSession.id == s.id).values(places_taken=2))


def test_self_booking_rules(db, world, make_session):
    closed = make_session()
    with pytest.raises(PermissionDenied):
        bookings.book(db, world.p(world.workers[0]), closed.id, world.workers[0].id)
    s = make_session(workers_may_book=True, shared=True)
    mine = bookings.book(db, world.p(world.other_workers[1]), s.id, world.other_workers[1].id)
    assert mine.status == "confirmed" and mine.org_id == world.other.id
    with pytest.raises(PermissionDenied):  # a worker cannot book someone else
        bookings.book(db, world.p(world.workers[0]), s.id, world.workers[1].id)
    s.booking_deadline = utcnow() - timedelta(minutes=1)
    with pytest.raises(Conflict):
        bookings.book(db, world.p(world.workers[2]), s.id, world.workers[2].id)
    # their own cancellation works; someone else's does not
    with pytest.raises(PermissionDenied):
        bookings.cancel(db, world.p(world.workers[0]), mine.id)
    bookings.cancel(db, world.p(world.other_workers[1]), mine.id)


def test_register_and_completion_write_ledger_records(db, world, make_session, course):
    s = make_session(days=0)
    b = [bookings.book(db, world.p(world.lead), s.id, w.id, world.home.id) for w in world.workers[:3]]
    with pytest.raises(PermissionDenied):
        sessions.record_attendance(db, world.p(world.other_lead), s.id, {b[0].id: "present"})
    with pytest.raises(ValidationError):
        sessions.record_attendance(db, world.p(world.lead), s.id, {b[0].id: "asleep"})
    result = sessions.record_attendance(db, world.p(world.lead), s.id,
                                        {b[0].id: "present", b[1].id: "late", b[2].id: "absent"})
    assert result["counts"] == {"present": 1, "late": 1, "absent": 1}
    recs = result["records"]
    assert sorted(r.person_id for r in recs) == sorted([world.workers[0].id, world.workers[1].id])
    r = recs[0]
    assert (r.source, r.category_code, r.completed_on, r.org_id) == ("course", 6, today(), world.home.id)
    assert r.source_ref.startswith(f"courses:session:{s.id}:booking:") and r.recorded_by_id == world.lead.id
    assert r.expires_on is not None  # fire safety: 12-month refresh from the subject
    # taking the register again is idempotent: no duplicate records
    sessions.record_attendance(db, world.p(world.lead), s.id, {b[0].id: "present"})
    assert db.scalar(sa.select(sa.func.count()).select_from(TrainingRecord).where(
        TrainingRecord.source_ref.like(f"courses:session:{s.id}:%"))) == 2
    with pytest.raises(ValidationError):  # a completed course stands: correct the record instead
        sessions.record_attendance(db, world.p(world.lead), s.id, {b[0].id: "absent"})
    with pytest.raises(Conflict):
        bookings.cancel(db, world.p(world.lead), b[0].id)
    future = make_session(days=3)
    fb = bookings.book(db, world.p(world.lead), future.id, world.workers[0].id, world.home.id)
    with pytest.raises(ValidationError):
        sessions.record_attendance(db, world.p(world.lead), future.id, {fb.id: "present"})


def test_cancel_session_releases_places(db, world, make_session):
    s = make_session(capacity=1)
    bookings.book(db, world.p(world.lead), s.id, world.workers[0].id, world.home.id)
    bookings.book(db, world.p(world.lead), s.id, world.workers[1].id, world.home.id)
    with pytest.raises(PermissionDenied):
        sessions.cancel(db, world.p(world.other_lead), s.id)
    live = sessions.cancel(db, world.p(world.lead), s.id)
    assert len(live) == 2 and s.places_taken == 0 and s.cancelled_at is not None
    with pytest.raises(Conflict):
        bookings.book(db, world.p(world.lead), s.id, world.workers[2].id, world.home.id)
