"""Core services: organisations, the scheme, people and memberships.

Every function takes the session and the acting principal explicitly, checks access, validates input
(raising ValidationError with every problem at once), records an audit entry and flushes. Callers commit.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport import audit, signals
from passport.core import validation as v
from passport.core.access import Principal, has_role, is_scheme_admin, require_role, today
from passport.core.catalogue_data import JOB_ROLES, ORGANISATION_KINDS
from passport.core.models import (
    MEMBERSHIP_REASONS, ROLES, Membership, Organisation, OrgGroup, Person, Scheme, SchemeMember, User,
)
from passport.errors import Conflict, NotFound, PermissionDenied, ValidationError

ADMIN_ROLES = ("org_admin",)
KIND_CODES = {code for code, _ in ORGANISATION_KINDS}
JOB_ROLE_CODES = {code for code, _ in JOB_ROLES}


def collect(checks: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run each check; return the cleaned values or raise one ValidationError naming every bad field."""
    cleaned, errors = {}, {}
    for name, check in checks.items():
        try:
            cleaned[name] = check()
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise ValidationError("There is a problem with " + ", ".join(errors) + ".", errors)
    return cleaned


def get_or_404(db: Session, model, ident):
    obj = db.get(model, ident)
    if obj is None:
        raise NotFound(f"No {model.__name__.lower()} with id {ident}.")
    return obj


def find_organisation(db: Session, id_or_name: str) -> Organisation:
    """Look an organisation up by id or exact name (for the CLI)."""
    org = db.get(Organisation, int(id_or_name)) if str(id_or_name).isdigit() else None
    org = org or db.scalar(sa.select(Organisation).where(Organisation.name == str(id_or_name)))
    if org is None:
        raise NotFound(f"No organisation with id or name {id_or_name!r}.")
    return org


# --- organisations -------------------------------------------------------------------------------


def _org_fields(data: dict) -> dict:
    """Validate organisation fields. ``group_name`` (optional) names the provider group it belongs to."""

    def kind():
        if data.get("kind") not in KIND_CODES:
            raise ValueError("Choose the kind of organisation.")
        return data["kind"]

    return collect({
        "name": lambda: v.check_text(data.get("name"), "the organisation's name", 200),
        "kind": kind,
        "cqc_location_id": lambda: v.check_cqc_location_id(data.get("cqc_location_id")),
        "ods_code": lambda: v.check_ods_code(data.get("ods_code")),
        "group_name": lambda: v.check_text(data.get("group_name"), "the group's name", 200, required=False),
    })


def _group_id(db: Session, principal: Principal | None, name: str) -> int | None:
    """The id of the named provider group, creating it on first use; None for no group."""
    if not name:
        return None
    existing = db.scalar(sa.select(OrgGroup).where(OrgGroup.name == name))
    if existing is not None:
        return existing.id
    group = OrgGroup(name=name)  # an organisation's admin may name the group their home belongs to
    db.add(group)
    db.flush()
    audit.record(db, _actor(principal), "group.create", "group", group.id, name=name)
    return group.id


def _check_org_unique(db: Session, fields: dict, exclude_id: int | None = None) -> None:
    errors = {}
    for col, label in (("name", "name"), ("cqc_location_id", "CQC location ID"), ("ods_code", "ODS code")):
        value = fields.get(col)
        if value is None:
            continue
        q = sa.select(Organisation.id).where(getattr(Organisation, col) == value)
        if exclude_id is not None:
            q = q.where(Organisation.id != exclude_id)
        if db.scalar(q) is not None:
            errors[col] = f"Another organisation already has this {label}."
    if errors:
        raise ValidationError("Those details are already in use.", errors)


def create_organisation(db: Session, principal: Principal | None, data: dict) -> Organisation:
    """Add an organisation (scheme admins only; ``principal=None`` is the CLI/demo)."""
    if principal is not None and not is_scheme_admin(db, principal):
        raise PermissionDenied("Only a scheme admin can add organisations.")
    fields = _org_fields(data)
    _check_org_unique(db, fields)
    group_id = _group_id(db, principal, fields.pop("group_name"))
    org = Organisation(**fields, group_id=group_id)
    db.add(org)
    db.flush()
    audit.record(db, _actor(principal), "organisation.create", "organisation", org.id, org_id=org.id, name=org.name)
    return org


def update_organisation(db: Session, principal: Principal, org_id: int, data: dict) -> Organisation:
    org = get_or_404(db, Organisation, org_id)
    require_role(db, principal, ADMIN_ROLES, org.id)
    fields = _org_fields(data)
    _check_org_unique(db, fields, exclude_id=org.id)
    fields["group_id"] = _group_id(db, principal, fields.pop("group_name"))
    changed = {k: val for k, val in fields.items() if getattr(org, k) != val}
    for k, val in changed.items():
        setattr(org, k, val)
    db.flush()
    audit.record(db, principal.actor, "organisation.update", "organisation", org.id, org_id=org.id,
                 changed=sorted(changed))
    return org


