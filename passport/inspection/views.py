"""Inspection pages: supervision (home overview, recording, a session, my sessions), rota settings, the
evidence pack (HTML and PDF), "download all my data" and subject access requests. Thin: each validates a
form, calls a service, commits once."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required

from passport import db as dbm
from passport.core.access import has_role, orgs_with_role
from passport.core.auth import current_principal, role_required
from passport.core.catalogue_data import JOB_ROLES
from passport.core.models import Membership, Organisation, Person
from passport.core.timeutil import uk_today
from passport.forms import choices, status_for, submit
from passport.inspection import bp, export, pack as packs, rota, supervision as sv
from passport.inspection.forms import (
    FrequencyForm, ReflectionForm, SessionForm, SubjectAccessForm, rota_settings_form,
)
from passport.inspection.models import KIND_LABELS, TOPIC_LABELS
from passport.plugins import contributions

JOB_ROLE_LABELS = dict(JOB_ROLES)


@bp.app_context_processor
def _labels():
    return {"kind_labels": KIND_LABELS, "topic_labels": TOPIC_LABELS, "sv_state_labels": sv.STATE_LABELS,
            "job_role_labels": JOB_ROLE_LABELS}


def _staff(org_id: int) -> list[Person]:
    on = uk_today()
    return list(dbm.session.scalars(sa.select(Person).join(Membership, Membership.person_id == Person.id).where(
        Membership.org_id == org_id, Membership.start_date <= on,
        sa.or_(Membership.end_date.is_(None), Membership.end_date >= on)).distinct()
        .order_by(Person.family_name, Person.given_name)))


@bp.get("/")
@login_required
def index():
    p = current_principal()
    ids = orgs_with_role(dbm.session, p, sv.OVERVIEW_ROLES)
    homes = list(dbm.session.scalars(sa.select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)))
    sar = orgs_with_role(dbm.session, p, export.SAR_ROLES)
    return render_template("inspection/index.html", homes=homes, sar_orgs=sar)


# --- supervision ---------------------------------------------------------------------------------


@bp.route("/orgs/<id:org_id>/supervision", methods=["GET", "POST"])
@role_required(*sv.OVERVIEW_ROLES)
def supervision(org_id: int):
    p = current_principal()
    form = FrequencyForm()
    can_set = has_role(dbm.session, p, sv.SETTINGS_ROLES, org_id)
    if request.method == "POST":
        if not can_set:
            abort(403)
        ok, _ = submit(form, lambda: sv.set_frequency(dbm.session, p, org_id, form.job_role.data, form.kind.data,
                                                     form.every_weeks.data), "Frequency saved.")
        if ok:
            return redirect(url_for("inspection.supervision", org_id=org_id))
    data = sv.overview(dbm.session, p, org_id)
    return render_template("inspection/supervision.html", **data, form=form, can_set=can_set,
                           can_record=org_id in orgs_with_role(dbm.session, p, sv.SUPERVISOR_ROLES),
                           sessions=sv.recent_sessions(dbm.session, p, org_id)), status_for(form)


@bp.route("/orgs/<id:org_id>/supervision/new", methods=["GET", "POST"])
@role_required(*sv.SUPERVISOR_ROLES)
def record(org_id: int):
    p = current_principal()
    org = dbm.session.get(Organisation, org_id)
    form = SessionForm()
    form.worker_id.choices = choices([(0, "Choose…")] + [(s.id, s.full_name) for s in _staff(org_id)
                                                         if s.id != p.person_id])
    worker_id = form.worker_id.data or request.args.get("worker", type=int)
    carried = sv.open_actions(dbm.session, worker_id, org_id) if worker_id else []
    form.closed_actions.choices = choices([(a.id, a.text) for a in carried])
    if request.method == "GET" and worker_id:
        form.worker_id.data = worker_id
    ok, s = submit(form, lambda: sv.record_session(
        dbm.session, p, org_id, form.worker_id.data, kind=form.kind.data, held_on=form.held_on.data,
        topics=form.topics.data, notes=form.notes.data, closed_actions=form.closed_actions.data,
        actions=[line for line in (form.actions.data or "").splitlines() if line.strip()]), "Session recorded.")
    if ok:
        return redirect(url_for("inspection.session", session_id=s.id))
    return render_template("inspection/record.html", org=org, form=form, carried=carried), status_for(form)


@bp.get("/sessions/<id:session_id>")
@login_required
def session(session_id: int):
    s = sv.get_session(dbm.session, current_principal(), session_id)
    form = ReflectionForm(reflection=s.reflection)
    return render_template("inspection/session.html", s=s, form=form, me=current_principal().person_id)


@bp.post("/sessions/<id:session_id>/reflection")
@login_required
def reflection(session_id: int):
    p = current_principal()
    s = sv.get_session(dbm.session, p, session_id)
    form = ReflectionForm()
    ok, _ = submit(form, lambda: sv.add_reflection(dbm.session, p, session_id, form.reflection.data),
                   "Your reflection is saved.")
    if ok:
        return redirect(url_for("inspection.session", session_id=session_id))
    return render_template("inspection/session.html", s=s, form=form, me=p.person_id), status_for(form)


@bp.get("/my/supervision")
@login_required
def my_supervision():
    p = current_principal()
    return render_template("inspection/my_supervision.html", sessions=sv.sessions_of(dbm.session, p),
                           me=p.person_id)


# --- rota settings -------------------------------------------------------------------------------


@bp.route("/orgs/<id:org_id>/rota-settings", methods=["GET", "POST"])
@role_required("registered_manager", "org_admin")
def rota_settings(org_id: int):
    p = current_principal()
    settings = rota.settings_for(dbm.session, org_id)
    form = rota_settings_form(settings)
    ok, _ = submit(form, lambda: rota.save_settings(dbm.session, p, org_id, form.data), "Rota check settings saved.")
    if ok:
        return redirect(url_for("inspection.rota_settings", org_id=org_id))
    return render_template("inspection/rota_settings.html", org=dbm.session.get(Organisation, org_id), form=form,
                           labels=rota.RULE_LABELS), status_for(form)


# --- evidence pack -------------------------------------------------------------------------------


def _pack(org_id: int):
    dbm.intend_to_write()  # the pack is recorded (for "what changed") and audited
    result = packs.build(dbm.session, current_principal(), org_id,
                         extra_sections=contributions(current_app, "evidence_pack"))
    dbm.session.commit()
    return result


@bp.get("/orgs/<id:org_id>/evidence-pack")
@role_required(*packs.PACK_ROLES)
def evidence_pack(org_id: int):
    return render_template("inspection/pack.html", pack=_pack(org_id))


@bp.get("/orgs/<id:org_id>/evidence-pack.pdf")
@role_required(*packs.PACK_ROLES)
def evidence_pack_pdf(org_id: int):
    pk = _pack(org_id)
    name = f"evidence-pack-{org_id}-{pk.on.isoformat()}.pdf"
    return Response(packs.render_pdf(pk), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- download all my data ------------------------------------------------------------------------


@bp.route("/my/data", methods=["GET", "POST"])
@login_required
def my_data():
    p = current_principal()
    if request.method == "POST":
        from passport.core.forms import ConfirmForm

        form = ConfirmForm()
        if not form.validate_on_submit():
            abort(400)
        e = export.request_own(dbm.session, p)
        dbm.session.commit()
        _prepare_now(e)
        return redirect(url_for("inspection.my_data"))
    return render_template("inspection/my_data.html", exports=export.visible_exports(dbm.session, p),
                           me=p.person_id)


def _prepare_now(e) -> None:
    """No job queue yet: prepare straight after the request is committed (``passport inspection
    exports-run`` prepares any left pending)."""
    export.prepare(dbm.session, e, contributions(current_app, "personal_data"))
    dbm.session.commit()
    flash("Your archive is ready to download.", "info")


@bp.get("/exports/<id:export_id>/download")
@login_required
def download(export_id: int):
    dbm.intend_to_write()  # the download is counted and audited
    e = export.download(dbm.session, current_principal(), export_id)
    dbm.session.commit()
    name = f"passport-data-{e.person_id}-{e.ready_at:%Y-%m-%d}.zip"
    return Response(e.content, mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@bp.route("/orgs/<id:org_id>/subject-access", methods=["GET", "POST"])
@role_required(*export.SAR_ROLES)
def subject_access(org_id: int):
    p = current_principal()
    form = SubjectAccessForm()
    form.person_id.choices = choices([(0, "Choose…")] + [(s.id, s.full_name) for s in _staff(org_id)])
    ok, e = submit(form, lambda: export.request_for_subject(dbm.session, p, org_id, form.person_id.data,
                                                            form.reason.data))
    if ok:
        _prepare_now(e)
        return redirect(url_for("inspection.my_data"))
    return render_template("inspection/subject_access.html", org=dbm.session.get(Organisation, org_id),
                           form=form), status_for(form)
