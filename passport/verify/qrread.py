"""Reading a passport QR code from a photo (server side, CLI): Pillow + the zxing-cpp wheel.

Images are untrusted: the size and pixel count are capped before decoding, and anything Pillow or
zxing cannot read becomes a clean ``UnreadableImage`` with a plain message.
"""
from __future__ import annotations

import io
import warnings

MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 2000  # larger photos are scaled down first: faster, and QR codes survive it


class UnreadableImage(ValueError):
    """The upload is not an image we can read, or holds no passport QR code."""


def read_qr(data: bytes) -> str:
    """The text of the first QR code in an image (PNG, JPEG, GIF, WebP, BMP)."""
    from PIL import Image, UnidentifiedImageError

    import zxingcpp

    if not data:
        raise UnreadableImage("The file is empty.")
    if len(data) > MAX_IMAGE_BYTES:
        raise UnreadableImage("The image is too large (8 MB at most).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.format not in ("PNG", "JPEG", "GIF", "WEBP", "BMP"):
                raise UnreadableImage("Upload a photo or screenshot (PNG or JPEG).")
            w, h = img.size
            if w * h > MAX_PIXELS or w < 21 or h < 21:
                raise UnreadableImage("The image is too large or too small to hold a passport QR code.")
            img.draft("L", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at reduced size directly
            img = img.convert("L")
            if max(img.size) > MAX_SIDE:
                img.thumbnail((MAX_SIDE, MAX_SIDE))
    except UnreadableImage:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning, EOFError):
        raise UnreadableImage("The file is not an image we can read.") from None
    try:
        found = zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)
    except Exception:  # zxing-cpp raises plain exceptions on odd inputs; never let them escape
        raise UnreadableImage("The image could not be scanned.") from None
    for code in found:
        if code.valid and code.text:
            return code.text
    raise UnreadableImage("No QR code was found in the image. Try a closer, sharper photo.")
