"""Public, account-free endpoints: the verify page ``/v`` (an installable offline web app), its service
worker and manifest, the same-origin status-list mirror it reads, and the scheme's trust bundle and
trust key at well-known URLs.

The page verifies in the browser: the token stays in the URL fragment and is never sent to us.
"""
from __future__ import annotations

import json
import os

from flask import Response, abort, render_template, request, url_for

from passport import db as dbm
from passport.verify import bp, own, settings, trust
from passport.verify.trustdata import STATUS_PURPOSES

STATIC_DIR = os.path.join(os.path.dirname(__file__), "static")
# The page needs nothing from anywhere but this origin; no inline script or style at all.
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            "connect-src 'self'; manifest-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'")
BUNDLE_MAX_AGE = 3600


def _public(resp: Response, max_age: int) -> Response:
    resp.headers["Access-Control-Allow-Origin"] = "*"
    resp.headers["Cache-Control"] = f"public, max-age={max_age}"
    return resp


def asset_version() -> str:
    """Changes whenever a page asset changes, so the service worker re-caches them."""
    stamp = 0
    for name in ("verify.js", "verify.css", "sw.js", "icon.svg"):
        try:
            stamp = max(stamp, int(os.stat(os.path.join(STATIC_DIR, name)).st_mtime))
        except OSError:
            pass
    return str(stamp)


@bp.get("/v")
def page():
    """The verify page. Works with no account, offline once visited, and on a small phone."""
    s = settings()
    from passport.verify import wording
    from passport.verify.services import LEVEL_LABELS, TASK_NAMES

    from passport.certificates.wire import TASK_CODES
    from passport.verify.verifier import SUBJECT_NAMES

    own_name = trust.trust_store(dbm.session, s).issuers[s.public_url].name  # cached: answers in an outage
    html = render_template("verify/page.html", own_iss=s.public_url, own_name=own_name,
                           version=asset_version(), task_names=TASK_NAMES, level_labels=LEVEL_LABELS,
                           wording=wording.for_browser(), status_max_age=s.status_max_age_seconds,
                           task_codes=list(TASK_CODES), subject_names=SUBJECT_NAMES)
    resp = Response(html, content_type="text/html; charset=utf-8")
    resp.headers["Content-Security-Policy"] = PAGE_CSP
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/v/sw.js")
def service_worker():
    """The service worker, served under /v so it may control the page (scope ``/v``)."""
    with open(os.path.join(STATIC_DIR, "sw.js"), encoding="utf-8") as fh:
        resp = Response(fh.read(), mimetype="text/javascript")
    resp.headers["Service-Worker-Allowed"] = "/v"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/v/manifest.webmanifest")
def manifest():
    body = {"name": "Check a care passport", "short_name": "Check passport", "start_url": url_for(".page"),
            "scope": url_for(".page"), "display": "standalone", "background_color": "#ffffff",
            "theme_color": "#005eb8", "description": "Check a care worker's training passport, even offline.",
            "icons": [{"src": url_for(".static", filename="icon.svg"), "sizes": "any", "type": "image/svg+xml",
                       "purpose": "any"},
                      {"src": url_for("static", filename="nhsuk/assets/images/nhsuk-icon-192.png"), "sizes": "192x192",
                       "type": "image/png"},
                      {"src": url_for("static", filename="nhsuk/assets/images/nhsuk-icon-512.png"), "sizes": "512x512",
                       "type": "image/png"}]}
    return Response(json.dumps(body), content_type="application/manifest+json")


@bp.get("/v/status-list")
def status_list():
    """A trusted issuer's signed status list, same-origin for the offline page (ours, or a mirror)."""
    iss, purpose = request.args.get("iss", ""), request.args.get("purpose", "")
    try:
        list_id = int(request.args.get("list", ""))
    except ValueError:
        abort(404)
    if purpose not in STATUS_PURPOSES or not 0 <= list_id < 2 ** 31 or len(iss) > 255:
        abort(404)
    jws = trust.status_list_jwt(dbm.session, settings(), iss, list_id, purpose)
    dbm.session.commit()  # a refreshed mirror
    if jws is None:
        abort(404)
    return _public(Response(jws, content_type="application/statuslist+jwt"), 300)


@bp.get("/.well-known/ccp-trust-bundle.jwt")
def trust_bundle():
    """The scheme's signed trust bundle: trusted issuers, their keys and status-list locations."""
    jws = trust.trust_bundle(dbm.session, settings())
    return _public(Response(jws, content_type="application/jwt"), BUNDLE_MAX_AGE)


@bp.get("/.well-known/ccp-trust-key.json")
def trust_key():
    """The scheme's trust key (public JWK) that verifiers pin to check the bundle. The newest key is the
    document itself; earlier ones follow in ``previous`` so a pinned verifier can follow a rotation."""
    keys = own.trust_public_jwks(dbm.session)
    active = [k for k in keys if k["status"] == "active"]
    if not active:
        abort(503, "The scheme has no trust key yet. An administrator must run "
                   "'passport certificates keys create --purpose trust'.")
    body = {**active[0], "previous": [k for k in keys if k is not active[0]]}
    return _public(Response(json.dumps(body), content_type="application/jwk+json"), BUNDLE_MAX_AGE)
