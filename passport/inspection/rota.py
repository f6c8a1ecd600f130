"""The rota check: for each proposed assignment (worker, home, shift, optional tasks and residents) say
``ok``, ``warn`` or ``block`` with plain reasons, by the home's own settings of what blocks and what warns.

Checks: mandatory training expired (or missing), or expiring before the shift ends; the Care Certificate
not complete where the home requires it before unsupervised work; induction not complete at that home
(only when a plugin contributes an ``induction`` rota rule, e.g. the companion plugin); no current
competence or delegation for a task and resident; a delegation that lapses during the shift.

Set-based: a fixed number of queries for the whole rota (people, visibility, requirements, training
status, Care Certificate counts, competences, delegations), so a week for a 60-bed home (about 400
assignments) is answered in one round of queries.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from passport import audit
from passport.core.access import Principal, has_role, org_can_see_person
from passport.core.models import CCStandard, Membership, Person, StandardAchievement, TrainingCategory, TrainingRecord
from passport.core.timeutil import UK, format_date, to_uk
from passport.courses.matrix import status_subquery
from passport.courses.models import AscwdsWorkerRef
from passport.courses.requirements import requirements_by_role
from passport.db import utcnow
from passport.delegation.models import Competency, Delegation, Resident, Task
from passport.errors import PermissionDenied, ValidationError
from passport.inspection.models import RULE_ACTIONS, RotaSettings

ROTA_ROLES = ("registered_manager", "org_admin", "training_lead")
RULES = ("training_expired", "training_expiring", "care_certificate", "induction", "competence",
         "delegation_lapses")
RULE_LABELS = {
    "training_expired": "Mandatory training expired or missing",
    "training_expiring": "Mandatory training expires before the shift ends",
    "care_certificate": "Care Certificate not complete (where the home requires it before unsupervised work)",
    "induction": "Induction not complete at this home",
    "competence": "No current competence or delegation for a task and resident",
    "delegation_lapses": "A competence or delegation lapses during the shift",
}
# Job roles that work unsupervised only once the Care Certificate is complete (when the home says so).
CARE_CERTIFICATE_ROLES = frozenset({"care_worker", "senior_care_worker", "nursing_assistant", "personal_assistant"})
MAX_ROWS = 2000
MAX_SHIFT_HOURS = 36
MAX_TASKS = 50
SEVERITY = {"ok": 0, "warn": 1, "block": 2}
WORKER_NOT_FOUND = "No such worker, or your organisation has no reason to see them."

RotaRule = Callable[[Session, list], dict]  # (db, assignments) -> {index: [(rule, message), ...]}


# --- settings ------------------------------------------------------------------------------------


def settings_for(db: Session, org_id: int) -> RotaSettings:
    """The home's rota settings, or unsaved defaults."""
    return db.get(RotaSettings, org_id) or RotaSettings(
        org_id=org_id, training_expired="block", training_expiring="warn", care_certificate="block",
        care_certificate_required=True, induction="warn", competence="block", delegation_lapses="warn")


def save_settings(db: Session, principal: Principal, org_id: int, data: dict) -> RotaSettings:
    """Choose block / warn / off per rule and whether the Care Certificate is needed first. Audited."""
    if not has_role(db, principal, ("registered_manager", "org_admin"), org_id):
        raise PermissionDenied("Only the home's registered manager or admin can change the rota check.")
    errors = {r: "Choose block, warn or off." for r in RULES if data.get(r) not in RULE_ACTIONS}
    if errors:
        raise ValidationError("Check the rota settings.", errors)
    row = db.get(RotaSettings, org_id)
    if row is None:
        row = settings_for(db, org_id)
        db.add(row)
    before = {r: getattr(row, r) for r in RULES} | {"care_certificate_required": row.care_certificate_required}
    for r in RULES:
        setattr(row, r, data[r])
    row.care_certificate_required = bool(data.get("care_certificate_required"))
    row.updated_at = utcnow()
    db.flush()
    after = {r: getattr(row, r) for r in RULES} | {"care_certificate_required": row.care_certificate_required}
    audit.record(db, principal.actor, "rota.settings_changed", "organisation", org_id, org_id=org_id,
                 changes={k: [before[k], v] for k, v in after.items() if before[k] != v})
    return row


# --- parsing -------------------------------------------------------------------------------------


@dataclass
class Assignment:
    index: int
    person_id: int
    home_id: int
    start: datetime
    end: datetime
    tasks: list[tuple[Task, str | None]] = field(default_factory=list)
    reasons: list[tuple[str, str]] = field(default_factory=list)  # (rule, message)
    job_role: str | None = None
    start_day: date = field(init=False)
    end_day: date = field(init=False)

    def __post_init__(self) -> None:
        self.start_day, self.end_day = to_uk(self.start).date(), to_uk(self.end).date()


