"""Delegation on its own (PLUGINS = delegation only, so no courses plugin) on a fresh database of the
same kind as the suite's (SQLite file or a new PostgreSQL database), and real concurrency: a withdrawal
racing a new delegation, and a competence withdrawal racing a delegation, from two connections."""
from __future__ import annotations

import os
import threading
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from passport import create_app, db as dbm
from passport.audit import Actor
from passport.core.access import Principal
from passport.core.models import (
    Membership, Organisation, Person, Scheme, SchemeMember, StandardAchievement, User,
)
from passport.core.timeutil import uk_today
from passport.delegation import services
from passport.delegation.catalogue import get_task
from passport.delegation.models import Assessment, Competency, Delegation, Resident
from passport.delegation.residents import normalise
from passport.errors import Conflict
from tests.conftest import add_confirmation

TODAY = uk_today()
RESIDENT = "Room 7 – R-0707"


@pytest.fixture(scope="module")
def solo_app(tmp_path_factory):
    """An app with only the delegation plugin, migrated from scratch on its own database."""
    from passport.cli import upgrade

    base = os.environ.get("PASSPORT_TEST_DATABASE_URL")
    admin = None
    if base:
        name = "deleg_" + uuid.uuid4().hex[:10]
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = base.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('solo')}/solo.sqlite"
    app = create_app({"TESTING": True, "SECRET_KEY": "solo-secret-" + "z" * 32, "DATABASE_URL": url,
                      "PLUGINS": ["delegation"], "PUBLIC_URL": "https://solo.test"})
    upgrade(app)
    yield app
    dbm.get_engine(app).dispose()
    if admin is not None:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _session(app):
    return dbm.Session(bind=dbm.get_engine(app))


def _build(app) -> dict:
    """Committed data: a home and a nursing team in a scheme, a nurse, a worker with an in-date
    competence for a dry dressing (rows inserted directly, as a factory would) and the prerequisites."""
    from passport.core import records

    with app.app_context():
        s = _session(app)
        n = uuid.uuid4().hex[:6]
        home = Organisation(name=f"Solo Home {n}", kind="care_home")
        team = Organisation(name=f"Solo Team {n}", kind="community_nursing")
        s.add_all([home, team])
        s.flush()
        scheme = Scheme(name=f"Solo Scheme {n}")
        s.add(scheme)
        s.flush()
        s.add_all([SchemeMember(scheme_id=scheme.id, org_id=home.id), SchemeMember(scheme_id=scheme.id, org_id=team.id)])
        pin = f"{int(n, 16) % 100:02d}A{int(n, 16) // 100 % 10000:04d}E"
        nurse = Person(given_name="Nina", family_name=f"Nurse{n}", email=f"nina{n}@example.test",
                       registration_body="NMC", registration_pin=pin)
        worker = Person(given_name="Wes", family_name=f"Worker{n}", email=f"wes{n}@example.test")
        s.add_all([nurse, worker])
        s.flush()
        s.add_all([Membership(person_id=nurse.id, org_id=team.id, role="registered_professional",
                              start_date=TODAY - timedelta(days=400)),
                   Membership(person_id=worker.id, org_id=home.id, role="worker", start_date=TODAY - timedelta(days=400)),
                   User(person_id=nurse.id, password_hash="x")])
        s.flush()
        add_confirmation(s, nurse, org_id=team.id)
        records.add_training_record(s, None, person_id=worker.id, org_id=home.id, category_code=10,
                                    completed_on=TODAY - timedelta(days=10), source="manual",
                                    actor=Actor.system("tests"))
        for std in (13, 15):
            s.add(StandardAchievement(person_id=worker.id, org_id=home.id, framework="2025", standard_number=std,
                                      met_on=TODAY - timedelta(days=10), source="manual"))
        task = get_task(s, "dry_dressing")
        a = Assessment(task_id=task.id, worker_id=worker.id, org_id=home.id, assessor_id=nurse.id,
                       assessor_org_id=team.id, assessed_on=TODAY - timedelta(days=5), observations=2,
                       outcome="competent", level="safe_unsupervised", valid_until=TODAY + timedelta(days=300))
        s.add(a)
        s.flush()
        c = Competency(assessment_id=a.id, task_id=task.id, worker_id=worker.id, org_id=home.id,
                       level="safe_unsupervised", valid_from=a.assessed_on, valid_until=a.valid_until,
                       granted_by_id=nurse.id)
        resident = Resident(org_id=home.id, local_id="R-0707", label=RESIDENT, search_key=normalise(RESIDENT))
        s.add_all([c, resident])
        s.commit()
        ids = {"home": home.id, "team": team.id, "nurse": nurse.id, "worker": worker.id, "competency": c.id,
               "task": task.id, "resident": resident.id}
        s.close()
        return ids


