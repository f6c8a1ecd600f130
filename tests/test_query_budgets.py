"""How many SQL statements each main page runs, and that the number does not grow with the home.

Each page is measured twice: for a small home and for a larger one (more workers, more records, more
passport checks). The counts must be equal and within the page's budget. A page that starts loading
something per person or per row fails here long before it is slow in production.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import timedelta

from flask import url_for
from sqlalchemy import event

from passport import audit, db as dbm
from passport.certificates import keys as keyring, services as certificates
from passport.core import records
from passport.core.models import Scheme, SchemeMember
from passport.core.timeutil import uk_today
from passport.delegation import services as delegation
from passport.verify.models import VerificationCheck

SMALL, LARGE = 3, 12
TODAY = uk_today()

# Statements per page, measured after a first (warming) request. Lower them when a page gets cheaper.
# Before the per-request membership cache and eager loading: 12, 10, 18-27, 16, 11, 18, 18-23.
BUDGETS = {  # with every plugin installed (companion and inspection add their dashboard sections)
    "dashboard (manager)": 14,
    "dashboard (worker)": 9,
    "my passport": 17,
    "training matrix": 16,
    "who can do it": 14,
    "person's training": 19,
    "person's page": 16,
}


@contextmanager
def counting(engine):
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip()[:9].upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def build_home(db, make_org, make_person, app, workers: int, *, prefix: str) -> dict:
    """A care home in a scheme with a manager, ``workers`` trained workers (more records each in a bigger
    home), a nurse from a community
    team who has assessed them for a delegated task, and a passport for the first worker that has been
    checked once by each of ``workers`` other organisations."""
    actor = audit.Actor.system("tests")
    home = make_org(f"{prefix} Home")
    team = make_org(f"{prefix} Nursing Team", "community_nursing")
    scheme = Scheme(name=f"{prefix} Scheme", cc_version="2025")
    db.add(scheme)
    db.flush()
    for org in (home, team):
        db.add(SchemeMember(scheme_id=scheme.id, org_id=org.id))
    manager = make_person(home, ["registered_manager", "org_admin", "training_lead"], given_name="Mandy",
                          job_role="registered_manager")
    nurse = make_person(team, "registered_professional", given_name="Helen", registration=("NMC", f"10A{workers:04d}E"),
                        job_role="nurse")
    from tests.conftest import add_confirmation
    add_confirmation(db, nurse)
    staff = [make_person(home, "worker", given_name=f"Worker{i}") for i in range(workers)]
    done = TODAY - timedelta(days=30)
    for w in staff:
        for code in (10, 15, 1, 2, 5, 6, 7, 8, 9, 11, 12)[:workers // 2 + 2]:
            records.add_training_record(db, None, person_id=w.id, org_id=home.id, category_code=code,
                                        completed_on=done, source="manual", actor=actor)
        for n in range(1, 17):
            records.record_achievement(db, None, person_id=w.id, org_id=home.id, framework="2025",
                                       standard_number=n, met_on=done, source="assessment", actor=actor)
        delegation.record_assessment(db, _p(nurse),
                                     home_id=home.id, worker_id=w.id, task_code="dry_dressing", assessed_on=TODAY,
                                     observations=2, outcome="competent", level="safe_unsupervised")
    cfg = app.config
    if keyring.current_key(db, "passport") is None:
        keyring.rotate_key(db, cfg["KEY_DIR"], "passport", actor=actor)
    passport = certificates.issue_passport(db, None, staff[0].id, home.id, key_dir=cfg["KEY_DIR"],
                                           public_url=cfg["PUBLIC_URL"], actor=actor)
    from passport.verify.services import passport_ref

    ref = passport_ref(cfg["PUBLIC_URL"], passport.jti)
    for i in range(workers):
        checker = make_org(f"{prefix} Checker {i}")
        db.add(VerificationCheck(passport_ref=ref, result="valid", channel="api", org_id=checker.id,
                                 at=dbm.utcnow()))
    db.flush()
    return {"home": home, "manager": manager, "worker": staff[0], "staff": staff}


def _p(person):
    from passport.core.access import Principal

    return Principal(person=person)


def pages(app, h) -> dict[str, tuple]:
    home, manager, worker = h["home"], h["manager"], h["worker"]
    with app.test_request_context():
        return {
            "dashboard (manager)": (manager, url_for("core.index")),
            "dashboard (worker)": (worker, url_for("core.index")),
            "my passport": (worker, url_for("certificates.my_passport")),
            "training matrix": (manager, url_for("courses.matrix", org_id=home.id)),
            "who can do it": (manager, url_for("delegation.home", home_id=home.id, task="dry_dressing")),
            "person's training": (manager, url_for("courses.care_certificate", person_id=worker.id)),
                "person's page": (manager, url_for("admin.person", person_id=worker.id)),
        }


def measure(app, db, client, login, h) -> dict[str, int]:
    engine = dbm.get_engine(app)
    counts = {}
    for name, (who, url) in pages(app, h).items():
        login(client, who)
        first = client.get(url)
        assert first.status_code == 200, (name, url, first.status_code)
        db.commit()
        db.expunge_all()  # each request starts with an empty session, as it does in production
        with counting(engine) as seen:
            resp = client.get(url)
        assert resp.status_code == 200, (name, url)
        counts[name] = len(seen)
        if os.environ.get("SHOW_STATEMENTS"):
            print(f"\n--- {name} ({len(seen)})\n" + "\n".join(" ".join(x.split())[:200] for x in seen))
    return counts


def test_page_statement_counts_do_not_grow_with_the_home(app, db, client, login, make_org, make_person):
    small = build_home(db, make_org, make_person, app, SMALL, prefix="Small")
    large = build_home(db, make_org, make_person, app, LARGE, prefix="Large")
    got_small = measure(app, db, client, login, small)
    got_large = measure(app, db, client, login, large)
    print("\nstatements per page (small, large):",
          {k: (got_small[k], got_large[k]) for k in got_small})
    assert got_small == got_large
    for name, n in got_large.items():
        assert n <= BUDGETS[name], f"{name}: {n} statements, budget {BUDGETS[name]}"
