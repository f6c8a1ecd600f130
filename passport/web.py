"""Shared web plumbing: template helpers, the navigation plugins add to, security headers, health."""
from __future__ import annotations

import secrets

from flask import Flask, Request, current_app, g, jsonify, request, url_for
from flask.sessions import SecureCookieSessionInterface

from passport.core import timeutil

NAV_KEY = "passport.nav"


def add_nav(app: Flask, label: str, endpoint: str, visible=None, order: int = 50) -> None:
    """Add a header link. ``visible(principal)`` decides whether the signed-in person sees it."""
    app.extensions.setdefault(NAV_KEY, []).append((order, label, endpoint, visible))


def nav_items(app: Flask, principal) -> list[dict]:
    items = []
    for _order, label, endpoint, visible in sorted(app.extensions.get(NAV_KEY, []), key=lambda x: x[0]):
        if principal is None:
            continue
        if visible is None or visible(principal):
            items.append({"href": url_for(endpoint), "text": label})
    return items


CARDS_KEY = "passport.dashboard_cards"
SECTIONS_KEY = "passport.page_sections"


def add_page_section(app: Flask, slot: str, render) -> None:
    """Let a plugin add a section to another feature's page without that feature importing it.

    ``render(**kwargs)`` returns HTML (e.g. from ``render_template``) or "" for nothing; pages call
    ``page_sections(slot, **kwargs)`` in their template. Used for "Who checked my passport".
    """
    app.extensions.setdefault(SECTIONS_KEY, {}).setdefault(slot, []).append(render)


def page_sections(app: Flask, slot: str, **kwargs) -> list:
    from markupsafe import Markup

    return [Markup(html) for render in app.extensions.get(SECTIONS_KEY, {}).get(slot, [])
            if (html := render(**kwargs))]


def add_dashboard_card(app: Flask, title: str, endpoint: str, description: str, visible=None, order: int = 50,
                       url_kwargs=None) -> None:
    """Add a card to the signed-in dashboard. ``visible(principal)`` decides who sees it;
    ``url_kwargs(principal)`` may supply URL arguments (e.g. the person's organisation)."""
    app.extensions.setdefault(CARDS_KEY, []).append((order, title, endpoint, description, visible, url_kwargs))


def dashboard_cards(app: Flask, principal) -> list[dict]:
    cards = []
    for _o, title, endpoint, description, visible, url_kwargs in sorted(app.extensions.get(CARDS_KEY, []),
                                                                         key=lambda x: x[0]):
        if visible is not None and not visible(principal):
            continue
        kwargs = url_kwargs(principal) if url_kwargs else {}
        if kwargs is None:
            continue
        cards.append({"title": title, "href": url_for(endpoint, **kwargs), "description": description})
    return cards


FORM_OVERHEAD = 64 * 1024  # room for a multipart form's boundaries and other fields around an uploaded file


def body_limit(setting: str):
    """Let a view accept request bodies up to the size in config ``setting`` (plus room for a form's other
    fields) instead of ``MAX_CONTENT_LENGTH``. Put it straight under the route decorator. The limit applies
    before anything reads the body (CSRF checks included), so the setting is the one limit for that view."""

    def deco(fn):
        fn.max_body_setting = setting
        return fn

    return deco


class PassportRequest(Request):
    """Flask's request, with the body size limit a view chose with :func:`body_limit`."""

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and current_app and self.url_rule is not None:
            setting = getattr(current_app.view_functions.get(self.url_rule.endpoint), "max_body_setting", None)
            if setting:
                return int(current_app.config[setting]) + FORM_OVERHEAD
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, without building the signer for a request that sent no cookie
    (API calls, first visits): the same empty session, a little less work on the busiest routes."""

    def open_session(self, app, request):
        if self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.request_class = PassportRequest
    app.add_template_filter(timeutil.format_uk, "uk_datetime")
    app.add_template_filter(timeutil.format_date, "uk_date")

    @app.context_processor
    def _globals():
        from passport.core.auth import current_principal

        return {"cspNonce": csp_nonce(), "nav_items": lambda: nav_items(app, current_principal()),
                "page_sections": lambda slot, **kw: page_sections(app, slot, **kw),
                "assetPath": url_for("static", filename="nhsuk/assets"), "today": timeutil.uk_today()}

    @app.after_request
    def _security_headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        nonce = g.get("csp_nonce")
        script = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
        resp.headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src {script}; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        )
        if request.is_secure:
            resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return resp

    @app.get("/health")
    def health():
        """Liveness check for load balancers: touches nothing but the process."""
        return jsonify({"status": "ok"})

    @app.get("/health/ready")
    def ready():
        """Readiness check: the database answers a trivial query."""
        import sqlalchemy as sa

        from passport import db as dbm

        try:
            dbm.session.execute(sa.text("SELECT 1"))
            dbm.session.rollback()
        except sa.exc.SQLAlchemyError:
            app.logger.exception("Readiness check failed")
            return jsonify({"status": "unavailable", "database": "unreachable"}), 503
        return jsonify({"status": "ok", "database": "ok"})