def _delegate(s, ids):
    nurse = s.get(Person, ids["nurse"])
    return services.create_delegation(
        s, Principal(person=nurse), home_id=ids["home"], worker_id=ids["worker"], task_code="dry_dressing",
        resident_id=ids["resident"], start_date=TODAY, review_date=TODAY + timedelta(days=30),
        instructions_ref="CP-7", consent_recorded=True, consent_by="resident")


def _race(app, first, second):
    """Run two callables, each in its own session and transaction, released together."""
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def run(i, fn):
        with app.app_context():
            s = _session(app)
            try:
                barrier.wait(timeout=10)
                fn(s)
                s.commit()
                results[i] = "ok"
            except Conflict:
                s.rollback()
                results[i] = "conflict"
            except Exception as exc:  # anything else is a failure of the test
                s.rollback()
                results[i] = repr(exc)
            finally:
                s.close()

    threads = [threading.Thread(target=run, args=(0, first)), threading.Thread(target=run, args=(1, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def _open(app, ids):
    with app.app_context():
        s = _session(app)
        rows = list(s.scalars(sa.select(Delegation).where(
            Delegation.worker_id == ids["worker"], Delegation.resident_id == ids["resident"],
            Delegation.ended_at.is_(None))))
        s.close()
        return rows


def test_withdrawal_racing_new_delegation_stays_consistent(solo_app):
    ids = _build(solo_app)
    for _round in range(6):
        if not _open(solo_app, ids):
            with solo_app.app_context():
                s = _session(solo_app)
                _delegate(s, ids)
                s.commit()
                s.close()
        current = _open(solo_app, ids)[0].id

        def withdraw(s, did=current):
            services.withdraw_delegation(s, Principal(person=s.get(Person, ids["nurse"])), did, "Plan changed")

        results = _race(solo_app, withdraw, lambda s: _delegate(s, ids))
        assert results[0] == "ok", results
        assert results[1] in ("ok", "conflict"), results
        still_open = _open(solo_app, ids)
        # the withdrawn one is closed; the new one exists only if it did not conflict; never two open
        assert current not in [d.id for d in still_open]
        assert len(still_open) == (1 if results[1] == "ok" else 0)


def test_competence_withdrawal_racing_delegation_leaves_none_on_ended_competence(solo_app):
    ids = _build(solo_app)

    def withdraw_competence(s):
        services.withdraw_competency(s, Principal(person=s.get(Person, ids["nurse"])), ids["competency"],
                                     "Practice concerns")

    results = _race(solo_app, withdraw_competence, lambda s: _delegate(s, ids))
    assert results[0] == "ok", results
    assert results[1] in ("ok", "conflict") or "ValidationError" in results[1], results
    assert _open(solo_app, ids) == []  # either refused, or created then ended with the competence


def test_app_runs_without_courses_plugin(solo_app):
    from passport.plugins import enabled

    assert not enabled(solo_app, "courses") and enabled(solo_app, "delegation")
    ids = _build(solo_app)
    client = solo_app.test_client()
    with solo_app.app_context():
        s = _session(solo_app)
        user = s.scalar(sa.select(User).where(User.person_id == ids["nurse"]))
        uid = user.get_id()
        s.close()
    with client.session_transaction() as sess:
        sess["_user_id"] = uid
        sess["_fresh"] = True
    page = client.get(f"/delegation/homes/{ids['home']}?task=dry_dressing")
    assert page.status_code == 200 and "Wes Worker" in page.get_data(as_text=True)
    assert client.get(f"/delegation/homes/{ids['home']}/workers/{ids['worker']}").status_code == 200
    assert client.get(f"/delegation/homes/{ids['home']}/register").status_code == 200
    assert client.get("/delegation/tasks").status_code == 200
    assert client.get("/").status_code == 200