def create_group(db: Session, principal: Principal | None, name: str) -> OrgGroup:
    if principal is not None and not is_scheme_admin(db, principal):
        raise PermissionDenied("Only a scheme admin can add groups.")
    fields = collect({"name": lambda: v.check_text(name, "the group's name", 200)})
    if db.scalar(sa.select(OrgGroup.id).where(OrgGroup.name == fields["name"])):
        raise ValidationError("That group already exists.", {"name": "A group with this name already exists."})
    group = OrgGroup(name=fields["name"])
    db.add(group)
    db.flush()
    audit.record(db, _actor(principal), "group.create", "group", group.id, name=group.name)
    return group


def list_organisations(db: Session) -> list[Organisation]:
    return list(db.scalars(sa.select(Organisation).order_by(Organisation.name)))


# --- the scheme ----------------------------------------------------------------------------------


def get_scheme(db: Session) -> Scheme | None:
    """The deployment's scheme (one per deployment)."""
    return db.scalar(sa.select(Scheme).order_by(Scheme.id).limit(1))


def save_scheme(db: Session, principal: Principal | None, data: dict) -> Scheme:
    """Create or update the scheme: name, agreed Care Certificate version, quality threshold, partners."""
    if principal is not None and not is_scheme_admin(db, principal):
        raise PermissionDenied("Only a scheme admin can change the scheme.")

    def version():
        if data.get("cc_version") not in ("2015", "2025"):
            raise ValueError("Choose the Care Certificate version the scheme has agreed.")
        return data["cc_version"]

    fields = collect({
        "name": lambda: v.check_text(data.get("name"), "the scheme's name", 200),
        "cc_version": version,
        "quality_threshold": lambda: v.check_text(data.get("quality_threshold"), "the quality threshold", 5000,
                                                  required=False),
    })
    scheme = get_scheme(db) or Scheme()
    for k, val in fields.items():
        setattr(scheme, k, val)
    db.add(scheme)
    db.flush()
    members = data.get("members")
    if members is not None:
        endorsers = set(data.get("endorsers") or [])
        wanted = {int(m) for m in members}
        for org_id in wanted:
            get_or_404(db, Organisation, org_id)
        existing = {m.org_id: m for m in scheme.partners}
        for org_id, m in existing.items():
            if org_id not in wanted:
                scheme.partners.remove(m)
        for org_id in wanted:
            m = existing.get(org_id) or SchemeMember(org_id=org_id)
            m.endorses = org_id in {int(e) for e in endorsers}
            if org_id not in existing:
                scheme.partners.append(m)
        db.flush()
    audit.record(db, _actor(principal), "scheme.save", "scheme", scheme.id, name=scheme.name)
    return scheme


def endorsing_organisations(db: Session) -> list[Organisation]:
    """The partner organisations whose names go on every passport of the scheme."""
    scheme = get_scheme(db)
    if scheme is None:
        return []
    return sorted((m.organisation for m in scheme.partners if m.endorses), key=lambda o: o.name)


# --- people and memberships ------------------------------------------------------------------------


def _email_owner(db: Session, email: str, exclude_id: int | None = None) -> int | None:
    q = sa.select(Person.id).where(sa.func.lower(Person.email) == email.lower())
    if exclude_id is not None:
        q = q.where(Person.id != exclude_id)
    return db.scalar(q)


def _person_fields(db: Session, data: dict, exclude_id: int | None = None, email_unique: bool = True) -> dict:
    def email():
        value = v.clean_email(data.get("email"))
        if value is not None and email_unique and _email_owner(db, value, exclude_id) is not None:
            raise ValueError("This email address cannot be used for this person. If they already have a "
                             "passport account, invite them to your organisation instead.")
        return value

    fields = collect({
        "given_name": lambda: v.check_text(data.get("given_name"), "a first name", 100),
        "family_name": lambda: v.check_text(data.get("family_name"), "a last name", 100),
        "email": email,
        "registration_pin": lambda: v.check_pin(data.get("registration_body"), data.get("registration_pin")),
    })
    fields["registration_body"], fields["registration_pin"] = fields.pop("registration_pin")
    if fields["registration_pin"]:
        q = sa.select(Person.id).where(Person.registration_body == fields["registration_body"],
                                       Person.registration_pin == fields["registration_pin"])
        if exclude_id is not None:
            q = q.where(Person.id != exclude_id)
        if db.scalar(q) is not None:
            raise ValidationError("That registration is already recorded.",
                                  {"registration_pin": "Someone else is already recorded with this PIN."})
    return fields


