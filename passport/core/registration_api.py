"""Registration confirmation JSON API under /api/v1/registration: lists, record (or renew), withdraw,
what relied on a confirmation, and a person's standing (may they act as a registered professional)."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from passport import db as dbm
from passport.api import ApiError, api_doc, json_body, principal, require_auth
from passport.core import registration as reg
from passport.core.access import can_view_person, is_scheme_admin
from passport.core.api import parse_date
from passport.core.models import REGISTER_STATUSES, REGISTRATION_BODIES, Person, RegistrationConfirmation
from passport.core.timeutil import uk_today
from passport.errors import NotFound, PermissionDenied

bp = Blueprint("registration_api", __name__, url_prefix="/api/v1/registration")

CONFIRMATION_SCHEMA = {"type": "object", "required": ["register", "pin", "register_status", "checked_on", "renews_on"],
                       "properties": {
                           "register": {"type": "string", "enum": list(REGISTRATION_BODIES)},
                           "pin": {"type": "string", "maxLength": 20},
                           "register_status": {"type": "string", "enum": list(REGISTER_STATUSES)},
                           "checked_on": {"type": "string", "format": "date"},
                           "renews_on": {"type": "string", "format": "date"},
                           "org_id": {"type": ["integer", "null"]},
                           "person_id": {"type": ["integer", "null"]},
                           "notes": {"type": "string", "maxLength": 2000}}}
REASON_SCHEMA = {"type": "object", "required": ["reason"],
                 "properties": {"reason": {"type": "string", "maxLength": 2000}}}
STATE_PARAM = [{"name": "state", "in": "query", "required": False,
                "schema": {"type": "string", "enum": ["current", "due", "lapsed", "withdrawn", "unconfirmed"]},
                "description": "Only this group: current, due (renewal within 30 days), lapsed, withdrawn, or "
                               "unconfirmed (professionals never confirmed; scheme admins only)"}]
REFUSALS = {"403": "Not allowed: the error names the reason (not_a_confirmer, own_staff, not_scheme_admin, ...)"}


def confirmation_json(c: RegistrationConfirmation) -> dict:
    on = uk_today()
    return {"id": c.id, "person_id": c.person_id, "name": c.person.full_name, "register": c.register, "pin": c.pin,
            "register_status": c.register_status, "checked_on": c.checked_on.isoformat(),
            "renews_on": c.renews_on.isoformat(), "notes": c.notes, "confirmed_by_id": c.confirmed_by_id,
            "org_id": c.org_id, "state": reg.confirmation_state(c, on),
            "withdrawn_at": c.withdrawn_at.isoformat() if c.withdrawn_at else None,
            "withdrawal_reason": c.withdrawal_reason or None}


def _int(data: dict, key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ApiError(400, "validation_error", f"{key} must be an integer.", {key: "Must be an integer."})
    return value


def _str(data: dict, key: str) -> str:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, "validation_error", f"{key} must be a string.", {key: "Must be a string."})
    return value or ""


def _managed(confirmation_id: int) -> RegistrationConfirmation:
    c = dbm.session.get(RegistrationConfirmation, confirmation_id)
    if c is None:
        raise NotFound("No such registration confirmation.")
    if not reg.can_manage(dbm.session, principal(), c):
        raise reg.RegistrationRefused("not_a_confirmer", "Only a scheme admin, or a confirmer for the organisation "
                                                         "that recorded it, can see this confirmation.")
    return c


@bp.get("/confirmations")
@api_doc("Registration confirmations by state (scheme admins: all; other confirmers: their organisations')",
         params=STATE_PARAM, responses=REFUSALS, tags=["registration"])
@require_auth
def confirmations():
    p = principal()
    orgs = reg.confirming_orgs(dbm.session, p)
    admin = is_scheme_admin(dbm.session, p)
    if not orgs and not admin:
        raise reg.RegistrationRefused("not_a_confirmer", "Only scheme admins and registration confirmers can list "
                                                         "confirmations.")
    state = request.args.get("state")
    if state is not None and state not in reg.STATES:
        raise ApiError(400, "validation_error", "Unknown state.", {"state": "Use one of " + ", ".join(reg.STATES) + "."})
    groups = reg.overview(dbm.session, uk_today(), None if admin else {o.id for o in orgs})
    out = {k: [confirmation_json(c) for c in v] for k, v in groups.items() if k != "unconfirmed"}
    out["unconfirmed"] = [{"person_id": x.id, "name": x.full_name, "register": x.registration_body,
                           "pin": x.registration_pin} for x in groups["unconfirmed"]]
    if state is not None:
        out = {state: out[state]}
    return jsonify(out)


@bp.post("/confirmations")
@api_doc("Record (or renew) a registration confirmation: you checked the register on a date",
         body=CONFIRMATION_SCHEMA, responses={"201": "Recorded", **REFUSALS, "404": "No such person"},
         tags=["registration"])
@require_auth
def create_confirmation():
    data = json_body()
    c = reg.record_confirmation(
        dbm.session, principal(), register=_str(data, "register"), pin=_str(data, "pin"),
        register_status=_str(data, "register_status"), checked_on=parse_date(data, "checked_on", required=True),
        renews_on=parse_date(data, "renews_on", required=True), org_id=_int(data, "org_id"),
        notes=_str(data, "notes"), person_id=_int(data, "person_id"))
    dbm.session.commit()
    return jsonify(confirmation_json(c)), 201


@bp.get("/confirmations/<id:confirmation_id>")
@api_doc("One registration confirmation", responses={**REFUSALS, "404": "No such confirmation"},
         tags=["registration"])
@require_auth
def get_confirmation(confirmation_id: int):
    return jsonify(confirmation_json(_managed(confirmation_id)))


@bp.get("/confirmations/<id:confirmation_id>/review")
@api_doc("Competences and delegations that relied on this confirmation, to review after a withdrawal",
         responses={**REFUSALS, "404": "No such confirmation"}, tags=["registration"])
@require_auth
def review(confirmation_id: int):
    c = _managed(confirmation_id)
    rows = reg.relying_records(dbm.session, c.id)
    return jsonify({"confirmation": confirmation_json(c), "records": [
        {k: (v.isoformat() if k == "since" else v) for k, v in r.items() if k not in ("endpoint", "args")}
        for r in rows]})


@bp.post("/confirmations/<id:confirmation_id>/withdraw")
@api_doc("Withdraw a confirmation with a reason: the professional can no longer act; past records stay",
         body=REASON_SCHEMA, responses={**REFUSALS, "404": "No such confirmation", "409": "Already withdrawn"},
         tags=["registration"])
@require_auth
def withdraw(confirmation_id: int):
    data = json_body()
    c = reg.withdraw_confirmation(dbm.session, principal(), confirmation_id, _str(data, "reason"))
    dbm.session.commit()
    return jsonify(confirmation_json(c))


@bp.get("/people/<id:person_id>/standing")
@api_doc("May this person act as a registered professional today: the current confirmation, or the reason "
         "code and message", responses={"404": "No such person"}, tags=["registration"])
@require_auth
def standing(person_id: int):
    p = principal()
    person = dbm.session.get(Person, person_id)
    if person is None:
        raise NotFound("No such person.")
    if not can_view_person(dbm.session, p, person_id):
        raise PermissionDenied("You cannot see this person.")
    s = reg.registration_standing(dbm.session, person)
    return jsonify({"person_id": person_id, "confirmed": s.confirmed, "code": s.code,
                    "message": s.message(yours=p.person_id == person_id) or None,
                    "confirmation": confirmation_json(s.confirmation) if s.confirmation else None})
