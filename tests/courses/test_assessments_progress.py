"""Assessments, assessor eligibility, Care Certificate progress states, sign-off, and the 2015 -> 2025 gap."""
import pytest

from passport.core import records
from passport.core.models import StandardAchievement
from passport.courses import assessments, bookings, catalog, progress, sessions
from passport.errors import Conflict, PermissionDenied, ValidationError
from passport.signals import care_certificate_changed
from tests.courses.conftest import d, slot

WORKBOOK = {"framework": "2025", "kind": "knowledge", "method": "workbook", "workbook_decision": "accepted"}
OBSERVED = {"framework": "2025", "kind": "observation", "setting": "Lounge, lunchtime", "outcome": "passed"}


def state(db, person, number, framework="2025"):
    p = progress.progress(db, person.id, framework)
    return next(s for s in p["standards"] if s.number == number).state


def test_only_eligible_assessors_record(db, world, competent):
    worker = world.workers[0]
    assessments.set_competence(db, world.p(world.manager), world.home.id, world.assessor.id, "2025", [1])
    a = assessments.record(db, world.p(world.assessor), worker.id, {**WORKBOOK, "standard_number": 1})
    assert (a.assessor_id, a.assessor_basis, a.outcome) == (world.assessor.id, "assessor_competent", "passed")
    with pytest.raises(PermissionDenied):  # no longer competent in standard 2
        assessments.record(db, world.p(world.assessor), worker.id, {**WORKBOOK, "standard_number": 2})
    with pytest.raises(PermissionDenied):  # a training lead is not an assessor
        assessments.record(db, world.p(world.lead), worker.id, {**WORKBOOK, "standard_number": 1})
    with pytest.raises(PermissionDenied):  # an assessor elsewhere
        assessments.record(db, world.p(world.other_lead), worker.id, {**WORKBOOK, "standard_number": 1})
    with pytest.raises(PermissionDenied):  # nobody assesses themself
        assessments.record(db, world.p(world.assessor), world.assessor.id, {**WORKBOOK, "standard_number": 1})
    nurse = assessments.record(db, world.p(world.nurse), worker.id, {**OBSERVED, "standard_number": 7})
    assert nurse.assessor_basis == "registered_professional"


def test_assessment_validation(db, world, competent):
    worker = world.workers[0]
    bad = [({**WORKBOOK, "standard_number": 17}, "standard_number"),
           ({**WORKBOOK, "standard_number": 1, "workbook_decision": "returned"}, "return_reason"),
           ({"framework": "2025", "standard_number": 1, "kind": "knowledge", "method": "score", "score": 120,
             "pass_mark": 80}, "score"),
           ({**OBSERVED, "standard_number": 1, "setting": ""}, "setting"),
           ({**OBSERVED, "standard_number": 1, "outcome": "maybe"}, "outcome"),
           ({**WORKBOOK, "standard_number": 1, "assessed_on": d(-3)}, "assessed_on"),
           ({**WORKBOOK}, "standard_number")]
    for data, field in bad:
        with pytest.raises(ValidationError) as exc:
            assessments.record(db, world.p(world.assessor), worker.id, data)
        assert field in exc.value.fields, (data, exc.value.fields)
    returned = assessments.record(db, world.p(world.assessor), worker.id, {
        **WORKBOOK, "standard_number": 1, "workbook_decision": "returned", "return_reason": "Finish 1.3"})
    assert returned.outcome == "not_yet" and returned.return_reason == "Finish 1.3"
    score = assessments.record(db, world.p(world.assessor), worker.id, {
        "framework": "2025", "standard_number": 2, "kind": "knowledge", "method": "score", "score": 79, "pass_mark": 80})
    assert score.outcome == "not_yet"


