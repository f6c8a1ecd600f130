"""Organisation pages: the training matrix (screen, print, CSV, PDF), requirements, training settings,
ASC-WDS worker ids, import and export; and the scheme-wide summary."""
from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
import sqlalchemy as sa

from passport import db as dbm
from passport.core import catalogue, records
from passport.core.admin_views import apply_errors
from passport.core.auth import current_principal, role_required
from passport.core.models import Organisation
from passport.core.services import get_or_404, people_in_org
from passport.courses import ascwds, bp, exports, matrix as mx, progress, requirements as rq
from passport.courses.common import MATRIX_ROLES, TRAINING_ROLES
from passport.courses.forms import RenewalForm, RequirementsForm, SettingsForm, UploadForm, dynamic_form, worker_id_field
from passport.courses.matrix import STATE_LABELS, job_role_label
from passport.courses.models import AscwdsUpload
from passport.errors import ServiceError, ValidationError
from passport.forms import choices
from passport.params import query_int
from passport.plugins import contributions
from passport.web import body_limit


def _matrix_args() -> dict:
    window = query_int("window", minimum=1, maximum=365)
    return {"window": window, "job_role": request.args.get("job_role") or None,
            "category": query_int("category", minimum=1, maximum=9999), "state": request.args.get("state") or None,
            "search": (request.args.get("q") or "").strip()[:100] or None}


@bp.get("/orgs/<id:org_id>/matrix")
@role_required(*MATRIX_ROLES)
def matrix(org_id: int):
    args = _matrix_args()
    m = mx.home_matrix(dbm.session, current_principal(), org_id, **args)
    # Other plugins may add a column (kind "matrix_column", see passport.plugins.contribute).
    extra_columns = [fn(dbm.session, org_id, [r.person.id for r in m.rows], m.on)
                     for _name, fn in contributions(current_app, "matrix_column")]
    return render_template("courses/matrix.html", m=m, args=args, labels=STATE_LABELS, role_label=job_role_label,
                           job_roles=m.job_roles, all_subjects=m.all_subjects, cells=mx.cell_renderer(m.subjects),
                           extra_columns=extra_columns, print_view=request.args.get("print") == "1")


