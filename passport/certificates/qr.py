"""QR codes for passport tokens: the text, the size rule, and PNG/SVG images (drawn with segno).

The QR holds ``<PUBLIC_URL>/v#...`` at error correction Q, version 22 or lower, in one of three forms
(docs/token-format.md):

- ``packed`` (version-2 tokens): ``p`` then the token packed as binary and written as decimal digits
  (``passport.certificates.wire``) in a numeric-mode segment: the smallest code by far;
- ``byte``: the compact JWS itself in the fragment;
- ``numeric``: the JWS as SMART Health Card digit pairs (each character c -> ord(c) - 45).

``token_from_qr_text`` (and the verify plugin) turn any form back into the JWS.
"""
from __future__ import annotations

import functools
import io
import re

import segno
from segno import consts as _c, encoder as _enc

from passport.certificates import wire

MAX_VERSION = 22
ERROR_CORRECTION = "q"
QUIET_ZONE = 4  # modules
PREFERRED_BYTE_VERSION = 20
MODES = ("packed", "byte", "numeric")
_JWS_RE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


class QRTooLarge(ValueError):
    """The token will not fit a version-22 QR code at error correction Q."""


def prefix(public_url: str) -> str:
    return public_url.rstrip("/") + "/v#"


def _iss(public_url: str) -> str:
    return public_url.rstrip("/")


def to_digits(jws: str) -> str:
    """SMART Health Card numeric encoding: two digits per character, ord(c) - 45."""
    return "".join(f"{ord(c) - 45:02d}" for c in jws)


def from_digits(digits: str) -> str:
    if len(digits) % 2 or not digits.isdigit():
        raise ValueError("an even number of digits is expected")
    out = []
    for i in range(0, len(digits), 2):
        n = int(digits[i:i + 2])
        if n > 77:  # 'z' (122) - 45
            raise ValueError("digit pair out of range")
        out.append(chr(n + 45))
    return "".join(out)


def _segments(jws: str, public_url: str, mode: str) -> list[tuple[str, int]]:
    if mode == "packed":
        digits = wire.to_digits(wire.pack(jws, _iss(public_url)))
        return [(prefix(public_url) + wire.PACKED_MARK, _c.MODE_BYTE), (digits, _c.MODE_NUMERIC)]
    if mode == "byte":
        return [(prefix(public_url) + jws, _c.MODE_BYTE)]
    if mode == "numeric":
        return [(prefix(public_url), _c.MODE_BYTE), (to_digits(jws), _c.MODE_NUMERIC)]
    raise ValueError(f"unknown QR mode {mode!r}")


def qr_text(jws: str, public_url: str, mode: str) -> str:
    """The text a reader gets from the QR: the verify URL with the token (in the chosen form) as fragment."""
    return "".join(text for text, _ in _segments(jws, public_url, mode))


def token_from_qr_text(text: str) -> str:
    """The compact JWS from scanned QR text: ``.../v#p<digits>``, ``.../v#<JWS>``, ``.../v#<digits>``, a
    bare JWS or digits."""
    frag = text.split("#", 1)[1] if "#" in text else text
    frag = frag.strip()
    if frag.startswith(wire.PACKED_MARK) and frag[1:].isdigit():
        try:
            return wire.jws_from_fragment(frag, wire.iss_of_link(text))
        except wire.WireError as exc:
            raise ValueError(str(exc)) from None
    if frag.isdigit():
        frag = from_digits(frag)
    if not _JWS_RE.match(frag):
        raise ValueError("no passport token in this text")
    return frag


@functools.lru_cache(maxsize=8192)
def _version_for(shape: tuple) -> int | None:
    """The smallest version (any, up to 40) for segments of these (mode, length) pairs at level Q."""
    segs = _enc.prepare_data([("1" * n if m == _c.MODE_NUMERIC else "a" * n, m) for m, n in shape], None, None)
    try:
        return _enc.find_version(segs, _c.ERROR_LEVEL_Q, False, False)
    except (ValueError, _enc.DataOverflowError):
        return None


def _version(jws: str, public_url: str, mode: str) -> int | None:
    try:
        segs = _segments(jws, public_url, mode)
    except wire.WireError:
        return None
    return _version_for(tuple((m, len(t.encode("utf-8")) if m == _c.MODE_BYTE else len(t)) for t, m in segs))


def fit(jws: str, public_url: str) -> tuple[str, int]:
    """Choose the form and return ``(mode, version)`` without drawing anything (cheap).

    The packed form for version-2 tokens; otherwise byte mode while it fits version 20, beyond that
    whichever mode needs the smaller version (byte on a tie). Raises QRTooLarge when nothing fits 22."""
    if not jws.isascii():
        raise ValueError("a compact JWS is ASCII")
    packed = _version(jws, public_url, "packed")
    if packed is not None and packed <= MAX_VERSION:
        return "packed", packed
    byte = _version(jws, public_url, "byte")
    if byte is not None and byte <= PREFERRED_BYTE_VERSION:
        return "byte", byte
    numeric = _version(jws, public_url, "numeric")
    options = [(v, i, m) for i, (m, v) in enumerate((("byte", byte), ("numeric", numeric), ("packed", packed)))
               if v is not None]
    if options:
        version, _, mode = min(options)
        if version <= MAX_VERSION:
            return mode, version
    best = min((v for v, _, _ in options), default=None)
    raise QRTooLarge(f"The passport would need a version {best or '40+'} QR code; the limit is {MAX_VERSION} "
                     "so it still scans when printed at 4 cm.")


def make(jws: str, public_url: str, mode: str, version: int) -> segno.QRCode:
    return segno.make(_segments(jws, public_url, mode), error=ERROR_CORRECTION, version=version, micro=False,
                      boost_error=False)


def png(jws: str, public_url: str, mode: str, version: int, box_size: int = 8) -> bytes:
    """The QR as a black-on-white 1-bit PNG with a 4-module quiet zone. segno chooses the mask; Pillow
    scales and writes the image (in C: about a third of the time segno's own PNG writer takes)."""
    from PIL import Image

    rows = make(jws, public_url, mode, version).matrix
    n = len(rows) + 2 * QUIET_ZONE
    pad = bytes([255]) * QUIET_ZONE
    margin = bytes([255]) * n * QUIET_ZONE  # the quiet zone's full rows above and below
    raw = margin + b"".join(pad + bytes(0 if v else 255 for v in row) + pad for row in rows) + margin
    img = Image.frombytes("L", (n, n), raw).resize((n * box_size, n * box_size), Image.NEAREST).convert("1")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def svg(jws: str, public_url: str, mode: str, version: int) -> bytes:
    """The QR as a single-path SVG (scales to any print size) with a 4-module quiet zone."""
    buf = io.BytesIO()
    make(jws, public_url, mode, version).save(buf, kind="svg", border=QUIET_ZONE, xmldecl=True, svgns=True,
                                              title="Passport QR code")
    return buf.getvalue()


def matrix(jws: str, public_url: str, mode: str, version: int) -> list[list[bool]]:
    """The module matrix without the quiet zone (for drawing into PDFs)."""
    return [[bool(v) for v in row] for row in make(jws, public_url, mode, version).matrix]
