"""Renderings of a passport, made on first request and cached in ``certificates_artifact``:
the QR as PNG and SVG, a phone-gallery image, and PDFs (A4 and credit-card size) drawn with reportlab.

Issuing never renders anything (bulk re-issue stays fast); the first download does, once.
The PDFs draw plain text on the canvas (never ``Paragraph`` markup), and every string they and the phone
image show passes ``passport.escaping.pdf_text`` first (see ``_printable``).
"""
from __future__ import annotations

import io
import os

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from passport.certificates import qr
from passport.certificates.models import Artifact, Passport
from passport.certificates.presentation import view_model
from passport.db import intend_to_write
from passport.escaping import pdf_text

KINDS = {
    "qr.png": "image/png",
    "qr.svg": "image/svg+xml",
    "phone.png": "image/png",
    "a4.pdf": "application/pdf",
    "card.pdf": "application/pdf",
}
NHS_BLUE = (0, 94, 184)


def _font_path(bold: bool = False) -> str:
    for path in (f"/usr/share/fonts/truetype/dejavu/DejaVuSans{'-Bold' if bold else ''}.ttf",):
        if os.path.exists(path):
            return path
    import reportlab

    return os.path.join(os.path.dirname(reportlab.__file__), "fonts", "VeraBd.ttf" if bold else "Vera.ttf")


def _printable(value):
    """The view model with every string made printable (``pdf_text``): names, titles and organisation
    names are drawn as text, so nothing is escaped, but control characters and lone surrogates go."""
    if isinstance(value, str):
        return pdf_text(value)
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_printable(v) for v in value)
    return value


def _view(db: Session, p: Passport) -> dict:
    return _printable(view_model(db, p))


def artifact(db: Session, p: Passport, kind: str, public_url: str) -> bytes:
    """The cached rendering ``kind`` (see KINDS) of passport ``p``, rendering and storing it first if
    needed (flushes; the caller commits). Two requests racing to render both succeed."""
    if kind not in KINDS:
        raise ValueError(kind)
    row = db.get(Artifact, (p.id, kind))
    if row is not None:
        return row.content
    content = RENDERERS[kind](db, p, public_url)
    intend_to_write(db)  # a cache fill, also from a GET
    try:
        with db.begin_nested():
            db.add(Artifact(passport_id=p.id, kind=kind, content=content))
    except IntegrityError:
        pass  # another request stored it first: same passport, same picture
    return content


def qr_png(db: Session, p: Passport, public_url: str) -> bytes:
    return qr.png(p.token, public_url, p.qr_mode, p.qr_version)


def qr_svg(db: Session, p: Passport, public_url: str) -> bytes:
    return qr.svg(p.token, public_url, p.qr_mode, p.qr_version)


# --- the phone image ------------------------------------------------------------------------------


