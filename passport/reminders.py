"""The one reminder mechanism: features register reminder sources; ``passport reminders send`` (cron)
collects what is due, claims each reminder once in the database, commits, then sends.

A reminder's ``key`` names it uniquely (e.g. ``"training:1234:30"`` for record 1234's 30-day notice);
the unique constraint on ``core_reminder_sent.key`` is what guarantees a reminder is never sent twice,
even when two runs overlap or a run is interrupted and started again. The price of that guarantee is
at-most-once delivery: a run killed between the commit and the SMTP hand-off loses those mails (they
stay in ``core_reminder_sent`` with ``delivered`` false, so an operator can see and resend them).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from passport.db import Base, UTCDateTime, utcnow


class ReminderSent(Base):
    __tablename__ = "core_reminder_sent"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    to_email: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered: Mapped[bool] = mapped_column(default=False)


@dataclass(frozen=True)
class Reminder:
    key: str
    to_email: str
    subject: str
    body: str


ReminderSource = Callable[[Session, date], Iterable[Reminder]]
_sources: dict[str, ReminderSource] = {}


def register_source(name: str, source: ReminderSource) -> None:
    """Register ``source(db, today) -> reminders due today`` under a name (e.g. "training")."""
    _sources[name] = source


def sources() -> dict[str, ReminderSource]:
    return dict(_sources)


def already_sent(db: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        found |= set(db.scalars(sa.select(ReminderSent.key).where(ReminderSent.key.in_(keys[i:i + 500]))))
    return found


def send_due(db: Session, mailer, today: date, only: Iterable[str] | None = None, batch: int = 500) -> dict:
    """Claim and send every due reminder not sent before. Commits each batch before sending it.

    Returns counts: ``{"due": n, "sent": n, "skipped": n}`` (skipped = already sent by an earlier run).
    """
    names = list(only) if only is not None else sorted(_sources)
    due: list[Reminder] = []
    for name in names:
        due.extend(_sources[name](db, today))
    unique: dict[str, Reminder] = {}
    for r in due:
        unique.setdefault(r.key, r)
    sent = skipped = 0
    items = list(unique.values())
    for i in range(0, len(items), batch):
        chunk = items[i:i + batch]
        done = already_sent(db, [r.key for r in chunk])
        fresh = [r for r in chunk if r.key not in done]
        skipped += len(chunk) - len(fresh)
        claimed = _claim(db, fresh)
        skipped += len(fresh) - len(claimed)  # another run claimed them first
        db.commit()
        if claimed:
            mailer.send_many([mailer.build(r.to_email, r.subject, r.body) for r in claimed])
            db.execute(sa.update(ReminderSent).where(ReminderSent.key.in_([r.key for r in claimed]))
                       .values(delivered=True))
            db.commit()
            sent += len(claimed)
    return {"due": len(items), "sent": sent, "skipped": skipped}


def _claim(db: Session, fresh: list[Reminder]) -> list[Reminder]:
    """Insert a claim row per reminder; return those this run claimed (the unique key decides). One
    ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` per batch on PostgreSQL and SQLite, a savepoint per row
    elsewhere."""
    if not fresh:
        return []
    dialect = db.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        now = utcnow()
        stmt = (insert(ReminderSent).values([{"key": r.key, "to_email": r.to_email, "subject": r.subject[:300],
                                              "claimed_at": now, "delivered": False} for r in fresh])
                .on_conflict_do_nothing(index_elements=["key"]).returning(ReminderSent.key))
        won = set(db.scalars(stmt))
        return [r for r in fresh if r.key in won]
    claimed = []
    for r in fresh:
        try:
            with db.begin_nested():
                db.add(ReminderSent(key=r.key, to_email=r.to_email, subject=r.subject[:300]))
            claimed.append(r)
        except sa.exc.IntegrityError:
            pass
    return claimed
