"""Courses plugin models: courses, sessions, bookings, assessments, assessor competence, requirements,
organisation settings, ASC-WDS worker ids and imports.

Training records and Care Certificate sign-offs are NOT here: they live in the core ledger
(``passport.core.models.TrainingRecord`` / ``StandardAchievement``) and are written through
``passport.core.records``. Rules that must always hold are constraints, so a bug or a race cannot break them.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from passport.core.models import FRAMEWORKS, CCOutcome, CCStandard, Organisation, Person, TrainingCategory
from passport.db import Base, UTCDateTime, utcnow

PROVIDER_KINDS = {"in_house": "In-house", "external": "External provider"}
DELIVERY = {"face_to_face": "Face to face", "e_learning": "E-learning", "blended": "Blended"}
VALIDITY_MODES = {"subject": "The subject's refresh period", "months": "A fixed number of months",
                  "none": "Does not expire"}
BOOKING_STATUSES = ("confirmed", "waiting", "cancelled")
ATTENDANCE = {"present": "Present", "late": "Late", "absent": "Absent"}
ASSESSMENT_KINDS = {"knowledge": "Knowledge", "observation": "Observed practice"}
ASSESSMENT_METHODS = {"score": "Test score", "workbook": "Workbook", "observation": "Observation"}
WORKBOOK_DECISIONS = {"accepted": "Accepted", "returned": "Returned"}
OUTCOMES = {"passed": "Passed", "not_yet": "Not yet"}


def _in(col: str, values) -> str:
    return f"{col} IN ({', '.join(repr(v) for v in values)})"


course_category = sa.Table(
    "courses_course_category", Base.metadata,
    sa.Column("course_id", sa.ForeignKey("courses_course.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("category_code", sa.ForeignKey("core_training_category.code"), primary_key=True),
)
course_standard = sa.Table(
    "courses_course_standard", Base.metadata,
    sa.Column("course_id", sa.ForeignKey("courses_course.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("standard_id", sa.ForeignKey("core_cc_standard.id", ondelete="CASCADE"), primary_key=True),
)
course_outcome = sa.Table(
    "courses_course_outcome", Base.metadata,
    sa.Column("course_id", sa.ForeignKey("courses_course.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("outcome_id", sa.ForeignKey("core_cc_outcome.id", ondelete="CASCADE"), primary_key=True),
)


class Course(Base):
    """A course owned by an organisation (``org_id``) or by the scheme (``org_id`` NULL)."""

    __tablename__ = "courses_course"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    provider_kind: Mapped[str] = mapped_column(sa.String(20))
    provider_name: Mapped[str] = mapped_column(sa.String(200), default="")
    delivery: Mapped[str] = mapped_column(sa.String(20))
    hours: Mapped[Decimal] = mapped_column(sa.Numeric(5, 1))
    cc_framework: Mapped[str | None] = mapped_column(sa.String(4))
    validity_mode: Mapped[str] = mapped_column(sa.String(10), default="subject")
    validity_months: Mapped[int | None]
    accredited: Mapped[bool] = mapped_column(default=False)
    pass_mark: Mapped[int | None]  # a knowledge test is needed for completion when set
    scheme_approved: Mapped[bool] = mapped_column(default=False)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()
    categories: Mapped[list[TrainingCategory]] = relationship(secondary=course_category,
                                                              order_by=TrainingCategory.name)
    standards: Mapped[list[CCStandard]] = relationship(secondary=course_standard, order_by=CCStandard.number)
    outcomes: Mapped[list[CCOutcome]] = relationship(secondary=course_outcome, order_by=CCOutcome.id)

    __table_args__ = (
        sa.CheckConstraint(_in("provider_kind", PROVIDER_KINDS), name="provider_kind"),
        sa.CheckConstraint(_in("delivery", DELIVERY), name="delivery"),
        sa.CheckConstraint(_in("validity_mode", VALIDITY_MODES), name="validity_mode"),
        sa.CheckConstraint("(validity_mode = 'months') = (validity_months IS NOT NULL)", name="validity_months"),
        sa.CheckConstraint("validity_months IS NULL OR validity_months BETWEEN 1 AND 999", name="validity_range"),
        sa.CheckConstraint("hours > 0 AND hours <= 1000", name="hours"),
        sa.CheckConstraint("pass_mark IS NULL OR pass_mark BETWEEN 1 AND 100", name="pass_mark"),
        sa.CheckConstraint("cc_framework IS NULL OR " + _in("cc_framework", FRAMEWORKS), name="cc_framework"),
        sa.CheckConstraint("scheme_approved = (approved_at IS NOT NULL)", name="approval"),
    )

    @property
    def owner_label(self) -> str:
        return self.organisation.name if self.organisation else "The scheme"


class CourseSession(Base):
    """A scheduled run of a course hosted by one organisation; ``shared`` opens places to other homes.

    ``places_taken`` counts confirmed bookings. It only ever changes through a conditional UPDATE, and the
    CHECK constraint makes overbooking impossible even when two people take the last place at once.
    """

    __tablename__ = "courses_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses_course.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    venue: Mapped[str] = mapped_column(sa.String(300))
    trainer_name: Mapped[str] = mapped_column(sa.String(200), default="")
    capacity: Mapped[int]
    places_taken: Mapped[int] = mapped_column(default=0)
    booking_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shared: Mapped[bool] = mapped_column(default=False)
    workers_may_book: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[Course] = relationship()
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="times"),
        sa.CheckConstraint("capacity BETWEEN 1 AND 1000", name="capacity"),
        sa.CheckConstraint("places_taken >= 0 AND places_taken <= capacity", name="places"),
    )

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.places_taken, 0)


class CourseBooking(Base):
    """A person's place (or place on the waiting list) on a session, booked under their home ``org_id``.

    One row per person and session: cancelling and re-booking reuse it (the audit log keeps the history).
    The waiting list is ordered by ``booked_at``.
    """

    __tablename__ = "courses_booking"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("courses_session.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("core_person.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(sa.String(12))
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    booked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attendance: Mapped[str | None] = mapped_column(sa.String(10))
    attendance_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    attendance_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_on: Mapped[date | None] = mapped_column(sa.Date)

    session: Mapped[CourseSession] = relationship()
    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("session_id", "person_id"),
        sa.CheckConstraint(_in("status", BOOKING_STATUSES), name="status"),
        sa.CheckConstraint("attendance IS NULL OR " + _in("attendance", ATTENDANCE), name="attendance"),
        sa.CheckConstraint("attendance IS NULL OR status = 'confirmed'", name="attendance_confirmed"),
        sa.CheckConstraint("completed_on IS NULL OR attendance IN ('present', 'late')", name="completed_attended"),
        sa.Index("ix_courses_booking_queue", "session_id", "status", "booked_at"),
    )


class CourseAssessment(Base):
    """Evidence for a Care Certificate standard or a training subject: a knowledge assessment (a test score
    against a pass mark, or a workbook accepted or returned with reasons) or an observation of practice."""

    __tablename__ = "courses_assessment"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("core_person.id", ondelete="CASCADE"))
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(12))
    method: Mapped[str] = mapped_column(sa.String(12))
    framework: Mapped[str | None] = mapped_column(sa.String(4))
    standard_number: Mapped[int | None]
    category_code: Mapped[int | None] = mapped_column(sa.ForeignKey("core_training_category.code"))
    course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("courses_course.id", ondelete="SET NULL"))
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("courses_session.id", ondelete="CASCADE"))
    assessed_on: Mapped[date] = mapped_column(sa.Date)
    score: Mapped[int | None]
    pass_mark: Mapped[int | None]
    workbook_decision: Mapped[str | None] = mapped_column(sa.String(10))
    return_reason: Mapped[str] = mapped_column(sa.Text, default="")
    setting: Mapped[str] = mapped_column(sa.String(200), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    outcome: Mapped[str] = mapped_column(sa.String(10))
    assessor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    assessor_basis: Mapped[str] = mapped_column(sa.String(40))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    assessor: Mapped[Person | None] = relationship(foreign_keys=[assessor_id])
    category: Mapped[TrainingCategory | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(_in("kind", ASSESSMENT_KINDS), name="kind"),
        sa.CheckConstraint(_in("method", ASSESSMENT_METHODS), name="method"),
        sa.CheckConstraint("(kind = 'observation') = (method = 'observation')", name="kind_method"),
        sa.CheckConstraint("(method = 'score') = (score IS NOT NULL AND pass_mark IS NOT NULL)", name="score"),
        sa.CheckConstraint("score IS NULL OR score BETWEEN 0 AND 100", name="score_range"),
        sa.CheckConstraint("pass_mark IS NULL OR pass_mark BETWEEN 1 AND 100", name="pass_mark"),
        sa.CheckConstraint("(method = 'workbook') = (workbook_decision IS NOT NULL)", name="workbook"),
        sa.CheckConstraint("workbook_decision IS NULL OR " + _in("workbook_decision", WORKBOOK_DECISIONS),
                           name="workbook_decision"),
        sa.CheckConstraint("workbook_decision IS NULL OR workbook_decision = 'accepted' OR return_reason <> ''",
                           name="return_reason"),
        sa.CheckConstraint(_in("outcome", OUTCOMES), name="outcome"),
        sa.CheckConstraint("(framework IS NULL) = (standard_number IS NULL)", name="standard_pair"),
        sa.CheckConstraint("framework IS NULL OR " + _in("framework", FRAMEWORKS), name="framework"),
        # a standard, a subject, or a course test taken at a session (counts for what the course covers)
        sa.CheckConstraint("standard_number IS NOT NULL OR category_code IS NOT NULL OR session_id IS NOT NULL",
                           name="subject"),
        sa.Index("ix_courses_assessment_person", "person_id", "framework", "standard_number"),
    )


class CCAssessorCompetence(Base):
    """An assessor recorded as occupationally competent to assess a Care Certificate standard."""

    __tablename__ = "courses_assessor_competence"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("core_person.id", ondelete="CASCADE"), index=True)
    framework: Mapped[str] = mapped_column(sa.String(4))
    standard_number: Mapped[int]
    evidence: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship(foreign_keys=[person_id])

    __table_args__ = (
        sa.UniqueConstraint("org_id", "person_id", "framework", "standard_number"),
        sa.CheckConstraint(_in("framework", FRAMEWORKS), name="framework"),
        sa.CheckConstraint("standard_number BETWEEN 1 AND 16", name="number"),
    )


class DefaultTrainingRequirement(Base):
    """Reference data: the subjects each job role must hold by default (from ``DEFAULT_REQUIREMENTS``)."""

    __tablename__ = "courses_default_requirement"
    job_role: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    category_code: Mapped[int] = mapped_column(sa.ForeignKey("core_training_category.code"), primary_key=True)


class TrainingRequirement(Base):
    """An organisation's own list: job role -> required subject. Used once the organisation customises."""

    __tablename__ = "courses_requirement"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    job_role: Mapped[str] = mapped_column(sa.String(60))
    category_code: Mapped[int] = mapped_column(sa.ForeignKey("core_training_category.code"))

    __table_args__ = (sa.UniqueConstraint("org_id", "job_role", "category_code"),)


