"""Delegation models: the task catalogue, competency assessments, competencies, declines and delegations.

Rules that must always hold are database constraints: one open delegation per (task, worker, home,
resident) is a partial unique index, so a withdrawal racing a new delegation can never leave two open.
Residents are held only in the home's register of pseudonymous references (a local id and a short label
such as a room and initials, never health details); everything else points at a register entry.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from passport.core.models import Organisation, Person, RegistrationConfirmation
from passport.db import Base, UTCDateTime, utcnow

#: Competence levels, lowest first. "observed": has been watched doing it and may only do it with a
#: registered professional present; "supervised": may do it with a competent colleague supervising;
#: "safe_unsupervised": may do it alone.
LEVELS = ("observed", "supervised", "safe_unsupervised")
LEVEL_RANK = {name: i for i, name in enumerate(LEVELS)}
LEVEL_LABELS = {"observed": "Observed", "supervised": "Supervised", "safe_unsupervised": "Safe unsupervised"}
OUTCOMES = ("competent", "not_yet_competent")
OUTCOME_LABELS = {"competent": "Competent", "not_yet_competent": "Not yet competent"}
CONSENT_BY = ("resident", "representative", "best_interests")
CONSENT_LABELS = {"resident": "The resident", "representative": "Their legal representative",
                  "best_interests": "A best-interests decision (Mental Capacity Act)"}
COMPETENCY_END_REASONS = ("withdrawn", "superseded")
DELEGATION_END_REASONS = ("withdrawn", "lapsed", "declined", "competence_ended")
#: the outcome of a delegation review: it continues as it is, continues with changed instructions, or ends
REVIEW_OUTCOMES = ("continue", "change", "withdraw")
REVIEW_OUTCOME_LABELS = {"continue": "Continue as it is", "change": "Continue with changes",
                         "withdraw": "Withdraw the delegation"}
PREREQUISITE_KINDS = ("training", "standard")


def _in(col: str, values) -> str:
    return f"{col} IN ({', '.join(repr(v) for v in values)})"


def resident_display(label: str, local_id: str) -> str:
    """How pages show a resident: the label, with the local id when the label does not contain it."""
    return label if local_id.casefold() in label.casefold() else f"{label} ({local_id})"


class Resident(Base):
    """A resident in a home's register: the home's own local id (unique in the home) and a short label
    such as a room and initials. Pseudonymous by design: never a name, NHS number, date of birth or
    health details. ``search_key`` is the label normalised for searching (case, spaces and dashes)."""

    __tablename__ = "delegation_resident"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    local_id: Mapped[str] = mapped_column(sa.String(20))
    label: Mapped[str] = mapped_column(sa.String(40))
    search_key: Mapped[str] = mapped_column(sa.String(80))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("org_id", "local_id"),
        sa.Index("ix_delegation_resident_org_key", "org_id", "search_key"),
    )

    @property
    def display(self) -> str:
        return resident_display(self.label, self.local_id)

    def __str__(self) -> str:
        return self.display


class ResidentRefMixin:
    """``resident_ref``: the resident as pages and answers show it (read-only; the register holds it)."""

    @property
    def resident_ref(self) -> str | None:
        resident = getattr(self, "resident", None)
        return resident.display if resident is not None else None


class Task(Base):
    """A delegated healthcare task. ``org_id`` NULL = scheme-wide catalogue; set = an organisation's
    own addition (usable in that organisation, or, for a clinical team, in the homes of its scheme)."""

    __tablename__ = "delegation_task"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(60), unique=True)
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"),
                                               index=True)
    category_code: Mapped[str] = mapped_column(sa.ForeignKey("core_delegated_category.code"))
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    observations_required: Mapped[int] = mapped_column(default=1)
    reassess_months: Mapped[int] = mapped_column(default=12)
    resident_specific: Mapped[bool] = mapped_column(default=False)
    #: the lowest competence level at which the task may be delegated
    min_level: Mapped[str] = mapped_column(sa.String(20), default="safe_unsupervised")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()
    prerequisites: Mapped[list[TaskPrerequisite]] = relationship(
        cascade="all, delete-orphan", order_by="(TaskPrerequisite.kind, TaskPrerequisite.ref)")

    __table_args__ = (
        sa.CheckConstraint("observations_required BETWEEN 1 AND 10", name="observations"),
        sa.CheckConstraint("reassess_months BETWEEN 1 AND 36", name="reassess"),
        sa.CheckConstraint(_in("min_level", LEVELS), name="min_level"),
    )


class TaskPrerequisite(Base):
    """A task needs in-date training in an ASC-WDS category, or a Care Certificate standard met."""

    __tablename__ = "delegation_task_prerequisite"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("delegation_task.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(10))
    ref: Mapped[int]

    __table_args__ = (
        sa.UniqueConstraint("task_id", "kind", "ref"),
        sa.CheckConstraint(_in("kind", PREREQUISITE_KINDS), name="kind"),
    )


class Assessment(ResidentRefMixin, Base):
    """A competency assessment by a registered professional: what was observed, the outcome, the level
    reached and until when, the evidence, and the worker's acknowledgement."""

    __tablename__ = "delegation_assessment"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("delegation_task.id"))
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("core_person.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"), index=True)
    assessor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    assessor_org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    resident_id: Mapped[int | None] = mapped_column(sa.ForeignKey("delegation_resident.id"))
    assessed_on: Mapped[date] = mapped_column(sa.Date)
    observations: Mapped[int] = mapped_column(default=1)
    observation_notes: Mapped[str] = mapped_column(sa.Text, default="")
    outcome: Mapped[str] = mapped_column(sa.String(20))
    level: Mapped[str | None] = mapped_column(sa.String(20))
    valid_until: Mapped[date | None] = mapped_column(sa.Date)
    evidence: Mapped[str] = mapped_column(sa.Text, default="")
    worker_acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    task: Mapped[Task] = relationship()
    worker: Mapped[Person] = relationship(foreign_keys=[worker_id])
    assessor: Mapped[Person | None] = relationship(foreign_keys=[assessor_id])
    organisation: Mapped[Organisation] = relationship(foreign_keys=[org_id])
    assessor_org: Mapped[Organisation] = relationship(foreign_keys=[assessor_org_id])
    resident: Mapped[Resident | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(_in("outcome", OUTCOMES), name="outcome"),
        sa.CheckConstraint("level IS NULL OR " + _in("level", LEVELS), name="level"),
        sa.CheckConstraint("observations BETWEEN 1 AND 50", name="observations"),
        sa.CheckConstraint("(outcome = 'competent') = (level IS NOT NULL AND valid_until IS NOT NULL)",
                           name="competent_has_level"),
        sa.CheckConstraint("valid_until IS NULL OR valid_until > assessed_on", name="valid_after_assessment"),
    )


