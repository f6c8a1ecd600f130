"""Trust data for verifiers (pure, no Flask): trusted issuers with their keys, status lists, trust bundles.

The same shapes serve the server (built from the database), the CLI and tests (built from a signed
trust bundle). Formats are in docs/token-format.md.
"""
from __future__ import annotations

import gzip
import io
import json
import time
from dataclasses import dataclass, field
from typing import Callable

from cryptography.hazmat.primitives.asymmetric import ec

from passport.verify import jose
from passport.verify.jose import JoseError

KEY_STATUSES = ("active", "retired", "compromised")
STATUS_PURPOSES = ("revocation", "suspension", "refresh")
MIN_LIST_ENTRIES = 131_072
MAX_LIST_BYTES = 1 << 20           # a decompressed status list over 1 MiB is refused (zip-bomb guard)
MAX_JWS_CHARS = 512 * 1024         # status lists and bundles are a few tens of KB
BUNDLE_LIFETIME = 7 * 24 * 3600
# Trust bundle format version (docs/token-format.md). 1: endorsers only scheme-wide (``scheme.endorsers``);
# 2: each issuer lists its own ``endorsers``. Version 1 bundles are still read: their scheme-wide
# endorsers belong to the bundle's own issuer only, and every other issuer has none.
BUNDLE_VERSION = 2
MAX_ENDORSERS = 20
MAX_ENDORSER_CHARS = 200


@dataclass(frozen=True)
class TrustedKey:
    kid: str
    key: ec.EllipticCurvePublicKey = field(repr=False)
    status: str = "active"
    nbf: int | None = None
    exp: int | None = None
    jwk: dict = field(default_factory=dict, repr=False, compare=False)


@dataclass
class TrustedIssuer:
    iss: str
    name: str
    keys: dict[str, TrustedKey]
    status_base: str
    as_of: int | None = None  # unix time the keys were obtained (None: live, this deployment)
    own: bool = False
    # The organisations that endorse *this issuer's* passports, from our trust data (never from a token).
    endorsers: list[str] = field(default_factory=list)
    # Their logos, from our trust data: {endorser name: {"sha256": hex digest, "url": where to fetch it}}.
    logos: dict[str, dict] = field(default_factory=dict)


@dataclass
class TrustStore:
    issuers: dict[str, TrustedIssuer]
    scheme_name: str = ""
    endorsers: list[str] = field(default_factory=list)  # this scheme's own partners (for its own issuer)
    as_of: int | None = None  # unix time of the trust data (bundle iat); None: live from our database
    expires_at: int | None = None
    source: str = "database"

    def issuer(self, iss: str) -> TrustedIssuer | None:
        return self.issuers.get(iss)


class StatusUnavailable(Exception):
    """The status list could not be obtained (offline, issuer down, never fetched)."""


@dataclass(frozen=True)
class StatusSnapshot:
    """One decoded status list: its bits and when the issuer produced it / when it goes stale."""

    bits: bytes = field(repr=False)
    issued_at: int
    expires_at: int

    def bit(self, index: int) -> bool | None:
        if not 0 <= index < len(self.bits) * 8:
            return None
        return bool(self.bits[index >> 3] & (0x80 >> (index & 7)))


StatusSource = Callable[[TrustedIssuer, int, str], StatusSnapshot]


