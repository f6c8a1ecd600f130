"""Induction packs, checklists and agency links. Callable without a request; views stay thin.

Who may do what:

- the scheme's template pack: only a scheme admin edits and publishes it;
- a home's pack: only that home's registered manager or training lead edits it (a scheme admin may read it
  but not change it: the pack is the home's own);
- starting an induction, issuing or revoking an agency link: the home's registered manager, training lead
  or organisation admin;
- confirming a shown-in-person item: a named senior of the home (``SENIOR_ROLES``), never the worker;
- ticking a read item: the worker themself (signed in, or through their agency link), or a senior.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from passport import audit
from passport.core import validation as v
from passport.core.access import Principal, has_role, is_scheme_admin, orgs_with_role, today
from passport.core.models import Membership, Organisation, Person
from passport.core.timeutil import UK
from passport.db import utcnow
from passport.errors import NotFound, PermissionDenied, ValidationError
from passport.companion.models import DUE, ITEM_KINDS, AgencyLink, Induction, Item, Pack, Section, Step

PACK_EDIT_ROLES = ("registered_manager", "training_lead")
MANAGE_ROLES = ("registered_manager", "training_lead", "org_admin")
SENIOR_ROLES = ("registered_manager", "training_lead", "assessor", "org_admin")
CARE_KINDS = ("care_home", "care_home_nursing", "home_care")
TOKEN_BYTES = 32  # 256 bits
PACK_NOT_FOUND = "No such induction pack, or you cannot see it."
INDUCTION_NOT_FOUND = "No such induction, or you cannot see it."


def _valid_id(value) -> bool:
    return isinstance(value, int) and 0 < value < 2**63


def _actor(principal: Principal | None) -> audit.Actor:
    return principal.actor if principal is not None else audit.Actor.system("command line")


def _clean(data: dict, name: str, label: str, max_len: int, errors: dict, required: bool = True) -> str:
    value = data.get(name)
    value = value.strip() if isinstance(value, str) else ""
    if required and not value:
        errors[name] = f"Enter {label}."
    elif len(value) > max_len:
        errors[name] = f"{label[0].upper() + label[1:]} must be {max_len} characters or fewer."
    return value


# --- permissions -----------------------------------------------------------------------------------------


def can_edit_pack(db: Session, principal: Principal, pack: Pack) -> bool:
    if pack.org_id is None:
        return is_scheme_admin(db, principal)
    # The home's own registered manager or training lead; deliberately not a scheme admin.
    return pack.org_id in orgs_with_role(db, principal, PACK_EDIT_ROLES)


def require_pack_editor(db: Session, principal: Principal, pack: Pack) -> None:
    if not can_edit_pack(db, principal, pack):
        raise PermissionDenied("Only the home's registered manager or training lead can change its induction pack"
                               if pack.org_id else "Only a scheme admin can change the scheme's template pack.")


def can_manage(db: Session, principal: Principal, org_id: int) -> bool:
    return has_role(db, principal, MANAGE_ROLES, org_id)


def require_manage(db: Session, principal: Principal, org_id: int) -> None:
    if not can_manage(db, principal, org_id):
        raise PermissionDenied("Only the home's registered manager, training lead or admin can do that.")


def is_senior(db: Session, principal: Principal, org_id: int) -> bool:
    return org_id in orgs_with_role(db, principal, SENIOR_ROLES)


def managed_orgs(db: Session, principal: Principal) -> list[Organisation]:
    ids = orgs_with_role(db, principal, SENIOR_ROLES + ("org_admin",))
    if not ids:
        return []
    return list(db.scalars(sa.select(Organisation).where(Organisation.id.in_(ids), Organisation.kind.in_(CARE_KINDS))
                           .order_by(Organisation.name)))


# --- packs --------------------------------------------------------------------------------------------


def _load_pack(db: Session, pack_id) -> Pack:
    pack = db.get(Pack, pack_id) if _valid_id(pack_id) else None
    if pack is None:
        raise NotFound(PACK_NOT_FOUND)
    return pack


def template(db: Session) -> Pack | None:
    return db.scalar(sa.select(Pack).where(Pack.org_id.is_(None)).order_by(Pack.id).limit(1))


def pack_for_org(db: Session, org_id: int) -> Pack | None:
    return db.scalar(sa.select(Pack).where(Pack.org_id == org_id).options(
        selectinload(Pack.sections).selectinload(Section.items)))


def get_pack(db: Session, principal: Principal, pack_id) -> Pack:
    """A pack the principal may see: the template (anyone signed in), or a home's pack (its staff, a scheme
    admin)."""
    pack = _load_pack(db, pack_id)
    if pack.org_id is not None and not (has_role(db, principal, SENIOR_ROLES + ("org_admin",), pack.org_id)):
        raise NotFound(PACK_NOT_FOUND)
    return pack


def create_template(db: Session, principal: Principal | None, title: str = "Care home companion") -> Pack:
    if principal is not None and not is_scheme_admin(db, principal):
        raise PermissionDenied("Only a scheme admin can create the scheme's template pack.")
    existing = template(db)
    if existing is not None:
        return existing
    pack = Pack(org_id=None, title=title)
    db.add(pack)
    db.flush()
    audit.record(db, _actor(principal), "companion.template.create", "companion_pack", pack.id)
    return pack


def publish_template(db: Session, principal: Principal | None, pack_id) -> Pack:
    pack = _load_pack(db, pack_id)
    if pack.org_id is not None:
        raise NotFound(PACK_NOT_FOUND)
    if principal is not None:
        require_pack_editor(db, principal, pack)
    if not any(s.items for s in pack.sections):
        raise ValidationError("Add at least one item before publishing the template.")
    pack.published_at = utcnow()
    db.flush()
    audit.record(db, _actor(principal), "companion.template.publish", "companion_pack", pack.id)
    return pack


def adopt_template(db: Session, principal: Principal | None, org_id: int) -> Pack:
    """Give a home its own pack: a copy of the published template that it then adapts."""
    org = db.get(Organisation, org_id) if _valid_id(org_id) else None
    if org is None:
        raise NotFound("No such home.")
    if principal is not None and org.id not in orgs_with_role(db, principal, PACK_EDIT_ROLES):
        raise PermissionDenied("Only the home's registered manager or training lead can set up its induction pack.")
    if pack_for_org(db, org.id) is not None:
        raise ValidationError("This home already has an induction pack.")
    tpl = template(db)
    if tpl is None or tpl.published_at is None:
        raise ValidationError("The scheme has not published a template pack yet.")
    pack = Pack(org_id=org.id, title=f"{org.name} induction", due_days=tpl.due_days, template_id=tpl.id)
    db.add(pack)
    for s in tpl.sections:
        ns = Section(title=s.title, position=s.position)
        pack.sections.append(ns)
        for it in s.items:
            ns.items.append(Item(kind=it.kind, title=it.title, body=it.body, url=it.url, phone=it.phone, due=it.due,
                                 position=it.position, template_item_id=it.id))
    db.flush()
    audit.record(db, _actor(principal), "companion.pack.adopt", "companion_pack", pack.id, org_id=org.id)
    return pack


def save_pack_settings(db: Session, principal: Principal, pack_id, data: dict) -> Pack:
    pack = _load_pack(db, pack_id)
    require_pack_editor(db, principal, pack)
    errors: dict = {}
    title = _clean(data, "title", "a title", 200, errors)
    try:
        due_days = int(str(data.get("due_days", "")).strip())
        if not 1 <= due_days <= 90:
            raise ValueError
    except ValueError:
        errors["due_days"] = "Enter a number of days from 1 to 90."
        due_days = 0
    if errors:
        raise ValidationError("Check the pack settings.", errors)
    pack.title, pack.due_days, pack.updated_at = title, due_days, utcnow()
    db.flush()
    return pack


def add_section(db: Session, principal: Principal, pack_id, data: dict) -> Section:
    pack = _load_pack(db, pack_id)
    require_pack_editor(db, principal, pack)
    errors: dict = {}
    title = _clean(data, "title", "a section title", 200, errors)
    if errors:
        raise ValidationError("Check the section.", errors)
    section = Section(title=title, position=max([s.position for s in pack.sections] or [0]) + 1)
    pack.sections.append(section)
    pack.updated_at = utcnow()
    db.flush()
    audit.record(db, principal.actor, "companion.section.add", "companion_section", section.id, org_id=pack.org_id)
    return section


def _item_fields(data: dict) -> dict:
    errors: dict = {}
    kind = data.get("kind")
    if kind not in ITEM_KINDS:
        errors["kind"] = "Choose what kind of item this is."
    due = data.get("due") or "within_days"
    if due not in DUE:
        errors["due"] = "Choose when it is due."
    title = _clean(data, "title", "a title", 200, errors)
    body = _clean(data, "body", "the details", 5000, errors, required=kind == "read")
    url = _clean(data, "url", "a link", 500, errors, required=kind == "document")
    if url and not (url.startswith("https://") or url.startswith("http://")):
        errors["url"] = "Enter a link starting with https://"
    phone = _clean(data, "phone", "a phone number", 40, errors, required=kind == "contact")
    if phone and not all(c.isdigit() or c in " +()-" for c in phone):
        errors["phone"] = "Enter a phone number using digits, spaces and + ( ) - only."
    if errors:
        raise ValidationError("Check the item.", errors)
    return {"kind": kind, "due": due, "title": title, "body": body, "url": url, "phone": phone}


def add_item(db: Session, principal: Principal, section_id, data: dict) -> Item:
    section = db.get(Section, section_id) if _valid_id(section_id) else None
    if section is None:
        raise NotFound(PACK_NOT_FOUND)
    require_pack_editor(db, principal, section.pack)
    fields = _item_fields(data)
    item = Item(position=max([i.position for i in section.items] or [0]) + 1, **fields)
    section.items.append(item)
    section.pack.updated_at = utcnow()
    db.flush()
    audit.record(db, principal.actor, "companion.item.add", "companion_item", item.id, org_id=section.pack.org_id)
    return item


def get_item(db: Session, principal: Principal, item_id) -> Item:
    item = db.get(Item, item_id) if _valid_id(item_id) else None
    if item is None:
        raise NotFound(PACK_NOT_FOUND)
    require_pack_editor(db, principal, item.section.pack)
    return item


def update_item(db: Session, principal: Principal, item_id, data: dict) -> Item:
    item = get_item(db, principal, item_id)
    for k, v in _item_fields(data).items():
        setattr(item, k, v)
    item.section.pack.updated_at = utcnow()
    db.flush()
    audit.record(db, principal.actor, "companion.item.update", "companion_item", item.id,
                 org_id=item.section.pack.org_id)
    return item


def delete_item(db: Session, principal: Principal, item_id) -> Pack:
    item = get_item(db, principal, item_id)
    pack = item.section.pack
    item.section.items.remove(item)
    pack.updated_at = utcnow()
    db.flush()
    audit.record(db, principal.actor, "companion.item.delete", "companion_item", item_id, org_id=pack.org_id)
    return pack


@dataclass
class Change:
    kind: str  # "changed" | "added" | "removed"
    section: str
    title: str
    before: str = ""
    after: str = ""


def changes_from_template(db: Session, pack: Pack) -> list[Change]:
    """What a home changed from the template: items reworded, added, or left out."""
    tpl = db.get(Pack, pack.template_id) if pack.template_id else None
    if tpl is None:
        return []
    out: list[Change] = []
    kept: set[int] = set()
    for s in pack.sections:
        for it in s.items:
            src = db.get(Item, it.template_item_id) if it.template_item_id else None
            if src is None or src.section.pack_id != tpl.id:
                out.append(Change("added", s.title, it.title, after=_describe(it)))
                continue
            kept.add(src.id)
            if _describe(src) != _describe(it):
                out.append(Change("changed", s.title, it.title, before=_describe(src), after=_describe(it)))
    for s in tpl.sections:
        for it in s.items:
            if it.id not in kept:
                out.append(Change("removed", s.title, it.title, before=_describe(it)))
    return out


def _describe(it: Item) -> str:
    parts = [f"{ITEM_KINDS[it.kind]}: {it.title}"]
    if it.body:
        parts.append(it.body)
    if it.phone:
        parts.append(f"Phone {it.phone}")
    if it.url:
        parts.append(it.url)
    parts.append(DUE[it.due])
    return " — ".join(parts)


# --- inductions ------------------------------------------------------------------------------------------


def _parse_date(value, name: str, label: str, errors: dict) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        errors[name] = f"Enter {label} as a real date, like 2026-12-14."
        return None


def start_induction(db: Session, principal: Principal | None, org_id: int, data: dict) -> Induction:
    """Start an employee's (``person_id``) or an agency worker's (``worker_name``, ``ends_on``) checklist from
    the home's pack: before-first-shift items fall due on the first shift, the rest ``due_days`` after it."""
    org = db.get(Organisation, org_id) if _valid_id(org_id) else None
    if org is None:
        raise NotFound("No such home.")
    if principal is not None:
        require_manage(db, principal, org.id)
    pack = pack_for_org(db, org.id)
    if pack is None or not any(s.items for s in pack.sections):
        raise ValidationError("Set up the home's induction pack before starting an induction.")
    errors: dict = {}
    kind = data.get("kind")
    if kind not in ("employee", "agency"):
        errors["kind"] = "Choose an employee or an agency worker."
    first = _parse_date(data.get("first_shift_on"), "first_shift_on", "the first shift", errors)
    person = None
    ends = None
    name = agency = email = ""
    if kind == "employee":
        pid = data.get("person_id")
        try:
            pid = int(pid)
        except (TypeError, ValueError):
            pid = None
        on = first or today()
        if pid is not None and _valid_id(pid) and db.scalar(sa.select(Membership.id).where(
                Membership.person_id == pid, Membership.org_id == org.id,
                sa.or_(Membership.end_date.is_(None), Membership.end_date >= min(on, today()))).limit(1)):
            person = db.get(Person, pid)
        if person is None:
            errors["person_id"] = "Choose someone on this home's staff."
        else:
            name, email = person.full_name, person.email or ""
    elif kind == "agency":
        scanned = data.get("passport").strip() if isinstance(data.get("passport"), str) else ""
        holder = holder_from_passport(db, org.id, scanned, errors) if scanned else None
        name = holder or _clean(data, "worker_name", "the worker's name (or scan their passport)", 201, errors)
        agency = _clean(data, "agency_name", "the agency's name", 200, errors)
        email = _clean(data, "email", "an email address", 254, errors, required=False)
        if email:
            try:
                email = v.clean_email(email) or ""
            except ValueError:
                errors["email"] = "Enter an email address like name@example.com, or leave it blank."
        ends = _parse_date(data.get("ends_on"), "ends_on", "the last day of the booking", errors)
        if first and ends and ends < first:
            errors["ends_on"] = "The booking must end on or after the first shift."
        if ends and ends > today() + timedelta(days=366):
            errors["ends_on"] = "A booking can be at most a year ahead; start a new one after that."
    if errors:
        raise ValidationError("The induction was not started.", errors)
    ind = Induction(org_id=org.id, kind=kind, person_id=person.id if person else None, worker_name=name,
                    agency_name=agency, email=email, first_shift_on=first, ends_on=ends,
                    created_by_id=principal.person_id if principal else None)
    position = 0
    for s in pack.sections:
        for it in s.items:
            position += 1
            due = None if it.kind == "contact" else (
                first if it.due == "before_first_shift" else first + timedelta(days=pack.due_days))
            if ends is not None and due is not None and due > ends:
                due = ends
            ind.steps.append(Step(section_title=s.title, kind=it.kind, title=it.title, body=it.body, url=it.url,
                                  phone=it.phone, due_on=due, position=position))
    db.add(ind)
    db.flush()
    audit.record(db, _actor(principal), "companion.induction.start", "companion_induction", ind.id, org_id=org.id,
                 person_id=ind.person_id, kind=kind)
    return ind


