"""The record ledger: training records and Care Certificate standard achievements.

Core owns the ledger because every plugin reads it: ``courses`` writes completions, ``verify`` writes
records recognised from a passport, ``delegation`` checks prerequisites against it and ``certificates``
states it. Records are never updated in place: renewals and corrections are new rows.
"""
from __future__ import annotations

import calendar
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased, joinedload

from passport import audit
from passport.core.access import Principal, org_can_see_person, require_role, today
from passport.core.models import (
    FRAMEWORKS, RECORD_SOURCES, CCStandard, Membership, Organisation, Person, RefreshOverride,
    StandardAchievement, TrainingCategory, TrainingRecord,
)
from passport.errors import NotFound, ValidationError
from passport.signals import care_certificate_changed, training_record_added

RECORDING_ROLES = ("training_lead", "registered_manager", "org_admin", "assessor")
SIGN_OFF_ROLES = ("registered_manager",)


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def job_role_of(db: Session, person_id: int, org_id: int) -> str | None:
    return db.scalar(sa.select(Membership.job_role).where(
        Membership.person_id == person_id, Membership.org_id == org_id, Membership.job_role.is_not(None))
        .order_by(Membership.start_date.desc()).limit(1))


def refresh_months_for(db: Session, org_id: int, category_code: int, job_role: str | None) -> int | None:
    """The refresh period in months: the organisation's override for the job role, then for every role,
    then the category default."""
    overrides = {o.job_role: o for o in db.scalars(sa.select(RefreshOverride).where(
        RefreshOverride.org_id == org_id, RefreshOverride.category_code == category_code))}
    for key in ((job_role or ""), ""):
        if key in overrides:
            return overrides[key].refresh_months
    category = db.get(TrainingCategory, category_code)
    return category.refresh_months if category else None


def set_refresh_override(db: Session, principal: Principal, org_id: int, category_code: int, job_role: str,
                         months: int | None) -> RefreshOverride:
    """Set an organisation's own refresh period for a category (optionally per job role)."""
    require_role(db, principal, ("training_lead", "org_admin", "registered_manager"), org_id)
    if db.get(TrainingCategory, category_code) is None:
        raise ValidationError("Unknown training category.", {"category": "Choose a category from the list."})
    if months is not None and not (1 <= months <= 120):
        raise ValidationError("Refresh period out of range.", {"refresh_months": "Enter 1 to 120 months, or leave empty for no refresh."})
    row = db.scalar(sa.select(RefreshOverride).where(RefreshOverride.org_id == org_id,
                    RefreshOverride.category_code == category_code, RefreshOverride.job_role == (job_role or "")))
    row = row or RefreshOverride(org_id=org_id, category_code=category_code, job_role=job_role or "")
    row.refresh_months = months
    db.add(row)
    db.flush()
    audit.record(db, principal.actor, "refresh_override.set", "refresh_override", row.id, org_id=org_id,
                 category=category_code, job_role=job_role or "", months=months)
    return row