def _membership_fields(data: dict) -> dict:
    def role():
        if data.get("role") not in ROLES:
            raise ValueError("Choose a role from the list.")
        return data["role"]

    def job_role():
        value = (data.get("job_role") or "").strip() or None
        if value is not None and value not in JOB_ROLE_CODES:
            raise ValueError("Choose a job role from the list.")
        return value

    def start():
        value = data.get("start_date") or today()
        if not isinstance(value, date):
            raise ValueError("Enter a real start date.")
        return value

    return collect({"role": role, "job_role": job_role, "start_date": start})


class EmailInUse(Exception):
    """Raised by ``create_person`` when the email address belongs to an existing person. Callers send an
    invitation to the address instead, and must answer the same way whoever owns it (never say so)."""

    def __init__(self, email: str, data: dict):
        super().__init__(email)
        self.email, self.data = email, data


def create_person(db: Session, principal: Principal | None, org_id: int, data: dict) -> Person:
    """Add a new person record to an organisation with a first role (org admins of that organisation).

    This is how an organisation gains a person it creates. An email address that already belongs to
    someone raises ``EmailInUse`` (see there): the existing person joins only by accepting an invitation.
    """
    org = get_or_404(db, Organisation, org_id)
    if principal is not None:
        require_role(db, principal, ADMIN_ROLES, org.id)
    errors: dict = {}
    person_fields = member_fields = {}
    try:
        person_fields = _person_fields(db, data, email_unique=False)
    except ValidationError as exc:
        errors.update(exc.fields)
    try:
        member_fields = _membership_fields(data)
    except ValidationError as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationError("There is a problem with " + ", ".join(errors) + ".", errors)
    if member_fields["role"] == "scheme_admin" and principal is not None and not is_scheme_admin(db, principal):
        raise PermissionDenied("Only a scheme admin can make someone a scheme admin.")
    if member_fields["role"] == "registered_professional" and not person_fields["registration_pin"]:
        raise ValidationError("A registered professional needs a registration.",
                              {"registration_pin": "Enter the professional registration PIN."})
    if person_fields["email"] and _email_owner(db, person_fields["email"]) is not None:
        raise EmailInUse(person_fields["email"], {**data, **member_fields})
    person = Person(**person_fields)
    db.add(person)
    db.flush()
    audit.record(db, _actor(principal), "person.create", "person", person.id, org_id=org.id,
                 role=member_fields["role"])
    create_membership(db, principal, person, org.id, member_fields, via="created")
    return person


def update_person(db: Session, principal: Principal, person_id: int, data: dict) -> Person:
    """Change a person's name, email or registration (an org admin of one of their organisations)."""
    person = get_or_404(db, Person, person_id)
    _require_admin_over(db, principal, person)
    fields = _person_fields(db, data, exclude_id=person.id)
    if (fields["email"] or None) != (person.email or None) and not _may_change_email(db, principal, person):
        # The email address is where password resets and invitations go: changing it for someone with an
        # account, or who also works elsewhere, would hand their account to this organisation.
        raise ValidationError("You cannot change this email address.", {
            "email": "This person has a sign-in account or works for another organisation too, so only a "
                     "scheme admin can change their email address."})
    renamed = (fields["given_name"], fields["family_name"]) != (person.given_name, person.family_name)
    changed = sorted(k for k, val in fields.items() if getattr(person, k) != val)
    for k, val in fields.items():
        setattr(person, k, val)
    db.flush()
    audit.record(db, principal.actor, "person.update", "person", person.id, changed=changed)
    if renamed:
        from passport.signals import person_renamed

        person_renamed.send(person.id, db=db, actor=principal.actor)
    return person


def is_current_member(db: Session, person_id: int, org_id: int, on: date | None = None) -> bool:
    """True while the person holds any current role in the organisation (the basis for "extending")."""
    on = on or today()
    return db.scalar(sa.select(Membership.id).where(
        Membership.person_id == person_id, Membership.org_id == org_id, Membership.start_date <= on,
        sa.or_(Membership.end_date.is_(None), Membership.end_date >= on)).limit(1)) is not None


NOT_A_MEMBER = "No such person in this organisation."


