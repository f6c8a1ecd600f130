"""CCP wire format version 2 (docs/token-format.md): compact claims and the packed QR form.

Pure Python with no Flask or database, shared by the issuer (``tokens``, ``qr``) and every verifier
(``passport.verify.verifier``; ``passport/verify/static/verify.js`` mirrors it).

Version 2 claims use numbers where version 1 used words: dates are day numbers (days since
1970-01-01), delegated tasks are catalogue numbers (``TASK_CODES``) and levels 0-2. The token is a
compact JWS whose payload is the canonical JSON of the claims (key order as built by
``claims_v2``, no spaces, NFC, not compressed), so the QR can carry a *packed* form instead of the
text: the key id, the signature and the claims as fixed-width binary, written as decimal digits
(QR numeric mode, 3.3 bits per digit). Any reader rebuilds the exact JWS from the packed form and
checks the signature as usual.
"""
from __future__ import annotations

import base64
import json
import re
import struct
import unicodedata
from datetime import date, timedelta

VERSION = 2
TYP = "ccp+jwt"
EPOCH = date(1970, 1, 1)
LEVELS = ("observed", "supervised", "safe_unsupervised")
#: Delegated-task catalogue numbers (position + 1). Append only: numbers are on issued passports.
TASK_CODES = (
    "insulin_pen", "blood_glucose", "dry_dressing", "pressure_area_care", "compression_hosiery", "peg_feeding",
    "catheter_care", "stoma_care", "bowel_care", "rectal_rescue_medication", "eye_drops", "artificial_eye",
    "oxygen_therapy", "nebuliser", "physiological_observations", "prescribed_exercise", "specimen_collection",
    "mental_health_crisis_plan",
)
TASK_NUMBERS = {code: i + 1 for i, code in enumerate(TASK_CODES)}
FRAMEWORKS = ("2015", "2025")
MAX_SUBJECTS = 40
QN_RE = re.compile(r"^\d{3}/\d{4}/\d$")  # an Ofqual qualification number, e.g. 610/4009/5
PACKED_MARK = "p"  # the QR fragment of the packed form: "p" then digits
_CHUNK = 7
_DIGITS = {1: 3, 2: 5, 3: 8, 4: 10, 5: 13, 6: 15, 7: 17}  # len(str(256**k - 1))
_BY_DIGITS = {v: k for k, v in _DIGITS.items()}
_B64 = re.compile(r"^[A-Za-z0-9_-]*$")


class WireError(ValueError):
    """Not a well-formed packed passport (or claims that cannot be packed)."""


def day(d: date) -> int:
    return (d - EPOCH).days


def from_day(n: int) -> date:
    return EPOCH + timedelta(days=n)


def task_ref(code: str) -> int | str:
    """The catalogue number of a delegated task, or its code when it is not in the catalogue."""
    return TASK_NUMBERS.get(code, code)


def task_code(ref) -> str:
    if isinstance(ref, int) and not isinstance(ref, bool) and 1 <= ref <= len(TASK_CODES):
        return TASK_CODES[ref - 1]
    return str(ref)


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def claims_v2(*, iss: str, jti: str, iat: int, exp: int, given_name: str, family_name: str,
              framework: str | None, standards_mask: int, awarded_on: date | None,
              competencies: list, subjects: list, qualification: tuple | None, status: tuple[int, int]) -> dict:
    """The version-2 claim set in canonical key order.

    ``competencies``: ``[(task_code, level, valid_until date)]``; ``subjects``: ``[(category code,
    completed date, expires date or None)]``; ``qualification``: ``(awarding organisation,
    qualification number, achieved date)`` or None."""
    claims: dict = {"iss": iss, "jti": jti, "iat": int(iat), "exp": int(exp), "v": VERSION,
                    "n": {"g": _nfc(given_name or ""), "f": _nfc(family_name)}}
    if framework is not None:
        cc: dict = {"fw": framework, "s": int(standards_mask)}
        if awarded_on is not None:
            cc["d"] = day(awarded_on)
        claims["cc"] = cc
    if competencies:
        claims["dt"] = [[task_ref(code), LEVELS.index(level), day(until)] for code, level, until in competencies]
    if subjects:
        claims["ms"] = [[int(code), day(done)] + ([day(expires)] if expires is not None else [])
                        for code, done, expires in subjects]
    if qualification is not None:
        ao, qn, achieved = qualification
        claims["q"] = [_nfc(ao), qn, day(achieved)]
    claims["st"] = [int(status[0]), int(status[1])]
    return claims


