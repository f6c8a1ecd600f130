"""Registration confirmations: clinical authority confirmed by someone accountable outside the care home.

A registered professional may assess competence or delegate only while a current confirmation exists
(documented in docs/registration.md). ``registration_standing`` is the one check: every page, API call
and CLI command that lets a professional act asks it (the delegation plugin through
``passport.delegation.rules.professional_authority``; the courses plugin for assessor eligibility).

Who may confirm: a scheme admin, an admin of an NHS trust, community nursing team or GP practice that
belongs to a scheme, or a confirmer the scheme names (``RegistrationConfirmer``). A care home may never
confirm its own staff: nobody confirms a professional who works at a care home (or a home of the same
provider group) where the confirmer also works, and nobody confirms themself.

A confirmation is current from ``checked_on`` until the day before ``renews_on`` and lapses on the
renewal or revalidation date itself, or when withdrawn. Ending it ends the ability to act, never the
records made while it was current: plugins register a *reliance source* so a withdrawal can list the
competences and delegations to review.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport import audit
from passport.core.access import Principal, current_memberships, is_scheme_admin, orgs_with_role
from passport.core.models import (
    REGISTER_STATUSES, REGISTRATION_BODIES, Membership, Organisation, Person, RegistrationConfirmation,
    RegistrationConfirmer, SchemeMember,
)
from passport.core.records import add_months
from passport.core.timeutil import to_uk, uk_today
from passport.core.validation import check_pin
from passport.db import utcnow
from passport.errors import Conflict, NotFound, PermissionDenied, ValidationError

#: organisations whose admins may confirm registrations (when they belong to a scheme)
CONFIRMING_KINDS = ("nhs_trust", "community_nursing", "gp_practice")
#: a care home (or home care service) never confirms: it is the place the check must be independent of
HOME_KINDS = ("care_home", "care_home_nursing", "home_care")
DUE_DAYS = 30
#: a check is recorded soon after it is made
MAX_CHECK_AGE_DAYS = 30
#: the longest gap between a check and the renewal or revalidation date (GMC revalidation: 5 years)
MAX_RENEWAL_YEARS = 5
ASK = ("Ask the scheme admin, or an admin of the NHS trust, community nursing team or GP practice you work "
       "with, to check the professional register and record a confirmation.")


def _d(value: date) -> str:
    return value.strftime("%-d %B %Y")


class RegistrationRefused(PermissionDenied):
    """A refusal with a reason code the API returns (e.g. ``registration_lapsed``, ``own_staff``)."""

    def __init__(self, code: str, message: str, fields: dict | None = None):
        super().__init__(message, fields)
        self.code = code


# --- the one check ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """Whether a person may act as a registered professional on a day, and why not."""

    code: str  # "confirmed", or the reason code of the refusal
    confirmation: RegistrationConfirmation | None
    reason: str  # plain English, about the person ("" when confirmed)

    @property
    def confirmed(self) -> bool:
        return self.confirmation is not None

    def message(self, yours: bool = True) -> str:
        """The reason, addressed to the person themself (``yours``) or about them."""
        return (self.reason.replace("{whose}", "your" if yours else "their")
                .replace("{Whose}", "Your" if yours else "Their").replace("{Who}", "You" if yours else "They"))


def current_confirmation(db: Session, person: Person, on: date | None = None) -> RegistrationConfirmation | None:
    """The confirmation that lets ``person`` act as a registered professional on ``on`` (default today),
    or None. It must be for the register and PIN on their record, checked on or before ``on``, not yet
    at its renewal date, and not withdrawn."""
    on = on or uk_today()
    if person is None or not (person.registration_body and person.registration_pin):
        return None
    return db.scalar(sa.select(RegistrationConfirmation).where(
        RegistrationConfirmation.person_id == person.id,
        RegistrationConfirmation.register == person.registration_body,
        RegistrationConfirmation.pin == person.registration_pin,
        RegistrationConfirmation.withdrawn_at.is_(None),
        RegistrationConfirmation.checked_on <= on, RegistrationConfirmation.renews_on > on)
        .order_by(RegistrationConfirmation.renews_on.desc(), RegistrationConfirmation.id.desc()).limit(1))


def registration_standing(db: Session, person: Person, on: date | None = None) -> Standing:
    """``current_confirmation`` with the reason when there is none (for refusals and notices)."""
    on = on or uk_today()
    c = current_confirmation(db, person, on)
    if c is not None:
        return Standing("confirmed", c, "")
    if person is None or not (person.registration_body and person.registration_pin):
        return Standing("registration_missing", None,
                        "{Whose} record has no professional registration (an NMC, HCPC, GMC or GPhC PIN), so "
                        "{whose} clinical authority cannot be confirmed.")
    latest = db.scalar(sa.select(RegistrationConfirmation).where(
        RegistrationConfirmation.person_id == person.id, RegistrationConfirmation.checked_on <= on)
        .order_by(RegistrationConfirmation.checked_on.desc(), RegistrationConfirmation.id.desc()).limit(1))
    if latest is None:
        return Standing("registration_not_confirmed", None,
                        f"Nobody outside the care home has yet confirmed {{whose}} {person.registration_body} "
                        f"registration, so {{whose}} authority to assess or delegate has not started. {ASK}")
    if latest.withdrawn_at is not None:
        return Standing("registration_withdrawn", None,
                        f"{{Whose}} registration confirmation was withdrawn on {_d(to_uk(latest.withdrawn_at).date())}"
                        f" ({latest.withdrawal_reason}). {{Who}} cannot assess or delegate until a new one is "
                        f"recorded. {ASK}")
    if (latest.register, latest.pin) != (person.registration_body, person.registration_pin):
        return Standing("registration_changed", None,
                        f"The registration on {{whose}} record ({person.registration_body} {person.registration_pin})"
                        f" is not the one that was confirmed ({latest.register} {latest.pin}). {ASK}")
    return Standing("registration_lapsed", None,
                    f"{{Whose}} registration confirmation lapsed on {_d(latest.renews_on)}, the "
                    f"{latest.register} renewal or revalidation date. {{Who}} cannot assess or delegate until the "
                    f"register is checked again. {ASK}")


# --- who may confirm -------------------------------------------------------------------------------


def confirming_orgs(db: Session, principal: Principal | None) -> list[Organisation]:
    """Organisations the principal may confirm registrations for: where they are scheme admin, admin
    of a clinical organisation in a scheme, or a named confirmer (never a care home). An API token
    carries this only for its own organisation and role (scheme_admin or org_admin); named
    confirmers act through pages and the command line."""
    if principal is None:
        return []
    if "confirming_orgs" not in principal._cache:  # asked by the page and its navigation: once per request
        principal._cache["confirming_orgs"] = _confirming_orgs(db, principal)
    return principal._cache["confirming_orgs"]


def _confirming_orgs(db: Session, principal: Principal) -> list[Organisation]:
    admin = set(orgs_with_role(db, principal, "scheme_admin")) if is_scheme_admin(db, principal) else set()
    in_scheme = set(db.scalars(sa.select(SchemeMember.org_id)))
    clinical = {o for o in orgs_with_role(db, principal, "org_admin") if o in in_scheme}
    appointed = set()
    if principal.token_org_id is None:
        appointed = set(db.scalars(sa.select(RegistrationConfirmer.org_id).where(
            RegistrationConfirmer.person_id == principal.person_id, RegistrationConfirmer.ended_at.is_(None))))
    ids = admin | clinical | appointed
    if not ids:
        return []
    orgs = db.scalars(sa.select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name))
    return [o for o in orgs if o.kind not in HOME_KINDS
            and (o.id in admin or o.id in appointed or (o.id in clinical and o.kind in CONFIRMING_KINDS))]


def _is_appointed(db: Session, person_id: int, org_id: int) -> bool:
    return db.scalar(sa.select(RegistrationConfirmer.id).where(
        RegistrationConfirmer.person_id == person_id, RegistrationConfirmer.org_id == org_id,
        RegistrationConfirmer.ended_at.is_(None))) is not None


def may_confirm(db: Session, principal: Principal | None) -> bool:
    return bool(confirming_orgs(db, principal))


def _homes_of(db: Session, person_id: int) -> list[Organisation]:
    return [m.organisation for m in current_memberships(db, person_id) if m.organisation.kind in HOME_KINDS]


def own_staff_conflict(db: Session, confirmer_id: int, person: Person) -> str | None:
    """Why the confirmer is too close to the professional to confirm them (None = independent):
    themself, or both working at one care home, or at homes of one provider group."""
    if confirmer_id == person.id:
        return "You cannot confirm your own registration."
    theirs = _homes_of(db, person.id)
    for mine in _homes_of(db, confirmer_id):
        for home in theirs:
            if home.id == mine.id:
                return (f"A care home may not confirm its own staff: you and {person.full_name} both work at "
                        f"{home.name}. Ask the scheme admin or an NHS organisation in the scheme.")
            if home.group_id is not None and home.group_id == mine.group_id:
                return (f"A care home may not confirm its own staff: you work for the same provider group as "
                        f"{person.full_name} ({mine.name} and {home.name}). Ask the scheme admin or an NHS "
                        "organisation in the scheme.")
    return None


# --- recording, renewing and withdrawing --------------------------------------------------------------


def _date(value, field: str, label: str, errors: dict) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    errors[field] = f"Enter {label} as a date, like 2027-03-31."
    return None


def record_confirmation(db: Session, principal: Principal, *, register: str, pin: str, register_status: str,
                        checked_on, renews_on, org_id: int | None = None, notes: str = "",
                        person_id: int | None = None) -> RegistrationConfirmation:
    """Record that the principal checked the register for the professional with ``register`` and
    ``pin`` on their record (also used to renew: a renewal is a new confirmation, history kept)."""
    orgs = confirming_orgs(db, principal)
    if not orgs:
        raise RegistrationRefused(
            "not_a_confirmer", "Only a scheme admin, an admin of an NHS trust, community nursing team or GP "
            "practice in the scheme, or a confirmer the scheme names can confirm a registration.")
    errors: dict[str, str] = {}
    today = uk_today()
    if org_id in (None, "", 0) and len(orgs) == 1:
        org_id = orgs[0].id
    if org_id not in {o.id for o in orgs}:
        errors["org_id"] = "Choose the organisation you are confirming for."
    person = None
    try:
        register, pin = check_pin(register, pin)
        if register is None:
            raise ValueError("Enter the register and the PIN you checked.")
    except ValueError as exc:
        errors["pin"] = str(exc)
    else:
        if person_id is not None:
            person = db.get(Person, person_id) if isinstance(person_id, int) else None
            if person is None:
                raise NotFound("No such person.")
            if (person.registration_body, person.registration_pin) != (register, pin):
                errors["pin"] = (f"The PIN you checked must be the one on {person.full_name}'s record "
                                 f"({person.registration_body or 'none'} {person.registration_pin or ''}). If the "
                                 "record is wrong, their organisation admin corrects it first.")
                person = None
        else:
            person = db.scalar(sa.select(Person).where(Person.registration_body == register,
                                                       Person.registration_pin == pin))
            if person is None:
                errors["pin"] = ("Nobody has this registration on their record. Their organisation adds the "
                                 "PIN to their record first.")
    if register_status not in REGISTER_STATUSES:
        errors["register_status"] = ("Choose the status the register showed. Only a current registration can be "
                                     "confirmed: if the register shows them suspended, lapsed or removed, do not "
                                     "record a confirmation.")
    checked = _date(checked_on, "checked_on", "the date you checked the register", errors)
    if checked is not None:
        if checked > today:
            errors["checked_on"] = "The date you checked the register cannot be in the future."
        elif checked < today - timedelta(days=MAX_CHECK_AGE_DAYS):
            errors["checked_on"] = (f"Record a check within {MAX_CHECK_AGE_DAYS} days of making it: check the "
                                    "register again today.")
    renews = _date(renews_on, "renews_on", "the renewal or revalidation date", errors)
    if renews is not None and checked is not None and "checked_on" not in errors:
        if renews <= today:
            errors["renews_on"] = ("That renewal date has passed or is today: the register will show a later "
                                   "date if the registration was renewed.")
        elif renews > add_months(checked, 12 * MAX_RENEWAL_YEARS):
            errors["renews_on"] = (f"Enter the date shown on the register: it is never more than "
                                   f"{MAX_RENEWAL_YEARS} years after the check.")
    notes = " ".join(str(notes or "").split())
    if len(notes) > 2000:
        errors["notes"] = "Notes must be 2000 characters or fewer."
    if errors:
        raise ValidationError("The confirmation was not saved: " + " ".join(errors.values()), errors)
    conflict = own_staff_conflict(db, principal.person_id, person)
    if conflict:
        raise RegistrationRefused("own_staff", conflict)
    c = RegistrationConfirmation(person_id=person.id, register=register, pin=pin, register_status=register_status,
                                 checked_on=checked, renews_on=renews, notes=notes,
                                 confirmed_by_id=principal.person_id, org_id=org_id)
    db.add(c)
    db.flush()
    audit.record(db, principal.actor, "registration.confirm", "registration_confirmation", c.id, org_id=org_id,
                 person_id=person.id, register=register, pin=pin, register_status=register_status,
                 checked_on=checked, renews_on=renews)
    return c


def get_confirmation(db: Session, confirmation_id: int) -> RegistrationConfirmation:
    c = db.get(RegistrationConfirmation, confirmation_id) if isinstance(confirmation_id, int) else None
    if c is None:
        raise NotFound("No such registration confirmation.")
    return c


def can_manage(db: Session, principal: Principal | None, c: RegistrationConfirmation) -> bool:
    """Scheme admins, and confirmers for the organisation that recorded it, may see, renew and withdraw it."""
    if principal is None:
        return False
    return is_scheme_admin(db, principal) or c.org_id in {o.id for o in confirming_orgs(db, principal)}


def withdraw_confirmation(db: Session, principal: Principal, confirmation_id: int, reason: str
                          ) -> RegistrationConfirmation:
    """Withdraw a confirmation (e.g. the register now shows a suspension). The professional stops being
    able to act at once; what they did before stays on record, listed by ``relying_records``."""
    c = db.scalar(sa.select(RegistrationConfirmation).where(RegistrationConfirmation.id == confirmation_id)
                  .with_for_update()) if isinstance(confirmation_id, int) else None
    if c is None:
        raise NotFound("No such registration confirmation.")
    if not can_manage(db, principal, c):
        raise RegistrationRefused("not_a_confirmer", "Only a scheme admin, or a confirmer for the organisation "
                                                     "that recorded it, can withdraw this confirmation.")
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ValidationError("Say why the confirmation is withdrawn.", {"reason": "Enter the reason."})
    if len(reason) > 2000:
        raise ValidationError("The reason is too long.", {"reason": "The reason must be 2000 characters or fewer."})
    if c.withdrawn_at is not None:
        raise Conflict("This confirmation has already been withdrawn.")
    c.withdrawn_at, c.withdrawn_by_id, c.withdrawal_reason = utcnow(), principal.person_id, reason
    db.flush()
    audit.record(db, principal.actor, "registration.withdraw", "registration_confirmation", c.id, org_id=c.org_id,
                 person_id=c.person_id, reason=reason[:500], relying=len(relying_records(db, c.id)))
    return c


# --- named confirmers ------------------------------------------------------------------------------


def appoint_confirmer(db: Session, principal: Principal, *, email: str, org_id: int) -> RegistrationConfirmer:
    """A scheme admin names someone who works for a scheme organisation (not a care home) as a confirmer,
    found by their email address."""
    if not is_scheme_admin(db, principal):
        raise RegistrationRefused("not_scheme_admin", "Only a scheme admin can name registration confirmers.")
    errors = {}
    org = db.get(Organisation, org_id) if isinstance(org_id, int) else None
    email = str(email or "").strip().lower()
    person = db.scalar(sa.select(Person).where(sa.func.lower(Person.email) == email)) if email else None
    in_scheme = org is not None and db.scalar(sa.select(SchemeMember.org_id).where(SchemeMember.org_id == org.id)
                                              .limit(1)) is not None
    if org is None or not in_scheme:
        errors["org_id"] = "Choose an organisation of the scheme."
    elif org.kind in HOME_KINDS:
        errors["org_id"] = "A care home cannot confirm registrations: choose an NHS or scheme organisation."
    if person is None:
        errors["email"] = "Nobody has this email address on their record."
    elif org is not None and not any(m.org_id == org.id for m in current_memberships(db, person.id)):
        errors["email"] = f"{person.full_name} does not work for {org.name}."
    if errors:
        raise ValidationError("The confirmer was not named: " + " ".join(errors.values()), errors)
    if _is_appointed(db, person.id, org.id):
        raise Conflict(f"{person.full_name} is already a confirmer for {org.name}.")
    row = RegistrationConfirmer(person_id=person.id, org_id=org.id, appointed_by_id=principal.person_id)
    db.add(row)
    db.flush()
    audit.record(db, principal.actor, "registration.confirmer.appoint", "registration_confirmer", row.id,
                 org_id=org.id, person_id=person.id)
    return row


def end_confirmer(db: Session, principal: Principal, appointment_id: int) -> RegistrationConfirmer:
    """A scheme admin ends a confirmer's appointment (their past confirmations stand)."""
    if not is_scheme_admin(db, principal):
        raise RegistrationRefused("not_scheme_admin", "Only a scheme admin can end a confirmer's appointment.")
    row = db.get(RegistrationConfirmer, appointment_id) if isinstance(appointment_id, int) else None
    if row is None:
        raise NotFound("No such confirmer.")
    if row.ended_at is not None:
        raise Conflict("This appointment has already ended.")
    row.ended_at, row.ended_by_id = utcnow(), principal.person_id
    db.flush()
    audit.record(db, principal.actor, "registration.confirmer.end", "registration_confirmer", row.id,
                 org_id=row.org_id, person_id=row.person_id)
    return row


