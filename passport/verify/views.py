"""Signed-in pages: who checked my passport, the scheme's trusted issuers, accepting a new starter's
passport. Thin views: form -> service -> commit once -> redirect."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from passport import db as dbm
from passport.core.access import is_scheme_admin, orgs_with_role
from passport.core.auth import current_principal
from passport.core.models import Organisation
from passport.core.records import standards as cc_standards
from passport.errors import ServiceError, ValidationError
from passport.forms import choices
from passport.verify import acceptance, bp, own, services, settings, trust, wording
from passport.verify.forms import AcceptForm, EndorsersForm, ScanForm, TrustIssuerForm, UpdateKeysForm
from passport.verify.qrread import UnreadableImage, read_qr


def _apply(form, exc: ServiceError) -> None:
    placed = False
    for name, message in (exc.fields or {}).items():
        if name in form._fields:
            form._fields[name].errors = list(form._fields[name].errors) + [message]
            placed = True
    if not placed:
        form.form_errors.append(exc.message)


@bp.get("/my-checks")
@login_required
def my_checks():
    """Who checked my passport: every server-side check of the signed-in person's passports."""
    p = current_principal()
    return render_template("verify/my_checks.html", checks=services.checks_for_person(dbm.session, p.person_id),
                           has_passport=bool(own.passport_jtis(dbm.session, p.person_id)))


# --- trusted issuers (scheme admins) -----------------------------------------------------------------


def _require_scheme_admin():
    if not is_scheme_admin(dbm.session, current_principal()):
        abort(403)


@bp.route("/verify/trust", methods=["GET", "POST"])
@login_required
def trust_list():
    _require_scheme_admin()
    form = TrustIssuerForm()
    s = settings()
    if form.validate_on_submit():
        try:
            row = trust.add_issuer(dbm.session, current_principal(), s, iss=form.iss.data, name=form.name.data,
                                   jwks_text=form.jwks.data, endorsers=form.endorsers.data)
            dbm.session.commit()
            flash(f"Passports from {row.name} are now trusted.", "info")
            return redirect(url_for(".trust_list"))
        except ServiceError as exc:
            dbm.session.rollback()
            _apply(form, exc)
    store = trust.trust_store(dbm.session, s, fresh=True)
    trust_keys = own.trust_public_jwks(dbm.session)
    return render_template("verify/trust.html", form=form, issuers=trust.list_issuers(dbm.session), store=store,
                           own_iss=s.public_url, trust_keys=trust_keys, keys_form=UpdateKeysForm(),
                           endorsers_form=EndorsersForm), \
        (400 if form.errors or form.form_errors else 200)


@bp.post("/verify/trust/<id:issuer_id>/keys")
@login_required
def trust_keys(issuer_id: int):
    _require_scheme_admin()
    form = UpdateKeysForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        row = trust.update_keys(dbm.session, current_principal(), settings(), issuer_id, form.jwks.data)
        dbm.session.commit()
        flash(f"The keys for {row.name} were updated.", "info")
    except ValidationError as exc:
        dbm.session.commit()  # keep the recorded refresh error; the old keys stay in use
        flash(f"The keys were not updated: {exc.message}", "error")
    return redirect(url_for(".trust_list"))


@bp.post("/verify/trust/<id:issuer_id>/endorsers")
@login_required
def trust_endorsers(issuer_id: int):
    """Record the organisations that endorse a trusted issuer's passports (shown for its passports only)."""
    _require_scheme_admin()
    form = EndorsersForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        row = trust.set_endorsers(dbm.session, current_principal(), issuer_id, form.endorsers.data or "")
        dbm.session.commit()
        flash(f"The endorsers of {row.name}'s passports were saved.", "info")
    except ValidationError as exc:
        dbm.session.rollback()
        flash(f"The endorsers were not saved: {exc.message}", "error")
    return redirect(url_for(".trust_list"))


@bp.post("/verify/trust/<id:issuer_id>/remove")
@login_required
def trust_remove(issuer_id: int):
    _require_scheme_admin()
    if not UpdateKeysForm().validate_on_submit():
        abort(400)
    row = trust.remove_issuer(dbm.session, current_principal(), issuer_id)
    dbm.session.commit()
    flash(f"Passports from {row.name} are no longer trusted.", "info")
    return redirect(url_for(".trust_list"))


# --- accepting a passport (training leads, registered managers, org admins) ---------------------------


def _org_or_404(org_id: int) -> Organisation:
    org = dbm.session.get(Organisation, org_id)
    if org is None:
        abort(404)
    return org