def canonical(claims: dict) -> bytes:
    """The exact payload bytes of a version-2 token."""
    return json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def header_bytes(kid: str) -> bytes:
    """The exact protected header of a version-2 token (no ``zip``: the payload is not compressed)."""
    return json.dumps({"alg": "ES256", "kid": kid, "typ": TYP}, separators=(",", ":")).encode("ascii")


def b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64d(text: str) -> bytes:
    if not _B64.match(text) or len(text) % 4 == 1:
        raise WireError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- the packed QR form ------------------------------------------------------------------------------


def _str8(s: str) -> bytes:
    raw = s.encode("utf-8")
    if len(raw) > 255:
        raise WireError("a text is too long to pack")
    return bytes([len(raw)]) + raw


def pack(jws: str, iss_default: str | None = None) -> bytes:
    """The packed bytes of a version-2 JWS. Raises WireError when the token cannot be packed exactly
    (then the QR carries the JWS itself). ``iss`` is left out when it equals ``iss_default`` (the
    address the QR link points at)."""
    try:
        h, p, s = jws.split(".")
        header, payload, sig = json.loads(b64d(h)), b64d(p), b64d(s)
        c = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WireError(f"not a token: {exc}") from None
    kid = b64d(header.get("kid", ""))
    if len(kid) != 32 or len(sig) != 64 or b64e(header_bytes(header["kid"])) != h:
        raise WireError("the header or signature is not the version-2 shape")
    if not isinstance(c, dict) or c.get("v") != VERSION or canonical(c) != payload:
        raise WireError("the payload is not canonical version-2 claims")
    jti = b64d(c["jti"])
    if len(jti) != 12 or b64e(jti) != c["jti"]:
        raise WireError("the token id is not 96 bits")
    st = c["st"]
    if not (0 <= st[0] < 1 << 16 and 0 <= st[1] < 1 << 24):
        raise WireError("the status pointer is too large to pack")
    flags = ((1 if "cc" in c else 0) | (2 if "d" in c.get("cc", {}) else 0) | (4 if "dt" in c else 0)
             | (8 if "ms" in c else 0) | (16 if "q" in c else 0) | (32 if c["iss"] != iss_default else 0))
    out = bytearray([VERSION]) + kid + sig + jti
    out += struct.pack(">IIH", c["iat"], c["exp"], st[0]) + st[1].to_bytes(3, "big") + bytes([flags])
    if flags & 32:
        out += _str8(c["iss"])
    out += _str8(c["n"]["g"]) + _str8(c["n"]["f"])
    try:
        if "cc" in c:
            out += struct.pack(">BH", FRAMEWORKS.index(c["cc"]["fw"]), c["cc"]["s"])
            if flags & 2:
                out += struct.pack(">H", c["cc"]["d"])
        if "dt" in c:
            out += bytes([len(c["dt"])])
            for ref, level, until in c["dt"]:
                out += bytes([ref]) if isinstance(ref, int) else b"\0" + _str8(ref)
                out += struct.pack(">BH", level, until)
        if "ms" in c:
            out += bytes([len(c["ms"])])
            for item in c["ms"]:
                out += struct.pack(">BHH", item[0], item[1], item[2] if len(item) > 2 else 0)
        if "q" in c:
            ao, qn, achieved = c["q"]
            if not QN_RE.match(qn):
                raise WireError("the qualification number is not an Ofqual number")
            out += _str8(ao) + struct.pack(">IH", int(qn.replace("/", "")), achieved)
    except (struct.error, ValueError, TypeError, IndexError, OverflowError) as exc:
        raise WireError(f"a value is out of range for packing: {exc}") from None
    packed = bytes(out)
    if unpack(packed, iss_default) != jws:
        raise WireError("the packed form does not rebuild the token exactly")
    return packed


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise WireError("the packed passport is truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u(self, fmt: str):
        raw = self.take(struct.calcsize(fmt))
        return struct.unpack(fmt, raw)[0]

    def text(self) -> str:
        try:
            return self.take(self.u(">B")).decode("utf-8")
        except UnicodeDecodeError:
            raise WireError("the packed passport has text that is not UTF-8") from None


def unpack(data: bytes, iss_default: str | None = None) -> str:
    """Rebuild the compact JWS from packed bytes (see ``pack``)."""
    r = _Reader(data)
    if r.u(">B") != VERSION:
        raise WireError("the packed passport is of an unknown version")
    kid, sig, jti = b64e(r.take(32)), r.take(64), b64e(r.take(12))
    iat, exp, list_id = r.u(">I"), r.u(">I"), r.u(">H")
    index = int.from_bytes(r.take(3), "big")
    flags = r.u(">B")
    if flags & ~63:
        raise WireError("the packed passport has unknown parts")
    if flags & 32:
        iss = r.text()
    elif iss_default:
        iss = iss_default
    else:
        raise WireError("the packed passport needs the whole link it was printed with")
    c: dict = {"iss": iss, "jti": jti, "iat": iat, "exp": exp, "v": VERSION, "n": {"g": r.text(), "f": r.text()}}
    if flags & 1:
        fw = r.u(">B")
        if fw >= len(FRAMEWORKS):
            raise WireError("unknown Care Certificate framework")
        c["cc"] = {"fw": FRAMEWORKS[fw], "s": r.u(">H")}
        if flags & 2:
            c["cc"]["d"] = r.u(">H")
    if flags & 4:
        c["dt"] = []
        for _ in range(r.u(">B")):
            ref = r.u(">B")
            c["dt"].append([ref or r.text(), r.u(">B"), r.u(">H")])
    if flags & 8:
        c["ms"] = []
        for _ in range(r.u(">B")):
            code, done, expires = r.u(">B"), r.u(">H"), r.u(">H")
            c["ms"].append([code, done] + ([expires] if expires else []))
    if flags & 16:
        ao, qn, achieved = r.text(), f"{r.u('>I'):08d}", r.u(">H")
        c["q"] = [ao, f"{qn[:3]}/{qn[3:7]}/{qn[7:]}", achieved]
    c["st"] = [list_id, index]
    if r.pos != len(data):
        raise WireError("the packed passport has trailing data")
    return ".".join((b64e(header_bytes(kid)), b64e(canonical(c)), b64e(sig)))


def to_digits(data: bytes) -> str:
    """Bytes as decimal digits: each 7-byte chunk as 17 digits, a last shorter chunk as fewer."""
    out = []
    for i in range(0, len(data), _CHUNK):
        chunk = data[i:i + _CHUNK]
        out.append(str(int.from_bytes(chunk, "big")).zfill(_DIGITS[len(chunk)]))
    return "".join(out)


def from_digits(digits: str) -> bytes:
    if not digits.isascii() or not digits.isdigit():
        raise WireError("the packed passport is not all digits")
    full, rest = divmod(len(digits), _DIGITS[_CHUNK])
    if rest and rest not in _BY_DIGITS:
        raise WireError("the packed passport has a wrong number of digits")
    out = bytearray()
    for i in range(full + (1 if rest else 0)):
        part = digits[i * 17:(i + 1) * 17]
        k = _BY_DIGITS[len(part)]
        n = int(part)
        if n >= 1 << (8 * k):
            raise WireError("the packed passport has a value out of range")
        out += n.to_bytes(k, "big")
    return bytes(out)


def jws_from_fragment(fragment: str, iss_default: str | None) -> str:
    """The JWS from a packed fragment (``p`` then digits)."""
    if not fragment.startswith(PACKED_MARK):
        raise WireError("not a packed passport")
    return unpack(from_digits(fragment[len(PACKED_MARK):]), iss_default)


def iss_of_link(text: str) -> str | None:
    """The issuer address a QR link points at: ``https://host/path/v#...`` -> ``https://host/path``."""
    if "#" not in text:
        return None
    base = text.split("#", 1)[0].strip()
    return base[:-2] if base.endswith("/v") else None
