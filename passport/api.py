"""The JSON API base: ``/api/v1``, bearer-token auth, JSON errors, and the OpenAPI 3.1 document.

Plugins put their API views on their own blueprint (``Plugin.api_blueprint``) under ``/api/v1/<name>``
and describe each with ``@api_doc(...)``; the OpenAPI document is built from the URL map, so a route
without a description fails the test that keeps the two in step.
"""
from __future__ import annotations

import json
import re
from functools import wraps
from typing import Any, Callable

from flask import Blueprint, Flask, current_app, g, jsonify, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from passport import db as dbm
from passport.core.access import Principal
from passport.errors import ServiceError

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)
MAX_JSON_DEPTH = 20


class ApiError(ServiceError):
    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message, fields)
        self.status, self.code = status, code


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    resp = jsonify({"error": code, "message": message, "fields": fields or {}})
    resp.status_code = status
    return resp


def api_doc(summary: str, *, auth: bool = True, body: dict | None = None, params: list[dict] | None = None,
            responses: dict[str, str] | None = None, tags: list[str] | None = None) -> Callable:
    """Attach OpenAPI metadata to a view. ``body`` is a JSON Schema for the request body."""

    def deco(fn):
        fn.openapi = {"summary": summary, "auth": auth, "body": body, "params": params or [],
                      "responses": responses or {}, "tags": tags}
        return fn

    return deco


def principal() -> Principal | None:
    """The API caller: a bearer token, or (for GET only) a signed-in browser session."""
    if "api_principal" in g:
        return g.api_principal
    from passport.core.accounts import principal_for_token

    p = None
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        p = principal_for_token(dbm.session, header[7:].strip())
        if p is not None:
            dbm.session.commit()  # last_used_at
    elif request.method in ("GET", "HEAD") and current_user.is_authenticated:
        p = Principal(person=current_user.person)
    g.api_principal = p
    return p


def require_auth(fn):
    """Reject unauthenticated calls with 401 and a JSON body."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        if principal() is None:
            return error_response(401, "unauthorized", "Send a valid API token as 'Authorization: Bearer <token>'.")
        return fn(*args, **kwargs)

    return wrapper


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_JSON_DEPTH:
        return level
    if isinstance(value, dict):
        return max([_depth(v, level + 1) for v in value.values()] or [level + 1])
    if isinstance(value, list):
        return max([_depth(v, level + 1) for v in value] or [level + 1])
    return level


def json_body() -> dict:
    """The request's JSON object, or an ApiError for a wrong content type, bad JSON or over-deep nesting."""
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, "bad_encoding", "The body must be UTF-8 text.") from None
    except (ValueError, RecursionError):
        raise ApiError(400, "malformed_json", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "malformed_json", "The body must be a JSON object.")
    if _depth(data) > MAX_JSON_DEPTH:
        raise ApiError(400, "too_deep", "The JSON body is nested too deeply.")
    return data


def _is_api_request() -> bool:
    return request.path.startswith(PREFIX + "/") or request.path == PREFIX


@bp.get("/health")
@api_doc("Liveness: the process answers (touches nothing else)", auth=False)
def api_health():
    return jsonify({"status": "ok"})


@bp.get("/openapi.json")
@api_doc("This OpenAPI 3.1 document", auth=False)
def openapi():
    return jsonify(build_openapi(current_app))


def build_openapi(app: Flask) -> dict:
    paths: dict[str, dict] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX):
            continue
        view = app.view_functions[rule.endpoint]
        meta = getattr(view, "openapi", None)
        if meta is None:
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-zA-Z_]+)>", r"{\1}", rule.rule[len(PREFIX):]) or "/"
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {"summary": meta["summary"], "operationId": f"{rule.endpoint}.{method.lower()}",
                                  "responses": {"200": {"description": "Success"}}}
            for code, text in meta["responses"].items():
                op["responses"][str(code)] = {"description": text}
            op["responses"].setdefault("400", {"description": "Bad request", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
            if meta["auth"]:
                op["security"] = [{"bearer": []}]
                op["responses"]["401"] = {"description": "No or bad token"}
                op["responses"]["403"] = {"description": "Not allowed for this organisation or role"}
            else:
                op["security"] = []
            if meta["tags"]:
                op["tags"] = meta["tags"]
            params = [{"name": a, "in": "path", "required": True, "schema": {
                "type": "integer" if rule._converters.get(a).__class__.__name__ == "IntegerConverter" else "string"}}
                for a in rule.arguments]
            params += meta["params"]
            if params:
                op["parameters"] = params
            if meta["body"] and method in ("POST", "PUT", "PATCH"):
                op["requestBody"] = {"required": True, "content": {"application/json": {"schema": meta["body"]}}}
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Care training passport API", "version": "1.0.0",
                 "description": "JSON API. Errors are {error, message, fields}."},
        "servers": [{"url": app.config["PUBLIC_URL"] + PREFIX}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "required": ["error", "message", "fields"], "properties": {
                "error": {"type": "string"}, "message": {"type": "string"}, "fields": {"type": "object"}}}},
        },
    }


def init_app(app: Flask) -> None:
    from passport.core.auth import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError):
        dbm.session.rollback()
        if _is_api_request():
            return error_response(exc.status, exc.code, exc.message, exc.fields)
        from flask import render_template

        return render_template("error.html", status=exc.status, message=exc.message), exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if _is_api_request():
            code = (exc.name or "error").lower().replace(" ", "_")
            return error_response(exc.code or 500, code, exc.description or exc.name)
        from flask import render_template

        return render_template("error.html", status=exc.code, message=exc.description), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        dbm.session.rollback()
        app.logger.exception("Unhandled error")
        if _is_api_request():
            return error_response(500, "internal_error", "Something went wrong on our side.")
        from flask import render_template

        return render_template("error.html", status=500, message="Something went wrong on our side."), 500


def finalise(app: Flask) -> None:
    """Called after plugins load: exempt every API blueprint from CSRF (bearer auth, not cookies)."""
    from passport.core.auth import csrf

    for name, blueprint in app.blueprints.items():
        if blueprint.url_prefix and blueprint.url_prefix.startswith(PREFIX):
            csrf.exempt(blueprint)
