"""Matrix exports: CSV (safe to open in a spreadsheet) and PDF (A4 landscape, for an inspection).

User text reaches both only through ``passport.escaping`` (``write_csv``, ``paragraph``, ``pdf_text``)."""
from __future__ import annotations

import io

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, SimpleDocTemplate, Spacer, Table, TableStyle

from reportlab.pdfbase.pdfmetrics import stringWidth

from passport.courses.matrix import STATE_LABELS, Matrix, cell_label, job_role_label
from passport.escaping import paragraph, pdf_text, write_csv

__all__ = ["cell_text", "matrix_csv", "matrix_pdf", "write_csv"]


def _uk(d) -> str:
    return d.strftime("%d/%m/%Y") if d else ""


def cell_text(cell) -> str:
    if cell is None or cell.state == "none":
        return "Not required"
    if cell.missing:
        text = "Missing"
    elif cell.never_expires:
        text = f"In date (completed {_uk(cell.completed_on)}, does not expire)"
    else:
        text = f"{STATE_LABELS[cell.state]} (expires {_uk(cell.expires_on)})"
    if cell.booked_on:
        text += f"; booked {_uk(cell.booked_on)}"
    return text


def matrix_csv(m: Matrix) -> str:
    header = ["Name", "Job role", "Compliance %"] + [s.name for s in m.subjects]
    rows = [header]
    for r in m.rows:
        rows.append([r.person.full_name, job_role_label(r.job_role), "" if r.percent is None else r.percent]
                    + [cell_text(r.cells.get(s.code)) for s in m.subjects])
    rows.append(["Compliance % by subject", "", m.totals.get("percent") or ""]
                + [m.subject_stats[s.code]["percent"] if m.subject_stats[s.code]["percent"] is not None else ""
                   for s in m.subjects])
    return write_csv(rows)


