"""Generated logos for the demo's endorsing partners: a simple emblem and the organisation's name, drawn
with Pillow. They look like partner logos on a card without copying anyone's real mark."""
from __future__ import annotations

import io
import math

# name -> (main colour, accent colour, emblem)
STYLES = {
    "Wessex Valley NHS Foundation Trust": ((0, 114, 118), (120, 190, 32), "hills"),
    "North Wessex Care Association": ((125, 35, 110), (255, 184, 28), "hands"),
    "Kennet and Avon Hospitals NHS Foundation Trust": ((35, 80, 150), (65, 182, 230), "river"),
    "Kennet Valley Care Providers Forum": ((190, 80, 20), (250, 200, 60), "sun"),
}


def _font(size: int, bold: bool = True):
    from PIL import ImageFont

    from passport.certificates.render import _font_path

    return ImageFont.truetype(_font_path(bold), size)


def _emblem(d, kind: str, box: tuple[int, int, int, int], main, accent) -> None:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx, cy = x0 + w / 2, y0 + h / 2
    if kind == "hills":
        d.ellipse(box, fill=main)
        d.polygon([(x0 + w * .12, y0 + h * .72), (x0 + w * .42, y0 + h * .36), (x0 + w * .62, y0 + h * .58),
                   (x0 + w * .74, y0 + h * .46), (x0 + w * .9, y0 + h * .72)], fill=accent)
        d.ellipse([x0 + w * .58, y0 + h * .18, x0 + w * .76, y0 + h * .36], fill="white")
    elif kind == "hands":
        d.rounded_rectangle(box, radius=int(w * .22), fill=main)
        for dx, col in ((-.13, accent), (.13, "white")):
            d.ellipse([cx + w * dx - w * .2, cy - h * .2, cx + w * dx + w * .2, cy + h * .2], outline=col,
                      width=max(4, int(w * .07)))
    elif kind == "river":
        d.rectangle(box, fill=main)
        for i in range(3):
            pts = [(x0 + t, y0 + h * (.35 + .18 * i) + math.sin(t / w * 2 * math.pi) * h * .07) for t in range(0, w + 1, 4)]
            d.line(pts, fill=accent if i != 1 else "white", width=max(3, int(h * .07)))
    else:  # sun
        d.ellipse([cx - w * .22, cy - h * .22, cx + w * .22, cy + h * .22], fill=accent)
        for k in range(12):
            a = k * math.pi / 6
            d.line([(cx + math.cos(a) * w * .3, cy + math.sin(a) * h * .3),
                    (cx + math.cos(a) * w * .46, cy + math.sin(a) * h * .46)], fill=main, width=max(3, int(w * .06)))


def draw(name: str) -> bytes:
    """A 600 x 200 PNG logo for ``name`` (any name: unknown ones get a plain style)."""
    from PIL import Image, ImageDraw

    main, accent, kind = STYLES.get(name, ((60, 60, 60), (160, 160, 160), "sun"))
    W, H = 600, 200
    img = Image.new("RGBA", (W, H), (255, 255, 255, 0))
    d = ImageDraw.Draw(img)
    _emblem(d, kind, (10, 20, 170, 180), main, accent)
    words = name.split()
    # the name in up to three lines beside the emblem, as large as fits
    for size in range(46, 14, -2):
        font = _font(size)
        lines, cur = [], ""
        for word in words:
            trial = f"{cur} {word}".strip()
            if d.textlength(trial, font=font) <= W - 200 or not cur:
                cur = trial
            else:
                lines.append(cur)
                cur = word
        lines.append(cur)
        if len(lines) <= 3 and all(d.textlength(line, font=font) <= W - 200 for line in lines):
            break
    top = (H - len(lines) * size * 1.15) / 2
    for i, line in enumerate(lines):
        d.text((190, top + i * size * 1.15), line, font=font, fill=main if i < len(lines) - 1 or i == 0 else accent
               if kind == "hands" else main)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
