"""The passport verifier core (pure Python, no Flask): one token in, exactly one result state out.

Input is a compact JWS, the whole QR URL (``https://.../v#<jws>``) or the QR's numeric form; trust data
is a ``TrustStore``; status comes from a ``StatusSource`` callable. The checks follow the CCP1 profile
(docs/token-format.md) and the negative list in the token design note: header allow-list, capped
inflate, ES256 only, key looked up by (iss, kid) in *our* trust data, ``iat`` inside the key's window,
compromised keys, a leeway of 300 s, size limits, and strict decoding of everything.
"""
from __future__ import annotations

import re
import time
import unicodedata
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from passport.certificates import wire
from passport.core.catalogue_data import TRAINING_CATEGORIES
from passport.verify import jose, wording
from passport.verify.jose import JoseError
from passport.verify.trustdata import (
    StatusSnapshot, StatusSource, StatusUnavailable, TrustedIssuer, TrustedKey, TrustStore,
)

STATES = ("valid", "valid_status_unknown", "superseded", "expired", "revoked", "suspended",
          "untrusted_issuer", "invalid")
LEEWAY = 300
STATUS_MAX_AGE = 24 * 3600  # default: status data older than this is not relied on (VERIFY_STATUS_MAX_AGE_HOURS)
MAX_TOKEN_CHARS = 4096
MAX_INPUT_CHARS = 2 * MAX_TOKEN_CHARS + 512  # a numeric QR doubles the length; plus the URL
MAX_HEADER_CHARS = 512
INFLATE_CAP = 64 * 1024
HEADER_MEMBERS = frozenset({"alg", "kid", "typ", "zip"})
LEVELS = ("observed", "supervised", "safe_unsupervised")
FRAMEWORK_STANDARDS = {"2015": 15, "2025": 16}
_JWS_RE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
_DIGITS_RE = re.compile(r"^[0-9]+$")
_JTI_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Refused(Exception):
    """The token is malformed, tampered or of a form we refuse: the result is ``invalid``. ``code`` is the
    reason code (plain words in passport.verify.wording); the message is the technical detail."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code


@dataclass
class Result:
    """What a verifier says about one token. ``to_json`` is the API/CLI shape: ``reason`` is plain words
    with what to do next (passport.verify.wording), ``reason_code`` the technical reason, ``reason_detail``
    the technical explanation."""

    state: str
    reason_code: str
    reason: str
    checked_at: int
    detail: str = ""
    passport: dict | None = None
    issuer: dict | None = None
    status: dict = field(default_factory=lambda: {"checked": False, "as_of": None, "stale": False})
    trust: dict = field(default_factory=dict)
    iss: str | None = None
    jti: str | None = None

    def to_json(self) -> dict:
        return {"result": self.state, "title": wording.STATES[self.state]["title"], "reason": self.reason,
                "reason_code": self.reason_code, "reason_detail": self.detail, "passport": self.passport,
                "issuer": self.issuer, "checked_at": iso(self.checked_at), "status": self.status, "trust": self.trust}


def iso(ts: int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat().replace("+00:00", "Z")


def extract_token(text) -> str:
    """The compact JWS inside whatever was scanned or pasted: a JWS, a URL with it in the fragment,
    ``ccp:/<digits>`` or the digit-pair numeric form (two digits per character, value + 45)."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise Refused("not_utf8", "The text is not UTF-8.") from None
    if not isinstance(text, str):
        raise Refused("nothing_to_check", "Nothing to check: send the token as text.")
    if len(text) > MAX_INPUT_CHARS:
        raise Refused("input_too_long", "The text is far too long to be a passport.")
    text = text.strip()
    link = text
    if "#" in text:
        text = text.split("#", 1)[1]
    elif text.lower().startswith("ccp:/"):
        text = text[5:]
    if text.startswith(wire.PACKED_MARK) and _DIGITS_RE.match(text[1:]):
        try:
            return wire.jws_from_fragment(text, wire.iss_of_link(link))
        except wire.WireError as exc:
            raise Refused("damaged_data", f"The passport code is damaged ({exc}).") from None
    if _DIGITS_RE.match(text):
        if len(text) % 2:
            raise Refused("numeric_odd_length", "The numeric code has an odd number of digits.")
        pairs = [int(text[i:i + 2]) for i in range(0, len(text), 2)]
        if any(p > 77 for p in pairs):
            raise Refused("numeric_out_of_range", "The numeric code contains a value out of range.")
        text = "".join(chr(p + 45) for p in pairs)
    if not text:
        raise Refused("nothing_to_check", "Nothing to check.")
    if len(text) > MAX_TOKEN_CHARS:
        raise Refused("token_too_long", "The token is longer than any passport (over 4 KB).")
    if not _JWS_RE.match(text):
        raise Refused("not_a_passport_code",
                      "This is not a passport code (it should be three base64url parts joined by dots).")
    return text


