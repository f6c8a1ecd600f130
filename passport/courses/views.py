"""Course and session pages. Thin: validate the form, call a service, commit once, redirect."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required

from passport import db as dbm
from passport.core import catalogue
from passport.core.access import has_role, is_scheme_admin, orgs_with_role
from passport.core.admin_views import apply_errors
from passport.core.auth import current_principal
from passport.core.forms import ConfirmForm
from passport.core.models import Organisation, Person
from passport.core.services import get_or_404, people_in_org
from passport.courses import bp, bookings, catalog, sessions
from passport.courses.common import TRAINING_ROLES, member_orgs
from passport.courses.forms import BookForm, CourseForm, SessionForm, dynamic_form, register_field, score_field
from passport.courses.models import Course
from passport.errors import ServiceError
from passport.forms import choices
from passport.mail import get_mailer
from passport.params import query_id


def _status(form) -> int:
    return 400 if (form.errors or form.form_errors) else 200


def notify(promoted) -> None:
    """After the commit: tell people who moved up from the waiting list (best effort)."""
    mailer = get_mailer(current_app)
    messages = []
    for b in promoted:
        if b.person.email:
            s = b.session
            messages.append(mailer.build(b.person.email, f"You have a place: {s.course.title}", (
                f"Hello {b.person.given_name},\n\nA place came free and you have been moved off the waiting list "
                f"for {s.course.title} on {s.starts_at.astimezone(_uk()).strftime('%-d %B %Y at %H:%M')} at "
                f"{s.venue}.\n\nIf you cannot go, ask your training lead to cancel your place so someone else "
                "can have it.\n")))
    try:
        mailer.send_many(messages)
    except OSError:
        current_app.logger.warning("Could not send %d waiting-list email(s)", len(messages))


def _uk():
    from passport.core.timeutil import UK

    return UK


@bp.get("/")
@login_required
def index():
    p = current_principal()
    orgs = [dbm.session.get(Organisation, o) for o in orgs_with_role(dbm.session, p, TRAINING_ROLES)]
    return render_template("courses/index.html", orgs=orgs, courses=catalog.list_courses(dbm.session, p),
                           sessions=sessions.list_sessions(dbm.session, p, limit=50),
                           scheme_admin=is_scheme_admin(dbm.session, p))


def _course_form(course: Course | None = None) -> CourseForm:
    p = current_principal()
    form = CourseForm(obj=course)
    owners = [(str(o), dbm.session.get(Organisation, o).name) for o in orgs_with_role(dbm.session, p, TRAINING_ROLES)]
    if is_scheme_admin(dbm.session, p):
        owners.append(("scheme", "The scheme (shared by every member)"))
    form.owner.choices = choices(owners)
    form.categories.choices = choices((c.code, c.name) for c in sorted(catalogue.training_categories(dbm.session),
                                                                       key=lambda c: c.name))
    form.standards.choices = choices((s.number, f"{s.number}. {s.title}") for s in catalogue.framework(dbm.session, "2025"))
    if course is not None and request.method == "GET":
        form.categories.data = [c.code for c in course.categories]
        form.standards.data = [s.number for s in course.standards]
        form.outcomes.data = ", ".join(o.code for o in course.outcomes)
        form.cc_framework.data = course.cc_framework or ""
        form.hours.data = str(course.hours)
    return form


def _course_data(form) -> dict:
    data = {k: v for k, v in form.data.items() if k not in ("csrf_token", "owner")}
    return data


@bp.route("/new", methods=["GET", "POST"])
@login_required
def course_new():
    p = current_principal()
    form = _course_form()
    if not form.owner.choices:
        abort(403)
    if form.validate_on_submit():
        try:
            owner = None if form.owner.data == "scheme" else int(form.owner.data)
            course = catalog.create_course(dbm.session, p, owner, _course_data(form))
            dbm.session.commit()
            flash(f"The course '{course.title}' has been created. Now schedule a session.", "info")
            return redirect(url_for("courses.course_detail", course_id=course.id))
        except ServiceError as exc:
            dbm.session.rollback()
            if exc.status == 403:
                abort(403)
            apply_errors(form, exc)
    return render_template("courses/course_form.html", form=form, course=None), _status(form)


@bp.get("/<id:course_id>")
@login_required
def course_detail(course_id: int):
    p = current_principal()
    course = catalog.get_course(dbm.session, p, course_id)
    upcoming = [s for s in sessions.list_sessions(dbm.session, p) if s.course_id == course.id]
    hosts = [o for o in orgs_with_role(dbm.session, p, TRAINING_ROLES) if course.org_id in (None, o)]
    return render_template("courses/course.html", course=course, sessions=upcoming, hosts=hosts,
                           can_manage=catalog.can_manage(dbm.session, p, course),
                           scheme_admin=is_scheme_admin(dbm.session, p), confirm=ConfirmForm())


@bp.route("/<id:course_id>/edit", methods=["GET", "POST"])
@login_required
def course_edit(course_id: int):
    p = current_principal()
    course = get_or_404(dbm.session, Course, course_id)
    if not catalog.can_manage(dbm.session, p, course):
        abort(403)
    form = _course_form(course)
    del form.owner
    if form.validate_on_submit():
        try:
            catalog.update_course(dbm.session, p, course_id, _course_data(form))
            dbm.session.commit()
            flash("The course has been saved.", "info")
            return redirect(url_for("courses.course_detail", course_id=course_id))
        except ServiceError as exc:
            dbm.session.rollback()
            apply_errors(form, exc)
    return render_template("courses/course_form.html", form=form, course=course), _status(form)


@bp.post("/<id:course_id>/approval/<action>")
@login_required
def course_approval(course_id: int, action: str):
    if not ConfirmForm().validate_on_submit() or action not in ("approve", "withdraw"):
        abort(400)
    catalog.set_approval(dbm.session, current_principal(), course_id, action == "approve")
    dbm.session.commit()
    flash("The course is approved by the scheme." if action == "approve" else "Scheme approval withdrawn.", "info")
    return redirect(url_for("courses.course_detail", course_id=course_id))


@bp.route("/<id:course_id>/sessions/new", methods=["GET", "POST"])
@login_required
def session_new(course_id: int):
    p = current_principal()
    course = catalog.get_course(dbm.session, p, course_id)
    hosts = [o for o in orgs_with_role(dbm.session, p, TRAINING_ROLES) if course.org_id in (None, o)]
    if not hosts:
        abort(403)
    org_id = query_id("org_id") or hosts[0]
    if org_id not in hosts:
        abort(403)
    form = SessionForm()
    if form.validate_on_submit():
        try:
            data = {k: v for k, v in form.data.items() if k != "csrf_token"}
            s = sessions.schedule(dbm.session, p, org_id, course.id, data)
            dbm.session.commit()
            flash("The session has been scheduled. Book people on it below.", "info")
            return redirect(url_for("courses.session_detail", session_id=s.id))
        except ServiceError as exc:
            dbm.session.rollback()
            apply_errors(form, exc)
    return render_template("courses/session_form.html", form=form, course=course,
                           host=dbm.session.get(Organisation, org_id), session=None), _status(form)


@bp.route("/sessions/<id:session_id>/edit", methods=["GET", "POST"])
@login_required
def session_edit(session_id: int):
    p = current_principal()
    s = sessions.get_session(dbm.session, session_id)
    if not sessions.can_manage(dbm.session, p, s):
        abort(403)
    form = SessionForm()
    if request.method == "GET":
        local_start, local_end = s.starts_at.astimezone(_uk()), s.ends_at.astimezone(_uk())
        form.process(data={"date": local_start.date(), "start_time": local_start.time(), "end_time": local_end.time(),
                           "venue": s.venue, "trainer_name": s.trainer_name, "capacity": s.capacity,
                           "booking_deadline": s.booking_deadline.astimezone(_uk()).date() if s.booking_deadline else None,
                           "shared": s.shared, "workers_may_book": s.workers_may_book, "notes": s.notes})
    if form.validate_on_submit():
        try:
            _s, promoted = sessions.update(dbm.session, p, session_id, {k: v for k, v in form.data.items()
                                                                         if k != "csrf_token"})
            dbm.session.commit()
            notify(promoted)
            flash("The session has been saved." + (f" {len(promoted)} moved off the waiting list." if promoted else ""),
                  "info")
            return redirect(url_for("courses.session_detail", session_id=session_id))
        except ServiceError as exc:
            dbm.session.rollback()
            apply_errors(form, exc)
    return render_template("courses/session_form.html", form=form, course=s.course, host=s.organisation,
                           session=s), _status(form)


@bp.post("/sessions/<id:session_id>/cancel")
@login_required
def session_cancel(session_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    sessions.cancel(dbm.session, current_principal(), session_id)
    dbm.session.commit()
    flash("The session has been cancelled and everyone's place released.", "info")
    return redirect(url_for("courses.session_detail", session_id=session_id))


def _bookable_people(p, s) -> list[tuple[str, str]]:
    """People this principal may book: current members of their organisations that the session is open to."""
    options = []
    for org_id in orgs_with_role(dbm.session, p, TRAINING_ROLES):
        if not sessions.open_to(dbm.session, s, org_id):
            continue
        org = dbm.session.get(Organisation, org_id)
        for person in people_in_org(dbm.session, org_id):
            options.append((f"{org_id}:{person.id}", f"{person.full_name} – {org.name}"))
    return options


@bp.route("/sessions/<id:session_id>", methods=["GET", "POST"])
@login_required
def session_detail(session_id: int):
    p = current_principal()
    s = bookings.session_for(dbm.session, p, session_id)
    form = BookForm()
    form.person.choices = choices([("", "Choose…")] + _bookable_people(p, s))
    if form.validate_on_submit():
        try:
            org_id, person_id = (int(x) for x in form.person.data.split(":"))
            b = bookings.book(dbm.session, p, s.id, person_id, org_id)
            dbm.session.commit()
            flash(f"{b.person.full_name} " + ("has a place." if b.status == "confirmed" else
                                               "is on the waiting list: the session is full."), "info")
            return redirect(url_for("courses.session_detail", session_id=s.id))
        except (ServiceError, ValueError) as exc:
            dbm.session.rollback()
            if isinstance(exc, ServiceError) and exc.status == 403:
                abort(403)
            apply_errors(form, exc if isinstance(exc, ServiceError) else ServiceError("Choose someone to book."))
    rows = bookings.bookings_for(dbm.session, s.id)
    manage = sessions.can_manage(dbm.session, p, s)
    own_orgs = set(orgs_with_role(dbm.session, p, TRAINING_ROLES))
    visible = rows if manage else [b for b in rows if b.org_id in own_orgs or b.person_id == p.person_id]
    mine = next((b for b in rows if b.person_id == p.person_id and b.status != "cancelled"), None)
    can_self_book = (mine is None and s.workers_may_book and s.cancelled_at is None
                     and any(sessions.open_to(dbm.session, s, o) for o in member_orgs(dbm.session, p.person_id)))
    return render_template("courses/session.html", s=s, form=form, bookings=visible, manage=manage, mine=mine,
                           own_orgs=own_orgs, can_self_book=can_self_book, confirm=ConfirmForm(),
                           position=lambda b: bookings.waiting_position(rows, b),
                           past=sessions.session_day(s) <= _today()), _status(form)


def _today():
    from passport.core.access import today

    return today()


@bp.post("/sessions/<id:session_id>/book-me")
@login_required
def book_me(session_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    p = current_principal()
    b = bookings.book(dbm.session, p, session_id, p.person_id)
    dbm.session.commit()
    flash("You have a place." if b.status == "confirmed" else "The session is full: you are on the waiting list.", "info")
    return redirect(url_for("courses.session_detail", session_id=session_id))


@bp.post("/bookings/<id:booking_id>/cancel")
@login_required
def booking_cancel(booking_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    b, promoted = bookings.cancel(dbm.session, current_principal(), booking_id)
    dbm.session.commit()
    notify(promoted)
    msg = "The booking has been cancelled."
    if promoted:
        msg += " " + ", ".join(x.person.full_name for x in promoted) + " moved off the waiting list."
    flash(msg, "info")
    return redirect(url_for("courses.session_detail", session_id=b.session_id))


@bp.route("/sessions/<id:session_id>/register", methods=["GET", "POST"])
@login_required
def register(session_id: int):
    p = current_principal()
    s = sessions.get_session(dbm.session, session_id)
    if not sessions.can_manage(dbm.session, p, s):
        abort(403)
    confirmed = [b for b in bookings.bookings_for(dbm.session, s.id) if b.status == "confirmed"]
    fields = {f"b{b.id}": register_field(f"{b.person.full_name} ({b.organisation.name})", b.attendance)
              for b in confirmed}
    if s.course.pass_mark is not None:
        from passport.courses.models import CourseAssessment

        latest = {a.person_id: a.score for a in dbm.session.query(CourseAssessment).filter(
            CourseAssessment.session_id == s.id).order_by(CourseAssessment.id)}
        fields.update({f"s{b.id}": score_field(f"Test score for {b.person.full_name} (%)", latest.get(b.person_id))
                       for b in confirmed})
    form = dynamic_form("RegisterForm", fields)()
    result = None
    if form.validate_on_submit():
        try:
            marks = {b.id: form[f"b{b.id}"].data or "" for b in confirmed}
            result = sessions.record_attendance(dbm.session, p, s.id, marks)
            scores = {b.id: form[f"s{b.id}"].data for b in confirmed
                      if s.course.pass_mark is not None and form[f"s{b.id}"].data is not None
                      and form[f"s{b.id}"].data != form[f"s{b.id}"].default}
            if scores:
                from passport.courses.assessments import record_session_tests

                record_session_tests(dbm.session, p, s.id, scores)
            dbm.session.commit()
            done = sum(1 for b in confirmed if b.completed_on is not None)
            flash(f"The register has been saved. {done} of {len(confirmed)} have completed the course and have "
                  "a training record.", "info")
            return redirect(url_for("courses.session_detail", session_id=s.id))
        except ServiceError as exc:
            dbm.session.rollback()
            if exc.status == 403:
                abort(403)
            apply_errors(form, exc)
    return render_template("courses/register.html", s=s, form=form, confirmed=confirmed, result=result,
                           open=sessions.session_day(s) <= _today()), _status(form)


@bp.get("/sessions/<id:session_id>/sign-in-sheet")
@login_required
def sign_in_sheet(session_id: int):
    p = current_principal()
    s = sessions.get_session(dbm.session, session_id)
    if not sessions.can_manage(dbm.session, p, s):
        abort(403)
    confirmed = [b for b in bookings.bookings_for(dbm.session, s.id) if b.status == "confirmed"]
    return render_template("courses/sign_in_sheet.html", s=s, confirmed=confirmed)


@bp.get("/sessions")
@login_required
def session_list():
    p = current_principal()
    past = request.args.get("past") == "1"
    return render_template("courses/sessions.html", sessions=sessions.list_sessions(dbm.session, p, upcoming=not past),
                           past=past)


@bp.get("/my")
@login_required
def my_training():
    from passport.core.records import current_records
    from passport.courses import progress

    p = current_principal()
    person = dbm.session.get(Person, p.person_id)
    mine = bookings.bookings_of_person(dbm.session, p.person_id)
    open_sessions = [s for s in sessions.list_sessions(dbm.session, p)
                     if s.workers_may_book and s.cancelled_at is None and s.id not in {b.session_id for b in mine}]
    return render_template("courses/my.html", person=person, bookings=mine, open_sessions=open_sessions,
                           progress=progress.progress(dbm.session, p.person_id),
                           records=current_records(dbm.session, p.person_id), confirm=ConfirmForm(),
                           has_role=lambda roles, org: has_role(dbm.session, p, roles, org))
