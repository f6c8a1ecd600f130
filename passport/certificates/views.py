"""Passport pages: My passport, an organisation's passports, one person's, one passport, printing,
downloads and the keys overview. Thin: form -> service -> commit once -> redirect."""
from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required

from passport import db as dbm
from passport.certificates import bp, keys as keyring, openbadge, qr, render, services, settings
from passport.certificates.forms import IssueForm, RevokeForm
from passport.certificates.models import REASON_LABELS, Passport
from passport.certificates.presentation import view_model
from passport.core.access import has_role, is_scheme_admin, memberships_of, orgs_with_role
from passport.core.auth import current_principal, role_required
from passport.core.forms import ConfirmForm
from passport.core.models import Organisation, Person
from passport.core.services import get_or_404
from passport.errors import ServiceError
from passport.forms import choices
from passport.web import add_dashboard_card, add_nav

STAFF_ROLES = services.ISSUER_ROLES + ("assessor",)
DOWNLOADS = {
    "phone.png": "Image for your phone's photos",
    "card.pdf": "Credit-card size (PDF)",
    "a4.pdf": "A4 page (PDF)",
    "qr.png": "QR code (PNG)",
    "qr.svg": "QR code (SVG, for printing large)",
}


def _passport_or_404(passport_id: int) -> Passport:
    return services.get_passport(dbm.session, current_principal(), passport_id)


@bp.get("/my")
@login_required
def my_passport():
    """The worker's own passport: the current one, downloads and history."""
    p = current_principal()
    passports = services.list_for_person(dbm.session, p, p.person_id)
    current = services.current_passport(dbm.session, p.person_id)
    vm = view_model(dbm.session, current) if current else None
    return render_template("certificates/my.html", passports=passports, current=current, vm=vm,
                           downloads=DOWNLOADS, state_label=services.state_label, reason_labels=REASON_LABELS)


@bp.get("/my/show")
@login_required
def show_to_checker():
    """"Show to a checker": the holder's name and the QR code filling a phone's width, nothing to scroll."""
    p = current_principal()
    current = services.current_passport(dbm.session, p.person_id)
    if current is None:
        return redirect(url_for(".my_passport"))
    return render_template("certificates/show.html", current=current, vm=view_model(dbm.session, current),
                           state_label=services.state_label)


@bp.get("/organisations/<id:org_id>")
@role_required(*STAFF_ROLES)
def org_passports(org_id: int):
    """Staff: everyone in the organisation with their Care Certificate and passport state."""
    org = get_or_404(dbm.session, Organisation, org_id)
    can_issue = has_role(dbm.session, current_principal(), services.ISSUER_ROLES, org_id)
    return render_template("certificates/organisation.html", org=org, rows=services.issuable_people(dbm.session, org_id),
                           can_issue=can_issue, form=ConfirmForm(), state_label=services.state_label)


@bp.route("/people/<id:person_id>", methods=["GET", "POST"])
@login_required
def person_passports(person_id: int):
    """A person's passports; issuers can issue a new one here."""
    principal = current_principal()
    person = get_or_404(dbm.session, Person, person_id)
    passports = services.list_for_person(dbm.session, principal, person_id)
    org_ids = services.issuer_orgs_for(dbm.session, principal, person_id)
    form = IssueForm()
    form.org_id.choices = choices([(o, dbm.session.get(Organisation, o).name) for o in org_ids])
    if request.method == "POST":
        if not org_ids:
            abort(403)
        if form.validate_on_submit():
            try:
                new = services.issue_passport(dbm.session, principal, person_id, form.org_id.data,
                                              **settings(current_app))
                dbm.session.commit()
                flash(f"Passport issued for {person.full_name}.", "info")
                return redirect(url_for("certificates.passport", passport_id=new.id))
            except ServiceError as exc:
                dbm.session.rollback()
                form.form_errors.append(exc.message)
    cc = services.care_certificate_summary(dbm.session, person_id)
    status = 400 if form.errors or form.form_errors else 200
    return render_template("certificates/person.html", person=person, passports=passports, form=form,
                           can_issue=bool(org_ids), cc=cc, state_label=services.state_label), status


@bp.get("/passports/<id:passport_id>")
@login_required
def passport(passport_id: int):
    p = _passport_or_404(passport_id)
    principal = current_principal()
    return render_template("certificates/passport.html", p=p, vm=view_model(dbm.session, p),
                           can_manage=services.can_manage(dbm.session, principal, p),
                           is_holder=principal.person_id == p.person_id, revoke_form=RevokeForm(),
                           confirm=ConfirmForm(), downloads=DOWNLOADS, state_label=services.state_label,
                           reason_labels=REASON_LABELS,
                           qr_text=qr.qr_text(p.token, settings(current_app)["public_url"], p.qr_mode))


