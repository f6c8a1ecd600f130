"""Plain-English views of a passport shared by the pages, the PDFs, the phone image and the OB export."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport.certificates.models import Passport
from passport.core.catalogue_data import DELEGATED_TASKS
from passport.core.models import CCStandard
from passport.core.services import endorsing_organisations, get_scheme

LEVEL_LABELS = {"observed": "Observed only", "supervised": "Under supervision",
                "safe_unsupervised": "Safe to do unsupervised"}
_TASK_NAMES = {t["code"]: t["name"] for t in DELEGATED_TASKS}


def task_name(code: str) -> str:
    return _TASK_NAMES.get(code) or code.replace("_", " ").capitalize()


def competency_rows(p: Passport) -> list[dict]:
    return [{"code": code, "name": task_name(code), "level": level, "level_label": LEVEL_LABELS.get(level, level),
             "valid_until": date.fromisoformat(until)} for code, level, until in p.competencies]


def standard_titles(db: Session, framework: str) -> dict[int, str]:
    return dict(db.execute(sa.select(CCStandard.number, CCStandard.title)
                           .where(CCStandard.framework == framework)).all())


def care_certificate_line(p: Passport) -> str:
    """One line saying what the passport certifies about the Care Certificate."""
    if not p.framework:
        return "No Care Certificate standards stated."
    total = 15 if p.framework == "2015" else 16
    met = p.standards_met
    if p.awarded_on:
        return f"Care Certificate ({p.framework} standards) complete, awarded {p.awarded_on.strftime('%-d %B %Y')}"
    return f"Care Certificate ({p.framework} standards): {len(met)} of {total} standards met"


def issuer_name(db: Session, p: Passport) -> str:
    if p.organisation is not None:
        return p.organisation.name
    scheme = get_scheme(db)
    return scheme.name if scheme else "The care passport scheme"


def view_model(db: Session, p: Passport) -> dict:
    """Everything a printed or on-screen passport shows."""
    titles = standard_titles(db, p.framework) if p.framework else {}
    scheme = get_scheme(db)
    return {
        "passport": p,
        "name": p.full_name,
        "cc_line": care_certificate_line(p),
        "standards": [(n, titles.get(n, "")) for n in p.standards_met],
        "competencies": competency_rows(p),
        "issuer": issuer_name(db, p),
        "scheme": scheme.name if scheme else "",
        "endorsers": [o.name for o in endorsing_organisations(db)],
        "issued_on": p.issued_at.date(),
        "valid_until": p.expires_at.date(),
        "short_id": p.jti,
    }