def _int_id(value) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        return None
    return value


def _when(value) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UK)  # a time without an offset is UK local time
    return at.astimezone(timezone.utc)


def _parse(db: Session, principal: Principal, rows) -> tuple[list[Assignment], dict[int, dict]]:
    errors: dict[int, dict] = {}
    raw: list[tuple[int, dict]] = []
    times: dict[int, tuple] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            errors[i] = {"row": "Each assignment must be a JSON object."}
            continue
        e = {}
        home = _int_id(row.get("home_id"))
        if home is None:
            e["home_id"] = "Give the home's id as a whole number."
        wid, uwid = row.get("worker_id"), row.get("unique_worker_id")
        if wid is not None and _int_id(wid) is None:
            e["worker_id"] = "Give the worker's id as a whole number."
        elif wid is None and (not isinstance(uwid, str) or not uwid.strip() or len(uwid) > 50):
            e["worker_id"] = "Give worker_id (our id) or unique_worker_id (the home's own worker id)."
        start, end = _when(row.get("start")), _when(row.get("end"))
        times[i] = (start, end)
        if start is None:
            e["start"] = "Give the shift start as an ISO 8601 date and time, e.g. 2026-12-07T08:00:00+00:00."
        if end is None:
            e["end"] = "Give the shift end as an ISO 8601 date and time, e.g. 2026-12-07T20:00:00+00:00."
        if start and end and not start < end <= start + timedelta(hours=MAX_SHIFT_HOURS):
            e["end"] = f"The shift must end after it starts and last at most {MAX_SHIFT_HOURS} hours."
        tasks = row.get("tasks", [])
        if not isinstance(tasks, list) or len(tasks) > MAX_TASKS:
            e["tasks"] = f"Give tasks as a list of at most {MAX_TASKS} objects with task and resident."
            tasks = []
        for j, t in enumerate(tasks):
            if not isinstance(t, dict) or not isinstance(t.get("task"), str) or not 0 < len(t["task"]) <= 60:
                e[f"tasks[{j}].task"] = "Give the task's code."
            elif t.get("resident") is not None and (not isinstance(t["resident"], str)
                                                    or not 0 < len(t["resident"].strip()) <= 40):
                e[f"tasks[{j}].resident"] = "Give the resident's reference (up to 40 characters) or leave it out."
        if e:
            errors[i] = e
        else:
            raw.append((i, row))
    # Workers by the home's own id, one query.
    pairs = {(r["home_id"], r["unique_worker_id"].strip()) for _, r in raw if r.get("worker_id") is None}
    by_ref = {}
    if pairs:
        by_ref = {(o, u): p for o, u, p in db.execute(
            sa.select(AscwdsWorkerRef.org_id, AscwdsWorkerRef.unique_worker_id, AscwdsWorkerRef.person_id)
            .where(AscwdsWorkerRef.org_id.in_({o for o, _ in pairs}),
                   AscwdsWorkerRef.unique_worker_id.in_({u for _, u in pairs})))}
    codes = {t["task"] for _, r in raw for t in r.get("tasks", [])}
    tasks = {t.code: t for t in db.scalars(sa.select(Task).where(Task.code.in_(codes)))} if codes else {}
    home_ok: dict[int, bool] = {}
    out: list[Assignment] = []
    for i, r in raw:
        home = r["home_id"]
        if home not in home_ok:
            home_ok[home] = has_role(db, principal, ROTA_ROLES, home)
        if not home_ok[home]:
            errors[i] = {"home_id": "You cannot check the rota for this home."}
            continue
        pid = r.get("worker_id") or by_ref.get((home, r["unique_worker_id"].strip()))
        if pid is None:
            errors[i] = {"worker_id" if r.get("worker_id") else "unique_worker_id": WORKER_NOT_FOUND}
            continue
        e, items = {}, []
        for j, t in enumerate(r.get("tasks", [])):
            task = tasks.get(t["task"])
            resident = (t.get("resident") or "").strip() or None
            if task is None or (task.org_id is not None and task.org_id != home) or not task.active:
                e[f"tasks[{j}].task"] = "No such task in the catalogue for this home."
            elif task.resident_specific and resident is None:
                e[f"tasks[{j}].resident"] = "This task is resident-specific: give the resident's reference."
            else:
                items.append((task, resident))
        if e:
            errors[i] = e
            continue
        out.append(Assignment(i, pid, home, *times[i], items))
    # Refuse people the home has no reason to see: members first, then the visibility rules. The same
    # query gives each person's job role (at the home, else anywhere), which decides the training they need.
    if out:
        on = min(a.start_day for a in out)
        members, job = set(), {}
        for pid, org, role in db.execute(
                sa.select(Membership.person_id, Membership.org_id, sa.func.min(Membership.job_role))
                .where(Membership.person_id.in_({a.person_id for a in out}), Membership.start_date <= on,
                       sa.or_(Membership.end_date.is_(None), Membership.end_date >= on))
                .group_by(Membership.person_id, Membership.org_id)):
            members.add((pid, org))
            job[(pid, org)] = role
            if role is not None:
                job[(pid, None)] = min(filter(None, (job.get((pid, None)), role)))
        for a in out:
            a.job_role = job.get((a.person_id, a.home_id)) or job.get((a.person_id, None))
        seen: dict[tuple[int, int], bool] = {}
        kept = []
        for a in out:
            key = (a.person_id, a.home_id)
            if key not in members and key not in seen:
                seen[key] = db.get(Person, a.person_id) is not None and org_can_see_person(db, a.home_id, a.person_id)
            if key in members or seen.get(key):
                kept.append(a)
            else:
                errors[a.index] = {"worker_id" if isinstance(rows[a.index].get("worker_id"), int)
                                   else "unique_worker_id": WORKER_NOT_FOUND}
        out = kept
    return out, errors


