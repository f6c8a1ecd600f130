"""Demo data for courses, on top of ``passport.demo``: courses of each kind (in-house and external; face to
face, e-learning and blended; home and scheme courses, approved or not), past and upcoming sessions with
shared places and a waiting list, attendance and completions, assessors and their competence, ASC-WDS
worker ids, and assessments that put workers at every Care Certificate state."""
from __future__ import annotations

from datetime import date, time, timedelta

from passport import audit
from passport.core import services
from passport.core.access import Principal, today
from passport.courses import assessments, bookings, catalog, sessions
from passport.courses.models import TrainingSettings
from passport.courses.requirements import set_renewal_rule

HOMES = ("oaks", "riverside", "meadow")


def load(db, ctx) -> None:
    """Called once by ``passport demo`` after the core demo data, in the same transaction."""
    as_ = {key: Principal(person=p) for key, p in ctx.people.items()}
    _settings_and_ids(db, ctx)
    _earlier_training(db, ctx)
    _assessors(db, ctx, as_)
    courses = _courses(db, ctx, as_)
    _sessions(db, ctx, as_, courses)
    _care_certificate_states(db, ctx, as_)
    set_renewal_rule(db, as_["oaks_lead"], ctx.orgs["oaks"].id, 6, "", 3, 31)  # fire safety renews by 31 March
    db.flush()


def _settings_and_ids(db, ctx) -> None:
    from passport.courses.models import AscwdsWorkerRef

    for i, home in enumerate(HOMES, start=1):
        org = ctx.orgs[home]
        db.add(TrainingSettings(org_id=org.id, amber_days=60, reminder_offsets="60,30,7,0", manager_digest=True,
                                local_est_id=f"WESSEX-{home.upper()}"))
        people = [ctx.people[f"{home}_{k}"] for k in ("manager", "lead", "assessor")] + ctx.workers[home]
        for n, person in enumerate(people, start=1):
            db.add(AscwdsWorkerRef(org_id=org.id, person_id=person.id, unique_worker_id=f"{home[:3].upper()}{n:04d}"))
    db.flush()


def _earlier_training(db, ctx) -> None:
    """Fill most gaps the core demo leaves (it records twelve subjects for workers and none for managers), as
    if imported from each home's old spreadsheet, so the matrix is mostly green with some amber and red."""
    import sqlalchemy as sa

    from passport import audit
    from passport.core import records
    from passport.core.models import TrainingRecord
    from passport.courses.requirements import requirements_by_role

    rng = ctx.rng
    for home in HOMES:
        org = ctx.orgs[home]
        by_role = requirements_by_role(db, org.id)
        people = [ctx.people[f"{home}_{k}"] for k in ("manager", "lead", "assessor")] + ctx.workers[home]
        held = set(db.execute(sa.select(TrainingRecord.person_id, TrainingRecord.category_code)
                              .where(TrainingRecord.person_id.in_([p.id for p in people]))).all())
        rows = []
        for person in people:
            role = next((m.job_role for m in person.memberships if m.org_id == org.id and m.job_role), None)
            for code in by_role.get(role or "", []):
                if (person.id, code) in held or rng.random() < 0.12:
                    continue
                roll = rng.random()
                ago = rng.randint(10, 300) if roll < 0.75 else rng.randint(300, 350) if roll < 0.88 else rng.randint(380, 700)
                rows.append({"person_id": person.id, "category_code": code, "completed_on": today() - timedelta(days=ago),
                             "provider_name": "North Wessex Care Association",
                             "notes": "Imported from the home's previous training spreadsheet",
                             "source_ref": f"demo:{home}-spreadsheet"})
        records.add_training_records_bulk(db, None, org_id=org.id, source="bulk_upload", rows=rows,
                                          actor=audit.Actor.system("demo data"), batch_ref=f"demo {home}")


def _assessors(db, ctx, as_) -> None:
    # The Oaks' training lead also runs training for Meadow View, a sister home in the same group.
    # She joined it by accepting Meadow View's invitation.
    from passport.core import invitations

    invitation, _token = invitations.create_invitation(
        db, None, ctx.orgs["meadow"].id,
        {"email": ctx.people["oaks_lead"].email, "roles": ["training_lead"], "job_role": "deputy_manager"})
    joined = invitations.accept(db, ctx.people["oaks_lead"], invitation, actor=audit.Actor.system("demo data"))
    for m in joined:
        m.start_date = date(2022, 9, 1)  # she accepted it when the group took Meadow View on
    every_2025 = list(range(1, 17))
    for home in HOMES:
        org_id = ctx.orgs[home].id
        lead = ctx.people[f"{home}_lead"]
        # Training leads here are experienced seniors who also assess (deputy managers).
        services.create_membership(db, None, lead, org_id, {"role": "assessor", "job_role": "deputy_manager",
                                                            "start_date": date(2021, 4, 1)}, via="extended")
        db.flush()
        manager = as_[f"{home}_manager"]
        assessments.set_competence(db, manager, org_id, ctx.people[f"{home}_assessor"].id, "2025", every_2025,
                                   "Level 3 Diploma in Adult Care; trained in work-based assessment.")
        assessments.set_competence(db, manager, org_id, ctx.people[f"{home}_assessor"].id, "2015", range(1, 16),
                                   "Assessed the 2015 standards before the 2025 update.")
        assessments.set_competence(db, manager, org_id, lead.id, "2025", every_2025,
                                   "Deputy manager; Level 5 Diploma in Leadership for Health and Social Care.")


