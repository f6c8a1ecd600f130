"""Fetching another issuer's public files (JWKS, status lists) over HTTP(S), defensively.

Only URLs a scheme admin configured are ever fetched (never a URL from a token). No redirects are
followed, bodies are capped, and plain http is allowed only outside production or to the loopback
interface (the two-instance test).
"""
from __future__ import annotations

import ipaddress
import urllib.error
import urllib.request
from urllib.parse import urlsplit

MAX_BYTES = 1 << 20


class FetchError(Exception):
    """The file could not be fetched; the message says why in plain words."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise FetchError(f"the server redirected to {newurl[:100]}; use the final address")


_opener = urllib.request.build_opener(_NoRedirect)


def check_url(url: str, allow_http: bool) -> str:
    """Normalise an issuer URL (no trailing slash) or raise FetchError saying what is wrong."""
    url = (url or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        raise FetchError("enter the issuer's address, like https://passport.example.org")
    if parts.username or parts.password:
        raise FetchError("the address must not contain a user name or password")
    if parts.scheme == "http" and not allow_http and not _loopback(parts.hostname):
        raise FetchError("the address must start with https://")
    if len(url) > 255:
        raise FetchError("the address is too long")
    return url


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def get(url: str, timeout: float = 5.0, max_bytes: int = MAX_BYTES) -> bytes:
    """GET ``url`` and return the body, or raise FetchError."""
    req = urllib.request.Request(url, headers={"User-Agent": "care-passport-verifier/1",
                                               "Accept": "application/json, application/jwt, */*"})
    try:
        with _opener.open(req, timeout=timeout) as resp:
            body = resp.read(max_bytes + 1)
    except FetchError:
        raise
    except urllib.error.HTTPError as exc:
        raise FetchError(f"the server answered {exc.code} for {url}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"could not reach {url} ({reason})") from None
    if len(body) > max_bytes:
        raise FetchError(f"the file at {url} is too large")
    return body
