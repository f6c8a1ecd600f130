"""The home's register of residents: pseudonymous references that delegations, who-can-do-it and the
registers pick from, so a resident is never typed twice in two ways.

A resident is a local id chosen by the home (unique in the home, matched exactly) and a short label such
as a room and initials (searched tolerantly: case, spaces and every Unicode dash do not matter). Never a
name, NHS number, date of birth or health details. The home's registered manager and training lead, and
a registered professional who may act for the home, keep the register: add, rename, archive, import.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport import audit
from passport.core.access import Principal, has_role
from passport.db import utcnow
from passport.delegation.models import Resident
from passport.delegation.rules import clean_resident_ref, professional_authority
from passport.errors import NotFound, PermissionDenied, ValidationError

#: home roles that keep the register (a registered professional for the home may too)
REGISTER_ROLES = ("registered_manager", "training_lead")
LOCAL_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./#-]{0,19}$")
_DASHES = re.compile(r"[\u002D\u058A\u05BE\u1400\u1806\u2010-\u2015\u2212\u2E17\u2E1A\u2E3A\u2E3B\u2E40"
                     r"\u301C\u3030\u30A0\uFE31\uFE32\uFE58\uFE63\uFF0D]")
IMPORT_MAX_ROWS = 1000


def normalise(text: str | None) -> str:
    """The search form of a label: Unicode-normalised, case-folded, every dash a hyphen, whitespace
    collapsed and none around a hyphen. "Room 3 – R-0103", "room 3 - r-0103" and "ROOM 3-R-0103" agree."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    text = "".join("-" if unicodedata.category(ch) == "Pd" else ch for ch in text)
    text = _DASHES.sub("-", text)
    text = " ".join(text.split())
    return re.sub(r" ?- ?", "-", text)


def clean_local_id(value: str | None) -> str:
    value = (value or "").strip()
    if not value:
        raise ValueError("Enter the home's local id for the resident, like R-0412.")
    if len(value) > 20:
        raise ValueError("The local id must be 20 characters or fewer.")
    if not LOCAL_ID_RE.match(value) or re.fullmatch(r"\d{10}", value.replace("-", "")):
        raise ValueError("Use letters, numbers and - / . # only (no spaces), like R-0412. Never an NHS number.")
    return value


def clean_label(value: str | None) -> str:
    try:
        return clean_resident_ref(value, required=True)
    except ValueError as exc:
        raise ValueError(str(exc).replace("resident's local reference", "resident's label")) from None


# --- who may keep the register ---------------------------------------------------------------------


def can_manage(db: Session, principal: Principal | None, home_id: int) -> bool:
    """The home's registered manager or training lead, or a registered professional who may act for it."""
    if principal is None:
        return False
    return (has_role(db, principal, REGISTER_ROLES, home_id)
            or professional_authority(db, principal, home_id) is not None)


def _require_manage(db: Session, principal: Principal, home_id: int) -> None:
    if not can_manage(db, principal, home_id):
        raise PermissionDenied("Only the home's registered manager or training lead, or a registered professional "
                               "for the home, can change its register of residents.")


# --- reading ---------------------------------------------------------------------------------------


def natural_key(resident: Resident) -> tuple:
    """Order residents as people read rooms: "Room 3" before "Room 12"; active ones first."""
    parts = re.split(r"(\d+)", resident.search_key)
    return (not resident.active, [int(p) if p.isdigit() else p for p in parts], resident.local_id)


def register(db: Session, home_id: int, include_archived: bool = False) -> list[Resident]:
    q = sa.select(Resident).where(Resident.org_id == home_id)
    if not include_archived:
        q = q.where(Resident.active.is_(True))
    return sorted(db.scalars(q), key=natural_key)


def choices(db: Session, home_id: int, prompt: str | None = "Choose a resident…") -> list[tuple[str, str]]:
    """(id, display) pairs for a select: the home's active residents, by label."""
    head = [("", prompt)] if prompt is not None else []
    return head + [(str(r.id), r.display) for r in register(db, home_id)]


def get(db: Session, home_id: int, resident_id) -> Resident:
    """The register entry with this id at this home (ids are matched exactly), or a field error."""
    try:
        rid = int(resident_id)
    except (TypeError, ValueError):
        rid = None
    r = db.get(Resident, rid) if rid is not None else None
    if r is None or r.org_id != home_id:
        raise ValidationError("Choose a resident from the home's register.",
                              {"resident": "Choose a resident from the home's register."})
    return r


def search(db: Session, home_id: int, query: str | None, include_archived: bool = False,
           partial: bool = True) -> list[Resident]:
    """Residents of the home matching ``query``: an exact local id, or a label search tolerant of case,
    spaces and dashes. An exact label or local id wins over partial matches (``partial=False``: only
    those)."""
    key = normalise(query)
    if not key:
        return []
    rows = register(db, home_id, include_archived)
    exact = [r for r in rows if r.local_id == (query or "").strip() or normalise(r.local_id) == key
             or r.search_key == key]
    if exact or not partial:
        return exact
    return [r for r in rows if key in r.search_key]


