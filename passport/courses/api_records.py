"""Courses JSON API, part two: training records in and out, requirements, settings, the matrix, the
scheme summary, ASC-WDS files, worker ids and assessor competence."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Response, current_app, jsonify, request

from passport import db as dbm
from passport.api import ApiError, api_doc, json_body, principal, require_auth
from passport.core import records
from passport.core.access import require_role
from passport.core.api import parse_date, record_json
from passport.core.models import Membership, Organisation, TrainingRecord
from passport.core.services import get_or_404
from passport.courses import api_bp, ascwds, assessments, matrix as mx, requirements as rq
from passport.courses.common import MATRIX_ROLES, current_filter, require_training_role
from passport.errors import ValidationError
from passport.web import body_limit
from passport.params import ID_SCHEMA, MAX_ID, int_schema, parse_id, query_bool, query_id, query_int

TAGS = ["courses"]
SUMMARY_WINDOWS = (30, 60, 90)
_LINE_NOTES = {"type": "array", "items": {"type": "object", "required": ["line", "field", "message"], "properties": {
    "line": {"type": "integer"}, "field": {"type": "string"}, "message": {"type": "string"}}}}
IMPORT_REPORT = {"type": "object", "required": ["ok", "problems"], "properties": {
    "ok": {"type": "boolean"}, "rows": {"type": "integer"}, "problems": _LINE_NOTES, "warnings": _LINE_NOTES,
    "import_id": {"type": ["integer", "null"]}, "dry_run": {"type": "boolean"}}}


def _org(org_id: int) -> Organisation:
    return get_or_404(dbm.session, Organisation, org_id)


@api_bp.post("/records")
@api_doc("Push completions in from another learning system: up to 1000 records for one organisation, all or "
         "nothing. Identify each person by person_id or their ASC-WDS unique_worker_id.", body={
             "type": "object", "required": ["org_id", "records"], "properties": {
                 "org_id": ID_SCHEMA,
                 "records": {"type": "array", "maxItems": 1000, "items": {
                     "type": "object", "required": ["category_code", "completed_on"], "properties": {
                         "person_id": ID_SCHEMA, "unique_worker_id": {"type": "string"},
                         "category_code": {"type": "integer"}, "completed_on": {"type": "string", "format": "date"},
                         "expires_on": {"type": ["string", "null"], "format": "date"},
                         "no_expiry": {"type": "boolean"}, "title": {"type": "string"},
                         "provider_name": {"type": "string"}, "accredited": {"type": "boolean"},
                         "external_ref": {"type": "string"}, "notes": {"type": "string"}}}}}},
         responses={"201": "Created"}, tags=TAGS)
@require_auth
def push_records():
    data = json_body()
    org_id = data.get("org_id")
    items = data.get("records")
    if not isinstance(org_id, int) or not isinstance(items, list) or not 1 <= len(items) <= 1000:
        raise ApiError(400, "validation_error", "Give org_id and a list of 1 to 1000 records.",
                       {"records": "Give a list of 1 to 1000 records."})
    _org(org_id)
    p = principal()
    require_role(dbm.session, p, records.RECORDING_ROLES, org_id)
    refs = {v: k for k, v in ascwds.worker_refs(dbm.session, org_id).items()}
    rows, errors = [], {}
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            errors[str(n)] = "Each record must be an object."
            continue
        person_id = item.get("person_id")
        if person_id is None and isinstance(item.get("unique_worker_id"), str):
            person_id = refs.get(item["unique_worker_id"])
        try:
            completed = parse_date(item, "completed_on", required=True)
            expires = parse_date(item, "expires_on")
        except ApiError as exc:
            errors[str(n)] = exc.message
            continue
        code = item.get("category_code")
        rows.append({"line": n, "person_id": person_id if isinstance(person_id, int) else None,
                     "category_code": code if isinstance(code, int) and not isinstance(code, bool) else None,
                     "completed_on": completed, "expires_on": expires, "no_expiry": bool(item.get("no_expiry")),
                     "title": str(item.get("title") or ""), "provider_name": str(item.get("provider_name") or ""),
                     "accredited": bool(item.get("accredited")), "notes": str(item.get("notes") or "")[:5000],
                     "source_ref": "api:" + str(item.get("external_ref") or "")[:290]})
    if errors:
        raise ValidationError(f"No records were saved: {len(errors)} record(s) have problems.", errors)
    created = records.add_training_records_bulk(dbm.session, p, org_id=org_id, source="course", rows=rows,
                                                batch_ref="api")
    dbm.session.commit()
    return jsonify({"records": [record_json(r) for r in created]}), 201


@api_bp.post("/records/<id:record_id>/correction")
@api_doc("Correct a training record: adds a new version with the reason; the old one stays in the history",
         body={"type": "object", "required": ["reason"], "properties": {
             "reason": {"type": "string"}, "completed_on": {"type": "string", "format": "date"},
             "expires_on": {"type": ["string", "null"], "format": "date"}, "title": {"type": "string"},
             "category_code": {"type": "integer"}}}, responses={"201": "Corrected"}, tags=TAGS)
@require_auth
def correct_record(record_id: int):
    data = json_body()
    changes = {}
    for key in ("completed_on", "expires_on"):
        if key in data:
            changes[key] = parse_date(data, key, required=key == "completed_on")
    if isinstance(data.get("title"), str):
        changes["title"] = data["title"]
    if isinstance(data.get("category_code"), int):
        changes["category_code"] = data["category_code"]
    new = records.correct_training_record(dbm.session, principal(), record_id, str(data.get("reason") or ""), **changes)
    dbm.session.commit()
    return jsonify({**record_json(new), "correction_reason": new.correction_reason}), 201


@api_bp.get("/records")
@api_doc("Training records of an organisation's current staff (history included), newest first, paged", tags=TAGS,
         params=[{"name": "org_id", "in": "query", "required": True, "schema": ID_SCHEMA},
                 {"name": "since", "in": "query", "schema": {"type": "string", "format": "date"},
                  "description": "Only records completed on or after this date"},
                 {"name": "limit", "in": "query", "schema": int_schema(1, 1000)},
                 {"name": "offset", "in": "query", "schema": int_schema(0, MAX_ID)}])
@require_auth
def list_records():
    org_id = query_id("org_id", required=True)
    _org(org_id)
    require_role(dbm.session, principal(), MATRIX_ROLES, org_id)
    limit = query_int("limit", default=200, minimum=1, maximum=1000)
    offset = query_int("offset", default=0, minimum=0, maximum=MAX_ID)
    members = sa.select(Membership.person_id).where(Membership.org_id == org_id, current_filter())
    q = (sa.select(TrainingRecord).where(TrainingRecord.person_id.in_(members))
         .order_by(TrainingRecord.completed_on.desc(), TrainingRecord.id.desc()).limit(limit).offset(offset))
    since = parse_date(dict(request.args), "since")
    if since:
        q = q.where(TrainingRecord.completed_on >= since)
    rows = list(dbm.session.scalars(q))
    return jsonify({"records": [record_json(r) for r in rows], "limit": limit, "offset": offset,
                    "next_offset": offset + limit if len(rows) == limit else None})


@api_bp.get("/orgs/<id:org_id>/requirements")
@api_doc("Required training subjects by job role (the organisation's own list or the defaults)", tags=TAGS)
@require_auth
def get_requirements(org_id: int):
    _org(org_id)
    require_role(dbm.session, principal(), MATRIX_ROLES, org_id)
    return jsonify({"org_id": org_id, "customised": rq.settings_for(dbm.session, org_id).requirements_customised,
                    "requirements": rq.requirements_by_role(dbm.session, org_id)})


@api_bp.put("/orgs/<id:org_id>/requirements")
@api_doc("Set the subjects a job role must hold at the organisation", body={
    "type": "object", "required": ["job_role", "categories"], "properties": {
        "job_role": {"type": "string"}, "categories": {"type": "array", "items": {"type": "integer"}}}}, tags=TAGS)
@require_auth
def put_requirements(org_id: int):
    data = json_body()
    _org(org_id)
    codes = rq.set_requirements(dbm.session, principal(), org_id, data.get("job_role"), data.get("categories"))
    dbm.session.commit()
    return jsonify({"org_id": org_id, "job_role": data["job_role"], "categories": codes})


@api_bp.get("/orgs/<id:org_id>/settings")
@api_doc("Training settings: due-soon window, reminder offsets, manager digest, ASC-WDS workplace id", tags=TAGS)
@require_auth
def get_settings(org_id: int):
    _org(org_id)
    require_training_role(dbm.session, principal(), org_id)
    s = rq.settings_for(dbm.session, org_id)
    return jsonify({"amber_days": s.amber_days, "reminder_offsets": rq.parse_offsets(s.reminder_offsets),
                    "manager_digest": s.manager_digest, "local_est_id": s.local_est_id})


@api_bp.put("/orgs/<id:org_id>/settings")
@api_doc("Change training settings", body={"type": "object", "required": ["amber_days", "reminder_offsets"],
                                           "properties": {"amber_days": int_schema(1, 365),
                                                          "reminder_offsets": {"type": "array", "minItems": 1,
                                                                               "maxItems": 8, "items": int_schema(0, 365)},
                                                          "manager_digest": {"type": "boolean"},
                                                          "local_est_id": {"type": ["string", "null"],
                                                                           "maxLength": 50}}}, tags=TAGS)
@require_auth
def put_settings(org_id: int):
    data = json_body()
    _org(org_id)
    offsets = data.get("reminder_offsets")
    if isinstance(offsets, list):
        data["reminder_offsets"] = ",".join(str(o) for o in offsets)
    data.setdefault("manager_digest", True)
    s = rq.save_settings(dbm.session, principal(), org_id, data)
    dbm.session.commit()
    return jsonify({"amber_days": s.amber_days, "reminder_offsets": rq.parse_offsets(s.reminder_offsets),
                    "manager_digest": s.manager_digest, "local_est_id": s.local_est_id})


@api_bp.get("/orgs/<id:org_id>/matrix")
@api_doc("The training matrix: people by required subject, red/amber/green, compliance % by person, subject and "
         "home", tags=TAGS, params=[
             {"name": "window", "in": "query", "schema": int_schema(1, 365), "description": "Due-soon days"},
             {"name": "job_role", "in": "query", "schema": {"type": "string"}},
             {"name": "category", "in": "query", "schema": int_schema(1, 9999)},
             {"name": "state", "in": "query", "schema": {"enum": ["red", "amber", "green"]}}])
@require_auth
def get_matrix(org_id: int):
    window = query_int("window", minimum=1, maximum=365)
    m = mx.home_matrix(dbm.session, principal(), org_id, window, job_role=request.args.get("job_role"),
                       category=query_int("category", minimum=1, maximum=9999), state=request.args.get("state"))
    return jsonify(mx.matrix_json(m))


@api_bp.get("/summary")
@api_doc("Scheme-wide compliance by home and by subject (scheme admins)", tags=TAGS,
         params=[{"name": "window", "in": "query", "schema": int_schema(choices=SUMMARY_WINDOWS)}])
@require_auth
def summary():
    data = mx.scheme_summary(dbm.session, principal(), query_int("window", default=60, choices=SUMMARY_WINDOWS))
    dbm.session.commit()  # the refreshed per-home counts
    return jsonify({**data, "on": data["on"].isoformat()})


@api_bp.post("/orgs/<id:org_id>/ascwds")
@body_limit("COURSES_ASCWDS_MAX_BYTES")
@api_doc("Import an ASC-WDS training CSV (send it as text/csv), all or nothing; ?dry_run=1 only checks", tags=TAGS,
         params=[{"name": "dry_run", "in": "query", "schema": {"type": "boolean"}}], upload="text/csv",
         responses={"201": "Imported", "422": {"description": "Problems found (listed by line); nothing saved",
                                               "content": {"application/json": {"schema": IMPORT_REPORT}}}})
@require_auth
def ascwds_import(org_id: int):
    if request.mimetype not in ("text/csv", "application/octet-stream", "text/plain"):
        raise ApiError(415, "unsupported_media_type", "Send the file as text/csv.")
    limit = current_app.config["COURSES_ASCWDS_MAX_BYTES"]
    data = request.get_data(cache=False)
    dry = query_bool("dry_run")
    preview, imp = ascwds.run_import(dbm.session, principal(), org_id, data, "api.csv", limit, dry_run=dry)
    body = {"ok": preview.ok, "rows": preview.total, "new": len(preview.rows), "skipped": len(preview.skipped),
            "problems": [{"line": x.line, "field": x.field, "message": x.message} for x in preview.problems],
            "warnings": [{"line": x.line, "field": x.field, "message": x.message} for x in preview.warnings],
            "import_id": imp.id if imp else None, "dry_run": dry}
    if imp is not None:
        dbm.session.commit()
        return jsonify(body), 201
    dbm.session.rollback()
    return jsonify(body), (200 if preview.ok else 422)


@api_bp.get("/orgs/<id:org_id>/ascwds")
@api_doc("Export the organisation's current training in the ASC-WDS training CSV format", tags=TAGS)
@require_auth
def ascwds_export(org_id: int):
    text, warnings = ascwds.export(dbm.session, principal(), org_id)
    return Response(text, mimetype="text/csv", headers={"X-Export-Warnings": str(len(warnings))})


@api_bp.put("/orgs/<id:org_id>/worker-ids")
@api_doc("Set people's ASC-WDS UNIQUEWORKERIDs at the organisation ({person id: id}; empty removes)",
         body={"type": "object", "required": ["worker_ids"], "properties": {"worker_ids": {
             "type": "object", "additionalProperties": {"type": "string"}}}}, tags=TAGS)
@require_auth
def put_worker_ids(org_id: int):
    data = json_body()
    ids = data.get("worker_ids")
    if not isinstance(ids, dict) or not all(isinstance(v, str) for v in ids.values()):
        raise ApiError(400, "validation_error", "worker_ids must map person ids to strings.", {"worker_ids": "{\"12\": \"W1\"}"})
    refs = {parse_id(k, "worker_ids"): v for k, v in ids.items()}
    _org(org_id)
    changed = ascwds.set_worker_refs(dbm.session, principal(), org_id, refs)
    dbm.session.commit()
    return jsonify({"changed": changed, "worker_ids": {str(k): v for k, v in ascwds.worker_refs(dbm.session, org_id).items()}})


@api_bp.put("/orgs/<id:org_id>/assessors/<id:person_id>")
@api_doc("Record exactly which Care Certificate standards an assessor is competent to assess", body={
    "type": "object", "required": ["framework", "standards"], "properties": {
        "framework": {"enum": ["2015", "2025"]}, "standards": {"type": "array", "items": {"type": "integer"}},
        "evidence": {"type": "string"}}}, tags=TAGS)
@require_auth
def put_competence(org_id: int, person_id: int):
    data = json_body()
    _org(org_id)
    numbers = assessments.set_competence(dbm.session, principal(), org_id, person_id, data.get("framework"),
                                         data.get("standards") if isinstance(data.get("standards"), list) else [None],
                                         str(data.get("evidence") or ""))
    dbm.session.commit()
    return jsonify({"person_id": person_id, "framework": data["framework"], "standards": numbers})
