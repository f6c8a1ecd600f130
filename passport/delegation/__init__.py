"""Delegation plugin: delegated healthcare tasks, competency sign-off, delegations, who can do it now.

Works without the courses plugin: prerequisites are read from the core training-record ledger.
"""
from flask import Blueprint

from passport.plugins import Plugin

bp = Blueprint("delegation", __name__, url_prefix="/delegation", template_folder="templates",
               static_folder="static")
api_bp = Blueprint("delegation_api", __name__, url_prefix="/api/v1/delegation")


def _setup(app) -> None:
    """Register views, navigation, dashboard cards, the visibility rule and the reminder source."""
    from passport.delegation import setup

    setup.init_app(app)


def _demo(db, ctx) -> None:
    """District nurses assess demo workers and delegate tasks for pseudonymous residents."""
    from passport.delegation.demo import load

    load(db, ctx)


# Routes must be on the blueprints before the plugin loader registers them.
from passport.delegation import actions, api, cli, resident_views, views  # noqa: E402,F401

plugin = Plugin(name="delegation", blueprint=bp, api_blueprint=api_bp, cli=cli.group, setup=_setup, demo=_demo,
                description="Delegated healthcare tasks")
