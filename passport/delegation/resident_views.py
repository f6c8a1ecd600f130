"""Pages for a home's register of residents: list, add, rename, archive or restore, import a CSV.

Anyone who may see the home's delegation pages sees the register; the home's registered manager and
training lead, and a registered professional for the home, keep it (``residents.can_manage``).
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from passport import db as dbm
from passport.core.auth import current_principal
from passport.core.forms import ConfirmForm
from passport.delegation import bp, residents
from passport.delegation.actions import _status, attempt
from passport.delegation.forms import ResidentForm, ResidentImportForm, ResidentLabelForm
from passport.delegation.models import Resident
from passport.delegation.views import home_or_403


def _manage_or_403(home_id: int) -> None:
    if not residents.can_manage(dbm.session, current_principal(), home_id):
        abort(403, "Only the home's registered manager or training lead, or a registered professional for the "
                   "home, can change its register of residents.")


@bp.route("/homes/<id:home_id>/resident-register", methods=["GET", "POST"])
@login_required
def resident_list(home_id: int):
    """The home's register of residents, and the form to add one."""
    home = home_or_403(home_id)
    can_manage = residents.can_manage(dbm.session, current_principal(), home_id)
    form = ResidentForm()
    if request.method == "POST":
        _manage_or_403(home_id)
        if form.validate_on_submit():
            r, _err = attempt(lambda: residents.add(dbm.session, current_principal(), home_id,
                                                    local_id=form.local_id.data, label=form.label.data), form)
            if r is not None:
                flash(f"{r.display} has been added to the register.", "info")
                return redirect(url_for("delegation.resident_list", home_id=home_id))
    rows = residents.register(dbm.session, home_id, include_archived=True)
    return render_template("delegation/resident_register.html", home=home, form=form, can_manage=can_manage,
                           active=[r for r in rows if r.active], archived=[r for r in rows if not r.active]
                           ), _status(form)


@bp.route("/residents/<id:resident_id>", methods=["GET", "POST"])
@login_required
def resident_edit(resident_id: int):
    """Rename a resident's label, or archive or restore them."""
    r = dbm.session.get(Resident, resident_id)
    if r is None:
        abort(404)
    home = home_or_403(r.org_id)
    _manage_or_403(r.org_id)
    form = ResidentLabelForm(obj=r) if request.method == "GET" else ResidentLabelForm()
    confirm = ConfirmForm()
    if request.method == "POST":
        action = request.form.get("action", "rename")
        if action in ("archive", "restore"):
            if not confirm.validate_on_submit():
                abort(400)
            attempt(lambda: residents.update(dbm.session, current_principal(), resident_id,
                                             active=action == "restore"))
            flash(f"{r.display} has been " + ("restored to" if action == "restore" else "archived in")
                  + " the register.", "info")
            return redirect(url_for("delegation.resident_list", home_id=r.org_id))
        if form.validate_on_submit():
            done, _err = attempt(lambda: residents.update(dbm.session, current_principal(), resident_id,
                                                          label=form.label.data), form)
            if done is not None:
                flash(f"The label is now {done.display}.", "info")
                return redirect(url_for("delegation.resident_list", home_id=r.org_id))
    return render_template("delegation/resident_edit.html", home=home, r=r, form=form, confirm=confirm
                           ), _status(form)


@bp.route("/homes/<id:home_id>/resident-register/import", methods=["GET", "POST"])
@login_required
def resident_import(home_id: int):
    """Add residents from a CSV (``local_id,label``): check first, then import all or nothing."""
    home = home_or_403(home_id)
    _manage_or_403(home_id)
    form = ResidentImportForm()
    result, text = None, None
    if form.validate_on_submit():
        upload = form.file.data
        raw = upload.read(256 * 1024 + 1) if upload else b""
        if not raw and form.content.data:
            text = form.content.data  # the file checked a moment ago
        elif not raw:
            form.file.errors = ["Choose a CSV file."]
        elif len(raw) > 256 * 1024:
            form.file.errors = ["The file must be smaller than 256 KB."]
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                form.file.errors = ["Save the file as CSV UTF-8 and try again."]
        if text is not None:
            dry = bool(form.dry_run.data)
            result, _err = attempt(lambda: residents.import_csv(dbm.session, current_principal(), home_id, text,
                                                                dry_run=dry), form)
            if result is not None and not result.errors and not dry:
                flash(f"{len(result.added)} resident(s) added; {result.unchanged} already in the register.", "info")
                return redirect(url_for("delegation.resident_list", home_id=home_id))
    status = 400 if (form.errors or (result is not None and result.errors)) else 200
    checked = text if result is not None and not result.errors and result.added else None
    return render_template("delegation/resident_import.html", home=home, form=form, result=result,
                           checked=checked), status
