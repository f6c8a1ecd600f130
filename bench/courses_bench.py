"""Courses benchmarks on PostgreSQL: matrix for a 60-person home (p50/p95), scheme summary across every
home, ASC-WDS import of 100,000 rows (rows/s), and a reminder run over every worker.

Run it through ``bench/courses_run.sh`` (which starts a throw-away PostgreSQL server), or directly with
``PASSPORT_TEST_DATABASE_URL`` pointing at an empty database:

    python bench/courses_bench.py [--workers 100000] [--homes 2000] [--import-rows 100000] [--reuse]

Prints a summary and writes bench/out/courses-<timestamp>.json. Query plans are printed for any
measurement that misses its target.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa  # noqa: E402

from passport import create_app, db as dbm  # noqa: E402
from passport.cli import upgrade  # noqa: E402

TARGETS = {"matrix_p95_ms": 100, "summary_s": 2.0, "import_rows_per_s": 5000, "reminders_s": 60}


class CountingMailer:
    """Builds every message like the real mailer but does not transmit (SMTP is measured separately)."""

    def __init__(self, real):
        self.real, self.count = real, 0

    def build(self, to, subject, body):
        return self.real.build(to, subject, body)

    def send_many(self, messages):
        self.count += len(messages)
        return len(messages)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def explain(db, sql_statement) -> str:
    compiled = sql_statement.compile(dialect=db.get_bind().dialect, compile_kwargs={"literal_binds": True})
    rows = db.execute(sa.text("EXPLAIN (ANALYZE, BUFFERS) " + str(compiled))).all()
    return "\n".join(r[0] for r in rows)


def bench_matrix(app, db, results: dict, samples: int = 100) -> None:
    from passport.core.access import Principal
    from passport.core.models import Membership, Person
    from passport.courses import matrix as mx

    sizes = db.execute(sa.select(Membership.org_id, sa.func.count()).where(Membership.role == "worker")
                       .group_by(Membership.org_id).having(sa.func.count() == 58)).all()  # 58 workers + 2 staff
    homes = [h for h, _ in sizes][:20]
    leads = {h: db.scalar(sa.select(Person).join(Membership).where(Membership.org_id == h,
                                                                    Membership.role == "training_lead")) for h in homes}
    times = []
    for i in range(samples + len(homes)):
        h = homes[i % len(homes)]
        t = time.perf_counter()
        m = mx.home_matrix(db, Principal(person=leads[h]), h)
        elapsed = (time.perf_counter() - t) * 1000
        if i >= len(homes):  # the first pass over each home warms caches
            times.append(elapsed)
        db.rollback()
    assert len(m.rows) == 60, len(m.rows)
    results["matrix"] = {"homes": len(homes), "people": len(m.rows), "subjects": len(m.subjects),
                         "samples": len(times), "p50_ms": round(pct(times, 0.5), 1),
                         "p95_ms": round(pct(times, 0.95), 1), "max_ms": round(max(times), 1)}
    # the same through the JSON API (auth, serialisation)
    from passport.core import accounts
    from passport.core.models import User

    lead = leads[homes[0]]
    user = db.scalar(sa.select(User).where(User.person_id == lead.id)) or User(person_id=lead.id, password_hash="x")
    db.add(user)
    db.flush()
    secret, _ = accounts.create_api_token(db, user, homes[0], "training_lead", "bench")
    db.commit()
    client, api_times = app.test_client(), []
    for i in range(60):
        t = time.perf_counter()
        r = client.get(f"/api/v1/courses/orgs/{homes[i % 1]}/matrix", headers={"Authorization": f"Bearer {secret}"})
        if i >= 10:
            api_times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200
    results["matrix_api"] = {"p50_ms": round(pct(api_times, 0.5), 1), "p95_ms": round(pct(api_times, 0.95), 1)}


def bench_summary(db, results: dict, runs: int = 5) -> None:
    """The scheme summary: a cold rebuild of every home's counts (what the nightly refresh does), then the
    summary as users get it (nothing changed, and after one home changed)."""
    from passport.core import records
    from passport.core.access import Principal
    from passport.core.models import Membership, Person
    from passport.courses import compliance, matrix as mx

    admin = db.scalar(sa.select(Person).join(Membership).where(Membership.role == "scheme_admin"))
    if admin is None:
        admin = Person(given_name="Scheme", family_name="Admin", email="admin@bench.test")
        db.add(admin)
        db.flush()
        db.add(Membership(person_id=admin.id, org_id=1, role="scheme_admin", job_role="other",
                          start_date=date(2020, 1, 1)))
        db.commit()
    t = time.perf_counter()
    homes = compliance.refresh(db, force=True)
    db.commit()
    cold = time.perf_counter() - t
    # floor, same run: the one-day counts of every home in one query (what the cache held before it kept
    # per-day expiry counts)
    from passport.courses.matrix import status_subquery as _st
    from passport.courses.requirements import required_pairs as _req

    on = date.today()
    req, st = _req(), _st().subquery("st")
    never = sa.func.coalesce(st.c.never_expires, 0) == 1
    q = (sa.select(req.c.org_id, req.c.category_code, sa.func.count(),
                   sa.func.sum(sa.case((sa.or_(never, st.c.expires_on >= on), 1), else_=0)),
                   *[sa.func.sum(sa.case((sa.and_(sa.not_(never), st.c.expires_on >= on,
                                                  st.c.expires_on <= on + timedelta(days=w)), 1), else_=0))
                     for w in compliance.WINDOWS])
         .select_from(req.outerjoin(st, sa.and_(st.c.person_id == req.c.person_id,
                                                st.c.category_code == req.c.category_code)))
         .group_by(req.c.org_id, req.c.category_code))
    t = time.perf_counter()
    db.execute(sa.text("SET LOCAL work_mem = '128MB'"))
    db.execute(q).all()
    floor = time.perf_counter() - t
    db.rollback()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        data = mx.scheme_summary(db, Principal(person=admin))
        db.commit()
        times.append(time.perf_counter() - t)
    from passport.courses.models import ComplianceCache

    t = time.perf_counter()  # floor for the warm summary, same run: fetching the cached rows alone
    db.execute(sa.select(ComplianceCache.org_id, ComplianceCache.computed_on, ComplianceCache.data)).all()
    read_floor = time.perf_counter() - t
    db.rollback()
    worker = db.scalar(sa.select(Membership.person_id).where(Membership.org_id == 2, Membership.role == "worker"))
    records.add_training_record(db, None, person_id=worker, org_id=2, category_code=29, completed_on=date.today(),
                                source="manual")
    db.commit()
    t = time.perf_counter()
    mx.scheme_summary(db, Principal(person=admin))
    db.commit()
    incremental = time.perf_counter() - t
    later = {}
    for days in (1, 30, 31, 32):  # a new day: only homes whose horizon has passed are recomputed
        on = date.today() + timedelta(days=days)
        t = time.perf_counter()
        rebuilt = compliance.refresh(db, on)
        mx.scheme_summary(db, Principal(person=admin), on=on)
        db.commit()
        later[f"day_plus_{days}"] = {"s": round(time.perf_counter() - t, 3), "homes_rebuilt": rebuilt}
    results["summary"] = {"homes": len(data["homes"]), "required": data["total"]["required"],
                          "percent": data["total"]["percent"], "cold_rebuild_s": round(cold, 2),
                          "one_day_counts_query_s (floor)": round(floor, 2),
                          "homes_rebuilt": homes, "runs_s": [round(x, 3) for x in times],
                          "median_s": round(statistics.median(times), 3),
                          "fetch_cached_rows_s (floor)": round(read_floor, 3),
                          "after_one_home_changed_s": round(incremental, 3), "later_days": later}
    from passport.courses.matrix import status_subquery
    from passport.courses.requirements import required_pairs

    req, st = required_pairs(), status_subquery().subquery("st")
    results["summary"]["cold_rebuild_plan"] = explain(db, sa.select(req.c.org_id, sa.func.count()).select_from(
        req.outerjoin(st, sa.and_(st.c.person_id == req.c.person_id, st.c.category_code == req.c.category_code)))
        .group_by(req.c.org_id))
    db.rollback()


def bench_import(db, results: dict, rows: int) -> None:
    """A home with rows/20 workers imports a 20-subject ASC-WDS file of ``rows`` new records."""
    import random

    from passport.core.access import Principal
    from passport.core.models import Membership, Organisation, Person
    from passport.courses import ascwds
    from passport.courses.models import AscwdsWorkerRef, TrainingSettings

    rng = random.Random(7)
    staff = rows // 20
    stamp = datetime.now().strftime("%H%M%S%f")
    org = Organisation(name=f"Bench import home {stamp}", kind="care_home")
    db.add(org)
    db.flush()
    db.add(TrainingSettings(org_id=org.id, local_est_id="IMPORT1"))
    lead = Person(given_name="Import", family_name="Lead", email=f"import.lead.{stamp}@bench.test")
    db.add(lead)
    db.flush()
    db.add(Membership(person_id=lead.id, org_id=org.id, role="training_lead", job_role="deputy_manager",
                      start_date=date(2020, 1, 1)))
    people = [Person(given_name="Imported", family_name=f"N{i}") for i in range(staff)]
    db.add_all(people)
    db.flush()
    db.add_all([Membership(person_id=p.id, org_id=org.id, role="worker", job_role="care_worker",
                           start_date=date(2020, 1, 1)) for p in people])
    db.add_all([AscwdsWorkerRef(org_id=org.id, person_id=p.id, unique_worker_id=f"IMP{p.id}") for p in people])
    db.commit()
    codes = [6, 7, 8, 9, 10, 13, 14, 15, 16, 19, 20, 22, 23, 25, 28, 32, 44, 45, 2, 26]
    lines = [",".join(ascwds.HEADER)]
    today = date.today()
    for p in people:
        for code in codes:
            done = today - timedelta(days=rng.randint(1, 700))
            lines.append(f"IMPORT1,IMP{p.id},{code},,1,2,PROV1,1,,{done.strftime('%d/%m/%Y')},,Imported for the benchmark")
    data = ("\n".join(lines) + "\n").encode()
    principal = Principal(person=lead)
    t = time.perf_counter()
    preview, _ = ascwds.run_import(db, principal, org.id, data, "bench.csv", max_bytes=len(data) + 1, dry_run=True)
    dry = time.perf_counter() - t
    db.rollback()
    assert preview.ok, preview.problems[:5]
    t = time.perf_counter()
    preview, imp = ascwds.run_import(db, principal, org.id, data, "bench.csv", max_bytes=len(data) + 1)
    db.commit()
    real = time.perf_counter() - t
    results["import"] = {"rows": preview.total, "bytes": len(data), "dry_run_s": round(dry, 2),
                         "dry_run_rows_per_s": round(preview.total / dry), "import_s": round(real, 2),
                         "import_rows_per_s": round(imp.created / real), "created": imp.created}


def bench_reminders(app, db, results: dict) -> None:
    from passport import reminders
    from passport.courses.training_reminders import due_items
    from passport.mail import get_mailer

    today = date.today()
    t = time.perf_counter()
    items = due_items(db, today)
    select_s = time.perf_counter() - t
    db.rollback()
    runs = []
    for label, on in (("first run (catch-up: every due stage once)", today), ("same day again", today),
                      ("next day", today + timedelta(days=1)), ("a week later", today + timedelta(days=7))):
        mailer = CountingMailer(get_mailer(app))
        t = time.perf_counter()
        result = reminders.send_due(db, mailer, on, only=["training"], batch=2000)
        runs.append({"run": label, "seconds": round(time.perf_counter() - t, 1), **result})
    workers = db.scalar(sa.text("SELECT count(DISTINCT person_id) FROM core_membership WHERE role = 'worker'"))
    results["reminders"] = {"workers": workers, "due_items": len(items), "select_s": round(select_s, 2),
                            "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=100_000)
    parser.add_argument("--homes", type=int, default=2_000)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="The database already holds generated data.")
    parser.add_argument("--only", default="matrix,summary,import,reminders")
    args = parser.parse_args()
    url = os.environ.get("PASSPORT_TEST_DATABASE_URL")
    if not url or not url.startswith("postgresql"):
        raise SystemExit("Set PASSPORT_TEST_DATABASE_URL to a PostgreSQL database (bench/courses_run.sh does).")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-" + "x" * 32, "RATELIMIT_ENABLED": False,
                      "TESTING": True})
    results: dict = {"started": datetime.now().isoformat(timespec="seconds"), "workers": args.workers,
                     "homes": args.homes}
    upgrade(app)
    if not args.reuse:
        from courses_generate import generate

        results["generate"] = generate(url, args.workers, args.homes)
        print("generated", results["generate"], flush=True)
    with app.app_context():
        db = dbm.session
        results["records"] = db.scalar(sa.text("SELECT count(*) FROM core_training_record"))
        only = args.only.split(",")
        for name, fn in (("matrix", lambda: bench_matrix(app, db, results)), ("summary", lambda: bench_summary(db, results)),
                         ("import", lambda: bench_import(db, results, args.import_rows)),
                         ("reminders", lambda: bench_reminders(app, db, results))):
            if name in only:
                fn()
                print(name, json.dumps({k: v for k, v in results.items() if k.startswith(name)}, default=str), flush=True)
    os.makedirs("bench/out", exist_ok=True)
    path = f"bench/out/courses-{datetime.now():%Y%m%d-%H%M%S}.json"
    with open(path, "w") as fh:
        json.dump(results, fh, indent=2, default=str)
    print(f"Results written to {path}")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