def _int_or_none(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise JoseError("key times must be whole seconds")
    return value


def keys_from_jwks(jwks) -> dict[str, TrustedKey]:
    """The ES256 keys of a JWKS (``{"keys": [...]}`` or a list). Other key types (the RS256 key for
    Open Badges) are skipped; a key whose ``kid`` is not its RFC 7638 thumbprint is refused."""
    entries = jwks.get("keys") if isinstance(jwks, dict) else jwks
    if not isinstance(entries, list) or len(entries) > 100:
        raise JoseError("a key set must be a JSON object with a 'keys' list")
    keys: dict[str, TrustedKey] = {}
    for jwk in entries:
        if not isinstance(jwk, dict):
            raise JoseError("each key must be a JSON object")
        if jwk.get("kty") != "EC":
            if jose.PRIVATE_MEMBERS & set(jwk):
                raise JoseError("the key set contains private key material; paste only public keys")
            continue
        key = jose.public_key_from_jwk(jwk)
        kid = jose.thumbprint(jwk)
        if jwk.get("kid") != kid:
            raise JoseError("a key's 'kid' is not its RFC 7638 thumbprint")
        status = jwk.get("status", "active")
        if status not in KEY_STATUSES:
            raise JoseError(f"unknown key status {status!r}")
        public = {k: jwk[k] for k in ("kty", "crv", "x", "y", "use", "alg", "kid") if k in jwk}
        public.update(status=status, nbf=_int_or_none(jwk.get("nbf")), exp=_int_or_none(jwk.get("exp")))
        keys[kid] = TrustedKey(kid=kid, key=key, status=status, nbf=public["nbf"], exp=public["exp"], jwk=public)
    return keys


def split_jws(jws: str, max_chars: int = MAX_JWS_CHARS) -> tuple[dict, bytes, bytes, bytes]:
    """(header, payload bytes, signing input, signature) of a compact JWS, strictly decoded."""
    if not isinstance(jws, str) or len(jws) > max_chars:
        raise JoseError("too long or not text")
    parts = jws.strip().split(".")
    if len(parts) != 3:
        raise JoseError("not a compact JWS")
    header = jose.strict_json(jose.b64url_decode(parts[0]))
    if not isinstance(header, dict):
        raise JoseError("the header is not a JSON object")
    return header, jose.b64url_decode(parts[1]), f"{parts[0]}.{parts[1]}".encode("ascii"), jose.b64url_decode(parts[2])


def _verify_with(keys: dict[str, TrustedKey], header: dict, typ: str, signing_input: bytes, sig: bytes) -> TrustedKey:
    if set(header) != {"alg", "kid", "typ"} or header.get("alg") != "ES256" or header.get("typ") != typ:
        raise JoseError(f"the header is not the expected {typ} ES256 header")
    key = keys.get(header["kid"]) if isinstance(header["kid"], str) else None
    if key is None:
        raise JoseError("signed with an unknown key")
    if key.status == "compromised":
        raise JoseError("signed with a compromised key")
    if not jose.es256_verify(key.key, signing_input, sig):
        raise JoseError("the signature does not match")
    return key


def parse_status_list(jws: str, issuer: TrustedIssuer, purpose: str, list_id: int | None = None) -> StatusSnapshot:
    """Verify a status-list credential signed by ``issuer`` and decode its bitstring."""
    header, payload, signing_input, sig = split_jws(jws)
    _verify_with(issuer.keys, header, "statuslist+jwt", signing_input, sig)
    claims = jose.strict_json(payload)
    if not isinstance(claims, dict) or claims.get("iss") != issuer.iss:
        raise JoseError("the status list is not from this issuer")
    subject = claims.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("statusPurpose") != purpose:
        raise JoseError("the status list has the wrong purpose")
    if list_id is not None and not str(claims.get("id", "")).endswith(f"/{list_id}/{purpose}"):
        raise JoseError("the status list is not the one asked for")
    iat, exp = _int_or_none(claims.get("iat")), _int_or_none(claims.get("exp"))
    encoded = subject.get("encodedList")
    if iat is None or exp is None or not isinstance(encoded, str) or not encoded.startswith("u"):
        raise JoseError("the status list is incomplete")
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(jose.b64url_decode(encoded[1:]))) as gz:
            bits = gz.read(MAX_LIST_BYTES + 1)
    except (OSError, EOFError, ValueError):
        raise JoseError("the status list bitstring is damaged") from None
    if len(bits) > MAX_LIST_BYTES or len(bits) * 8 < MIN_LIST_ENTRIES:
        raise JoseError("the status list has the wrong size")
    return StatusSnapshot(bits=bits, issued_at=iat, expires_at=exp)


def encode_bits(bits: bytes) -> str:
    """``u`` + base64url(gzip(bits)): the W3C multibase encodedList."""
    return "u" + jose.b64url_encode(gzip.compress(bits, mtime=0))


def issuer_entry(issuer: TrustedIssuer) -> dict:
    """An issuer as listed in a trust bundle."""
    return {"iss": issuer.iss, "name": issuer.name, "keys": [k.jwk for k in issuer.keys.values()],
            "status_base": issuer.status_base, "endorsers": [_endorser_entry(issuer, n) for n in issuer.endorsers]}


