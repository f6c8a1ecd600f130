"""Demo data: each home's register of residents (pseudonymous: a room and a local id); the three district
nurses of the community nursing team (NMC PINs, registrations confirmed by the scheme admin) assess workers in the demo homes and delegate tasks for pseudonymous residents; some
competences run out soon, one delegation has been withdrawn, one worker has declined a task; a fourth nurse,
whose registration confirmation has lapsed, is refused when she tries to delegate."""
from __future__ import annotations

from datetime import timedelta

from passport import audit
from passport.core import records
from passport.core.access import Principal
from passport.core.timeutil import uk_today
from passport.delegation import residents as register, services
from passport.delegation.catalogue import get_task

HOMES = {
    # home key: (nurse key, resident references chosen by the home)
    "oaks": ("nurse1", ["Room 12 – R-0412", "Room 3 – R-0103", "Room 8 – R-0208", "Room 14 – R-0414",
                        "Room 30 – R-0130"]),
    "riverside": ("nurse2", ["Room 21 – RV-021", "Room 5 – RV-005", "Room 17 – RV-017", "Room 2 – RV-002"]),
    "meadow": ("nurse3", ["Flat 2 – MV-102", "Room 9 – MV-009", "Room 11 – MV-011", "Room 4 – MV-004"]),
}
# (worker index, task, level, days since assessed, resident index or None, delegate?)
PLAN = [
    (0, "dry_dressing", "safe_unsupervised", 60, None, True),
    (1, "dry_dressing", "safe_unsupervised", 345, None, True),        # runs out in about 20 days
    (1, "pressure_area_care", "safe_unsupervised", 300, None, False),  # runs out in about two months
    (2, "insulin_pen", "safe_unsupervised", 90, 2, True),
    (2, "blood_glucose", "safe_unsupervised", 90, 2, True),
    (3, "catheter_care", "supervised", 30, 1, False),
    (4, "physiological_observations", "safe_unsupervised", 120, None, True),
]


def _ensure_training(db, task, worker, home, actor) -> None:
    """Give the demo worker any training prerequisite they lack (as a manual record)."""
    current = {r.category_code: r for r in records.current_records(db, worker.id)}
    for p in task.prerequisites:
        rec = current.get(p.ref)
        if p.kind == "training" and (rec is None or (rec.expires_on is not None and rec.expires_on < uk_today())):
            records.add_training_record(db, None, person_id=worker.id, org_id=home.id, category_code=p.ref,
                                        completed_on=uk_today() - timedelta(days=45), source="manual", actor=actor,
                                        provider_name="Kennet Community Nursing Team")


def load(db, ctx) -> None:
    """Add the delegation demo on top of the core demo (called once, on the run that creates it)."""
    today = uk_today()
    actor = audit.Actor.system("demo data")
    for home_key, (nurse_key, labels) in HOMES.items():
        home, nurse = ctx.orgs[home_key], ctx.people[nurse_key]
        who = Principal(person=nurse)
        # the home's register of residents: the nurse adds the residents she delegates care for
        residents = [register.add(db, who, home.id, local_id=label.split("– ")[-1], label=label).id
                     for label in labels]
        workers = ctx.workers[home_key]
        for index, code, level, days_ago, resident_index, do_delegate in PLAN:
            worker, task = workers[index], get_task(db, code)
            _ensure_training(db, task, worker, home, actor)
            resident = residents[resident_index] if resident_index is not None else None
            assessed = today - timedelta(days=days_ago)
            a = services.record_assessment(
                db, who, home_id=home.id, worker_id=worker.id, task_code=code, assessed_on=assessed,
                observations=task.observations_required, outcome="competent", level=level, resident_id=resident,
                observation_notes="Observed in practice with the resident's consent; followed the written "
                                  "instructions and infection control throughout.",
                evidence="Competency workbook completed and reviewed.")
            if index != 1:
                services.acknowledge_assessment(db, Principal(person=worker), a.id)
            if do_delegate:
                services.create_delegation(
                    db, who, home_id=home.id, worker_id=worker.id, task_code=code,
                    resident_id=resident or residents[0], start_date=assessed + timedelta(days=1),
                    # one review falls due within a week, so the nurse's home page lists it
                    review_date=min(a.valid_until, today + timedelta(days=6 if index == 1 else 60 + index * 10)),
                    instructions_ref=f"Care plan {home_key.upper()}-{index + 1:02d}, delegation letter "
                                     f"{nurse.family_name[:3].upper()}/{assessed.year}",
                    consent_recorded=True, consent_by="resident" if index % 2 == 0 else "representative")
        # a withdrawn delegation, with its reason, kept in history
        if home_key == "oaks":
            d = services.create_delegation(
                db, who, home_id=home.id, worker_id=workers[0].id, task_code="dry_dressing",
                resident_id=residents[1], start_date=today - timedelta(days=20), review_date=today + timedelta(days=70),
                instructions_ref="Care plan OAKS-07", consent_recorded=True, consent_by="resident")
            services.withdraw_delegation(db, who, d.id, "The wound has healed; dressings no longer needed.")
        # a worker declining a task, recorded without blame
        if home_key == "meadow":
            services.record_decline(db, Principal(person=workers[3]), home_id=home.id, worker_id=workers[3].id,
                                    task_code="catheter_care", reason="I would like more practice with the nurse first.")
    _lapsed_nurse_refused(db, ctx)
    db.flush()


def _lapsed_nurse_refused(db, ctx) -> None:
    """Joan Pryce's registration confirmation has lapsed: her attempt to delegate is refused and the
    refusal is in The Oaks' audit trail (sign in as her to see the message)."""
    nurse = ctx.people.get("lapsed_nurse")
    if nurse is None:
        return
    home, worker = ctx.orgs["oaks"], ctx.workers["oaks"][0]
    resident = register.search(db, home.id, HOMES["oaks"][1][2], partial=False)[0]
    try:
        services.create_delegation(
            db, Principal(person=nurse), home_id=home.id, worker_id=worker.id, task_code="dry_dressing",
            resident_id=resident.id, start_date=uk_today(), review_date=uk_today() + timedelta(days=60),
            instructions_ref="Care plan OAKS-09", consent_recorded=True, consent_by="resident")
    except services.RefusedAction as exc:
        services.audit_refusal(db, Principal(person=nurse).actor, exc)
    else:  # pragma: no cover - the demo must show a refusal
        raise AssertionError("the lapsed nurse's delegation should have been refused")
