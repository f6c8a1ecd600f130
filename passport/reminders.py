"""The one reminder mechanism: features register reminder sources; ``passport reminders send`` (cron)
collects what is due, claims each reminder once in the database, commits, then sends.

A reminder's ``key`` names it uniquely (e.g. ``"training:1234:30"`` for record 1234's 30-day notice);
the unique constraint on ``core_reminder_sent.key`` is what guarantees a reminder is never sent twice,
even when two runs overlap or a run is interrupted and started again. A claimed reminder's mail is written
to the outbox (``core_outbox``, see ``passport.mail``) in the claim's own transaction, so an interruption
loses nothing: the outbox row is delivered once by whichever run or job worker (``passport.jobs``) gets to
it. ``core_reminder_sent.delivered`` is no longer written; the outbox row's ``state`` says whether it went.
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


def collect_due(db: Session, today: date, only: Iterable[str] | None = None, batch: int = 2000) -> dict:
    """Claim every due reminder not claimed before and put its mail in the outbox, in the same transaction
    (committed per batch). Returns ``{"due": n, "skipped": n, "outbox": [ids]}``; the mails are then sent by
    ``mail.deliver_outbox`` (inline in ``send_due``, or by job workers: ``passport.jobs``)."""
    from passport.mail import queue_mail

    names = list(only) if only is not None else sorted(_sources)
    unique: dict[str, Reminder] = {}
    for name in names:
        for r in _sources[name](db, today):
            unique.setdefault(r.key, r)
    skipped = 0
    outbox: list[int] = []
    items = list(unique.values())
    for i in range(0, len(items), batch):
        chunk = items[i:i + batch]
        done = already_sent(db, [r.key for r in chunk])
        fresh = [r for r in chunk if r.key not in done]
        skipped += len(chunk) - len(fresh)
        claimed = _claim(db, fresh)
        skipped += len(fresh) - len(claimed)  # another run claimed them first
        outbox.extend(queue_mail(db, [{"key": r.key, "to_email": r.to_email, "subject": r.subject, "body": r.body}
                                      for r in claimed]))
        db.commit()
    return {"due": len(items), "skipped": skipped, "outbox": outbox}


def send_due(db: Session, mailer, today: date, only: Iterable[str] | None = None, batch: int = 2000) -> dict:
    """Claim and send, in this process, every due reminder not sent before (``passport.jobs`` spreads the
    sending over workers instead). Returns counts: ``{"due": n, "sent": n, "skipped": n}`` (skipped =
    already sent by an earlier run)."""
    from passport.mail import deliver_outbox

    found = collect_due(db, today, only, batch)
    result = deliver_outbox(db, mailer, found["outbox"])
    return {"due": found["due"], "sent": result["sent"], "skipped": found["skipped"] + result["skipped"]}


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