def test_states_move_from_not_started_to_signed_off(db, world, competent):
    worker = world.workers[1]
    assert state(db, worker, 5) == "not_started"
    assessments.record(db, world.p(world.assessor), worker.id, {**WORKBOOK, "standard_number": 5,
                                                                "workbook_decision": "returned", "return_reason": "x"})
    assert state(db, worker, 5) == "in_progress"
    assessments.record(db, world.p(world.assessor), worker.id, {**WORKBOOK, "standard_number": 5})
    assert state(db, worker, 5) == "knowledge"
    with pytest.raises(ValidationError):  # not ready
        progress.sign_off(db, world.p(world.manager), worker.id, "2025", 5, declared=True)
    assessments.record(db, world.p(world.assessor), worker.id, {**OBSERVED, "standard_number": 5})
    assert state(db, worker, 5) == "practice"
    # standard 12 (basic life support) needs two observations
    assessments.record(db, world.p(world.assessor), worker.id, {**WORKBOOK, "standard_number": 12})
    assessments.record(db, world.p(world.assessor), worker.id, {**OBSERVED, "standard_number": 12})
    assert state(db, worker, 12) == "knowledge"
    assessments.record(db, world.p(world.assessor), worker.id, {**OBSERVED, "standard_number": 12})
    assert state(db, worker, 12) == "practice"
    with pytest.raises(PermissionDenied):  # sign-off is the registered manager's
        progress.sign_off(db, world.p(world.lead), worker.id, "2025", 5, declared=True)
    with pytest.raises(PermissionDenied):
        progress.sign_off(db, world.p(world.assessor), worker.id, "2025", 5, declared=True)
    seen = []

    def listen(sender, **kw):
        seen.append((sender, kw["framework"]))

    with care_certificate_changed.connected_to(listen):
        ach = progress.sign_off(db, world.p(world.manager), worker.id, "2025", 5, declared=True)
    assert seen == [(worker.id, "2025")]
    assert isinstance(ach, StandardAchievement) and ach.signed_off_by_id == world.manager.id
    assert ach.source == "assessment" and "Workbook accepted" in ach.evidence and "Practice observed" in ach.evidence
    assert state(db, worker, 5) == "signed_off"
    with pytest.raises(Conflict):
        progress.sign_off(db, world.p(world.manager), worker.id, "2025", 5, declared=True)


def test_certificate_complete_when_every_standard_signed_off(db, world, competent):
    worker = world.workers[2]
    for n in range(1, 17):
        assessments.record(db, world.p(world.assessor), worker.id, {**WORKBOOK, "standard_number": n})
        for _ in range(progress.OBSERVATIONS_REQUIRED.get(n, 1)):
            assessments.record(db, world.p(world.assessor), worker.id, {**OBSERVED, "standard_number": n})
        progress.sign_off(db, world.p(world.manager), worker.id, "2025", n, declared=True)
    p = progress.progress(db, worker.id)
    assert p["complete"] and p["signed_off"] == 16 and p["awarded_on"] is not None


def test_2015_completer_sees_the_standard_16_gap_and_tops_up(db, world, competent, actor):
    worker = world.workers[3]
    for n in range(1, 16):
        records.record_achievement(db, None, person_id=worker.id, org_id=world.home.id, framework="2015",
                                   standard_number=n, met_on=d(400), source="assessment", actor=actor)
    p = progress.progress(db, worker.id)
    assert p["framework"] == "2015" and p["complete"]
    assert p["gap"] is not None and p["gap"].number == 16 and p["gap"].state == "not_started"
    assessments.record(db, world.p(world.assessor), worker.id, {**WORKBOOK, "standard_number": 16})
    assessments.record(db, world.p(world.assessor), worker.id, {**OBSERVED, "standard_number": 16})
    assert progress.progress(db, worker.id)["gap"].state == "practice"
    progress.sign_off(db, world.p(world.manager), worker.id, "2025", 16, declared=True)
    assert progress.progress(db, worker.id)["gap"].state == "signed_off"
    assert progress.progress_json(progress.progress(db, worker.id))["gap_2025_standard_16"]["state"] == "signed_off"


def test_course_test_counts_as_knowledge_for_the_standards_it_covers(db, world, competent):
    course = catalog.create_course(db, world.p(world.lead), world.home.id, {
        "title": "Safeguarding", "provider_kind": "in_house", "delivery": "face_to_face", "hours": 3,
        "categories": [20], "cc_framework": "2025", "standards": [10], "pass_mark": 80})
    s = sessions.schedule(db, world.p(world.lead), world.home.id, course.id, slot(days=0))
    b = [bookings.book(db, world.p(world.lead), s.id, w.id, world.home.id) for w in world.workers[:2]]
    result = sessions.record_attendance(db, world.p(world.lead), s.id, {b[0].id: "present", b[1].id: "present"})
    assert result["records"] == []  # the course has a test: attendance alone does not complete it
    with pytest.raises(PermissionDenied):  # the lead is not an assessor competent in standard 10
        assessments.record_session_tests(db, world.p(world.lead), s.id, {b[0].id: 90})
    with pytest.raises(ValidationError):
        assessments.record_session_tests(db, world.p(world.assessor), s.id, {b[0].id: 101})
    assessments.record_session_tests(db, world.p(world.assessor), s.id, {b[0].id: 90, b[1].id: 60})
    assert b[0].completed_on is not None and b[1].completed_on is None
    assert state(db, world.workers[0], 10) == "knowledge"
    assert state(db, world.workers[1], 10) == "in_progress"