class TrainingSettings(Base):
    """Per-organisation settings for training: RAG window, reminder offsets, ASC-WDS workplace id."""

    __tablename__ = "courses_org_settings"
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"), primary_key=True)
    amber_days: Mapped[int] = mapped_column(default=60)
    reminder_offsets: Mapped[str] = mapped_column(sa.String(60), default="60,30,7,0")
    manager_digest: Mapped[bool] = mapped_column(default=True)
    requirements_customised: Mapped[bool] = mapped_column(default=False)
    local_est_id: Mapped[str | None] = mapped_column(sa.String(50))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.CheckConstraint("amber_days BETWEEN 1 AND 365", name="amber_days"),)


class TrainingRenewalRule(Base):
    """Renew on a fixed date each year (e.g. 31 March) instead of rolling from completion."""

    __tablename__ = "courses_renewal_rule"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    category_code: Mapped[int] = mapped_column(sa.ForeignKey("core_training_category.code"))
    job_role: Mapped[str] = mapped_column(sa.String(60), default="")  # "" = every job role
    renew_month: Mapped[int]
    renew_day: Mapped[int]

    __table_args__ = (
        sa.UniqueConstraint("org_id", "category_code", "job_role"),
        sa.CheckConstraint("renew_month BETWEEN 1 AND 12 AND renew_day BETWEEN 1 AND 31", name="renew_date"),
    )


