"""Small, strict JOSE helpers for the CCP1 formats: base64url, P-256 JWKs, ES256 compact JWS.

Only ES256 exists here, on purpose: the algorithm is never read from a token to choose code, so there is
nothing to confuse (``none``, HS256-with-a-public-key and the like cannot even be expressed). Signatures
are the raw 64-byte ``r || s`` form that JWS and WebCrypto use; DER is refused.
No Flask in this module.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# By length mod 4: the bits of the last character that carry no data and must be zero (None: impossible).
_SPARE_BITS = {0: 0, 1: None, 2: 0b001111, 3: 0b000011}
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
P256_ORDER_BYTES = 32
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


class JoseError(ValueError):
    """Malformed encoding, key or signature; the message is safe to show."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url strictly: alphabet, length and canonical form (no spare bits set),
    so two different strings never decode to the same bytes."""
    if not isinstance(text, str) or not _B64URL.match(text):
        raise JoseError("not base64url")
    spare = _SPARE_BITS[len(text) % 4]
    if spare is None:
        raise JoseError("not base64url")
    if spare and _ALPHABET.index(text[-1]) & spare:
        raise JoseError("not canonical base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64_int(text, name: str) -> int:
    raw = b64url_decode(text) if isinstance(text, str) else None
    if raw is None or len(raw) != P256_ORDER_BYTES:
        raise JoseError(f"the key's '{name}' is not a 32-byte base64url value")
    return int.from_bytes(raw, "big")


def thumbprint(jwk: dict) -> str:
    """RFC 7638 SHA-256 thumbprint of an EC public JWK, base64url (the CCP1 ``kid``)."""
    canonical = json.dumps({"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"], "y": jwk["y"]},
                           separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode("ascii")).digest())


def public_key_from_jwk(jwk: dict) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from a JWK; refuses private members, other curves and points off the curve."""
    if not isinstance(jwk, dict):
        raise JoseError("a key must be a JSON object")
    leaked = PRIVATE_MEMBERS & set(jwk)
    if leaked:
        raise JoseError("the key contains private key material; paste only the public key set")
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise JoseError("only EC P-256 keys are used for passports")
    if jwk.get("alg", "ES256") != "ES256" or jwk.get("use", "sig") != "sig":
        raise JoseError("the key is not an ES256 signing key")
    x, y = _b64_int(jwk.get("x"), "x"), _b64_int(jwk.get("y"), "y")
    try:
        return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except ValueError:
        raise JoseError("the key's point is not on the P-256 curve") from None


def public_jwk(key: ec.EllipticCurvePublicKey, **extra) -> dict:
    """The public JWK (with ``kid`` = thumbprint) for a P-256 key."""
    nums = key.public_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "x": b64url_encode(nums.x.to_bytes(32, "big")),
           "y": b64url_encode(nums.y.to_bytes(32, "big"))}
    jwk.update({"use": "sig", "alg": "ES256", "kid": thumbprint(jwk)})
    jwk.update(extra)
    return jwk


def es256_verify(key: ec.EllipticCurvePublicKey, signing_input: bytes, signature: bytes) -> bool:
    """True when ``signature`` (raw r||s, 64 bytes) is a valid ES256 signature of ``signing_input``."""
    if len(signature) != 2 * P256_ORDER_BYTES:
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    try:
        key.verify(encode_dss_signature(r, s), signing_input, _ECDSA_SHA256)
    except (InvalidSignature, ValueError):
        return False
    return True


def es256_sign(private_key: ec.EllipticCurvePrivateKey, signing_input: bytes) -> bytes:
    r, s = decode_dss_signature(private_key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def compact_sign(private_key: ec.EllipticCurvePrivateKey, header: dict, payload: bytes) -> str:
    """A compact JWS over ``payload`` bytes with the given protected header (ES256)."""
    h = b64url_encode(json.dumps(header, separators=(",", ":")).encode("utf-8"))
    p = b64url_encode(payload)
    return f"{h}.{p}.{b64url_encode(es256_sign(private_key, f'{h}.{p}'.encode('ascii')))}"


def _no_dupes(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise JoseError(f"duplicate member {k!r}")
        obj[k] = v
    return obj


def _no_constants(name):
    raise JoseError(f"{name} is not allowed")


_STRICT = json.JSONDecoder(object_pairs_hook=_no_dupes, parse_constant=_no_constants)


def strict_json(raw: bytes | str):
    """Parse JSON refusing NaN/Infinity and duplicate object keys (two readers could disagree)."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return _STRICT.decode(text)
    except UnicodeDecodeError:
        raise JoseError("not UTF-8") from None
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, JoseError):
            raise
        raise JoseError("not valid JSON") from None
