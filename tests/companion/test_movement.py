"""Workforce movement: joiners, leavers, turnover, moves inside the scheme, origins, training re-use, time to a
complete Care Certificate, charts, CSV, and suppression of counts under 5 across organisations."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from passport.companion import workforce
from passport.core import records
from passport.core.access import today
from passport.core.models import Membership, Person
from passport.errors import NotFound, PermissionDenied, ValidationError
from passport.verify import movement as mv
from tests.companion.conftest import P


@pytest.fixture
def moves(db, make_org, make_person, actor):
    """Three homes. In the last year: 6 people moved A -> B, 2 moved A -> C, 3 left A and the scheme, 4 new
    people joined C. Each home also has 10 long-standing staff."""
    a, b, c = make_org("Alder House"), make_org("Beech Court"), make_org("Cedar Lodge")
    t = today()
    for org in (a, b, c):
        for _ in range(10):
            make_person(org, "worker", start_date=t - timedelta(days=900), account=False)

    def person(n):
        p = Person(given_name="M", family_name=f"Mover{n}")
        db.add(p)
        db.flush()
        return p

    n = 0
    for dst, count in ((b, 6), (c, 2)):
        for i in range(count):
            n += 1
            p = person(n)
            left = t - timedelta(days=100 + i)
            db.add(Membership(person_id=p.id, org_id=a.id, role="worker", start_date=t - timedelta(days=800), end_date=left))
            db.add(Membership(person_id=p.id, org_id=dst.id, role="worker", start_date=left + timedelta(days=5)))
    for i in range(3):
        n += 1
        p = person(n)
        db.add(Membership(person_id=p.id, org_id=a.id, role="worker", start_date=t - timedelta(days=800),
                          end_date=t - timedelta(days=50 + i)))
    for i in range(4):
        n += 1
        p = person(n)
        db.add(Membership(person_id=p.id, org_id=c.id, role="worker", start_date=t - timedelta(days=60 + i)))
        if i == 0:  # completes the Care Certificate 30 days after starting
            for num in range(1, 17):
                records.record_achievement(db, None, person_id=p.id, org_id=c.id, framework="2025", standard_number=num,
                                           met_on=t - timedelta(days=30), source="assessment", actor=actor,
                                           evidence="Observed.")
    db.flush()
    return a, b, c


def test_counts_and_turnover_exact_for_a_home(db, moves):
    a, b, c = moves
    rep = mv.movement(db, today() - timedelta(days=364), today(), [a.id], cross_org=False)
    assert rep.leavers == 11 and rep.joiners == 0
    assert rep.moved_within == 8 and rep.left_scheme == 3
    assert dict(((x, y), n) for x, y, n in rep.flows) == {(a.id, b.id): 6, (a.id, c.id): 2}
    # Skills for Care: leavers in 12 months / average staff in post (21 at the start, 10 at the end)
    assert rep.turnover_average_in_post == 15.5 and rep.turnover_percent == round(100 * 11 / 15.5, 1)
    mv.apply_suppression(rep)  # a single home's own report is not suppressed
    assert rep.flows[-1][2] == 2


def test_joiners_origins_and_care_certificate(db, moves):
    a, b, c = moves
    rep = mv.movement(db, today() - timedelta(days=364), today(), [c.id], cross_org=False)
    assert rep.joiners == 6
    assert rep.origins["another home in the scheme"] == 2 and rep.origins["new to the scheme"] == 4
    assert rep.from_homes == [(a.id, 2)]
    assert rep.cc_completed == 1 and rep.cc_median_days == 30.0


def test_cross_organisation_report_suppresses_counts_under_5(db, moves):
    a, b, c = moves
    rep = mv.apply_suppression(mv.movement(db, today() - timedelta(days=364), today(), [a.id, b.id, c.id]))
    assert rep.cross_org
    assert rep.left_scheme is None            # 3
    assert rep.moved_within == 8 and rep.leavers == 11
    assert [(x, y, n) for x, y, n in rep.flows] == [(a.id, b.id, 6)]   # the pair with 2 is hidden
    assert rep.flows_hidden is None            # and so is their total (2)
    assert rep.cc_completed is None and rep.cc_median_days is None
    for m in rep.months:
        assert all(m[k] is None or m[k] == 0 or m[k] >= 5 for k in ("joiners", "leavers", "moves", "in_post"))
    assert mv.suppress(0) == 0 and mv.suppress(4) is None and mv.suppress(5) == 5


def test_csv_and_charts(db, moves, make_person, make_org):
    a, b, c = moves
    admin = make_person(make_org(kind="care_association"), "scheme_admin")
    view = workforce.build(db, P(admin), "scheme")
    text = workforce.csv_text(view)
    assert "fewer than 5" in text and "Alder House,Beech Court,6" in text
    assert "Alder House,Cedar Lodge" not in text
    svg = str(workforce.flow_svg(view))
    assert svg.startswith("<svg") and "Beech Court" in svg and "Cedar Lodge" not in svg
    assert "<polyline" in str(workforce.trend_svg(view)) or "<circle" in str(workforce.trend_svg(view))


def test_csv_cells_cannot_run_formulas(db, make_org, make_person):
    org = make_org("=HYPERLINK(\"http://x\")")
    manager = make_person(org, "registered_manager")
    view = workforce.build(db, P(manager), f"org:{org.id}")
    assert "'=HYPERLINK" in workforce.csv_text(view)


def test_report_permissions_and_bad_input(db, moves, make_person):
    a, b, c = moves
    manager = make_person(a, "registered_manager")
    worker = make_person(a, "worker")
    workforce.build(db, P(manager), f"org:{a.id}")
    with pytest.raises(PermissionDenied):
        workforce.build(db, P(manager), "scheme")
    for scope in (f"org:{b.id}", "group:1"):
        with pytest.raises(NotFound):
            workforce.build(db, P(manager), scope)
    with pytest.raises(NotFound):
        workforce.build(db, P(worker), f"org:{a.id}")
    for scope, start, end in (("org:abc", None, None), ("nonsense", None, None), ("org:99999999999999999999", None, None),
                              (f"org:{a.id}", "2026-13-01", None), (f"org:{a.id}", "2026-05-01", "2026-04-01"),
                              (f"org:{a.id}", "2001-01-01", "2026-01-01")):
        with pytest.raises((ValidationError, NotFound)):
            workforce.build(db, P(manager), scope, start, end)


def test_movement_pages_csv_and_api(client, login, db, moves, make_person, make_org, api_token):
    a, b, c = moves
    admin = make_person(make_org(kind="care_association"), "scheme_admin")
    login(client, admin)
    page = client.get("/companion/movement?scope=scheme").get_data(as_text=True)
    assert "<svg" in page and "Moves between homes" in page and "fewer than 5" in page
    r = client.get("/companion/movement?scope=scheme&format=csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert client.get("/companion/movement?scope=org:abc").status_code == 400
    assert client.get("/companion/movement?start=2026-02-31").status_code == 400
    manager = make_person(a, "registered_manager")
    login(client, manager)
    assert client.get("/companion/movement?scope=scheme").status_code == 403
    assert client.get(f"/companion/movement?scope=org:{b.id}").status_code == 404
    body = client.get("/api/v1/companion/movement?scope=scheme", headers=api_token(admin)).get_json()
    assert body["left_scheme"] is None and body["moved_within_scheme"] == 8
    assert client.get("/api/v1/companion/movement?scope=scheme", headers=api_token(manager)).status_code == 403
    assert client.get("/api/v1/companion/movement?scope=bad", headers=api_token(admin)).status_code == 400


def test_training_reuse_hours_and_pounds(db, make_org, make_person):
    """Hours come from course durations by subject; pounds from the scheme's cost setting."""
    from decimal import Decimal

    from passport.companion.models import Setting
    from passport.courses.models import Course
    from passport.core.models import TrainingCategory

    cat = db.get(TrainingCategory, 34)
    db.add(Course(title="Fire", provider_kind="in_house", delivery="face_to_face", hours=Decimal("3.0"), categories=[cat]))
    db.add(Setting(id=1, cost_per_hour_pence=2000))
    db.flush()
    assert workforce.hours_by_category(db)[34] == Decimal("3.0")
    admin = make_person(make_org(kind="care_association"), "scheme_admin")
    with pytest.raises(ValidationError):
        workforce.save_cost(db, P(admin), "lots")
    with pytest.raises(PermissionDenied):
        workforce.save_cost(db, P(make_person(make_org(), "registered_manager")), "10")
    assert workforce.save_cost(db, P(admin), "£12.50").cost_per_hour_pence == 1250
    # a passport accepted at a home this year, recognising one fire-safety record
    from datetime import datetime, timezone

    from passport.verify.models import Acceptance, AcceptanceItem

    org = make_org()
    manager = make_person(org, "registered_manager")
    worker = make_person(org, "worker")
    rec = records.add_training_record(db, None, person_id=worker.id, org_id=org.id, category_code=34,
                                      completed_on=today() - timedelta(days=10), source="passport",
                                      actor=P(manager).actor, title="Fire safety (recognised from passport)")
    acc = Acceptance(org_id=org.id, person_id=worker.id, iss="https://other.test", jti="j1", issuer_name="Other",
                     holder_name=worker.full_name, passport_issued_at=datetime.now(timezone.utc), name_check="match",
                     accepted_at=datetime.now(timezone.utc))
    db.add(acc)
    db.flush()
    db.add(AcceptanceItem(acceptance_id=acc.id, training_record_id=rec.id))
    db.flush()
    view = workforce.build(db, P(manager), f"org:{org.id}")
    assert view.report.acceptances == 1 and view.report.reused_records == 1
    assert view.hours == Decimal("3.0") and view.pence == 3 * 1250


