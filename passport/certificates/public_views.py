"""Public, unauthenticated, cacheable endpoints: the issuer JWKS, single JWKs and the status lists.

These are what verifiers fetch. They carry CORS ``*`` and Cache-Control headers and never anything
private. They live at the site root (not under /certificates) because their URLs are part of CCP1.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, current_app

from passport import db as dbm
from passport.certificates import keys as keyring, status
from passport.certificates.models import STATUS_PURPOSES, SigningKey
from passport.errors import NotFound

public_bp = Blueprint("certificates_public", __name__)
JWKS_MAX_AGE = 3600


def _public(body: str, content_type: str, max_age: int) -> Response:
    resp = Response(body, content_type=content_type)
    resp.headers["Access-Control-Allow-Origin"] = "*"
    resp.headers["Cache-Control"] = f"public, max-age={max_age}"
    return resp


@public_bp.get("/.well-known/jwks.json")
def jwks():
    """The issuer's public keys (active, retired and compromised), as CCP1 verifiers expect."""
    body = json.dumps(keyring.public_jwks(dbm.session), separators=(",", ":"))
    return _public(body, "application/jwk-set+json", JWKS_MAX_AGE)


@public_bp.get("/keys/<kid>.json")
def single_jwk(kid: str):
    """One public JWK by kid: the Open Badges 3.0 JWT header's ``kid`` URL points here."""
    if len(kid) > 64:
        abort(404)
    import sqlalchemy as sa

    key = dbm.session.scalar(sa.select(SigningKey).where(SigningKey.kid == kid))
    if key is None:
        abort(404)
    return _public(json.dumps(keyring.public_jwk(key), separators=(",", ":")), "application/jwk+json",
                   JWKS_MAX_AGE)


@public_bp.get("/status/<id:list_id>/<purpose>")
def status_list(list_id: int, purpose: str):
    """A signed W3C BitstringStatusListCredential (revocation | suspension | refresh)."""
    if purpose not in STATUS_PURPOSES:
        abort(404)
    try:
        token = status.status_list_jwt(dbm.session, list_id, purpose, current_app.config["KEY_DIR"],
                                       current_app.config["PUBLIC_URL"])
    except NotFound:
        abort(404)
    return _public(token, "application/statuslist+jwt", status.TTL_SECONDS)


def init_app(app) -> None:
    app.register_blueprint(public_bp)