class AscwdsWorkerRef(Base):
    """A person's ASC-WDS ``UNIQUEWORKERID`` at one organisation (core Person has no staff number)."""

    __tablename__ = "courses_worker_ref"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("core_person.id", ondelete="CASCADE"))
    unique_worker_id: Mapped[str] = mapped_column(sa.String(50))

    person: Mapped[Person] = relationship()

    __table_args__ = (sa.UniqueConstraint("org_id", "unique_worker_id"), sa.UniqueConstraint("org_id", "person_id"))


class AscwdsImport(Base):
    """One ASC-WDS training file imported into an organisation (the records point back here)."""

    __tablename__ = "courses_ascwds_import"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    rows: Mapped[int]
    created: Mapped[int]
    skipped: Mapped[int]
    imported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ComplianceCache(Base):
    """Each home's compliance counts for the scheme-wide summary, recomputed when stale: its horizon ended, a new or
    corrected record for one of its people, a change of staff or job roles, or a change of requirements.
    ``data`` is JSON: {"v": 4, "people": n, "subjects": {code: [required, in date all through the horizon,
    [expiry day of each other person in date, as days after ``computed_on``, sorted]]}} (see compliance)."""

    __tablename__ = "courses_compliance_cache"
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"), primary_key=True)
    computed_on: Mapped[date] = mapped_column(sa.Date)
    fingerprint: Mapped[str] = mapped_column(sa.String(100))
    last_record_id: Mapped[int]
    stale: Mapped[bool] = mapped_column(default=False)
    data: Mapped[str] = mapped_column(sa.Text)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# ASC-WDS training-file codes (Skills for Care's training bulk upload; research section 4.2).
