"""Endorsing partners' logos: the scheme admin's upload page and the public, digest-addressed PNGs."""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from passport import db as dbm
from passport.core.access import is_scheme_admin
from passport.core.auth import current_principal
from passport.errors import ServiceError
from passport.verify import bp, logos, settings, trust
from passport.verify.forms import LogoForm


def _groups():
    """[(issuer key for the form, issuer name, [(endorser, logo row or None)])]: ours first."""
    table = logos.logo_table(dbm.session)
    s = settings()
    out = [("own", trust.own_name(dbm.session, s) + " (this service)",
            [(n, table.get((None, n))) for n in logos.endorsers_of(dbm.session, None)])]
    for row in trust.list_issuers(dbm.session):
        out.append((str(row.id), row.name, [(n, table.get((row.id, n))) for n in row.endorser_names]))
    return out


@bp.route("/verify/logos", methods=["GET", "POST"])
@login_required
def logo_list():
    """Upload each endorsing organisation's logo. Scheme admins only."""
    p = current_principal()
    if not is_scheme_admin(dbm.session, p):
        abort(403)
    form = LogoForm()
    failed = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        issuer_id = None if form.issuer.data == "own" else (int(form.issuer.data) if form.issuer.data.isdigit()
                                                              else -1)
        upload = request.files.get("logo")
        data = upload.read(logos.MAX_UPLOAD_BYTES + 1) if upload is not None and upload.filename else b""
        try:
            if request.form.get("action") == "remove":
                logos.remove_logo(dbm.session, p, issuer_id, form.endorser.data)
                message = f"The logo of {form.endorser.data} was removed."
            else:
                logos.set_logo(dbm.session, p, issuer_id, form.endorser.data, data)
                message = f"The logo of {form.endorser.data} was saved. Verifiers show it from the next trust bundle."
            dbm.session.commit()
            flash(message, "info")
            return redirect(url_for(".logo_list"))
        except ServiceError as exc:
            dbm.session.rollback()
            failed = (form.issuer.data, form.endorser.data, (exc.fields or {}).get("logo") or exc.message)
    return render_template("verify/logos.html", groups=_groups(), form=LogoForm(formdata=None), failed=failed,
                           max_kb=logos.MAX_UPLOAD_BYTES // 1024), 400 if failed else 200


@bp.get("/v/logo/<sha256>.png")
def logo(sha256: str):
    """A partner's logo by its SHA-256: served only while the stored bytes still match it. Always a PNG we
    drew ourselves, never an uploaded SVG."""
    png = logos.logo_bytes(dbm.session, sha256)
    if png is None:
        abort(404)
    resp = Response(png, content_type="image/png")
    resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'"
    return resp
