"""Bulk onboarding pages: an org admin checks (dry run) and imports a staff list, then everyone new is
invited by email. Thin: the form, ``onboarding.run_import``, one commit, then the emails."""
from __future__ import annotations

import base64
import binascii

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SubmitField

from passport import db as dbm
from passport.core import onboarding, services
from passport.core.auth import current_principal, role_required
from passport.core.models import Organisation
from passport.errors import ServiceError
from passport.forms import apply_errors

bp = Blueprint("onboarding", __name__, template_folder="templates")


class ImportForm(FlaskForm):
    file = FileField("Staff list (CSV)")
    # the file that was just checked, carried to "Import" so it need not be chosen again (checked again there)
    checked = HiddenField()
    check = SubmitField("Check the file (nothing is saved)")
    submit = SubmitField("Import and send invitations")


def _upload(form: ImportForm) -> bytes | None:
    """The chosen file, else the file carried from the check; None (with a field error) when neither."""
    if form.file.data:
        return form.file.data.read(max_bytes() + 1)
    if form.checked.data and form.submit.data:
        try:
            return base64.b64decode(form.checked.data.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            pass
    form.file.errors = list(form.file.errors) + ["Choose a CSV file to upload."]
    return None


def max_bytes() -> int:
    return current_app.config.get("ONBOARDING_MAX_BYTES", onboarding.DEFAULT_MAX_BYTES)


@bp.route("/organisations/<id:org_id>/people/import", methods=["GET", "POST"])
@role_required(*onboarding.IMPORT_ROLES)
def import_people(org_id: int):
    org = services.get_or_404(dbm.session, Organisation, org_id)
    form = ImportForm()
    preview = carried = None
    if form.validate_on_submit() and (data := _upload(form)) is not None:
        try:
            result = onboarding.run_import(dbm.session, current_principal(), org_id, data,
                                           dry_run=not form.submit.data, max_bytes=max_bytes(),
                                           invitation_days=current_app.config["INVITATION_DAYS"],
                                           filename=(form.file.data.filename if form.file.data else "") or "upload.csv")
            preview = result.preview
            if form.submit.data and preview.ok:
                dbm.session.commit()
                onboarding.send_emails(current_app, result)
                flash(f"{len(preview.to_add)} {'person' if len(preview.to_add) == 1 else 'people'} added or invited; "
                      f"{len(preview.matched)} already here were left as they are. We have emailed an invitation "
                      "to everyone new with an email address.", "info")
                return redirect(url_for("invitations.org_invitations", org_id=org_id))
            dbm.session.rollback()
            if preview.ok:
                carried = base64.b64encode(data).decode("ascii")
        except ServiceError as exc:
            dbm.session.rollback()
            apply_errors(form, exc)
    status = 400 if (form.errors or form.form_errors or (preview is not None and not preview.ok)) else 200
    return render_template("core/import_people.html", org=org, form=form, preview=preview, carried=carried,
                           max_bytes=max_bytes(),
                           days=current_app.config["INVITATION_DAYS"], job_role=onboarding.job_role_label), status
