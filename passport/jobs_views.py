"""Pages for background jobs: the progress of a job, for the person who started it (and scheme admins)."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template
from flask_login import login_required

from passport import db as dbm
from passport.core.access import is_scheme_admin
from passport.core.auth import current_principal

bp = Blueprint("jobs", __name__)


def _visible_job(job_id: int):
    from passport.jobs import Job

    principal = current_principal()
    row = dbm.session.get(Job, job_id)
    if row is None or principal is None:
        abort(404)
    if row.started_by_id != principal.person_id and not is_scheme_admin(dbm.session, principal):
        abort(404)  # someone else's job: as if it did not exist
    return row


@bp.route("/jobs/<id:job_id>")
@login_required
def job_page(job_id: int):
    row = _visible_job(job_id)
    return render_template("jobs/job.html", job=row.as_dict(), page_title=row.title)


@bp.route("/jobs/<id:job_id>/progress.json")
@login_required
def job_progress(job_id: int):
    return jsonify(_visible_job(job_id).as_dict())
