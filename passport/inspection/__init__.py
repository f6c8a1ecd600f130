"""Inspection plugin: supervision and appraisal, the rota check API, "download all my data" and the evidence
pack a registered manager hands an inspector. It reads the courses and delegation plugins' records."""
from flask import Blueprint

from passport.plugins import Plugin

bp = Blueprint("inspection", __name__, url_prefix="/inspection", template_folder="templates",
               static_folder="static", static_url_path="/static")
# The rota check lives at /api/v1/rota/check (the path the issue and rota suppliers use), so this blueprint
# is mounted at /api/v1 itself rather than /api/v1/inspection.
api_bp = Blueprint("inspection_api", __name__, url_prefix="/api/v1")


def _setup(app) -> None:
    """Register navigation, dashboard cards and sections, the matrix column, the reminder source and the
    personal-data, evidence-pack and rota-check parts of the plugins this one reads."""
    from passport.inspection import setup

    setup.init_app(app)


def _demo(db, ctx) -> None:
    from passport.inspection.demo import load

    load(db, ctx)


# Routes must be on the blueprints before the plugin loader registers them.
from passport.inspection import api, cli, views  # noqa: E402,F401

plugin = Plugin(name="inspection", requires=("courses", "delegation"), blueprint=bp, api_blueprint=api_bp,
                cli=cli.group, setup=_setup, demo=_demo, description="Supervision, rota check, data export, evidence pack")
