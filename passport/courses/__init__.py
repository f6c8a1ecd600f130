"""Courses plugin: courses, sessions, bookings, assessments, Care Certificate progress, the matrix,
reminders and ASC-WDS import/export. Training records and sign-offs go to the core ledger."""
from flask import Blueprint

from passport.plugins import Plugin

bp = Blueprint("courses", __name__, url_prefix="/courses", template_folder="templates",
               static_folder="static", static_url_path="/static")
api_bp = Blueprint("courses_api", __name__, url_prefix="/api/v1/courses")


def _setup(app) -> None:
    """Register views, navigation, dashboard cards and the "training" reminder source."""
    from passport import db as dbm, reminders
    from passport.core.access import is_scheme_admin, orgs_with_role
    from passport.courses.common import MATRIX_ROLES, TRAINING_ROLES
    from passport.courses.training_reminders import training_reminders
    from passport.web import add_dashboard_card, add_nav

    reminders.register_source("training", training_reminders)
    from passport.courses.ascwds import DEFAULT_MAX_BYTES

    app.config.setdefault("COURSES_ASCWDS_MAX_BYTES", DEFAULT_MAX_BYTES)  # API, web form and CLI alike

    def staff(p):
        return bool(orgs_with_role(dbm.session, p, TRAINING_ROLES)) or is_scheme_admin(dbm.session, p)

    def first_org(roles):
        def kwargs(p):
            ids = orgs_with_role(dbm.session, p, roles)
            return {"org_id": ids[0]} if ids else None
        return kwargs

    add_nav(app, "Training", "courses.index", order=20)
    add_dashboard_card(app, "Courses and sessions", "courses.index",
                       "Create courses, schedule sessions, book staff and take the register.", order=10,
                       visible=staff)
    add_dashboard_card(app, "Training matrix", "courses.matrix",
                       "Who is in date, due soon or missing, by subject. Print it for an inspection.", order=11,
                       url_kwargs=first_org(MATRIX_ROLES))
    add_dashboard_card(app, "My training and Care Certificate", "courses.my_training",
                       "Your bookings, sessions you can book, and your Care Certificate progress.", order=6)
    add_dashboard_card(app, "Scheme training summary", "courses.scheme_summary",
                       "Compliance across every home in the scheme.", order=81,
                       visible=lambda p: is_scheme_admin(dbm.session, p))


def _demo(db, ctx) -> None:
    from passport.courses.demo import load

    load(db, ctx)


def _cli():
    from passport.courses.cli import cli

    return cli


# Routes attach to the blueprints above; import them before any app registers the blueprints.
from passport.courses import api, views, views_org, views_people  # noqa: E402,F401

plugin = Plugin(name="courses", blueprint=bp, api_blueprint=api_bp, cli=_cli(), setup=_setup, demo=_demo,
                description="Courses and training records")