class Competency(ResidentRefMixin, Base):
    """A worker's competence for a task (for one resident, when the task needs that), granted by a
    competent assessment. Stops counting when ``valid_until`` passes (checked at read time), or when it
    is ended: withdrawn by a professional, or superseded by a reassessment."""

    __tablename__ = "delegation_competency"
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(sa.ForeignKey("delegation_assessment.id", ondelete="CASCADE"),
                                               unique=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("delegation_task.id"))
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("core_person.id", ondelete="CASCADE"))
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    resident_id: Mapped[int | None] = mapped_column(sa.ForeignKey("delegation_resident.id"))
    level: Mapped[str] = mapped_column(sa.String(20))
    valid_from: Mapped[date] = mapped_column(sa.Date)
    valid_until: Mapped[date] = mapped_column(sa.Date)
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(sa.String(20))
    ended_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    end_note: Mapped[str] = mapped_column(sa.Text, default="")
    superseded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("delegation_competency.id"))
    #: when ``passport delegation expire`` recorded that the competence ran out (once per competence)
    expiry_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the registration confirmation the assessing professional's authority rested on
    registration_confirmation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_registration_confirmation.id", ondelete="SET NULL",
                      name="fk_delegation_competency_confirmation"), index=True)

    task: Mapped[Task] = relationship()
    worker: Mapped[Person] = relationship(foreign_keys=[worker_id])
    granted_by: Mapped[Person | None] = relationship(foreign_keys=[granted_by_id])
    organisation: Mapped[Organisation] = relationship()
    assessment: Mapped[Assessment] = relationship()
    registration_confirmation: Mapped[RegistrationConfirmation | None] = relationship()
    resident: Mapped[Resident | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(_in("level", LEVELS), name="level"),
        sa.CheckConstraint("valid_until >= valid_from", name="dates"),
        sa.CheckConstraint("end_reason IS NULL OR " + _in("end_reason", COMPETENCY_END_REASONS), name="end_reason"),
        sa.CheckConstraint("(ended_at IS NULL) = (end_reason IS NULL)", name="ended_pair"),
        # who-can-do-it: probe by (worker, task) for each member of the home, newest expiry first
        sa.Index("ix_delegation_competency_worker_task", "worker_id", "task_id", "valid_until"),
        sa.Index("ix_delegation_competency_org_until", "org_id", "valid_until"),
        sa.Index("ix_delegation_competency_open_until", "valid_until",
                 sqlite_where=sa.text("ended_at IS NULL"), postgresql_where=sa.text("ended_at IS NULL")),
    )