# --- the checks ----------------------------------------------------------------------------------


def _training(db: Session, items: list[Assignment]) -> None:
    people = {a.person_id for a in items}
    homes = {a.home_id for a in items}
    needs = {h: requirements_by_role(db, h) for h in homes}
    codes = set().union(*(set(c) for n in needs.values() for c in n.values())) if needs else set()
    if not codes:
        return
    status = {(r.person_id, r.category_code): r for r in db.execute(
        status_subquery(list(people)).where(TrainingRecord.category_code.in_(codes)))}
    names = dict(db.execute(sa.select(TrainingCategory.code, TrainingCategory.name)
                            .where(TrainingCategory.code.in_(codes))).all())
    # Per person and home: the required subjects' expiry (None = missing, date.max = never expires), worked
    # out once; then each assignment only compares dates. Messages are built once per subject and date.
    per_person: dict[tuple[int, int], list[tuple[int, date | None]]] = {}
    messages: dict[tuple, str] = {}

    def message(rule: str, code: int, when: date | None) -> str:
        key = (rule, code, when)
        if key not in messages:
            messages[key] = (f"No record of {names[code]} training." if when is None else
                             f"{names[code]} training expired on {format_date(when)}." if rule == "training_expired"
                             else f"{names[code]} training expires on {format_date(when)}, before the shift ends.")
        return messages[key]

    for a in items:
        key = (a.person_id, a.home_id)
        if key not in per_person:
            held = []
            for code in needs[a.home_id].get(a.job_role or "", []):
                st = status.get((a.person_id, code))
                held.append((code, None if st is None else date.max if st.never_expires else st.expires_on))
            per_person[key] = held
        for code, expires in per_person[key]:
            if expires is None:
                a.reasons.append(("training_expired", message("training_expired", code, None)))
            elif expires < a.start_day:
                a.reasons.append(("training_expired", message("training_expired", code, expires)))
            elif expires < a.end_day:
                a.reasons.append(("training_expiring", message("training_expiring", code, expires)))


def _care_certificate(db: Session, items: list[Assignment], settings: dict[int, RotaSettings]) -> None:
    wanted = [a for a in items if settings[a.home_id].care_certificate_required
              and getattr(a, "job_role", None) in CARE_CERTIFICATE_ROLES]
    if not wanted:
        return
    totals = dict(db.execute(sa.select(CCStandard.framework, sa.func.count()).group_by(CCStandard.framework)).all())
    complete = {pid for pid, fw, n in db.execute(
        sa.select(StandardAchievement.person_id, StandardAchievement.framework,
                  sa.func.count(sa.distinct(StandardAchievement.standard_number)))
        .where(StandardAchievement.person_id.in_({a.person_id for a in wanted}),
               StandardAchievement.withdrawn_at.is_(None))
        .group_by(StandardAchievement.person_id, StandardAchievement.framework)) if totals.get(fw) == n}
    for a in wanted:
        if a.person_id not in complete:
            a.reasons.append(("care_certificate", "The Care Certificate is not complete, and this home requires it "
                                                  "before unsupervised work."))


