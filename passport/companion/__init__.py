"""Companion plugin: the Care home companion (induction packs and checklists for new and agency staff, with
sign-in-free agency links), the workforce movement report (pages, charts and CSV over the analysis in
``passport.verify.movement``), and the anonymous survey of staff who move between homes."""
from flask import Blueprint

from passport.plugins import Plugin

bp = Blueprint("companion", __name__, url_prefix="/companion", template_folder="templates")
api_bp = Blueprint("companion_api", __name__, url_prefix="/api/v1/companion")

DEFAULTS = {
    # Agency links: requests per client address (Flask-Limiter syntax).
    "COMPANION_LINK_RATE_LIMIT": "60 per minute",
    # A survey offer stays open this many days.
    "COMPANION_SURVEY_OFFER_DAYS": 60,
    # Keep computed movement reports per process until the data they read changes.
    "COMPANION_MOVEMENT_CACHE": True,
}


def _setup(app) -> None:
    from passport import db as dbm, reminders, signals
    from passport.companion import survey
    from passport.companion.reminders import induction_reminders
    from passport.companion.services import has_overdue, managed_orgs
    from passport.core.access import is_scheme_admin
    from passport.web import add_dashboard_card, add_nav

    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    reminders.register_source("induction", induction_reminders)
    signals.passport_accepted.connect(survey.on_passport_accepted, weak=False)
    signals.membership_ended.connect(survey.on_membership_ended, weak=False)

    def staff(p):
        return bool(managed_orgs(dbm.session, p)) or is_scheme_admin(dbm.session, p)

    def has_induction(p):
        from passport.companion.models import Induction
        import sqlalchemy as sa

        return dbm.session.scalar(sa.select(Induction.id).where(Induction.person_id == p.person_id).limit(1)) is not None

    add_nav(app, "Induction", "companion.index", order=35, visible=lambda p: staff(p) or has_induction(p))
    add_dashboard_card(app, "Induction: items overdue", "companion.index",
                       "Induction checklist items are past their due date. See who needs what.", order=2,
                       visible=lambda p: has_overdue(dbm.session, p))
    add_dashboard_card(app, "Care home companion", "companion.index",
                       "Induction packs, checklists for new and agency staff, and agency links.", order=12,
                       visible=staff)
    add_dashboard_card(app, "Tell us about your move", "companion.survey_offers",
                       "A short, anonymous survey about the home you left and the home you joined.", order=3,
                       visible=lambda p: survey.has_open_offer(dbm.session, p.person_id))
    add_dashboard_card(app, "Workforce movement", "companion.movement",
                       "Joiners, leavers, turnover and moves between homes, with charts and CSV.", order=82,
                       visible=lambda p: is_scheme_admin(dbm.session, p))


def _demo(db, ctx) -> None:
    from passport.companion.demo import load

    load(db, ctx)


def _cli():
    from passport.companion.cli import cli

    return cli


from passport.companion import api, public_views, views  # noqa: E402,F401

plugin = Plugin(name="companion", requires=("verify", "courses", "delegation"), blueprint=bp, api_blueprint=api_bp,
                cli=_cli(), setup=_setup, demo=_demo, description="Care home companion, workforce movement, movers' survey")
