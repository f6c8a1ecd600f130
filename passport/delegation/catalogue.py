"""The delegated task catalogue: the scheme-wide tasks (loaded from ``catalogue_data.DELEGATED_TASKS`` by
the migration and by ``passport delegation load-tasks``) and organisations' own additions."""
from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from passport import audit
from passport.core.access import Principal, has_role
from passport.core.catalogue_data import DELEGATED_TASKS
from passport.core.models import CCStandard, DelegatedCategory, Organisation, TrainingCategory
from passport.delegation.models import LEVELS, Task, TaskPrerequisite
from passport.delegation.rules import CLINICAL_KINDS, professional_authority, schemes_of
from passport.errors import NotFound, PermissionDenied, ValidationError


def _set_prerequisites(task: Task, categories, standards) -> None:
    wanted = {("training", c) for c in categories} | {("standard", s) for s in standards}
    for p in list(task.prerequisites):
        if (p.kind, p.ref) not in wanted:
            task.prerequisites.remove(p)
    have = {(p.kind, p.ref) for p in task.prerequisites}
    for kind, ref in sorted(wanted - have):
        task.prerequisites.append(TaskPrerequisite(kind=kind, ref=ref))


def load_tasks(db: Session) -> int:
    """Add or correct the scheme-wide tasks from the reference data (idempotent; never deletes, so
    history stays valid). Returns the number of tasks added or changed."""
    changed = 0
    for item in DELEGATED_TASKS:
        task = db.scalar(sa.select(Task).where(Task.code == item["code"]).options(selectinload(Task.prerequisites)))
        if task is None:
            task = Task(code=item["code"], org_id=None, prerequisites=[])
            db.add(task)
        before = (task.category_code, task.name, task.observations_required, task.reassess_months,
                  task.resident_specific, sorted((p.kind, p.ref) for p in task.prerequisites))
        task.category_code = item["category"]
        task.name = item["name"]
        task.observations_required = item["observations_required"]
        task.reassess_months = item["reassess_months"]
        task.resident_specific = item["resident_specific"]
        task.min_level = task.min_level or "safe_unsupervised"
        task.active = True if task.active is None else task.active
        _set_prerequisites(task, item["prerequisite_categories"], item["prerequisite_standards"])
        after = (task.category_code, task.name, task.observations_required, task.reassess_months,
                 task.resident_specific, sorted((p.kind, p.ref) for p in task.prerequisites))
        changed += before != after
    db.flush()
    return changed


def get_task(db: Session, code: str) -> Task:
    task = db.scalar(sa.select(Task).where(Task.code == code))
    if task is None:
        raise NotFound(f"There is no delegated task with the code {code!r}.")
    return task


def task_usable_at(db: Session, task: Task, home_id: int) -> bool:
    """Scheme-wide tasks everywhere; an organisation's addition in that organisation, or (for a clinical
    team's addition) in the homes of the same scheme."""
    if task.org_id is None or task.org_id == home_id:
        return True
    owner = db.get(Organisation, task.org_id)
    return owner is not None and owner.kind in CLINICAL_KINDS and bool(schemes_of(db, owner.id) & schemes_of(db, home_id))


def tasks_for_home(db: Session, home_id: int, active_only: bool = True) -> list[Task]:
    q = sa.select(Task).options(selectinload(Task.prerequisites)).order_by(Task.name)
    if active_only:
        q = q.where(Task.active.is_(True))
    return [t for t in db.scalars(q) if task_usable_at(db, t, home_id)]


def all_tasks(db: Session) -> list[Task]:
    return list(db.scalars(sa.select(Task).options(selectinload(Task.prerequisites))
                           .order_by(Task.org_id.is_not(None), Task.name)))


def categories(db: Session) -> list[DelegatedCategory]:
    return list(db.scalars(sa.select(DelegatedCategory).order_by(DelegatedCategory.ascwds_code)))


def describe_prerequisites(db: Session, task: Task) -> list[str]:
    out = []
    for p in task.prerequisites:
        if p.kind == "training":
            out.append((db.scalar(sa.select(TrainingCategory.name).where(TrainingCategory.code == p.ref))
                        or f"Category {p.ref}") + " training")
        else:
            title = db.scalar(sa.select(CCStandard.title).where(CCStandard.framework == "2025",
                                                                CCStandard.number == p.ref))
            out.append(f"Care Certificate standard {p.ref}" + (f": {title}" if title else ""))
    return out


def add_org_task(db: Session, principal: Principal, org_id: int, data: dict) -> Task:
    """Add an organisation's own task. Organisation admins, or a registered professional of the
    organisation, may do this."""
    org = db.get(Organisation, org_id)
    if org is None:
        raise NotFound("No such organisation.")
    if not (has_role(db, principal, "org_admin", org_id) or professional_authority(db, principal, org_id)):
        raise PermissionDenied("Only the organisation's admins or registered professionals can add tasks.")
    errors = {}
    name = " ".join(str(data.get("name") or "").split())
    if not name:
        errors["name"] = "Enter the task's name."
    elif len(name) > 200:
        errors["name"] = "The name must be 200 characters or fewer."
    category = data.get("category_code")
    if not category or db.get(DelegatedCategory, category) is None:
        errors["category_code"] = "Choose one of the eight delegated activity categories."
    obs, months = data.get("observations_required"), data.get("reassess_months") or 12
    if not isinstance(obs, int) or not 1 <= obs <= 10:
        errors["observations_required"] = "Enter between 1 and 10 observed assessments."
    if not isinstance(months, int) or not 1 <= months <= 36:
        errors["reassess_months"] = "Enter a reassessment interval of 1 to 36 months."
    min_level = data.get("min_level") or "safe_unsupervised"
    if min_level not in LEVELS:
        errors["min_level"] = "Choose a competence level from the list."
    cats = [int(c) for c in data.get("prerequisite_categories") or []]
    stds = [int(s) for s in data.get("prerequisite_standards") or []]
    known = set(db.scalars(sa.select(TrainingCategory.code)))
    if any(c not in known for c in cats):
        errors["prerequisite_categories"] = "Choose training subjects from the list."
    if any(not 1 <= s <= 16 for s in stds):
        errors["prerequisite_standards"] = "Care Certificate standards are numbered 1 to 16."
    if errors:
        raise ValidationError("The task was not added: " + "; ".join(errors.values()), errors)
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:40] or "task"
    code = f"org{org_id}_{slug}"
    if db.scalar(sa.select(Task.id).where(Task.code == code)):
        raise ValidationError("This organisation already has a task with that name.",
                              {"name": "This organisation already has a task with that name."})
    task = Task(code=code, org_id=org_id, category_code=category, name=name,
                description=str(data.get("description") or "")[:2000], observations_required=obs,
                reassess_months=months, resident_specific=bool(data.get("resident_specific")), min_level=min_level,
                prerequisites=[])
    _set_prerequisites(task, cats, stds)
    db.add(task)
    db.flush()
    audit.record(db, principal.actor, "delegation.task.add", "delegation_task", task.id, org_id=org_id,
                 code=code, category=category)
    return task


def task_json(db: Session, t: Task) -> dict:
    return {"code": t.code, "name": t.name, "category": t.category_code, "org_id": t.org_id,
            "observations_required": t.observations_required, "reassess_months": t.reassess_months,
            "resident_specific": t.resident_specific, "min_level": t.min_level, "active": t.active,
            "prerequisites": {"training_categories": [p.ref for p in t.prerequisites if p.kind == "training"],
                              "care_certificate_standards": [p.ref for p in t.prerequisites if p.kind == "standard"]}}
