"""Care Certificate pages: a worker's progress and evidence, recording assessments, sign-off, and
which assessors are competent in which standards."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from passport import db as dbm
from passport.core import catalogue
from passport.core.access import has_role, require_person_visible, today
from passport.core.catalogue_data import UNCONFIRMED_2025_OUTCOMES
from passport.core.admin_views import apply_errors
from passport.core.auth import current_principal, role_required
from passport.core.forms import ConfirmForm
from passport.core.models import Organisation
from passport.core.services import get_or_404, people_in_org
from passport.courses import assessments, bp, progress
from passport.courses.assessments import COMPETENCE_GRANTORS
from passport.courses.common import member_orgs
from passport.courses.forms import AssessmentForm, CompetenceForm, SignOffForm
from passport.courses.progress import STATE_TAGS, STATES
from passport.errors import ServiceError
from passport.forms import choices
from passport.params import query_id


@bp.get("/people/<id:person_id>/care-certificate")
@login_required
def care_certificate(person_id: int):
    p = current_principal()
    person = require_person_visible(dbm.session, p, person_id)
    framework = request.args.get("framework")
    if framework not in (None, "2015", "2025"):
        abort(404)
    data = progress.progress(dbm.session, person_id, framework)
    orgs = member_orgs(dbm.session, person_id)
    can_sign = any(has_role(dbm.session, p, "registered_manager", o) for o in orgs) and p.person_id != person_id
    can_assess = p.person_id != person_id and any(
        has_role(dbm.session, p, ("assessor", "registered_professional", "training_lead"), o) for o in orgs)
    return render_template("courses/care_certificate.html", person=person, data=data, states=STATES,
                           tags=STATE_TAGS, can_sign=can_sign, can_assess=can_assess, confirm=ConfirmForm(),
                           history=assessments.assessments_of(dbm.session, person_id))


@bp.route("/people/<id:person_id>/assessments/new", methods=["GET", "POST"])
@login_required
def assessment_new(person_id: int):
    p = current_principal()
    person = require_person_visible(dbm.session, p, person_id)
    if p.person_id == person_id:
        abort(403)
    framework = request.values.get("framework") or progress.framework_for(dbm.session, person_id)
    if framework not in ("2015", "2025"):
        abort(404)
    form = AssessmentForm()
    form.standard_number.choices = choices([("", "Choose a standard…")] + [
        (str(s.number), f"{s.number}. {s.title}") for s in catalogue.framework(dbm.session, framework)])
    form.category_code.choices = choices([("", "None")] + [
        (str(c.code), c.name) for c in sorted(catalogue.training_categories(dbm.session), key=lambda c: c.name)])
    if request.method == "GET":
        form.standard_number.data = request.args.get("standard", "")
        form.kind.data = request.args.get("kind", "knowledge")
    if form.validate_on_submit():
        data = {k: v for k, v in form.data.items() if k != "csrf_token"}
        data["framework"] = framework
        data["assessed_on"] = data.get("assessed_on") or today()
        try:
            a = assessments.record(dbm.session, p, person_id, data)
            dbm.session.commit()
            what = f"standard {a.standard_number}" if a.standard_number else "the subject"
            flash(f"Assessment recorded for {person.full_name} ({what}): "
                  f"{'passed' if a.outcome == 'passed' else 'not yet'}.", "info")
            return redirect(url_for("courses.care_certificate", person_id=person_id, framework=framework))
        except ServiceError as exc:
            dbm.session.rollback()
            apply_errors(form, exc)
    return render_template("courses/assessment_form.html", form=form, person=person, framework=framework), \
        (400 if (form.errors or form.form_errors) else 200)


@bp.route("/people/<id:person_id>/care-certificate/<framework>/<id:number>/sign-off", methods=["GET", "POST"])
@login_required
def sign_off(person_id: int, framework: str, number: int):
    """The registered manager reviews the evidence a standard rests on and confirms a declaration to sign it off."""
    p = current_principal()
    person = require_person_visible(dbm.session, p, person_id)
    if framework not in ("2015", "2025"):
        abort(404)
    orgs = member_orgs(dbm.session, person_id)
    if p.person_id == person_id or not any(has_role(dbm.session, p, "registered_manager", o) for o in orgs):
        abort(403)
    item = progress.standard_progress(dbm.session, person_id, framework, number)
    if item is None:
        abort(404)
    form = SignOffForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            progress.sign_off(dbm.session, p, person_id, framework, number, declared=bool(form.declaration.data))
            dbm.session.commit()
            flash(f"Standard {number} ({framework}) has been signed off.", "info")
            return redirect(url_for("courses.care_certificate", person_id=person_id, framework=framework)
                            + f"#standard-{framework}-{number}")
        except ServiceError as exc:
            dbm.session.rollback()
            if exc.status == 403:
                abort(403)
            if exc.status == 409:
                flash(exc.message, "info")
                return redirect(url_for("courses.care_certificate", person_id=person_id, framework=framework))
            apply_errors(form, exc)
    outcomes = next((s.outcomes for s in catalogue.framework(dbm.session, framework) if s.number == number), [])
    carried = framework == "2025" and any(o.code in UNCONFIRMED_2025_OUTCOMES for o in outcomes)
    return render_template("courses/sign_off.html", person=person, item=item, form=form, outcomes=outcomes,
                           carried=carried,
                           declaration=progress.DECLARATION, evidence=progress.sign_off_evidence(item)), \
        (400 if (form.errors or form.form_errors) else 200)


@bp.route("/orgs/<id:org_id>/assessors", methods=["GET", "POST"])
@role_required(*COMPETENCE_GRANTORS, "org_admin")
def assessors(org_id: int):
    p = current_principal()
    org = get_or_404(dbm.session, Organisation, org_id)
    people = people_in_org(dbm.session, org_id, role="assessor")
    form = CompetenceForm()
    person_id = query_id("person_id", source=request.values)
    framework = request.values.get("framework") or "2025"
    if framework not in ("2015", "2025"):
        abort(404)
    form.standards.choices = choices((s.number, f"{s.number}. {s.title}") for s in catalogue.framework(dbm.session, framework))
    current = assessments.competences(dbm.session, org_id)
    if request.method == "GET" and person_id:
        form.framework.data = framework
        form.standards.data = current.get(person_id, {}).get(framework, [])
    if request.method == "POST":
        if person_id not in {x.id for x in people}:
            abort(400)
        if form.validate_on_submit():
            try:
                assessments.set_competence(dbm.session, p, org_id, person_id, form.framework.data,
                                           form.standards.data, form.evidence.data)
                dbm.session.commit()
                flash("Assessor competence saved.", "info")
                return redirect(url_for("courses.assessors", org_id=org_id))
            except ServiceError as exc:
                dbm.session.rollback()
                if exc.status == 403:
                    abort(403)
                apply_errors(form, exc)
    return render_template("courses/assessors.html", org=org, people=people, current=current, form=form,
                           person_id=person_id, framework=framework,
                           can_edit=has_role(dbm.session, p, COMPETENCE_GRANTORS, org_id)), \
        (400 if (form.errors or form.form_errors) else 200)
