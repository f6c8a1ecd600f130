"""Delegation pages that change something: assess, delegate, withdraw, decline, acknowledge, add a task.

Thin: validate the form, call a service, commit once, redirect. A refused clinical action (not a
registered professional for the home) is rolled back, then its audit entry is committed, then 403.
"""
from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from passport import db as dbm
from passport.core.access import has_role, memberships_of
from passport.core.admin_views import apply_errors
from passport.core.auth import current_principal
from passport.core.forms import ConfirmForm
from passport.core.models import Organisation
from passport.core.timeutil import uk_today
from passport.delegation import bp, catalogue, queries, services
from passport.delegation.forms import (
    RESIDENT_HINT, AssessmentForm, DeclineForm, DelegationForm, OrgTaskForm, ReasonForm,
)
from passport.delegation.models import Assessment, Competency, Decline, Delegation
from passport.delegation.rules import professional_authority
from passport.delegation.views import home_or_403, task_choices, worker_or_404
from passport.errors import ServiceError
from passport.forms import choices
from passport.params import parse_id


def attempt(action, form=None):
    """Run a service call and commit; returns (result, None) or (None, error) with field errors applied.
    A RefusedAction is audited in its own commit and re-raised (the app renders 403)."""
    try:
        result = action()
        dbm.session.commit()
        return result, None
    except services.RefusedAction as exc:
        dbm.session.rollback()
        services.audit_refusal(dbm.session, current_principal().actor, exc)
        dbm.session.commit()
        raise
    except ServiceError as exc:
        dbm.session.rollback()
        if exc.status in (403, 404):
            raise
        if form is not None:
            apply_errors(form, exc)
        return None, exc


def _status(form) -> int:
    return 400 if (form.errors or form.form_errors) else 200


def _refuse_page(home_id: int) -> None:
    """GET of a clinical form by someone without authority: the same 403 the POST would give."""
    why = services.refusal(dbm.session, current_principal(), home_id)
    if why is not None:
        abort(403, why[1])


@bp.route("/homes/<id:home_id>/workers/<id:person_id>/assess", methods=["GET", "POST"])
@login_required
def assess(home_id: int, person_id: int):
    home = home_or_403(home_id)
    person = worker_or_404(home, person_id)
    form = AssessmentForm()
    form.task.choices = task_choices(home_id)
    if request.method == "GET":
        _refuse_page(home_id)
        form.task.data = request.args.get("task") or form.task.data
    if form.validate_on_submit():
        d = form.data
        a, _err = attempt(lambda: services.record_assessment(
            dbm.session, current_principal(), home_id=home_id, worker_id=person_id, task_code=d["task"],
            assessed_on=d["assessed_on"], observations=d["observations"], outcome=d["outcome"],
            level=d["level"] or None, valid_until=d["valid_until"], resident_ref=d["resident_ref"],
            evidence=d["evidence"], observation_notes=d["observation_notes"]), form)
        if a is not None:
            flash(f"Assessment recorded for {person.full_name}: "
                  + ("competent until " + a.valid_until.strftime("%-d %B %Y") if a.valid_until else "not yet competent")
                  + ".", "info")
            return redirect(url_for("delegation.worker", home_id=home_id, person_id=person_id))
    elif request.method == "POST" and professional_authority(dbm.session, current_principal(), home_id) is None:
        attempt(lambda: services.require_professional(dbm.session, current_principal(), home_id,
                                                      "delegation.assessment.record", worker_id=person_id))
    tasks = {t.code: t for t in catalogue.tasks_for_home(dbm.session, home_id)}
    return render_template("delegation/assess.html", home=home, person=person, form=form, tasks=tasks,
                           resident_hint=RESIDENT_HINT), _status(form)


@bp.route("/homes/<id:home_id>/delegate", methods=["GET", "POST"])
@login_required
def delegate(home_id: int):
    home = home_or_403(home_id)
    form = DelegationForm()
    form.task.choices = task_choices(home_id)
    workers = queries.workers_at(dbm.session, home_id, uk_today())
    form.worker.choices = choices([(0, "Choose a worker…")] + [(w.id, w.full_name) for w in workers])
    if request.method == "GET":
        _refuse_page(home_id)
        for name in ("worker", "task", "resident_ref"):
            value = request.args.get(name)
            if value:
                getattr(form, name).data = parse_id(value, name) if name == "worker" else value
        form.review_date.data = uk_today() + timedelta(days=91)
    if form.validate_on_submit():
        d = form.data
        new, _err = attempt(lambda: services.create_delegation(
            dbm.session, current_principal(), home_id=home_id, worker_id=d["worker"], task_code=d["task"],
            resident_ref=d["resident_ref"], start_date=d["start_date"], review_date=d["review_date"],
            instructions_ref=d["instructions_ref"], consent_recorded=bool(d["consent_recorded"]),
            consent_by=d["consent_by"], notes=d["notes"]), form)
        if new is not None:
            flash(f"{new.task.name} delegated to {new.worker.full_name} for {new.resident_ref}.", "info")
            return redirect(url_for("delegation.delegation", delegation_id=new.id))
    elif request.method == "POST" and professional_authority(dbm.session, current_principal(), home_id) is None:
        attempt(lambda: services.require_professional(dbm.session, current_principal(), home_id,
                                                      "delegation.delegation.create"))
    return render_template("delegation/delegate.html", home=home, form=form,
                           resident_hint=RESIDENT_HINT), _status(form)


