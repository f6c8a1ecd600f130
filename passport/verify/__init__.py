"""Verify plugin: scan-to-verify page, verify API and CLI, trust bundle, accepting passports."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app

from passport.plugins import Plugin

bp = Blueprint("verify", __name__, template_folder="templates", static_folder="static",
               static_url_path="/verify/static")

DEFAULTS = {
    # Per client (API token, else address). Use a shared RATELIMIT_STORAGE_URI with several processes.
    "VERIFY_RATE_LIMIT": "120 per minute",
    # Serve anonymous {"token": ...} verifications through the lean WSGI path (passport.verify.fastpath).
    "VERIFY_FAST_PATH": True,
    "VERIFY_MAX_JSON_BYTES": 512 * 1024,   # a 100-token batch is ~50 KB
    "VERIFY_MAX_IMAGE_BYTES": 8 * 1024 * 1024,
    "VERIFY_BATCH_MAX": 100,
    "VERIFY_ISSUER_NAME": None,            # our name in the trust bundle (default: the scheme's name)
    "VERIFY_TRUST_CACHE_SECONDS": 10,      # per-process cache of the trust store
    "VERIFY_FETCH_TIMEOUT": 5.0,
    # Our own status lists: how stale (seconds) the API may be about a revocation made here. 0 = never.
    "VERIFY_STATUS_CACHE_SECONDS": 2,
    # The verify API's check log: "background" (batched by a thread; a crash may lose the last
    # interval's rows) or "request" (written in the request's own transaction).
    "VERIFY_CHECK_LOG": "background",
    "VERIFY_CHECK_LOG_INTERVAL": 0.25,
    # Another issuer's status list is re-fetched (at most) this often when a check needs it.
    "VERIFY_STATUS_REFRESH_SECONDS": 300,
    "VERIFY_ALLOW_HTTP_ISSUERS": None,     # None: allowed outside production (and always to loopback)
    # Last known good trust data and status for database outages (passport.verify.cache); "" turns it off.
    # None: <instance>/verify-cache.
    "VERIFY_CACHE_DIR": None,
}


def settings(app: Flask | None = None):
    """The trust settings for ``app`` (default: the current app)."""
    from passport.verify.trust import Settings

    app = app or current_app
    cfg = app.config
    allow_http = cfg["VERIFY_ALLOW_HTTP_ISSUERS"]
    if allow_http is None:
        allow_http = cfg.get("ENV_NAME") != "production"
    return Settings(public_url=cfg["PUBLIC_URL"], key_dir=cfg["KEY_DIR"], issuer_name=cfg["VERIFY_ISSUER_NAME"],
                    allow_http=bool(allow_http), fetch_timeout=float(cfg["VERIFY_FETCH_TIMEOUT"]),
                    cache_seconds=float(cfg["VERIFY_TRUST_CACHE_SECONDS"]),
                    status_refresh_seconds=float(cfg["VERIFY_STATUS_REFRESH_SECONDS"]),
                    status_cache_seconds=float(cfg["VERIFY_STATUS_CACHE_SECONDS"]),
                    status_max_age_seconds=int(float(cfg.get("VERIFY_STATUS_MAX_AGE_HOURS", 24)) * 3600),
                    cache_dir=cfg.get("VERIFY_CACHE_DIR"))


def _setup(app: Flask) -> None:
    from passport.verify import setup

    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    setup.init_app(app)


def _demo(db, ctx) -> None:
    from passport.verify.demo import load

    load(db, ctx)


def _api_blueprint():
    from passport.verify.api import api_bp

    return api_bp


def _cli():
    from passport.verify.cli import group

    return group


plugin = Plugin(name="verify", requires=("certificates",), blueprint=bp, api_blueprint=_api_blueprint(),
                cli=_cli(), setup=_setup, demo=_demo, description="Verify passports")

from passport.verify import logo_views, public_views, views  # noqa: E402,F401  (routes on ``bp``)
