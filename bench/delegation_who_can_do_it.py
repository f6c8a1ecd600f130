"""Benchmark: "who at this home can do task T now" on PostgreSQL at national scale.

Generates, server-side with generate_series (no Python loops over rows):
  30,000 homes x ~53 = 1.6 million workers (plus 10% with an earlier, ended job elsewhere),
  5 million competency assessments and competencies (two years of history: about half already
  expired, 15% ended by a reassessment or withdrawal), 1 million delegations (20% ended),
then times ``passport.delegation.queries.who_can_do_it`` (the function behind the page and the API),
with and without a resident, for random homes and tasks, and reports p50/p95/p99 in milliseconds.
It also prints the query plan of one call so the index use can be checked.

Run (throw-away PostgreSQL server; nothing else is touched):
    PG_TEST_PORT=55442 bash scripts/with-postgres.sh .venv/bin/python bench/delegation_who_can_do_it.py
    ... bench/delegation_who_can_do_it.py --scale 0.01      # 1% of national scale, for a quick try
Options: --scale (default 1.0), --queries (default 2000), --seed.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date

import sqlalchemy as sa

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

NATIONAL = {"homes": 30_000, "workers": 1_600_000, "competencies": 5_000_000, "delegations": 1_000_000}


def step(label: str, conn, sql: str, **params) -> None:
    t0 = time.perf_counter()
    conn.execute(sa.text(sql), params)
    print(f"  {label:<46} {time.perf_counter() - t0:7.1f} s", flush=True)


def generate(engine, n: dict, nurse_id: int, team_id: int) -> None:
    """Bulk rows with INSERT ... SELECT generate_series; ids are offset past anything already there."""
    with engine.begin() as c:
        base_org = c.scalar(sa.text("SELECT coalesce(max(id), 0) FROM core_organisation"))
        base_person = c.scalar(sa.text("SELECT coalesce(max(id), 0) FROM core_person"))
        tasks = [r[0] for r in c.execute(sa.text("SELECT id FROM delegation_task ORDER BY id"))]
    p = dict(ho=base_org, po=base_person, H=n["homes"], W=n["workers"], C=n["competencies"], D=n["delegations"],
             T=len(tasks), t0=min(tasks), nurse=nurse_id, team=team_id)
    print(f"Generating {n['workers']:,} workers in {n['homes']:,} homes, {n['competencies']:,} competencies, "
          f"{n['delegations']:,} delegations ...", flush=True)
    with engine.begin() as c:
        c.execute(sa.text("SET LOCAL synchronous_commit = off"))
        # The rows are consistent by construction: skip the per-row foreign-key triggers while loading
        # (needs a superuser, which the throw-away server's user is). Indexes stay, so the load is honest.
        c.execute(sa.text("SET LOCAL session_replication_role = replica"))
        step("homes", c, """INSERT INTO core_organisation (id, name, kind, created_at)
            SELECT :ho + g, 'Bench home ' || g, 'care_home', now() FROM generate_series(1, :H) g""", **p)
        step("workers", c, """INSERT INTO core_person (id, given_name, family_name, created_at)
            SELECT :po + g, 'Worker', 'No ' || g, now() FROM generate_series(1, :W) g""", **p)
        step("memberships (current)", c, """INSERT INTO core_membership (person_id, org_id, role, job_role, start_date)
            SELECT :po + g, :ho + 1 + (g % :H), 'worker', 'care_worker', date '2021-01-01' + (g % 900)
            FROM generate_series(1, :W) g""", **p)
        step("memberships (ended, 10%)", c, """INSERT INTO core_membership
            (person_id, org_id, role, job_role, start_date, end_date)
            SELECT :po + g, :ho + 1 + ((g * 7 + 3) % :H), 'worker', 'care_worker', date '2018-01-01',
                   date '2020-12-31' FROM generate_series(1, :W, 10) g""", **p)
        # Each assessment: a random worker and task, assessed in the last two years, valid 12 months.
        step("assessments", c, """INSERT INTO delegation_assessment (id, task_id, worker_id, org_id, assessor_id,
            assessor_org_id, assessed_on, observations, observation_notes, outcome, level, valid_until, evidence,
            recorded_at)
            SELECT g, :t0 + (h % :T), :po + w, :ho + 1 + (w % :H), :nurse, :team,
                   current_date - ((h / 101) % 730)::int, 3, '', 'competent',
                   (ARRAY['observed', 'supervised', 'safe_unsupervised', 'safe_unsupervised'])[1 + (h / 7) % 4],
                   current_date - ((h / 101) % 730)::int + 365, '', now()
            FROM (SELECT g, 1 + (hashint8(g) & 2147483647) % :W AS w, (hashint8(g * 31) & 2147483647) AS h
                  FROM generate_series(1, :C) g) s""", **p)
        step("competencies (15% ended)", c, """INSERT INTO delegation_competency (id, assessment_id, task_id,
            worker_id, org_id, level, valid_from, valid_until, granted_by_id, ended_at, end_reason, end_note)
            SELECT a.id, a.id, a.task_id, a.worker_id, a.org_id, a.level, a.assessed_on, a.valid_until, :nurse,
                   CASE WHEN a.id % 20 < 3 THEN now() - interval '10 days' END,
                   CASE WHEN a.id % 20 < 3 THEN 'superseded' END, ''
            FROM delegation_assessment a""", **p)
        step("delegations (20% ended)", c, """INSERT INTO delegation_delegation (task_id, worker_id, org_id,
            resident_ref, delegated_by_id, delegator_org_id, competency_id, start_date, review_date,
            instructions_ref, consent_recorded, consent_by, notes, created_at, ended_at, end_reason, end_note)
            SELECT c.task_id, c.worker_id, c.org_id, 'Room ' || (c.id % 60) || ' – R-' || c.id, :nurse, :team, c.id,
                   c.valid_from, c.valid_until, 'CP-' || c.id, true, 'resident', '', now(),
                   CASE WHEN c.id % 5 = 0 THEN now() - interval '3 days' END,
                   CASE WHEN c.id % 5 = 0 THEN 'withdrawn' END, ''
            FROM delegation_competency c
            WHERE c.level = 'safe_unsupervised' AND c.id % 2 = 0 ORDER BY c.id LIMIT :D""", **p)
        for seq, table in (("core_organisation_id_seq", "core_organisation"), ("core_person_id_seq", "core_person"),
                           ("delegation_assessment_id_seq", "delegation_assessment"),
                           ("delegation_competency_id_seq", "delegation_competency")):
            c.execute(sa.text(f"SELECT setval('{seq}', (SELECT max(id) FROM {table}))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        step("VACUUM ANALYZE", c, "VACUUM ANALYZE")


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of national scale (default 1.0)")
    ap.add_argument("--queries", type=int, default=2000, help="timed calls per variant (default 2000)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--reuse", action="store_true",
                    help="use the data already in the database (from an earlier run) instead of generating it")
    args = ap.parse_args()
    url = os.environ.get("PASSPORT_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("Run under scripts/with-postgres.sh (needs PASSPORT_TEST_DATABASE_URL to a PostgreSQL database).")
    n = {k: max(10, int(v * args.scale)) for k, v in NATIONAL.items()}

    from passport import create_app, db as dbm
    from passport.cli import upgrade
    from passport.core.models import Membership, Organisation, Person

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-" + "b" * 32, "PLUGINS": ["delegation"]})
    engine = dbm.get_engine(app)
    with app.app_context():
        t0 = time.perf_counter()
        upgrade(app)
        s = dbm.session
        existing = s.scalar(sa.select(sa.func.count()).select_from(Organisation).where(
            Organisation.name == "Bench nursing team"))
        if args.reuse and existing:
            print("Reusing the data already generated.", flush=True)
            measure(app, s, engine, args)
            return
        team = Organisation(name="Bench nursing team", kind="community_nursing")
        s.add(team)
        s.flush()
        nurse = Person(given_name="Bench", family_name="Nurse", registration_body="NMC", registration_pin="99Z9999Z")
        s.add(nurse)
        s.flush()
        s.add(Membership(person_id=nurse.id, org_id=team.id, role="registered_professional",
                         start_date=date(2020, 1, 1)))
        s.commit()
        print(f"Schema ready in {time.perf_counter() - t0:.1f} s", flush=True)
        t0 = time.perf_counter()
        generate(engine, n, nurse.id, team.id)
        print(f"Data generated in {time.perf_counter() - t0:.0f} s", flush=True)
        with engine.connect() as c:
            counts = {t: c.scalar(sa.text(f"SELECT count(*) FROM {t}")) for t in (
                "core_person", "core_membership", "delegation_competency", "delegation_delegation")}
            size = c.scalar(sa.text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
        print("Rows:", ", ".join(f"{k} {v:,}" for k, v in counts.items()), f"(database {size})")
        measure(app, s, engine, args)


def measure(app, s, engine, args) -> None:
    """Time who_can_do_it for random homes and tasks (and residents with an open delegation), end to end
    in Python, and the server's own execution time for a sample (EXPLAIN ANALYZE), then show one plan."""
    from sqlalchemy import event

    from passport.core.models import Organisation
    from passport.delegation.catalogue import get_task
    from passport.delegation.models import Task
    from passport.delegation.queries import who_can_do_it

    homes = [r[0] for r in s.execute(sa.select(Organisation.id).where(Organisation.kind == "care_home"))]
    tasks = {c: get_task(s, c) for c in s.scalars(sa.select(Task.code))}
    codes = sorted(tasks)
    by_id = {t.id: t for t in tasks.values()}
    residents = s.execute(sa.text("""SELECT org_id, task_id, resident_ref FROM delegation_delegation
        WHERE ended_at IS NULL ORDER BY id LIMIT 5000""")).all()
    rng = random.Random(args.seed)
    s.expunge_all()

    def pick(variant):
        if variant == "home + task":
            return rng.choice(homes), tasks[rng.choice(codes)], None
        home, task_id, resident = rng.choice(residents)
        return home, by_id[task_id], resident

    captured: list = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        if "delegation_competency" in statement:
            captured.append((statement, parameters))

    for variant in ("home + task", "home + task + resident"):
        for _ in range(50):  # warm the caches and let psycopg prepare the statement
            who_can_do_it(s, *pick(variant))
        times, found = [], 0
        for _ in range(args.queries):
            home, task, resident = pick(variant)
            t = time.perf_counter()
            rows = who_can_do_it(s, home, task, resident)
            times.append((time.perf_counter() - t) * 1000)
            found += len(rows)
            s.rollback()
        print(f"who_can_do_it ({variant}), {args.queries} calls, end to end: p50 {percentile(times, .5):.2f} ms, "
              f"p95 {percentile(times, .95):.2f} ms, p99 {percentile(times, .99):.2f} ms, "
              f"mean {statistics.mean(times):.2f} ms; {found / args.queries:.1f} people per answer", flush=True)
        # the server's execution time for a sample of the same calls
        captured.clear()
        event.listen(engine, "before_cursor_execute", grab)
        for _ in range(min(300, args.queries)):
            who_can_do_it(s, *pick(variant))
        event.remove(engine, "before_cursor_execute", grab)
        server, plan = [], []
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            for statement, parameters in captured:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                plan = [r[0] for r in cur.fetchall()]
                server.append(float(plan[-1].split(":")[1].split()[0]))
        finally:
            raw.close()
        print(f"  server execution ({len(server)} sampled calls): p50 {percentile(server, .5):.2f} ms, "
              f"p95 {percentile(server, .95):.2f} ms", flush=True)
        if variant == "home + task":
            print("  plan of the last sampled call:")
            print("\n".join("    " + line for line in plan))


if __name__ == "__main__":
    main()
