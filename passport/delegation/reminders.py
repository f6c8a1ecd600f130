"""The "delegation" reminder source: reassessment due, to the worker, their manager and the professional."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from passport.reminders import Reminder


def due(db: Session, today: date) -> list[Reminder]:
    return []