def holder_from_passport(db: Session, org_id: int, text: str, errors: dict) -> str | None:
    """The holder's name from a scanned or pasted passport (what its QR code holds), checked by the verify
    plugin; a field error when it is not a valid passport."""
    from passport.verify import settings
    from passport.verify import services as verify_services

    if len(text) > 20000:
        errors["passport"] = "That is too long to be a passport."
        return None
    result = verify_services.check(db, settings(), text, channel="accept", org_id=org_id)
    if result.state != "valid" or not (result.passport or {}).get("holder", {}).get("name"):
        errors["passport"] = f"This passport cannot be used: {result.reason}"
        return None
    return result.passport["holder"]["name"][:201]


def _load_induction(db: Session, induction_id) -> Induction:
    ind = db.get(Induction, induction_id) if _valid_id(induction_id) else None
    if ind is None:
        raise NotFound(INDUCTION_NOT_FOUND)
    return ind


def get_induction(db: Session, principal: Principal, induction_id) -> Induction:
    """The worker themself, or the home's seniors and managers (a scheme admin too)."""
    ind = _load_induction(db, induction_id)
    if principal.person_id == ind.person_id and principal.token_org_id is None:
        return ind
    if has_role(db, principal, SENIOR_ROLES, ind.org_id):
        return ind
    raise NotFound(INDUCTION_NOT_FOUND)


