"""A lean WSGI path for the commonest verify API call: an anonymous ``POST /api/v1/verify`` whose body is
exactly ``{"token": "<string>"}``.

It runs the same service (``services.check``), the same per-client rate limit (the app's Flask-Limiter
storage and strategy, same key) and the same batched check log as the Flask view, and answers with the
same JSON and the same headers (captured once from the app's own response hooks). What it skips is
Flask's per-request machinery, which on this endpoint cost more than the verification itself. Anything
else -- images, API tokens, malformed or unusual bodies, oversized or chunked requests, errors -- goes to
the normal Flask view (``passport.verify.api``), which stays the reference implementation.
"""
from __future__ import annotations

import io

from flask import Flask

PATH = "/api/v1/verify"


class VerifyFastPath:
    def __init__(self, wsgi_app, app: Flask):
        self.wsgi_app, self.app = wsgi_app, app
        self._headers: dict[str, list[tuple[str, str]]] = {}

    def __call__(self, environ, start_response):
        if (environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST"
                or not self.app.config.get("VERIFY_FAST_PATH", True) or "HTTP_AUTHORIZATION" in environ
                or environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower() != "application/json"):
            return self.wsgi_app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            length = -1
        if not 0 < length <= self.app.config["VERIFY_MAX_JSON_BYTES"]:
            return self.wsgi_app(environ, start_response)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # the Flask view can still read it
        token = _token(body)
        if token is None:
            return self.wsgi_app(environ, start_response)
        answer = self._verify(environ, token)
        if answer is None:
            return self.wsgi_app(environ, start_response)
        status, payload = answer
        data = payload.encode("utf-8")
        start_response(status, self._headers_for(environ) + [("Content-Type", "application/json"),
                                                              ("Content-Length", str(len(data)))])
        return [data]

    def _verify(self, environ, token: str):
        from passport import db as dbm
        from passport.api import error_response
        from passport.verify import cache, services, settings
        from passport.verify.api import rate_limit_key_ok
        from passport.verify.checklog import writer_for

        app = self.app
        addr = environ.get("REMOTE_ADDR") or ""
        with app.app_context():
            try:
                limit = rate_limit_key_ok("addr:" + addr)
                if limit is not None:
                    resp = error_response(429, "too_many_requests", limit)
                    return "429 TOO MANY REQUESTS", resp.get_data(as_text=True)
                s = settings(app)
                background = app.config["VERIFY_CHECK_LOG"] == "background" or cache.database_down(dbm.session, s)
                result = services.check(dbm.session, s, token, channel="api", client_addr=addr,
                                        sink=writer_for(app) if background else None)
                if dbm.session().in_transaction():
                    dbm.session.commit()  # a refreshed status mirror, or the check row in "request" mode
                return "200 OK", self._json(result.to_json())
            except Exception:  # let the Flask view handle (and report) anything unexpected
                dbm.session.rollback()
                app.logger.exception("verify fast path failed; falling back to the Flask view")
                return None

    def _json(self, body: dict) -> str:
        """Exactly what ``flask.jsonify`` would send (the app's JSON provider, compact unless debugging)."""
        if self.app.debug:
            return self.app.json.response(body).get_data(as_text=True)
        return self.app.json.dumps(body, separators=(",", ":")) + "\n"

    def _headers_for(self, environ) -> list[tuple[str, str]]:
        """The headers the Flask view's response gets from the app's hooks (CORS, security headers),
        captured once per URL scheme by running those hooks on an empty response."""
        scheme = environ.get("wsgi.url_scheme", "http")
        if scheme not in self._headers:
            app = self.app
            with app.test_request_context(PATH, method="POST", base_url=f"{scheme}://localhost"):
                resp = app.process_response(app.response_class(""))
            self._headers[scheme] = [(k, v) for k, v in resp.headers.items()
                                     if k.lower() not in ("content-type", "content-length", "set-cookie", "vary")]
        return self._headers[scheme]


def _token(body: bytes) -> str | None:
    """The token when the body is exactly {"token": "<string>"} and valid for the view's documented schema,
    else None (the Flask view decides, and answers any error). Parsed by the API's one JSON parser."""
    from passport.api import ApiError, body_errors, parse_json
    from passport.verify.api import TOKEN_BODY

    try:
        data = parse_json(body)
    except ApiError:
        return None
    if type(data) is dict and len(data) == 1 and type(data.get("token")) is str and not body_errors(data, TOKEN_BODY):
        return data["token"]
    return None


def install(app: Flask) -> None:
    """Wrap the app's WSGI callable -- inside ProxyFix when the app is behind proxies, so the fast path
    sees the real client address and scheme, as the view does."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    if isinstance(app.wsgi_app, ProxyFix):
        app.wsgi_app.app = VerifyFastPath(app.wsgi_app.app, app)
    else:
        app.wsgi_app = VerifyFastPath(app.wsgi_app, app)
