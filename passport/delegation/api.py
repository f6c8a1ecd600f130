"""Delegation JSON API under /api/v1/delegation: who can do it now, tasks, a worker's competences,
assessments, delegations and withdrawals. Times in answers are UTC ISO 8601 plus UK local time."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import jsonify, request

from passport import db as dbm
from passport.api import ApiError, api_doc, json_body, principal, require_auth
from passport.core.access import can_view_person, current_memberships
from passport.core.api import parse_date
from passport.core.models import Organisation, Person
from passport.core.timeutil import UK, to_uk, uk_today
from passport.db import utcnow
from passport.delegation import api_bp, queries, services
from passport.delegation.catalogue import all_tasks, get_task, task_json, task_usable_at
from passport.delegation.rules import can_view_home, clean_resident_ref
from passport.errors import NotFound, PermissionDenied
from passport.params import ID_SCHEMA, body_id, query_id

COMPETENT_PARAMS = [
    {"name": "org", "in": "query", "required": True, "schema": ID_SCHEMA, "description": "The home's id"},
    {"name": "task", "in": "query", "required": True, "schema": {"type": "string"}, "description": "Task code"},
    {"name": "resident", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 40},
     "description": "The home's pseudonymous resident reference: only workers delegated the task for them"},
    {"name": "at", "in": "query", "required": False, "schema": {"type": "string", "format": "date-time"},
     "description": "Moment to ask about (ISO 8601; without an offset it is UK local time). Default: now"},
]
ASSESSMENT_SCHEMA = {"type": "object", "required": ["org_id", "worker_id", "task", "assessed_on", "observations",
                                                    "outcome"], "properties": {
    "org_id": ID_SCHEMA, "worker_id": ID_SCHEMA, "task": {"type": "string"},
    "resident_ref": {"type": ["string", "null"], "maxLength": 40}, "assessed_on": {"type": "string", "format": "date"},
    "observations": {"type": "integer", "minimum": 1, "maximum": 50},
    "outcome": {"type": "string", "enum": ["competent", "not_yet_competent"]},
    "level": {"type": ["string", "null"], "enum": ["observed", "supervised", "safe_unsupervised", None]},
    "valid_until": {"type": ["string", "null"], "format": "date"}, "evidence": {"type": "string"},
    "observation_notes": {"type": "string"}}}
DELEGATION_SCHEMA = {"type": "object", "required": ["org_id", "worker_id", "task", "resident_ref", "start_date",
                                                    "review_date", "instructions_ref", "consent_recorded",
                                                    "consent_by"], "properties": {
    "org_id": ID_SCHEMA, "worker_id": ID_SCHEMA, "task": {"type": "string"},
    "resident_ref": {"type": "string", "maxLength": 40}, "start_date": {"type": "string", "format": "date"},
    "review_date": {"type": "string", "format": "date"}, "instructions_ref": {"type": "string", "maxLength": 200},
    "consent_recorded": {"type": "boolean"},
    "consent_by": {"type": "string", "enum": ["resident", "representative", "best_interests"]},
    "notes": {"type": "string"}}}
REASON_SCHEMA = {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}}


def _commit(action):
    """Run a service call and commit; a refused clinical action is audited (committed) then re-raised."""
    try:
        result = action()
    except services.RefusedAction as exc:
        dbm.session.rollback()
        services.audit_refusal(dbm.session, principal().actor, exc)
        dbm.session.commit()
        raise
    dbm.session.commit()
    return result


def _int(data: dict, key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ApiError(400, "validation_error", f"{key} must be an integer.", {key: "Must be an integer."})
    return value


def _str(data: dict, key: str) -> str:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, "validation_error", f"{key} must be a string.", {key: "Must be a string."})
    return value or ""


def _at(value: str | None) -> datetime:
    if not value:
        return utcnow()
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "validation_error", "at is not an ISO 8601 time.",
                       {"at": "Give a time like 2026-11-22T14:30 (UK time) or 2026-11-22T14:30:00Z."}) from None
    return at.replace(tzinfo=UK) if at.tzinfo is None else at


def competency_json(c) -> dict:
    return {"id": c.id, "task": c.task.code, "level": c.level, "valid_from": c.valid_from.isoformat(),
            "valid_until": c.valid_until.isoformat(), "resident_ref": c.resident_ref, "org_id": c.org_id,
            "status": queries.competency_status(c, uk_today()), "ended_at": c.ended_at.isoformat() if c.ended_at else None,
            "end_reason": c.end_reason}


def delegation_json(d) -> dict:
    return {"id": d.id, "task": d.task.code, "worker_id": d.worker_id, "org_id": d.org_id,
            "resident_ref": d.resident_ref, "delegated_by_id": d.delegated_by_id,
            "delegator_org_id": d.delegator_org_id, "competency_id": d.competency_id,
            "start_date": d.start_date.isoformat(), "review_date": d.review_date.isoformat(),
            "instructions_ref": d.instructions_ref, "consent_by": d.consent_by,
            "status": queries.delegation_status(d, uk_today()),
            "ended_at": d.ended_at.isoformat() if d.ended_at else None, "end_reason": d.end_reason}


@api_bp.get("/competent")
@api_doc("Who at a home may do a task now (or at a given time), for a resident if given, with level and "
         "valid-until", params=COMPETENT_PARAMS, tags=["delegation"])
@require_auth
def competent():
    args = request.args
    org_id = query_id("org", required=True)
    if dbm.session.get(Organisation, org_id) is None:
        raise NotFound("No such organisation.")
    if not can_view_home(dbm.session, principal(), org_id):
        raise PermissionDenied("You cannot see this home's delegated tasks.")
    if not args.get("task"):
        raise ApiError(400, "validation_error", "task is required.", {"task": "Give a task code (see /tasks)."})
    task = get_task(dbm.session, args["task"])
    if not task_usable_at(dbm.session, task, org_id):
        raise NotFound("That task is not used at this home.")
    try:
        resident = clean_resident_ref(args.get("resident"), required=False)
    except ValueError as exc:
        raise ApiError(400, "validation_error", str(exc), {"resident": str(exc)}) from None
    at = _at(args.get("at"))
    rows = queries.who_can_do_it(dbm.session, org_id, task, resident, at)
    return jsonify({"org_id": org_id, "task": task.code, "resident": resident,
                    "at": at.astimezone(timezone.utc).isoformat(), "at_uk": to_uk(at).isoformat(), "people": [
                        {"person_id": r.person_id, "name": r.name, "level": r.level,
                         "valid_until": r.valid_until.isoformat(), "resident_ref": r.resident_ref,
                         "delegation_id": r.delegation_id,
                         "review_date": r.review_date.isoformat() if r.review_date else None} for r in rows]})


@api_bp.get("/tasks")
@api_doc("The delegated task catalogue: scheme-wide tasks and organisations' additions", tags=["delegation"])
@require_auth
def tasks():
    return jsonify({"tasks": [task_json(dbm.session, t) for t in all_tasks(dbm.session)]})


@api_bp.get("/people/<id:person_id>")
@api_doc("What this worker can do: competences, delegations and declines", tags=["delegation"])
@require_auth
def person(person_id: int):
    p = principal()
    if dbm.session.get(Person, person_id) is None:
        raise NotFound("No such person.")
    homes = [m.org_id for m in current_memberships(dbm.session, person_id) if m.role == "worker"]
    if not (can_view_person(dbm.session, p, person_id) or any(can_view_home(dbm.session, p, h) for h in homes)):
        raise PermissionDenied("You cannot see this person.")
    s = queries.worker_summary(dbm.session, person_id)
    return jsonify({"person_id": person_id,
                    "competencies": [competency_json(c) for c in s["competencies"]],
                    "delegations": [delegation_json(d) for d in s["delegations"]],
                    "declines": [{"id": x.id, "task": x.task.code, "resident_ref": x.resident_ref,
                                  "declined_at": x.declined_at.isoformat(), "withdrawn": x.withdrawn_at is not None}
                                 for x in s["declines"]]})


@api_bp.post("/assessments")
@api_doc("Record a competency assessment (registered professionals for the home)", body=ASSESSMENT_SCHEMA,
         responses={"201": "Recorded"}, tags=["delegation"])
@require_auth
def create_assessment():
    data = json_body()
    a = _commit(lambda: services.record_assessment(
        dbm.session, principal(), home_id=body_id(data, "org_id"), worker_id=body_id(data, "worker_id"),
        task_code=_str(data, "task"), assessed_on=parse_date(data, "assessed_on", required=True),
        observations=_int(data, "observations"), outcome=_str(data, "outcome"), level=data.get("level"),
        valid_until=parse_date(data, "valid_until"), resident_ref=data.get("resident_ref"),
        evidence=_str(data, "evidence"), observation_notes=_str(data, "observation_notes")))
    return jsonify({"id": a.id, "outcome": a.outcome, "level": a.level,
                    "valid_until": a.valid_until.isoformat() if a.valid_until else None}), 201


@api_bp.post("/delegations")
@api_doc("Delegate a task to a worker for a resident (registered professionals for the home)",
         body=DELEGATION_SCHEMA, responses={"201": "Delegated", "409": "Already delegated"}, tags=["delegation"])
@require_auth
def create_delegation():
    data = json_body()
    d = _commit(lambda: services.create_delegation(
        dbm.session, principal(), home_id=body_id(data, "org_id"), worker_id=body_id(data, "worker_id"),
        task_code=_str(data, "task"), resident_ref=_str(data, "resident_ref"),
        start_date=parse_date(data, "start_date", required=True),
        review_date=parse_date(data, "review_date", required=True), instructions_ref=_str(data, "instructions_ref"),
        consent_recorded=data.get("consent_recorded") is True, consent_by=_str(data, "consent_by"),
        notes=_str(data, "notes")))
    return jsonify(delegation_json(d)), 201


@api_bp.post("/delegations/<id:delegation_id>/withdraw")
@api_doc("Withdraw a delegation with a reason", body=REASON_SCHEMA, responses={"409": "Already ended"},
         tags=["delegation"])
@require_auth
def withdraw(delegation_id: int):
    data = json_body()
    d = _commit(lambda: services.withdraw_delegation(dbm.session, principal(), delegation_id, _str(data, "reason")))
    return jsonify(delegation_json(d))