def resolve(db: Session, home_id: int, *, resident_id=None, search_text: str | None = None,
            required: bool = True, field_name: str = "resident", partial: bool = True) -> Resident | None:
    """The one resident meant by an id or a search, or a field error saying what to do."""
    if resident_id not in (None, ""):
        try:
            return get(db, home_id, resident_id)
        except ValidationError:
            raise ValidationError("Choose a resident from the home's register.",
                                  {field_name: "Choose a resident from the home's register."}) from None
    if search_text not in (None, ""):
        try:
            clean_resident_ref(search_text, required=False)
        except ValueError as exc:
            raise ValidationError(str(exc), {field_name: str(exc)}) from None
        found = search(db, home_id, search_text, partial=partial)
        if len(found) == 1:
            return found[0]
        msg = (f"No resident in the home's register matches “{search_text}”." if not found else
               f"{len(found)} residents match “{search_text}”: choose one from the register.")
        raise ValidationError(msg, {field_name: msg})
    if required:
        raise ValidationError("Choose a resident from the home's register.",
                              {field_name: "Choose a resident from the home's register."})
    return None


# --- changing --------------------------------------------------------------------------------------


def _check(db: Session, home_id: int, local_id: str | None, label: str | None, errors: dict,
           exclude_id: int | None = None) -> tuple[str | None, str | None]:
    lid = lab = None
    if local_id is not None:
        try:
            lid = clean_local_id(local_id)
        except ValueError as exc:
            errors["local_id"] = str(exc)
        else:
            clash = db.scalar(sa.select(Resident.id).where(Resident.org_id == home_id, Resident.local_id == lid))
            if clash is not None and clash != exclude_id:
                errors["local_id"] = f"{lid} is already in the register."
    if label is not None:
        try:
            lab = clean_label(label)
        except ValueError as exc:
            errors["label"] = str(exc)
    return lid, lab


def add(db: Session, principal: Principal, home_id: int, *, local_id: str, label: str) -> Resident:
    _require_manage(db, principal, home_id)
    errors: dict[str, str] = {}
    lid, lab = _check(db, home_id, local_id, label, errors)
    if errors:
        raise ValidationError("The resident was not added: " + "; ".join(errors.values()), errors)
    r = Resident(org_id=home_id, local_id=lid, label=lab, search_key=normalise(lab), active=True)
    db.add(r)
    db.flush()
    audit.record(db, principal.actor, "delegation.resident.add", "delegation_resident", r.id, org_id=home_id,
                 local_id=lid)
    return r


def update(db: Session, principal: Principal, resident_id: int, *, label: str | None = None,
           active: bool | None = None) -> Resident:
    """Rename a resident's label, or archive (``active=False``) or restore them."""
    r = db.get(Resident, resident_id)
    if r is None:
        raise NotFound("No such resident.")
    _require_manage(db, principal, r.org_id)
    errors: dict[str, str] = {}
    _lid, lab = _check(db, r.org_id, None, label, errors)
    if errors:
        raise ValidationError("The resident was not changed: " + "; ".join(errors.values()), errors)
    changes = {}
    if lab is not None and lab != r.label:
        changes["label"] = {"from": r.label, "to": lab}
        r.label, r.search_key = lab, normalise(lab)
    if active is not None and active != r.active:
        changes["active"] = active
        r.active = active
    if changes:
        r.updated_at = utcnow()
        db.flush()
        action = ("delegation.resident.archive" if changes.get("active") is False else
                  "delegation.resident.restore" if changes.get("active") is True else "delegation.resident.rename")
        audit.record(db, principal.actor, action, "delegation_resident", r.id, org_id=r.org_id, **changes)
    return r


@dataclass
class ImportResult:
    added: list[tuple[str, str]] = field(default_factory=list)
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def import_csv(db: Session, principal: Principal, home_id: int, text: str, dry_run: bool = True) -> ImportResult:
    """Add residents from a CSV with the columns ``local_id,label`` (a header line). All or nothing: any
    bad line (its number is given) stops the import. A local id already in the register is left as it is,
    so running the same file twice adds nobody twice."""
    _require_manage(db, principal, home_id)
    result = ImportResult()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows = list(reader)
    if not rows:
        result.errors.append("The file is empty.")
        return result
    header = [h.strip().lower() for h in rows[0]]
    if header[:2] != ["local_id", "label"]:
        result.errors.append("Line 1: the first line must be the header local_id,label.")
        return result
    if len(rows) - 1 > IMPORT_MAX_ROWS:
        result.errors.append(f"At most {IMPORT_MAX_ROWS} residents in one file.")
        return result
    seen: set[str] = set()
    pending: list[tuple[str, str]] = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) < 2:
            result.errors.append(f"Line {n}: give a local id and a label.")
            continue
        errors: dict[str, str] = {}
        lid, lab = _check(db, home_id, row[0], row[1], errors)
        if "local_id" in errors and errors["local_id"].endswith("already in the register."):
            result.unchanged += 1
            continue
        if errors:
            result.errors.append(f"Line {n}: " + "; ".join(errors.values()))
            continue
        if lid in seen:
            result.errors.append(f"Line {n}: {lid} appears twice in the file.")
            continue
        seen.add(lid)
        pending.append((lid, lab))
    if result.errors:
        return result
    result.added = pending
    if not dry_run:
        for lid, lab in pending:
            db.add(Resident(org_id=home_id, local_id=lid, label=lab, search_key=normalise(lab), active=True))
        db.flush()
        audit.record(db, principal.actor, "delegation.resident.import", "organisation", home_id, org_id=home_id,
                     added=len(pending), unchanged=result.unchanged)
    return result