def add_training_record(db: Session, principal: Principal | None, *, person_id: int, org_id: int,
                        category_code: int, completed_on: date, source: str, title: str = "",
                        expires_on: date | None = None, source_ref: str = "", accredited: bool = False,
                        provider_name: str = "", notes: str = "", actor: audit.Actor | None = None,
                        supersedes: TrainingRecord | None = None, correction_reason: str = "",
                        no_expiry: bool = False) -> TrainingRecord:
    """Add a record with provenance. Expiry defaults to completion + the refresh period
    (``no_expiry=True`` records training that does not expire, whatever the subject's period).

    ``principal=None`` is a trusted caller (CLI, import, another service that checked access itself).
    """
    if principal is not None:
        require_role(db, principal, RECORDING_ROLES, org_id)
    errors = {}
    category = db.get(TrainingCategory, category_code) if isinstance(category_code, int) else None
    if category is None:
        errors["category"] = "Choose a training category from the list."
    if source not in RECORD_SOURCES:
        errors["source"] = "Unknown record source."
    if not isinstance(completed_on, date):
        errors["completed_on"] = "Enter the date the training was completed."
    elif completed_on > today():
        errors["completed_on"] = "The completion date cannot be in the future."
    elif expires_on is not None and expires_on < completed_on:
        errors["expires_on"] = "The expiry date must be on or after the completion date."
    if len(title or "") > 200:
        errors["title"] = "The title must be 200 characters or fewer."
    if db.get(Person, person_id) is None:
        errors["person"] = "Unknown person."
    elif not org_can_see_person(db, org_id, person_id):
        errors["person"] = "This person is not a member of the organisation."
    if errors:
        raise ValidationError("The record was not saved: " + "; ".join(errors.values()), errors)
    if expires_on is None and not no_expiry:
        months = refresh_months_for(db, org_id, category_code, job_role_of(db, person_id, org_id))
        expires_on = add_months(completed_on, months) if months else None
    record = TrainingRecord(
        person_id=person_id, org_id=org_id, category_code=category_code, title=(title or category.name)[:200],
        completed_on=completed_on, expires_on=expires_on, source=source, source_ref=source_ref[:300],
        accredited=accredited, provider_name=provider_name[:200], notes=notes,
        recorded_by_id=principal.person_id if principal else (actor.person_id if actor else None),
        supersedes_id=supersedes.id if supersedes else None, correction_reason=correction_reason,
    )
    db.add(record)
    db.flush()
    who = actor or (principal.actor if principal else audit.Actor.system("command line"))
    audit.record(db, who, "training_record.correct" if supersedes else "training_record.add", "training_record",
                 record.id, org_id=org_id, person_id=person_id, category=category_code, source=source)
    training_record_added.send(record, db=db, actor=who)
    return record


def correct_training_record(db: Session, principal: Principal, record_id: int, reason: str, **changes) -> TrainingRecord:
    """Correct a record by adding a new version that supersedes it; the old one stays in history."""
    old = db.get(TrainingRecord, record_id)
    if old is None:
        raise NotFound("No such training record.")
    if not (reason or "").strip():
        raise ValidationError("Say why the record is being corrected.", {"reason": "Enter the reason for the correction."})
    if db.scalar(sa.select(TrainingRecord.id).where(TrainingRecord.supersedes_id == old.id)):
        raise ValidationError("This record has already been corrected; correct the newest version.", {})
    values = dict(category_code=old.category_code, completed_on=old.completed_on, expires_on=old.expires_on,
                  title=old.title, source_ref=old.source_ref, accredited=old.accredited,
                  provider_name=old.provider_name, notes=old.notes)
    values.update(changes)
    return add_training_record(db, principal, person_id=old.person_id, org_id=old.org_id, source=old.source,
                               supersedes=old, correction_reason=reason.strip(), **values)


