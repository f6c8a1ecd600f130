"""Courses JSON API (``/api/v1/courses``): courses, sessions, bookings, attendance and assessments.
Records, requirements, the matrix and ASC-WDS are in ``api_records``. Every view is described with
``api_doc`` so it appears in the OpenAPI document."""
from __future__ import annotations

from flask import jsonify, request

from passport import db as dbm
from passport.api import ApiError, api_doc, json_body, principal, require_auth
from passport.core.access import require_person_visible
from passport.core.api import parse_date
from passport.core.models import Person
from passport.courses import api_bp, assessments, bookings, catalog, progress, sessions
from passport.courses.views import notify
from passport.params import ID_SCHEMA, body_id, query_bool, query_id

TAGS = ["courses"]
INT_LIST = {"type": "array", "items": {"type": "integer"}}
COURSE_SCHEMA = {"type": "object", "required": ["title", "provider_kind", "delivery", "hours"], "properties": {
    "org_id": {**ID_SCHEMA, "type": ["integer", "null"], "description": "Owner organisation; null for a scheme course"},
    "title": {"type": "string", "maxLength": 200}, "description": {"type": "string"},
    "provider_kind": {"enum": ["in_house", "external"]}, "provider_name": {"type": "string"},
    "delivery": {"enum": ["face_to_face", "e_learning", "blended"]}, "hours": {"type": "number"},
    "categories": {**INT_LIST, "description": "ASC-WDS training category codes"},
    "cc_framework": {"enum": ["2015", "2025", None]}, "standards": INT_LIST,
    "outcomes": {"type": "array", "items": {"type": "string"}},
    "validity_mode": {"enum": ["subject", "months", "none"]}, "validity_months": {"type": ["integer", "null"]},
    "pass_mark": {"type": ["integer", "null"]}, "accredited": {"type": "boolean"}, "active": {"type": "boolean"}}}
SESSION_SCHEMA = {"type": "object", "required": ["org_id", "course_id", "date", "start_time", "end_time", "venue",
                                                 "capacity"], "properties": {
    "org_id": {**ID_SCHEMA, "description": "Host organisation"}, "course_id": ID_SCHEMA,
    "date": {"type": "string", "format": "date"}, "start_time": {"type": "string", "example": "09:30"},
    "end_time": {"type": "string", "example": "12:30"}, "venue": {"type": "string"},
    "trainer_name": {"type": "string"}, "capacity": {"type": "integer"},
    "booking_deadline": {"type": ["string", "null"], "format": "date"}, "shared": {"type": "boolean"},
    "workers_may_book": {"type": "boolean"}, "notes": {"type": "string"}}}
ASSESSMENT_SCHEMA = {"type": "object", "required": ["person_id", "kind"], "properties": {
    "person_id": ID_SCHEMA, "org_id": ID_SCHEMA,
    "kind": {"enum": ["knowledge", "observation"]}, "method": {"enum": ["score", "workbook"]},
    "framework": {"enum": ["2015", "2025"]}, "standard_number": {"type": "integer"},
    "category_code": {"type": "integer"}, "assessed_on": {"type": "string", "format": "date"},
    "score": {"type": "integer"}, "pass_mark": {"type": "integer"},
    "workbook_decision": {"enum": ["accepted", "returned"]}, "return_reason": {"type": "string"},
    "setting": {"type": "string"}, "outcome": {"enum": ["passed", "not_yet"]}, "notes": {"type": "string"}}}


@api_bp.get("/courses")
@api_doc("Courses you can run: your organisations' own courses and the scheme's", tags=TAGS,
         params=[{"name": "org_id", "in": "query", "schema": ID_SCHEMA}])
@require_auth
def list_courses():
    courses = catalog.list_courses(dbm.session, principal(), query_id("org_id"))
    return jsonify({"courses": [catalog.course_json(c) for c in courses]})


@api_bp.post("/courses")
@api_doc("Create a course (training staff of the owner; scheme admins for scheme courses)", body=COURSE_SCHEMA,
         responses={"201": "Created"}, tags=TAGS)
@require_auth
def create_course():
    data = json_body()
    course = catalog.create_course(dbm.session, principal(), body_id(data, "org_id", required=False), data)
    dbm.session.commit()
    return jsonify(catalog.course_json(course)), 201


@api_bp.get("/courses/<id:course_id>")
@api_doc("One course", tags=TAGS)
@require_auth
def get_course(course_id: int):
    return jsonify(catalog.course_json(catalog.get_course(dbm.session, principal(), course_id)))


