"""The evidence pack for a home: one printable document (HTML and PDF) a registered manager hands an
inspector. Sections: training compliance by subject and by person; Care Certificate progress for staff in
their first 12 weeks; supervision and appraisal status; the delegated-task register with the professionals
who signed off; sections other plugins contribute (``evidence_pack``, e.g. induction from the companion
plugin); and what changed since the last pack. Each section states its source and the date its figures
are as at; the PDF repeats the home, the date and the sources at the foot of every page.

Each pack produced is recorded (``EvidencePack``: who, when, headline figures) so the next one can say
what changed.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport import audit
from passport.core.access import Principal, has_role, today
from passport.core.models import Membership, Organisation, Person
from passport.core.timeutil import format_date, format_uk
from passport.courses import matrix as mx
from passport.courses.progress import progress
from passport.db import utcnow
from passport.delegation.models import Competency, Delegation, Resident, Task
from passport.errors import PermissionDenied
from passport.escaping import pdf_markup, pdf_text
from passport.inspection import supervision
from passport.inspection.models import KIND_LABELS, EvidencePack

PACK_ROLES = ("registered_manager", "org_admin", "training_lead")
NEW_STARTER_DAYS = 84  # the first 12 weeks
Section = Callable[[Session, int, date], dict | None]


@dataclass
class Pack:
    org: Organisation
    on: date
    produced_at: datetime
    produced_by: str
    sections: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    previous_at: datetime | None = None

    @property
    def sources(self) -> str:
        return "; ".join(dict.fromkeys(s["source"] for s in self.sections))


def _section(key: str, title: str, source: str, columns: list[str], rows: list[list], note: str = "") -> dict:
    return {"key": key, "title": title, "source": source, "columns": columns, "rows": rows, "note": note}


def _training(db: Session, principal: Principal, org_id: int, on: date) -> tuple[list[dict], dict]:
    m = mx.home_matrix(db, principal, org_id, on=on)
    names = {s.code: s.name for s in m.subjects}
    by_subject = [[s.name, m.subject_stats[s.code]["required"], m.subject_stats[s.code]["green"],
                   m.subject_stats[s.code]["amber"], m.subject_stats[s.code]["red"],
                   f"{m.subject_stats[s.code]['percent']}%" if m.subject_stats[s.code]["percent"] is not None else "–"]
                  for s in m.subjects]
    by_person = []
    for r in m.rows:
        gaps = [names[c] + (" (missing)" if cell.missing else f" (expired {format_date(cell.expires_on)})")
                for c, cell in r.cells.items() if cell.state == "red"]
        due = [f"{names[c]} ({format_date(cell.expires_on)})" for c, cell in r.cells.items() if cell.state == "amber"]
        by_person.append([r.person.full_name, mx.job_role_label(r.job_role), r.required, r.in_date,
                          f"{r.percent}%" if r.percent is not None else "–", "; ".join(gaps) or "None",
                          "; ".join(due) or "None"])
    source = f"Training records held by this service (all providers), requirements set by {m.org.name}"
    total = m.totals.get("percent")
    return [
        _section("training_subjects", "Training compliance by subject", source,
                 ["Subject", "Required", "In date", "Due soon", "Expired or missing", "Compliance"], by_subject,
                 f"Overall {total if total is not None else '–'}% of required training in date on {format_date(on)}; "
                 f"due soon means expiring within {m.window} days."),
        _section("training_people", "Training compliance by person", source,
                 ["Name", "Job role", "Required", "In date", "Compliance", "Expired or missing", "Due soon"], by_person),
    ], {"compliance": total, "subjects": {s[0]: s[5] for s in by_subject},
        "people": {str(r.person.id): r.person.full_name for r in m.rows}}


def _care_certificate(db: Session, org_id: int, on: date) -> tuple[dict, int]:
    starters = db.execute(sa.select(Person, sa.func.min(Membership.start_date))
                          .join(Membership, Membership.person_id == Person.id)
                          .where(Membership.org_id == org_id, Membership.role == "worker",
                                 Membership.start_date > on - timedelta(days=NEW_STARTER_DAYS),
                                 Membership.start_date <= on,
                                 sa.or_(Membership.end_date.is_(None), Membership.end_date >= on))
                          .group_by(Person.id).order_by(Person.family_name, Person.given_name)).all()
    rows = []
    for person, started in starters:
        p = progress(db, person.id)
        weeks = (on - started).days // 7
        rows.append([person.full_name, format_date(started), f"week {weeks + 1} of 12", p["framework"],
                     f"{p['signed_off']} of {p['total']}",
                     "Complete" + (f" ({format_date(p['awarded_on'])})" if p["awarded_on"] else "")
                     if p["complete"] else "In progress"])
    return _section("care_certificate", "Care Certificate progress: staff in their first 12 weeks",
                    "Care Certificate sign-offs and assessments held by this service", 
                    ["Name", "Started", "Week", "Framework", "Standards signed off", "Status"], rows,
                    "Nobody started in the last 12 weeks." if not rows else ""), len(rows)


def _supervision(db: Session, org_id: int, on: date) -> tuple[dict, int]:
    rows, overdue = [], 0
    for r in supervision.status(db, [org_id], on)[org_id]:
        for kind in ("supervision", "appraisal"):
            d = r.items.get(kind)
            if d is None:
                continue
            overdue += d.state == "overdue"
            rows.append([r.person.full_name, mx.job_role_label(r.job_role), KIND_LABELS[kind],
                         f"every {d.every_weeks} weeks", format_date(d.last_held) if d.last_held else "Never",
                         format_date(d.due_on), supervision.STATE_LABELS[d.state]])
    return _section("supervision", "Supervision and appraisal", "Supervision records held by this service "
                    "(dates only: notes stay private to the people in the session and the registered manager)",
                    ["Name", "Job role", "Kind", "Frequency", "Last held", "Next due", "Status"], rows,
                    "No frequencies set for this home yet." if not rows else ""), overdue


def _delegations(db: Session, org_id: int, on: date) -> tuple[dict, int]:
    now = utcnow()
    prof = sa.orm.aliased(Person)
    worker = sa.orm.aliased(Person)
    q = (sa.select(Delegation, Task.name, worker, prof, Organisation.name, Competency.valid_until, Competency.level)
         .join(Task, Task.id == Delegation.task_id).join(worker, worker.id == Delegation.worker_id)
         .outerjoin(prof, prof.id == Delegation.delegated_by_id)
         .join(Organisation, Organisation.id == Delegation.delegator_org_id)
         .join(Competency, Competency.id == Delegation.competency_id)
         .join(Resident, Resident.id == Delegation.resident_id)
         .options(sa.orm.contains_eager(Delegation.resident))
         .where(Delegation.org_id == org_id, Delegation.start_date <= on,
                sa.or_(Delegation.ended_at.is_(None), Delegation.ended_at > now),
                Competency.valid_until >= on, sa.or_(Competency.ended_at.is_(None), Competency.ended_at > now))
         .order_by(Task.name, Resident.label, worker.family_name))
    rows = []
    for d, task, w, p, porg, until, level in db.execute(q):
        who = f"{p.full_name}" + (f" ({p.registration_body} {p.registration_pin})" if p and p.registration_body else "") \
            if p else "Not recorded"
        rows.append([task, d.resident_ref, w.full_name, level.replace("_", " "), f"{who}, {porg}",
                     format_date(d.start_date), format_date(d.review_date), format_date(until)])
    return _section("delegations", "Delegated healthcare tasks register",
                    "Delegations and competence sign-offs recorded by registered professionals in this service",
                    ["Task", "Resident", "Worker", "Level", "Signed off by", "Since", "Review by",
                     "Competence valid until"], rows,
                    "No open delegations at this home." if not rows else ""), len(rows)


def _changes(previous: EvidencePack | None, summary: dict) -> dict:
    source = "Comparison with the figures recorded when the last pack was produced"
    if previous is None:
        return _section("changes", "What changed since the last pack", source, ["Change"], [],
                        "This is the first evidence pack for this home.")
    old = json.loads(previous.summary or "{}")
    rows = []
    joined = [n for i, n in summary["people"].items() if i not in old.get("people", {})]
    left = [n for i, n in old.get("people", {}).items() if i not in summary["people"]]
    if joined:
        rows.append([f"Joined: {', '.join(sorted(joined))}"])
    if left:
        rows.append([f"Left: {', '.join(sorted(left))}"])
    for key, label in (("compliance", "Overall training compliance"),):
        if old.get(key) != summary.get(key):
            rows.append([f"{label}: {old.get(key, '–')}% then, {summary.get(key, '–')}% now"])
    for subject, now_pct in summary["subjects"].items():
        then = old.get("subjects", {}).get(subject)
        if then is not None and then != now_pct:
            rows.append([f"{subject}: {then} then, {now_pct} now"])
    for key, label in (("supervision_overdue", "Supervision or appraisal overdue"),
                       ("open_delegations", "Open delegations"), ("new_starters", "Staff in their first 12 weeks")):
        if old.get(key) != summary.get(key):
            rows.append([f"{label}: {old.get(key, '–')} then, {summary.get(key)} now"])
    return _section("changes", "What changed since the last pack", source, ["Change"], rows,
                    f"The last pack was produced {format_uk(previous.produced_at)}."
                    + ("" if rows else " Nothing in these figures has changed."))


def require_pack(db: Session, principal: Principal, org_id) -> Organisation:
    org = db.get(Organisation, org_id) if isinstance(org_id, int) and 0 < org_id < 2**63 else None
    if org is None or not has_role(db, principal, PACK_ROLES, org_id):
        raise PermissionDenied("Only the home's registered manager, training lead or admin can produce its "
                               "evidence pack.")
    return org


def build(db: Session, principal: Principal, org_id: int, extra_sections: Iterable[tuple[str, Section]] = (),
          on: date | None = None, record: bool = True) -> Pack:
    """Gather the pack. ``record`` stores its headline figures and audits it (the views and CLI do)."""
    org = require_pack(db, principal, org_id)
    on = on or today()
    pack = Pack(org=org, on=on, produced_at=utcnow(), produced_by=principal.person.full_name)
    training, summary = _training(db, principal, org_id, on)
    cc, starters = _care_certificate(db, org_id, on)
    sup, overdue = _supervision(db, org_id, on)
    dl, open_delegations = _delegations(db, org_id, on)
    pack.sections = training + [cc, sup, dl]
    for _name, fn in extra_sections:
        section = fn(db, org_id, on)
        if section:
            pack.sections.append(_section(section.get("key", _name), section["title"], section["source"],
                                          section["columns"], section["rows"], section.get("note", "")))
    summary.update(supervision_overdue=overdue, open_delegations=open_delegations, new_starters=starters)
    pack.summary = summary
    previous = db.scalar(sa.select(EvidencePack).where(EvidencePack.org_id == org_id)
                         .order_by(EvidencePack.id.desc()).limit(1))
    pack.previous_at = previous.produced_at if previous else None
    pack.sections.append(_changes(previous, summary))
    if record:
        row = EvidencePack(org_id=org_id, produced_by_id=principal.person_id, produced_at=pack.produced_at,
                           summary=json.dumps(summary, sort_keys=True))
        db.add(row)
        db.flush()
        audit.record(db, principal.actor, "evidence_pack.produced", "organisation", org_id, org_id=org_id,
                     pack_id=row.id)
    return pack


# --- PDF -----------------------------------------------------------------------------------------


def render_pdf(pack: Pack, compress: bool = True) -> bytes:
    """A4 landscape; the home, the date the figures are as at, when it was produced and the sources are
    printed at the foot of every page. User text goes into Paragraphs through ``escaping.pdf_markup`` and
    onto the canvas through ``escaping.pdf_text``."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    buf = io.BytesIO()
    size = landscape(A4)
    doc = SimpleDocTemplate(buf, pagesize=size, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
                            bottomMargin=20 * mm, title=f"Evidence pack – {pack.org.name}",
                            author="Care training passport", pageCompression=1 if compress else 0)
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7.5, leading=9)
    head = styles["Heading2"].clone("h2", fontSize=12, leading=14, spaceBefore=6)
    story = [Paragraph(pdf_markup(f"Evidence pack – {pack.org.name}"), styles["Title"]),
             Paragraph(pdf_markup(f"Figures as at {format_date(pack.on)}. Produced {format_uk(pack.produced_at)} "
                                 f"by {pack.produced_by}."
                                 + (f" CQC location {pack.org.cqc_location_id}." if pack.org.cqc_location_id else "")),
                       small), Spacer(1, 3 * mm)]
    width = size[0] - 24 * mm
    for s in pack.sections:
        block = [Paragraph(pdf_markup(s["title"]), head),
                 Paragraph(pdf_markup(f"Source: {s['source']}. As at {format_date(pack.on)}."), small)]
        if s["note"]:
            block.append(Paragraph(pdf_markup(s["note"]), small))
        story.append(KeepTogether(block))
        if s["rows"]:
            data = [[Paragraph(f"<b>{pdf_markup(c)}</b>", small) for c in s["columns"]]]
            data += [[Paragraph(pdf_markup(v), small) for v in row] for row in s["rows"]]
            # columns share the width by how much they hold (a long list of gaps gets room, a count does not)
            weight = [min(max([len(str(c))] + [len(str(r[i])) for r in s["rows"]]), 80) + 6
                      for i, c in enumerate(s["columns"])]
            widths = [width * w / sum(weight) for w in weight]
            story.append(Table(data, colWidths=widths, repeatRows=1, style=TableStyle([
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#aeb7bd")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edee")),
                ("VALIGN", (0, 0), (-1, -1), "TOP")])))
        story.append(Spacer(1, 4 * mm))

    footer = pdf_text(f"{pack.org.name} – evidence pack. Figures as at {format_date(pack.on)}; produced "
              f"{format_uk(pack.produced_at)}. Sources: {pack.sources}.")

    def on_page(canvas, doc_):
        canvas.saveState()
        canvas.setFont("Helvetica", 6.5)
        text = canvas.beginText(12 * mm, 12 * mm)
        line = ""
        for word in footer.split():  # wrap the footer to the page width
            if canvas.stringWidth(line + " " + word, "Helvetica", 6.5) > width - 25 * mm:
                text.textLine(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        text.textLine(line)
        canvas.drawText(text)
        canvas.drawRightString(size[0] - 12 * mm, 12 * mm, f"Page {doc_.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue()