def _step(ind: Induction, step_id) -> Step:
    for s in ind.steps:
        if s.id == step_id:
            return s
    raise NotFound("No such item on this checklist.")


def tick(db: Session, principal: Principal, induction_id, step_id) -> Step:
    """The worker (or a senior) marks a read or document item done. Shown-in-person items need ``confirm``."""
    ind = get_induction(db, principal, induction_id)
    step = _step(ind, step_id)
    if step.kind == "shown":
        if not is_senior(db, principal, ind.org_id):
            raise PermissionDenied("A senior member of staff confirms items shown in person.")
        return confirm(db, principal, induction_id, step_id)
    return _mark(db, step, principal.actor)


def _mark(db: Session, step: Step, actor: audit.Actor) -> Step:
    if step.kind == "contact":
        raise ValidationError("Contacts are for reference; there is nothing to tick.")
    if step.done_at is None:
        step.done_at = utcnow()
        db.flush()
        audit.record(db, actor, "companion.step.done", "companion_step", step.id, org_id=step.induction.org_id)
    return step


def confirm(db: Session, principal: Principal, induction_id, step_id) -> Step:
    """A named senior of the home confirms they showed the worker a shown-in-person item."""
    ind = _load_induction(db, induction_id)
    if not is_senior(db, principal, ind.org_id) or principal.person_id == ind.person_id:
        raise PermissionDenied("Only a senior member of staff at this home can confirm this, and not for themself.")
    step = _step(ind, step_id)
    if step.kind != "shown":
        raise ValidationError("Only items shown in person need a senior's confirmation.")
    if step.done_at is None:
        step.done_at = utcnow()
        step.confirmed_by_id = principal.person_id
        step.confirmed_by_name = principal.person.full_name
        db.flush()
        audit.record(db, principal.actor, "companion.step.confirm", "companion_step", step.id, org_id=ind.org_id)
    return step