@api_bp.put("/courses/<id:course_id>")
@api_doc("Replace a course's details (its owner's training staff)", body=COURSE_SCHEMA, tags=TAGS)
@require_auth
def update_course(course_id: int):
    course = catalog.update_course(dbm.session, principal(), course_id, json_body())
    dbm.session.commit()
    return jsonify(catalog.course_json(course))


@api_bp.post("/courses/<id:course_id>/approval")
@api_doc("Approve a course as meeting the scheme's quality threshold, or withdraw approval (scheme admins)",
         body={"type": "object", "required": ["approved"], "properties": {"approved": {"type": "boolean"}}}, tags=TAGS)
@require_auth
def approve_course(course_id: int):
    data = json_body()
    if not isinstance(data.get("approved"), bool):
        raise ApiError(400, "validation_error", "approved must be true or false.", {"approved": "Give true or false."})
    course = catalog.set_approval(dbm.session, principal(), course_id, data["approved"])
    dbm.session.commit()
    return jsonify(catalog.course_json(course))


@api_bp.get("/sessions")
@api_doc("Sessions you can see: hosted by your organisations, shared with them, or open for you to book",
         tags=TAGS, params=[{"name": "past", "in": "query", "schema": {"type": "boolean"}},
                            {"name": "org_id", "in": "query", "schema": ID_SCHEMA}])
@require_auth
def list_sessions():
    rows = sessions.list_sessions(dbm.session, principal(), upcoming=not query_bool("past"),
                                  org_id=query_id("org_id"))
    return jsonify({"sessions": [sessions.session_json(s) for s in rows]})


@api_bp.post("/sessions")
@api_doc("Schedule a session of a course at a host organisation (times are UK local)", body=SESSION_SCHEMA,
         responses={"201": "Created"}, tags=TAGS)
@require_auth
def create_session():
    data = json_body()
    s = sessions.schedule(dbm.session, principal(), body_id(data, "org_id"), body_id(data, "course_id"), data)
    dbm.session.commit()
    return jsonify(sessions.session_json(s)), 201


@api_bp.get("/sessions/<id:session_id>")
@api_doc("One session with its places", tags=TAGS)
@require_auth
def get_session(session_id: int):
    return jsonify(sessions.session_json(bookings.session_for(dbm.session, principal(), session_id)))


@api_bp.post("/sessions/<id:session_id>/cancel")
@api_doc("Cancel a session and release every place (host training staff)", tags=TAGS)
@require_auth
def cancel_session(session_id: int):
    live = sessions.cancel(dbm.session, principal(), session_id)
    dbm.session.commit()
    return jsonify({"cancelled": True, "bookings_released": len(live)})


@api_bp.get("/sessions/<id:session_id>/bookings")
@api_doc("Bookings on a session: confirmed, waiting (in order) and cancelled", tags=TAGS)
@require_auth
def list_bookings(session_id: int):
    p = principal()
    s = bookings.session_for(dbm.session, p, session_id)
    rows = bookings.bookings_for(dbm.session, s.id)
    if not sessions.can_manage(dbm.session, p, s):
        from passport.core.access import orgs_with_role
        from passport.courses.common import TRAINING_ROLES

        mine = set(orgs_with_role(dbm.session, p, TRAINING_ROLES))
        rows = [b for b in rows if b.org_id in mine or b.person_id == p.person_id]
    return jsonify({"bookings": [{**bookings.booking_json(b), "waiting_position": bookings.waiting_position(rows, b)}
                                 for b in rows]})


@api_bp.post("/sessions/<id:session_id>/bookings")
@api_doc("Book a person: a place if one is left, else the waiting list (HTTP 201 either way; see status)",
         body={"type": "object", "required": ["person_id"], "properties": {
             "person_id": ID_SCHEMA, "org_id": {**ID_SCHEMA, "description": "The person's home"}}},
         responses={"201": "Booked or waiting", "409": "Already booked, or booking closed"}, tags=TAGS)
@require_auth
def create_booking(session_id: int):
    data = json_body()
    b = bookings.book(dbm.session, principal(), session_id, body_id(data, "person_id"), body_id(data, "org_id", required=False))
    dbm.session.commit()
    return jsonify(bookings.booking_json(b)), 201


@api_bp.post("/bookings/<id:booking_id>/cancel")
@api_doc("Cancel a booking; a freed place goes to the next person waiting", tags=TAGS)
@require_auth
def cancel_booking(booking_id: int):
    b, promoted = bookings.cancel(dbm.session, principal(), booking_id)
    dbm.session.commit()
    notify(promoted)
    return jsonify({**bookings.booking_json(b), "promoted": [bookings.booking_json(x) for x in promoted]})


