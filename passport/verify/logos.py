"""Endorsing partners' logos, as signed trust data.

A scheme admin uploads a logo for each endorser of each issuer (our own scheme's endorsing partners, and
the endorsers recorded for every trusted issuer). Uploads are PNG, JPEG or SVG, at most
``MAX_UPLOAD_BYTES`` and ``MAX_SOURCE_PIXELS`` a side. Every logo is stored as a PNG this service drew
itself: an SVG is rendered to PNG with resvg (user SVG is never stored or served), and a raster image is
decoded and re-encoded with Pillow, so no metadata (EXIF, text chunks, colour profiles) survives. The
stored PNG is at most ``MAX_WIDTH`` x ``MAX_HEIGHT`` pixels.

The trust bundle carries each logo's SHA-256 and the address it is served at (``/v/logo/<sha256>.png``).
Verifiers (this server's pages and the offline page) show a logo only when the bytes they got hash to
the signed digest. The passport card draws our own partners' logos along its bottom.
"""
from __future__ import annotations

import hashlib
import io
import re
import xml.etree.ElementTree as ET

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport import audit
from passport.core import services as core_services
from passport.core.access import Principal, is_scheme_admin
from passport.errors import NotFound, PermissionDenied, ValidationError
from passport.verify.models import EndorserLogo, TrustedIssuer as IssuerRow

MAX_UPLOAD_BYTES = 1024 * 1024
MAX_SOURCE_PIXELS = 4000            # each side of an uploaded raster image or the SVG's drawing size
MAX_WIDTH, MAX_HEIGHT = 600, 240    # the stored PNG fits within this
MAX_ASPECT = 8                      # a logo wider (or taller) than 8:1 is refused
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
FIELD = "logo"
KINDS_MESSAGE = "Upload the logo as a PNG, JPEG or SVG file."


def _refuse(message: str):
    raise ValidationError(message, {FIELD: message})


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def logo_path(sha256: str) -> str:
    return f"/v/logo/{sha256}.png"


# --- cleaning an upload ------------------------------------------------------------------------------