def _accept_form(org_id: int, result, token: str, form: AcceptForm | None = None) -> AcceptForm:
    """The choices for step 2; a new form (``form`` None) is pre-filled with sensible defaults."""
    fresh = form is None
    form = form or AcceptForm(formdata=None, token=token)
    people = acceptance.staff_choices(dbm.session, org_id, acceptance.passport_holder(dbm.session, settings(), result))
    holder = (result.passport or {}).get("holder", {})
    form.person.choices = choices([("", "Choose…")] + [(str(p.id), p.full_name + (
        " (name matches)" if holder and acceptance.names_match(p, holder) else "")) for p in people])
    cc = (result.passport or {}).get("care_certificate") or {}
    fw, met = cc.get("framework"), cc.get("standards_met", [])
    titles = {s.number: s.title for s in cc_standards(dbm.session, fw)} if fw else {}
    form.standards.choices = choices([(n, f"{n}. {titles.get(n, '')}") for n in met])
    cats = acceptance.category_options(fw, met)
    from passport.core.models import TrainingCategory

    names = {c.code: c.name for c in dbm.session.query(TrainingCategory).filter(
        TrainingCategory.code.in_([c for _n, c, _ in cats]))}
    form.categories.choices = choices([(code, f"{names.get(code, code)} (from standard {n})") for n, code, _ in cats])
    scheme_fw = trust.scheme_info(dbm.session)["cc_version"]
    top_titles = {s.number: s.title for s in cc_standards(dbm.session, scheme_fw)}
    form.top_up.choices = choices([(n, f"{n}. {t}") for n, t in sorted(top_titles.items())])
    training = acceptance.training_options(result.passport)
    form.subjects.choices = choices([(m["code"], f"{m['name']} ({m['wording'][0].lower()}{m['wording'][1:]})")
                                     for m in training])
    if fresh:
        matches = [p for p in people if holder and acceptance.names_match(p, holder)]
        if len(matches) == 1:
            form.person.data = str(matches[0].id)
        form.standards.data = list(met)
        form.categories.data = [c for _n, c, _ in cats]
        form.top_up.data = acceptance.default_top_up(dbm.session, fw)
        form.subjects.data = [m["code"] for m in training]
        form.qualification.data = bool((result.passport or {}).get("qualification"))
    return form


@bp.route("/verify/orgs/<id:org_id>/accept", methods=["GET", "POST"])
@login_required
def accept_start(org_id: int):
    """Step 1: paste the passport (or its link) or upload a photo of its QR code; see the result."""
    org = _org_or_404(org_id)
    p = current_principal()
    if org_id not in orgs_with_role(dbm.session, p, acceptance.ACCEPTING_ROLES) and not is_scheme_admin(dbm.session, p):
        abort(403)
    form = ScanForm()
    result = accept_form = None
    if form.validate_on_submit():
        text = (form.token.data or "").strip()
        upload = request.files.get(form.image.name)
        if not text and upload is not None and upload.filename:
            try:
                text = read_qr(upload.read(8 * 1024 * 1024 + 1))
            except UnreadableImage as exc:
                form.image.errors = [str(exc)]
        if not text and not form.image.errors:
            form.token.errors = ["Paste the passport code or link, or upload a photo of its QR code."]
        if text:
            result = acceptance.preview(dbm.session, p, settings(), org_id, text)
            dbm.session.commit()
            if result.state == "valid":
                accept_form = _accept_form(org_id, result, text)
    status = 400 if form.errors else 200
    return render_template("verify/accept_start.html", org=org, form=form, result=result, accept_form=accept_form,
                           labels=services.RESULT_LABELS, level_labels=services.LEVEL_LABELS, wording=wording), status


@bp.post("/verify/orgs/<id:org_id>/accept/confirm")
@login_required
def accept_confirm(org_id: int):
    """Step 2: create the records, with provenance, in this organisation."""
    org = _org_or_404(org_id)
    p = current_principal()
    form = AcceptForm()
    token = form.token.data or ""
    result = acceptance.preview(dbm.session, p, settings(), org_id, token)
    _accept_form(org_id, result, token, form)
    if form.validate_on_submit():
        try:
            row = acceptance.accept(dbm.session, p, settings(), org_id=org_id, person_id=int(form.person.data),
                                    token=token, standards=form.standards.data or [],
                                    categories=form.categories.data or [], top_up=form.top_up.data or [],
                                    top_up_note=form.top_up_note.data, name_note=form.name_note.data,
                                    subjects=form.subjects.data or [], qualification=bool(form.qualification.data))
            dbm.session.commit()
            flash(f"{row.person.full_name}'s passport has been accepted and their records added.", "info")
            return redirect(url_for(".acceptance_detail", acceptance_id=row.id))
        except ServiceError as exc:
            dbm.session.rollback()
            _apply(form, exc)
    dbm.session.commit()  # the check log entry
    return render_template("verify/accept_start.html", org=org, form=ScanForm(formdata=None), result=result,
                           accept_form=form, labels=services.RESULT_LABELS,
                           level_labels=services.LEVEL_LABELS, wording=wording), 400


@bp.get("/verify/orgs/<id:org_id>/accepted")
@login_required
def acceptances(org_id: int):
    org = _org_or_404(org_id)
    rows = acceptance.acceptances_for_org(dbm.session, current_principal(), org_id)
    return render_template("verify/acceptances.html", org=org, rows=rows)


@bp.get("/verify/accepted/<id:acceptance_id>")
@login_required
def acceptance_detail(acceptance_id: int):
    row = acceptance.get_acceptance(dbm.session, current_principal(), acceptance_id)
    titles = {s.number: s.title for s in cc_standards(dbm.session, row.top_up_framework)} if row.top_up_framework else {}
    return render_template("verify/acceptance.html", row=row, top_up_titles=titles)
