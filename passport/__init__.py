"""The care training passport service.

``create_app`` is the only place an app is made. It reads defaults, then ``PASSPORT_*`` environment
variables, then ``config`` overrides; binds extensions; loads plugins. It never touches the database.
"""
from __future__ import annotations

import os

from flask import Flask
from jinja2 import ChainableUndefined, ChoiceLoader, FileSystemLoader, PackageLoader


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.jinja_options = {**app.jinja_options, "undefined": ChainableUndefined,
                         "autoescape": True}  # every template, the NHS.UK components (.jinja) too
    from passport import config as cfg

    app.config.from_mapping(cfg.defaults(app.instance_path))
    app.config.from_prefixed_env("PASSPORT")
    if config:
        app.config.from_mapping(config)
    cfg.finalise(app)
    from passport.escaping import lock_down_reportlab

    lock_down_reportlab()  # reportlab never fetches a URL or reads a file because of markup
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    if app.config["DATABASE_URL"].startswith("sqlite:///"):
        os.makedirs(os.path.dirname(app.config["DATABASE_URL"][len("sqlite:///"):]) or ".", exist_ok=True)

    app.jinja_loader = ChoiceLoader([
        FileSystemLoader(os.path.join(app.root_path, "templates")),
        PackageLoader("nhsuk_frontend_jinja"),
    ])

    from passport import api, db, jobs, mail, params, plugins, web
    from passport.core import auth, views as core_views

    params.init_app(app)  # the <id:...> URL converter, before any blueprint registers its routes
    db.init_app(app)
    mail.init_app(app)
    jobs.init_app(app)
    auth.init_app(app)
    web.init_app(app)
    api.init_app(app)
    core_views.init_app(app)
    plugins.init_app(app)
    api.finalise(app)
    from passport.cli import register_core_commands

    register_core_commands(app)
    return app
