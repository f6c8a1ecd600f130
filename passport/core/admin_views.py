"""Organisation, people and scheme admin pages. Thin: validate the form, call a service, commit once."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required

from passport import audit, db as dbm
from passport.core import accounts, catalogue, invitations, records, services
from passport.core.access import (
    has_role, is_scheme_admin, orgs_with_role, org_can_see_person,
    require_person_visible, today, visible_memberships,
)
from passport.core.auth import current_principal, role_required
from passport.core.forms import (
    ConfirmForm, ManualRecordForm, MembershipForm, NewPersonForm, OrganisationForm, PersonForm, SchemeForm,
)
from passport.core.models import ROLE_LABELS, Membership, Organisation, Person
from passport.errors import ServiceError, ValidationError
from passport.forms import apply_errors, choices, status_for, submit  # noqa: F401 (apply_errors re-exported)

bp = Blueprint("admin", __name__, template_folder="templates")
STAFF_ROLES = ("org_admin", "training_lead", "registered_manager", "assessor", "registered_professional")


def _form_data(form) -> dict:
    return {k: v for k, v in form.data.items() if k != "csrf_token"}


@bp.route("/organisations", methods=["GET", "POST"])
@login_required
def organisations():
    p = current_principal()
    if not is_scheme_admin(dbm.session, p):
        abort(403)
    form = OrganisationForm()
    ok, org = submit(form, lambda: services.create_organisation(dbm.session, p, _form_data(form)),
                     "The organisation has been added.")
    if ok:
        return redirect(url_for("admin.organisation", org_id=org.id))
    return render_template("core/organisations.html", orgs=services.list_organisations(dbm.session), form=form,
                           scheme=services.get_scheme(dbm.session)), status_for(form)


@bp.route("/organisations/<id:org_id>", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def organisation(org_id: int):
    org = services.get_or_404(dbm.session, Organisation, org_id)
    p = current_principal()
    can_edit = has_role(dbm.session, p, "org_admin", org_id)
    form = OrganisationForm(obj=org)
    if request.method == "GET":
        form.group_name.data = org.group.name if org.group else ""
    if request.method == "POST":
        if not can_edit:
            abort(403)
        if submit(form, lambda: services.update_organisation(dbm.session, p, org_id, _form_data(form)), "Saved.")[0]:
            return redirect(url_for("admin.organisation", org_id=org_id))
    return render_template("core/organisation.html", org=org, form=form, can_edit=can_edit,
                           people_count=len(services.people_in_org(dbm.session, org_id))), status_for(form)


@bp.route("/organisations/<id:org_id>/people", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def org_people(org_id: int):
    org = services.get_or_404(dbm.session, Organisation, org_id)
    p = current_principal()
    can_edit = has_role(dbm.session, p, "org_admin", org_id)
    form = NewPersonForm()
    if request.method == "POST":
        if not can_edit:
            abort(403)

        def add():
            try:
                person = services.create_person(dbm.session, p, org_id, _form_data(form))
            except services.EmailInUse as taken:
                # Never say the address is known: invite it, exactly as for any address we invite.
                return None, invitations.create_invitation(
                    dbm.session, p, org_id, {**taken.data, "roles": [taken.data["role"]]},
                    days=current_app.config["INVITATION_DAYS"])
            return person, (_invite(person, org_id) if form.create_account.data else None)

        ok, result = submit(form, add)
        if ok:
            person, extra = result
            if person is None:  # an invitation: the mail goes out after the commit
                inv, token = extra
                invitations.send_invitation_email(current_app, inv, token)
                flash(f"We have emailed an invitation to {inv.email}. They join {org.name} when they accept it.",
                      "info")
                return redirect(url_for("invitations.org_invitations", org_id=org_id))
            flash("The person has been added.", "info")
            if extra:  # mail goes out after the commit
                _send_invite(person, extra)
            return redirect(url_for("admin.person", person_id=person.id))
    people = services.people_in_org(dbm.session, org_id)
    roles = {}
    for m in dbm.session.query(Membership).filter(Membership.org_id == org_id).all():
        if m.is_current(today()):
            roles.setdefault(m.person_id, []).append(ROLE_LABELS[m.role])
    return render_template("core/people.html", org=org, people=people, roles=roles, form=form,
                           can_edit=can_edit), status_for(form)


def _invite(person: Person, org_id: int):
    """Invite a new member of staff to choose a password: the ordinary invitation (a single-use link valid
    ``INVITATION_DAYS``, resend and withdraw on the invitations page), to the roles they hold here. The
    account is made when they open the link. (A forgotten-password link lasts only an hour: too short for
    someone's first day.)"""
    if not person.email:
        raise ValidationError("An account needs an email address.", {"email": "Enter an email address first."})
    roles = [m.role for m in person.memberships if m.org_id == org_id and m.is_current(today())
             and m.role != "registered_professional"] or ["worker"]
    job_role = next((m.job_role for m in person.memberships if m.org_id == org_id and m.job_role), None)
    return invitations.create_invitation(dbm.session, current_principal(), org_id, {
        "email": person.email, "roles": roles, "job_role": job_role, "given_name": person.given_name,
        "family_name": person.family_name}, days=current_app.config["INVITATION_DAYS"])


def _send_invite(person: Person, invitation) -> None:
    inv, token = invitation
    invitations.send_invitation_email(current_app, inv, token)


@bp.route("/people/<id:person_id>", methods=["GET"])
@login_required
def person(person_id: int):
    p = current_principal()
    target = require_person_visible(dbm.session, p, person_id)
    memberships = visible_memberships(dbm.session, p, target)
    admin_orgs = [m.org_id for m in memberships if m.is_current(today())
                  and has_role(dbm.session, p, "org_admin", m.org_id)]
    record_orgs = [o for o in orgs_with_role(dbm.session, p, records.RECORDING_ROLES)
                   if any(m.org_id == o and m.is_current(today()) for m in memberships)]
    return render_template(
        "core/person.html", person=target, memberships=memberships, role_labels=ROLE_LABELS,
        current=records.current_records(dbm.session, person_id), history=records.record_history(dbm.session, person_id),
        cc=records.care_certificate_summary(dbm.session, person_id), admin_orgs=admin_orgs,
        record_orgs=record_orgs, user=services.user_for(dbm.session, target), confirm=ConfirmForm(),
        is_self=p.person_id == person_id)


@bp.route("/people/<id:person_id>/edit", methods=["GET", "POST"])
@login_required
def edit_person(person_id: int):
    p = current_principal()
    target = require_person_visible(dbm.session, p, person_id)
    if not _admin_over(p, target):
        abort(403)
    form = PersonForm(obj=target)
    if submit(form, lambda: services.update_person(dbm.session, p, person_id, _form_data(form)), "Saved.")[0]:
        return redirect(url_for("admin.person", person_id=person_id))
    return render_template("core/person_edit.html", person=target, form=form), status_for(form)


def _admin_over(p, target: Person) -> bool:
    return is_scheme_admin(dbm.session, p) or any(
        m.is_current(today()) and has_role(dbm.session, p, "org_admin", m.org_id) for m in target.memberships)


@bp.route("/organisations/<id:org_id>/people/<id:person_id>/roles", methods=["GET", "POST"])
@role_required("org_admin")
def add_role(org_id: int, person_id: int):
    """Another role for a current member. Anyone else joins only by an invitation or an accepted passport,
    so for them this page does not exist (404, the same as for an unknown id)."""
    org = services.get_or_404(dbm.session, Organisation, org_id)
    target = dbm.session.get(Person, person_id) if 0 < person_id < 2**63 else None
    if target is None or not services.is_current_member(dbm.session, person_id, org_id):
        abort(404)
    form = MembershipForm()
    if submit(form, lambda: services.add_membership(dbm.session, current_principal(), person_id, org_id,
                                                    _form_data(form)), "Role added.")[0]:
        return redirect(url_for("admin.person", person_id=person_id))
    return render_template("core/add_role.html", person=target, org=org, form=form), status_for(form)


@bp.post("/memberships/<id:membership_id>/end")
@login_required
def end_membership(membership_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    m = services.end_membership(dbm.session, current_principal(), membership_id)
    dbm.session.commit()
    flash("The role has ended today.", "info")
    return redirect(url_for("admin.person", person_id=m.person_id))


@bp.post("/people/<id:person_id>/account/<action>")
@login_required
def account_action(person_id: int, action: str):
    if not ConfirmForm().validate_on_submit() or action not in ("invite", "disable", "enable"):
        abort(400)
    p = current_principal()
    target = require_person_visible(dbm.session, p, person_id)
    if not _admin_over(p, target):
        abort(403)
    user = services.user_for(dbm.session, target)
    if action == "invite":
        if user is not None:
            abort(400)
        org_id = next((m.org_id for m in target.memberships if m.is_current(today())
                       and has_role(dbm.session, p, "org_admin", m.org_id)), None)
        if org_id is None:  # a scheme admin over someone with no current role: nowhere to invite them to
            abort(400)
        try:
            sent = _invite(target, org_id)
        except ServiceError as exc:
            flash(exc.message, "error")
            return redirect(url_for("admin.person", person_id=person_id))
        dbm.session.commit()
        _send_invite(target, sent)
        flash(f"We have emailed {target.email} an invitation to choose a password. The link works once, for "
              f"{current_app.config['INVITATION_DAYS']} days.", "info")
    else:
        if user is None:
            abort(400)
        accounts.set_disabled(dbm.session, p, user, action == "disable")
        dbm.session.commit()
        flash("The account is disabled." if action == "disable" else "The account is enabled.", "info")
    return redirect(url_for("admin.person", person_id=person_id))


@bp.route("/organisations/<id:org_id>/people/<id:person_id>/records/new", methods=["GET", "POST"])
@role_required(*records.RECORDING_ROLES)
def add_record(org_id: int, person_id: int):
    target = dbm.session.get(Person, person_id) if 0 < person_id < 2**63 else None
    if target is None or not org_can_see_person(dbm.session, org_id, person_id):
        abort(404)  # no reason to see this person here: the same answer as an unknown id
    form = ManualRecordForm()
    form.category_code.choices = choices((c.code, f"{c.name} ({c.group})") for c in catalogue.training_categories(dbm.session))
    if submit(form, lambda: records.add_training_record(dbm.session, current_principal(), person_id=person_id,
                                                        org_id=org_id, source="manual", **_form_data(form)),
              "The training record has been added.")[0]:
        return redirect(url_for("admin.person", person_id=person_id))
    return render_template("core/record_new.html", person=target, form=form), status_for(form)


@bp.route("/scheme", methods=["GET", "POST"])
@login_required
def scheme():
    p = current_principal()
    if not is_scheme_admin(dbm.session, p):
        abort(403)
    current = services.get_scheme(dbm.session)
    form = SchemeForm(obj=current)
    orgs = services.list_organisations(dbm.session)
    form.members.choices = form.endorsers.choices = choices((o.id, o.name) for o in orgs)
    if request.method == "GET" and current is not None:
        form.members.data = [m.org_id for m in current.partners]
        form.endorsers.data = [m.org_id for m in current.partners if m.endorses]
    if submit(form, lambda: services.save_scheme(dbm.session, p, _form_data(form)), "The scheme has been saved.")[0]:
        return redirect(url_for("admin.organisations"))
    return render_template("core/scheme.html", form=form), status_for(form)


@bp.get("/organisations/<id:org_id>/audit")
@role_required("org_admin", "registered_manager")
def org_audit(org_id: int):
    org = services.get_or_404(dbm.session, Organisation, org_id)
    return render_template("core/audit.html", org=org, entries=audit.entries_for(dbm.session, org_id=org_id, limit=200))


@bp.route("/organisations/<id:org_id>/refresh-periods", methods=["GET", "POST"])
@role_required("training_lead", "org_admin", "registered_manager")
def refresh_periods(org_id: int):
    """How often each subject must be refreshed here: the national default, or this organisation's own."""
    from passport.core.forms import RefreshOverrideForm
    from passport.core.models import RefreshOverride

    org = services.get_or_404(dbm.session, Organisation, org_id)
    categories = catalogue.training_categories(dbm.session)
    form = RefreshOverrideForm()
    form.category_code.choices = choices((c.code, c.name) for c in categories)
    if submit(form, lambda: records.set_refresh_override(dbm.session, current_principal(), org_id,
                                                         form.category_code.data, form.job_role.data or "",
                                                         form.refresh_months.data), "Refresh period saved.")[0]:
        return redirect(url_for("admin.refresh_periods", org_id=org_id))
    def months(value):
        return f"{value} months" if value else "No refresh"

    overrides = dbm.session.query(RefreshOverride).filter(RefreshOverride.org_id == org_id).all()
    rows = []
    for c in categories:
        own = [o for o in overrides if o.category_code == c.code]
        every = next((months(o.refresh_months) for o in own if o.job_role == ""), "")
        per_role = "; ".join(f"{o.job_role.replace('_', ' ')}: {months(o.refresh_months)}" for o in own if o.job_role)
        rows.append([c.name, months(c.refresh_months) if c.refresh_months else "No set refresh", every, per_role])
    return render_template("core/refresh_periods.html", org=org, rows=rows, form=form), status_for(form)
