"""Core models: organisations, the scheme, people, accounts, memberships, API tokens, the catalogue,
and the training-record ledger that every plugin reads."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from passport.db import Base, UTCDateTime, utcnow

ROLES = (
    "worker",
    "assessor",
    "training_lead",
    "registered_manager",
    "registered_professional",
    "org_admin",
    "scheme_admin",
)
ROLE_LABELS = {
    "worker": "Worker",
    "assessor": "Assessor",
    "training_lead": "Training lead",
    "registered_manager": "Registered manager",
    "registered_professional": "Registered professional",
    "org_admin": "Organisation admin",
    "scheme_admin": "Scheme admin",
}
REGISTRATION_BODIES = ("NMC", "HCPC", "GMC", "GPhC")
RECORD_SOURCES = ("course", "assessment", "passport", "bulk_upload", "manual")
FRAMEWORKS = ("2015", "2025")
# Why an organisation holds a membership: it created the person record, the person accepted its
# invitation, it accepted the person's passport, or it extended the roles of a current member.
MEMBERSHIP_REASONS = ("created", "invitation", "passport", "extended")


def _in(col: str, values) -> str:
    return f"{col} IN ({', '.join(repr(v) for v in values)})"


class OrgGroup(Base):
    """A provider group that runs several homes."""

    __tablename__ = "core_org_group"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)


class Organisation(Base):
    __tablename__ = "core_organisation"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    cqc_location_id: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    ods_code: Mapped[str | None] = mapped_column(sa.String(10), unique=True)
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_org_group.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group: Mapped[OrgGroup | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            _in("kind", ("care_home", "care_home_nursing", "home_care", "gp_practice", "community_nursing",
                         "nhs_trust", "care_association", "training_provider")),
            name="kind",
        ),
    )


class Scheme(Base):
    """A partnership (e.g. an NHS trust and a care association) that agrees one standard."""

    __tablename__ = "core_scheme"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    cc_version: Mapped[str] = mapped_column(sa.String(4), default="2025")
    quality_threshold: Mapped[str] = mapped_column(sa.Text, default="")
    #: ASC-WDS category codes a passport states as mandatory training, comma-separated; None = the
    #: Skills for Care core and mandatory subjects (catalogue ``core``)
    passport_subjects: Mapped[str | None] = mapped_column(sa.String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    partners: Mapped[list[SchemeMember]] = relationship(back_populates="scheme", cascade="all, delete-orphan")

    __table_args__ = (sa.CheckConstraint(_in("cc_version", FRAMEWORKS), name="cc_version"),)


class SchemeMember(Base):
    """An organisation taking part in a scheme; ``endorses`` puts its name on the passports."""

    __tablename__ = "core_scheme_member"
    scheme_id: Mapped[int] = mapped_column(sa.ForeignKey("core_scheme.id", ondelete="CASCADE"), primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"), primary_key=True)
    endorses: Mapped[bool] = mapped_column(default=False)

    scheme: Mapped[Scheme] = relationship(back_populates="partners")
    organisation: Mapped[Organisation] = relationship()


class Person(Base):
    __tablename__ = "core_person"
    id: Mapped[int] = mapped_column(primary_key=True)
    given_name: Mapped[str] = mapped_column(sa.String(100))
    family_name: Mapped[str] = mapped_column(sa.String(100))
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    registration_body: Mapped[str | None] = mapped_column(sa.String(10))
    registration_pin: Mapped[str | None] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="person")
    user: Mapped[User | None] = relationship(back_populates="person", uselist=False)

    __table_args__ = (
        sa.CheckConstraint("(registration_body IS NULL) = (registration_pin IS NULL)", name="registration_pair"),
        sa.CheckConstraint("registration_body IS NULL OR " + _in("registration_body", REGISTRATION_BODIES),
                           name="registration_body"),
        sa.UniqueConstraint("registration_body", "registration_pin"),
    )

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class User(Base):
    """A sign-in account for a person. Passwords are stored as scrypt hashes."""

    __tablename__ = "core_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("core_person.id", ondelete="CASCADE"), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    is_disabled: Mapped[bool] = mapped_column(default=False)
    # Changes whenever the password changes: invalidates sessions and reset links issued before.
    session_version: Mapped[int] = mapped_column(default=1)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship(back_populates="user")

    # Flask-Login interface
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return not self.is_disabled

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class Membership(Base):
    """A person's role in an organisation over a period. One row per role."""

    __tablename__ = "core_membership"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("core_person.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(30))
    job_role: Mapped[str | None] = mapped_column(sa.String(60))
    start_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date | None] = mapped_column(sa.Date)
    via: Mapped[str] = mapped_column(sa.String(20), default="created", server_default="created")
    via_ref: Mapped[str] = mapped_column(sa.String(100), default="", server_default="")

    person: Mapped[Person] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (
        sa.CheckConstraint(_in("role", ROLES), name="role"),
        sa.CheckConstraint(_in("via", MEMBERSHIP_REASONS), name="via"),
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates"),
        sa.UniqueConstraint("person_id", "org_id", "role", "start_date"),
    )

    def is_current(self, on: date) -> bool:
        return self.start_date <= on and (self.end_date is None or self.end_date >= on)