@bp.post("/passports/<id:passport_id>/<action>")
@login_required
def passport_action(passport_id: int, action: str):
    """Revoke (with a reason), suspend, reinstate or re-issue; issuing organisation only."""
    principal = current_principal()
    p = _passport_or_404(passport_id)
    if action not in ("revoke", "suspend", "reinstate", "reissue"):
        abort(404)
    if not services.can_manage(dbm.session, principal, p):
        abort(403)
    form = RevokeForm() if action == "revoke" else ConfirmForm()
    if not form.validate_on_submit():
        if action != "revoke":
            abort(400)
        return render_template("certificates/passport.html", p=p, vm=view_model(dbm.session, p), can_manage=True,
                               is_holder=principal.person_id == p.person_id, revoke_form=form, confirm=ConfirmForm(),
                               downloads=DOWNLOADS, state_label=services.state_label, reason_labels=REASON_LABELS,
                               qr_text=qr.qr_text(p.token, settings(current_app)["public_url"], p.qr_mode)), 400
    try:
        target = p
        if action == "revoke":
            services.revoke(dbm.session, principal, p.id, form.reason.data)
            message = "The passport is revoked. Checks now show it as revoked."
        elif action == "suspend":
            services.suspend(dbm.session, principal, p.id)
            message = "The passport is suspended while this is investigated."
        elif action == "reinstate":
            services.reinstate(dbm.session, principal, p.id)
            message = "The suspension is lifted."
        else:
            target = services.supersede(dbm.session, principal, p.id, **settings(current_app))
            message = "A new passport has been issued; the old one now shows as replaced."
        dbm.session.commit()
    except ServiceError as exc:
        dbm.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("certificates.passport", passport_id=p.id))
    flash(message, "info")
    return redirect(url_for("certificates.passport", passport_id=target.id))


@bp.get("/passports/<id:passport_id>/print")
@login_required
def print_view(passport_id: int):
    """Printable passport (HTML + print CSS): ?layout=a4 (default) or card."""
    p = _passport_or_404(passport_id)
    layout = request.args.get("layout", "a4")
    if layout not in ("a4", "card"):
        abort(404)
    return render_template("certificates/print.html", p=p, vm=view_model(dbm.session, p), layout=layout)


@bp.get("/passports/<id:passport_id>/download/<kind>")
@login_required
def download(passport_id: int, kind: str):
    p = _passport_or_404(passport_id)
    cfg = settings(current_app)
    if kind in render.KINDS:
        content, mimetype = render.artifact(dbm.session, p, kind, cfg["public_url"]), render.KINDS[kind]
        dbm.session.commit()
    elif kind == "openbadge.jwt":
        content = openbadge.openbadge_jwt(dbm.session, p, cfg["key_dir"], cfg["public_url"],
                                          current_app.config["SECRET_KEY"])
        mimetype = "application/jwt"
    elif kind == "openbadge.json":
        import json

        content = json.dumps(openbadge.credential(dbm.session, p, cfg["public_url"], current_app.config["SECRET_KEY"]),
                             indent=2, ensure_ascii=False)
        mimetype = "application/json"
    else:
        abort(404)
    resp = Response(content, mimetype=mimetype)
    disposition = "inline" if request.args.get("inline") else "attachment"
    resp.headers["Content-Disposition"] = f'{disposition}; filename="care-passport-{p.jti}-{kind}"'
    resp.headers["Cache-Control"] = "private, max-age=86400"
    return resp


@bp.get("/keys")
@login_required
def keys_page():
    """Scheme admins: the issuer's keys (public information only) and how to manage them."""
    if not is_scheme_admin(dbm.session, current_principal()):
        abort(403)
    return render_template("certificates/keys.html", keys=keyring.keys_for(dbm.session),
                           public_url=current_app.config["PUBLIC_URL"])


def _has_passport_or_works(principal) -> bool:
    if any(m.role == "worker" for m in memberships_of(dbm.session, principal)):
        return True
    return services.current_passport(dbm.session, principal.person_id) is not None


def _first_org(principal):
    ids = orgs_with_role(dbm.session, principal, STAFF_ROLES)
    return {"org_id": ids[0]} if ids else None


def init_app(app) -> None:
    add_nav(app, "My passport", "certificates.my_passport", visible=_has_passport_or_works, order=20)
    add_dashboard_card(app, "My passport", "certificates.my_passport",
                       "Your signed Care Certificate passport: show its QR code, print it, download it.",
                       visible=_has_passport_or_works, order=4)
    add_dashboard_card(app, "Passports", "certificates.org_passports",
                       "Issue, print and revoke your staff's Care Certificate passports.", order=30,
                       url_kwargs=_first_org)
    add_dashboard_card(app, "Signing keys", "certificates.keys_page",
                       "The keys that sign passports: status, rotation and what to do if one is compromised.",
                       order=85, visible=lambda p: is_scheme_admin(dbm.session, p))
