"""Certificates plugin: signed Care Certificate passports, keys, status lists, OB 3.0 export."""
from __future__ import annotations

import importlib.util
import logging

from flask import Blueprint, current_app

from passport.plugins import Plugin

bp = Blueprint("certificates", __name__, url_prefix="/certificates", template_folder="templates",
               static_folder="static", static_url_path="/static")
log = logging.getLogger(__name__)
EXTENSION_KEY = "passport.certificates"


def competency_provider(app):
    """The delegation plugin's ``current_competencies_for_passport`` when that plugin is enabled in
    ``app`` and provides it; otherwise None (passports then state no competencies)."""
    from passport.plugins import enabled

    if not enabled(app, "delegation"):
        return None
    try:
        if importlib.util.find_spec("passport.delegation.services") is None:
            return None
        from passport.delegation import services as delegation_services
    except ImportError:
        return None
    return getattr(delegation_services, "current_competencies_for_passport", None)


def settings(app) -> dict:
    """What services need from the app: key directory, public URL, competency provider."""
    return {"key_dir": app.config["KEY_DIR"], "public_url": app.config["PUBLIC_URL"],
            "competencies": competency_provider(app)}


def _on_change(sender, **kwargs) -> None:
    """Signal handler: re-issue the person's current passport when what it states has changed.

    Runs inside the caller's transaction and never commits. Only acts for apps with this plugin
    enabled; a missing key or an oversized token is logged, never allowed to break the caller."""
    from passport.certificates import services
    from passport.errors import ServiceError

    try:
        app = current_app._get_current_object()
    except RuntimeError:
        return
    if EXTENSION_KEY not in app.extensions:
        return
    db = kwargs.get("db")
    if db is None or not isinstance(sender, int):
        return
    try:
        with db.begin_nested():
            services.refresh_if_changed(db, sender, actor=kwargs.get("actor"), **settings(app))
    except ServiceError as exc:
        log.warning("Passport for person %s not re-issued: %s", sender, exc.message)


def _setup(app) -> None:
    from passport import signals
    from passport.certificates import public_views, views

    app.extensions[EXTENSION_KEY] = True
    for signal in (signals.care_certificate_changed, signals.competence_changed, signals.person_renamed):
        signal.connect(_on_change, weak=False)  # connecting twice is a no-op in blinker
    public_views.init_app(app)
    views.init_app(app)


def _demo(db, ctx) -> None:
    from passport.certificates.demo import load

    load(db, ctx)


from passport.certificates.api import bp as api_bp  # noqa: E402  (needs settings() above)
from passport.certificates.cli import group as cli_group  # noqa: E402
from passport.certificates import views  # noqa: E402,F401  (routes on bp, before it is registered)

plugin = Plugin(name="certificates", blueprint=bp, api_blueprint=api_bp, cli=cli_group, setup=_setup, demo=_demo,
                description="Signed passports")