def _competence(db: Session, items: list[Assignment]) -> None:
    wanted = [a for a in items if a.tasks]
    if not wanted:
        return
    people = {a.person_id for a in wanted}
    task_ids = {t.id for a in wanted for t, _ in a.tasks}
    first_day, first_at = min(a.start_day for a in wanted), min(a.start for a in wanted)
    comps: dict[tuple[int, int], list] = {}
    for c in db.execute(sa.select(Competency.id, Competency.worker_id, Competency.task_id, Competency.valid_from,
                                  Competency.valid_until, Competency.ended_at).where(
            Competency.worker_id.in_(people), Competency.task_id.in_(task_ids), Competency.valid_until >= first_day,
            sa.or_(Competency.ended_at.is_(None), Competency.ended_at > first_at))):
        comps.setdefault((c.worker_id, c.task_id), []).append(c)
    dels: dict[tuple[int, int, int, str], list] = {}
    if any(r for a in wanted for _, r in a.tasks):
        for d in db.execute(sa.select(Delegation.worker_id, Delegation.task_id, Delegation.org_id,
                                      Resident.local_id, Delegation.competency_id, Delegation.start_date,
                                      Delegation.ended_at).join(Resident, Resident.id == Delegation.resident_id).where(
                Delegation.worker_id.in_(people), Delegation.task_id.in_(task_ids),
                Delegation.org_id.in_({a.home_id for a in wanted}),
                sa.or_(Delegation.ended_at.is_(None), Delegation.ended_at > first_at))):
            dels.setdefault((d.worker_id, d.task_id, d.org_id, d.local_id), []).append(d)  # matched exactly
    for a in wanted:
        for task, resident in a.tasks:
            current = {c.id: c for c in comps.get((a.person_id, task.id), [])
                       if c.valid_from <= a.start_day <= c.valid_until
                       and (c.ended_at is None or c.ended_at > a.start)}
            for_whom = f" for resident {resident}" if resident else ""
            if resident is not None:
                open_ = [(d, current[d.competency_id]) for d in dels.get((a.person_id, task.id, a.home_id, resident), [])
                         if d.competency_id in current and d.start_date <= a.start_day
                         and (d.ended_at is None or d.ended_at > a.start)]
                if not open_:
                    a.reasons.append(("competence", f"No current delegation of {task.name}{for_whom}."))
                    continue
                lapse = max(_lapses(c, d) for d, c in open_)
            else:
                if not current:
                    a.reasons.append(("competence", f"No current competence for {task.name}."))
                    continue
                lapse = max(_lapses(c, None) for c in current.values())
            if lapse < a.end:
                when = to_uk(lapse)
                a.reasons.append(("delegation_lapses", f"The competence or delegation for {task.name}{for_whom} "
                                  f"lapses on {format_date(when.date())}, during the shift."))


def _lapses(c, d) -> datetime:
    """The moment the competence (and the delegation on it) stops counting."""
    end_of_valid = datetime.combine(c.valid_until + timedelta(days=1), datetime.min.time(), UK).astimezone(timezone.utc)
    ends = [end_of_valid] + [x for x in (c.ended_at, d.ended_at if d else None) if x is not None]
    return min(ends)


def check(db: Session, principal: Principal, rows, extra_rules: Iterable[tuple[str, RotaRule]] = ()) -> dict:
    """Check a proposed rota. ``rows`` is the list of assignment objects from the API; ``extra_rules`` are
    (rule name, function) pairs contributed by other plugins (e.g. ``induction``). Returns a result per
    row in the order given: ``ok``/``warn``/``block`` with reasons, or ``error`` with field errors."""
    if not isinstance(rows, list) or not rows:
        raise ValidationError("Send assignments as a non-empty list.", {"assignments": "Send a non-empty list."})
    if len(rows) > MAX_ROWS:
        raise ValidationError(f"Send at most {MAX_ROWS} assignments at a time.",
                              {"assignments": f"At most {MAX_ROWS} assignments."})
    items, errors = _parse(db, principal, rows)
    settings = {h: settings_for(db, h) for h in {a.home_id for a in items}}
    extra = dict(extra_rules)
    if items:
        _training(db, items)
        _care_certificate(db, items, settings)
        _competence(db, items)
        for name, rule in extra.items():
            for index, found in (rule(db, items) or {}).items():
                for a in items:
                    if a.index == index:
                        a.reasons.extend(found)
    results: list[dict | None] = [None] * len(rows)
    for i, e in errors.items():
        results[i] = {"index": i, "result": "error", "errors": e}
    for a in items:
        reasons = []
        for rule, message in a.reasons:
            action = getattr(settings[a.home_id], rule, "warn")
            if action != "off":
                reasons.append({"rule": rule, "result": action, "message": message})
        result = max((r["result"] for r in reasons), key=SEVERITY.get, default="ok")
        results[a.index] = {"index": a.index, "worker_id": a.person_id, "home_id": a.home_id, "result": result,
                            "reasons": reasons}
    summary = {k: sum(1 for r in results if r["result"] == k) for k in ("ok", "warn", "block", "error")}
    checked = [r for r in RULES if r != "induction" or "induction" in extra]
    return {"results": results, "summary": summary, "checked": checked,
            "not_checked": [r for r in RULES if r not in checked]}
