"""Inspection JSON API: ``POST /api/v1/rota/check`` (the rota check) and the supervision due list."""
from __future__ import annotations

from flask import current_app, jsonify

from passport import db as dbm
from passport.api import api_doc, json_body, principal, require_auth
from passport.inspection import api_bp, rota, supervision
from passport.plugins import contributions

ASSIGNMENT_SCHEMA = {
    "type": "object", "required": ["home_id", "start", "end"],
    "description": "One proposed assignment. Give worker_id (this service's person id) or unique_worker_id "
                   "(the home's own worker id, as in ASC-WDS). Times are ISO 8601; without an offset they are "
                   "UK local time.",
    "properties": {
        "worker_id": {"type": "integer", "minimum": 1},
        "unique_worker_id": {"type": "string", "maxLength": 50},
        "home_id": {"type": "integer", "minimum": 1},
        "start": {"type": "string", "format": "date-time"},
        "end": {"type": "string", "format": "date-time"},
        "tasks": {"type": "array", "maxItems": rota.MAX_TASKS, "items": {
            "type": "object", "required": ["task"], "properties": {
                "task": {"type": "string", "maxLength": 60, "description": "Delegated task code"},
                "resident": {"type": ["string", "null"], "maxLength": 40,
                             "description": "The home's pseudonymous resident reference"}}}},
    },
}
CHECK_SCHEMA = {"type": "object", "required": ["assignments"], "properties": {
    "assignments": {"type": "array", "minItems": 1, "maxItems": rota.MAX_ROWS, "items": ASSIGNMENT_SCHEMA}}}


@api_bp.post("/rota/check")
@api_doc("Check a proposed rota: ok, warn or block for each assignment, with plain reasons", body=CHECK_SCHEMA,
         tags=["rota"], responses={
             "200": "One result per assignment, in order: {index, result: ok|warn|block, reasons: [{rule, result, "
                    "message}]} or {index, result: error, errors: {field: message}}; plus summary, checked and "
                    "not_checked (rules no installed plugin can answer, e.g. induction)"})
@require_auth
def rota_check():
    body = json_body()
    result = rota.check(dbm.session, principal(), body.get("assignments"),
                        extra_rules=contributions(current_app, "rota_check"))
    dbm.session.rollback()  # read only
    return jsonify(result)


@api_bp.get("/supervision/due/<id:org_id>")
@api_doc("Who at a home is due or overdue supervision or appraisal (dates only, never notes)", tags=["rota"])
@require_auth
def supervision_due(org_id: int):
    data = supervision.overview(dbm.session, principal(), org_id)
    return jsonify({"org_id": org_id, "on": data["on"].isoformat(), "counts": data["counts"], "people": [
        {"person_id": r.person.id, "name": r.person.full_name, "job_role": r.job_role,
         "items": [{"kind": d.kind, "every_weeks": d.every_weeks,
                    "last_held": d.last_held.isoformat() if d.last_held else None,
                    "due_on": d.due_on.isoformat(), "state": d.state} for d in r.items.values()]}
        for r in data["rows"]]})