ASCWDS_ACCREDITED = {0: "No", 1: "Yes", 999: "Don't know"}
ASCWDS_WHO_DELIVERED = {1: "In-house staff", 2: "External provider"}
ASCWDS_HOW_DELIVERED = {1: "Face to face", 2: "E-learning"}
# PROVIDERNAME is a code from Skills for Care's training-provider list: 1 to 88, or 999 for any other provider.
ASCWDS_PROVIDER_CODES = tuple(range(1, 89)) + (999,)


class AscwdsRecordDetail(Base):
    """What an ASC-WDS training row said about a record, beyond the core ledger's columns, so the record goes
    back to ASC-WDS as it came: ACCREDITED with its "don't know" (999) and blank, WHODELIVERED, the training
    provider's code (PROVIDERNAME), HOWDELIVERED and VALIDITY exactly as given. NULL means the cell was blank."""

    __tablename__ = "courses_ascwds_record"
    record_id: Mapped[int] = mapped_column(sa.ForeignKey("core_training_record.id", ondelete="CASCADE"),
                                           primary_key=True, autoincrement=False)
    accredited: Mapped[int | None]
    who_delivered: Mapped[int | None]
    provider_code: Mapped[int | None]
    how_delivered: Mapped[int | None]
    validity: Mapped[str | None] = mapped_column(sa.String(4))

    __table_args__ = (
        sa.CheckConstraint("accredited IS NULL OR accredited IN (0, 1, 999)", name="accredited"),
        sa.CheckConstraint("who_delivered IS NULL OR who_delivered IN (1, 2)", name="who_delivered"),
        sa.CheckConstraint("how_delivered IS NULL OR how_delivered IN (1, 2)", name="how_delivered"),
        sa.CheckConstraint("provider_code IS NULL OR provider_code BETWEEN 1 AND 88 OR provider_code = 999",
                           name="provider_code"),
    )


class AscwdsUpload(Base):
    """A training file kept after "Check" so "Import" need not ask for it again. Found only through a signed,
    expiring token given to the person who checked it; removed when imported or when it expires."""

    __tablename__ = "courses_ascwds_upload"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("core_person.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(sa.String(255))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