def add_training_records_bulk(db: Session, principal: Principal | None, *, org_id: int, source: str,
                              rows: list[dict], actor: audit.Actor | None = None, batch_ref: str = "",
                              chunk: int = 1000, return_records: bool = True) -> list:
    """Add many records for one organisation at once (a bulk upload or a completion feed).

    Same rules as ``add_training_record``, checked set-based, and all-or-nothing: one ValidationError
    lists every bad row (``fields`` keyed by each row's ``line``, or its position). Each row is a dict with
    person_id, category_code, completed_on and optionally expires_on, no_expiry, title, source_ref,
    accredited, provider_name, notes, line. One audit entry describes the batch; every record keeps its own
    provenance, and ``training_record_added`` is sent for each record. Returns the new records, or only their
    ids with ``return_records=False`` (faster for large imports; records are still loaded to send the signal
    when anything listens to it).
    """
    if principal is not None:
        require_role(db, principal, RECORDING_ROLES, org_id)
    if source not in RECORD_SOURCES:
        raise ValidationError("Unknown record source.", {"source": "Unknown record source."})
    categories = {c.code: c for c in db.scalars(sa.select(TrainingCategory))}
    person_ids = {r.get("person_id") for r in rows}
    members = set()
    ids = [i for i in person_ids if isinstance(i, int)]
    for i in range(0, len(ids), 1000):
        members |= set(db.scalars(sa.select(Membership.person_id).where(
            Membership.org_id == org_id, Membership.person_id.in_(ids[i:i + 1000]),
            Membership.start_date <= today(),
            sa.or_(Membership.end_date.is_(None), Membership.end_date >= today()))))
    visible = {pid: (pid in members or (isinstance(pid, int) and db.get(Person, pid) is not None
                                        and org_can_see_person(db, org_id, pid))) for pid in person_ids}
    errors: dict[str, str] = {}
    now = today()
    for n, r in enumerate(rows, start=1):
        line, problems = str(r.get("line", n)), []
        if r.get("category_code") not in categories:
            problems.append("choose a training category from the list")
        completed, expires = r.get("completed_on"), r.get("expires_on")
        if not isinstance(completed, date):
            problems.append("enter the date the training was completed")
        elif completed > now:
            problems.append("the completion date cannot be in the future")
        elif expires is not None and expires < completed:
            problems.append("the expiry date must be on or after the completion date")
        if len(r.get("title") or "") > 200:
            problems.append("the title must be 200 characters or fewer")
        if not visible.get(r.get("person_id")):
            problems.append("this person is not a member of the organisation")
        if problems:
            errors[line] = "; ".join(problems)
    if errors:
        raise ValidationError(f"No records were saved: {len(errors)} row(s) have problems.", errors)
    job_roles = dict(db.execute(sa.select(Membership.person_id, Membership.job_role).where(
        Membership.org_id == org_id, Membership.job_role.is_not(None), Membership.person_id.in_(list(members)))
        .order_by(Membership.start_date)).all()) if members else {}
    months_cache: dict[tuple, int | None] = {}
    who = actor or (principal.actor if principal else audit.Actor.system("command line"))
    recorded_by = principal.person_id if principal else who.person_id
    values = []
    for r in rows:
        expires = r.get("expires_on")
        if expires is None and not r.get("no_expiry"):
            key = (r["category_code"], job_roles.get(r["person_id"]))
            if key not in months_cache:
                months_cache[key] = refresh_months_for(db, org_id, key[0], key[1])
            expires = add_months(r["completed_on"], months_cache[key]) if months_cache[key] else None
        values.append(dict(
            person_id=r["person_id"], org_id=org_id, category_code=r["category_code"],
            title=(r.get("title") or categories[r["category_code"]].name)[:200], completed_on=r["completed_on"],
            expires_on=expires, source=source, source_ref=(r.get("source_ref") or "")[:300],
            accredited=bool(r.get("accredited")), provider_name=(r.get("provider_name") or "")[:200],
            notes=r.get("notes") or "", recorded_by_id=recorded_by, correction_reason=""))
    if not values:
        return []
    if db.get_bind().dialect.name == "postgresql":
        ids = _insert_unnest(db, values, chunk * 50)
    else:
        ids = [i for n in range(0, len(values), chunk)
               for i in db.scalars(sa.insert(TrainingRecord).returning(TrainingRecord.id), values[n:n + chunk])]
    if not ids:
        return []
    audit.record(db, who, "training_record.bulk_add", "training_record", ids[0], org_id=org_id, source=source,
                 count=len(ids), first_id=min(ids), last_id=max(ids), batch=batch_ref[:200])
    if not return_records and not training_record_added.receivers:
        return ids
    created = [r for n in range(0, len(ids), 10_000) for r in db.scalars(
        sa.select(TrainingRecord).where(TrainingRecord.id.in_(ids[n:n + 10_000])).order_by(TrainingRecord.id))]
    for record in created:
        training_record_added.send(record, db=db, actor=who)
    return created if return_records else ids


