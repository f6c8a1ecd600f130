"""Plain-English views of a passport shared by the pages, the PDFs, the phone image and the OB export."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport.certificates.models import Passport
from passport.core.catalogue_data import DELEGATED_TASKS, TRAINING_CATEGORIES
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
    """The organisation that recorded and issued the passport (its employer, or the scheme)."""
    if p.organisation is not None:
        return p.organisation.name
    scheme = get_scheme(db)
    return scheme.name if scheme else "The care passport scheme"


def issuer_display_name(db: Session) -> str:
    """The issuer's name exactly as every verifier shows it ("Issued by ..." on the verify page): the
    configured ``VERIFY_ISSUER_NAME``, else the scheme's name, else the service's address (the same rule
    as ``passport.verify.trust.own_name``)."""
    from flask import current_app, has_app_context

    configured = current_app.config.get("VERIFY_ISSUER_NAME") if has_app_context() else None
    if configured:
        return configured
    scheme = get_scheme(db)
    if scheme is not None:
        return scheme.name
    return current_app.config["PUBLIC_URL"].split("://", 1)[-1] if has_app_context() else "The care passport scheme"


def long_date(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


def subject_rows(p: Passport) -> list[dict]:
    """The passport's mandatory training, as stated at issue, with names."""
    names = {c["code"]: c["name"] for c in TRAINING_CATEGORIES}
    return [{"code": code, "name": names.get(code, f"Training category {code}"),
             "completed_on": date.fromisoformat(done), "expires_on": date.fromisoformat(exp) if exp else None}
            for code, done, exp in p.subjects]


def qualification_row(p: Passport) -> dict | None:
    q = p.qualification
    return None if not q else {"title": "Level 2 Adult Social Care Certificate", "awarding_organisation": q[0],
                               "qualification_number": q[1], "achieved_on": date.fromisoformat(q[2])}


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
        # one wording on the card, the PDFs and the verify page: "Issued by <issuer>"; the organisation that
        # recorded it is a separate fact ("Recorded by")
        "issuer": issuer_display_name(db),
        "recorded_by": issuer_name(db, p),
        "scheme": scheme.name if scheme else "",
        "subjects": subject_rows(p),
        "qualification": qualification_row(p),
        "endorsers": [o.name for o in endorsing_organisations(db)],
        "issued_on": p.issued_at.date(),
        "valid_until": p.expires_at.date(),
        "short_id": p.jti,
    }
