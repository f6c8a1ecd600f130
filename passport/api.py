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
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from passport import db as dbm
from passport.core.access import Principal
from passport.errors import ServiceError
from passport.params import DB_INT_MAX

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)
MAX_JSON_DEPTH = 20
MAX_INT, MIN_INT = DB_INT_MAX, -DB_INT_MAX - 1  # whole numbers in a body must fit an INTEGER column


class ApiError(ServiceError):
    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message, fields)
        self.status, self.code = status, code


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    resp = jsonify({"error": code, "message": message, "fields": fields or {}})
    resp.status_code = status
    return resp


def api_doc(summary: str, *, auth: bool = True, body: dict | None = None, params: list[dict] | None = None,
            responses: dict[str, str | dict] | None = None, tags: list[str] | None = None,
            upload: str | None = None) -> Callable:
    """Describe a view in the OpenAPI document, and hold its callers to that description.

    ``body`` is the JSON Schema of the request body: :func:`json_body` refuses a body that does not match
    it. ``upload`` instead names the media type of a raw (non-JSON) body, such as ``text/csv``.
    ``params`` are OpenAPI parameter objects: query parameters are checked against their schemas
    before the view runs. With ``auth`` (the default) a call without a valid token is answered 401 first.
    ``responses`` adds the view's own status codes; the common error codes are documented for every
    operation by :func:`build_openapi`, so views do not repeat them. A malformed input is always a 400.
    """

    def deco(fn):
        meta = {"summary": summary, "auth": auth, "body": body, "params": params or [],
                "responses": responses or {}, "tags": tags, "upload": upload}

        @wraps(fn)
        def wrapper(*args, **kwargs):
            if meta["auth"] and principal() is None:
                return _unauthorized()
            _check_query(meta["params"])
            return fn(*args, **kwargs)

        wrapper.openapi = meta
        return wrapper

    return deco


def _validator(schema: dict) -> Draft202012Validator:
    key = id(schema)
    cached = _VALIDATORS.get(key)
    if cached is None or cached[0] is not schema:
        # ``format`` stays an annotation (as JSON Schema 2020-12 has it): dates and the like are parsed, with
        # their own field messages, by the code that reads them.
        cached = _VALIDATORS[key] = (schema, Draft202012Validator(schema))
    return cached[1]


_VALIDATORS: dict[int, tuple[dict, Draft202012Validator]] = {}
_QUERY_INT = re.compile(r"-?[0-9]{1,19}")
_QUERY_NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,15})?")


def _query_value(raw: str, schema: dict) -> Any:
    """A query string value typed as its schema says (so it can be checked); the raw text if it cannot be."""
    types = schema.get("type")
    types = [types] if isinstance(types, str) else (types or [])
    if not types and "enum" in schema:
        types = sorted({"integer" if isinstance(v, int) else "string" for v in schema["enum"]})
    if "integer" in types and _QUERY_INT.fullmatch(raw):
        return int(raw)
    if "number" in types and _QUERY_NUMBER.fullmatch(raw):
        return float(raw)
    if "boolean" in types and raw.lower() in ("true", "false", "1", "0"):
        return raw.lower() in ("true", "1")
    return raw


def _check_query(params: list[dict]) -> None:
    """Refuse query parameters that break their documented schema (400 naming each field)."""
    fields = {}
    for param in params:
        if param.get("in") != "query":
            continue
        name, schema = param["name"], param.get("schema") or {}
        values = request.args.getlist(name)
        if not values:
            if param.get("required"):
                fields[name] = "This is required."
            continue
        if len(values) > 1:
            fields[name] = "Give this once."
            continue
        if values[0] == "" and not param.get("required"):
            continue
        error = best_match(_validator(schema).iter_errors(_query_value(values[0], schema)))
        if error is not None:
            fields[name] = _describe(error)
    if fields:
        raise ApiError(400, "validation_error", "Some query parameters are not valid: " + ", ".join(sorted(fields))
                       + ".", fields)


def _describe(error) -> str:
    """Plain words for a JSON Schema error."""
    v, kind = error.validator_value, error.validator
    if kind == "maxLength":
        return f"Use at most {v} characters."
    if kind == "minLength":
        return f"Use at least {v} character{'s' if v != 1 else ''}."
    if kind == "maximum":
        return f"Give a number no more than {v}."
    if kind == "minimum":
        return f"Give a number of at least {v}."
    if kind == "enum":
        return "Give one of: " + ", ".join("null" if x is None else str(x) for x in v) + "."
    if kind == "type":
        wanted = v if isinstance(v, str) else " or ".join(v)
        return f"Give a{'n' if wanted[0] in 'aeiou' else ''} {wanted}."
    if kind in ("maxItems", "minItems"):
        return f"Give {'at most' if kind == 'maxItems' else 'at least'} {v} item{'s' if v != 1 else ''}."
    if kind == "required":
        return "This is required."
    if kind == "additionalProperties":
        return "Unexpected field."
    return error.message[:200]


def body_errors(data: dict, schema: dict) -> dict[str, str]:
    fields: dict[str, str] = {}
    for error in _validator(schema).iter_errors(data):
        path = [str(x) for x in error.absolute_path]
        if error.validator == "required":
            missing = [n for n in error.validator_value if isinstance(error.instance, dict) and n not in error.instance]
            for name in missing:
                fields.setdefault(".".join(path + [name]), "This is required.")
            continue
        fields.setdefault(".".join(path) or "body", _describe(error))
    return fields


def _unauthorized():
    return error_response(401, "unauthorized", "Send a valid API token as 'Authorization: Bearer <token>'.")


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
            return _unauthorized()
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


