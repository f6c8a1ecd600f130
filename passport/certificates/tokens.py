"""The CCP1 QR token (docs/token-format.md): building claims, signing, and reading a token unverified.

Signing is ES256 only, with the protected header exactly ``{"alg","kid","typ":"ccp+jwt","zip":"DEF"}``;
the payload is minified NFC JSON compressed with raw DEFLATE. Verification lives in the verify plugin.
"""
from __future__ import annotations

import base64
import binascii
import json
import secrets
import unicodedata
import zlib
from datetime import date, datetime

import jwt

from passport.certificates import keys as keyring, wire
from passport.certificates.models import SigningKey
from passport.errors import ValidationError

TOKEN_TYPE = "ccp+jwt"
PROFILE_VERSION = wire.VERSION  # what issuance writes; verifiers also read version 1
MAX_INFLATED = 64 * 1024
MAX_TOKEN_CHARS = 4096
MAX_COMPETENCIES = 8
LEVELS = ("observed", "supervised", "safe_unsupervised")


class TokenError(ValueError):
    """A token could not even be read (not a compact JWS, bad base64url/JSON, too large)."""


def new_jti() -> str:
    """16 base64url characters = 96 random bits, not derived from anything about the person."""
    return secrets.token_urlsafe(12)


def _nfc(value):
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    if isinstance(value, dict):
        return {k: _nfc(v) for k, v in value.items()}
    return value


def minify(claims: dict) -> bytes:
    return json.dumps(_nfc(claims), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    return c.compress(data) + c.flush()


def inflate(data: bytes, cap: int = MAX_INFLATED) -> bytes:
    """Raw DEFLATE with a size cap (zip-bomb guard)."""
    d = zlib.decompressobj(-15)
    try:
        out = d.decompress(data, cap)
    except zlib.error as exc:
        raise TokenError(f"payload does not inflate: {exc}") from None
    if d.unconsumed_tail or not d.eof:
        raise TokenError("payload is truncated or inflates to more than 64 KiB")
    return out


def build_claims(*, iss: str, jti: str, iat: int, exp: int, given_name: str, family_name: str,
                 framework: str | None, standards_mask: int, awarded_on: date | None,
                 competencies: list | None, status: tuple[int, int]) -> dict:
    """The version-1 claim set (still read by every verifier; issuance now writes version 2 with
    ``wire.claims_v2``). Holds only the name, the achievement facts, validity and the status pointer."""
    claims: dict = {"iss": iss, "jti": jti, "iat": int(iat), "exp": int(exp), "v": 1,
                    "n": {"g": given_name, "f": family_name}}
    if framework is not None:
        cc: dict = {"fw": framework, "s": int(standards_mask)}
        if awarded_on is not None:
            cc["d"] = awarded_on.isoformat()
        claims["cc"] = cc
    if competencies:
        if len(competencies) > MAX_COMPETENCIES:
            raise ValidationError(f"A passport holds at most {MAX_COMPETENCIES} competencies.")
        claims["dt"] = [[str(c[0]), str(c[1]), str(c[2])] for c in competencies]
    claims["st"] = [int(status[0]), int(status[1])]
    return claims


def sign_token(claims: dict, key: SigningKey, key_dir: str) -> str:
    """Sign ``claims`` with ``key`` (must be an ES256 passport key whose window covers ``iat``) and
    return the compact JWS. Version 2: header ``{"alg","kid","typ"}`` and the canonical JSON payload;
    version 1: header with ``"zip": "DEF"`` and the payload deflated. Never any other algorithm or header."""
    if key.alg != "ES256" or key.purpose != "passport":
        raise ValidationError("Passport tokens are signed only with an ES256 passport key.")
    if not keyring.key_window_ok(key, claims["iat"], leeway=0):
        raise keyring.KeyUnavailable("The signing key is not active at the token's issue time.")
    private = keyring.private_key_for(key, key_dir)
    if claims.get("v") == wire.VERSION:
        return jwt.api_jws.encode(wire.canonical(claims), private, algorithm="ES256",
                                  headers={"kid": key.kid, "typ": TOKEN_TYPE})
    return jwt.api_jws.encode(deflate(minify(claims)), private, algorithm="ES256",
                              headers={"kid": key.kid, "typ": TOKEN_TYPE, "zip": "DEF"})


def _b64decode(part: str) -> bytes:
    if not part or any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in part):
        raise TokenError("not base64url")
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("not base64url") from None


def peek_unverified(token: str) -> tuple[dict, dict]:
    """Read ``(header, claims)`` WITHOUT checking the signature (to find ``iss``/``kid`` before
    verifying, or to show an issuer's own stored token). Raises TokenError for anything unreadable."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        raise TokenError("not a token, or too long")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise TokenError("not a compact JWS")
    try:
        header = json.loads(_b64decode(parts[0]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise TokenError("header is not JSON") from None
    if not isinstance(header, dict):
        raise TokenError("header is not a JSON object")
    raw = _b64decode(parts[1])
    if header.get("zip") == "DEF":
        raw = inflate(raw)
    try:
        claims = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise TokenError("payload is not JSON") from None
    if not isinstance(claims, dict):
        raise TokenError("payload is not a JSON object")
    return header, claims


def epoch(value: datetime) -> int:
    return int(value.timestamp())
