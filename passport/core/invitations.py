"""Invitations: how an organisation gains someone who may already have a passport elsewhere.

An org admin or training lead invites an email address to some roles. Whoever controls that mailbox
gets a single-use link (a random 256-bit token, stored only as its SHA-256 hash), valid for
``INVITATION_DAYS`` (default 7). They accept it signed in (the account's email must be the invited
address), or by setting a password for a new account. Only then does the organisation gain the person,
through ``services.create_membership(..., via="invitation")``.

Inviting never reveals whether the address belongs to anyone: the answer is the same either way.
Services flush and audit; callers commit and then send the email (``send_invitation_email``).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport import audit
from passport.core import services, validation as v
from passport.core.access import Principal, has_role, is_scheme_admin, require_role
from passport.core.models import ROLE_LABELS, ROLES, Invitation, Organisation, Person, User
from passport.db import utcnow
from passport.errors import Conflict, NotFound, PermissionDenied, ValidationError

INVITING_ROLES = ("org_admin", "training_lead")
# A training lead may invite staff to these roles; an org admin to any role but scheme admin.
TRAINING_LEAD_MAY_INVITE = ("worker", "assessor")
DEFAULT_DAYS = 7
NOT_VALID = "This invitation link is not valid. It may have expired, been used or been withdrawn."


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _days(days: int | None) -> int:
    try:
        return max(1, int(days if days is not None else DEFAULT_DAYS))
    except (TypeError, ValueError):
        return DEFAULT_DAYS


def _new_token(inv: Invitation, days: int | None) -> str:
    token = secrets.token_urlsafe(32)  # 256 bits
    inv.token_hash = token_hash(token)
    inv.expires_at = utcnow() + timedelta(days=_days(days))
    inv.sent_at = utcnow()
    inv.send_count = (inv.send_count or 0) + 1
    return token


def _roles(db: Session, principal: Principal | None, org_id: int, roles) -> list[str]:
    if isinstance(roles, str):
        roles = [roles]
    if not isinstance(roles, (list, tuple)) or not roles or any(r not in ROLES for r in roles):
        raise ValidationError("Choose the roles to invite them to.", {"roles": "Choose one or more roles from the list."})
    roles = sorted(set(roles), key=ROLES.index)
    if principal is None or is_scheme_admin(db, principal):
        return roles
    if "scheme_admin" in roles:
        raise PermissionDenied("Only a scheme admin can make someone a scheme admin.")
    if not has_role(db, principal, "org_admin", org_id) and set(roles) - set(TRAINING_LEAD_MAY_INVITE):
        raise PermissionDenied("A training lead can invite people as workers or assessors only.")
    return roles


def create_invitation(db: Session, principal: Principal | None, org_id: int, data: dict,
                      days: int | None = None) -> tuple[Invitation, str]:
    """Invite ``data["email"]`` to ``data["roles"]`` (with an optional job role and name). Returns the
    invitation and the link's token (to email, never to show the inviter). A pending invitation from this
    organisation to the same address is replaced (its link stops working)."""
    org = services.get_or_404(db, Organisation, org_id)
    if principal is not None:
        require_role(db, principal, INVITING_ROLES, org.id)

    def email():
        value = v.clean_email(data.get("email"))
        if value is None:
            raise ValueError("Enter the email address to send the invitation to.")
        return value

    def job_role():
        value = (data.get("job_role") or "").strip() or None
        if value is not None and value not in services.JOB_ROLE_CODES:
            raise ValueError("Choose a job role from the list.")
        return value

    fields = services.collect({
        "email": email,
        "job_role": job_role,
        "given_name": lambda: v.check_text(data.get("given_name"), "a first name", 100, required=False),
        "family_name": lambda: v.check_text(data.get("family_name"), "a last name", 100, required=False),
    })
    roles = _roles(db, principal, org.id, data.get("roles") or data.get("role"))
    now = utcnow()
    for old in db.scalars(sa.select(Invitation).where(
            Invitation.org_id == org.id, sa.func.lower(Invitation.email) == fields["email"],
            Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > now)):
        old.revoked_at = now
    inv = Invitation(org_id=org.id, roles=",".join(roles), created_by_id=principal.person_id if principal else None,
                     send_count=0, **{k: (val or "") if k in ("given_name", "family_name") else val
                                      for k, val in fields.items()})
    token = _new_token(inv, days)
    db.add(inv)
    db.flush()
    audit.record(db, services._actor(principal), "invitation.create", "invitation", inv.id, org_id=org.id,
                 roles=roles, expires_at=inv.expires_at.isoformat())
    return inv, token


def _managed(db: Session, principal: Principal | None, invitation_id) -> Invitation:
    inv = db.get(Invitation, invitation_id) if isinstance(invitation_id, int) and 0 < invitation_id < 2**63 else None
    if inv is None:
        raise NotFound("No such invitation.")
    if principal is not None and not has_role(db, principal, INVITING_ROLES, inv.org_id):
        raise NotFound("No such invitation.")
    return inv


def get_invitation(db: Session, principal: Principal | None, invitation_id) -> Invitation:
    return _managed(db, principal, invitation_id)


def list_invitations(db: Session, principal: Principal | None, org_id: int, pending_only: bool = True) -> list[Invitation]:
    org = services.get_or_404(db, Organisation, org_id)
    if principal is not None:
        require_role(db, principal, INVITING_ROLES, org.id)
    q = sa.select(Invitation).where(Invitation.org_id == org.id)
    if pending_only:
        q = q.where(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > utcnow())
    return list(db.scalars(q.order_by(Invitation.created_at.desc(), Invitation.id.desc())))


def resend_invitation(db: Session, principal: Principal | None, invitation_id, days: int | None = None
                      ) -> tuple[Invitation, str]:
    """A new link with a new expiry; the old link stops working. Expired invitations can be resent."""
    inv = _managed(db, principal, invitation_id)
    if inv.accepted_at is not None or inv.revoked_at is not None:
        raise Conflict("This invitation has already been accepted or withdrawn.")
    token = _new_token(inv, days)
    db.flush()
    audit.record(db, services._actor(principal), "invitation.resend", "invitation", inv.id, org_id=inv.org_id,
                 expires_at=inv.expires_at.isoformat(), send_count=inv.send_count)
    return inv, token


def revoke_invitation(db: Session, principal: Principal | None, invitation_id) -> Invitation:
    inv = _managed(db, principal, invitation_id)
    if inv.accepted_at is not None:
        raise Conflict("This invitation has already been accepted.")
    if inv.revoked_at is None:
        inv.revoked_at = utcnow()
        db.flush()
        audit.record(db, services._actor(principal), "invitation.revoke", "invitation", inv.id, org_id=inv.org_id)
    return inv


# --- the invited person -----------------------------------------------------------------------------


def by_token(db: Session, token: str) -> Invitation:
    """The pending invitation a link's token opens, or NotFound (one message for every reason)."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise NotFound(NOT_VALID)
    inv = db.scalar(sa.select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if inv is None or inv.state(utcnow()) != "pending":
        raise NotFound(NOT_VALID)
    return inv


def addressed_to(inv: Invitation, person: Person) -> bool:
    return bool(person.email) and person.email.lower() == inv.email.lower()


def pending_for(db: Session, person: Person) -> list[Invitation]:
    """Pending invitations addressed to the person's own email address."""
    if not person.email:
        return []
    return list(db.scalars(sa.select(Invitation).where(
        sa.func.lower(Invitation.email) == person.email.lower(), Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None), Invitation.expires_at > utcnow()).order_by(Invitation.created_at)))