def confirmers(db: Session) -> list[RegistrationConfirmer]:
    return list(db.scalars(sa.select(RegistrationConfirmer).order_by(RegistrationConfirmer.ended_at.is_not(None),
                                                                     RegistrationConfirmer.appointed_at.desc())))


# --- lists for the scheme admin ---------------------------------------------------------------------

STATES = ("current", "due", "lapsed", "withdrawn", "unconfirmed")


def confirmation_state(c: RegistrationConfirmation, on: date) -> str:
    if c.withdrawn_at is not None:
        return "withdrawn"
    if c.renews_on <= on:
        return "lapsed"
    if c.checked_on > on:
        return "not_started"
    return "due" if c.renews_on <= on + timedelta(days=DUE_DAYS) else "current"


def overview(db: Session, on: date | None = None, org_ids: set[int] | None = None) -> dict[str, list]:
    """Each professional's latest confirmation, grouped: ``current``, ``due`` (renewal within 30 days),
    ``lapsed``, ``withdrawn``; and ``unconfirmed``: people holding the registered professional role
    with no confirmation at all. ``org_ids`` limits it to confirmations recorded for those organisations."""
    on = on or uk_today()
    q = sa.select(RegistrationConfirmation).order_by(RegistrationConfirmation.person_id,
                                                     RegistrationConfirmation.checked_on.desc(),
                                                     RegistrationConfirmation.id.desc())
    if org_ids is not None:
        q = q.where(RegistrationConfirmation.org_id.in_(org_ids or [-1]))
    latest: dict[int, RegistrationConfirmation] = {}
    rows = list(db.scalars(q))
    people = {p.id: p for p in db.scalars(sa.select(Person).where(Person.id.in_({c.person_id for c in rows})))}
    for c in rows:
        if c.checked_on > on:
            continue
        p = people[c.person_id]
        if current_is(c, p, on) and (c.person_id not in latest or not current_is(latest[c.person_id], p, on)):
            latest[c.person_id] = c  # a current one wins over a newer withdrawn one
        latest.setdefault(c.person_id, c)
    out: dict[str, list] = {s: [] for s in STATES}
    for c in latest.values():
        state = confirmation_state(c, on)
        if state in out:
            out[state].append(c)
    for key in ("current", "due"):
        out[key].sort(key=lambda c: c.renews_on)
    out["lapsed"].sort(key=lambda c: c.renews_on, reverse=True)
    out["withdrawn"].sort(key=lambda c: c.withdrawn_at, reverse=True)
    if org_ids is None:
        confirmed = set(latest)
        m = Membership
        out["unconfirmed"] = [p for p in db.scalars(sa.select(Person).join(m, m.person_id == Person.id).where(
            m.role == "registered_professional", m.start_date <= on, sa.or_(m.end_date.is_(None), m.end_date >= on))
            .distinct().order_by(Person.family_name, Person.given_name)) if p.id not in confirmed]
    return out


