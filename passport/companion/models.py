"""Companion plugin tables: induction packs (the scheme's template and each home's adapted copy), the
checklists made from them for employees and agency workers, agency links, the scheme's cost setting,
and the anonymous survey of staff who move.

Survey responses deliberately hold no person, no account, no exact time and no respondent's organisation:
only the home being rated, which part of the move it was about, and the week. See docs/companion.md.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from passport.core.models import Organisation, Person
from passport.db import Base, UTCDateTime, utcnow

ITEM_KINDS = {"read": "Read", "shown": "Shown in person", "contact": "Contact", "document": "Document"}
DUE = {"before_first_shift": "Before the first shift", "within_days": "Within the first days"}
INDUCTION_KINDS = {"employee": "Employee", "agency": "Agency worker"}
QUESTION_KINDS = {"scale": "A rating from 1 to 5", "yes_no": "Yes or no", "choice": "One of a list",
                  "text": "Free text"}
QUESTION_ABOUT = {"left": "The home they left", "joined": "The home they joined"}
OFFER_REASONS = {"accepted": "Passport accepted at a new home", "ended": "Left a home"}


def _in(col: str, values) -> str:
    return f"{col} IN ({', '.join(repr(v) for v in values)})"


class Pack(Base):
    """An induction pack. ``org_id`` NULL is the scheme's template; a home's pack may be adopted from it
    (``template_id``)."""

    __tablename__ = "companion_pack"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"),
                                               unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    due_days: Mapped[int] = mapped_column(default=14)
    template_id: Mapped[int | None] = mapped_column(sa.ForeignKey("companion_pack.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()
    sections: Mapped[list[Section]] = relationship(back_populates="pack", cascade="all, delete-orphan",
                                                   order_by="Section.position")

    __table_args__ = (sa.CheckConstraint("due_days BETWEEN 1 AND 90", name="due_days"),)


class Section(Base):
    __tablename__ = "companion_section"
    id: Mapped[int] = mapped_column(primary_key=True)
    pack_id: Mapped[int] = mapped_column(sa.ForeignKey("companion_pack.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[int] = mapped_column(default=0)

    pack: Mapped[Pack] = relationship(back_populates="sections")
    items: Mapped[list[Item]] = relationship(back_populates="section", cascade="all, delete-orphan",
                                             order_by="Item.position")


class Item(Base):
    """One thing in a pack: to read, to be shown in person, a contact, or a link to a document.
    ``template_item_id`` names the template item a home's item came from, to show what the home changed."""

    __tablename__ = "companion_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(sa.ForeignKey("companion_section.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    url: Mapped[str] = mapped_column(sa.String(500), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    due: Mapped[str] = mapped_column(sa.String(20), default="within_days")
    position: Mapped[int] = mapped_column(default=0)
    template_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("companion_item.id", ondelete="SET NULL"))

    section: Mapped[Section] = relationship(back_populates="items")

    __table_args__ = (
        sa.CheckConstraint(_in("kind", ITEM_KINDS), name="kind"),
        sa.CheckConstraint(_in("due", DUE), name="due"),
    )


class Induction(Base):
    """An induction checklist at a home, for an employee (``person_id``) or an agency worker (named here,
    no account, ``ends_on`` = the end of the booking)."""

    __tablename__ = "companion_induction"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="CASCADE"), index=True)
    worker_name: Mapped[str] = mapped_column(sa.String(201))
    agency_name: Mapped[str] = mapped_column(sa.String(200), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    first_shift_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date | None] = mapped_column(sa.Date)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    person: Mapped[Person | None] = relationship(foreign_keys=[person_id])
    steps: Mapped[list[Step]] = relationship(back_populates="induction", cascade="all, delete-orphan",
                                             order_by="Step.position")

    __table_args__ = (
        sa.CheckConstraint(_in("kind", INDUCTION_KINDS), name="kind"),
        sa.CheckConstraint("(kind = 'employee') = (person_id IS NOT NULL)", name="employee_person"),
        sa.CheckConstraint("(kind = 'agency') = (ends_on IS NOT NULL)", name="agency_ends"),
        sa.CheckConstraint("ends_on IS NULL OR ends_on >= first_shift_on", name="dates"),
    )