def accept(db: Session, person: Person, inv: Invitation, actor: audit.Actor | None = None) -> list:
    """The person joins the organisation in the invited roles (roles they already hold are skipped).
    The invitation must be pending and addressed to the person's email address."""
    if inv.state(utcnow()) != "pending":
        raise NotFound(NOT_VALID)
    if not addressed_to(inv, person):
        raise PermissionDenied("This invitation was sent to a different email address. Sign in with the account "
                               "for that address to accept it.")
    ref = f"invitation {inv.id}"
    made = []
    for role in inv.role_list:
        if role == "registered_professional" and not person.registration_pin:
            continue  # recorded later by an admin, with the registration
        try:
            made.append(services.create_membership(
                db, None, person, inv.org_id, {"role": role, "job_role": inv.job_role}, via="invitation", ref=ref))
        except Conflict:
            pass  # already holds this role here
    inv.accepted_at, inv.accepted_by_id = utcnow(), person.id
    db.flush()
    audit.record(db, actor or audit.Actor.of(person), "invitation.accept", "invitation", inv.id, org_id=inv.org_id,
                 person_id=person.id, roles=[m.role for m in made])
    return made


def accept_by_id(db: Session, person: Person, invitation_id) -> tuple[Invitation, list]:
    """A signed-in person accepts one of the invitations addressed to them (NotFound otherwise)."""
    inv = db.get(Invitation, invitation_id) if isinstance(invitation_id, int) and 0 < invitation_id < 2**63 else None
    if inv is None or not addressed_to(inv, person) or inv.state(utcnow()) != "pending":
        raise NotFound(NOT_VALID)
    return inv, accept(db, person, inv)


