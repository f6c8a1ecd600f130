"""Registration confirmation pages: the scheme admin's lists (current, due in 30 days, lapsed, withdrawn,
never confirmed), recording, renewing and withdrawing a confirmation, what relied on it, and the
confirmers the scheme names. Thin: validate the form, call the service, commit once."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from passport import db as dbm
from passport.core import registration as reg
from passport.core.access import is_scheme_admin
from passport.core.auth import current_principal
from passport.core.forms import ConfirmForm
from passport.core.models import REGISTER_STATUS_LABELS, Person, RegistrationConfirmation
from passport.core.registration_forms import ConfirmationForm, ConfirmerForm, WithdrawConfirmationForm
from passport.core.timeutil import uk_today
from passport.forms import choices, status_for, submit

bp = Blueprint("registration", __name__, url_prefix="/registration", template_folder="templates")

STATE_LABELS = {"current": "Current", "due": "Renewal due within 30 days", "lapsed": "Lapsed",
                "withdrawn": "Withdrawn", "not_started": "Not started"}
STATE_TAGS = {"current": "green", "due": "yellow", "lapsed": "red", "withdrawn": "grey", "not_started": "grey"}


@bp.app_context_processor
def _labels():
    return {"register_status_labels": REGISTER_STATUS_LABELS, "confirmation_state_labels": STATE_LABELS,
            "confirmation_state_tags": STATE_TAGS}


def _confirmer_orgs_or_403():
    orgs = reg.confirming_orgs(dbm.session, current_principal())
    if not orgs and not is_scheme_admin(dbm.session, current_principal()):
        abort(403, "Only a scheme admin, an admin of an NHS trust, community nursing team or GP practice in the "
                   "scheme, or a confirmer the scheme names can see registration confirmations.")
    return orgs


@bp.get("/")
@login_required
def index():
    """Confirmations by state. The scheme admin sees every professional; other confirmers see the
    confirmations recorded for their organisations."""
    orgs = _confirmer_orgs_or_403()
    p = current_principal()
    admin = is_scheme_admin(dbm.session, p)
    today = uk_today()
    groups = reg.overview(dbm.session, today, None if admin else {o.id for o in orgs})
    return render_template("registration/index.html", groups=groups, admin=admin, can_confirm=bool(orgs),
                           today=today, due_until=today + timedelta(days=reg.DUE_DAYS),
                           state=lambda c: reg.confirmation_state(c, today))


@bp.route("/confirm", methods=["GET", "POST"])
@login_required
def confirm():
    """Record a confirmation (``?renew=<id>`` or ``?person=<id>`` fills in the registration)."""
    orgs = _confirmer_orgs_or_403()
    p = current_principal()
    if not orgs:
        abort(403, "Only a scheme admin, an admin of an NHS trust, community nursing team or GP practice in the "
                   "scheme, or a confirmer the scheme names can confirm a registration.")
    form = ConfirmationForm()
    form.org_id.choices = choices([(0, "Choose…")] + [(o.id, o.name) for o in orgs]) if len(orgs) > 1 else \
        choices([(o.id, o.name) for o in orgs])
    person = None
    renewing = None
    if request.args.get("renew", "").isdigit() and len(request.args["renew"]) < 12:
        renewing = dbm.session.get(RegistrationConfirmation, int(request.args["renew"]))
        if renewing is None or not reg.can_manage(dbm.session, p, renewing):
            abort(404)
        person = renewing.person
    elif request.args.get("person", "").isdigit() and len(request.args["person"]) < 12:
        person = dbm.session.get(Person, int(request.args["person"])) or abort(404)
    if request.method == "GET":
        if person is not None and person.registration_pin:
            form.register.data, form.pin.data = person.registration_body, person.registration_pin
        if renewing is not None:
            form.register_status.data = renewing.register_status
            if renewing.org_id in {o.id for o in orgs}:
                form.org_id.data = renewing.org_id
        form.checked_on.data = uk_today()
    ok, c = submit(form, lambda: reg.record_confirmation(
        dbm.session, p, register=form.register.data, pin=form.pin.data, register_status=form.register_status.data,
        checked_on=form.checked_on.data, renews_on=form.renews_on.data, org_id=form.org_id.data,
        notes=form.notes.data, person_id=person.id if person is not None else None),
        "The registration confirmation has been recorded.")
    if ok:
        return redirect(url_for("registration.confirmation", confirmation_id=c.id))
    return render_template("registration/confirm.html", form=form, person=person, renewing=renewing), \
        status_for(form)


@bp.route("/confirmations/<id:confirmation_id>", methods=["GET", "POST"])
@login_required
def confirmation(confirmation_id: int):
    """One confirmation: what was checked, its state, the person's history, what relied on it, and
    the form to withdraw it."""
    p = current_principal()
    c = dbm.session.get(RegistrationConfirmation, confirmation_id) or abort(404)
    if not reg.can_manage(dbm.session, p, c):
        abort(403, "Only a scheme admin, or a confirmer for the organisation that recorded it, can see this "
                   "confirmation.")
    form = WithdrawConfirmationForm()
    if submit(form, lambda: reg.withdraw_confirmation(dbm.session, p, confirmation_id, form.reason.data),
              "The confirmation has been withdrawn. Review the records below that relied on it.")[0]:
        return redirect(url_for("registration.confirmation", confirmation_id=confirmation_id))
    today = uk_today()
    return render_template("registration/confirmation.html", c=c, form=form, today=today,
                           state=reg.confirmation_state(c, today),
                           standing=reg.registration_standing(dbm.session, c.person, today),
                           history=reg.history(dbm.session, c.person_id),
                           relying=reg.relying_records(dbm.session, c.id)), status_for(form)


@bp.route("/confirmers", methods=["GET", "POST"])
@login_required
def confirmers():
    """The confirmers the scheme names (scheme admins only)."""
    p = current_principal()
    if not is_scheme_admin(dbm.session, p):
        abort(403, "Only a scheme admin can name registration confirmers.")
    from passport.core.services import list_organisations

    form = ConfirmerForm()
    form.org_id.choices = choices([(0, "Choose…")] + [(o.id, o.name) for o in list_organisations(dbm.session)
                                                      if o.kind not in reg.HOME_KINDS])
    if submit(form, lambda: reg.appoint_confirmer(dbm.session, p, email=form.email.data, org_id=form.org_id.data),
              "The confirmer has been named.")[0]:
        return redirect(url_for("registration.confirmers"))
    return render_template("registration/confirmers.html", form=form, rows=reg.confirmers(dbm.session),
                           confirm=ConfirmForm()), status_for(form)


@bp.post("/confirmers/<id:appointment_id>/end")
@login_required
def end_confirmer(appointment_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    reg.end_confirmer(dbm.session, current_principal(), appointment_id)
    dbm.session.commit()
    flash("The confirmer's appointment has ended. Their past confirmations stand.", "info")
    return redirect(url_for("registration.confirmers"))


def init_app(app) -> None:
    from passport.web import add_dashboard_card, add_nav

    app.register_blueprint(bp)

    def sees(principal) -> bool:
        return bool(reg.confirming_orgs(dbm.session, principal))

    add_nav(app, "Registrations", "registration.index", visible=sees, order=85)
    add_dashboard_card(app, "Registration confirmations", "registration.index",
                       "Registered professionals' confirmations: due for renewal in 30 days, lapsed, withdrawn.",
                       order=85, visible=sees)