def _svg_to_png(data: bytes) -> bytes:
    """Render an SVG to PNG. Refused: DTDs and entities, external references (any href that is not a
    fragment, ``url()`` to anything but a fragment, ``@import``), scripts and embedded images."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        _refuse("The SVG file is not UTF-8 text.")
    lowered = text.lower()
    if any(bad in lowered for bad in ("<!doctype", "<!entity", "<script", "<image", "<foreignobject", "@import")):
        _refuse("The SVG refers to other files or contains scripts. Upload a plain drawing, or a PNG.")
    for ref in re.findall(r"href\s*=\s*[\"']([^\"']*)[\"']", text, flags=re.I) + \
            re.findall(r"url\(\s*[\"']?([^)\"']*)", text, flags=re.I):
        if not ref.strip().startswith("#"):
            _refuse("The SVG refers to other files or contains scripts. Upload a plain drawing, or a PNG.")
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        _refuse("The SVG file could not be read.")
    if not root.tag.endswith("svg"):
        _refuse("The SVG file could not be read.")
    width, height = _svg_size(root)
    if width <= 0 or height <= 0 or width > MAX_SOURCE_PIXELS or height > MAX_SOURCE_PIXELS:
        _refuse(f"The drawing must have a size of at most {MAX_SOURCE_PIXELS} by {MAX_SOURCE_PIXELS} pixels.")
    if max(width / height, height / width) > MAX_ASPECT:
        _refuse(f"The logo is too long and thin (more than {MAX_ASPECT} to 1).")
    scale = min(MAX_WIDTH / width, MAX_HEIGHT / height) * 2  # render sharp, then fit as any raster
    import resvg_py

    try:
        return bytes(resvg_py.svg_to_bytes(svg_string=text, width=max(1, round(width * scale)),
                                           height=max(1, round(height * scale))))
    except (ValueError, RuntimeError):
        _refuse("The SVG file could not be drawn.")


def _length(value: str | None) -> float | None:
    m = re.match(r"^\s*([0-9.]+)\s*(px)?\s*$", value or "")
    try:
        return float(m.group(1)) if m else None
    except ValueError:
        return None


def _svg_size(root) -> tuple[float, float]:
    w, h = _length(root.get("width")), _length(root.get("height"))
    if w and h:
        return w, h
    try:
        parts = [float(x) for x in re.split(r"[\s,]+", (root.get("viewBox") or "").strip())]
    except ValueError:
        parts = []
    if len(parts) == 4 and parts[2] > 0 and parts[3] > 0:
        return parts[2], parts[3]
    return 0.0, 0.0


def clean(data: bytes) -> tuple[bytes, int, int]:
    """An upload as (png bytes, width, height): re-encoded, without metadata, fitted within
    MAX_WIDTH x MAX_HEIGHT. ValidationError (field ``logo``) for anything else."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        _refuse("Choose a logo file to upload.")
    if len(data) > MAX_UPLOAD_BYTES:
        _refuse("The logo file must be 1 MB or smaller.")
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if data.startswith(b"\x89PNG\r\n\x1a\n") or data.startswith(b"\xff\xd8\xff"):
        raster = data
    elif head.startswith(b"<") and b"<svg" in data[:4096].lower():
        raster = _svg_to_png(data)
    else:
        _refuse(KINDS_MESSAGE)
    try:
        with Image.open(io.BytesIO(raster)) as img:
            if img.format not in ("PNG", "JPEG"):
                _refuse(KINDS_MESSAGE)
            if img.width > MAX_SOURCE_PIXELS * 2 or img.height > MAX_SOURCE_PIXELS * 2 or \
                    (raster is data and (img.width > MAX_SOURCE_PIXELS or img.height > MAX_SOURCE_PIXELS)):
                _refuse(f"The logo must be at most {MAX_SOURCE_PIXELS} by {MAX_SOURCE_PIXELS} pixels.")
            if img.width < 16 or img.height < 16:
                _refuse("The logo must be at least 16 pixels wide and high.")
            if max(img.width / img.height, img.height / img.width) > MAX_ASPECT:
                _refuse(f"The logo is too long and thin (more than {MAX_ASPECT} to 1).")
            img.load()
            rgba = img.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError, ValueError):
        _refuse("The image file could not be read. " + KINDS_MESSAGE)
    rgba.thumbnail((MAX_WIDTH, MAX_HEIGHT), Image.LANCZOS)
    fresh = Image.new("RGBA", rgba.size)  # pixels only: nothing of the original file is kept
    fresh.paste(rgba)
    buf = io.BytesIO()
    fresh.save(buf, format="PNG", optimize=True)
    return buf.getvalue(), fresh.width, fresh.height


# --- storing -----------------------------------------------------------------------------------------


def _require_admin(db: Session, principal: Principal | None) -> None:
    if principal is not None and not is_scheme_admin(db, principal):
        raise PermissionDenied("Only scheme admins can change the partners' logos.")


def endorsers_of(db: Session, issuer_id: int | None) -> list[str]:
    """The endorser names a logo may be uploaded for: our scheme's partners (``None``) or a trusted issuer's."""
    if issuer_id is None:
        return [o.name for o in core_services.endorsing_organisations(db)]
    row = db.get(IssuerRow, issuer_id) if isinstance(issuer_id, int) else None
    if row is None or row.removed_at is not None:
        raise NotFound("No such trusted issuer.")
    return row.endorser_names


def _row(db: Session, issuer_id: int | None, name: str) -> EndorserLogo | None:
    cond = EndorserLogo.issuer_id.is_(None) if issuer_id is None else EndorserLogo.issuer_id == issuer_id
    return db.scalar(sa.select(EndorserLogo).where(cond, EndorserLogo.endorser_name == name))


def _changed(db: Session) -> None:
    """Logos changed: cached trust data and our cached printed passports are redrawn."""
    from passport.certificates.models import Artifact
    from passport.verify import trust

    db.execute(sa.delete(Artifact).where(Artifact.kind.in_(("a4.pdf", "card.pdf", "phone.png"))))
    trust.invalidate()