@dataclass
class Progress:
    total: int
    done: int
    overdue: int
    before_first_shift_left: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


def progress(ind: Induction, on: date | None = None) -> Progress:
    on = on or today()
    steps = [s for s in ind.steps if s.tickable]
    return Progress(total=len(steps), done=sum(1 for s in steps if s.done_at),
                    overdue=sum(1 for s in steps if not s.done_at and s.due_on and s.due_on < on),
                    before_first_shift_left=sum(1 for s in steps if not s.done_at and s.due_on
                                                and s.due_on <= ind.first_shift_on))


def completion(db: Session, principal: Principal, org_id: int, on: date | None = None) -> dict:
    """The manager's view: current staff's inductions and agency workers booked this week (Monday to Sunday)."""
    require_manage(db, principal, org_id)
    on = on or today()
    week_start = on - timedelta(days=on.weekday())
    week_end = week_start + timedelta(days=6)
    current = sa.select(Membership.person_id).where(
        Membership.org_id == org_id, Membership.start_date <= on,
        sa.or_(Membership.end_date.is_(None), Membership.end_date >= on))
    q = sa.select(Induction).where(Induction.org_id == org_id).options(selectinload(Induction.steps))
    staff = list(db.scalars(q.where(Induction.kind == "employee", Induction.person_id.in_(current))
                            .order_by(Induction.worker_name)))
    agency = list(db.scalars(q.where(Induction.kind == "agency", Induction.first_shift_on <= week_end,
                                     Induction.ends_on >= week_start).order_by(Induction.first_shift_on)))
    rows = [(i, progress(i, on)) for i in staff + agency]
    total = sum(p.total for _, p in rows)
    done = sum(p.done for _, p in rows)
    return {"staff": [(i, progress(i, on)) for i in staff], "agency": [(i, progress(i, on)) for i in agency],
            "percent": round(100 * done / total) if total else 100,
            "overdue": sum(p.overdue for _, p in rows), "week_start": week_start, "week_end": week_end}