def _endorser_entry(issuer: TrustedIssuer, name: str) -> dict:
    logo = issuer.logos.get(name)
    return {"name": name, "logo": {"sha256": logo["sha256"], "url": logo["url"]}} if logo else {"name": name}


def logos_from_entry(value) -> dict[str, dict]:
    """The ``logo`` members ({"sha256", "url"}) of a bundle issuer's endorsers, by endorser name. A logo
    that is malformed is left out (the endorser is still shown, by name); readers without logo support
    ignore the member."""
    out = {}
    for item in value if isinstance(value, list) else []:
        logo = item.get("logo") if isinstance(item, dict) else None
        if not isinstance(logo, dict) or not isinstance(item.get("name"), str):
            continue
        sha, url = logo.get("sha256"), logo.get("url")
        if isinstance(sha, str) and len(sha) == 64 and all(c in "0123456789abcdef" for c in sha) and \
                isinstance(url, str) and url.startswith(("https://", "http://")) and len(url) <= 500:
            out[item["name"].strip()] = {"sha256": sha, "url": url}
    return out


def endorsers_from_entry(value) -> list[str]:
    """The ``endorsers`` of a bundle issuer entry: a list of ``{"name": ...}``. JoseError if malformed."""
    if not isinstance(value, list) or len(value) > MAX_ENDORSERS:
        raise JoseError("a trust bundle issuer's endorsers are malformed")
    names = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_ENDORSER_CHARS:
            raise JoseError("a trust bundle endorser has no usable name")
        names.append(name.strip())
    return names


def bundle_payload(store: TrustStore, bundle_iss: str, scheme: dict, now: int | None = None) -> dict:
    now = int(time.time()) if now is None else now
    return {"v": BUNDLE_VERSION, "iss": bundle_iss, "iat": now, "exp": now + BUNDLE_LIFETIME, "scheme": scheme,
            "issuers": [issuer_entry(i) for i in sorted(store.issuers.values(), key=lambda i: i.iss)]}


def sign_bundle(private_key: ec.EllipticCurvePrivateKey, kid: str, payload: dict) -> str:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return jose.compact_sign(private_key, {"alg": "ES256", "kid": kid, "typ": "ccp-trust+jwt"}, body)


def parse_bundle(jws: str, trust_keys: dict[str, TrustedKey]) -> TrustStore:
    """Verify a trust bundle against the pinned scheme trust key(s) and return its trust store.
    An expired bundle is still returned (``expires_at`` in the past): callers say how old it is."""
    header, payload, signing_input, sig = split_jws(jws)
    _verify_with(trust_keys, header, "ccp-trust+jwt", signing_input, sig)
    claims = jose.strict_json(payload)
    if not isinstance(claims, dict) or not isinstance(claims.get("issuers"), list):
        raise JoseError("the trust bundle has no issuer list")
    iat, exp = _int_or_none(claims.get("iat")), _int_or_none(claims.get("exp"))
    version = claims.get("v", 1)
    if version not in (1, BUNDLE_VERSION) or isinstance(version, bool):
        raise JoseError(f"the trust bundle is in format version {str(version)[:10]}, which this verifier does not know")
    scheme = claims.get("scheme") if isinstance(claims.get("scheme"), dict) else {}
    endorsers = [str(e) for e in scheme.get("endorsers", []) if isinstance(e, str)]
    issuers = {}
    for entry in claims["issuers"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("iss"), str):
            raise JoseError("a trust bundle issuer entry is malformed")
        if version == 1:  # scheme-wide endorsers belong to the bundle's own issuer only
            own_endorsers = list(endorsers) if entry["iss"] == claims.get("iss") else []
        else:
            own_endorsers = endorsers_from_entry(entry.get("endorsers", []))
        issuers[entry["iss"]] = TrustedIssuer(
            iss=entry["iss"], name=str(entry.get("name") or entry["iss"]), keys=keys_from_jwks(entry.get("keys", [])),
            status_base=str(entry.get("status_base") or entry["iss"] + "/status"), as_of=iat,
            endorsers=own_endorsers, logos=logos_from_entry(entry.get("endorsers")) if version != 1 else {})
    return TrustStore(issuers=issuers, scheme_name=str(scheme.get("name", "")), endorsers=endorsers, as_of=iat,
                      expires_at=exp, source="bundle")