class _BadJson(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    """``object_pairs_hook``: an object that names a key twice is refused, never resolved silently."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _v in pairs if k in seen or seen.add(k))
        raise _BadJson("duplicate_key", f"The JSON body names '{dup[:100]}' more than once.")
    return out


def _big_numbers(value: Any, path: tuple = ()) -> dict[str, str]:
    """Where whole numbers in a parsed body do not fit the database's INTEGER columns, by field path."""
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in _big_numbers(item, path + (key,)).items()}
    if isinstance(value, list):
        return {k: v for n, item in enumerate(value) for k, v in _big_numbers(item, path + (n,)).items()}
    if isinstance(value, int) and not MIN_INT <= value <= MAX_INT:
        return {".".join(map(str, path)) or "body": f"Too large: use a whole number from {MIN_INT} to {MAX_INT}."}
    return {}


def _no_constant(text: str):
    raise _BadJson("malformed_json", f"{text} is not valid JSON.")


def parse_json(raw: bytes) -> Any:
    """Parse a JSON request body: UTF-8, no duplicate keys, no NaN/Infinity, nesting at most
    ``MAX_JSON_DEPTH`` deep, whole numbers that fit an INTEGER column (else a field error naming where). The one JSON parser for request bodies; raises ApiError (400)."""
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise ApiError(400, "bad_encoding", "The body must be UTF-8 text.") from None
    except _BadJson as exc:
        raise ApiError(400, exc.code, exc.message) from None
    except (ValueError, RecursionError):
        raise ApiError(400, "malformed_json", "The body is not valid JSON.") from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise ApiError(400, "too_deep", "The JSON body is nested too deeply.")
    if fields := _big_numbers(data):
        raise ApiError(400, "number_out_of_range", "A whole number in the body is too large.", fields)
    return data


def json_body() -> dict:
    """The request's JSON object, checked against the body schema the view documents with ``api_doc``.

    Raises ApiError: 415 for a wrong content type, 400 for bad JSON, over-deep nesting, a duplicated key,
    an out-of-range number, or a body that breaks the documented schema (with a message per field)."""
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    data = parse_json(request.get_data(cache=True))
    if not isinstance(data, dict):
        raise ApiError(400, "malformed_json", "The body must be a JSON object.")
    meta = getattr(current_app.view_functions.get(request.endpoint or ""), "openapi", None)
    if meta and meta["body"]:
        fields = body_errors(data, meta["body"])
        if fields:
            raise ApiError(400, "validation_error", "The body does not match the schema: "
                           + ", ".join(sorted(fields)[:10]) + ".", fields)
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


# The error answers every operation documents, each from one place. Which of them an operation lists
# follows from what it does (see ``_error_codes``); ``api_doc(responses=...)`` adds or rewords any.
ERROR_RESPONSES = {
    "400": ("BadRequest", "Malformed or invalid input: the fields object names each problem"),
    "401": ("Unauthorized", "No token, or a token that is unknown, revoked or expired"),
    "403": ("Forbidden", "Not allowed for this organisation or role"),
    "404": ("NotFound", "No such item, or an id out of range"),
    "409": ("Conflict", "Conflicts with the current state"),
    "413": ("PayloadTooLarge", "The request body is too large"),
    "415": ("UnsupportedMediaType", "Wrong content type for the body"),
    "422": ("Unprocessable", "The content was read but has problems; nothing was saved"),
    "429": ("TooManyRequests", "Too many requests from this client; wait and try again"),
}
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _error_codes(rule, method: str, meta: dict) -> list[str]:
    """The error statuses an operation can answer: every operation may get malformed input (400); a
    signed-in one 401 and 403; one that names anything (path, query or body) 404; a write 409 and 413;
    one with a body 415."""
    codes = ["400"]
    if meta["auth"]:
        codes += ["401", "403"]
    if rule.arguments or meta["params"] or meta["body"]:
        codes.append("404")
    if method in WRITE_METHODS:
        codes += ["409", "413"]
        if meta["body"] or meta["upload"]:
            codes.append("415")
    return codes


def _path_schema(rule, name: str) -> dict:
    from passport.params import ID_SCHEMA, IdConverter

    return dict(ID_SCHEMA) if isinstance(rule._converters.get(name), IdConverter) else {"type": "string"}


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
            for code in _error_codes(rule, method, meta):
                op["responses"][code] = {"$ref": f"#/components/responses/{ERROR_RESPONSES[code][0]}"}
            for code, text in meta["responses"].items():
                code = str(code)
                if isinstance(text, dict):  # a whole response object, e.g. a body that is not an Error
                    op["responses"][code] = text
                elif code in ERROR_RESPONSES:
                    op["responses"][code] = {"description": text, "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                else:
                    op["responses"][code] = {"description": text}
            op["security"] = [{"bearer": []}] if meta["auth"] else []
            if meta["tags"]:
                op["tags"] = meta["tags"]
            params = [{"name": a, "in": "path", "required": True, "schema": _path_schema(rule, a)}
                      for a in rule.arguments]
            params += meta["params"]
            if params:
                op["parameters"] = params
            if meta["body"] and method in ("POST", "PUT", "PATCH"):
                op["requestBody"] = {"required": True, "content": {"application/json": {"schema": meta["body"]}}}
            elif meta["upload"] and method in ("POST", "PUT", "PATCH"):
                op["requestBody"] = {"required": True, "content": {meta["upload"]: {"schema": {"type": "string"}}}}
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
            "responses": {name: {"description": text, "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                for name, text in ERROR_RESPONSES.values()},
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
            resp = error_response(exc.code or 500, code, exc.description or exc.name)
            for name, value in exc.get_headers():  # e.g. Allow on a 405, Retry-After on a 429
                if name.lower() != "content-type":
                    resp.headers[name] = value
            return resp
        from flask import render_template

        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        return render_template("error.html", status=exc.code, message=exc.description), exc.code, headers

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
