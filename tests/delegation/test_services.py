"""Assessments, competencies, delegations, withdrawal and lapsing, against the real database."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from passport.audit import AuditEntry
from passport.core.timeutil import uk_today
from passport.delegation import queries, services
from passport.delegation.catalogue import get_task
from passport.delegation.models import Competency, Delegation
from passport.errors import Conflict, PermissionDenied, ValidationError
from passport.signals import competence_changed

TODAY = uk_today()


def assess(db, principal, w, person, task="dry_dressing", level="safe_unsupervised", observations=2, by=None, **kw):
    kw.setdefault("assessed_on", TODAY)
    return services.record_assessment(db, principal(by or w.nurse), home_id=w.home.id, worker_id=person.id,
                                      task_code=task, observations=observations, outcome="competent",
                                      level=level, **kw)


def delegate(db, principal, w, person, resident="Room 12 – R-0412", task="dry_dressing", **kw):
    data = dict(start_date=TODAY, review_date=TODAY + timedelta(days=90), instructions_ref="Care plan CP-12 v3",
                consent_recorded=True, consent_by="resident")
    data.update(kw)
    return services.create_delegation(db, principal(w.nurse), home_id=w.home.id, worker_id=person.id,
                                      task_code=task, resident_ref=resident, **data)


@pytest.fixture
def signals():
    got = []

    def handler(sender, **kw):
        got.append((sender, kw["task_code"], kw["change"]))

    competence_changed.connect(handler)
    yield got
    competence_changed.disconnect(handler)


def test_catalogue_seeded_from_reference_data(db):
    task = get_task(db, "dry_dressing")
    assert task.category_code == "skin_wound" and task.reassess_months == 12
    assert {(p.kind, p.ref) for p in task.prerequisites} == {("training", 10), ("standard", 13), ("standard", 15)}


def test_assessment_grants_competence_and_signal(db, world, principal, signals):
    a = assess(db, principal, world, world.worker)
    c = db.scalar(sa.select(Competency).where(Competency.assessment_id == a.id))
    assert c.level == "safe_unsupervised" and c.valid_until > TODAY
    assert signals == [(world.worker.id, "dry_dressing", "granted")]
    assert services.current_competencies_for_passport(db, world.worker.id) == [
        ("dry_dressing", "safe_unsupervised", c.valid_until)]
    actions = set(db.scalars(sa.select(AuditEntry.action)))
    assert {"delegation.assessment.record", "delegation.competency.grant"} <= actions


def test_unregistered_person_refused(db, world, principal):
    with pytest.raises(services.RefusedAction) as exc:
        assess(db, principal, world, world.worker, by=world.unregistered)
    assert exc.value.status == 403
    # a manager without a registration is refused too, even in their own home
    with pytest.raises(services.RefusedAction):
        assess(db, principal, world, world.worker, by=world.manager)


def test_professional_outside_scheme_refused(db, world, principal, make_org, make_person, confirm_registration):
    far_team = make_org(kind="community_nursing")
    far_nurse = make_person(far_team, "registered_professional", registration=("NMC", "22B2222B"))
    confirm_registration(far_nurse)  # confirmed, but their team is not in the home's scheme
    with pytest.raises(services.RefusedAction) as refused:
        assess(db, principal, world, world.worker, by=far_nurse)
    assert refused.value.code == "forbidden"


def test_token_for_other_role_carries_no_authority(db, world, principal):
    with pytest.raises(services.RefusedAction):
        assess(db, lambda p: principal(p, world.team.id, "worker"), world, world.worker)
    a = assess(db, lambda p: principal(p, world.team.id, "registered_professional"), world, world.worker)
    assert a.assessor_org_id == world.team.id


def test_assessment_refusals(db, world, principal):
    cases = [
        (dict(assessed_on=TODAY + timedelta(days=1)), "assessed_on"),
        (dict(observations=1), "observations"),  # safe unsupervised needs 2 observed practices
        (dict(valid_until=TODAY + timedelta(days=800)), "valid_until"),
        (dict(level="expert"), "level"),
    ]
    for kw, field in cases:
        with pytest.raises(ValidationError) as exc:
            assess(db, principal, world, world.worker, **kw)
        assert field in exc.value.fields, (kw, exc.value.fields)
    with pytest.raises(ValidationError) as exc:  # not a worker at the home
        services.record_assessment(db, principal(world.nurse), home_id=world.home.id, worker_id=world.manager.id,
                                   task_code="dry_dressing", assessed_on=TODAY, observations=2,
                                   outcome="competent", level="observed")
    assert "worker" in exc.value.fields


def test_observations_accumulate(db, world, principal):
    services.record_assessment(db, principal(world.nurse), home_id=world.home.id, worker_id=world.worker.id,
                               task_code="dry_dressing", assessed_on=TODAY, observations=1,
                               outcome="not_yet_competent")
    with pytest.raises(ValidationError):  # a "not yet competent" observation does not count towards it
        assess(db, principal, world, world.worker, observations=1)
    assess(db, principal, world, world.worker, level="supervised", observations=1)
    a = assess(db, principal, world, world.worker, observations=1)
    assert a.level == "safe_unsupervised"


def test_missing_prerequisite_refused_with_reason(db, world, principal, make_person):
    newbie = make_person(world.home, "worker")
    with pytest.raises(ValidationError) as exc:
        assess(db, principal, world, newbie)
    assert "Infection prevention and control" in exc.value.message
    assert "standard 13" in exc.value.message


def test_resident_specific_task_needs_resident(db, world, principal, actor):
    from tests.delegation.conftest import give_prerequisites

    give_prerequisites(db, world.worker, world.home, actor, categories=(29,), standards=())
    with pytest.raises(ValidationError) as exc:
        assess(db, principal, world, world.worker, task="blood_glucose", observations=3)
    assert "resident" in exc.value.fields
    assess(db, principal, world, world.worker, task="blood_glucose", observations=3,
           resident_id=world.rid("Room 3 – R-0103"))
    with pytest.raises(ValidationError) as exc:  # signed off for another resident only
        delegate(db, principal, world, world.worker, task="blood_glucose", resident="Room 4 – R-0104")
    assert "no in-date competence signed off" in exc.value.message
    d = delegate(db, principal, world, world.worker, task="blood_glucose", resident="Room 3 – R-0103")
    assert d.id


def test_resident_reference_must_not_be_identifying(db, world, principal):
    assess(db, principal, world, world.worker)
    for bad in ("943 476 5919", "12/03/1941", "<script>", "x" * 41):
        with pytest.raises(ValidationError) as exc:
            delegate(db, principal, world, world.worker, resident=bad)
        assert "resident" in exc.value.fields


def test_delegation_checks(db, world, principal):
    with pytest.raises(ValidationError) as exc:  # not competent at all
        delegate(db, principal, world, world.worker)
    assert "no in-date competence" in exc.value.message
    assess(db, principal, world, world.worker, level="supervised", observations=1)
    with pytest.raises(ValidationError) as exc:  # level too low
        delegate(db, principal, world, world.worker)
    assert "needs safe unsupervised" in exc.value.message
    assess(db, principal, world, world.worker, observations=1)
    bad = [
        (dict(review_date=TODAY - timedelta(days=1), start_date=TODAY), "review_date"),
        (dict(start_date=TODAY + timedelta(days=2)), "start_date"),
        (dict(consent_recorded=False), "consent_recorded"),
        (dict(instructions_ref="  "), "instructions_ref"),
        (dict(consent_by="nobody"), "consent_by"),
    ]
    for kw, field in bad:
        with pytest.raises(ValidationError) as exc:
            delegate(db, principal, world, world.worker, **kw)
        assert field in exc.value.fields, kw
    d = delegate(db, principal, world, world.worker)
    assert d.delegator_org_id == world.team.id
    with pytest.raises(Conflict):
        delegate(db, principal, world, world.worker)


def test_expired_competence_refused_and_lapses_at_read_time(db, world, principal):
    assess(db, principal, world, world.worker, assessed_on=TODAY - timedelta(days=200),
           valid_until=TODAY + timedelta(days=5))
    d = delegate(db, principal, world, world.worker, start_date=TODAY - timedelta(days=10))
    task = get_task(db, "dry_dressing")
    from datetime import datetime, time, timezone

    now = queries.who_can_do_it(db, world.home.id, task, resident=world.residents["Room 12 – R-0412"])
    assert [r.person_id for r in now] == [world.worker.id]
    later = datetime.combine(TODAY + timedelta(days=6), time(12), tzinfo=timezone.utc)
    assert queries.who_can_do_it(db, world.home.id, task, resident=world.rid(), at=later) == []
    assert queries.who_can_do_it(db, world.home.id, task, at=later) == []
    assert queries.delegation_status(d, TODAY + timedelta(days=6)) == "lapsed"


def test_expire_command_records_once_and_signals(db, world, principal, signals):
    a = assess(db, principal, world, world.worker, assessed_on=TODAY - timedelta(days=20),
               valid_until=TODAY + timedelta(days=1))
    d = delegate(db, principal, world, world.worker, start_date=TODAY - timedelta(days=5))
    signals.clear()
    assert services.expire_due(db, TODAY) == {"expired": 0, "lapsed": 0}
    assert services.expire_due(db, TODAY + timedelta(days=3)) == {"expired": 1, "lapsed": 1}
    assert services.expire_due(db, TODAY + timedelta(days=4)) == {"expired": 0, "lapsed": 0}
    assert signals == [(world.worker.id, "dry_dressing", "expired")]
    db.refresh(d)
    assert d.end_reason == "lapsed"
    assert a.id


def test_withdraw_delegation_and_competence(db, world, principal, signals):
    assess(db, principal, world, world.worker)
    d = delegate(db, principal, world, world.worker)
    with pytest.raises(ValidationError):
        services.withdraw_delegation(db, principal(world.nurse), d.id, "  ")
    with pytest.raises(services.RefusedAction):
        services.withdraw_delegation(db, principal(world.worker2), d.id, "no")
    services.withdraw_delegation(db, principal(world.nurse), d.id, "Resident's wound has healed")
    assert d.end_reason == "withdrawn"
    with pytest.raises(Conflict):
        services.withdraw_delegation(db, principal(world.nurse), d.id, "again")
    d2 = delegate(db, principal, world, world.worker)  # a new one may follow a withdrawal
    c = d2.competency
    services.withdraw_competency(db, principal(world.nurse), c.id, "Practice concerns raised")
    db.refresh(d2)
    assert d2.end_reason == "competence_ended"
    assert signals[-1] == (world.worker.id, "dry_dressing", "withdrawn")
    assert services.current_competencies_for_passport(db, world.worker.id) == []


def test_reassessment_moves_delegations(db, world, principal):
    assess(db, principal, world, world.worker)
    d = delegate(db, principal, world, world.worker)
    old = d.competency_id
    assess(db, principal, world, world.worker)
    db.refresh(d)
    assert d.ended_at is None and d.competency_id != old
    assert db.get(Competency, old).end_reason == "superseded"
    # reassessed as not yet competent: the competence and the delegation end
    services.record_assessment(db, principal(world.nurse), home_id=world.home.id, worker_id=world.worker.id,
                               task_code="dry_dressing", assessed_on=TODAY, observations=1,
                               outcome="not_yet_competent")
    db.refresh(d)
    assert d.end_reason == "competence_ended"


def test_decline_without_blame(db, world, principal):
    assess(db, principal, world, world.worker)
    d = delegate(db, principal, world, world.worker)
    decline = services.record_decline(db, principal(world.worker), home_id=world.home.id, worker_id=world.worker.id,
                                      task_code="dry_dressing", reason="Not confident since the new dressings")
    db.refresh(d)
    assert d.end_reason == "declined"
    task = get_task(db, "dry_dressing")
    assert queries.who_can_do_it(db, world.home.id, task) == []
    with pytest.raises(ValidationError) as exc:
        delegate(db, principal, world, world.worker)
    assert "declined" in exc.value.message
    with pytest.raises(PermissionDenied):
        services.withdraw_decline(db, principal(world.nurse), decline.id)
    services.withdraw_decline(db, principal(world.worker), decline.id)
    assert [r.person_id for r in queries.who_can_do_it(db, world.home.id, task)] == [world.worker.id]
    with pytest.raises(PermissionDenied):  # a colleague cannot decline for someone else
        services.record_decline(db, principal(world.worker2), home_id=world.home.id, worker_id=world.worker.id,
                                task_code="dry_dressing")


def test_acknowledgement_only_by_worker(db, world, principal):
    a = assess(db, principal, world, world.worker)
    with pytest.raises(PermissionDenied):
        services.acknowledge_assessment(db, principal(world.nurse), a.id)
    services.acknowledge_assessment(db, principal(world.worker), a.id)
    assert a.worker_acknowledged_at is not None


def test_nurse_in_the_home_itself_counts(db, world, principal, make_person, confirm_registration):
    home_nurse = make_person(world.home, ["registered_professional"], registration=("NMC", "15C5678F"))
    with pytest.raises(services.RefusedAction) as refused:  # a PIN on record is not enough: confirmed outside
        services.record_assessment(db, principal(home_nurse), home_id=world.home.id, worker_id=world.worker.id,
                                   task_code="dry_dressing", assessed_on=TODAY, observations=2,
                                   outcome="competent", level="safe_unsupervised")
    assert refused.value.code == "registration_not_confirmed"
    confirm_registration(home_nurse)
    a = services.record_assessment(db, principal(home_nurse), home_id=world.home.id, worker_id=world.worker.id,
                                   task_code="dry_dressing", assessed_on=TODAY, observations=2,
                                   outcome="competent", level="safe_unsupervised")
    assert a.assessor_org_id == world.home.id
    # but their authority does not reach another home of the scheme
    with pytest.raises(services.RefusedAction):
        services.record_assessment(db, principal(home_nurse), home_id=world.other_home.id,
                                   worker_id=world.worker.id, task_code="dry_dressing", assessed_on=TODAY,
                                   observations=2, outcome="competent", level="safe_unsupervised")


def test_visibility_follows_open_delegation(db, world, principal):
    from passport.core.access import org_can_see_person

    assert not org_can_see_person(db, world.team.id, world.worker.id)
    assess(db, principal, world, world.worker)
    d = delegate(db, principal, world, world.worker)
    assert org_can_see_person(db, world.team.id, world.worker.id)
    services.withdraw_delegation(db, principal(world.nurse), d.id, "Finished")
    assert not org_can_see_person(db, world.team.id, world.worker.id)


def test_passport_list_order_and_limit(db, world, principal, actor):
    from tests.delegation.conftest import give_prerequisites

    give_prerequisites(db, world.worker, world.home, actor, categories=(13, 16, 29, 31, 33), standards=(7, 8, 9))
    assess(db, principal, world, world.worker, level="supervised", observations=1)
    codes = ["pressure_area_care", "physiological_observations", "specimen_collection"]
    for code in codes:
        assess(db, principal, world, world.worker, task=code, observations=3)
    for code in ["insulin_pen", "blood_glucose", "stoma_care", "catheter_care", "eye_drops", "nebuliser"]:
        assess(db, principal, world, world.worker, task=code, observations=3, resident_ref="Room 1 – R-0001")
    got = services.current_competencies_for_passport(db, world.worker.id)
    assert len(got) == 8
    assert all(level == "safe_unsupervised" for _c, level, _u in got)
    assert "dry_dressing" not in [c for c, _l, _u in got]


def test_open_delegation_unique_in_database(db, world, principal):
    assess(db, principal, world, world.worker)
    d = delegate(db, principal, world, world.worker)
    twin = Delegation(task_id=d.task_id, worker_id=d.worker_id, org_id=d.org_id, resident_id=d.resident_id,
                      delegated_by_id=d.delegated_by_id, delegator_org_id=d.delegator_org_id,
                      competency_id=d.competency_id, start_date=d.start_date, review_date=d.review_date,
                      instructions_ref="x", consent_recorded=True, consent_by="resident")
    with pytest.raises(sa.exc.IntegrityError):
        with db.begin_nested():
            db.add(twin)