def current_is(c: RegistrationConfirmation, person: Person, on: date) -> bool:
    return (c.withdrawn_at is None and c.checked_on <= on < c.renews_on
            and (c.register, c.pin) == (person.registration_body, person.registration_pin))


def history(db: Session, person_id: int) -> list[RegistrationConfirmation]:
    return list(db.scalars(sa.select(RegistrationConfirmation).where(RegistrationConfirmation.person_id == person_id)
                           .order_by(RegistrationConfirmation.checked_on.desc(), RegistrationConfirmation.id.desc())))


# --- what relied on a confirmation (plugins register where their records are) ------------------------

#: ``source(db, confirmation_id) -> list[dict]``; each dict: kind ("competence" / "delegation"), id,
#: title, worker, home, since (date), open (bool), status (plain English), endpoint, args (for url_for)
RelianceSource = Callable[[Session, int], list]
_reliance_sources: list[RelianceSource] = []


def add_reliance_source(source: RelianceSource) -> None:
    """Register a function listing the records that relied on a confirmation (review after withdrawal)."""
    if source not in _reliance_sources:
        _reliance_sources.append(source)


def relying_records(db: Session, confirmation_id: int) -> list[dict]:
    """Every record made on the strength of the confirmation, open ones first."""
    rows = [r for source in _reliance_sources for r in source(db, confirmation_id)]
    return sorted(rows, key=lambda r: (not r["open"], r["kind"], r["since"]), reverse=False)


__all__ = ["REGISTRATION_BODIES", "REGISTER_STATUSES", "RegistrationRefused", "Standing", "current_confirmation",
           "registration_standing", "confirming_orgs", "record_confirmation", "withdraw_confirmation",
           "appoint_confirmer", "end_confirmer", "overview", "relying_records", "add_reliance_source"]
