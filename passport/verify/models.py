"""Verify plugin tables: trusted issuers, mirrored status lists, the check log, accepted passports."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from passport.core.models import Organisation, Person, StandardAchievement, TrainingRecord
from passport.db import Base, UTCDateTime, utcnow

RESULTS = ("valid", "valid_status_unknown", "superseded", "expired", "revoked", "suspended", "untrusted_issuer",
           "invalid")
CHANNELS = ("api", "cli", "accept")
PURPOSES = ("revocation", "suspension", "refresh")


def _in(col: str, values) -> str:
    return f"{col} IN ({', '.join(repr(v) for v in values)})"


class TrustedIssuer(Base):
    """Another deployment of this service whose passports this scheme recognises, with its public keys
    (as pasted by a scheme admin or fetched from its JWKS). ``removed_at`` keeps the history."""

    __tablename__ = "verify_trusted_issuer"
    id: Mapped[int] = mapped_column(primary_key=True)
    iss: Mapped[str] = mapped_column(sa.String(255), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    status_base: Mapped[str] = mapped_column(sa.String(300))
    jwks_json: Mapped[str] = mapped_column(sa.Text)
    jwks_source: Mapped[str] = mapped_column(sa.String(10))
    keys_as_of: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_refresh_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_refresh_error: Mapped[str] = mapped_column(sa.Text, default="")
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    added_by: Mapped[Person | None] = relationship()
    endorsers: Mapped[list[IssuerEndorser]] = relationship(back_populates="issuer", cascade="all, delete-orphan",
                                                           order_by="IssuerEndorser.position")

    __table_args__ = (sa.CheckConstraint(_in("jwks_source", ("pasted", "fetched")), name="jwks_source"),)

    @property
    def endorser_names(self) -> list[str]:
        return [e.name for e in self.endorsers]


class IssuerEndorser(Base):
    """An organisation that endorses another trusted issuer's passports, as the scheme admin recorded it
    from that scheme's own published list. Verifiers show these (and only these) for that issuer's
    passports: never this scheme's own partners, never anything a token says."""

    __tablename__ = "verify_issuer_endorser"
    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int] = mapped_column(sa.ForeignKey("verify_trusted_issuer.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[int] = mapped_column(default=0)

    issuer: Mapped[TrustedIssuer] = relationship(back_populates="endorsers")

    __table_args__ = (sa.UniqueConstraint("issuer_id", "name"),)


class StatusMirror(Base):
    """The last signed status list fetched from another issuer, re-served same-origin to the offline
    page and read by the server-side verifier. Verified against the issuer's keys before storing."""

    __tablename__ = "verify_status_mirror"
    id: Mapped[int] = mapped_column(primary_key=True)
    iss: Mapped[str] = mapped_column(sa.String(255))
    list_id: Mapped[int]
    purpose: Mapped[str] = mapped_column(sa.String(12))
    jwt: Mapped[str] = mapped_column(sa.Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("iss", "list_id", "purpose"),
        sa.CheckConstraint(_in("purpose", PURPOSES), name="purpose"),
    )


class VerificationCheck(Base):
    """One server-side verification, for "who checked my passport". Never the token: only a hash of
    issuer and passport id, the verifying organisation when known, and a truncated client network."""

    __tablename__ = "verify_check"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    result: Mapped[str] = mapped_column(sa.String(24))
    passport_ref: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    channel: Mapped[str] = mapped_column(sa.String(8))
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="SET NULL"))
    client_net: Mapped[str] = mapped_column(sa.String(50), default="")

    organisation: Mapped[Organisation | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(_in("result", RESULTS), name="result"),
        sa.CheckConstraint(_in("channel", CHANNELS), name="channel"),
    )


class Acceptance(Base):
    """A passport accepted by a new employer: what it stated, who accepted it, what was recognised,
    and any top-up the new employer requires (e.g. standard 16 for a 2015 certificate)."""

    __tablename__ = "verify_acceptance"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("core_person.id", ondelete="CASCADE"), index=True)
    iss: Mapped[str] = mapped_column(sa.String(255))
    jti: Mapped[str] = mapped_column(sa.String(64))
    issuer_name: Mapped[str] = mapped_column(sa.String(200))
    holder_name: Mapped[str] = mapped_column(sa.String(201))
    passport_issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    framework: Mapped[str | None] = mapped_column(sa.String(4))
    standards_mask: Mapped[int] = mapped_column(default=0)
    awarded_on: Mapped[date | None] = mapped_column(sa.Date)
    name_check: Mapped[str] = mapped_column(sa.String(10))
    name_note: Mapped[str] = mapped_column(sa.Text, default="")
    top_up_framework: Mapped[str | None] = mapped_column(sa.String(4))
    top_up_standards: Mapped[str] = mapped_column(sa.String(60), default="")
    top_up_note: Mapped[str] = mapped_column(sa.Text, default="")
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    accepted_by: Mapped[Person | None] = relationship(foreign_keys=[accepted_by_id])
    items: Mapped[list[AcceptanceItem]] = relationship(back_populates="acceptance", cascade="all, delete-orphan",
                                                        order_by="AcceptanceItem.id")

    __table_args__ = (
        sa.UniqueConstraint("org_id", "iss", "jti"),
        sa.CheckConstraint(_in("name_check", ("match", "override")), name="name_check"),
        sa.CheckConstraint("framework IS NULL OR " + _in("framework", ("2015", "2025")), name="framework"),
        sa.CheckConstraint("top_up_framework IS NULL OR " + _in("top_up_framework", ("2015", "2025")),
                           name="top_up_framework"),
    )

    @property
    def top_ups(self) -> list[int]:
        return [int(x) for x in self.top_up_standards.split(",") if x]


class AcceptanceItem(Base):
    """One ledger row created by an acceptance: a standard achievement or a training record."""

    __tablename__ = "verify_acceptance_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    acceptance_id: Mapped[int] = mapped_column(sa.ForeignKey("verify_acceptance.id", ondelete="CASCADE"), index=True)
    achievement_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_standard_achievement.id", ondelete="CASCADE"))
    training_record_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_training_record.id", ondelete="CASCADE"))

    acceptance: Mapped[Acceptance] = relationship(back_populates="items")
    achievement: Mapped[StandardAchievement | None] = relationship()
    training_record: Mapped[TrainingRecord | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("(achievement_id IS NULL) <> (training_record_id IS NULL)", name="one_target"),
    )


class EndorserLogo(Base):
    """An endorsing partner's logo as a scheme admin uploaded it: always a PNG this service re-encoded
    (SVG rendered to PNG, raster images re-drawn without metadata). ``issuer_id`` NULL is this scheme's
    own partner (an endorsing organisation); otherwise an endorser recorded for that trusted issuer. Its
    SHA-256 goes into the signed trust bundle; verifiers show the logo only when the bytes match."""

    __tablename__ = "verify_endorser_logo"
    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("verify_trusted_issuer.id", ondelete="CASCADE"),
                                                  index=True)
    endorser_name: Mapped[str] = mapped_column(sa.String(200))
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    png: Mapped[bytes] = mapped_column(sa.LargeBinary)
    width: Mapped[int]
    height: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("issuer_id", "endorser_name"),)
