"""Sign-in plumbing: Flask-Login, CSRF, rate limits (Flask-Limiter for the verify API; sign-in and password
reset through passport.core.throttle), security headers, and view guards."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, abort, g
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from passport import db as dbm
from passport.core import throttle
from passport.core.access import Principal, has_role

login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@login_manager.user_loader
def _load_user(user_id: str):
    from passport.core.models import User

    try:
        uid, version = (int(x) for x in user_id.split(":"))
    except ValueError:
        return None
    user = dbm.session.get(User, uid)
    # A disabled account, or one whose password changed, loses its session at the next request.
    if user is None or user.is_disabled or user.session_version != version:
        return None
    return user


def current_principal() -> Principal | None:
    if not current_user.is_authenticated:
        return None
    if "principal" not in g:
        g.principal = Principal(person=current_user.person)
    return g.principal


def safe_next(target: str | None) -> str | None:
    """Only our own absolute paths are allowed as ``next`` (no scheme, host, or protocol-relative URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def role_required(*roles: str, org_arg: str = "org_id"):
    """View guard: signed in and holding one of ``roles`` in the organisation named by the URL argument."""

    def deco(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not has_role(dbm.session, current_principal(), roles, kwargs.get(org_arg)):
                abort(403)
            return fn(*args, **kwargs)

        return wrapper

    return deco


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "core.login"
    login_manager.login_message = "Sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    limiter.init_app(app)
    throttle.init_app(app)