class Step(Base):
    """A checklist line, copied from the pack when the induction started (later pack edits leave it alone)."""

    __tablename__ = "companion_step"
    id: Mapped[int] = mapped_column(primary_key=True)
    induction_id: Mapped[int] = mapped_column(sa.ForeignKey("companion_induction.id", ondelete="CASCADE"), index=True)
    section_title: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(10))
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    url: Mapped[str] = mapped_column(sa.String(500), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    due_on: Mapped[date | None] = mapped_column(sa.Date, index=True)
    position: Mapped[int] = mapped_column(default=0)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    confirmed_by_name: Mapped[str] = mapped_column(sa.String(201), default="")

    induction: Mapped[Induction] = relationship(back_populates="steps")

    __table_args__ = (
        sa.CheckConstraint(_in("kind", ITEM_KINDS), name="kind"),
        sa.CheckConstraint("kind <> 'shown' OR done_at IS NULL OR confirmed_by_name <> ''", name="shown_confirmed"),
    )

    @property
    def tickable(self) -> bool:
        return self.kind != "contact"


class AgencyLink(Base):
    """A sign-in-free link to one agency worker's checklist at one home. Only a SHA-256 hash of the secret
    is stored; it ends at ``expires_at`` (the end of the booking) or when revoked."""

    __tablename__ = "companion_agency_link"
    id: Mapped[int] = mapped_column(primary_key=True)
    induction_id: Mapped[int] = mapped_column(sa.ForeignKey("companion_induction.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    induction: Mapped[Induction] = relationship()


class Setting(Base):
    """Scheme-wide settings of the companion (one row): the cost of an hour of training, in pence."""

    __tablename__ = "companion_setting"
    id: Mapped[int] = mapped_column(primary_key=True)
    cost_per_hour_pence: Mapped[int] = mapped_column(default=2500)

    __table_args__ = (sa.CheckConstraint("cost_per_hour_pence BETWEEN 0 AND 1000000", name="cost"),)


class Question(Base):
    """A survey question set by the scheme admin."""

    __tablename__ = "companion_question"
    id: Mapped[int] = mapped_column(primary_key=True)
    about: Mapped[str] = mapped_column(sa.String(10))
    kind: Mapped[str] = mapped_column(sa.String(10))
    text: Mapped[str] = mapped_column(sa.String(300))
    options: Mapped[str] = mapped_column(sa.Text, default="")  # one per line, for "choice"
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (
        sa.CheckConstraint(_in("about", QUESTION_ABOUT), name="about"),
        sa.CheckConstraint(_in("kind", QUESTION_KINDS), name="kind"),
    )

    @property
    def option_list(self) -> list[str]:
        return [o.strip() for o in self.options.splitlines() if o.strip()]


class SurveyOffer(Base):
    """The survey offered to a person after a move. This, not any answer, is what is kept against them;
    ``used`` stops a second response and says nothing about what was answered."""

    __tablename__ = "companion_survey_offer"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("core_person.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(10))
    event_ref: Mapped[str] = mapped_column(sa.String(60))
    left_org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    joined_org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"))
    offered_on: Mapped[date] = mapped_column(sa.Date)
    used: Mapped[bool] = mapped_column(default=False)
    declined: Mapped[bool] = mapped_column(default=False)

    left_org: Mapped[Organisation | None] = relationship(foreign_keys=[left_org_id])
    joined_org: Mapped[Organisation | None] = relationship(foreign_keys=[joined_org_id])

    __table_args__ = (
        sa.UniqueConstraint("person_id", "event_ref"),
        sa.CheckConstraint(_in("reason", OFFER_REASONS), name="reason"),
        sa.CheckConstraint("left_org_id IS NOT NULL OR joined_org_id IS NOT NULL", name="some_home"),
    )


class SurveyResponse(Base):
    """One anonymous set of answers about one home. A random id (no sequence to line up with offers), the
    home rated, which side of the move, and the Monday of the week: nothing about the respondent."""

    __tablename__ = "companion_survey_response"
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("core_organisation.id", ondelete="CASCADE"), index=True)
    about: Mapped[str] = mapped_column(sa.String(10))
    week_of: Mapped[date] = mapped_column(sa.Date)

    answers: Mapped[list[SurveyAnswer]] = relationship(cascade="all, delete-orphan")

    __table_args__ = (sa.CheckConstraint(_in("about", QUESTION_ABOUT), name="about"),)


class SurveyAnswer(Base):
    __tablename__ = "companion_survey_answer"
    response_id: Mapped[str] = mapped_column(sa.ForeignKey("companion_survey_response.id", ondelete="CASCADE"),
                                             primary_key=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("companion_question.id", ondelete="CASCADE"),
                                             primary_key=True)
    value_int: Mapped[int | None]
    value_text: Mapped[str] = mapped_column(sa.Text, default="")
