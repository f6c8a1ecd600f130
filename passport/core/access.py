"""The one access check used everywhere: "this person holds role R in organisation O, or is a scheme admin".

A ``Principal`` is whoever is acting: a signed-in person (all their current roles count) or an API token
(only the token's organisation and role count, and only while the membership behind it is current).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from passport.audit import Actor
from passport.errors import NotFound, PermissionDenied
from passport.core.models import Membership, Person


@dataclass(frozen=True)
class Principal:
    person: Person
    token_org_id: int | None = None
    token_role: str | None = None
    # Memberships looked up once per principal (a principal lives for one request or one command).
    _cache: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def person_id(self) -> int:
        return self.person.id

    @property
    def actor(self) -> Actor:
        return Actor.of(self.person)


def today() -> date:
    from passport.core.timeutil import uk_today

    return uk_today()


def current_memberships(db: Session, person_id: int, on: date | None = None) -> list[Membership]:
    """Anyone's memberships current on ``on`` (today), with their organisations, in one statement.
    For the acting principal's own memberships use ``memberships_of``, which asks once per request."""
    on = on or today()
    q = sa.select(Membership).options(joinedload(Membership.organisation, innerjoin=True)).where(
        Membership.person_id == person_id,
        Membership.start_date <= on,
        sa.or_(Membership.end_date.is_(None), Membership.end_date >= on),
    )
    return list(db.scalars(q))


def memberships_of(db: Session, principal: Principal, on: date | None = None) -> list[Membership]:
    """The principal's memberships current on ``on`` (today): looked up once per principal, which lives
    for one request or one command. The list is shared; do not change it."""
    on = on or today()
    key = ("memberships", on)
    if key not in principal._cache:
        principal._cache[key] = current_memberships(db, principal.person_id, on)
    return principal._cache[key]


def is_scheme_admin(db: Session, principal: Principal) -> bool:
    if principal.token_role is not None and principal.token_role != "scheme_admin":
        return False
    return any(m.role == "scheme_admin" for m in memberships_of(db, principal))


def has_role(db: Session, principal: Principal, roles: str | Iterable[str], org_id: int | None) -> bool:
    """True when ``principal`` holds one of ``roles`` in ``org_id`` today, or is a scheme admin."""
    roles = {roles} if isinstance(roles, str) else set(roles)
    if is_scheme_admin(db, principal):
        return True
    if org_id is None:
        return False
    if principal.token_org_id is not None:
        if principal.token_org_id != org_id or principal.token_role not in roles:
            return False
        roles = {principal.token_role}
    return any(m.org_id == org_id and m.role in roles for m in memberships_of(db, principal))


def require_role(db: Session, principal: Principal, roles, org_id: int | None) -> None:
    """Raise PermissionDenied unless ``has_role``."""
    if not has_role(db, principal, roles, org_id):
        raise PermissionDenied("You do not have permission to do that for this organisation.")


def orgs_with_role(db: Session, principal: Principal, roles) -> list[int]:
    """Organisation ids where the principal holds one of ``roles`` today (token scope respected)."""
    roles = {roles} if isinstance(roles, str) else set(roles)
    ids = {m.org_id for m in memberships_of(db, principal) if m.role in roles}
    if principal.token_org_id is not None:
        ids = {i for i in ids if i == principal.token_org_id and principal.token_role in roles}
    return sorted(ids)


# Plugins add further reasons an organisation may see a person (an accepted passport, a delegation).
VisibilityRule = Callable[[Session, int, int], bool]
_visibility_rules: list[VisibilityRule] = []


def add_visibility_rule(rule: VisibilityRule) -> None:
    """Register ``rule(db, org_id, person_id) -> bool``; any rule returning True grants visibility."""
    if rule not in _visibility_rules:
        _visibility_rules.append(rule)


def org_can_see_person(db: Session, org_id: int, person_id: int) -> bool:
    """A person's data is visible to an organisation only while there is a reason (membership first)."""
    if any(m.org_id == org_id for m in current_memberships(db, person_id)):
        return True
    return any(rule(db, org_id, person_id) for rule in _visibility_rules)


def can_view_person(db: Session, principal: Principal, person_id: int,
                    roles=("training_lead", "registered_manager", "org_admin", "assessor",
                           "registered_professional")) -> bool:
    """The person themself, a scheme admin, or a staff role in an organisation that can see them."""
    if principal.person_id == person_id and principal.token_org_id is None:
        return True
    if is_scheme_admin(db, principal):
        return True
    return any(org_can_see_person(db, org_id, person_id) for org_id in orgs_with_role(db, principal, roles))


STAFF_VIEW_ROLES = ("training_lead", "registered_manager", "org_admin", "assessor", "registered_professional")
PERSON_NOT_FOUND = "No such person, or you cannot see them."


def visible_memberships(db: Session, principal: Principal, person: Person) -> list[Membership]:
    """The memberships of ``person`` that ``principal`` may see, newest first: all of them for the person
    themself and a scheme admin; for anyone else only those at organisations where they hold a staff role.
    A home that can see someone sees its own history with them, never where else they work or worked
    (their training travels in their records and passport, not their employment history)."""
    rows = sorted(person.memberships, key=lambda m: m.start_date, reverse=True)
    if (principal.person_id == person.id and principal.token_org_id is None) or is_scheme_admin(db, principal):
        return rows
    orgs = set(orgs_with_role(db, principal, STAFF_VIEW_ROLES))
    return [m for m in rows if m.org_id in orgs]


def require_person_visible(db: Session, principal: Principal, person_id, roles=STAFF_VIEW_ROLES) -> Person:
    """The person, when ``principal`` may see them today (``can_view_person``: themself, a scheme admin, or
    staff of an organisation with a current reason). Otherwise NotFound with one message, whether the id
    is unknown, malformed, out of range or belongs to someone the caller has no reason to see, so an id
    never reveals that a person exists."""
    person = db.get(Person, person_id) if isinstance(person_id, int) and 0 < person_id < 2**63 else None
    if person is None or not can_view_person(db, principal, person.id, roles):
        raise NotFound(PERSON_NOT_FOUND)
    return person
