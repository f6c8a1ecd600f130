"""Core pages: sign-in, password reset, account and API tokens, dashboard, standards catalogue."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from passport import db as dbm
from passport.core import accounts, catalogue, services, throttle
from passport.core.access import is_scheme_admin, memberships_of, orgs_with_role
from passport.core.auth import current_principal, safe_next
from passport.core.forms import ConfirmForm, ForgotPasswordForm, LoginForm, ResetPasswordForm, TokenForm
from passport.core.models import ROLE_LABELS
from passport.errors import ServiceError
from passport.forms import choices
from passport.mail import get_mailer
from passport.web import add_dashboard_card, add_nav, dashboard_cards

bp = Blueprint("core", __name__, template_folder="templates")


def _throttled(template: str, form, exc: throttle.Throttled):
    form.form_errors.append(exc.message)
    return render_template(template, form=form), 429, {"Retry-After": str(exc.retry_after)}


@bp.route("/sign-in", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            attempt = throttle.begin(throttle.SIGN_IN, form.email.data)
        except throttle.Throttled as exc:
            return _throttled("core/login.html", form, exc)
        user = accounts.authenticate(dbm.session, form.email.data, form.password.data)
        if user is not None:
            attempt.succeeded()
            dbm.session.commit()
            session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or url_for("core.index"))
        form.form_errors.append("The email address or password is not right, or the account is disabled.")
    return render_template("core/login.html", form=form), (200 if request.method == "GET" else 401)


@bp.route("/sign-out", methods=["GET", "POST"])
def logout():
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        logout_user()
        flash("You have signed out.", "info")
        return redirect(url_for("core.login"))
    if not current_user.is_authenticated:
        return redirect(url_for("core.login"))
    return render_template("core/logout.html", form=form)


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            throttle.begin(throttle.PASSWORD_RESET, form.email.data)  # every request counts: each may send mail
        except throttle.Throttled as exc:
            return _throttled("core/forgot.html", form, exc)
        try:
            person = services.person_by_email(dbm.session, form.email.data)
            user = services.user_for(dbm.session, person)
        except ServiceError:
            user = None
        if user is not None and not user.is_disabled:
            token = accounts.make_reset_token(current_app.config["SECRET_KEY"], user)
            link = current_app.config["PUBLIC_URL"] + url_for("core.reset_password", token=token)
            minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
            get_mailer(current_app).send(
                user.person.email, "Reset your care training passport password",
                f"Hello {user.person.given_name},\n\nUse this link within {minutes} minutes to choose a new "
                f"password. It works once.\n\n{link}\n\nIf you did not ask for this, you can ignore this email.\n")
        # Same answer whether or not the address is known, so the page does not reveal who has an account.
        flash("If that address has an account, we have sent it a link to reset the password.", "info")
        return redirect(url_for("core.login"))
    return render_template("core/forgot.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.reset_password(dbm.session, current_app.config["SECRET_KEY"], token,
                                           form.password.data, current_app.config["PASSWORD_RESET_MAX_AGE"])
        except ServiceError as exc:
            dbm.session.rollback()
            (form.password.errors if "password" in exc.fields else form.form_errors).append(
                exc.fields.get("password", exc.message))
            return render_template("core/reset.html", form=form), 400
        throttle.clear_account(throttle.SIGN_IN, user.person.email)  # the new password works at once
        dbm.session.commit()
        flash("Your password has been changed. Sign in with your new password.", "info")
        return redirect(url_for("core.login"))
    return render_template("core/reset.html", form=form)


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return render_template("core/landing.html")
    p = current_principal()
    memberships = memberships_of(dbm.session, p)
    return render_template("core/dashboard.html", memberships=memberships, role_labels=ROLE_LABELS,
                           cards=dashboard_cards(current_app, p), scheme_admin=is_scheme_admin(dbm.session, p))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    p = current_principal()
    form = TokenForm()
    scopes = [(f"{m.org_id}:{m.role}", f"{m.organisation.name} – {ROLE_LABELS[m.role]}")
              for m in memberships_of(dbm.session, p)]
    form.scope.choices = choices([("", "Choose…")] + scopes)
    new_token = None
    if form.validate_on_submit():
        org_id, role = form.scope.data.split(":", 1)
        try:
            new_token, _row = accounts.create_api_token(dbm.session, current_user, int(org_id), role, form.name.data)
            dbm.session.commit()
        except ServiceError as exc:
            dbm.session.rollback()
            form.form_errors.append(exc.message)
    return render_template("core/account.html", form=form, new_token=new_token,
                           tokens=accounts.tokens_for(dbm.session, current_user), confirm=ConfirmForm())


@bp.post("/account/tokens/<id:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    accounts.revoke_api_token(dbm.session, current_user, token_id)
    dbm.session.commit()
    flash("The token has been revoked. Anything using it will stop working.", "info")
    return redirect(url_for("core.account"))


@bp.get("/standards")
def standards():
    return render_template("core/standards.html", data=catalogue.catalogue(dbm.session))


@bp.get("/standards/<framework>")
def standard_framework(framework: str):
    if framework not in ("2015", "2025"):
        abort(404)
    return render_template("core/framework.html", framework=framework,
                           standards=catalogue.framework(dbm.session, framework))


def _org_for_card(roles):
    def kwargs(principal):
        ids = orgs_with_role(dbm.session, principal, roles)
        return {"org_id": ids[0]} if ids else None

    return kwargs


def init_app(app) -> None:
    from passport.core import admin_views, api as core_api, invitation_views, invitations

    app.register_blueprint(bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(invitation_views.bp)
    app.register_blueprint(core_api.bp)
    from passport.core import registration_api, registration_views

    app.register_blueprint(registration_api.bp)
    registration_views.init_app(app)
    add_nav(app, "Home", "core.index", order=0)
    add_nav(app, "Organisations", "admin.organisations", order=80,
            visible=lambda p: is_scheme_admin(dbm.session, p))
    add_dashboard_card(app, "People in your organisation", "admin.org_people",
                       "Add people, give them roles and accounts.", order=70,
                       url_kwargs=_org_for_card(("org_admin",)))
    add_dashboard_card(app, "Invitations for you", "invitations.mine",
                       "Organisations that have invited you to join them.", order=1,
                       visible=lambda p: bool(invitations.pending_for(dbm.session, p.person)))
    add_dashboard_card(app, "Invite people", "invitations.org_invitations",
                       "Invite someone who already has a passport account, and see who has not answered yet.",
                       order=71, url_kwargs=_org_for_card(invitations.INVITING_ROLES))
    add_dashboard_card(app, "Organisations and the scheme", "admin.organisations",
                       "Member organisations, the agreed standard and the endorsing partners.", order=80,
                       visible=lambda p: is_scheme_admin(dbm.session, p))
    add_dashboard_card(app, "My training records", "admin.person", "What you have done and when it is due.",
                       order=5, url_kwargs=lambda p: {"person_id": p.person_id})
    add_dashboard_card(app, "Standards catalogue", "core.standards",
                       "The Care Certificate, training subjects and delegated tasks.", order=90)