def my_inductions(db: Session, person_id: int) -> list[Induction]:
    return list(db.scalars(sa.select(Induction).where(Induction.person_id == person_id)
                           .options(selectinload(Induction.steps)).order_by(Induction.first_shift_on.desc())))


def overdue_steps(db: Session, on: date):
    """Undone, tickable items whose due date has passed, in inductions still running (an agency worker's
    only while the booking lasts)."""
    return db.execute(sa.select(Step, Induction).join(Induction, Step.induction_id == Induction.id).where(
        Step.done_at.is_(None), Step.kind != "contact", Step.due_on < on,
        sa.or_(Induction.ends_on.is_(None), Induction.ends_on >= on)).order_by(Induction.id, Step.position)).all()


def has_overdue(db: Session, principal: Principal, on: date | None = None) -> bool:
    """For the dashboard: the person has overdue induction items, or a home they manage does."""
    on = on or today()
    orgs = orgs_with_role(db, principal, MANAGE_ROLES)
    cond = Induction.person_id == principal.person_id
    if orgs:
        cond = sa.or_(cond, Induction.org_id.in_(orgs))
    return db.scalar(sa.select(Step.id).join(Induction, Step.induction_id == Induction.id).where(
        cond, Step.done_at.is_(None), Step.kind != "contact", Step.due_on < on,
        sa.or_(Induction.ends_on.is_(None), Induction.ends_on >= on)).limit(1)) is not None


