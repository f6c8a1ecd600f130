"""``POST /api/v1/organisations/{org_id}/people/import``: the staff import for other systems (org admins)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from passport import db as dbm
from passport.api import ApiError, api_doc, error_response, json_body, principal, require_auth
from passport.core import onboarding

bp = Blueprint("onboarding_api", __name__, url_prefix="/api/v1")

IMPORT_SCHEMA = {"type": "object", "required": ["csv"], "properties": {
    "csv": {"type": "string", "description": "The file's text: an ASC-WDS worker file or a staff list with name, "
                                             "email, job role, start date and unique worker id."},
    "dry_run": {"type": "boolean", "description": "Check only; change nothing."},
    "filename": {"type": "string", "maxLength": 255}}}


@bp.post("/organisations/<id:org_id>/people/import")
@api_doc("Import staff from CSV text, all or nothing (organisation admins). Everyone new with an email address is "
         "invited by email; people already here (same unique worker id, or same email) are left alone. Any problem: "
         "400 with every problem in 'fields', keyed by line number, and nothing saved.", body=IMPORT_SCHEMA,
         responses={"200": "Imported, or (dry_run) would import", "404": "No such organisation"}, tags=["core"])
@require_auth
def import_people(org_id: int):
    data = json_body()
    text, dry = data.get("csv"), data.get("dry_run", False)
    if not isinstance(text, str) or not isinstance(dry, bool):
        raise ApiError(400, "validation_error", "Send 'csv' as text and 'dry_run' as true or false.",
                       {"csv": "Send the file's text."})
    limit = current_app.config.get("ONBOARDING_MAX_BYTES", onboarding.DEFAULT_MAX_BYTES)
    result = onboarding.run_import(dbm.session, principal(), org_id, text.encode("utf-8"), dry_run=dry,
                                   max_bytes=limit, invitation_days=current_app.config["INVITATION_DAYS"],
                                   filename=str(data.get("filename") or "api.csv"))
    p = result.preview
    if not p.ok:
        dbm.session.rollback()
        fields: dict[str, str] = {}
        for problem in p.problems:
            text = f"{problem.field}: {problem.message}" if problem.field else problem.message
            fields[str(problem.line)] = f"{fields[str(problem.line)]}; {text}" if str(problem.line) in fields else text
        return error_response(400, "validation_error", f"Nobody was imported: {len(p.problems)} problem(s).", fields)
    if dry:
        dbm.session.rollback()
    else:
        dbm.session.commit()
        onboarding.send_emails(current_app, result)
    return jsonify({
        "imported": not dry, "layout": p.layout, "lines": p.total, "ignored_columns": p.ignored_columns,
        "warnings": [str(w) for w in p.warnings],
        "rows": [{"line": r.line, "result": "already_here" if r.action == "match" else "add_or_invite",
                  "given_name": r.given_name, "family_name": r.family_name, "job_role": r.job_role,
                  "unique_worker_id": r.unique_worker_id} for r in p.rows]})
