"""Core JSON API: the caller, organisations, people, memberships, manual training records, catalogue."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, jsonify

from passport import db as dbm
from passport.api import ApiError, api_doc, json_body, principal, require_auth
from passport.core import catalogue, records, services
from passport.core.access import can_view_person, current_memberships, require_role
from passport.core.models import ROLES, Organisation, Person
from passport.errors import PermissionDenied
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


def person_json(p: Person, with_contact: bool = False) -> dict:
    out = {"id": p.id, "given_name": p.given_name, "family_name": p.family_name,
           "registration_body": p.registration_body, "registration_pin": p.registration_pin,
           "memberships": [{"id": m.id, "org_id": m.org_id, "role": m.role, "job_role": m.job_role,
                            "start_date": m.start_date.isoformat(),
                            "end_date": m.end_date.isoformat() if m.end_date else None} for m in p.memberships]}
    if with_contact:
        out["email"] = p.email
    return out


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
                    "roles": [{"org_id": m.org_id, "role": m.role} for m in current_memberships(dbm.session, p.person_id)]})


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
@api_doc("Add a person with a first role (organisation admins)", body=PERSON_SCHEMA, responses={"201": "Created"},
         tags=["core"])
@require_auth
def create_person(org_id: int):
    data = json_body()
    data["start_date"] = parse_date(data, "start_date")
    person = services.create_person(dbm.session, principal(), org_id, data)
    dbm.session.commit()
    return jsonify(person_json(person, with_contact=True)), 201


@bp.get("/people/<id:person_id>")
@api_doc("One person (themself, or staff of an organisation that can see them)", tags=["core"])
@require_auth
def get_person(person_id: int):
    person = services.get_or_404(dbm.session, Person, person_id)
    if not can_view_person(dbm.session, principal(), person_id):
        raise PermissionDenied("You cannot see this person.")
    return jsonify(person_json(person, with_contact=True))


@bp.post("/people/<id:person_id>/memberships")
@api_doc("Give a person a role in an organisation (organisation admins)", responses={"201": "Created"}, body={
    "type": "object", "required": ["org_id", "role"], "properties": {
        "org_id": ID_SCHEMA, "role": {"type": "string", "enum": list(ROLES)},
        "job_role": {"type": ["string", "null"]}, "start_date": {"type": "string", "format": "date"}}}, tags=["core"])
@require_auth
def add_membership(person_id: int):
    data = json_body()
    if not isinstance(data.get("org_id"), int):
        raise ApiError(400, "validation_error", "org_id is required.", {"org_id": "Give the organisation id."})
    data["start_date"] = parse_date(data, "start_date")
    m = services.add_membership(dbm.session, principal(), person_id, data["org_id"], data)
    dbm.session.commit()
    return jsonify({"id": m.id, "org_id": m.org_id, "role": m.role}), 201


@bp.get("/people/<id:person_id>/training-records")
@api_doc("A person's training records, newest first, with provenance", tags=["core"])
@require_auth
def list_records(person_id: int):
    services.get_or_404(dbm.session, Person, person_id)
    if not can_view_person(dbm.session, principal(), person_id):
        raise PermissionDenied("You cannot see this person's records.")
    return jsonify({"records": [record_json(r) for r in records.record_history(dbm.session, person_id)]})


@bp.post("/people/<id:person_id>/training-records")
@api_doc("Add a manually entered training record", body=RECORD_SCHEMA, responses={"201": "Created"}, tags=["core"])
@require_auth
def add_record(person_id: int):
    data = json_body()
    if not isinstance(data.get("org_id"), int) or not isinstance(data.get("category_code"), int):
        raise ApiError(400, "validation_error", "org_id and category_code must be integers.",
                       {k: "Must be an integer." for k in ("org_id", "category_code")
                        if not isinstance(data.get(k), int)})
    services.get_or_404(dbm.session, Person, person_id)
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