def phone_png(db: Session, p: Passport, public_url: str) -> bytes:
    """A 1080 x 1920 image to keep in the phone's photo gallery: name, what is certified, the QR."""
    from PIL import Image, ImageDraw, ImageFont

    vm = _view(db, p)
    W, H, M = 1080, 1920, 60
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    big, mid, small = (ImageFont.truetype(_font_path(True), 64), ImageFont.truetype(_font_path(True), 40),
                       ImageFont.truetype(_font_path(), 34))
    d.rectangle([0, 0, W, 170], fill=NHS_BLUE)
    d.text((M, 55), "Care training passport", font=mid, fill="white")
    y = 210
    for line in _wrap(d, vm["name"], big, W - 2 * M):
        d.text((M, y), line, font=big, fill="black")
        y += 80
    for line in _wrap(d, vm["cc_line"], small, W - 2 * M):
        d.text((M, y), line, font=small, fill="black")
        y += 46
    if vm["competencies"]:
        d.text((M, y), f"{len(vm['competencies'])} delegated healthcare task(s)", font=small, fill="black")
        y += 46
    modules = len(qr.matrix(p.token, public_url, p.qr_mode, p.qr_version)) + 2 * qr.QUIET_ZONE
    box = (W - 2 * M) // modules  # whole pixels per module: crisp, evenly sized modules
    code = Image.open(io.BytesIO(qr.png(p.token, public_url, p.qr_mode, p.qr_version, box_size=box)))
    size = code.size[0]
    img.paste(code.convert("RGB"), ((W - size) // 2, y + 10))
    y += size + 30
    for line in (f"Issued by {vm['issuer']} on {vm['issued_on'].strftime('%-d %B %Y')}",
                 f"Valid until {vm['valid_until'].strftime('%-d %B %Y')}", "Check the name against photo ID."):
        for part in _wrap(d, line, small, W - 2 * M):
            d.text((M, y), part, font=small, fill="black")
            y += 44
    if vm["endorsers"]:
        d.line([M, H - 150, W - M, H - 150], fill=NHS_BLUE, width=3)
        for i, part in enumerate(_wrap(d, "Endorsed by " + " · ".join(vm["endorsers"]), small, W - 2 * M)[:2]):
            d.text((M, H - 130 + i * 44), part, font=small, fill=NHS_BLUE)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _wrap(draw, text: str, font, width: int) -> list[str]:
    lines, cur = [], ""
    for word in text.split():
        trial = f"{cur} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not cur:
            cur = trial
        else:
            lines.append(cur)
            cur = word
    return lines + ([cur] if cur else [])


# --- PDFs -------------------------------------------------------------------------------------------


def _fonts():
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "PassportSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("PassportSans", _font_path()))
        pdfmetrics.registerFont(TTFont("PassportSans-Bold", _font_path(True)))
    return "PassportSans", "PassportSans-Bold"


def _draw_qr(c, p: Passport, public_url: str, x: float, y: float, size: float) -> None:
    """Draw the QR as vector squares: ``size`` is the symbol without its quiet zone (kept white around)."""
    m = qr.matrix(p.token, public_url, p.qr_mode, p.qr_version)
    n = len(m)
    cell = size / n
    quiet = qr.QUIET_ZONE * cell
    c.setFillColorRGB(1, 1, 1)
    c.rect(x - quiet, y - quiet, size + 2 * quiet, size + 2 * quiet, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(m):
        run_start = None
        for col in range(n + 1):
            dark = col < n and row[col]
            if dark and run_start is None:
                run_start = col
            elif not dark and run_start is not None:
                c.rect(x + run_start * cell, y + size - (r + 1) * cell, (col - run_start) * cell, cell, stroke=0, fill=1)
                run_start = None


def _lines(c, text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` wrapped at word boundaries to ``width`` (``c`` is unused; kept for callers)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines, cur = [], ""
    for word in text.split():
        trial = f"{cur} {word}".strip()
        if stringWidth(trial, font, size) <= width or not cur:
            cur = trial
        else:
            lines.append(cur)
            cur = word
    return lines + ([cur] if cur else [])


def a4_pdf(db: Session, p: Passport, public_url: str) -> bytes:
    """A4 portrait: name, what is certified, competencies, QR (60 mm), endorsers along the bottom."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    regular, bold = _fonts()
    vm = _view(db, p)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle(f"Care training passport – {vm['name']}")
    W, H = A4
    M = 18 * mm
    c.setFillColorRGB(*(v / 255 for v in NHS_BLUE))
    c.rect(0, H - 28 * mm, W, 28 * mm, stroke=0, fill=1)
    c.setFillColorRGB(1, 1, 1)
    c.setFont(bold, 20)
    c.drawString(M, H - 17 * mm, "Care training passport")
    c.setFont(regular, 10)
    c.drawString(M, H - 23 * mm, vm["scheme"])
    c.setFillColorRGB(0, 0, 0)
    y = H - 45 * mm
    c.setFont(bold, 24)
    c.drawString(M, y, vm["name"])
    y -= 10 * mm
    c.setFont(regular, 12)
    for line in _lines(c, vm["cc_line"], regular, 12, W - 2 * M):
        c.drawString(M, y, line)
        y -= 6 * mm
    y -= 2 * mm
    c.setFont(regular, 8.5)
    # a complete certificate is said in one line; otherwise the standards met are listed
    standards = [] if p.awarded_on and vm["subjects"] else vm["standards"]
    half = (len(standards) + 1) // 2  # two columns
    col_w = (W - 2 * M) / 2
    for i, (n, title) in enumerate(standards):
        col, row = divmod(i, half)
        c.drawString(M + col * col_w, y - row * 4.4 * mm, _fit(f"{n}. {title}", regular, 8.5, col_w - 3 * mm))
    y -= half * 4.4 * mm
    if vm["competencies"]:
        y -= 3 * mm
        c.setFont(bold, 12)
        c.drawString(M, y, "Delegated healthcare tasks")
        y -= 6 * mm
        c.setFont(regular, 9)
        for comp in vm["competencies"]:
            text = f"{comp['name']} – {comp['level_label']}, valid until {comp['valid_until'].strftime('%-d %B %Y')}"
            for j, line in enumerate(_lines(c, text, regular, 9, W - 2 * M - 4 * mm)[:2]):
                c.drawString(M + (4 * mm if j else 0), y, line)
                y -= 4.2 * mm
            y -= 0.6 * mm
    y = _a4_training(c, vm, M, y, W - 2 * M, regular, bold)
    qy = 48 * mm  # above the endorsers; the QR shrinks (never below 42 mm) if the facts run long
    qr_size = max(42 * mm, min(60 * mm, y - 6 * mm - qy))
    qx = W - M - qr_size
    _draw_qr(c, p, public_url, qx, qy, qr_size)
    c.setFont(regular, 10)
    tx = M
    for i, line in enumerate((f"Issued by {vm['issuer']}", f"Issued on {vm['issued_on'].strftime('%-d %B %Y')}",
                              f"Valid until {vm['valid_until'].strftime('%-d %B %Y')}", f"Passport ID {vm['short_id']}",
                              "Scan the code to check this passport.", "Compare the name with photo ID.")):
        c.drawString(tx, qy + qr_size - 4 * mm - i * 6 * mm, line)
    _endorsers(c, vm["endorsers"], M, 14 * mm, W - 2 * M, 26 * mm, regular, bold, 10)
    c.showPage()
    c.save()
    return buf.getvalue()


def _endorsers(c, names, x, y, width, height, regular, bold, size) -> None:
    """Endorsing organisations along the bottom, each in its own box (their 'logo' tiles)."""
    if not names:
        return
    from reportlab.lib.units import mm

    c.setStrokeColorRGB(*(v / 255 for v in NHS_BLUE))
    c.setFillColorRGB(*(v / 255 for v in NHS_BLUE))
    c.setFont(bold, size * 0.8)
    c.drawString(x, y + height + 1.5 * mm, "Endorsed by")
    gap = 2 * mm
    w = (width - gap * (len(names) - 1)) / len(names)
    for i, name in enumerate(names):
        bx = x + i * (w + gap)
        c.setLineWidth(0.8)
        c.roundRect(bx, y, w, height, 1.5 * mm, stroke=1, fill=0)
        lines = _lines(c, name, bold, size, w - 3 * mm)[:3]
        c.setFont(bold, size)
        for j, line in enumerate(lines):
            c.drawCentredString(bx + w / 2, y + height / 2 + (len(lines) / 2 - j - 0.8) * size * 1.15, line)
    c.setFillColorRGB(0, 0, 0)


def card_pdf(db: Session, p: Passport, public_url: str) -> bytes:
    """Credit-card size (85.6 x 54 mm), two pages (front and back). Front: name, Care Certificate,
    validity, the QR at 40 mm and the endorsers along the bottom. Back: delegated tasks and issuer."""
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    regular, bold = _fonts()
    vm = _view(db, p)
    W, H = 85.6 * mm, 53.98 * mm
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(W, H), pageCompression=1)
    c.setTitle(f"Care training passport card – {vm['name']}")
    qr_size = 40 * mm
    qx, qy = W - qr_size - 3 * mm, (H - qr_size) / 2
    _draw_qr(c, p, public_url, qx, qy, qr_size)
    left = qx - 5 * mm  # width of the text column
    c.setFillColorRGB(*(v / 255 for v in NHS_BLUE))
    c.setFont(bold, 6.5)
    c.drawString(3 * mm, H - 6 * mm, "Care training passport")
    c.setFillColorRGB(0, 0, 0)
    y = H - 11 * mm
    from reportlab.pdfbase.pdfmetrics import stringWidth

    name_size = 9.0  # smaller type for a long name, so no word runs into the QR's quiet zone
    while name_size > 5 and max(stringWidth(w, bold, name_size) for w in vm["name"].split()) > left - 2 * mm:
        name_size -= 0.5
    c.setFont(bold, name_size)
    for line in _lines(c, vm["name"], bold, name_size, left - 2 * mm)[:3]:
        c.drawString(3 * mm, y, line)
        y -= name_size * 0.42 * mm
    c.setFont(regular, 5.5)
    for line in _lines(c, vm["cc_line"], regular, 5.5, left)[:3]:
        c.drawString(3 * mm, y, line)
        y -= 2.5 * mm
    if vm["competencies"]:
        n = len(vm["competencies"])
        for line in _lines(c, f"{n} delegated healthcare task{'s' if n > 1 else ''}: see the back", regular, 5.5,
                           left)[:2]:
            c.drawString(3 * mm, y, line)
            y -= 2.5 * mm
    y -= 0.8 * mm
    for line in (f"Valid until {vm['valid_until'].strftime('%-d %b %Y')}", f"ID {vm['short_id']}",
                 "Scan to check. Compare with photo ID."):
        c.drawString(3 * mm, y, line)
        y -= 2.5 * mm
    _endorsers(c, vm["endorsers"], 3 * mm, 3 * mm, left, 7 * mm, regular, bold, 4.5)
    c.showPage()
    _card_back(c, vm, W, H, regular, bold)
    c.showPage()
    c.save()
    return buf.getvalue()


def _text(c, x: float, y: float, text: str, font: str, size: float) -> None:
    """Every piece of text on the card back and the training sections goes through here."""
    c.setFont(font, size)
    c.drawString(x, y, text)


def _a4_training(c, vm: dict, x: float, y: float, width: float, regular: str, bold: str) -> float:
    """Mandatory training (two columns, with dates) and the qualification on the A4 sheet; returns the new y."""
    from reportlab.lib.units import mm

    if vm["subjects"]:
        y -= 3 * mm
        _text(c, x, y, "Mandatory training (in date when issued)", bold, 12)
        y -= 5.5 * mm
        half = (len(vm["subjects"]) + 1) // 2
        col_w = width / 2
        cells = []
        for m in vm["subjects"]:
            until = f" – {m['expires_on'].strftime('%-d %b %Y')}" if m["expires_on"] else ""
            cells.append(_lines(None, f"{m['name']}: {m['completed_on'].strftime('%-d %b %Y')}{until}", regular, 8,
                                col_w - 3 * mm))
        for row in range(half):  # each row as tall as its longer cell: nothing is cut
            pair = [cells[row]] + ([cells[row + half]] if row + half < len(cells) else [])
            for col, lines in enumerate(pair):
                for j, line in enumerate(lines):
                    _text(c, x + col * col_w + (3 * mm if j else 0), y - j * 3.4 * mm, line, regular, 8)
            y -= max(len(ls) for ls in pair) * 3.4 * mm + 0.8 * mm
    if vm["qualification"]:
        q = vm["qualification"]
        y -= 2 * mm
        for line in _lines(None, f"{q['title']}: {q['awarding_organisation']} {q['qualification_number']}, achieved "
                                 f"{q['achieved_on'].strftime('%-d %B %Y')}", regular, 9, width):
            _text(c, x, y, line, regular, 9)
            y -= 4.4 * mm
    return y


def _card_back_lines(vm: dict, size: float, width: float, regular: str, bold: str) -> list[tuple[str, str, float]]:
    """The card back as (text, font, line height) at font ``size``: tasks and subjects with dates,
    wrapped (never cut), then the qualification, the issuer and how to check."""
    out = [(vm["name"], bold, size * 1.5)]
    lead = size * 1.25
    if vm["competencies"]:
        out.append(("Delegated healthcare tasks", bold, lead))
        for comp in vm["competencies"]:
            text = f"{comp['name']} – {comp['level_label'].lower()}, until {comp['valid_until'].strftime('%-d %b %Y')}"
            out += [(line, regular, lead) for line in _lines(None, text, regular, size, width)]
    if vm["subjects"]:
        out.append(("Mandatory training: completed, in date until", bold, lead))
        items = [f"{m['name']} {m['completed_on'].strftime('%-d %b %y')}"
                 + (f"–{m['expires_on'].strftime('%-d %b %y')}" if m["expires_on"] else "") for m in vm["subjects"]]
        out += [(line, regular, lead) for line in _lines(None, " · ".join(items), regular, size, width)]
    if vm["qualification"]:
        q = vm["qualification"]
        out += [(line, regular, lead) for line in _lines(
            None, f"{q['title']}, {q['awarding_organisation']} {q['qualification_number']}, achieved "
                  f"{q['achieved_on'].strftime('%-d %b %Y')}", regular, size, width)]
    out += [(line, regular, lead) for line in _lines(
        None, f"Issued by {vm['issuer']} on {vm['issued_on'].strftime('%-d %b %Y')}. To check it, scan the QR code "
              "on the front with a phone camera and compare the name with photo ID.", regular, size, width)]
    return out


def _card_back(c, vm: dict, W: float, H: float, regular: str, bold: str) -> None:
    """The back of the ID-1 card: the largest type (6.5 pt down to 3.6 pt) at which everything fits."""
    from reportlab.lib.units import mm

    margin, width = 3 * mm, W - 6 * mm
    size = 6.5
    while True:
        lines = _card_back_lines(vm, size, width, regular, bold)
        if sum(h for _t, _f, h in lines) <= H - 2 * margin or size <= 3.6:
            break
        size = round(size - 0.2, 2)
    y = H - margin - size
    for text, font, height in lines:
        _text(c, margin, y, text, font, size * (1.2 if height > size * 1.3 else 1))
        y -= height


def short_task(name: str) -> str:
    """A task name short enough for the card: up to the first bracket or colon."""
    for sep in (" (", ":"):
        name = name.split(sep, 1)[0]
    return name.strip()


def _fit(text: str, font: str, size: float, width: float) -> str:
    """``text`` cut at a word boundary with an ellipsis so it fits ``width``."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if stringWidth(text, font, size) <= width:
        return text
    words = text.split()
    while words and stringWidth(" ".join(words) + "…", font, size) > width:
        words.pop()
    return (" ".join(words) or text[:10]) + "…"


RENDERERS = {"qr.png": qr_png, "qr.svg": qr_svg, "phone.png": phone_png, "a4.pdf": a4_pdf, "card.pdf": card_pdf}