def _insert_unnest(db: Session, values: list[dict], chunk: int) -> list[int]:
    """PostgreSQL: one short INSERT ... SELECT FROM unnest(arrays) per chunk (columns that are the same on every
    row go as single values), far faster than a huge multi-row VALUES statement."""
    from sqlalchemy.dialects.postgresql import ARRAY

    from passport.db import utcnow

    table = TrainingRecord.__table__
    columns = list(values[0]) + ["recorded_at"]
    now = utcnow()
    ids: list[int] = []
    for n in range(0, len(values), chunk):
        part = values[n:n + chunk]
        arrays, scalars = [], []
        for col in columns:
            column = [now] * len(part) if col == "recorded_at" else [v[col] for v in part]
            if all(x == column[0] for x in column):
                scalars.append(sa.literal(column[0], type_=table.c[col].type).label(col))
            else:
                arrays.append((col, sa.bindparam(f"arr_{col}", column, type_=ARRAY(table.c[col].type))))
        if arrays:
            source = sa.func.unnest(*[a for _c, a in arrays]).table_valued(*[c for c, _a in arrays]).render_derived()
            select = sa.select(*[source.c[c] for c, _a in arrays], *scalars)
        else:
            select = sa.select(*scalars).select_from(sa.func.generate_series(1, len(part)).alias("n"))
        names = [c for c, _a in arrays] + [s.name for s in scalars]
        ids.extend(db.scalars(sa.insert(TrainingRecord).from_select(names, select).returning(TrainingRecord.id)))
    return ids


def current_records(db: Session, person_id: int, org_id: int | None = None) -> list[TrainingRecord]:
    """The latest valid version of each category for a person: newest completion, corrections applied."""
    newer = aliased(TrainingRecord)
    q = (sa.select(TrainingRecord).options(joinedload(TrainingRecord.category, innerjoin=True)).where(
        TrainingRecord.person_id == person_id,
        ~sa.exists().where(newer.supersedes_id == TrainingRecord.id))
        .order_by(TrainingRecord.category_code, TrainingRecord.completed_on.desc(), TrainingRecord.id.desc()))
    if org_id is not None:
        q = q.where(TrainingRecord.org_id == org_id)
    latest: dict[int, TrainingRecord] = {}
    for r in db.scalars(q):
        latest.setdefault(r.category_code, r)
    return list(latest.values())


def record_history(db: Session, person_id: int) -> list[TrainingRecord]:
    """Every record of a person, newest first, with what the page shows of each loaded alongside."""
    return list(db.scalars(sa.select(TrainingRecord).options(
        joinedload(TrainingRecord.category, innerjoin=True), joinedload(TrainingRecord.organisation, innerjoin=True),
        joinedload(TrainingRecord.recorded_by)).where(TrainingRecord.person_id == person_id)
        .order_by(TrainingRecord.completed_on.desc(), TrainingRecord.id.desc())))


# --- Care Certificate achievements ---------------------------------------------------------------


def standards(db: Session, framework: str) -> list[CCStandard]:
    return list(db.scalars(sa.select(CCStandard).where(CCStandard.framework == framework).order_by(CCStandard.number)))