class _Vertical(Flowable):
    """A table header drawn sideways, so twenty subjects fit across A4 landscape. The name is wrapped onto as
    many sideways lines as the column is wide, never cut, and the flowable reports the height it really
    needs, so the header row grows instead of running up into the subtitle."""

    FONT = "Helvetica"

    def __init__(self, text: str, width: float, size: float = 6.5):
        super().__init__()
        self.text, self.size, self.leading = pdf_text(text), size, size + 1
        max_lines = max(int((width - 2) // self.leading), 1)
        self.lines = self._fit(max_lines)
        self.height = max(stringWidth(line, self.FONT, self.size) for line in self.lines) + 8

    def _fit(self, max_lines: int) -> list[str]:
        """The shortest sideways height whose word wrap fits in ``max_lines`` lines (a long word stays whole)."""
        words = self.text.split() or [""]
        longest = max(stringWidth(w, self.FONT, self.size) for w in words)
        total = stringWidth(self.text, self.FONT, self.size)
        height = max(longest, 20 * mm)
        while True:
            lines = self._wrap(words, height)
            if len(lines) <= max_lines or height >= total:
                return lines
            height += 2 * mm

    def _wrap(self, words: list[str], height: float) -> list[str]:
        lines, line = [], ""
        for w in words:
            candidate = f"{line} {w}".strip()
            if line and stringWidth(candidate, self.FONT, self.size) > height:
                lines.append(line)
                line = w
            else:
                line = candidate
        return lines + [line]

    def wrap(self, avail_w, avail_h):
        return len(self.lines) * self.leading + 2, self.height

    def draw(self):
        c = self.canv
        c.saveState()
        c.setFont(self.FONT, self.size)
        c.rotate(90)
        for i, line in enumerate(self.lines):
            c.drawString(4, -(self.size + i * self.leading), line)
        c.restoreState()


FILL = {"green": colors.HexColor("#007f3b"), "amber": colors.HexColor("#ffeb3b"), "red": colors.HexColor("#d5281b"),
        "none": colors.HexColor("#f0f4f5")}
INK = {"green": colors.white, "amber": colors.HexColor("#212b32"), "red": colors.white, "none": colors.HexColor("#4c6272")}


PDF_MARKS = {"green": "", "amber": "Due", "red": "Expired"}  # Helvetica has no tick: in date shows the date alone


def _short(cell) -> str:
    if cell is None or cell.state == "none":
        return "–"
    return cell_label(cell, lambda d: d.strftime("%d/%m/%y"), marks=PDF_MARKS, sep="\n").replace("No expiry",
                                                                                                   "No\nexpiry")


def matrix_pdf(m: Matrix) -> bytes:
    """The matrix on A4 landscape: one coloured cell per person and subject with its expiry date, plus
    compliance by person and subject, and a key (colour is never the only signal: cells carry text)."""
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=10 * mm, rightMargin=10 * mm, topMargin=10 * mm,
                            bottomMargin=10 * mm, title=pdf_text(f"Training matrix – {m.org.name}"))
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7, leading=8)
    percent = m.totals.get("percent")
    story = [paragraph("Training matrix – {name}", styles["Title"], name=m.org.name),
             paragraph("On {on}. Due soon means expiring within {window} days. Compliance {percent}% ({in_date} of "
                       "{required} required subjects in date). Cells show the expiry date, after 'Due' when due soon "
                       "and 'Expired' when expired; 'Missing' means no record.",
                       small, on=m.on.strftime("%-d %B %Y"), window=m.window,
                       percent=percent if percent is not None else "–",
                       in_date=m.totals.get("green", 0) + m.totals.get("amber", 0),
                       required=m.totals.get("required", 0)),
             Spacer(1, 3 * mm)]
    header = [paragraph("<b>Name</b>", small), paragraph("<b>Job role</b>", small), paragraph("<b>%</b>", small)]
    name_w, role_w, pct_w = 42 * mm, 28 * mm, 9 * mm
    avail = landscape(A4)[0] - 20 * mm - name_w - role_w - pct_w
    col = max(min(avail / max(len(m.subjects), 1), 20 * mm), 9 * mm)
    header += [_Vertical(s.name, col) for s in m.subjects]
    data = [header]
    style = [("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#aeb7bd")),
             ("FONTSIZE", (0, 1), (-1, -1), 6.5), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
             ("ALIGN", (2, 1), (-1, -1), "CENTER"), ("REPEATROWS", (0, 0), (-1, 0))]
    for i, r in enumerate(m.rows, start=1):
        data.append([paragraph("{name}", small, name=r.person.full_name),
                     paragraph("{role}", small, role=job_role_label(r.job_role)),
                     "" if r.percent is None else f"{r.percent}"] + [_short(r.cells.get(s.code)) for s in m.subjects])
        for j, s in enumerate(m.subjects, start=3):
            state = r.cells[s.code].state if s.code in r.cells else "none"
            style += [("BACKGROUND", (j, i), (j, i), FILL[state]), ("TEXTCOLOR", (j, i), (j, i), INK[state])]
    footer = ["Compliance by subject", "", f"{m.totals.get('percent') or '–'}"] + [
        f"{m.subject_stats[s.code]['percent']}%" if m.subject_stats[s.code]["percent"] is not None else "–"
        for s in m.subjects]
    data.append(footer)
    style.append(("FONTNAME", (0, len(data) - 1), (-1, len(data) - 1), "Helvetica-Bold"))
    story.append(Table(data, colWidths=[name_w, role_w, pct_w] + [col] * len(m.subjects), style=TableStyle(style)))
    story += [Spacer(1, 3 * mm), paragraph("Key: a date alone (green) = in date, expiring then; 'Due' (yellow) = due "
                                           "soon; 'Expired' or 'Missing' (red) = expired or no record; dash (grey) = "
                                           "not required for the job role. The words carry the status, so the key "
                                           "holds in black and white.", small)]
    doc.build(story)
    return buf.getvalue()
