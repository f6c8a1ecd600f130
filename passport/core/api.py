"""Core JSON API: the caller, organisations, people, memberships, manual training records, catalogue."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, jsonify

from passport import db as dbm
from passport.api import ApiError, api_doc, json_body, principal, require_auth
from passport.core import catalogue, invitations, records, services
from passport.core.access import memberships_of, require_person_visible, require_role, visible_memberships
from passport.core.models import ROLES, Invitation, Organisation, Person
from passport.db import utcnow
from passport.params import ID_SCHEMA

bp = Blueprint("core_api", __name__, url_prefix="/api/v1")
STAFF = ("org_admin", "training_lead", "registered_manager", "assessor", "registered_professional")

ORG_SCHEMA = {"type": "object", "required": ["name", "kind"], "properties": {
    "name": {"type": "string", "maxLength": 200}, "kind": {"type": "string"},
    "cqc_location_id": {"type": ["string", "null"]}, "ods_code": {"type": ["string", "null"]}}}
PERSON_SCHEMA = {"type": "object", "required": ["given_name", "family_name", "role"], "properties": {
    "given_name": {"type": "string", "minLength": 1, "maxLength": 100},
    "family_name": {"type": "string", "minLength": 1, "maxLength": 100}, "email": {"type": ["string", "null"]},
    "registration_body": {"type": ["string", "null"]}, "registration_pin": {"type": ["string", "null"]},
    "role": {"type": "string", "enum": list(ROLES)}, "job_role": {"type": ["string", "null"]},
    "start_date": {"type": "string", "format": "date"}}}
INVITATION_SCHEMA = {"type": "object", "required": ["email", "roles"], "properties": {
    "email": {"type": "string", "maxLength": 254},
    "roles": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": list(ROLES)}},
    "job_role": {"type": ["string", "null"]}, "given_name": {"type": "string", "maxLength": 100},
    "family_name": {"type": "string", "maxLength": 100}}}
NOT_SEEN = {"404": "No such person, or no reason to see them (the same answer either way)"}
RECORD_SCHEMA = {"type": "object", "required": ["org_id", "category_code", "completed_on"], "properties": {
    "org_id": ID_SCHEMA, "category_code": {"type": "integer"}, "title": {"type": "string"},
    "completed_on": {"type": "string", "format": "date"}, "expires_on": {"type": ["string", "null"], "format": "date"},
    "provider_name": {"type": "string"}, "accredited": {"type": "boolean"}, "notes": {"type": "string"}}}


def parse_date(data: dict, key: str, required: bool = False) -> date | None:
    """Read an ISO date from a JSON body or raise a 400 naming the field."""
    value = data.get(key)
    if value in (None, ""):
        if required:
            raise ApiError(400, "validation_error", f"{key} is required.", {key: "Enter a date as YYYY-MM-DD."})
        return None
    try:
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise ApiError(400, "validation_error", f"{key} is not a date.", {key: "Enter a date as YYYY-MM-DD."})


def org_json(o: Organisation) -> dict:
    return {"id": o.id, "name": o.name, "kind": o.kind, "cqc_location_id": o.cqc_location_id, "ods_code": o.ods_code}


def person_json(p: Person, with_contact: bool = False, memberships=None) -> dict:
    """``memberships``: those the caller may see (``access.visible_memberships``); all of them by default."""
    out = {"id": p.id, "given_name": p.given_name, "family_name": p.family_name,
           "registration_body": p.registration_body, "registration_pin": p.registration_pin,
           "memberships": [{"id": m.id, "org_id": m.org_id, "role": m.role, "job_role": m.job_role,
                            "start_date": m.start_date.isoformat(),
                            "end_date": m.end_date.isoformat() if m.end_date else None}
                           for m in (p.memberships if memberships is None else memberships)]}
    if with_contact:
        out["email"] = p.email
    return out


def invitation_json(inv: Invitation) -> dict:
    return {"id": inv.id, "org_id": inv.org_id, "email": inv.email, "roles": inv.role_list, "job_role": inv.job_role,
            "given_name": inv.given_name, "family_name": inv.family_name, "state": inv.state(utcnow()),
            "created_at": inv.created_at.isoformat(), "expires_at": inv.expires_at.isoformat(),
            "send_count": inv.send_count, "created_by_id": inv.created_by_id,
            "accepted_at": inv.accepted_at.isoformat() if inv.accepted_at else None,
            "revoked_at": inv.revoked_at.isoformat() if inv.revoked_at else None}


def record_json(r) -> dict:
    return {"id": r.id, "person_id": r.person_id, "org_id": r.org_id, "category_code": r.category_code,
            "title": r.title, "completed_on": r.completed_on.isoformat(),
            "expires_on": r.expires_on.isoformat() if r.expires_on else None, "source": r.source,
            "source_ref": r.source_ref, "recorded_by_id": r.recorded_by_id,
            "recorded_at": r.recorded_at.isoformat(), "supersedes_id": r.supersedes_id}


@bp.get("/me")
@api_doc("The caller: person, token scope and current roles", tags=["core"])
@require_auth
def me():
    p = principal()
    return jsonify({"person": person_json(p.person, with_contact=True), "token_org_id": p.token_org_id,
                    "token_role": p.token_role,
                    "roles": [{"org_id": m.org_id, "role": m.role} for m in memberships_of(dbm.session, p)]})


@bp.get("/organisations")
@api_doc("List organisations", tags=["core"])
@require_auth
def list_orgs():
    return jsonify({"organisations": [org_json(o) for o in services.list_organisations(dbm.session)]})


@bp.post("/organisations")
@api_doc("Add an organisation (scheme admins)", body=ORG_SCHEMA, responses={"201": "Created"}, tags=["core"])
@require_auth
def create_org():
    org = services.create_organisation(dbm.session, principal(), json_body())
    dbm.session.commit()
    return jsonify(org_json(org)), 201


@bp.get("/organisations/<id:org_id>")
@api_doc("One organisation", tags=["core"])
@require_auth
def get_org(org_id: int):
    return jsonify(org_json(services.get_or_404(dbm.session, Organisation, org_id)))


@bp.get("/organisations/<id:org_id>/people")
@api_doc("People with a current membership of the organisation (staff of that organisation)", tags=["core"])
@require_auth
def org_people(org_id: int):
    services.get_or_404(dbm.session, Organisation, org_id)
    require_role(dbm.session, principal(), STAFF, org_id)
    return jsonify({"people": [person_json(p) for p in services.people_in_org(dbm.session, org_id)]})


@bp.post("/organisations/<id:org_id>/people")
@api_doc("Add a new person record with a first role (organisation admins). An email address that already "
         "belongs to someone is sent an invitation instead (202): the organisation gains them only when they "
         "accept, and the answer never says whose the address is.", body=PERSON_SCHEMA,
         responses={"201": "Created", "202": "Invitation sent to the email address", "404": "No such organisation",
                    "409": "Conflict"}, tags=["core"])
@require_auth
def create_person(org_id: int):
    data = json_body()
    data["start_date"] = parse_date(data, "start_date")
    try:
        person = services.create_person(dbm.session, principal(), org_id, data)
    except services.EmailInUse as taken:
        inv, token = invitations.create_invitation(dbm.session, principal(), org_id,
                                                   {**taken.data, "roles": [taken.data["role"]]},
                                                   days=current_app.config["INVITATION_DAYS"])
        dbm.session.commit()
        invitations.send_invitation_email(current_app, inv, token)
        return jsonify({"status": "invited", "invitation": invitation_json(inv)}), 202
    dbm.session.commit()
    return jsonify(person_json(person, with_contact=True)), 201


@bp.get("/people/<id:person_id>")
@api_doc("One person (themself, or staff of an organisation with a current reason to see them)",
         responses=NOT_SEEN, tags=["core"])
@require_auth
def get_person(person_id: int):
    person = require_person_visible(dbm.session, principal(), person_id)
    return jsonify(person_json(person, with_contact=True,
                               memberships=visible_memberships(dbm.session, principal(), person)))


@bp.post("/people/<id:person_id>/memberships")
@api_doc("Give a current member of the organisation another role (organisation admins). Anyone else joins "
         "only by accepting an invitation or by the organisation accepting their passport.",
         responses={"201": "Created", "404": "Not a current member of this organisation (or no such person)",
                    "409": "They already hold this role"}, body={
    "type": "object", "required": ["org_id", "role"], "properties": {
        "org_id": ID_SCHEMA, "role": {"type": "string", "enum": list(ROLES)},
        "job_role": {"type": ["string", "null"]}, "start_date": {"type": "string", "format": "date"}}}, tags=["core"])
@require_auth
def add_membership(person_id: int):
    data = json_body()
    if not isinstance(data.get("org_id"), int) or isinstance(data.get("org_id"), bool):
        raise ApiError(400, "validation_error", "org_id is required.", {"org_id": "Give the organisation id."})
    data["start_date"] = parse_date(data, "start_date")
    m = services.add_membership(dbm.session, principal(), person_id, data["org_id"], data)
    dbm.session.commit()
    return jsonify({"id": m.id, "org_id": m.org_id, "role": m.role, "via": m.via}), 201


# --- invitations ---------------------------------------------------------------------------------


@bp.get("/organisations/<id:org_id>/invitations")
@api_doc("Pending invitations to join the organisation (organisation admins and training leads)",
         responses={"404": "No such organisation"}, tags=["invitations"])
@require_auth
def list_invitations(org_id: int):
    rows = invitations.list_invitations(dbm.session, principal(), org_id)
    return jsonify({"invitations": [invitation_json(i) for i in rows]})


@bp.post("/organisations/<id:org_id>/invitations")
@api_doc("Invite an email address to join the organisation in some roles. A single-use link is emailed, "
         "valid for INVITATION_DAYS; the answer is the same whoever owns the address.", body=INVITATION_SCHEMA,
         responses={"201": "Invitation created and emailed", "404": "No such organisation"}, tags=["invitations"])
@require_auth
def create_invitation(org_id: int):
    data = json_body()
    inv, token = invitations.create_invitation(dbm.session, principal(), org_id, data,
                                               days=current_app.config["INVITATION_DAYS"])
    dbm.session.commit()
    invitations.send_invitation_email(current_app, inv, token)
    return jsonify(invitation_json(inv)), 201


@bp.post("/invitations/<id:invitation_id>/resend")
@api_doc("Email a new link for a pending or expired invitation (the old link stops working)",
         responses={"404": "No such invitation", "409": "Already accepted or withdrawn"}, tags=["invitations"])
@require_auth
def resend_invitation(invitation_id: int):
    inv, token = invitations.resend_invitation(dbm.session, principal(), invitation_id,
                                               days=current_app.config["INVITATION_DAYS"])
    dbm.session.commit()
    invitations.send_invitation_email(current_app, inv, token)
    return jsonify(invitation_json(inv))


@bp.post("/invitations/<id:invitation_id>/revoke")
@api_doc("Withdraw an invitation (its link stops working)",
         responses={"404": "No such invitation", "409": "Already accepted"}, tags=["invitations"])
@require_auth
def revoke_invitation(invitation_id: int):
    inv = invitations.revoke_invitation(dbm.session, principal(), invitation_id)
    dbm.session.commit()
    return jsonify(invitation_json(inv))


@bp.get("/people/<id:person_id>/training-records")
@api_doc("A person's training records, newest first, with provenance", responses=NOT_SEEN, tags=["core"])
@require_auth
def list_records(person_id: int):
    require_person_visible(dbm.session, principal(), person_id)
    return jsonify({"records": [record_json(r) for r in records.record_history(dbm.session, person_id)]})


@bp.post("/people/<id:person_id>/training-records")
@api_doc("Add a manually entered training record", body=RECORD_SCHEMA,
         responses={"201": "Created", **NOT_SEEN}, tags=["core"])
@require_auth
def add_record(person_id: int):
    data = json_body()
    if not isinstance(data.get("org_id"), int) or not isinstance(data.get("category_code"), int):
        raise ApiError(400, "validation_error", "org_id and category_code must be integers.",
                       {k: "Must be an integer." for k in ("org_id", "category_code")
                        if not isinstance(data.get(k), int)})
    require_person_visible(dbm.session, principal(), person_id)
    rec = records.add_training_record(
        dbm.session, principal(), person_id=person_id, org_id=data["org_id"], category_code=data["category_code"],
        completed_on=parse_date(data, "completed_on", required=True), expires_on=parse_date(data, "expires_on"),
        source="manual", title=str(data.get("title") or ""), provider_name=str(data.get("provider_name") or ""),
        accredited=bool(data.get("accredited")), notes=str(data.get("notes") or ""))
    dbm.session.commit()
    return jsonify(record_json(rec)), 201


@bp.get("/catalogue/standards/<framework>")
@api_doc("Care Certificate standards and outcomes for a framework version (2015 or 2025)", auth=False,
         tags=["catalogue"])
def standards(framework: str):
    if framework not in ("2015", "2025"):
        raise ApiError(404, "not_found", "Framework must be 2015 or 2025.")
    return jsonify({"framework": framework,
                    "standards": [catalogue.standard_json(s) for s in catalogue.framework(dbm.session, framework)]})


@bp.get("/catalogue/training-categories")
@api_doc("ASC-WDS training categories with default refresh periods", auth=False, tags=["catalogue"])
def training_categories():
    return jsonify({"categories": [catalogue.category_json(c) for c in catalogue.training_categories(dbm.session)]})


@bp.get("/catalogue/delegated-categories")
@api_doc("The eight delegated healthcare activity categories", auth=False, tags=["catalogue"])
def delegated_categories():
    return jsonify({"categories": [catalogue.delegated_category_json(c)
                                   for c in catalogue.delegated_categories(dbm.session)]})