def _b64(part: str, what: str) -> bytes:
    try:
        return jose.b64url_decode(part)
    except JoseError:
        raise Refused("damaged_encoding", f"The {what} is damaged (not valid base64url).") from None


def _json(raw: bytes, what: str):
    try:
        return jose.strict_json(raw)
    except JoseError as exc:
        raise Refused("damaged_json", f"The {what} is damaged ({exc}).") from None


def _inflate(data: bytes) -> bytes:
    d = zlib.decompressobj(-15)
    try:
        out = d.decompress(data, INFLATE_CAP)
    except zlib.error:
        raise Refused("damaged_data", "The passport data is damaged (it does not decompress).") from None
    if d.unconsumed_tail:
        raise Refused("data_too_large", "The passport data decompresses to more than 64 KB.")
    if not d.eof or d.unused_data:
        raise Refused("damaged_data", "The passport data is damaged (truncated or with trailing bytes).")
    return out


def _int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2 ** 41:
        raise Refused("malformed_claims", f"The passport's '{name}' is missing or not a time.")
    return value


def _str(value, name: str, max_len: int, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or len(value) > max_len or (required and not value.strip()):
        raise Refused("malformed_claims", f"The passport's '{name}' is missing or malformed.")
    return unicodedata.normalize("NFC", value)


def _date(value, name: str) -> str:
    if not isinstance(value, str) or not _DATE_RE.match(value):
        raise Refused("malformed_claims", f"The passport's '{name}' is not a date.")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise Refused("malformed_claims", f"The passport's '{name}' is not a real date.") from None
    return value


def check_claims(claims) -> dict:
    """Validate the CCP1 payload shape; returns the claims. Refused on anything off-profile."""
    if not isinstance(claims, dict):
        raise Refused("malformed_claims", "The passport data is not a JSON object.")
    _str(claims.get("iss"), "iss", 255)
    if not isinstance(claims.get("jti"), str) or not _JTI_RE.match(claims["jti"]):
        raise Refused("malformed_claims", "The passport's identifier is missing or malformed.")
    iat, exp = _int(claims.get("iat"), "iat"), _int(claims.get("exp"), "exp")
    if exp <= iat:
        raise Refused("malformed_claims", "The passport expires before it was issued.")
    if claims.get("v") not in (1, 2) or isinstance(claims.get("v"), bool):
        raise Refused("unknown_version", "This passport uses a format version this verifier does not know.")
    if claims["v"] == 2:
        return _check_v2(claims)
    n = claims.get("n")
    if not isinstance(n, dict):
        raise Refused("malformed_claims", "The passport has no holder name.")
    _str(n.get("g"), "given name", 100, required=False)
    _str(n.get("f"), "family name", 100)
    cc = claims.get("cc")
    if cc is not None:
        if not isinstance(cc, dict) or cc.get("fw") not in FRAMEWORK_STANDARDS:
            raise Refused("malformed_claims", "The passport's Care Certificate framework is not 2015 or 2025.")
        s = cc.get("s")
        if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < (1 << FRAMEWORK_STANDARDS[cc["fw"]]):
            raise Refused("malformed_claims", "The passport's list of standards met is malformed.")
        if cc.get("d") is not None:
            _date(cc["d"], "award date")
    dt = claims.get("dt", [])
    if not isinstance(dt, list) or len(dt) > 16:
        raise Refused("malformed_claims", "The passport's competencies are malformed.")
    for item in dt:
        if (not isinstance(item, list) or len(item) != 3 or not isinstance(item[0], str)
                or not 0 < len(item[0]) <= 60 or item[1] not in LEVELS):
            raise Refused("malformed_claims", "A competency on the passport is malformed.")
        _date(item[2], "competency valid-until date")
    st = claims.get("st")
    if (not isinstance(st, list) or len(st) != 2 or any(isinstance(x, bool) or not isinstance(x, int) for x in st)
            or not 0 <= st[0] < 2 ** 31 or not 0 <= st[1] < 2 ** 31):
        raise Refused("malformed_claims", "The passport's status pointer is missing or malformed.")
    return claims


def _day(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 65536:
        raise Refused("malformed_claims", f"The passport's '{name}' is not a date.")
    return value


def _check_v2(claims: dict) -> dict:
    """Version 2 (docs/token-format.md): day numbers, numeric task and level codes, mandatory
    training ``ms`` and the qualification ``q``."""
    n = claims.get("n")
    if not isinstance(n, dict) or set(n) != {"g", "f"}:
        raise Refused("malformed_claims", "The passport has no holder name.")
    _str(n["g"], "given name", 100, required=False)
    _str(n["f"], "family name", 100)
    cc = claims.get("cc")
    if cc is not None:
        if not isinstance(cc, dict) or cc.get("fw") not in FRAMEWORK_STANDARDS:
            raise Refused("malformed_claims", "The passport's Care Certificate framework is not 2015 or 2025.")
        s = cc.get("s")
        if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < (1 << FRAMEWORK_STANDARDS[cc["fw"]]):
            raise Refused("malformed_claims", "The passport's list of standards met is malformed.")
        if "d" in cc:
            _day(cc["d"], "award date")
    dt = claims.get("dt", [])
    if not isinstance(dt, list) or len(dt) > 16:
        raise Refused("malformed_claims", "The passport's competencies are malformed.")
    for item in dt:
        if (not isinstance(item, list) or len(item) != 3 or isinstance(item[0], bool)
                or not (isinstance(item[0], int) and 1 <= item[0] <= 255
                        or isinstance(item[0], str) and 0 < len(item[0]) <= 60)
                or isinstance(item[1], bool) or item[1] not in (0, 1, 2)):
            raise Refused("malformed_claims", "A competency on the passport is malformed.")
        _day(item[2], "competency valid-until date")
    ms = claims.get("ms", [])
    if not isinstance(ms, list) or len(ms) > wire.MAX_SUBJECTS:
        raise Refused("malformed_claims", "The passport's training subjects are malformed.")
    for item in ms:
        if (not isinstance(item, list) or len(item) not in (2, 3) or isinstance(item[0], bool)
                or not isinstance(item[0], int) or not 1 <= item[0] <= 255):
            raise Refused("malformed_claims", "A training subject on the passport is malformed.")
        _day(item[1], "training completion date")
        if len(item) == 3 and _day(item[2], "training expiry date") < item[1]:
            raise Refused("malformed_claims", "A training subject on the passport expires before it was completed.")
    q = claims.get("q")
    if q is not None:
        if (not isinstance(q, list) or len(q) != 3 or not isinstance(q[1], str) or not wire.QN_RE.match(q[1])):
            raise Refused("malformed_claims", "The passport's qualification is malformed.")
        _str(q[0], "awarding organisation", 100)
        _day(q[2], "qualification date")
    st = claims.get("st")
    if (not isinstance(st, list) or len(st) != 2 or any(isinstance(x, bool) or not isinstance(x, int) for x in st)
            or not 0 <= st[0] < 2 ** 31 or not 0 <= st[1] < 2 ** 31):
        raise Refused("malformed_claims", "The passport's status pointer is missing or malformed.")
    return claims


def decode(token: str) -> tuple[dict, dict, bytes, bytes]:
    """Parse and structurally check a compact JWS (nothing trusted yet): header, claims, signing
    input, signature."""
    h, p, s = token.split(".")
    if len(h) > MAX_HEADER_CHARS:
        raise Refused("header_too_long", "The token header is too long.")
    header = _json(_b64(h, "token header"), "token header")
    if not isinstance(header, dict):
        raise Refused("header_not_object", "The token header is not a JSON object.")
    extra = set(header) - HEADER_MEMBERS
    if extra:
        raise Refused("header_extra_members",
                      f"The token header carries {', '.join(sorted(extra))}, which passports never use.")
    if header.get("alg") != "ES256":
        raise Refused("wrong_algorithm",
                      f"The token uses the algorithm {str(header.get('alg'))[:20]!r}; only ES256 is accepted.")
    if header.get("typ") != "ccp+jwt":
        raise Refused("wrong_type", "The token is not a care passport (wrong 'typ').")
    if header.get("zip", "DEF") != "DEF":
        raise Refused("not_compressed", "The token is not compressed as passports are.")
    if not isinstance(header.get("kid"), str) or not re.match(r"^[A-Za-z0-9_-]{1,128}$", header["kid"]):
        raise Refused("bad_key_id", "The token's key identifier is malformed.")
    raw = _b64(p, "passport data")
    claims = check_claims(_json(_inflate(raw) if "zip" in header else raw, "passport data"))
    if ("zip" in header) != (claims["v"] == 1):  # version 1 is always compressed, version 2 never
        raise Refused("not_compressed", "The token is not compressed as passports of its version are.")
    signature = _b64(s, "signature")
    if len(signature) != 64:
        raise Refused("bad_signature_length",
                      "The signature has the wrong length (it must be a raw 64-byte ES256 signature).")
    return header, claims, f"{h}.{p}".encode("ascii"), signature


SUBJECT_NAMES = {c["code"]: c["name"] for c in TRAINING_CATEGORIES}


def _long_date(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


def training_facts(claims: dict, today_: date) -> tuple[list[dict], dict | None]:
    """Version-2 mandatory training and qualification with plain in-date / expired wording."""
    subjects = []
    for item in claims.get("ms", []) if claims.get("v") == 2 else []:
        done = wire.from_day(item[1])
        expires = wire.from_day(item[2]) if len(item) > 2 else None
        in_date = expires is None or expires >= today_
        subjects.append({
            "code": item[0], "name": SUBJECT_NAMES.get(item[0], f"Training category {item[0]}"),
            "completed_on": done.isoformat(), "completed_text": _long_date(done),
            "expires_on": expires.isoformat() if expires else None,
            "in_date": in_date,
            "wording": ("In date, no refresher due" if expires is None else
                        f"In date until {_long_date(expires)}" if in_date else f"Expired on {_long_date(expires)}")})
    q = claims.get("q") if claims.get("v") == 2 else None
    qualification = None
    if q:
        qualification = {"title": "Level 2 Adult Social Care Certificate", "awarding_organisation": q[0],
                         "qualification_number": q[1], "achieved_on": wire.from_day(q[2]).isoformat(),
                         "wording": f"Achieved {_long_date(wire.from_day(q[2]))}; a qualification does not expire"}
    return subjects, qualification


def facts(claims: dict, task_names: dict[str, str] | None = None, now: int | None = None) -> dict:
    """The facts the token states, in plain JSON for pages, the API and the CLI."""
    if claims.get("v") == 2:
        claims = dict(claims)
        if claims.get("cc") and "d" in claims["cc"]:
            claims["cc"] = dict(claims["cc"], d=wire.from_day(claims["cc"]["d"]).isoformat())
        claims["dt"] = [[wire.task_code(t), LEVELS[lv], wire.from_day(u).isoformat()]
                        for t, lv, u in claims.get("dt", [])]
    n = claims["n"]
    out: dict = {"id": claims["jti"],
                 "holder": {"given_name": n.get("g") or "", "family_name": n["f"],
                            "name": " ".join(x for x in (n.get("g"), n["f"]) if x)},
                 "issued_at": iso(claims["iat"]), "expires_at": iso(claims["exp"]), "care_certificate": None,
                 "competencies": []}
    cc = claims.get("cc")
    if cc:
        total = FRAMEWORK_STANDARDS[cc["fw"]]
        met = [i + 1 for i in range(total) if cc["s"] >> i & 1]
        out["care_certificate"] = {"framework": cc["fw"], "standards_met": met, "standards_total": total,
                                   "complete": len(met) == total, "awarded_on": cc.get("d")}
    for code, level, until in claims.get("dt", []):
        out["competencies"].append({"task": code, "name": (task_names or {}).get(code, code.replace("_", " ")),
                                    "level": level, "valid_until": until})
    today_ = datetime.fromtimestamp(int(time.time()) if now is None else now, timezone.utc).date()
    out["mandatory_training"], out["qualification"] = training_facts(claims, today_)
    return out


def _key_window_ok(key: TrustedKey, iat: int) -> bool:
    if key.nbf is not None and iat < key.nbf - LEEWAY:
        return False
    return key.exp is None or iat <= key.exp + LEEWAY


def _issuer_json(issuer: TrustedIssuer, store: TrustStore, kid: str | None) -> dict:
    """The issuer as our trust data describes it. Endorsers are the ones recorded for *this* issuer (our
    scheme's partners only for our own passports); nothing here comes from the token."""
    return {"iss": issuer.iss, "name": issuer.name, "trusted": True, "endorsers": list(issuer.endorsers),
            "scheme": store.scheme_name if issuer.own else issuer.name, "key_id": kid}


def _trust_json(issuer: TrustedIssuer | None, store: TrustStore, now: int) -> dict:
    as_of = issuer.as_of if issuer is not None and issuer.as_of is not None else store.as_of
    return {"source": store.source, "as_of": iso(as_of), "age_seconds": None if as_of is None else max(0, now - as_of),
            "stale": bool(store.expires_at is not None and now > store.expires_at)}


def _status(issuer: TrustedIssuer, st: list, source: StatusSource, now: int, max_age: int
            ) -> tuple[str | None, dict]:
    """Read the three status lists. Returns (state or None when clear, status summary). The status is
    ``checked`` only when all three lists were read, none is past its own lifetime, and the oldest is no
    older than ``max_age`` seconds."""
    found: dict[str, bool | None] = {}
    snaps: list[StatusSnapshot] = []
    for purpose in ("revocation", "suspension", "refresh"):
        try:
            snap = source(issuer, st[0], purpose)
        except StatusUnavailable:
            found[purpose] = None
            continue
        snaps.append(snap)
        found[purpose] = snap.bit(st[1])
    as_of = min((s.issued_at for s in snaps), default=None)
    age = None if as_of is None else max(0, now - as_of)
    stale = any(s.expires_at < now for s in snaps) or (age is not None and age > max_age)
    summary = {"checked": len(snaps) == 3 and None not in found.values() and not stale, "as_of": iso(as_of),
               "age_seconds": age, "stale": stale, "max_age_seconds": max_age}
    for purpose, state in (("revocation", "revoked"), ("suspension", "suspended"), ("refresh", "superseded")):
        if found.get(purpose):
            return state, summary
    return None, summary


def _said(state: str, code: str, now: int, detail: str = "", **params) -> dict:
    return {"state": state, "reason_code": code, "reason": wording.text(code, **params), "detail": detail,
            "checked_at": now}


def verify(text, store: TrustStore, status_source: StatusSource, *, now: int | None = None,
           task_names: dict[str, str] | None = None, status_max_age: int = STATUS_MAX_AGE) -> Result:
    """Verify one scanned or pasted passport. Never raises for bad input: returns a Result.

    Status data older than ``status_max_age`` seconds (or past its own lifetime) is not relied on: the
    result is then ``valid_status_unknown``, saying how old the data is. A ``valid`` result claims only
    what was checked ("not revoked as of 09:14 today"). A revoked, suspended, expired or superseded
    passport's delegated tasks are withheld (``competencies_withheld``)."""
    now = int(time.time()) if now is None else int(now)
    try:
        token = extract_token(text)
        header, claims, signing_input, signature = decode(token)
    except Refused as exc:
        return Result(**_said("invalid", exc.code, now, str(exc)), trust=_trust_json(None, store, now))
    iss, kid = claims["iss"], header["kid"]
    issuer = store.issuer(iss)
    base = dict(iss=iss, jti=claims["jti"], trust=_trust_json(issuer, store, now))
    if issuer is None:
        return Result(**_said("untrusted_issuer", "untrusted_issuer", now, f"{iss[:100]} is not in this verifier's "
                              "trust data."), issuer={"iss": iss, "name": None, "trusted": False}, **base)
    key = issuer.keys.get(kid)
    issuer_json = _issuer_json(issuer, store, kid)
    if key is None:
        return Result(**_said("invalid", "unknown_key", now, "The passport is signed with a key its issuer has not "
                              "published (forged, or this verifier's trust data is out of date)."),
                      issuer=issuer_json, **base)
    if key.status == "compromised":
        return Result(**_said("invalid", "compromised_key", now, "The passport is signed with a key its issuer "
                              "reported as compromised."), issuer=issuer_json, **base)
    if not jose.es256_verify(key.key, signing_input, signature):
        return Result(**_said("invalid", "bad_signature", now, "The signature does not match: the passport has "
                              "been altered or forged."), issuer=issuer_json, **base)
    if not _key_window_ok(key, claims["iat"]):
        return Result(**_said("invalid", "outside_key_window", now, "The passport claims an issue date outside the "
                              "period its signing key was in use."), issuer=issuer_json, **base)
    if claims["iat"] > now + LEEWAY:
        return Result(**_said("invalid", "issued_in_future", now, "The passport says it was issued in the future."),
                      issuer=issuer_json, **base)
    passport = facts(claims, task_names, now)
    passport["competencies_withheld"] = False
    state, summary = _status(issuer, claims["st"], status_source, now, int(status_max_age))
    info = dict(issuer=issuer_json, passport=passport, status=summary, **base)
    expired = claims["exp"] < now - LEEWAY
    if state in ("revoked", "suspended"):
        said = _said(state, state, now, f"The issuer's {'revocation' if state == 'revoked' else 'suspension'} list "
                     "has this passport's bit set.")
    elif expired:
        said = _said("expired", "expired", now, f"exp {iso(claims['exp'])} is past.",
                     expired_on=wording.date_words(iso(claims["exp"])))
    elif state == "superseded":
        said = _said("superseded", "superseded", now, "The issuer's refresh list has this passport's bit set.")
    elif not summary["checked"]:
        if summary["as_of"] is None:
            said = _said("valid_status_unknown", "status_unavailable", now, "No status data could be obtained.")
        elif summary["stale"]:
            said = _said("valid_status_unknown", "status_stale", now,
                         f"Status data from {summary['as_of']} is out of date (older than {int(status_max_age)} s "
                         "or past its lifetime).", age=wording.age_words(summary["age_seconds"]),
                         as_of=wording.when_words(now - summary["age_seconds"], now))
        else:
            said = _said("valid_status_unknown", "status_unavailable", now, "Some status lists could not be read.")
    else:
        said = _said("valid", "valid", now, "Signature, issuer, dates and all three status lists checked.",
                     as_of=wording.when_words(now - summary["age_seconds"], now))
    if said["state"] in wording.NOT_CURRENT and passport["competencies"]:
        passport["competencies"], passport["competencies_withheld"] = [], True
    return Result(**said, **info)