def _courses(db, ctx, as_) -> dict:
    admin = as_["scheme_admin"]
    c = {}
    c["safeguarding"] = catalog.create_course(db, admin, None, {
        "title": "Safeguarding adults", "description": "Recognising and reporting abuse and neglect; the Care "
        "Act 2014; making safeguarding personal. Ends with a short test.", "provider_kind": "in_house",
        "provider_name": "North Wessex Care Association", "delivery": "face_to_face", "hours": "3",
        "categories": [20], "cc_framework": "2025", "standards": [10], "validity_mode": "subject", "pass_mark": 80})
    c["induction"] = catalog.create_course(db, admin, None, {
        "title": "Care Certificate induction: duty of care, person-centred care, privacy and dignity",
        "provider_kind": "in_house", "provider_name": "North Wessex Care Association", "delivery": "blended",
        "hours": "6", "categories": [34, 22], "cc_framework": "2025", "standards": [3, 5, 7],
        "validity_mode": "none"})
    c["omt"] = catalog.create_course(db, admin, None, {
        "title": "Oliver McGowan Mandatory Training on learning disability and autism (Tier 1)",
        "provider_kind": "external", "provider_name": "Health Education England e-learning", "delivery": "blended",
        "hours": "3.5", "categories": [32, 42], "cc_framework": "2025", "standards": [16], "validity_mode": "none",
        "accredited": True})
    for key in ("safeguarding", "induction", "omt"):
        catalog.set_approval(db, admin, c[key].id, True)
    c["fire"] = catalog.create_course(db, as_["oaks_lead"], ctx.orgs["oaks"].id, {
        "title": "Fire safety and evacuation", "provider_kind": "in_house", "delivery": "face_to_face", "hours": "2",
        "categories": [6], "validity_mode": "subject"})
    c["moving"] = catalog.create_course(db, as_["riverside_lead"], ctx.orgs["riverside"].id, {
        "title": "Moving and assisting people (practical)", "provider_kind": "external",
        "provider_name": "Wessex Moving and Handling Ltd", "delivery": "face_to_face", "hours": "4",
        "categories": [15], "validity_mode": "months", "validity_months": 12, "accredited": True, "pass_mark": 70})
    c["food"] = catalog.create_course(db, as_["meadow_lead"], ctx.orgs["meadow"].id, {
        "title": "Food hygiene level 2 (e-learning)", "provider_kind": "external", "provider_name": "Food Safe Online",
        "delivery": "e_learning", "hours": "1.5", "categories": [8], "validity_mode": "months",
        "validity_months": 36, "pass_mark": 75})
    return c


def _slot(days: int, start=(9, 30), end=(12, 30)) -> dict:
    day = today() + timedelta(days=days)
    return {"date": day, "start_time": time(*start), "end_time": time(*end)}


