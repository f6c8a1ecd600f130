"""Certificates models: signing keys (public half only), status lists, passports and cached renderings.

Private keys never live in the database: ``SigningKey`` holds the public JWK and the key's life cycle;
the private half is a PEM file in ``KEY_DIR`` (see ``passport.certificates.keys``).
"""
from __future__ import annotations

import json
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from passport.core.models import Organisation, Person
from passport.db import Base, UTCDateTime, utcnow

PURPOSES = {"passport": "ES256", "openbadge": "RS256", "trust": "ES256"}
KEY_STATUSES = ("active", "retired", "compromised")
REVOCATION_REASONS = ("issued_in_error", "fraud", "withdrawn_by_employer")
SUSPENSION_REASONS = ("under_investigation",)
REASON_LABELS = {
    "issued_in_error": "Issued in error",
    "fraud": "Fraud",
    "withdrawn_by_employer": "Withdrawn by the employer",
    "under_investigation": "Under investigation",
}
STATUS_PURPOSES = ("revocation", "suspension", "refresh")
LIST_SIZE = 131_072  # W3C Bitstring Status List minimum (16 KiB): herd privacy
ISSUE_REASONS = ("issued", "changed", "reissued", "key_rotation", "key_compromise")


def _in(col: str, values) -> str:
    return f"{col} IN ({', '.join(repr(v) for v in values)})"


class SigningKey(Base):
    """A signing key's public half and life cycle. ``kid`` is the RFC 7638 SHA-256 thumbprint."""

    __tablename__ = "certificates_signing_key"
    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    alg: Mapped[str] = mapped_column(sa.String(8))
    purpose: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(20), default="active")
    active_from: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    compromised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    public_jwk_json: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(200), default="")

    __table_args__ = (
        sa.CheckConstraint(_in("alg", ("ES256", "RS256")), name="alg"),
        sa.CheckConstraint(_in("purpose", tuple(PURPOSES)), name="purpose"),
        sa.CheckConstraint(_in("status", KEY_STATUSES), name="status"),
        sa.CheckConstraint("(purpose = 'openbadge') = (alg = 'RS256')", name="purpose_alg"),
        sa.CheckConstraint("(status = 'compromised') = (compromised_at IS NOT NULL)", name="compromised_at"),
        sa.CheckConstraint("active_until IS NULL OR active_until >= active_from", name="window"),
        sa.Index("ix_certificates_signing_key_purpose_status", "purpose", "status"),
    )

    @property
    def public_jwk(self) -> dict:
        """The public JWK members (kty, crv/x/y or n/e); never any private member."""
        return json.loads(self.public_jwk_json)

    @property
    def file_name(self) -> str:
        # kid is base64url (A-Z a-z 0-9 - _), so it is safe as a file name.
        return f"{self.purpose}-{self.kid}.pem"


class StatusList(Base):
    """One list id: three W3C bitstring status lists (revocation, suspension, refresh), same indexes."""

    __tablename__ = "certificates_status_list"
    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int] = mapped_column(default=LIST_SIZE)
    allocated: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: bumped when any bit changes, so cached signed lists can be refreshed
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(f"size >= {LIST_SIZE} AND size % 8 = 0", name="size"),
        sa.CheckConstraint("allocated >= 0 AND allocated <= size", name="allocated"),
    )


