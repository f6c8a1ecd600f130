"""Delegation pages that read: homes, who can do it now, a worker's tasks, registers, expiring, catalogue.

Phone first: the who-can-do-it page is the landing page of a home. Registers print cleanly.
"""
from __future__ import annotations

from datetime import timedelta

from flask import abort, redirect, render_template, request, url_for
from flask_login import login_required

from passport import db as dbm
from passport.core.access import has_role, memberships_of
from passport.core.auth import current_principal
from passport.core.models import Organisation, Person
from passport.core.timeutil import uk_today
from passport.db import utcnow
from passport.delegation import bp, queries
from passport.delegation.catalogue import all_tasks, describe_prerequisites, get_task, tasks_for_home
from passport.delegation.forms import WhoForm
from passport.delegation.models import CONSENT_LABELS, LEVEL_LABELS, OUTCOME_LABELS
from passport.delegation.rules import (
    can_view_home, clean_resident_ref, homes_for_viewer, is_worker_at, missing_prerequisites, professional_authority,
)
from passport.delegation.guards import refusal
from passport.errors import NotFound
from passport.forms import choices
from passport.params import query_int

STATUS_LABELS = queries.STATUS_LABELS
STATUS_TAGS = {"open": "green", "current": "green", "review_due": "yellow", "lapsed": "red", "expired": "red",
               "withdrawn": "grey", "declined": "grey", "superseded": "grey", "not_started": "grey"}


@bp.app_context_processor
def _labels():
    def can_act_for(home_id: int) -> bool:
        return professional_authority(dbm.session, current_principal(), home_id) is not None

    return {"level_labels": LEVEL_LABELS, "status_labels": STATUS_LABELS, "status_tags": STATUS_TAGS,
            "outcome_labels": OUTCOME_LABELS, "consent_labels": CONSENT_LABELS, "can_act_for": can_act_for}


def home_or_403(home_id: int) -> Organisation:
    home = dbm.session.get(Organisation, home_id)
    if home is None:
        abort(404)
    if not can_view_home(dbm.session, current_principal(), home_id):
        abort(403)
    return home


def worker_or_404(home: Organisation, person_id: int) -> Person:
    person = dbm.session.get(Person, person_id)
    if person is None or not is_worker_at(dbm.session, person_id, home.id, uk_today()):
        abort(404)
    return person


def task_choices(home_id: int, prompt: str = "Choose a task…"):
    return choices([("", prompt)] + [(t.code, t.name) for t in tasks_for_home(dbm.session, home_id)])


@bp.get("/")
@login_required
def index():
    p = current_principal()
    homes = homes_for_viewer(dbm.session, p)
    if len(homes) == 1 and request.args.get("all") is None:
        return redirect(url_for("delegation.home", home_id=homes[0].id))
    is_worker = any(m.role == "worker" for m in memberships_of(dbm.session, p))
    return render_template("delegation/index.html", homes=homes, is_worker=is_worker)


@bp.get("/homes/<id:home_id>")
@login_required
def home(home_id: int):
    """Who at this home may do a task now (for a resident, if given)."""
    home = home_or_403(home_id)
    form = WhoForm(request.args)
    form.task.choices = task_choices(home_id)
    results = task = resident = None
    if request.args and form.validate():
        try:
            resident = clean_resident_ref(form.resident.data, required=False)
            task = get_task(dbm.session, form.task.data)
            results = queries.who_can_do_it(dbm.session, home_id, task, resident)
        except ValueError as exc:
            form.resident.errors = [str(exc)]
        except NotFound:
            form.task.errors = ["Choose a task from the list."]
    why = refusal(dbm.session, current_principal(), home_id)
    # a professional of the home whose registration confirmation is not current is told why
    cannot_act = why[1] if why is not None and why[0].startswith("registration_") else None
    return render_template("delegation/home.html", home=home, form=form, results=results, task=task,
                           resident=resident, can_act=why is None, cannot_act=cannot_act, now=utcnow())


@bp.get("/homes/<id:home_id>/workers")
@login_required
def workers(home_id: int):
    home = home_or_403(home_id)
    people = queries.workers_at(dbm.session, home_id, uk_today())
    register = queries.competency_register(dbm.session, home_id, uk_today())
    counts: dict[int, int] = {}
    for c in register:
        counts[c.worker_id] = counts.get(c.worker_id, 0) + 1
    return render_template("delegation/workers.html", home=home, people=people, counts=counts)


@bp.get("/homes/<id:home_id>/workers/<id:person_id>")
@login_required
def worker(home_id: int, person_id: int):
    """What this worker can do: competences, delegations, assessments and declines."""
    home = home_or_403(home_id)
    person = worker_or_404(home, person_id)
    today = uk_today()
    summary = queries.worker_summary(dbm.session, person_id)
    gaps = {t.code: missing_prerequisites(dbm.session, t, person_id, today)
            for t in tasks_for_home(dbm.session, home_id)}
    return render_template("delegation/worker.html", home=home, person=person, today=today, gaps=gaps,
                           can_act=professional_authority(dbm.session, current_principal(), home_id) is not None,
                           tasks={t.code: t for t in tasks_for_home(dbm.session, home_id)},
                           competency_status=queries.competency_status,
                           delegation_status=queries.delegation_status, **summary)


@bp.get("/homes/<id:home_id>/register")
@login_required
def competency_register(home_id: int):
    """Printable register of who is signed off for which task at the home."""
    home = home_or_403(home_id)
    today = uk_today()
    return render_template("delegation/register.html", home=home, today=today,
                           rows=queries.competency_register(dbm.session, home_id, today))


@bp.get("/homes/<id:home_id>/residents")
@login_required
def resident_register(home_id: int):
    """Printable register of delegations per resident (open, and ended in the last 90 days)."""
    home = home_or_403(home_id)
    today = uk_today()
    return render_template("delegation/residents.html", home=home, today=today,
                           groups=queries.resident_register(dbm.session, home_id),
                           status=queries.delegation_status)


@bp.get("/homes/<id:home_id>/expiring")
@login_required
def expiring(home_id: int):
    home = home_or_403(home_id)
    days = query_int("days", default=30, choices=(30, 60, 90))
    today = uk_today()
    return render_template("delegation/expiring.html", home=home, days=days, today=today,
                           rows=queries.expiring(dbm.session, home_id, today, days),
                           until=today + timedelta(days=days))


@bp.get("/tasks")
@login_required
def tasks():
    p = current_principal()
    tasks = all_tasks(dbm.session)
    owners = {o.id: o for o in dbm.session.query(Organisation).filter(
        Organisation.id.in_({t.org_id for t in tasks if t.org_id})).all()}
    my_orgs = [m.organisation for m in memberships_of(dbm.session, p)
               if has_role(dbm.session, p, "org_admin", m.org_id)
               or professional_authority(dbm.session, p, m.org_id)]
    return render_template("delegation/tasks.html", tasks=tasks, owners=owners,
                           prereqs={t.id: describe_prerequisites(dbm.session, t) for t in tasks},
                           my_orgs=list({o.id: o for o in my_orgs}.values()))