@api_bp.put("/sessions/<id:session_id>/attendance")
@api_doc("Take the register: {booking id: present|late|absent}; completes the course where no test is needed",
         body={"type": "object", "required": ["attendance"], "properties": {"attendance": {
             "type": "object", "additionalProperties": {"enum": ["present", "late", "absent", ""]}}}}, tags=TAGS)
@require_auth
def attendance(session_id: int):
    data = json_body()
    marks = data.get("attendance")
    if not isinstance(marks, dict):
        raise ApiError(400, "validation_error", "attendance must be an object of booking id to mark.",
                       {"attendance": "Give {\"<booking id>\": \"present\"}."})
    result = sessions.record_attendance(dbm.session, principal(), session_id, marks)
    dbm.session.commit()
    return jsonify({"counts": result["counts"], "records_created": [r.id for r in result["records"]]})


@api_bp.put("/sessions/<id:session_id>/test-scores")
@api_doc("Record course test scores for attendees: {booking id: score %}; completes the course for passes",
         body={"type": "object", "required": ["scores"], "properties": {"scores": {
             "type": "object", "additionalProperties": {"type": "integer"}},
             "assessed_on": {"type": "string", "format": "date"}}}, tags=TAGS)
@require_auth
def test_scores(session_id: int):
    data = json_body()
    if not isinstance(data.get("scores"), dict):
        raise ApiError(400, "validation_error", "scores must be an object.", {"scores": "Give {\"<booking id>\": 85}."})
    created = assessments.record_session_tests(dbm.session, principal(), session_id, data["scores"],
                                               parse_date(data, "assessed_on"))
    dbm.session.commit()
    return jsonify({"assessments": [assessments.assessment_json(a) for a in created]})


@api_bp.post("/assessments")
@api_doc("Record a knowledge assessment or an observation of practice (eligible assessors only)",
         body=ASSESSMENT_SCHEMA, responses={"201": "Recorded"}, tags=TAGS)
@require_auth
def create_assessment():
    data = json_body()
    person_id = body_id(data, "person_id")
    if data.get("assessed_on") is not None:
        data["assessed_on"] = parse_date(data, "assessed_on")
    a = assessments.record(dbm.session, principal(), person_id, data, body_id(data, "org_id", required=False))
    dbm.session.commit()
    return jsonify(assessments.assessment_json(a)), 201


def _person_visible(person_id: int) -> Person:
    return require_person_visible(dbm.session, principal(), person_id)


@api_bp.get("/people/<id:person_id>/assessments")
@api_doc("A person's assessments, newest first", tags=TAGS)
@require_auth
def person_assessments(person_id: int):
    _person_visible(person_id)
    return jsonify({"assessments": [assessments.assessment_json(a)
                                    for a in assessments.assessments_of(dbm.session, person_id)]})


@api_bp.get("/people/<id:person_id>/care-certificate")
@api_doc("Care Certificate progress: every standard's state and evidence, and the 2015 -> 2025 gap", tags=TAGS,
         params=[{"name": "framework", "in": "query", "schema": {"enum": ["2015", "2025"]}}])
@require_auth
def care_certificate(person_id: int):
    _person_visible(person_id)
    framework = request.args.get("framework")
    if framework not in (None, "2015", "2025"):
        raise ApiError(400, "validation_error", "framework must be 2015 or 2025.", {"framework": "2015 or 2025"})
    return jsonify(progress.progress_json(progress.progress(dbm.session, person_id, framework)))


@api_bp.post("/people/<id:person_id>/care-certificate/<framework>/<id:number>/sign-off")
@api_doc("Sign off a Care Certificate standard once knowledge and practice are evidenced (registered managers); "
         "the body must confirm the declaration: {\"declaration\": true}",
         tags=TAGS, responses={"201": "Signed off", "409": "Already signed off"})
@require_auth
def sign_off(person_id: int, framework: str, number: int):
    if framework not in ("2015", "2025"):
        raise ApiError(404, "not_found", "Framework must be 2015 or 2025.")
    body = request.get_json(silent=True)
    declared = isinstance(body, dict) and body.get("declaration") is True
    ach = progress.sign_off(dbm.session, principal(), person_id, framework, number, declared=declared)
    dbm.session.commit()
    return jsonify({"id": ach.id, "person_id": person_id, "framework": framework, "standard_number": number,
                    "met_on": ach.met_on.isoformat(), "signed_off_by_id": ach.signed_off_by_id}), 201


from passport.courses import api_records  # noqa: E402,F401  (the rest of the API)
