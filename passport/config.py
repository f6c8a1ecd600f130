"""Configuration: defaults, then ``PASSPORT_*`` environment variables, then overrides.

Every setting is read without the ``PASSPORT_`` prefix inside the app (``app.config["DATABASE_URL"]``).
"""
from __future__ import annotations

import os
from datetime import timedelta

DEV_SECRET = "dev-only-not-secret"


class ConfigError(RuntimeError):
    """Raised when the configuration cannot run safely; the message says what to fix."""


def defaults(instance_path: str) -> dict:
    return {
        "ENV_NAME": "development",  # "production" turns on the strict checks below
        "SECRET_KEY": DEV_SECRET,
        "DATABASE_URL": "sqlite:///" + os.path.join(instance_path, "passport.sqlite"),
        "PUBLIC_URL": "http://127.0.0.1:5000",
        # None = every installed plugin; otherwise a comma-separated list or a list of names.
        "PLUGINS": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": False,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead: a long form on a phone still submits
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        # Throttling (passport.core.throttle, and Flask-Limiter for the verify API). One store for every
        # counter: with memory:// the sign-in and reset counters go in the database table core_rate_counter
        # (shared by all processes) and the verify counters stay per process; redis://... puts them all in Redis.
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_ENABLED": True,
        # Failed sign-ins per account (the e-mail address typed, known or not) and per client address;
        # the address limit is high because a whole care home often shares one address.
        "LOGIN_ACCOUNT_LIMIT": "5 per 15 minutes",
        "LOGIN_ADDRESS_LIMIT": "100 per 15 minutes",
        # Password-reset requests (each may send a mail) per e-mail address and per client address.
        "PASSWORD_RESET_ACCOUNT_LIMIT": "3 per hour",
        "PASSWORD_RESET_ADDRESS_LIMIT": "30 per hour",
        # Mail. With MAIL_SERVER unset, mail is printed to the console (development).
        "MAIL_SERVER": None,
        "MAIL_PORT": 25,
        "MAIL_USE_TLS": False,  # STARTTLS (port 587)
        "MAIL_USE_SSL": False,  # implicit TLS (port 465)
        "MAIL_USERNAME": None,
        "MAIL_PASSWORD": None,
        "MAIL_FROM": "Care training passport <no-reply@passport.invalid>",
        # SMTP connections each outbox delivery (a job, or an inline reminder run) keeps open at once.
        "MAIL_CONNECTIONS": 8,
        "PASSWORD_RESET_MAX_AGE": 3600,
        # Background job queue (passport.jobs): sqlite:///... (default instance/jobs.sqlite, no server),
        # redis://... or postgresql://... for several worker processes.
        "JOBS_URL": None,
        # A queued or running job with no progress for this many seconds is queued again (its worker died).
        "JOBS_RESUME_AFTER": 120,
        # How many days an emailed invitation to join an organisation stays valid (single use).
        "INVITATION_DAYS": 7,
        # The scheme's own name and logo head every page (the NHS logo is for NHS services). SCHEME_LOGO is a
        # file under passport/static or an absolute URL; it is shown next to the name, so it needs no text.
        "SCHEME_NAME": "Care training passport",
        "SCHEME_LOGO": "scheme-logo.svg",
        "KEY_DIR": os.path.join(instance_path, "keys"),
        # Number of trusted reverse proxies in front of the app (X-Forwarded-For/-Proto/-Host); 0 = none.
        "PROXY_COUNT": 0,
        # Verifiers (page, offline page, API, CLI) do not rely on passport status data older than this:
        # the answer is then "valid_status_unknown" with the data's age (docs/verify.md).
        "VERIFY_STATUS_MAX_AGE_HOURS": 24,
    }


def finalise(app) -> None:
    """Normalise values read from the environment and refuse unsafe production settings."""
    cfg = app.config
    plugins = cfg.get("PLUGINS")
    if isinstance(plugins, str):
        cfg["PLUGINS"] = [p.strip() for p in plugins.split(",") if p.strip()]
    cfg["PUBLIC_URL"] = str(cfg["PUBLIC_URL"]).rstrip("/")
    max_age = cfg.get("VERIFY_STATUS_MAX_AGE_HOURS")
    if isinstance(max_age, bool) or not isinstance(max_age, (int, float)) or not 0 < max_age <= 24 * 90:
        raise ConfigError("PASSPORT_VERIFY_STATUS_MAX_AGE_HOURS must be a number of hours above 0 and at most 2160 "
                          "(90 days); the default is 24.")
    if cfg["ENV_NAME"] == "production":
        secret = cfg.get("SECRET_KEY") or ""
        if secret == DEV_SECRET or len(secret) < 32:
            raise ConfigError(
                "PASSPORT_SECRET_KEY must be set to a random value of at least 32 characters in production "
                "(for example: python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        if not cfg["PUBLIC_URL"].startswith("https://"):
            raise ConfigError("PASSPORT_PUBLIC_URL must be an https:// address in production.")
        cfg["SESSION_COOKIE_SECURE"] = True
        cfg["REMEMBER_COOKIE_SECURE"] = True
