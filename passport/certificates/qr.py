"""QR codes for passport tokens: the text, the size rule, and PNG/SVG images.

The QR holds ``<PUBLIC_URL>/v#<compact JWS>`` at error correction Q, version 22 or lower. When the
whole text in byte mode would need a version above 20 (a full Care Certificate plus delegated
competencies) and digits need a smaller one, the JWS is written as SMART Health Card digit pairs
(each character c -> ord(c) - 45, two digits) in a numeric-mode segment after the byte-mode URL
prefix: about 20% more capacity. The fragment is then all digits; ``token_from_qr_text`` (and the
verify plugin) turn either form back into the JWS.
"""
from __future__ import annotations

import functools
import io
import re

import qrcode
import qrcode.image.svg
from qrcode.util import MODE_8BIT_BYTE, MODE_NUMBER, QRData

MAX_VERSION = 22
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_Q
QUIET_ZONE = 4  # modules
_JWS_RE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


class QRTooLarge(ValueError):
    """The token will not fit a version-22 QR code at error correction Q."""


def prefix(public_url: str) -> str:
    return public_url.rstrip("/") + "/v#"


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


def qr_text(jws: str, public_url: str, mode: str) -> str:
    """The text a reader gets from the QR: the verify URL with the token (or its digits) as fragment."""
    return prefix(public_url) + (jws if mode == "byte" else to_digits(jws))


def token_from_qr_text(text: str) -> str:
    """The compact JWS from scanned QR text: ``.../v#<JWS>``, ``.../v#<digits>``, a bare JWS or digits."""
    frag = text.split("#", 1)[1] if "#" in text else text
    frag = frag.strip()
    if frag.isdigit():
        frag = from_digits(frag)
    if not _JWS_RE.match(frag):
        raise ValueError("no passport token in this text")
    return frag


def _build(jws: str, public_url: str, mode: str) -> qrcode.QRCode:
    q = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=QUIET_ZONE, box_size=10)
    if mode == "byte":
        q.add_data(QRData((prefix(public_url) + jws).encode("utf-8"), mode=MODE_8BIT_BYTE))
    else:
        q.add_data(QRData(prefix(public_url).encode("utf-8"), mode=MODE_8BIT_BYTE))
        q.add_data(QRData(to_digits(jws), mode=MODE_NUMBER))
    return q


def fit(jws: str, public_url: str) -> tuple[str, int]:
    """Choose the encoding and return ``(mode, version)`` without drawing anything (cheap).

    Byte mode (the plain JWS in the fragment, as in docs/token-format.md) while it fits version 20;
    beyond that whichever mode needs the smaller version (byte on a tie), so dense passports stay easy
    to scan. Raises QRTooLarge when neither fits version 22."""
    if not jws.isascii():
        raise ValueError("a compact JWS is ASCII")
    return _fit_lengths(len(prefix(public_url).encode("utf-8")), len(jws))


PREFERRED_BYTE_VERSION = 20


def _version(jws_len: int, prefix_len: int, mode: str) -> int | None:
    try:
        return _build("a" * jws_len, "h" * (prefix_len - 3), mode).best_fit()
    except qrcode.exceptions.DataOverflowError:
        return None


@functools.lru_cache(maxsize=4096)
def _fit_lengths(prefix_len: int, jws_len: int) -> tuple[str, int]:
    # The version depends only on the lengths (ASCII JWS), so the answer is computed once per pair.
    byte = _version(jws_len, prefix_len, "byte")
    if byte is not None and byte <= PREFERRED_BYTE_VERSION:
        return "byte", byte
    numeric = _version(jws_len, prefix_len, "numeric")
    options = [(v, i, m) for i, (m, v) in enumerate((("byte", byte), ("numeric", numeric))) if v is not None]
    if options:
        version, _, mode = min(options)
        if version <= MAX_VERSION:
            return mode, version
    best = min((v for v, _, _ in options), default=None)
    raise QRTooLarge(f"The passport would need a version {best or '40+'} QR code; the limit is {MAX_VERSION} "
                     "so it still scans when printed at 4 cm.")


def make(jws: str, public_url: str, mode: str, version: int) -> qrcode.QRCode:
    q = _build(jws, public_url, mode)
    q.version = version
    q.make(fit=False)
    return q


def png(jws: str, public_url: str, mode: str, version: int, box_size: int = 8) -> bytes:
    """The QR as a black-on-white PNG with a 4-module quiet zone."""
    q = make(jws, public_url, mode, version)
    q.box_size = box_size
    img = q.make_image(fill_color="black", back_color="white")
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def svg(jws: str, public_url: str, mode: str, version: int) -> bytes:
    """The QR as a single-path SVG (scales to any print size) with a 4-module quiet zone."""
    q = make(jws, public_url, mode, version)
    img = q.make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    buf = io.BytesIO()
    img.save(buf)
    return buf.getvalue()


def matrix(jws: str, public_url: str, mode: str, version: int) -> list[list[bool]]:
    """The module matrix without the quiet zone (for drawing into PDFs)."""
    q = make(jws, public_url, mode, version)
    q.border = 0
    return q.get_matrix()
