"""Reviewing a delegation: the registered professional records the outcome (continue as it is, continue
with changed written instructions, or withdraw) and the next review date. Authority goes through the one
registration-confirmation check (``rules.professional_authority``); the review records the confirmation."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport import audit
from passport.core.access import Principal
from passport.core.timeutil import uk_today
from passport.delegation.guards import end_delegations, require_professional
from passport.delegation.models import REVIEW_OUTCOMES, Delegation, Review
from passport.errors import Conflict, NotFound, ValidationError


def _d(value: date) -> str:
    return value.strftime("%-d %B %Y")


def record_review(db: Session, principal: Principal, delegation_id: int, *, reviewed_on: date, outcome: str,
                  next_review_date: date | None = None, instructions_ref: str | None = None,
                  notes: str = "") -> Review:
    """Record a review of an open delegation. ``continue`` and ``change`` set the next review date (after
    the review, not past the competence's end); ``change`` also records the new written instructions
    reference; ``withdraw`` ends the delegation with the notes as the reason."""
    d = db.scalar(sa.select(Delegation).where(Delegation.id == delegation_id).with_for_update())
    if d is None:
        raise NotFound("No such delegation.")
    authority = require_professional(db, principal, d.org_id, "delegation.delegation.review", delegation_id=d.id)
    if d.ended_at is not None:
        raise Conflict("This delegation has already ended.")
    today = uk_today()
    errors: dict[str, str] = {}
    notes = " ".join((notes or "").split())[:2000]
    instructions = " ".join((instructions_ref or "").split())
    if not isinstance(reviewed_on, date):
        errors["reviewed_on"] = "Enter the date of the review."
    elif reviewed_on > today:
        errors["reviewed_on"] = "The review date cannot be in the future."
    elif reviewed_on < d.start_date:
        errors["reviewed_on"] = f"The delegation started on {_d(d.start_date)}: the review cannot be before that."
    if outcome not in REVIEW_OUTCOMES:
        errors["outcome"] = "Choose the outcome of the review."
    if outcome in ("continue", "change"):
        until = d.competency.valid_until
        if not isinstance(next_review_date, date):
            errors["next_review_date"] = "Enter the next review date."
        elif next_review_date <= today or (isinstance(reviewed_on, date) and next_review_date <= reviewed_on):
            errors["next_review_date"] = "The next review date must be after today."
        elif next_review_date > until:
            errors["next_review_date"] = (f"The competence behind this delegation runs out on {_d(until)}: review "
                                          "by then, or reassess the worker first.")
    else:
        next_review_date = None
    if outcome == "change":
        if not instructions:
            errors["instructions_ref"] = "Enter the reference of the changed written instructions."
        elif len(instructions) > 200:
            errors["instructions_ref"] = "The instructions reference must be 200 characters or fewer."
        if not notes:
            errors["notes"] = "Say what changed."
    if outcome == "withdraw" and not notes:
        errors["notes"] = "Say why the delegation is withdrawn."
    if errors:
        raise ValidationError("The review was not saved: " + "; ".join(errors.values()), errors)
    review = Review(delegation_id=d.id, reviewed_on=reviewed_on, outcome=outcome, next_review_date=next_review_date,
                    notes=notes, instructions_ref=instructions if outcome == "change" else None,
                    reviewed_by_id=principal.person_id, reviewer_org_id=authority.org_id,
                    registration_confirmation_id=authority.confirmation_id)
    db.add(review)
    if outcome in ("continue", "change"):
        d.review_date = next_review_date
    if outcome == "change":
        d.instructions_ref = instructions
    db.flush()
    audit.record(db, principal.actor, "delegation.delegation.review", "delegation", d.id, org_id=d.org_id,
                 review_id=review.id, outcome=outcome, next_review_date=next_review_date,
                 registration_confirmation_id=authority.confirmation_id)
    if outcome == "withdraw":
        end_delegations(db, principal.actor, Delegation.id == d.id, "withdrawn", "Review: " + notes)
    return review