def record_achievement(db: Session, principal: Principal | None, *, person_id: int, org_id: int, framework: str,
                       standard_number: int, met_on: date, source: str, evidence: str = "",
                       source_ref: str = "", signed_off_by_id: int | None = None,
                       actor: audit.Actor | None = None) -> StandardAchievement:
    """Record a Care Certificate standard as met and signed off. The sign-off is by a registered
    manager of ``org_id`` (``principal``), or carried over from an accepted passport (``source='passport'``)."""
    if principal is not None:
        require_role(db, principal, SIGN_OFF_ROLES, org_id)
    errors = {}
    if framework not in FRAMEWORKS:
        errors["framework"] = "Choose the 2015 or 2025 Care Certificate."
    elif db.scalar(sa.select(CCStandard.id).where(CCStandard.framework == framework,
                                                  CCStandard.number == standard_number)) is None:
        errors["standard"] = f"The {framework} Care Certificate has no standard {standard_number}."
    if not isinstance(met_on, date) or met_on > today():
        errors["met_on"] = "The date the standard was met cannot be in the future."
    if source not in RECORD_SOURCES:
        errors["source"] = "Unknown source."
    if not org_can_see_person(db, org_id, person_id):
        errors["person"] = "This person is not a member of the organisation."
    if errors:
        raise ValidationError("The sign-off was not saved: " + "; ".join(errors.values()), errors)
    ach = StandardAchievement(
        person_id=person_id, org_id=org_id, framework=framework, standard_number=standard_number, met_on=met_on,
        signed_off_by_id=signed_off_by_id or (principal.person_id if principal else None), source=source,
        source_ref=source_ref[:300], evidence=evidence,
    )
    db.add(ach)
    db.flush()
    who = actor or (principal.actor if principal else audit.Actor.system("command line"))
    audit.record(db, who, "cc_standard.sign_off", "standard_achievement", ach.id, org_id=org_id,
                 person_id=person_id, framework=framework, standard=standard_number, source=source)
    summary = care_certificate_summary(db, person_id)
    care_certificate_changed.send(person_id, db=db, actor=who, framework=framework,
                                  complete=summary[framework]["complete"])
    return ach


def care_certificate_summary(db: Session, person_id: int) -> dict[str, dict]:
    """For each framework: the standards met (number -> date met, earliest sign-off), complete or not,
    and the award date (the date the last standard was met) when complete."""
    rows = db.execute(sa.select(StandardAchievement.framework, StandardAchievement.standard_number,
                                sa.func.min(StandardAchievement.met_on))
                      .where(StandardAchievement.person_id == person_id, StandardAchievement.withdrawn_at.is_(None))
                      .group_by(StandardAchievement.framework, StandardAchievement.standard_number)).all()
    counts = dict(db.execute(sa.select(CCStandard.framework, sa.func.count()).group_by(CCStandard.framework)).all())
    out = {}
    for fw in FRAMEWORKS:
        met = {n: d for f, n, d in rows if f == fw}
        complete = counts.get(fw, 0) > 0 and len(met) == counts[fw]
        out[fw] = {"met": dict(sorted(met.items())), "total": counts.get(fw, 0), "complete": complete,
                   "awarded_on": max(met.values()) if complete else None}
    return out


def organisations_of(db: Session, person_id: int) -> list[Organisation]:
    return list(db.scalars(sa.select(Organisation).join(Membership, Membership.org_id == Organisation.id)
                           .where(Membership.person_id == person_id).distinct().order_by(Organisation.name)))


def current_record_dates(db: Session, person_id: int, codes) -> dict[int, tuple[date, date | None]]:
    """``current_records`` reduced to ``{category: (completed_on, expires_on)}`` for the given categories,
    read as plain columns (the passport states these at every issue, so it is kept cheap)."""
    newer = aliased(TrainingRecord)
    rows = db.execute(sa.select(TrainingRecord.category_code, TrainingRecord.completed_on, TrainingRecord.expires_on)
                      .where(TrainingRecord.person_id == person_id, TrainingRecord.category_code.in_(list(codes)),
                             ~sa.exists().where(newer.supersedes_id == TrainingRecord.id))
                      .order_by(TrainingRecord.category_code, TrainingRecord.completed_on.desc(),
                                TrainingRecord.id.desc()))
    latest: dict[int, tuple[date, date | None]] = {}
    for code, done, expires in rows:
        latest.setdefault(code, (done, expires))
    return latest