class ApiToken(Base):
    """A personal API token, shown once and stored as a SHA-256 hash, scoped to one org and role."""

    __tablename__ = "core_api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("core_user.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(sa.String(30))
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (sa.CheckConstraint(_in("role", ROLES), name="role"),)


class UsedResetToken(Base):
    """Reset links already used, so each works once even within its lifetime."""

    __tablename__ = "core_used_reset_token"
    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- the standards catalogue (reference data, loaded by a migration) ---------------------------------


class CCStandard(Base):
    __tablename__ = "core_cc_standard"
    id: Mapped[int] = mapped_column(primary_key=True)
    framework: Mapped[str] = mapped_column(sa.String(4))
    number: Mapped[int]
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))

    outcomes: Mapped[list[CCOutcome]] = relationship(order_by="CCOutcome.position", cascade="all, delete-orphan")

    __table_args__ = (
        sa.UniqueConstraint("framework", "number"),
        sa.CheckConstraint(_in("framework", FRAMEWORKS), name="framework"),
    )


class CCOutcome(Base):
    __tablename__ = "core_cc_outcome"
    id: Mapped[int] = mapped_column(primary_key=True)
    standard_id: Mapped[int] = mapped_column(sa.ForeignKey("core_cc_standard.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(10))
    text: Mapped[str] = mapped_column(sa.Text)
    position: Mapped[int]

    __table_args__ = (sa.UniqueConstraint("standard_id", "code"),)


class TrainingCategory(Base):
    """An ASC-WDS training category with the default refresh period (months; None = no refresh)."""

    __tablename__ = "core_training_category"
    code: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    group: Mapped[str] = mapped_column(sa.String(100))
    refresh_months: Mapped[int | None]
    core: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (sa.CheckConstraint("refresh_months IS NULL OR refresh_months > 0", name="refresh"),)


class RefreshOverride(Base):
    """An organisation's own refresh period for a category, optionally for one job role."""

    __tablename__ = "core_refresh_override"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    category_code: Mapped[int] = mapped_column(sa.ForeignKey("core_training_category.code"))
    job_role: Mapped[str] = mapped_column(sa.String(60), default="")  # "" = every job role
    refresh_months: Mapped[int | None]

    __table_args__ = (
        sa.UniqueConstraint("org_id", "category_code", "job_role"),
        sa.CheckConstraint("refresh_months IS NULL OR refresh_months > 0", name="refresh"),
    )


class DelegatedCategory(Base):
    """One of the eight ASC-WDS delegated healthcare activity categories."""

    __tablename__ = "core_delegated_category"
    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    ascwds_code: Mapped[int | None]
    name: Mapped[str] = mapped_column(sa.String(200))
    examples: Mapped[str] = mapped_column(sa.Text, default="")


class ReferenceDataVersion(Base):
    __tablename__ = "core_reference_data"
    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    version: Mapped[str] = mapped_column(sa.String(20))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- the record ledger: shared by courses, verify, delegation and certificates ----------------------


class TrainingRecord(Base):
    """Evidence that a person completed training in a category. Never updated in place:
    a renewal is a new record, a correction is a new record that ``supersedes_id`` the old one."""

    __tablename__ = "core_training_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("core_person.id", ondelete="CASCADE"))
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    category_code: Mapped[int] = mapped_column(sa.ForeignKey("core_training_category.code"))
    title: Mapped[str] = mapped_column(sa.String(200))
    completed_on: Mapped[date] = mapped_column(sa.Date)
    expires_on: Mapped[date | None] = mapped_column(sa.Date)
    source: Mapped[str] = mapped_column(sa.String(20))
    source_ref: Mapped[str] = mapped_column(sa.String(300), default="")
    accredited: Mapped[bool] = mapped_column(default=False)
    provider_name: Mapped[str] = mapped_column(sa.String(200), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    supersedes_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_training_record.id"), unique=True)
    correction_reason: Mapped[str] = mapped_column(sa.Text, default="")

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    recorded_by: Mapped[Person | None] = relationship(foreign_keys=[recorded_by_id])
    category: Mapped[TrainingCategory] = relationship()
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (
        sa.CheckConstraint(_in("source", RECORD_SOURCES), name="source"),
        sa.CheckConstraint("expires_on IS NULL OR expires_on >= completed_on", name="expiry_after_completion"),
        sa.Index("ix_core_training_record_person_category", "person_id", "category_code", "completed_on"),
        sa.Index("ix_core_training_record_org", "org_id", "category_code"),
    )


class StandardAchievement(Base):
    """A Care Certificate standard met and signed off for a person: evidence plus sign-off.
    Kept as history; ``withdrawn_at`` marks one recorded in error."""

    __tablename__ = "core_standard_achievement"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("core_person.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    framework: Mapped[str] = mapped_column(sa.String(4))
    standard_number: Mapped[int]
    met_on: Mapped[date] = mapped_column(sa.Date)
    signed_off_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(sa.String(20))
    source_ref: Mapped[str] = mapped_column(sa.String(300), default="")
    evidence: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    signed_off_by: Mapped[Person | None] = relationship(foreign_keys=[signed_off_by_id])
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (
        sa.CheckConstraint(_in("framework", FRAMEWORKS), name="framework"),
        sa.CheckConstraint(_in("source", RECORD_SOURCES), name="source"),
        sa.CheckConstraint("standard_number BETWEEN 1 AND 16", name="number"),
    )


class Invitation(Base):
    """An organisation's invitation to whoever controls an email address to join it in some roles.
    Single use: the link's token is stored only as a SHA-256 hash and stops working once accepted,
    revoked, replaced by a resend, or past ``expires_at``."""

    __tablename__ = "core_invitation"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    roles: Mapped[str] = mapped_column(sa.String(200))  # comma-separated role codes
    job_role: Mapped[str | None] = mapped_column(sa.String(60))
    given_name: Mapped[str] = mapped_column(sa.String(100), default="")
    family_name: Mapped[str] = mapped_column(sa.String(100), default="")
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    send_count: Mapped[int] = mapped_column(default=0)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()
    created_by: Mapped[Person | None] = relationship(foreign_keys=[created_by_id])
    accepted_by: Mapped[Person | None] = relationship(foreign_keys=[accepted_by_id])

    @property
    def role_list(self) -> list[str]:
        return [r for r in self.roles.split(",") if r]

    def state(self, now: datetime) -> str:
        """pending | accepted | revoked | expired"""
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "pending"


# --- registration confirmations: clinical authority checked outside the care home ------------------

#: Register statuses a confirmation may record. Only a current registration can be confirmed: a
#: suspended, lapsed or removed entry is never recorded as a confirmation.
REGISTER_STATUSES = ("registered", "registered_with_conditions")
REGISTER_STATUS_LABELS = {"registered": "Registered",
                          "registered_with_conditions": "Registered, with conditions or an annotation"}


class RegistrationConfirmation(Base):
    """Someone accountable outside the professional's care home checked the professional register on
    ``checked_on`` and saw ``register_status`` and the renewal or revalidation date ``renews_on``.

    Gives authority to assess and delegate from ``checked_on`` until the day before ``renews_on``, unless
    withdrawn. Never updated except to record a withdrawal: a renewal is a new confirmation."""

    __tablename__ = "core_registration_confirmation"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("core_person.id", ondelete="CASCADE"), index=True)
    register: Mapped[str] = mapped_column(sa.String(10))
    pin: Mapped[str] = mapped_column(sa.String(20))
    register_status: Mapped[str] = mapped_column(sa.String(30))
    checked_on: Mapped[date] = mapped_column(sa.Date)
    renews_on: Mapped[date] = mapped_column(sa.Date)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    #: the organisation the confirmer acted for (a scheme admin's, an NHS clinical organisation's)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    withdrawal_reason: Mapped[str] = mapped_column(sa.Text, default="")

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    confirmed_by: Mapped[Person | None] = relationship(foreign_keys=[confirmed_by_id])
    withdrawn_by: Mapped[Person | None] = relationship(foreign_keys=[withdrawn_by_id])
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (
        sa.CheckConstraint(_in("register", REGISTRATION_BODIES), name="register"),
        sa.CheckConstraint(_in("register_status", REGISTER_STATUSES), name="register_status"),
        sa.CheckConstraint("renews_on > checked_on", name="renews_after_check"),
        sa.CheckConstraint("confirmed_by_id IS NULL OR confirmed_by_id <> person_id", name="not_self"),
        sa.CheckConstraint("(withdrawn_at IS NULL) = (withdrawal_reason = '')", name="withdrawn_reason"),
        sa.Index("ix_core_registration_confirmation_renews", "renews_on"),
    )


class RegistrationConfirmer(Base):
    """A person the scheme names to confirm registrations, for one organisation of the scheme that is
    not a care home. Appointed and ended by a scheme admin; history kept."""

    __tablename__ = "core_registration_confirmer"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("core_person.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    appointed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    appointed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (
        # one open appointment per person and organisation
        sa.Index("uq_core_registration_confirmer_open", "person_id", "org_id", unique=True,
                 sqlite_where=sa.text("ended_at IS NULL"), postgresql_where=sa.text("ended_at IS NULL")),
    )


class RateCounter(Base):
    """A throttle counter shared by every process: attempts under ``key`` in the window that began at
    ``window_start`` and ends at ``expires_at`` (see passport.core.throttle). Not history: expired rows
    are deleted."""

    __tablename__ = "core_rate_counter"
    key: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    count: Mapped[int] = mapped_column(default=0)


# --- qualifications (the Level 2 Adult Social Care Certificate) -------------------------------------

QUALIFICATION_KINDS = ("l2_ascc",)


class Qualification(Base):
    """A regulated qualification a person holds (today: the Level 2 Adult Social Care Certificate),
    with its awarding organisation, Ofqual qualification number and the date it was achieved. Kept as
    history; ``withdrawn_at`` marks one recorded in error."""

    __tablename__ = "core_qualification"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("core_person.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(20), default="l2_ascc")
    title: Mapped[str] = mapped_column(sa.String(200))
    awarding_organisation: Mapped[str] = mapped_column(sa.String(100))
    qualification_number: Mapped[str] = mapped_column(sa.String(10))
    achieved_on: Mapped[date] = mapped_column(sa.Date)
    source: Mapped[str] = mapped_column(sa.String(20))
    source_ref: Mapped[str] = mapped_column(sa.String(300), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    units: Mapped[list[QualificationUnit]] = relationship(order_by="QualificationUnit.number",
                                                          cascade="all, delete-orphan")
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (
        sa.CheckConstraint(_in("kind", QUALIFICATION_KINDS), name="kind"),
        sa.CheckConstraint(_in("source", RECORD_SOURCES), name="source"),
    )


class QualificationUnit(Base):
    """A unit of a recorded qualification, with the date it was achieved when known."""

    __tablename__ = "core_qualification_unit"
    id: Mapped[int] = mapped_column(primary_key=True)
    qualification_id: Mapped[int] = mapped_column(sa.ForeignKey("core_qualification.id", ondelete="CASCADE"),
                                                  index=True)
    number: Mapped[int]
    reference: Mapped[str] = mapped_column(sa.String(20), default="")
    title: Mapped[str] = mapped_column(sa.String(200))
    achieved_on: Mapped[date | None] = mapped_column(sa.Date)

    __table_args__ = (sa.UniqueConstraint("qualification_id", "number"),
                      sa.CheckConstraint("number BETWEEN 1 AND 99", name="number"))
