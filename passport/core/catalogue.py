"""The standards catalogue: read it, and load it (idempotently) from ``catalogue_data``.

The migration that creates the tables calls ``load`` so a fresh database always has the catalogue;
``passport db load-catalogue`` re-runs it after a data update (it only adds and corrects, never deletes).
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport.core import catalogue_data as data
from passport.core.models import (
    CCOutcome, CCStandard, DelegatedCategory, ReferenceDataVersion, TrainingCategory,
)


def load(db: Session) -> bool:
    """Bring the catalogue tables up to ``DATA_VERSION``; returns True when anything changed."""
    current = db.get(ReferenceDataVersion, "catalogue")
    if current is not None and current.version == data.DATA_VERSION:
        return False
    for framework, items in data.CARE_CERTIFICATE.items():
        for item in items:
            std = db.scalar(sa.select(CCStandard).where(CCStandard.framework == framework,
                                                        CCStandard.number == item["number"]))
            if std is None:
                std = CCStandard(framework=framework, number=item["number"])
                db.add(std)
            std.code, std.title = item["code"], item["title"]
            db.flush()
            existing = {o.code: o for o in std.outcomes}
            for pos, (code, text) in enumerate(item["outcomes"]):
                outcome = existing.get(code) or CCOutcome(standard_id=std.id, code=code)
                outcome.text, outcome.position = text, pos
                if code not in existing:
                    std.outcomes.append(outcome)
    for cat in data.TRAINING_CATEGORIES:
        row = db.get(TrainingCategory, cat["code"]) or TrainingCategory(code=cat["code"])
        row.name, row.group, row.refresh_months, row.core = cat["name"], cat["group"], cat["refresh_months"], cat["core"]
        db.add(row)
    for cat in data.DELEGATED_CATEGORIES:
        row = db.get(DelegatedCategory, cat["code"]) or DelegatedCategory(code=cat["code"])
        row.ascwds_code, row.name, row.examples = cat["ascwds_code"], cat["name"], cat["examples"]
        db.add(row)
    current = current or ReferenceDataVersion(name="catalogue")
    current.version = data.DATA_VERSION
    db.add(current)
    db.flush()
    return True


def framework(db: Session, fw: str) -> list[CCStandard]:
    return list(db.scalars(sa.select(CCStandard).where(CCStandard.framework == fw).order_by(CCStandard.number)))


def training_categories(db: Session) -> list[TrainingCategory]:
    return list(db.scalars(sa.select(TrainingCategory).order_by(TrainingCategory.group, TrainingCategory.name)))


def delegated_categories(db: Session) -> list[DelegatedCategory]:
    return list(db.scalars(sa.select(DelegatedCategory).order_by(DelegatedCategory.ascwds_code)))


def catalogue(db: Session) -> dict:
    return {"frameworks": {fw: framework(db, fw) for fw in ("2015", "2025")},
            "training_categories": training_categories(db), "delegated_categories": delegated_categories(db),
            "version": data.DATA_VERSION, "mapping": data.CC_2025_FROM_2015}


def standard_json(s: CCStandard) -> dict:
    return {"framework": s.framework, "number": s.number, "code": s.code, "title": s.title,
            "outcomes": [{"code": o.code, "text": o.text} for o in s.outcomes]}


def category_json(c: TrainingCategory) -> dict:
    return {"code": c.code, "name": c.name, "group": c.group, "refresh_months": c.refresh_months, "core": c.core}


def delegated_category_json(c: DelegatedCategory) -> dict:
    return {"code": c.code, "ascwds_code": c.ascwds_code, "name": c.name, "examples": c.examples}