class Decline(ResidentRefMixin, Base):
    """A worker declined a task (optionally for one resident). Recorded without blame; it stands until
    the worker withdraws it, and while it stands they are not offered or delegated the task."""

    __tablename__ = "delegation_decline"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("delegation_task.id"))
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("core_person.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    resident_id: Mapped[int | None] = mapped_column(sa.ForeignKey("delegation_resident.id"))
    declined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    task: Mapped[Task] = relationship()
    resident: Mapped[Resident | None] = relationship()


class Delegation(ResidentRefMixin, Base):
    """Task T delegated by a registered professional, for resident R, to worker W at home H, on the
    strength of a competency. Open until ended (withdrawn, declined, or recorded as lapsed); it also
    stops counting by itself, at read time, when the competency behind it expires."""

    __tablename__ = "delegation_delegation"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("delegation_task.id"))
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("core_person.id", ondelete="CASCADE"))
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("delegation_resident.id"))
    delegated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    delegator_org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    competency_id: Mapped[int] = mapped_column(sa.ForeignKey("delegation_competency.id"), index=True)
    start_date: Mapped[date] = mapped_column(sa.Date)
    review_date: Mapped[date] = mapped_column(sa.Date)
    instructions_ref: Mapped[str] = mapped_column(sa.String(200))
    consent_recorded: Mapped[bool] = mapped_column(default=False)
    consent_by: Mapped[str] = mapped_column(sa.String(20))
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(sa.String(20))
    ended_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    end_note: Mapped[str] = mapped_column(sa.Text, default="")
    #: the registration confirmation the delegating professional's authority rested on
    registration_confirmation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_registration_confirmation.id", ondelete="SET NULL",
                      name="fk_delegation_delegation_confirmation"), index=True)

    task: Mapped[Task] = relationship()
    worker: Mapped[Person] = relationship(foreign_keys=[worker_id])
    delegated_by: Mapped[Person | None] = relationship(foreign_keys=[delegated_by_id])
    ended_by: Mapped[Person | None] = relationship(foreign_keys=[ended_by_id])
    organisation: Mapped[Organisation] = relationship(foreign_keys=[org_id])
    delegator_org: Mapped[Organisation] = relationship(foreign_keys=[delegator_org_id])
    competency: Mapped[Competency] = relationship()
    registration_confirmation: Mapped[RegistrationConfirmation | None] = relationship()
    resident: Mapped[Resident] = relationship()
    reviews: Mapped[list[Review]] = relationship(order_by="Review.id.desc()", viewonly=True)

    __table_args__ = (
        sa.CheckConstraint("review_date >= start_date", name="review_after_start"),
        sa.CheckConstraint("consent_recorded", name="consent"),
        sa.CheckConstraint(_in("consent_by", CONSENT_BY), name="consent_by"),
        sa.CheckConstraint("length(instructions_ref) > 0", name="instructions"),
        sa.CheckConstraint("end_reason IS NULL OR " + _in("end_reason", DELEGATION_END_REASONS), name="end_reason"),
        sa.CheckConstraint("(ended_at IS NULL) = (end_reason IS NULL)", name="ended_pair"),
        # at most one open delegation of a task to a worker for a resident at a home
        sa.Index("uq_delegation_delegation_open", "task_id", "worker_id", "org_id", "resident_id", unique=True,
                 sqlite_where=sa.text("ended_at IS NULL"), postgresql_where=sa.text("ended_at IS NULL")),
        sa.Index("ix_delegation_delegation_resident", "org_id", "resident_id", "task_id"),
        sa.Index("ix_delegation_delegation_worker", "worker_id", "delegator_org_id"),
    )


class Review(Base):
    """A registered professional's review of a delegation: the outcome (continue, change, withdraw), the
    next review date, what changed, and the registration confirmation their authority rested on."""

    __tablename__ = "delegation_review"
    id: Mapped[int] = mapped_column(primary_key=True)
    delegation_id: Mapped[int] = mapped_column(sa.ForeignKey("delegation_delegation.id", ondelete="CASCADE"),
                                               index=True)
    reviewed_on: Mapped[date] = mapped_column(sa.Date)
    outcome: Mapped[str] = mapped_column(sa.String(20))
    next_review_date: Mapped[date | None] = mapped_column(sa.Date)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    instructions_ref: Mapped[str | None] = mapped_column(sa.String(200))
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    reviewer_org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    registration_confirmation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_registration_confirmation.id", ondelete="SET NULL",
                      name="fk_delegation_review_confirmation"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reviewed_by: Mapped[Person | None] = relationship()
    delegation: Mapped[Delegation] = relationship(viewonly=True)

    __table_args__ = (
        sa.CheckConstraint(_in("outcome", REVIEW_OUTCOMES), name="outcome"),
        sa.CheckConstraint("(outcome = 'withdraw') = (next_review_date IS NULL)", name="next_review"),
    )