def _sessions(db, ctx, as_, c) -> None:
    oaks, riverside, meadow = (ctx.orgs[h] for h in HOMES)
    lead = {h: as_[f"{h}_lead"] for h in HOMES}
    # Past, shared: Safeguarding at the Oaks with staff from two homes; register taken, tests marked.
    past = sessions.schedule(db, lead["oaks"], oaks.id, c["safeguarding"].id, {
        **_slot(-20), "venue": "The Oaks training room", "trainer_name": "Joan Pryce", "capacity": 10,
        "shared": True})
    people = ctx.workers["oaks"][8:12] + ctx.workers["riverside"][8:11]
    for p in people:
        home = "oaks" if p in ctx.workers["oaks"] else "riverside"
        bookings.book(db, lead[home], past.id, p.id, ctx.orgs[home].id)
    rows = bookings.bookings_for(db, past.id)
    marks = {b.id: ("absent" if i == len(rows) - 1 else "late" if i == 2 else "present") for i, b in enumerate(rows)}
    sessions.record_attendance(db, lead["oaks"], past.id, marks)
    scores = {b.id: (65 if i == 1 else 85 + i) for i, b in enumerate(rows) if marks[b.id] != "absent"}
    assessments.record_session_tests(db, lead["oaks"], past.id, scores)
    # Past: fire safety at the Oaks (no test: attendance completes it).
    fire = sessions.schedule(db, lead["oaks"], oaks.id, c["fire"].id, {**_slot(-9, (14, 0), (16, 0)),
                             "venue": "The Oaks lounge", "trainer_name": "Station Officer Dale", "capacity": 12})
    for p in ctx.workers["oaks"][:6]:
        bookings.book(db, lead["oaks"], fire.id, p.id, oaks.id)
    sessions.record_attendance(db, lead["oaks"], fire.id, {b.id: "present" for b in bookings.bookings_for(db, fire.id)})
    # Upcoming, shared and full, with a waiting list.
    full = sessions.schedule(db, lead["riverside"], riverside.id, c["safeguarding"].id, {
        **_slot(14), "venue": "Riverside Nursing Home, conference room", "trainer_name": "Joan Pryce", "capacity": 6,
        "shared": True, "notes": "Bring a pen. Parking at the rear."})
    for home, idx in (("riverside", range(0, 4)), ("meadow", range(0, 3)), ("oaks", range(12, 14))):
        for i in idx:
            bookings.book(db, lead[home], full.id, ctx.workers[home][i].id, ctx.orgs[home].id)
    # Upcoming: shared practical moving and assisting; Oliver McGowan with self-booking; in-house fire safety.
    moving = sessions.schedule(db, lead["riverside"], riverside.id, c["moving"].id, {
        **_slot(21, (9, 0), (13, 0)), "venue": "Riverside Nursing Home, gym", "trainer_name": "Wessex Moving and "
        "Handling Ltd", "capacity": 10, "shared": True})
    for p in ctx.workers["riverside"][11:14]:
        bookings.book(db, lead["riverside"], moving.id, p.id, riverside.id)
    bookings.book(db, lead["meadow"], moving.id, ctx.workers["meadow"][5].id, meadow.id)
    omt = sessions.schedule(db, lead["meadow"], meadow.id, c["omt"].id, {
        **_slot(30, (10, 0), (13, 30)), "venue": "Meadow View Care Home, dining room", "capacity": 16,
        "shared": True, "workers_may_book": True, "booking_deadline": today() + timedelta(days=27)})
    bookings.book(db, lead["meadow"], omt.id, ctx.workers["meadow"][4].id, meadow.id)
    sessions.schedule(db, lead["oaks"], oaks.id, c["fire"].id, {**_slot(7, (14, 0), (16, 0)),
                      "venue": "The Oaks lounge", "capacity": 12})
    sessions.schedule(db, lead["oaks"], oaks.id, c["induction"].id, {**_slot(10, (9, 0), (16, 0)),
                      "venue": "The Oaks training room", "capacity": 8, "shared": True, "workers_may_book": True})


def _care_certificate_states(db, ctx, as_) -> None:
    """Core demo: workers 0-3 complete (2025), 4 complete on 2015, 5-7 part way, 8-14 not started.
    Add evidence so every state appears: knowledge evidenced, practice observed (ready), in progress."""
    for home in HOMES:
        w = ctx.workers[home]
        assessor = as_[f"{home}_assessor"]
        ago = lambda d: today() - timedelta(days=d)  # noqa: E731

        def ev(person, number, kind, **kw):
            data = {"framework": "2025", "standard_number": number, "kind": kind, **kw}
            if kind == "observation":
                data.setdefault("setting", "On shift, morning personal care")
                data.setdefault("outcome", "passed")
            else:
                data.setdefault("method", "workbook")
                data.setdefault("workbook_decision", "accepted")
            assessments.record(db, assessor, person.id, data, ctx.orgs[home].id)

        # worker 5 (standards 1-10 signed off): 11 knowledge; 12 ready (knowledge + 2 observations); 13 returned
        ev(w[5], 11, "knowledge", assessed_on=ago(6))
        ev(w[5], 12, "knowledge", method="score", score=92, pass_mark=80, assessed_on=ago(9))
        ev(w[5], 12, "observation", assessed_on=ago(5), setting="Training room, adult CPR manikin")
        ev(w[5], 12, "observation", assessed_on=ago(2), setting="Training room, choking response")
        ev(w[5], 13, "knowledge", workbook_decision="returned", assessed_on=ago(3),
           return_reason="Section 13.6 (hazardous substances) is not finished; please complete the COSHH questions.")
        # worker 6 (1-11 signed off): 12 has knowledge and one of two observations
        ev(w[6], 12, "knowledge", assessed_on=ago(8))
        ev(w[6], 12, "observation", assessed_on=ago(4), setting="Training room, adult CPR manikin")
        # worker 8: 1 ready for sign-off, 2 knowledge evidenced, 3 in progress
        ev(w[8], 1, "knowledge", assessed_on=ago(12))
        ev(w[8], 1, "observation", assessed_on=ago(7), setting="Handover meeting and care planning")
        ev(w[8], 2, "knowledge", method="score", score=88, pass_mark=80, assessed_on=ago(10))
        ev(w[8], 3, "observation", outcome="not_yet", assessed_on=ago(3), setting="Lounge, responding to a complaint",
           notes="Needs to record the complaint in the log before the end of the shift.")
        # worker 9: in progress
        ev(w[9], 1, "knowledge", workbook_decision="returned", assessed_on=ago(4),
           return_reason="Answers to 1.3 need examples from your own work.")
    # The 2015 completer at the Oaks has started the 2025 standard 16 top-up.
    assessments.record(db, as_["oaks_assessor"], ctx.workers["oaks"][4].id, {
        "framework": "2025", "standard_number": 16, "kind": "knowledge", "method": "workbook",
        "workbook_decision": "accepted", "assessed_on": today() - timedelta(days=2)}, ctx.orgs["oaks"].id)
