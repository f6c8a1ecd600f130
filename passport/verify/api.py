"""The public verify API: ``POST /api/v1/verify`` (one token, the QR URL, or a QR photo) and
``POST /api/v1/verify/batch`` (up to 100 tokens). No account needed; an API token adds the verifying
organisation to the check log. CORS is open for verifier apps; each client is rate-limited.
"""
from __future__ import annotations

import functools
import hashlib

from flask import Blueprint, current_app, jsonify, request
from flask_limiter.util import get_remote_address
from limits import parse_many

from passport import db as dbm
from passport.api import ApiError, api_doc, json_body, principal
from passport.core.auth import limiter
from passport.verify import cache, services, settings, trust
from passport.verify.checklog import writer_for
from passport.verify.qrread import UnreadableImage, read_qr
from passport.verify.verifier import STATES

api_bp = Blueprint("verify_api", __name__, url_prefix="/api/v1/verify")
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp")

RESULT_SCHEMA_NOTE = ("Answers {result, title, reason, reason_code, reason_detail, passport, issuer, checked_at, status, "
                      "trust}; result is one of " + ", ".join(STATES) + ". reason is plain words with what to do "
                      "next; reason_code is the technical reason (docs/verify.md lists them all).")
TOKEN_BODY = {"type": "object", "required": ["token"], "properties": {
    "token": {"type": "string", "description": "The compact JWS, the whole QR URL (…/v#<token>) or its numeric form",
              "maxLength": 9000}}}
BATCH_BODY = {"type": "object", "required": ["tokens"], "properties": {
    "tokens": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 100}}}