def test_cached_report_sees_every_change(db, moves, make_person, make_org):
    from passport.core import services as core_services

    a, b, c = moves
    admin = make_person(make_org(kind="care_association"), "scheme_admin")
    first = workforce.build(db, P(admin), "scheme", cache=True)
    assert workforce.build(db, P(admin), "scheme", cache=True) is first
    m = db.query(Membership).filter(Membership.org_id == b.id, Membership.end_date.is_(None)).first()
    core_services.end_membership(db, P(admin), m.id, today())
    again = workforce.build(db, P(admin), "scheme", cache=True)
    assert again is not first and (again.report.leavers or 0) >= 11
    with pytest.raises(PermissionDenied):  # permissions are checked before the cache
        workforce.build(db, P(make_person(a, "registered_manager")), "scheme", cache=True)


from tests.delegation.conftest import world  # noqa: E402,F401  (a home, a nurse, competent workers)
from tests.delegation.test_services import assess, delegate  # noqa: E402


def test_days_to_first_delegated_task(db, world, principal):
    assess(db, principal, world, world.worker)
    d = delegate(db, principal, world, world.worker)
    started = date(2020, 1, 1)  # the worker's start at the home (factory default)
    days = workforce.first_task_days(db, [(world.worker.id, world.home.id, started), (world.worker2.id, world.home.id, started)],
                                     [world.home.id], date(2019, 12, 1), date(2020, 2, 1))
    assert days == [(d.start_date - started).days]


def test_command_line_prints_csv(app, db, moves):
    a, b, c = moves
    runner = app.test_cli_runner()
    result = runner.invoke(args=["companion", "movement", "--scope", f"org:{a.id}"])
    assert result.exit_code == 0 and "Workforce movement,Alder House" in result.output
    bad = runner.invoke(args=["companion", "movement", "--scope", "org:nope"])
    assert bad.exit_code == 1 and "Choose a home" in bad.output