@bp.get("/orgs/<id:org_id>/matrix.csv")
@role_required(*MATRIX_ROLES)
def matrix_csv(org_id: int):
    m = mx.home_matrix(dbm.session, current_principal(), org_id, **_matrix_args())
    name = f"training-matrix-{org_id}-{m.on.isoformat()}.csv"
    return Response(exports.matrix_csv(m), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/orgs/<id:org_id>/matrix.pdf")
@role_required(*MATRIX_ROLES)
def matrix_pdf(org_id: int):
    m = mx.home_matrix(dbm.session, current_principal(), org_id, **_matrix_args())
    name = f"training-matrix-{org_id}-{m.on.isoformat()}.pdf"
    return Response(exports.matrix_pdf(m), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/orgs/<id:org_id>/care-certificates")
@role_required(*MATRIX_ROLES, "assessor")
def cc_overview(org_id: int):
    org = get_or_404(dbm.session, Organisation, org_id)
    rows = []
    for person in people_in_org(dbm.session, org_id, role="worker"):
        data = progress.progress(dbm.session, person.id)
        rows.append((person, data, sum(1 for s in data["standards"] if s.state == "practice")))
    return render_template("courses/cc_overview.html", org=org, rows=rows)


@bp.route("/orgs/<id:org_id>/requirements", methods=["GET", "POST"])
@role_required(*TRAINING_ROLES)
def requirements(org_id: int):
    org = get_or_404(dbm.session, Organisation, org_id)
    form = RequirementsForm()
    cats = sorted(catalogue.training_categories(dbm.session), key=lambda c: c.name)
    form.categories.choices = choices((c.code, c.name) for c in cats)
    by_role = rq.requirements_by_role(dbm.session, org_id)
    if request.method == "GET" and request.args.get("job_role"):
        form.job_role.data = request.args["job_role"]
        form.categories.data = by_role.get(request.args["job_role"], [])
    if form.validate_on_submit():
        try:
            if request.form.get("reset") == "1":
                rq.reset_requirements(dbm.session, current_principal(), org_id)
                flash("Requirements are back to the defaults.", "info")
            else:
                rq.set_requirements(dbm.session, current_principal(), org_id, form.job_role.data, form.categories.data)
                flash(f"Saved the required subjects for {job_role_label(form.job_role.data)}.", "info")
            dbm.session.commit()
            return redirect(url_for("courses.requirements", org_id=org_id))
        except ServiceError as exc:
            dbm.session.rollback()
            apply_errors(form, exc)
    names = {c.code: c.name for c in cats}
    return render_template("courses/requirements.html", org=org, form=form, by_role=by_role, names=names,
                           role_label=job_role_label, customised=rq.settings_for(dbm.session, org_id).requirements_customised), \
        (400 if form.errors or form.form_errors else 200)


@bp.route("/orgs/<id:org_id>/settings", methods=["GET", "POST"])
@role_required(*TRAINING_ROLES)
def settings(org_id: int):
    p = current_principal()
    org = get_or_404(dbm.session, Organisation, org_id)
    current = rq.settings_for(dbm.session, org_id)
    form = SettingsForm(prefix="s", obj=current if request.method == "GET" else None)
    if request.method == "GET":
        form.amber_days.data = str(current.amber_days)
        form.reminder_offsets.data = current.reminder_offsets.replace(",", ", ")
    renewal = RenewalForm(prefix="r")
    renewal.category_code.choices = choices((c.code, c.name) for c in sorted(catalogue.training_categories(dbm.session),
                                                                              key=lambda c: c.name))
    if request.method == "POST" and "s-reminder_offsets" in request.form and form.validate_on_submit():
        try:
            rq.save_settings(dbm.session, p, org_id, {k: v for k, v in form.data.items() if k != "csrf_token"})
            dbm.session.commit()
            flash("Training settings saved.", "info")
            return redirect(url_for("courses.settings", org_id=org_id))
        except ServiceError as exc:
            dbm.session.rollback()
            apply_errors(form, exc)
    if request.method == "POST" and "r-category_code" in request.form and renewal.validate_on_submit():
        try:
            d = renewal.data
            if d["refresh_months"]:
                records.set_refresh_override(dbm.session, p, org_id, d["category_code"], d["job_role"] or "",
                                             d["refresh_months"])
            rq.set_renewal_rule(dbm.session, p, org_id, d["category_code"], d["job_role"] or "",
                                d["renew_month"], d["renew_day"] if d["renew_month"] else None)
            dbm.session.commit()
            flash("Refresh period saved.", "info")
            return redirect(url_for("courses.settings", org_id=org_id))
        except ServiceError as exc:
            dbm.session.rollback()
            apply_errors(renewal, exc)
    from passport.core.models import RefreshOverride

    overrides = list(dbm.session.query(RefreshOverride).filter(RefreshOverride.org_id == org_id))
    status = 400 if (form.errors or form.form_errors or renewal.errors or renewal.form_errors) else 200
    return render_template("courses/settings.html", org=org, form=form, renewal=renewal, overrides=overrides,
                           rules=rq.renewal_rules(dbm.session, org_id), role_label=job_role_label,
                           names={c.code: c.name for c in catalogue.training_categories(dbm.session)}), status


@bp.route("/orgs/<id:org_id>/worker-ids", methods=["GET", "POST"])
@role_required(*TRAINING_ROLES)
def worker_ids(org_id: int):
    org = get_or_404(dbm.session, Organisation, org_id)
    people = people_in_org(dbm.session, org_id)
    refs = ascwds.worker_refs(dbm.session, org_id)
    form = dynamic_form("WorkerIdsForm", {f"w{p.id}": worker_id_field(p.full_name, refs.get(p.id)) for p in people})()
    if form.validate_on_submit():
        try:
            n = ascwds.set_worker_refs(dbm.session, current_principal(), org_id,
                                       {p.id: form[f"w{p.id}"].data or "" for p in people})
            dbm.session.commit()
            flash(f"Saved ({n} changed).", "info")
            return redirect(url_for("courses.worker_ids", org_id=org_id))
        except ServiceError as exc:
            dbm.session.rollback()
            for key, message in exc.fields.items():
                fld = getattr(form, "w" + key.split("-")[-1], None)
                if fld is not None:
                    fld.errors = list(fld.errors) + [message]
                else:
                    form.form_errors.append(message)
    return render_template("courses/worker_ids.html", org=org, form=form, people=people), \
        (400 if form.errors or form.form_errors else 200)


@bp.route("/orgs/<id:org_id>/ascwds", methods=["GET", "POST"])
@body_limit("COURSES_ASCWDS_MAX_BYTES")
@role_required(*TRAINING_ROLES)
def ascwds_page(org_id: int):
    """Check a training file (nothing saved; the file is kept for an hour under a signed token), then import
    it, without choosing it again, or choose another file."""
    org = get_or_404(dbm.session, Organisation, org_id)
    p = current_principal()
    form = UploadForm()
    preview = imported = None
    kept_name = None
    limit = current_app.config["COURSES_ASCWDS_MAX_BYTES"]
    if form.validate_on_submit():
        dry = not form.submit.data
        try:
            chosen = form.file.data if getattr(form.file.data, "filename", "") else None
            if chosen is not None:
                data, filename = chosen.read(limit + 1), chosen.filename or "upload.csv"
            elif form.kept.data:
                up = ascwds.kept_upload(dbm.session, p, org_id, form.kept.data)
                data, filename = up.data, up.filename
            else:
                raise ValidationError("Choose a file.", {"file": "Choose a CSV file to upload."})
            preview, imported = ascwds.run_import(dbm.session, p, org_id, data, filename=filename, max_bytes=limit,
                                                  dry_run=dry)
            if imported is not None:
                dbm.session.execute(sa.delete(AscwdsUpload).where(AscwdsUpload.org_id == org_id,
                                                                   AscwdsUpload.person_id == p.person_id))
                dbm.session.commit()
                flash(f"Imported {imported.created} training record(s); {imported.skipped} already held were "
                      "skipped.", "info")
                return redirect(url_for("courses.ascwds_page", org_id=org_id))
            dbm.session.rollback()
            form.kept.data = ""
            if preview.ok:  # keep the checked file so Import need not ask for it again
                form.kept.data = ascwds.keep_upload(dbm.session, p, org_id, data, filename)
                kept_name = filename
                dbm.session.commit()
        except ServiceError as exc:
            dbm.session.rollback()
            form.kept.data = ""
            apply_errors(form, exc)
    status = 400 if (form.errors or form.form_errors or (preview is not None and not preview.ok)) else 200
    return render_template("courses/ascwds.html", org=org, form=form, preview=preview, kept_name=kept_name), status


@bp.get("/orgs/<id:org_id>/ascwds/export.csv")
@role_required(*TRAINING_ROLES)
def ascwds_export(org_id: int):
    text, warnings = ascwds.export(dbm.session, current_principal(), org_id)
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="ascwds-training-{org_id}.csv"',
        "X-Export-Warnings": str(len(warnings))})


@bp.get("/scheme/summary")
@login_required
def scheme_summary():
    window = query_int("window", default=60, choices=(30, 60, 90))
    try:
        data = mx.scheme_summary(dbm.session, current_principal(), window)
        dbm.session.commit()  # the refreshed per-home counts
    except ServiceError as exc:
        if exc.status == 403:
            abort(403)
        raise
    return render_template("courses/scheme_summary.html", data=data)