def client_key() -> str:
    """Rate-limit key: the API token (hashed) when one is sent, else the client address."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return "token:" + hashlib.sha256(header[7:].strip().encode("utf-8", "replace")).hexdigest()[:32]
    return "addr:" + (get_remote_address() or "")


@functools.lru_cache(maxsize=16)
def _limits(text: str):
    return tuple(parse_many(text))


def rate_limit_key_ok(key: str, cost: int = 1) -> str | None:
    """Count ``cost`` against the per-client limit (``VERIFY_RATE_LIMIT``) in the app's Flask-Limiter
    storage with its strategy; None when allowed, else the message for a 429. Checked directly rather
    than with the decorator: the same counters at a fraction of the cost on the hottest route."""
    if not limiter.enabled or not current_app.config.get("RATELIMIT_ENABLED", True):
        return None
    for item in _limits(current_app.config["VERIFY_RATE_LIMIT"]):
        if not limiter.limiter.hit(item, "verify", key, cost=cost):
            return f"Too many verifications from this client (limit: {item}). Wait a minute, or use the batch endpoint."
    return None


def rate_limit(cost: int = 1) -> None:
    """The per-client limit for this request; a batch costs one per token."""
    message = rate_limit_key_ok(client_key(), cost)
    if message:
        raise ApiError(429, "too_many_requests", message)


def _cap(limit: int) -> None:
    """413 before reading a body over ``limit`` bytes (also enforced while streaming)."""
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "payload_too_large", f"The request body is larger than {limit // 1024} KB.")


def _org_id() -> int | None:
    p = principal() if request.headers.get("Authorization") else None
    return p.token_org_id if p is not None else None


def _check(text) -> dict:
    s = settings()
    sink = None
    if current_app.config["VERIFY_CHECK_LOG"] == "background" or cache.database_down(dbm.session, s):
        sink = writer_for(current_app)  # during an outage the rows wait for the database in the writer
    result = services.check(dbm.session, s, text, channel="api", org_id=_org_id(),
                            client_addr=request.remote_addr, sink=sink)
    return result.to_json()


@limiter.request_filter
def _limited_in_view() -> bool:
    """The verify API counts its own per-client limit (``rate_limit``); the extension's per-request
    pass over decorated and default limits has nothing to add there."""
    return request.blueprint == api_bp.name


@api_bp.after_request
def _cors(resp):
    resp.headers["Access-Control-Allow-Origin"] = "*"
    resp.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    resp.headers["Access-Control-Allow-Headers"] = "Content-Type, Authorization"
    resp.headers["Access-Control-Max-Age"] = "86400"
    resp.headers.setdefault("Cache-Control", "no-store")
    return resp


@api_bp.post("")
@api_doc("Verify one passport: send {\"token\": ...} as JSON, or a photo of the QR code (image/png, image/jpeg, "
         "or multipart field 'image'). " + RESULT_SCHEMA_NOTE, auth=False, body=TOKEN_BODY, tags=["verify"],
         responses={"413": "Body too large", "415": "Wrong content type", "429": "Too many requests"})
def verify_one():
    rate_limit()
    mimetype = request.mimetype
    if mimetype in IMAGE_TYPES or mimetype == "multipart/form-data":
        _cap(current_app.config["VERIFY_MAX_IMAGE_BYTES"])
        if mimetype == "multipart/form-data":
            upload = request.files.get("image")
            if upload is None:
                raise ApiError(400, "validation_error", "Send the photo in a form field called 'image'.",
                               {"image": "Choose a photo of the QR code."})
            data = upload.read(current_app.config["VERIFY_MAX_IMAGE_BYTES"] + 1)
        else:
            data = request.get_data(cache=False)
        try:
            text = read_qr(data)
        except UnreadableImage as exc:
            raise ApiError(400, "unreadable_image", str(exc), {"image": str(exc)}) from None
    else:
        _cap(current_app.config["VERIFY_MAX_JSON_BYTES"])
        body = json_body()
        text = body.get("token")
        if not isinstance(text, str):
            raise ApiError(400, "validation_error", "Send the passport as {\"token\": \"...\"}.",
                           {"token": "The token must be a string."})
    out = _check(text)
    dbm.session.commit()
    return jsonify(out)


@api_bp.post("/batch")
@api_doc("Verify up to 100 passports at once: {\"tokens\": [...]} answers {\"results\": [...]} in the same order. "
         "Counts each token against the rate limit.", auth=False, body=BATCH_BODY, tags=["verify"],
         responses={"413": "Body too large", "415": "Wrong content type", "429": "Too many requests"})
def verify_batch():
    rate_limit()
    _cap(current_app.config["VERIFY_MAX_JSON_BYTES"])
    body = json_body()
    tokens = body.get("tokens")
    limit = current_app.config["VERIFY_BATCH_MAX"]
    if not isinstance(tokens, list) or not tokens or not all(isinstance(t, str) for t in tokens):
        raise ApiError(400, "validation_error", "Send {\"tokens\": [\"...\", ...]} with at least one token.",
                       {"tokens": "Send a list of token strings."})
    if len(tokens) > limit:
        raise ApiError(400, "too_many_tokens", f"Send at most {limit} tokens per batch.",
                       {"tokens": f"At most {limit} tokens."})
    if len(tokens) > 1:
        rate_limit(cost=len(tokens) - 1)  # one per token in all
    results = [_check(t) for t in tokens]
    dbm.session.commit()
    return jsonify({"results": results})


@api_bp.get("/trust")
@api_doc("The trust data this service verifies with: the scheme, its own endorsers and every trusted issuer with "
         "its own endorsers (with their logos' SHA-256 and address), key ids, key status and how old the keys are", auth=False, tags=["verify"])
def trust_summary():
    s = settings()
    store = trust.trust_store(dbm.session, s)
    issuers = []
    for i in sorted(store.issuers.values(), key=lambda x: (not x.own, x.name)):
        issuers.append({"iss": i.iss, "name": i.name, "own": i.own, "status_base": i.status_base,
                        "endorsers": list(i.endorsers),
                        "logos": [{"name": n, **(i.logos.get(n) or {"sha256": None, "url": None})} for n in i.endorsers],
                        "keys_as_of": services.iso_or_none(i.as_of),
                        "keys": [{"kid": k.kid, "status": k.status, "nbf": k.nbf, "exp": k.exp} for k in i.keys.values()]})
    return jsonify({"scheme": store.scheme_name, "endorsers": store.endorsers, "issuers": issuers,
                    "bundle_url": s.public_url + "/.well-known/ccp-trust-bundle.jwt",
                    "trust_key_url": s.public_url + "/.well-known/ccp-trust-key.json"})