@bp.route("/delegations/<id:delegation_id>", methods=["GET", "POST"])
@login_required
def delegation(delegation_id: int):
    d = dbm.session.get(Delegation, delegation_id)
    if d is None:
        abort(404)
    home = home_or_403(d.org_id)
    form = ReasonForm()
    if form.validate_on_submit():
        done, _err = attempt(lambda: services.withdraw_delegation(dbm.session, current_principal(), delegation_id,
                                                                  form.reason.data), form)
        if done is not None:
            flash("The delegation has been withdrawn.", "info")
            return redirect(url_for("delegation.delegation", delegation_id=delegation_id))
    p = current_principal()
    can_withdraw = d.ended_at is None and (professional_authority(dbm.session, p, d.org_id) is not None
                                           or has_role(dbm.session, p, "registered_manager", d.org_id))
    return render_template("delegation/delegation.html", d=d, home=home, form=form, can_withdraw=can_withdraw,
                           status=queries.delegation_status(d, uk_today())), _status(form)


@bp.route("/competencies/<id:competency_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw_competency(competency_id: int):
    c = dbm.session.get(Competency, competency_id)
    if c is None:
        abort(404)
    home = home_or_403(c.org_id)
    form = ReasonForm()
    if request.method == "GET":
        _refuse_page(c.org_id)
    if form.validate_on_submit():
        done, _err = attempt(lambda: services.withdraw_competency(dbm.session, current_principal(), competency_id,
                                                                  form.reason.data), form)
        if done is not None:
            flash("The competence has been withdrawn; delegations relying on it have ended.", "info")
            return redirect(url_for("delegation.worker", home_id=c.org_id, person_id=c.worker_id))
    return render_template("delegation/withdraw_competency.html", c=c, home=home, form=form), _status(form)


@bp.route("/homes/<id:home_id>/workers/<id:person_id>/decline", methods=["GET", "POST"])
@login_required
def decline(home_id: int, person_id: int):
    """Record that a worker declines a task: by the worker themself, or staff on their behalf."""
    home = dbm.session.get(Organisation, home_id) or abort(404)
    p = current_principal()
    if p.person_id != person_id:
        home_or_403(home_id)
    person = worker_or_404(home, person_id)
    form = DeclineForm()
    form.task.choices = task_choices(home_id)
    if request.method == "GET":
        form.task.data = request.args.get("task") or form.task.data
    if form.validate_on_submit():
        done, _err = attempt(lambda: services.record_decline(
            dbm.session, p, home_id=home_id, worker_id=person_id, task_code=form.task.data,
            resident_ref=form.resident_ref.data, reason=form.reason.data), form)
        if done is not None:
            flash("Recorded. Declining a task you do not feel ready for is the right thing to do.", "info")
            if p.person_id == person_id:
                return redirect(url_for("delegation.mine"))
            return redirect(url_for("delegation.worker", home_id=home_id, person_id=person_id))
    return render_template("delegation/decline.html", home=home, person=person, form=form,
                           is_self=p.person_id == person_id), _status(form)


@bp.get("/mine")
@login_required
def mine():
    """The signed-in worker's own competences, delegations, assessments to acknowledge, and declines."""
    p = current_principal()
    homes = [m.organisation for m in memberships_of(dbm.session, p) if m.role == "worker"]
    return render_template("delegation/mine.html", homes=homes, today=uk_today(), confirm=ConfirmForm(),
                           competency_status=queries.competency_status, delegation_status=queries.delegation_status,
                           **queries.worker_summary(dbm.session, p.person_id))


@bp.post("/assessments/<id:assessment_id>/acknowledge")
@login_required
def acknowledge(assessment_id: int):
    if not ConfirmForm().validate_on_submit() or dbm.session.get(Assessment, assessment_id) is None:
        abort(400)
    attempt(lambda: services.acknowledge_assessment(dbm.session, current_principal(), assessment_id))
    flash("Thank you: you have confirmed you have read the assessment.", "info")
    return redirect(url_for("delegation.mine"))


@bp.post("/declines/<id:decline_id>/withdraw")
@login_required
def withdraw_decline(decline_id: int):
    if not ConfirmForm().validate_on_submit() or dbm.session.get(Decline, decline_id) is None:
        abort(400)
    attempt(lambda: services.withdraw_decline(dbm.session, current_principal(), decline_id))
    flash("Your decline no longer applies: the task can be delegated to you again.", "info")
    return redirect(url_for("delegation.mine"))


@bp.route("/organisations/<id:org_id>/tasks/new", methods=["GET", "POST"])
@login_required
def new_task(org_id: int):
    """An organisation's own task, in addition to the scheme-wide catalogue."""
    org = dbm.session.get(Organisation, org_id) or abort(404)
    p = current_principal()
    if not (has_role(dbm.session, p, "org_admin", org_id) or professional_authority(dbm.session, p, org_id)):
        abort(403)
    form = OrgTaskForm()
    form.category_code.choices = choices([("", "Choose…")] + [(c.code, c.name)
                                                              for c in catalogue.categories(dbm.session)])
    from passport.core.catalogue import training_categories

    form.prerequisite_categories.choices = choices((c.code, c.name) for c in training_categories(dbm.session))
    if form.validate_on_submit():
        task, _err = attempt(lambda: catalogue.add_org_task(dbm.session, p, org_id, form.data), form)
        if task is not None:
            flash(f"{task.name} has been added for {org.name}.", "info")
            return redirect(url_for("delegation.tasks"))
    return render_template("delegation/task_new.html", org=org, form=form), _status(form)
