"""Inspection models: supervision and appraisal (frequencies per job role, sessions, actions), the home's
rota-check settings, personal-data archives and the record of each evidence pack."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from passport.core.models import Organisation, Person
from passport.db import Base, UTCDateTime, utcnow

KINDS = ("supervision", "appraisal")
KIND_LABELS = {"supervision": "Supervision", "appraisal": "Appraisal"}
# The short list of topics a supervisor ticks; the notes say the rest.
TOPICS = (
    ("wellbeing", "Wellbeing and workload"),
    ("practice", "Practice and care quality"),
    ("training", "Training and development"),
    ("safeguarding", "Safeguarding"),
    ("incidents", "Incidents and learning"),
    ("feedback", "Feedback from people we support"),
    ("policies", "Policies and procedures"),
    ("goals", "Goals and career"),
)
TOPIC_LABELS = dict(TOPICS)
# What each rota rule does when it finds a problem: stop the assignment, warn, or say nothing.
RULE_ACTIONS = ("block", "warn", "off")
EXPORT_STATES = ("pending", "ready", "failed")


def _in(col: str, values) -> str:
    return f"{col} IN ({', '.join(repr(v) for v in values)})"


class SupervisionFrequency(Base):
    """How often people in a job role at a home have supervision (or appraisal), in weeks."""

    __tablename__ = "inspection_frequency"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    job_role: Mapped[str] = mapped_column(sa.String(60))
    kind: Mapped[str] = mapped_column(sa.String(12))
    every_weeks: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("org_id", "job_role", "kind"),
        sa.CheckConstraint(_in("kind", KINDS), name="kind"),
        sa.CheckConstraint("every_weeks BETWEEN 1 AND 104", name="every_weeks"),
    )


class SupervisionSession(Base):
    """One supervision or appraisal: who, when, topics, private notes, the worker's own reflection."""

    __tablename__ = "inspection_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"), index=True)
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("core_person.id", ondelete="CASCADE"), index=True)
    supervisor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"),
                                                      index=True)
    kind: Mapped[str] = mapped_column(sa.String(12))
    held_on: Mapped[date] = mapped_column(sa.Date)
    topics: Mapped[str] = mapped_column(sa.String(300), default="")  # comma-separated topic codes
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    reflection: Mapped[str] = mapped_column(sa.Text, default="")
    reflection_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    worker: Mapped[Person] = relationship(foreign_keys=[worker_id])
    supervisor: Mapped[Person | None] = relationship(foreign_keys=[supervisor_id])
    organisation: Mapped[Organisation] = relationship()
    actions: Mapped[list[SupervisionAction]] = relationship(
        back_populates="session", foreign_keys="SupervisionAction.session_id", order_by="SupervisionAction.id")

    __table_args__ = (
        sa.CheckConstraint(_in("kind", KINDS), name="kind"),
        sa.CheckConstraint("supervisor_id IS NULL OR supervisor_id <> worker_id", name="not_self"),
    )

    @property
    def topic_codes(self) -> list[str]:
        return [t for t in self.topics.split(",") if t]


class SupervisionAction(Base):
    """An action agreed in a session; open actions are carried to the worker's next session."""

    __tablename__ = "inspection_action"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("inspection_session.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    due_on: Mapped[date | None] = mapped_column(sa.Date)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the later session in which the action was reviewed and closed
    closed_in_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inspection_session.id", ondelete="SET NULL"))

    session: Mapped[SupervisionSession] = relationship(back_populates="actions", foreign_keys=[session_id])


class RotaSettings(Base):
    """What the rota check does at this home for each kind of problem (block, warn or off)."""

    __tablename__ = "inspection_rota_settings"
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"), primary_key=True)
    training_expired: Mapped[str] = mapped_column(sa.String(5), default="block")
    training_expiring: Mapped[str] = mapped_column(sa.String(5), default="warn")
    care_certificate: Mapped[str] = mapped_column(sa.String(5), default="block")
    # Whether the Care Certificate must be complete before unsupervised work at this home.
    care_certificate_required: Mapped[bool] = mapped_column(default=True)
    induction: Mapped[str] = mapped_column(sa.String(5), default="warn")
    competence: Mapped[str] = mapped_column(sa.String(5), default="block")
    delegation_lapses: Mapped[str] = mapped_column(sa.String(5), default="warn")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = tuple(
        sa.CheckConstraint(_in(col, RULE_ACTIONS), name=col)
        for col in ("training_expired", "training_expiring", "care_certificate", "induction", "competence",
                    "delegation_lapses"))


class DataExport(Base):
    """An archive of everything the service holds about one person: asked for by them, or by an
    organisation admin for a subject access request (``reason`` then records the request)."""

    __tablename__ = "inspection_data_export"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("core_person.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    content: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    sha256: Mapped[str] = mapped_column(sa.String(64), default="")
    downloads: Mapped[int] = mapped_column(default=0)

    __table_args__ = (sa.CheckConstraint(_in("status", EXPORT_STATES), name="status"),)


class EvidencePack(Base):
    """A pack produced for a home: when, by whom, and the headline figures, so the next pack can say
    what changed since this one."""

    __tablename__ = "inspection_evidence_pack"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"), index=True)
    produced_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    produced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    summary: Mapped[str] = mapped_column(sa.Text, default="{}")
