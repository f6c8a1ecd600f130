"""Passports JSON API under ``/api/v1/passports``: issue, list, fetch, revoke, suspend, reinstate, re-issue,
and the QR, PDF, phone image and Open Badges 3.0 renderings. Thin: parse, call a service, commit once."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from passport import db as dbm
from passport.api import ApiError, api_doc, json_body, principal, require_auth
from passport.certificates import openbadge, qr, render, services, settings
from passport.certificates.models import REASON_LABELS, REVOCATION_REASONS, SUSPENSION_REASONS, Passport
from passport.certificates.presentation import competency_rows, issuer_name
from passport.params import ID_SCHEMA, body_id, query_id

bp = Blueprint("certificates_api", __name__, url_prefix="/api/v1/passports")
TAGS = ["passports"]

ISSUE_SCHEMA = {"type": "object", "required": ["person_id"], "properties": {
    "person_id": ID_SCHEMA,
    "org_id": {**ID_SCHEMA, "type": ["integer", "null"], "description": "Issuing organisation (default: the one you share "
                                                           "with the person; scheme admins may leave it empty)"}}}
REVOKE_SCHEMA = {"type": "object", "required": ["reason"], "properties": {
    "reason": {"type": "string", "enum": list(REVOCATION_REASONS)}}}
SUSPEND_SCHEMA = {"type": "object", "properties": {"reason": {"type": "string", "enum": list(SUSPENSION_REASONS)}}}


def passport_json(p: Passport, with_token: bool = True) -> dict:
    cfg = settings(current_app)
    state = p.state()
    out = {
        "id": p.id, "jti": p.jti, "person_id": p.person_id, "org_id": p.org_id,
        "issuer": issuer_name(dbm.session, p), "issued_at": p.issued_at.isoformat(),
        "expires_at": p.expires_at.isoformat(), "issued_by": p.issued_by_label, "issue_reason": p.issue_reason,
        "state": state, "reason": p.reason if state in ("revoked", "suspended") else None,
        "reason_label": REASON_LABELS.get(p.reason) if state in ("revoked", "suspended") else None,
        "name": {"given": p.given_name, "family": p.family_name},
        "care_certificate": {"framework": p.framework, "standards_met": p.standards_met,
                             "awarded_on": p.awarded_on.isoformat() if p.awarded_on else None},
        "competencies": [{"task_code": c["code"], "task": c["name"], "level": c["level"],
                          "valid_until": c["valid_until"].isoformat()} for c in competency_rows(p)],
        "kid": p.key.kid, "status": {"list_id": p.status_list_id, "index": p.status_index},
        "superseded_by_id": p.superseded_by_id, "qr": {"version": p.qr_version, "mode": p.qr_mode},
    }
    if with_token:
        out["token"] = p.token
        out["qr"]["text"] = qr.qr_text(p.token, cfg["public_url"], p.qr_mode)
    return out


@bp.post("")
@api_doc("Issue a passport for a person (training leads, registered managers and admins of their employer)",
         body=ISSUE_SCHEMA, responses={"201": "Issued", "409": "A passport is suspended", "503": "No signing key"},
         tags=TAGS)
@require_auth
def issue():
    data = json_body()
    person_id = body_id(data, "person_id")
    org_id = body_id(data, "org_id", required=False)
    p = services.issue_passport(dbm.session, principal(), person_id, org_id, **settings(current_app))
    dbm.session.commit()
    return jsonify(passport_json(p)), 201


@bp.get("")
@api_doc("List a person's passports, newest first (default: your own)", params=[
    {"name": "person_id", "in": "query", "required": False, "schema": ID_SCHEMA}], tags=TAGS)
@require_auth
def list_passports():
    person_id = query_id("person_id") or principal().person_id
    return jsonify({"passports": [passport_json(p) for p in
                                  services.list_for_person(dbm.session, principal(), person_id)]})


@bp.get("/<id:passport_id>")
@api_doc("One passport with its token and status", tags=TAGS)
@require_auth
def get(passport_id: int):
    return jsonify(passport_json(services.get_passport(dbm.session, principal(), passport_id)))


@bp.post("/<id:passport_id>/revoke")
@api_doc("Revoke a passport for good (issuing organisation only). Revoking twice is harmless.", body=REVOKE_SCHEMA,
         tags=TAGS)
@require_auth
def revoke(passport_id: int):
    data = json_body()
    p = services.revoke(dbm.session, principal(), passport_id, data.get("reason"))
    dbm.session.commit()
    return jsonify(passport_json(p, with_token=False))


@bp.post("/<id:passport_id>/suspend")
@api_doc("Suspend a passport while something is investigated (issuing organisation only)", body=SUSPEND_SCHEMA,
         tags=TAGS)
@require_auth
def suspend(passport_id: int):
    data = json_body()
    p = services.suspend(dbm.session, principal(), passport_id, data.get("reason") or "under_investigation")
    dbm.session.commit()
    return jsonify(passport_json(p, with_token=False))


@bp.post("/<id:passport_id>/reinstate")
@api_doc("Lift a suspension (issuing organisation only)", tags=TAGS)
@require_auth
def reinstate(passport_id: int):
    p = services.reinstate(dbm.session, principal(), passport_id)
    dbm.session.commit()
    return jsonify(passport_json(p, with_token=False))


@bp.post("/<id:passport_id>/reissue")
@api_doc("Re-issue with today's facts; the old passport becomes superseded", responses={"201": "Issued"}, tags=TAGS)
@require_auth
def reissue(passport_id: int):
    old = services.get_passport(dbm.session, principal(), passport_id)
    if not services.can_manage(dbm.session, principal(), old):
        raise ApiError(403, "forbidden", "Only the issuing organisation can re-issue this passport.")
    p = services.supersede(dbm.session, principal(), passport_id, **settings(current_app))
    dbm.session.commit()
    return jsonify(passport_json(p)), 201


def _download(passport_id: int, kind: str, filename: str):
    p = services.get_passport(dbm.session, principal(), passport_id)
    content = render.artifact(dbm.session, p, kind, settings(current_app)["public_url"])
    dbm.session.commit()
    resp = Response(content, mimetype=render.KINDS[kind])
    resp.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    resp.headers["Cache-Control"] = "private, max-age=86400"
    return resp


@bp.get("/<id:passport_id>/qr.png")
@api_doc("The passport's QR code as PNG (error correction Q, 4-module quiet zone)", tags=TAGS)
@require_auth
def qr_png(passport_id: int):
    return _download(passport_id, "qr.png", f"passport-{passport_id}-qr.png")


@bp.get("/<id:passport_id>/qr.svg")
@api_doc("The passport's QR code as SVG", tags=TAGS)
@require_auth
def qr_svg(passport_id: int):
    return _download(passport_id, "qr.svg", f"passport-{passport_id}-qr.svg")


@bp.get("/<id:passport_id>/phone.png")
@api_doc("A phone-gallery image of the passport (1080 x 1920 PNG)", tags=TAGS)
@require_auth
def phone_png(passport_id: int):
    return _download(passport_id, "phone.png", f"passport-{passport_id}-phone.png")


@bp.get("/<id:passport_id>/passport.pdf")
@api_doc("The printable passport as PDF: layout=a4 (default) or card (credit-card size)", params=[
    {"name": "layout", "in": "query", "required": False, "schema": {"type": "string", "enum": ["a4", "card"]}}],
    tags=TAGS)
@require_auth
def pdf(passport_id: int):
    layout = request.args.get("layout", "a4")
    if layout not in ("a4", "card"):
        raise ApiError(400, "validation_error", "layout must be a4 or card.", {"layout": "Choose a4 or card."})
    return _download(passport_id, f"{layout}.pdf", f"passport-{passport_id}-{layout}.pdf")


@bp.get("/<id:passport_id>/openbadge.jwt")
@api_doc("Open Badges 3.0 AchievementCredential as a VC-JWT signed RS256", tags=TAGS)
@require_auth
def openbadge_jwt(passport_id: int):
    p = services.get_passport(dbm.session, principal(), passport_id)
    cfg = settings(current_app)
    token = openbadge.openbadge_jwt(dbm.session, p, cfg["key_dir"], cfg["public_url"], current_app.config["SECRET_KEY"])
    resp = Response(token, mimetype="application/jwt")
    resp.headers["Content-Disposition"] = f'inline; filename="passport-{passport_id}-openbadge.jwt"'
    return resp


@bp.get("/<id:passport_id>/openbadge.json")
@api_doc("Open Badges 3.0 AchievementCredential as plain JSON (unsigned)", tags=TAGS)
@require_auth
def openbadge_json(passport_id: int):
    p = services.get_passport(dbm.session, principal(), passport_id)
    return jsonify(openbadge.credential(dbm.session, p, settings(current_app)["public_url"],
                                        current_app.config["SECRET_KEY"]))
