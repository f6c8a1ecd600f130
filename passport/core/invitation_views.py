"""Invitation pages: an org admin or training lead invites by email and manages pending invitations; the
invited person opens the emailed link (or their list of invitations) and accepts. Thin: forms, a service
call, one commit, then the email."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from passport import db as dbm
from passport.core import invitations, services
from passport.core.access import has_role, is_scheme_admin
from passport.core.auth import current_principal, role_required
from passport.core.catalogue_data import JOB_ROLES
from passport.core.forms import ConfirmForm
from passport.core.models import ROLE_LABELS, Organisation
from passport.db import utcnow
from passport.errors import ServiceError
from passport.forms import apply_errors, choices, status_for, submit

bp = Blueprint("invitations", __name__, template_folder="templates")


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class InviteForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired("Enter the email address to invite."),
                                                    Length(max=254)])
    roles = _Checkboxes("Roles", validators=[DataRequired("Choose at least one role.")])
    job_role = SelectField("Job role", choices=choices([("", "Not set")] + JOB_ROLES), validators=[Optional()])
    given_name = StringField("First name", validators=[Optional(), Length(max=100)])
    family_name = StringField("Last name", validators=[Optional(), Length(max=100)])


class NewAccountForm(FlaskForm):
    given_name = StringField("First name", validators=[DataRequired("Enter your first name."), Length(max=100)])
    family_name = StringField("Last name", validators=[DataRequired("Enter your last name."), Length(max=100)])
    password = PasswordField("Choose a password", validators=[DataRequired("Choose a password."), Length(max=200)])


def role_text(inv) -> str:
    return ", ".join(ROLE_LABELS[r] for r in inv.role_list)


def _role_choices(org_id: int) -> list:
    p = current_principal()
    if is_scheme_admin(dbm.session, p):
        allowed = list(ROLE_LABELS)
    elif has_role(dbm.session, p, "org_admin", org_id):
        allowed = [r for r in ROLE_LABELS if r != "scheme_admin"]
    else:
        allowed = list(invitations.TRAINING_LEAD_MAY_INVITE)
    return choices((r, ROLE_LABELS[r]) for r in allowed)


@bp.route("/organisations/<id:org_id>/invitations", methods=["GET", "POST"])
@role_required(*invitations.INVITING_ROLES)
def org_invitations(org_id: int):
    org = services.get_or_404(dbm.session, Organisation, org_id)
    p = current_principal()
    form = InviteForm()
    form.roles.choices = _role_choices(org_id)
    ok, result = submit(form, lambda: invitations.create_invitation(
        dbm.session, p, org_id, {k: val for k, val in form.data.items() if k != "csrf_token"},
        days=current_app.config["INVITATION_DAYS"]))
    if ok:
        inv, token = result
        invitations.send_invitation_email(current_app, inv, token)
        flash(f"We have emailed an invitation to {inv.email}. They join {org.name} when they accept it.", "info")
        return redirect(url_for("invitations.org_invitations", org_id=org_id))
    pending = invitations.list_invitations(dbm.session, p, org_id)
    return render_template("core/invitations.html", org=org, form=form, pending=pending, role_text=role_text,
                           now=utcnow(), days=current_app.config["INVITATION_DAYS"]), status_for(form)


@bp.post("/invitations/<id:invitation_id>/<action>")
@login_required
def manage(invitation_id: int, action: str):
    if action not in ("resend", "revoke"):
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    p = current_principal()
    if action == "resend":
        inv, token = invitations.resend_invitation(dbm.session, p, invitation_id,
                                                   days=current_app.config["INVITATION_DAYS"])
        dbm.session.commit()
        invitations.send_invitation_email(current_app, inv, token)
        flash(f"We have emailed a new link to {inv.email}. The earlier link no longer works.", "info")
    else:
        inv = invitations.revoke_invitation(dbm.session, p, invitation_id)
        dbm.session.commit()
        flash(f"The invitation to {inv.email} has been withdrawn. Its link no longer works.", "info")
    return redirect(url_for("invitations.org_invitations", org_id=inv.org_id))


@bp.get("/invitations")
@login_required
def mine():
    """Invitations addressed to the signed-in person's email address."""
    rows = invitations.pending_for(dbm.session, current_user.person)
    return render_template("core/my_invitations.html", rows=rows, role_text=role_text)


@bp.post("/invitations/<id:invitation_id>/accept")
@login_required
def accept_mine(invitation_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    inv, _made = invitations.accept_by_id(dbm.session, current_user.person, invitation_id)
    dbm.session.commit()
    flash(f"You have joined {inv.organisation.name}.", "info")
    return redirect(url_for("core.index"))


@bp.route("/invitations/accept/<token>", methods=["GET", "POST"])
def open_link(token: str):
    """The emailed link. Signed in with the invited address: accept. Not signed in: sign in, or choose a
    password for a new account when the address has none."""
    try:
        inv = invitations.by_token(dbm.session, token)
    except ServiceError as exc:
        return render_template("error.html", status=404, message=exc.message), 404
    roles = [ROLE_LABELS[r] for r in inv.role_list]
    if current_user.is_authenticated:
        person = current_user.person
        matches = invitations.addressed_to(inv, person)
        if request.method == "POST" and matches:
            if not ConfirmForm().validate_on_submit():
                abort(400)
            invitations.accept(dbm.session, person, inv)
            dbm.session.commit()
            flash(f"You have joined {inv.organisation.name}.", "info")
            return redirect(url_for("core.index"))
        return render_template("core/invitation.html", inv=inv, roles=roles, signed_in=True, matches=matches,
                               confirm=ConfirmForm(), token=token), (200 if request.method == "GET" else 403)
    need = invitations.account_needed(dbm.session, inv)
    form = NewAccountForm(given_name=inv.given_name or None, family_name=inv.family_name or None)
    if need == "new_account" and form.validate_on_submit():
        try:
            _inv, _person, user = invitations.accept_with_new_account(dbm.session, token, {
                k: val for k, val in form.data.items() if k != "csrf_token"})
            dbm.session.commit()
        except ServiceError as exc:
            dbm.session.rollback()
            apply_errors(form, exc)
        else:
            login_user(user)
            flash(f"Your account is ready and you have joined {inv.organisation.name}.", "info")
            return redirect(url_for("core.index"))
    return render_template("core/invitation.html", inv=inv, roles=roles, signed_in=False, need=need, form=form,
                           token=token), status_for(form)