def create_membership(db: Session, principal: Principal | None, person: Person | int, org_id: int, data: dict, *,
                      via: str, ref: str = "") -> Membership:
    """The one way a membership is made. ``via`` is the organisation's reason, recorded on the row and in
    the audit trail:

    - ``created``: the organisation has just created this person record (it has no other membership);
    - ``invitation``: the person accepted the organisation's invitation (``ref`` names it);
    - ``passport``: the organisation accepted the person's passport (``ref`` names it);
    - ``extended``: another role for someone who is a current member of the organisation.

    ``created`` and ``extended`` need an org admin of the organisation (``principal=None`` is the command
    line and the demo). ``invitation`` and ``passport`` are made by the services that checked the invitation
    or the passport (``passport.core.invitations``, ``passport.verify.acceptance``). Without a reason the
    answer is NotFound, the same whether or not the person exists.
    """
    if via not in MEMBERSHIP_REASONS:
        raise ValueError(f"Unknown membership reason {via!r}.")
    org = get_or_404(db, Organisation, org_id)
    if via in ("created", "extended") and principal is not None:
        require_role(db, principal, ADMIN_ROLES, org.id)
    if not isinstance(person, Person):
        person = db.get(Person, person) if isinstance(person, int) and 0 < person < 2**63 else None
        if person is None:
            raise NotFound(NOT_A_MEMBER)
    if via == "extended" and not is_current_member(db, person.id, org.id):
        raise NotFound(NOT_A_MEMBER)
    if via == "created" and db.scalar(sa.select(Membership.id).where(Membership.person_id == person.id).limit(1)):
        raise NotFound(NOT_A_MEMBER)
    if via in ("invitation", "passport") and not ref:
        raise ValueError(f"A membership by {via} must name it.")
    fields = _membership_fields(data)
    if fields["role"] == "scheme_admin" and principal is not None and not is_scheme_admin(db, principal):
        raise PermissionDenied("Only a scheme admin can make someone a scheme admin.")
    if fields["role"] == "registered_professional" and not person.registration_pin:
        raise ValidationError("A registered professional needs a registration.",
                              {"role": "Record this person's professional registration first."})
    clash = db.scalar(sa.select(Membership.id).where(
        Membership.person_id == person.id, Membership.org_id == org.id, Membership.role == fields["role"],
        sa.or_(Membership.end_date.is_(None), Membership.end_date >= fields["start_date"])))
    if clash is not None:
        raise Conflict("This person already holds that role here.", {"role": "This person already has this role here."})
    m = Membership(person_id=person.id, org_id=org.id, via=via, via_ref=ref[:100], **fields)
    db.add(m)
    db.flush()
    audit.record(db, _actor(principal), "membership.create", "membership", m.id, org_id=org.id,
                 person_id=person.id, role=m.role, via=via, ref=ref[:100])
    return m


def add_membership(db: Session, principal: Principal | None, person_id: int, org_id: int, data: dict) -> Membership:
    """Another role for a current member of the organisation (refused, as not found, for anyone else)."""
    return create_membership(db, principal, person_id, org_id, data, via="extended")


def end_membership(db: Session, principal: Principal, membership_id: int, end: date | None = None) -> Membership:
    m = get_or_404(db, Membership, membership_id)
    require_role(db, principal, ADMIN_ROLES, m.org_id)
    end = end or today()
    if end < m.start_date:
        raise ValidationError("The end date is before the start.", {"end_date": "The end date must be on or after the start date."})
    m.end_date = end
    db.flush()
    audit.record(db, principal.actor, "membership.end", "membership", m.id, org_id=m.org_id, end=end.isoformat())
    signals.membership_ended.send(m.person_id, db=db, org_id=m.org_id, membership_id=m.id, end=end)
    return m


def people_in_org(db: Session, org_id: int, on: date | None = None, role: str | None = None) -> list[Person]:
    """People with a current membership of the organisation, by name."""
    on = on or today()
    q = (sa.select(Person).join(Membership).where(
        Membership.org_id == org_id, Membership.start_date <= on,
        sa.or_(Membership.end_date.is_(None), Membership.end_date >= on)).distinct()
        .order_by(Person.family_name, Person.given_name))
    if role is not None:
        q = q.where(Membership.role == role)
    return list(db.scalars(q))


def _require_admin_over(db: Session, principal: Principal, person: Person) -> None:
    if is_scheme_admin(db, principal):
        return
    for m in person.memberships:
        if m.is_current(today()) and has_role(db, principal, ADMIN_ROLES, m.org_id):
            return
    raise PermissionDenied("You can only change people in your own organisation.")


def _may_change_email(db: Session, principal: Principal, person: Person) -> bool:
    if is_scheme_admin(db, principal):
        return True
    if user_for(db, person) is not None:
        return False
    on = today()
    return all(has_role(db, principal, ADMIN_ROLES, m.org_id) for m in person.memberships if m.is_current(on))


def _actor(principal: Principal | None) -> audit.Actor:
    return principal.actor if principal is not None else audit.Actor.system("command line")


def person_by_email(db: Session, email: str) -> Person:
    person = db.scalar(sa.select(Person).where(sa.func.lower(Person.email) == email.strip().lower()))
    if person is None:
        raise NotFound(f"No person with email {email!r}.")
    return person


def user_for(db: Session, person: Person) -> User | None:
    return db.scalar(sa.select(User).where(User.person_id == person.id))