def set_logo(db: Session, principal: Principal | None, issuer_id: int | None, endorser: str, data: bytes
             ) -> EndorserLogo:
    """Upload (or replace) the logo of ``endorser`` for our scheme (``issuer_id`` None) or a trusted
    issuer. Scheme admins only."""
    _require_admin(db, principal)
    names = endorsers_of(db, issuer_id)
    if endorser not in names:
        raise ValidationError("Choose one of the endorsing organisations.",
                              {"endorser": "Choose one of the endorsing organisations."})
    png, width, height = clean(data)
    row = _row(db, issuer_id, endorser) or EndorserLogo(issuer_id=issuer_id, endorser_name=endorser)
    row.png, row.sha256, row.width, row.height = png, digest(png), width, height
    row.uploaded_by_id = principal.person_id if principal is not None else None
    from passport.db import utcnow

    row.uploaded_at = utcnow()
    db.add(row)
    db.flush()
    actor = principal.actor if principal is not None else audit.Actor.system("command line")
    audit.record(db, actor, "endorser_logo.set", "endorser_logo", row.id, issuer_id=issuer_id, endorser=endorser,
                 sha256=row.sha256, width=width, height=height)
    _changed(db)
    return row


def remove_logo(db: Session, principal: Principal | None, issuer_id: int | None, endorser: str) -> None:
    _require_admin(db, principal)
    endorsers_of(db, issuer_id)
    row = _row(db, issuer_id, endorser)
    if row is None:
        raise NotFound("That organisation has no logo.")
    db.delete(row)
    db.flush()
    actor = principal.actor if principal is not None else audit.Actor.system("command line")
    audit.record(db, actor, "endorser_logo.remove", "endorser_logo", row.id, issuer_id=issuer_id, endorser=endorser)
    _changed(db)


# --- reading -----------------------------------------------------------------------------------------


def logo_table(db: Session) -> dict[tuple[int | None, str], EndorserLogo]:
    """Every logo by (issuer id or None for our scheme, endorser name), without the bytes loaded."""
    rows = db.execute(sa.select(EndorserLogo.issuer_id, EndorserLogo.endorser_name, EndorserLogo.sha256,
                                EndorserLogo.width, EndorserLogo.height))
    return {(r.issuer_id, r.endorser_name): r for r in rows}


def attach(db: Session, public_url: str, issuers: dict, own_iss: str) -> None:
    """Give each issuer in a trust store (built from our database) the logos of its endorsers:
    ``issuer.logos`` = {endorser name: {"sha256", "url"}}."""
    table = logo_table(db)
    ids = dict(db.execute(sa.select(IssuerRow.iss, IssuerRow.id).where(IssuerRow.removed_at.is_(None))).all())
    for iss, issuer in issuers.items():
        key = None if iss == own_iss else ids.get(iss)
        if iss != own_iss and key is None:
            continue
        issuer.logos = {name: {"sha256": table[(key, name)].sha256, "url": public_url + logo_path(table[(key, name)].sha256)}
                        for name in issuer.endorsers if (key, name) in table}


def logo_bytes(db: Session, sha256: str) -> bytes | None:
    """The stored PNG with this digest, only if its bytes still hash to it (else None: never served)."""
    if not isinstance(sha256, str) or not SHA256_RE.match(sha256):
        return None
    for png in db.scalars(sa.select(EndorserLogo.png).where(EndorserLogo.sha256 == sha256)):
        if digest(png) == sha256:
            return png
    return None


def verified(db: Session, issuer_json: dict) -> list[dict]:
    """For a verification result's issuer: its endorsers in order, each with ``logo`` (a same-origin
    path) only when our stored bytes match the signed digest. Nothing here comes from the token."""
    out = []
    for item in issuer_json.get("logos") or []:
        ok = logo_bytes(db, item.get("sha256")) is not None if item.get("sha256") else False
        out.append({"name": item["name"], "logo": logo_path(item["sha256"]) if ok else None})
    return out


def own_partner_logos(db: Session) -> dict[str, bytes]:
    """Our scheme's partners' logo PNGs by endorser name (for the printed card), digest-checked."""
    rows = db.execute(sa.select(EndorserLogo.endorser_name, EndorserLogo.png, EndorserLogo.sha256)
                      .where(EndorserLogo.issuer_id.is_(None)))
    return {r.endorser_name: r.png for r in rows if digest(r.png) == r.sha256}