# --- agency links ----------------------------------------------------------------------------------------


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _end_of(day: date) -> datetime:
    """The first moment after ``day`` ends in the UK, as UTC."""
    from datetime import timezone

    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UK).astimezone(timezone.utc)


def issue_link(db: Session, principal: Principal | None, induction_id) -> tuple[str, AgencyLink]:
    """A new link for an agency worker's checklist; the secret is returned once, only its hash is kept.
    It ends when the booking ends. Earlier links for the same induction stay valid until revoked."""
    ind = _load_induction(db, induction_id)
    if principal is not None and not can_manage(db, principal, ind.org_id):
        raise NotFound(INDUCTION_NOT_FOUND)
    if ind.kind != "agency":
        raise ValidationError("Employees sign in to see their induction; links are for agency workers.")
    if ind.ends_on < today():
        raise ValidationError("The booking has ended, so a link would not work.")
    secret = secrets.token_urlsafe(TOKEN_BYTES)
    link = AgencyLink(induction_id=ind.id, token_hash=_hash(secret), expires_at=_end_of(ind.ends_on),
                      created_by_id=principal.person_id if principal else None)
    db.add(link)
    db.flush()
    audit.record(db, _actor(principal), "companion.link.issue", "companion_agency_link", link.id, org_id=ind.org_id)
    return secret, link


def revoke_link(db: Session, principal: Principal, link_id) -> AgencyLink:
    link = db.get(AgencyLink, link_id) if _valid_id(link_id) else None
    if link is None or not can_manage(db, principal, link.induction.org_id):
        raise NotFound("No such link.")
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        db.flush()
        audit.record(db, principal.actor, "companion.link.revoke", "companion_agency_link", link.id,
                     org_id=link.induction.org_id)
    return link


def links_for(db: Session, induction_id: int) -> list[AgencyLink]:
    return list(db.scalars(sa.select(AgencyLink).where(AgencyLink.induction_id == induction_id)
                           .order_by(AgencyLink.created_at.desc())))


LINK_ENDED = "This link has ended or is not valid. Ask the home for a new one."


def induction_for_link(db: Session, secret: str) -> Induction:
    """The one checklist a live link opens; NotFound (one message) for unknown, revoked or expired links."""
    if not isinstance(secret, str) or not 20 <= len(secret) <= 100:
        raise NotFound(LINK_ENDED)
    link = db.scalar(sa.select(AgencyLink).where(AgencyLink.token_hash == _hash(secret)))
    if link is None or link.revoked_at is not None or link.expires_at <= utcnow():
        raise NotFound(LINK_ENDED)
    return link.induction


def tick_by_link(db: Session, secret: str, step_id) -> Step:
    ind = induction_for_link(db, secret)
    step = _step(ind, step_id)
    if step.kind == "shown":
        raise PermissionDenied("A senior member of staff at the home confirms items shown in person.")
    return _mark(db, step, audit.Actor.system(f"agency link for induction {ind.id}"))
