"""Append-only, hash-chained audit log.

Each entry stores the SHA-256 of the previous entry's hash and its own canonical content, so any edit,
deletion or re-ordering breaks the chain from that point on. ``record`` is called by services inside the
same transaction as the change it describes, so an audited change and its entry commit together.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from passport.db import Base, UTCDateTime, utcnow

GENESIS = "0" * 64
_ADVISORY_LOCK_ID = 727_001  # serialises appends on PostgreSQL so two writers never fork the chain


class AuditEntry(Base):
    __tablename__ = "core_audit_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(index=True)  # person id; no FK so erasure never breaks the log
    actor_label: Mapped[str] = mapped_column(sa.String(200))
    action: Mapped[str] = mapped_column(sa.String(80))
    object_type: Mapped[str] = mapped_column(sa.String(60))
    object_id: Mapped[str] = mapped_column(sa.String(60))
    org_id: Mapped[int | None] = mapped_column(index=True)
    details: Mapped[str] = mapped_column(sa.Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)


@dataclass(frozen=True)
class Actor:
    """Who did something: a person (id and name) or a named system process (CLI, scheduler)."""

    person_id: int | None
    label: str

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls(None, label)

    @classmethod
    def of(cls, person) -> "Actor":
        return cls(person.id, person.full_name)


def _digest(prev_hash: str, at: datetime, actor_id, actor_label, action, object_type, object_id, org_id, details):
    canonical = json.dumps(
        [prev_hash, at.isoformat(timespec="microseconds"), actor_id, actor_label, action, object_type,
         str(object_id), org_id, details],
        separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(db: Session, actor: Actor, action: str, obj_type: str, obj_id, *, org_id: int | None = None,
           **details) -> AuditEntry:
    """Append an entry for ``action`` on (obj_type, obj_id) by ``actor``; flushes, never commits.

    ``details`` must be JSON-serialisable and must never hold secrets (passwords, tokens, keys).
    """
    if db.get_bind().dialect.name == "postgresql":
        db.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_ID})
    prev = db.scalar(sa.select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)) or GENESIS
    at = utcnow()
    detail_text = json.dumps(details, sort_keys=True, default=str, ensure_ascii=False)
    entry = AuditEntry(
        at=at, actor_id=actor.person_id, actor_label=actor.label[:200], action=action, object_type=obj_type,
        object_id=str(obj_id), org_id=org_id, details=detail_text, prev_hash=prev,
        hash=_digest(prev, at, actor.person_id, actor.label[:200], action, obj_type, obj_id, org_id, detail_text),
    )
    db.add(entry)
    db.flush()
    return entry


def verify_chain(db: Session) -> AuditEntry | None:
    """Walk the log in order; return the first entry whose link or hash is wrong, or None if intact."""
    prev = GENESIS
    for entry in db.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000):
        expected = _digest(prev, entry.at, entry.actor_id, entry.actor_label, entry.action, entry.object_type,
                           entry.object_id, entry.org_id, entry.details)
        if entry.prev_hash != prev or entry.hash != expected:
            return entry
        prev = entry.hash
    return None


def entries_for(db: Session, *, org_id: int | None = None, limit: int = 100) -> list[AuditEntry]:
    q = sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if org_id is not None:
        q = q.where(AuditEntry.org_id == org_id)
    return list(db.scalars(q))