class Passport(Base):
    """An issued passport: who, when, by whom, what it stated, the signed token and its status entry.

    Never edited in what it states; revocation, suspension and supersession are recorded on it."""

    __tablename__ = "certificates_passport"
    id: Mapped[int] = mapped_column(primary_key=True)
    jti: Mapped[str] = mapped_column(sa.String(16), unique=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("core_person.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_organisation.id"), index=True)  # None: the scheme
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    issued_by_label: Mapped[str] = mapped_column(sa.String(200), default="")
    issue_reason: Mapped[str] = mapped_column(sa.String(20), default="issued")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    key_id: Mapped[int] = mapped_column(sa.ForeignKey("certificates_signing_key.id"), index=True)
    given_name: Mapped[str] = mapped_column(sa.String(100))
    family_name: Mapped[str] = mapped_column(sa.String(100))
    framework: Mapped[str | None] = mapped_column(sa.String(4))
    standards_mask: Mapped[int] = mapped_column(default=0)
    awarded_on: Mapped[date | None] = mapped_column(sa.Date)
    competencies_json: Mapped[str] = mapped_column(sa.Text, default="[]")
    claims_json: Mapped[str] = mapped_column(sa.Text)
    token: Mapped[str] = mapped_column(sa.Text)
    qr_mode: Mapped[str] = mapped_column(sa.String(8))
    qr_version: Mapped[int]
    status_list_id: Mapped[int] = mapped_column(sa.ForeignKey("certificates_status_list.id"))
    status_index: Mapped[int]
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revocation_reason: Mapped[str | None] = mapped_column(sa.String(30))
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspension_reason: Mapped[str | None] = mapped_column(sa.String(30))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificates_passport.id"))
    status_changed_by: Mapped[str] = mapped_column(sa.String(200), default="")

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    organisation: Mapped[Organisation | None] = relationship()
    key: Mapped[SigningKey] = relationship()
    superseded_by: Mapped[Passport | None] = relationship(remote_side=[id])

    __table_args__ = (
        sa.UniqueConstraint("status_list_id", "status_index"),
        sa.CheckConstraint("status_index >= 0", name="status_index"),
        sa.CheckConstraint("standards_mask >= 0", name="standards_mask"),
        sa.CheckConstraint("framework IS NULL OR " + _in("framework", ("2015", "2025")), name="framework"),
        sa.CheckConstraint(_in("qr_mode", ("byte", "numeric", "packed")), name="qr_mode"),
        sa.CheckConstraint("qr_version BETWEEN 1 AND 22", name="qr_version"),
        sa.CheckConstraint(_in("issue_reason", ISSUE_REASONS), name="issue_reason"),
        sa.CheckConstraint("expires_at > issued_at", name="expiry"),
        sa.CheckConstraint("(revoked_at IS NULL) = (revocation_reason IS NULL)", name="revocation_pair"),
        sa.CheckConstraint("revocation_reason IS NULL OR " + _in("revocation_reason", REVOCATION_REASONS),
                           name="revocation_reason"),
        sa.CheckConstraint("(suspended_at IS NULL) = (suspension_reason IS NULL)", name="suspension_pair"),
        sa.CheckConstraint("suspension_reason IS NULL OR " + _in("suspension_reason", SUSPENSION_REASONS),
                           name="suspension_reason"),
        sa.CheckConstraint("superseded_by_id IS NULL OR superseded_at IS NOT NULL", name="superseded_pair"),
        sa.Index("ix_certificates_passport_list_revoked", "status_list_id", "revoked_at"),
    )

    @property
    def competencies(self) -> list[list[str]]:
        """``[[task_code, level, valid_until], ...]`` as stated in the token."""
        return json.loads(self.competencies_json)

    @property
    def claims(self) -> dict:
        return json.loads(self.claims_json)

    @property
    def subjects(self) -> list[list]:
        """In-date mandatory training as stated: ``[[category code, completed ISO, expires ISO or None]]``
        (version-1 passports state none)."""
        from passport.certificates.wire import from_day

        c = self.claims
        if c.get("v") != 2:
            return []
        return [[m[0], from_day(m[1]).isoformat(), from_day(m[2]).isoformat() if len(m) > 2 else None]
                for m in c.get("ms", [])]

    @property
    def qualification(self) -> list | None:
        """``[awarding organisation, qualification number, achieved ISO]`` when stated."""
        from passport.certificates.wire import from_day

        q = self.claims.get("q")
        return None if not q else [q[0], q[1], from_day(q[2]).isoformat()]

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def standards_met(self) -> list[int]:
        return [i + 1 for i in range(16) if self.standards_mask >> i & 1]

    def state(self, now: datetime | None = None) -> str:
        """One of revoked, suspended, superseded, expired, valid (the issuer's own view)."""
        now = now or utcnow()
        if self.revoked_at is not None:
            return "revoked"
        if self.suspended_at is not None:
            return "suspended"
        if self.superseded_at is not None:
            return "superseded"
        if self.key is not None and self.key.status == "compromised":
            return "invalid"
        if self.expires_at <= now:
            return "expired"
        return "valid"

    @property
    def reason(self) -> str | None:
        return self.revocation_reason or self.suspension_reason


class Artifact(Base):
    """A rendering cached on first use (QR PNG/SVG, PDFs, the phone image), so re-issue stays cheap."""

    __tablename__ = "certificates_artifact"
    passport_id: Mapped[int] = mapped_column(sa.ForeignKey("certificates_passport.id", ondelete="CASCADE"),
                                             primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
