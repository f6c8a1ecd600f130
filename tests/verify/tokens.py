"""Test helpers: sign CCP1 tokens and status lists with keys made in the test (docs/token-format.md)."""
from __future__ import annotations

import json
import secrets
import time
import zlib

from cryptography.hazmat.primitives.asymmetric import ec

from passport.verify import jose
from passport.verify.trustdata import (
    MIN_LIST_ENTRIES, StatusSnapshot, StatusUnavailable, TrustedIssuer, TrustStore, encode_bits, keys_from_jwks,
)

ISS = "https://issuer.test"


class SigningIssuer:
    """An issuer with its own P-256 key(s), able to sign passports and status lists."""

    def __init__(self, iss: str = ISS, name: str = "Test Issuer"):
        self.iss, self.name = iss, name
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.kid = jose.public_jwk(self.private.public_key())["kid"]
        self.key_meta = {"status": "active", "nbf": int(time.time()) - 86400 * 365 * 5, "exp": None}
        self.bits = {p: bytearray(MIN_LIST_ENTRIES // 8) for p in ("revocation", "suspension", "refresh")}

    def jwk(self) -> dict:
        return jose.public_jwk(self.private.public_key(), **self.key_meta)

    def jwks(self) -> dict:
        return {"keys": [self.jwk()]}

    def trusted(self, as_of: int | None = None, endorsers=()) -> TrustedIssuer:
        return TrustedIssuer(iss=self.iss, name=self.name, keys=keys_from_jwks(self.jwks()),
                             status_base=self.iss + "/status", as_of=as_of, endorsers=list(endorsers))

    def store(self, endorsers=("Wessex Valley NHS Foundation Trust",)) -> TrustStore:
        """A verifier's trust store in which this issuer is the scheme's own, endorsed by ``endorsers``."""
        return TrustStore(issuers={self.iss: self.trusted(endorsers=endorsers)}, scheme_name="Test scheme",
                          endorsers=list(endorsers))

    def claims(self, **over) -> dict:
        now = int(time.time())
        c = {"iss": self.iss, "jti": jose.b64url_encode(secrets.token_bytes(12)), "iat": now - 60,
             "exp": now + 3 * 365 * 86400, "v": 1, "n": {"g": "Amelia", "f": "Okonkwo-Richardson"},
             "cc": {"fw": "2025", "s": 65535, "d": "2025-12-01"},
             "dt": [["insulin_pen", "safe_unsupervised", "2027-03-01"]], "st": [1, secrets.randbelow(MIN_LIST_ENTRIES)]}
        c.update(over)
        return {k: v for k, v in c.items() if v is not None}

    def sign(self, claims: dict | None = None, header: dict | None = None, raw_payload: bytes | None = None,
             private=None) -> str:
        claims = self.claims() if claims is None else claims
        header = header or {"alg": "ES256", "kid": self.kid, "typ": "ccp+jwt", "zip": "DEF"}
        payload = raw_payload
        if payload is None:
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            payload = c.compress(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode()) + c.flush()
        return jose.compact_sign(private or self.private, header, payload)

    def set_bit(self, purpose: str, index: int, on: bool = True) -> None:
        byte, mask = index >> 3, 0x80 >> (index & 7)
        self.bits[purpose][byte] = (self.bits[purpose][byte] | mask) if on else (self.bits[purpose][byte] & ~mask)

    def status_jwt(self, list_id: int, purpose: str, iat: int | None = None, ttl: int = 6 * 3600) -> str:
        iat = int(time.time()) if iat is None else iat
        url = f"{self.iss}/status/{list_id}/{purpose}"
        payload = {"iss": self.iss, "iat": iat, "exp": iat + ttl, "ttl": ttl * 1000,
                   "@context": ["https://www.w3.org/ns/credentials/v2"],
                   "type": ["VerifiableCredential", "BitstringStatusListCredential"], "id": url,
                   "credentialSubject": {"id": url + "#list", "type": "BitstringStatusList", "statusPurpose": purpose,
                                         "encodedList": encode_bits(bytes(self.bits[purpose]))}}
        return jose.compact_sign(self.private, {"alg": "ES256", "kid": self.kid, "typ": "statuslist+jwt"},
                                 json.dumps(payload, separators=(",", ":")).encode())

    def status_source(self, iat: int | None = None, ttl: int = 6 * 3600, unavailable: bool = False):
        def source(issuer, list_id, purpose):
            if unavailable:
                raise StatusUnavailable("offline")
            now = int(time.time()) if iat is None else iat
            return StatusSnapshot(bits=bytes(self.bits[purpose]), issued_at=now, expires_at=now + ttl)

        return source


def _b64(obj) -> str:
    return jose.b64url_encode(json.dumps(obj, separators=(",", ":")).encode())


def _flip(s: str, i: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    c = s[i]
    return s[:i] + alphabet[(alphabet.index(c) + 1) % 64] + s[i + 1:]


def negative_cases(issuer: SigningIssuer) -> list[tuple[str, object, str]]:
    """(name, input, expected state) for the token-level items of the negative list; every case
    assumes a verifier that trusts ``issuer`` (and nobody else) with its status lists all clear.
    Leeway boundaries are 60 s either side of the 300 s leeway, so use the cases within a minute."""
    import hashlib
    import hmac

    from cryptography.hazmat.primitives import serialization

    good = issuer.sign()
    h, p, s = good.split(".")
    now = int(time.time())
    std = {"alg": "ES256", "kid": issuer.kid, "typ": "ccp+jwt", "zip": "DEF"}
    pem = issuer.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    hs_input = f"{_b64({**std, 'alg': 'HS256'})}.{p}"
    hs256 = hs_input + "." + jose.b64url_encode(hmac.new(pem, hs_input.encode(), hashlib.sha256).digest())
    der = issuer.private.sign(f"{h}.{p}".encode(), ec.ECDSA(__import__("cryptography.hazmat.primitives.hashes",
                                                                       fromlist=["SHA256"]).SHA256()))
    other = SigningIssuer("https://stranger.test", "Stranger")
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb_payload = bomb.compress(b'{"a":"' + b"A" * (200 * 1024) + b'"}') + bomb.flush()
    deep = zlib.compressobj(9, zlib.DEFLATED, -15)
    deep_payload = deep.compress(b"[" * 5000 + b"]" * 5000) + deep.flush()
    cases = [
        ("alg none", f"{_b64({**std, 'alg': 'none'})}.{p}.", "invalid"),
        ("alg none with signature", f"{_b64({**std, 'alg': 'none'})}.{p}.{s}", "invalid"),
        ("HS256 signed with the public key", hs256, "invalid"),
        ("ES384 header", issuer.sign(header={**std, "alg": "ES384"}), "invalid"),
        ("RS256 header", issuer.sign(header={**std, "alg": "RS256"}), "invalid"),
        ("unknown kid", issuer.sign(header={**std, "kid": "A" * 43}), "invalid"),
        ("kid path traversal", issuer.sign(header={**std, "kid": "../../etc/passwd"}), "invalid"),
        ("kid SQL injection", issuer.sign(header={**std, "kid": "' OR 1=1--"}), "invalid"),
        ("kid URL", issuer.sign(header={**std, "kid": "https://evil.test/jwks"}), "invalid"),
        ("embedded jwk", issuer.sign(header={**std, "jwk": issuer.jwk()}), "invalid"),
        ("jku header", issuer.sign(header={**std, "jku": "https://evil.test/jwks.json"}), "invalid"),
        ("x5u header", issuer.sign(header={**std, "x5u": "https://evil.test/cert.pem"}), "invalid"),
        ("x5c header", issuer.sign(header={**std, "x5c": ["MIIB"]}), "invalid"),
        ("crit header", issuer.sign(header={**std, "crit": ["exp"]}), "invalid"),
        ("wrong typ", issuer.sign(header={**std, "typ": "JWT"}), "invalid"),
        ("no zip", issuer.sign(header={k: v for k, v in std.items() if k != "zip"}), "invalid"),
        ("header tampered (members reordered)", f"{_b64(dict(reversed(list(std.items()))))}.{p}.{s}", "invalid"),
        ("payload tampered", f"{h}.{issuer.sign(issuer.claims(n={'g': 'Mallory', 'f': 'Forger'})).split('.')[1]}.{s}",
         "invalid"),
        ("signature stripped", f"{h}.{p}.", "invalid"),
        ("signature truncated", f"{h}.{p}.{s[:-4]}", "invalid"),
        ("signature 63 bytes", f"{h}.{p}.{jose.b64url_encode(jose.b64url_decode(s)[:63])}", "invalid"),
        ("signature 65 bytes", f"{h}.{p}.{jose.b64url_encode(jose.b64url_decode(s) + b'x')}", "invalid"),
        ("DER signature", f"{h}.{p}.{jose.b64url_encode(der)}", "invalid"),
        ("signed by another key", issuer.sign(private=other.private), "invalid"),
        ("key of A claiming issuer B", other.sign(other.claims(iss=issuer.iss), header={**std, "kid": other.kid},
                                                   private=other.private), "invalid"),
        ("expired", issuer.sign(issuer.claims(iat=now - 4 * 365 * 86400, exp=now - 360)), "expired"),
        ("expired within leeway", issuer.sign(issuer.claims(iat=now - 86400, exp=now - 240)), "valid"),
        ("issued in the future", issuer.sign(issuer.claims(iat=now + 360)), "invalid"),
        ("issued in the future within leeway", issuer.sign(issuer.claims(iat=now + 240)), "valid"),
        ("iat before the key window", issuer.sign(issuer.claims(iat=issuer.key_meta["nbf"] - 1000)), "invalid"),
        ("missing exp", issuer.sign(issuer.claims(exp=None)), "invalid"),
        ("missing iat", issuer.sign(issuer.claims(iat=None)), "invalid"),
        ("missing jti", issuer.sign(issuer.claims(jti=None)), "invalid"),
        ("missing status pointer", issuer.sign(issuer.claims(st=None)), "invalid"),
        ("unknown version", issuer.sign(issuer.claims(v=2)), "invalid"),
        ("exp as string", issuer.sign(issuer.claims(exp="2099-01-01")), "invalid"),
        ("unknown issuer", other.sign(), "untrusted_issuer"),
        ("zip bomb", issuer.sign(raw_payload=bomb_payload), "invalid"),
        ("deeply nested payload", issuer.sign(raw_payload=deep_payload), "invalid"),
        ("payload not deflated", issuer.sign(raw_payload=json.dumps(issuer.claims()).encode()), "invalid"),
        ("payload with trailing bytes", issuer.sign(raw_payload=zlib.compress(b"{}")[2:-4] + b"junk"), "invalid"),
        ("not UTF-8 payload", issuer.sign(raw_payload=_deflate(b'{"iss":"\xff\xfe"}')), "invalid"),
        ("oversized token", f"{h}.{p}{'A' * 5000}.{s}", "invalid"),
        ("absurdly long input", "A" * 200_000, "invalid"),
        ("non-base64url junk", f"{h}.{p}.{s[:-1]}*", "invalid"),
        ("padding characters", f"{h}.{p}.{s}==", "invalid"),
        ("random junk", "hello, world", "invalid"),
        ("empty", "", "invalid"),
        ("non-UTF-8 bytes", b"\xff\xfe\x00junk", "invalid"),
        ("odd-length digits", "1" * 101, "invalid"),
        ("digit pair over 77", "99" * 60, "invalid"),
        ("two dots only", "..", "invalid"),
        ("four parts", good + ".AAAA", "invalid"),
    ]
    return cases


def _deflate(raw: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(raw) + c.flush()


def numeric(token: str) -> str:
    """The SHC-style numeric form of a token (two digits per character, value - 45)."""
    return "".join(f"{ord(c) - 45:02d}" for c in token)