def test_competence_rules(db, world):
    with pytest.raises(PermissionDenied):  # assessors cannot make themselves competent
        assessments.set_competence(db, world.p(world.assessor), world.home.id, world.assessor.id, "2025", [1])
    with pytest.raises(PermissionDenied):
        assessments.set_competence(db, world.p(world.other_lead), world.home.id, world.assessor.id, "2025", [1])
    with pytest.raises(ValidationError):  # only people with the assessor role
        assessments.set_competence(db, world.p(world.manager), world.home.id, world.workers[0].id, "2025", [1])
    with pytest.raises(ValidationError):
        assessments.set_competence(db, world.p(world.manager), world.home.id, world.assessor.id, "2015", [16])
    assessments.set_competence(db, world.p(world.lead), world.home.id, world.assessor.id, "2025", [1, 2, 3])
    assessments.set_competence(db, world.p(world.lead), world.home.id, world.assessor.id, "2025", [2])
    assert assessments.competences(db, world.home.id) == {world.assessor.id: {"2025": [2]}}


def test_passed_subject_assessment_adds_a_ledger_record(db, world, competent):
    import sqlalchemy as sa

    from passport.core.models import TrainingRecord

    a = assessments.record(db, world.p(world.assessor), world.workers[0].id, {
        "kind": "observation", "category_code": 13, "setting": "Morning medication round", "outcome": "passed"})
    rec = db.scalar(sa.select(TrainingRecord).where(TrainingRecord.source_ref == f"courses:assessment:{a.id}"))
    assert rec.source == "assessment" and rec.category_code == 13 and rec.expires_on is not None
    assessments.record(db, world.p(world.assessor), world.workers[1].id, {
        "kind": "observation", "category_code": 13, "setting": "Round", "outcome": "not_yet"})
    assert db.scalar(sa.select(sa.func.count()).select_from(TrainingRecord).where(
        TrainingRecord.person_id == world.workers[1].id, TrainingRecord.source == "assessment")) == 0


def test_sign_off_needs_the_declaration_and_stores_the_evidence(db, world, competent):
    worker = world.workers[1]
    assessments.record(db, world.p(world.assessor), worker.id, {**WORKBOOK, "standard_number": 6})
    assessments.record(db, world.p(world.assessor), worker.id, {**OBSERVED, "standard_number": 6})
    with pytest.raises(ValidationError) as exc:
        progress.sign_off(db, world.p(world.manager), worker.id, "2025", 6)
    assert "declaration" in exc.value.fields and state(db, worker, 6) == "practice"
    ach = progress.sign_off(db, world.p(world.manager), worker.id, "2025", 6, declared=True)
    assert ach.evidence.startswith("Workbook accepted on ") and progress.DECLARATION in ach.evidence
    item = progress.standard_progress(db, worker.id, "2025", 6)
    assert [a.method for a in progress.sign_off_evidence(item)] == ["workbook", "observation"]


def test_framework_comes_from_the_certificate_not_the_latest_record(db, world, competent, actor):
    """A worker with a complete 2025 certificate stays on 2025 however many stray 2015 records follow."""
    worker = world.workers[0]
    for n in range(1, 17):
        records.record_achievement(db, None, person_id=worker.id, org_id=world.home.id, framework="2025",
                                   standard_number=n, met_on=d(30), source="assessment", actor=actor)
    assessments.set_competence(db, world.p(world.manager), world.home.id, world.assessor.id, "2015", [3])
    assessments.record(db, world.p(world.assessor), worker.id, {**WORKBOOK, "framework": "2015", "standard_number": 3})
    p = progress.progress(db, worker.id)
    assert (p["framework"], p["signed_off"], p["total"], p["complete"]) == ("2025", 16, 16, True)
    # in progress: the version with the most standards signed off decides, not the latest assessment
    other = world.workers[1]
    for n in (1, 2):
        records.record_achievement(db, None, person_id=other.id, org_id=world.home.id, framework="2025",
                                   standard_number=n, met_on=d(10), source="assessment", actor=actor)
    assessments.record(db, world.p(world.assessor), other.id, {**WORKBOOK, "framework": "2015", "standard_number": 3})
    assert progress.framework_for(db, other.id) == "2025"
    # someone working only on the 2015 standards stays on 2015
    third = world.workers[2]
    assessments.record(db, world.p(world.assessor), third.id, {**WORKBOOK, "framework": "2015", "standard_number": 3})
    assert progress.framework_for(db, third.id) == "2015"


def test_a_standard_signed_off_elsewhere_says_so_instead_of_none(client, db, world, login, actor):
    worker = world.workers[0]
    records.record_achievement(db, None, person_id=worker.id, org_id=world.home.id, framework="2025",
                               standard_number=1, met_on=d(30), source="passport", actor=actor)
    login(client, world.manager)
    page = client.get(f"/courses/people/{worker.id}/care-certificate").get_data(as_text=True)
    row = page[page.index('id="standard-2025-1"'):page.index('id="standard-2025-2"')]
    assert "Signed off" in row and "Knowledge: none" not in row and "0 of 1 observation" not in row
    assert "No assessment evidence is recorded here" in row