def account_needed(db: Session, inv: Invitation) -> str:
    """For the link's holder (who controls the mailbox): ``sign_in`` when the address has an account,
    else ``new_account``."""
    person = db.scalar(sa.select(Person).where(sa.func.lower(Person.email) == inv.email.lower()))
    if person is not None and db.scalar(sa.select(User.id).where(User.person_id == person.id)) is not None:
        return "sign_in"
    return "new_account"


def accept_with_new_account(db: Session, token: str, data: dict) -> tuple[Invitation, Person, User]:
    """Accept through the emailed link, choosing a password for a new account. The person record with the
    invited address is used if there is one without an account; otherwise a new record is made."""
    from passport.core import accounts

    inv = by_token(db, token)
    if account_needed(db, inv) != "new_account":
        raise Conflict("There is already an account for this email address. Sign in to accept the invitation.")
    person = db.scalar(sa.select(Person).where(sa.func.lower(Person.email) == inv.email.lower()))
    if person is None:
        fields = services.collect({
            "given_name": lambda: v.check_text(data.get("given_name"), "your first name", 100),
            "family_name": lambda: v.check_text(data.get("family_name"), "your last name", 100),
        })
        person = Person(email=inv.email, **fields)
        db.add(person)
        db.flush()
        audit.record(db, audit.Actor.system("invitation link"), "person.create", "person", person.id,
                     org_id=inv.org_id, via="invitation")
    user = accounts.create_user(db, person, data.get("password") or "", audit.Actor.of(person))
    accept(db, person, inv)
    return inv, person, user


# --- the email ----------------------------------------------------------------------------------------


def send_invitation_email(app, inv: Invitation, token: str) -> None:
    """Send the link (after the commit). User text is plain text in a text/plain message."""
    from flask import url_for

    from passport.mail import get_mailer

    link = app.config["PUBLIC_URL"] + url_for("invitations.open_link", token=token)
    roles = ", ".join(ROLE_LABELS[r].lower() for r in inv.role_list)
    from passport.core.timeutil import format_uk

    expires = format_uk(inv.expires_at)
    hello = f"Hello {inv.given_name}," if inv.given_name else "Hello,"
    get_mailer(app).send(
        inv.email, f"Invitation to join {inv.organisation.name} on the care training passport",
        f"{hello}\n\n{inv.organisation.name} has invited you to join it on the care training passport "
        f"as: {roles}.\n\nOpen this link to accept. It works once, until {expires}:\n\n{link}\n\n"
        f"If you already have a passport account, sign in with this email address to accept. If you do not "
        f"know {inv.organisation.name}, you can ignore this email: nothing happens unless you accept.\n")
