"""Two people take the last place at once: exactly one gets it, enforced by the database.

These tests need real, separate transactions, so they replace the rolled-back ``db`` fixture, commit their
own data through the app's engine, fire concurrent API requests from threads, and delete everything after.
They run on SQLite and on PostgreSQL (set PASSPORT_TEST_DATABASE_URL).
"""
import threading
import uuid
from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa

from passport import audit, db as dbm
from passport.core import accounts
from passport.core.access import Principal, today
from passport.core.models import Membership, Organisation, Person, Scheme, SchemeMember, User
from passport.courses import catalog, sessions
from passport.courses.models import CourseBooking, CourseSession
from passport.reminders import ReminderSent

ROUNDS = 4


@pytest.fixture
def db(app):
    """Overrides the autouse rolled-back fixture: plain sessions on the app's engine (committed for real)."""
    app.extensions.pop(dbm.TEST_CONNECTION_KEY, None)
    ctx = app.app_context()
    ctx.push()
    dbm.session.remove()
    try:
        yield dbm.session
    finally:
        dbm.session.remove()
        ctx.pop()


@pytest.fixture
def committed(app, db):
    """Two scheme homes, a lead and a worker in each, API tokens; removed again afterwards."""
    tag = uuid.uuid4().hex[:8]
    first_audit = db.scalar(sa.select(sa.func.max(audit.AuditEntry.id))) or 0
    had_scheme = db.scalar(sa.select(Scheme.id).limit(1)) is not None
    scheme = db.scalar(sa.select(Scheme).limit(1)) or Scheme(name=f"Race scheme {tag}", cc_version="2025")
    db.add(scheme)
    orgs = [Organisation(name=f"Race home {tag} {i}", kind="care_home") for i in range(2)]
    db.add_all(orgs)
    db.flush()
    people, tokens = {}, {}
    for i, org in enumerate(orgs):
        db.add(SchemeMember(scheme_id=scheme.id, org_id=org.id))
        for role in ("training_lead", "worker"):
            p = Person(given_name=role.title(), family_name=f"{tag}{i}", email=f"{role}.{tag}.{i}@example.test")
            db.add(p)
            db.flush()
            db.add(Membership(person_id=p.id, org_id=org.id, role=role, job_role="care_worker",
                              start_date=date(2020, 1, 1)))
            user = User(person_id=p.id, password_hash="x")
            db.add(user)
            db.flush()
            people[(i, role)] = p
            if role == "training_lead":
                secret, _ = accounts.create_api_token(db, user, org.id, "training_lead", "race")
                tokens[i] = {"Authorization": f"Bearer {secret}"}
    lead0 = Principal(person=people[(0, "training_lead")])
    course = catalog.create_course(db, lead0, orgs[0].id, {"title": f"Race {tag}", "provider_kind": "in_house",
                                                           "delivery": "face_to_face", "hours": 1, "categories": [6]})
    slots = [sessions.schedule(db, lead0, orgs[0].id, course.id, {
        "date": today() + timedelta(days=5 + n), "start_time": time(9), "end_time": time(10), "venue": "Room",
        "capacity": 1, "shared": True}) for n in range(ROUNDS)]
    db.commit()
    yield {"orgs": orgs, "people": people, "tokens": tokens, "sessions": [s.id for s in slots]}
    db.rollback()
    org_ids = [o.id for o in orgs]
    person_ids = [p.id for p in people.values()]
    db.execute(sa.delete(CourseSession).where(CourseSession.org_id.in_(org_ids)))
    from passport.courses.models import Course

    db.execute(sa.delete(Course).where(Course.org_id.in_(org_ids)))
    db.execute(sa.delete(ReminderSent).where(ReminderSent.key.like(f"%{tag}%")))
    db.execute(sa.delete(Person).where(Person.id.in_(person_ids)))
    db.execute(sa.delete(SchemeMember).where(SchemeMember.org_id.in_(org_ids)))
    db.execute(sa.delete(Organisation).where(Organisation.id.in_(org_ids)))
    if not had_scheme:
        db.execute(sa.delete(Scheme).where(Scheme.id == scheme.id))
    db.execute(sa.delete(audit.AuditEntry).where(audit.AuditEntry.id > first_audit))
    db.commit()


def _race(app, calls):
    """Run each (headers, path, body) as a request in its own thread, all released at once."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, headers, path, body):
        with app.test_client() as client:
            barrier.wait()
            resp = client.post(path, json=body, headers=headers)
            results[i] = (resp.status_code, resp.get_json())
        with app.app_context():
            dbm.session.remove()

    threads = [threading.Thread(target=run, args=(i, *c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_two_people_take_the_last_place_at_once(app, db, committed):
    people, tokens = committed["people"], committed["tokens"]
    # ids read now: after a rollback, touching an expired object would open a transaction in this thread
    workers = [people[(0, "worker")].id, people[(1, "worker")].id]
    for sid in committed["sessions"]:
        results = _race(app, [
            (tokens[0], f"/api/v1/courses/sessions/{sid}/bookings", {"person_id": workers[0]}),
            (tokens[1], f"/api/v1/courses/sessions/{sid}/bookings", {"person_id": workers[1]}),
        ])
        assert [code for code, _ in results] == [201, 201], (sid, results)
        assert sorted(body["status"] for _, body in results) == ["confirmed", "waiting"]
        db.expire_all()
        assert db.get(CourseSession, sid).places_taken == 1
        statuses = sorted(db.scalars(sa.select(CourseBooking.status).where(CourseBooking.session_id == sid)))
        assert statuses == ["confirmed", "waiting"]
        db.rollback()  # end the read transaction (on SQLite it would block the next round's writers)


def test_the_same_person_booked_twice_at_once(app, db, committed):
    people, tokens = committed["people"], committed["tokens"]
    sid = committed["sessions"][0]
    worker = people[(0, "worker")].id
    results = _race(app, [(tokens[0], f"/api/v1/courses/sessions/{sid}/bookings", {"person_id": worker})] * 2)
    assert sorted(code for code, _ in results) == [201, 409], results
    db.expire_all()
    assert db.scalar(sa.select(sa.func.count()).select_from(CourseBooking).where(CourseBooking.session_id == sid)) == 1
    assert db.get(CourseSession, sid).places_taken == 1
    db.rollback()
