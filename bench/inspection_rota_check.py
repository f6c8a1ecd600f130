"""Benchmark: the rota check (``POST /api/v1/rota/check``) and the evidence pack on PostgreSQL at national
scale.

Builds the delegation benchmark's data (``bench/delegation_who_can_do_it.py``: 30,000 homes, 1.6 million
workers, 5 million competences, 1 million delegations) plus every worker's mandatory training records
(the care-worker subjects, completed in the last two years, so some expired and some expiring), then:

* checks a week's rota for one home (about 400 assignments: each worker's shifts for seven days, a fifth of
  them naming a delegated task and resident from the worker's own delegations, a few for tasks they hold
  none for) with ``passport.inspection.rota.check`` -- the function behind the API -- end to end from Python;
* as a floor in the same run, checks a rota of one assignment (the fixed cost of the queries);
* builds the evidence pack (HTML data and the PDF) for the same home, topped up to 60 people.

Run (throw-away PostgreSQL server; nothing else is touched):
    PG_TEST_PORT=55443 bash scripts/with-postgres.sh .venv/bin/python bench/inspection_rota_check.py
    ... bench/inspection_rota_check.py --scale 0.05     # 5% of national scale, for a quick try
Options: --scale (default 1.0), --runs (default 30), --seed, --reuse.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, datetime, time as dtime, timedelta

import sqlalchemy as sa

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.delegation_who_can_do_it import NATIONAL, generate, percentile, step  # noqa: E402


def add_training(engine) -> None:
    """Each bench worker's care-worker subjects: completed 0-729 days ago, valid a year (about half in date)."""
    with engine.begin() as c:
        codes = [r[0] for r in c.execute(sa.text(
            "SELECT category_code FROM courses_default_requirement WHERE job_role = 'care_worker'"))]
        org = c.scalar(sa.text("SELECT min(id) FROM core_organisation WHERE name LIKE 'Bench home %'"))
        c.execute(sa.text("SET LOCAL synchronous_commit = off"))
        c.execute(sa.text("SET LOCAL session_replication_role = replica"))
        step(f"training records ({len(codes)} subjects a worker)", c, """
            INSERT INTO core_training_record (person_id, org_id, category_code, title, completed_on, expires_on,
                source, source_ref, accredited, provider_name, notes, recorded_at, correction_reason)
            SELECT p.id, :org, code, 'Bench training', current_date - ((hashint8(p.id * 97 + code) & 1023) % 730)::int,
                   current_date - ((hashint8(p.id * 97 + code) & 1023) % 730)::int + 365,
                   'manual', '', false, '', '', now(), ''
            FROM core_person p CROSS JOIN unnest(CAST(:codes AS int[])) AS code
            WHERE p.given_name = 'Worker'""", org=org, codes=codes)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        step("VACUUM ANALYZE core_training_record", c, "VACUUM ANALYZE core_training_record")


def week_rota(s, home_id: int, rng: random.Random, start: date) -> list[dict]:
    """About 400 assignments: every worker of the home on most days, 12-hour day or night shifts."""
    workers = [r[0] for r in s.execute(sa.text(
        "SELECT person_id FROM core_membership WHERE org_id = :h AND role = 'worker' AND end_date IS NULL"),
        {"h": home_id})]
    held = {}
    for wid, code, ref in s.execute(sa.text("""SELECT d.worker_id, t.code, d.resident_ref FROM delegation_delegation d
            JOIN delegation_task t ON t.id = d.task_id WHERE d.org_id = :h AND d.ended_at IS NULL"""), {"h": home_id}):
        held.setdefault(wid, []).append((code, ref))
    codes = [r[0] for r in s.execute(sa.text("SELECT code FROM delegation_task"))]
    rows = []
    day = 0
    while len(rows) < 400:
        for wid in workers:
            if len(rows) >= 400:
                break
            if rng.random() < 0.1:
                continue
            night = rng.random() < 0.3
            at = datetime.combine(start + timedelta(days=day % 7), dtime(20 if night else 8))
            row = {"worker_id": wid, "home_id": home_id, "start": at.isoformat(),
                   "end": (at + timedelta(hours=12)).isoformat()}
            if rng.random() < 0.2:
                options = held.get(wid) or []
                if options and rng.random() < 0.8:
                    code, ref = rng.choice(options)
                    row["tasks"] = [{"task": code, "resident": ref}]
                else:
                    row["tasks"] = [{"task": rng.choice(codes), "resident": f"Room {rng.randint(1, 60)}"}]
            rows.append(row)
        day += 1
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--profile", action="store_true", help="print each statement's time for one full check")
    args = ap.parse_args()
    url = os.environ.get("PASSPORT_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("Run under scripts/with-postgres.sh (needs PASSPORT_TEST_DATABASE_URL to a PostgreSQL database).")
    n = {k: max(10, int(v * args.scale)) for k, v in NATIONAL.items()}

    from passport import create_app, db as dbm
    from passport.cli import upgrade
    from passport.core.models import Membership, Organisation, Person

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-" + "b" * 32,
                      "PLUGINS": ["courses", "delegation", "inspection"]})
    engine = dbm.get_engine(app)
    with app.app_context():
        upgrade(app)
        s = dbm.session
        if not (args.reuse and s.scalar(sa.text("SELECT count(*) FROM core_organisation WHERE name = 'Bench nursing team'"))):
            team = Organisation(name="Bench nursing team", kind="community_nursing")
            s.add(team)
            s.flush()
            nurse = Person(given_name="Bench", family_name="Nurse", registration_body="NMC", registration_pin="99Z9999Z")
            s.add(nurse)
            s.flush()
            s.add(Membership(person_id=nurse.id, org_id=team.id, role="registered_professional",
                             start_date=date(2020, 1, 1)))
            s.commit()
            t0 = time.perf_counter()
            generate(engine, n, nurse.id, team.id)
            add_training(engine)
            print(f"Data generated in {time.perf_counter() - t0:.0f} s", flush=True)
        with engine.connect() as c:
            counts = {t: c.scalar(sa.text(f"SELECT count(*) FROM {t}")) for t in (
                "core_person", "core_training_record", "delegation_competency", "delegation_delegation")}
        print("Rows:", ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)
        measure(s, args)


def measure(s, args) -> None:
    from flask import current_app

    from passport.core.access import Principal
    from passport.core.models import Membership, Person
    from passport.core.timeutil import uk_today
    from passport.inspection import pack as packs, rota
    from passport.plugins import contributions

    rng = random.Random(args.seed)
    # the home with most delegations (a busy 60-bed home), and a registered manager to act as
    home_id = s.scalar(sa.text("""SELECT org_id FROM delegation_delegation WHERE ended_at IS NULL
        GROUP BY org_id ORDER BY count(*) DESC LIMIT 1"""))
    manager = s.scalar(sa.select(Person).where(Person.family_name == f"Manager of {home_id}"))
    if manager is None:
        manager = Person(given_name="Bench", family_name=f"Manager of {home_id}")
        s.add(manager)
        s.flush()
        s.add(Membership(person_id=manager.id, org_id=home_id, role="registered_manager",
                         job_role="registered_manager", start_date=date(2020, 1, 1)))
        have = s.scalar(sa.text("SELECT count(DISTINCT person_id) FROM core_membership WHERE org_id = :h AND "
                                "end_date IS NULL"), {"h": home_id})
        for i in range(max(0, 60 - have)):  # top the home up to 60 people for the pack
            p = Person(given_name="Extra", family_name=f"Worker {i}")
            s.add(p)
            s.flush()
            s.add(Membership(person_id=p.id, org_id=home_id, role="worker", job_role="care_worker",
                             start_date=uk_today() - timedelta(days=rng.randint(5, 900))))
        s.commit()
    who = Principal(person=manager)
    rows = week_rota(s, home_id, rng, uk_today() + timedelta(days=1))
    people = s.scalar(sa.text("SELECT count(DISTINCT person_id) FROM core_membership WHERE org_id = :h AND "
                              "end_date IS NULL"), {"h": home_id})
    print(f"Home {home_id}: {people} people; rota of {len(rows)} assignments "
          f"({sum(1 for r in rows if 'tasks' in r)} with a task and resident)", flush=True)

    def timed(batch):
        out = []
        for _ in range(3):
            rota.check(s, Principal(person=manager), batch)
            s.rollback()
        for _ in range(args.runs):
            t = time.perf_counter()
            result = rota.check(s, Principal(person=manager), batch)
            out.append((time.perf_counter() - t) * 1000)
            s.rollback()
        return out, result

    floor, _ = timed(rows[:1])
    full, result = timed(rows)
    if args.profile:  # one more, warm, statement by statement
        from sqlalchemy import event

        spent = []

        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info["t"] = time.perf_counter()

        def after(conn, cursor, statement, parameters, context, executemany):
            spent.append(((time.perf_counter() - conn.info["t"]) * 1000, " ".join(statement.split())[:110]))

        engine = s.get_bind()
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        t = time.perf_counter()
        rota.check(s, Principal(person=manager), rows)
        total = (time.perf_counter() - t) * 1000
        s.rollback()
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        print(f"profile: {total:.1f} ms total, {len(spent)} statements, {sum(x for x, _ in spent):.1f} ms in SQL")
        for ms, text in sorted(spent, reverse=True)[:12]:
            print(f"  {ms:7.1f} ms  {text}")
    print(f"rota.check, 1 assignment (floor), {args.runs} runs: p50 {percentile(floor, .5):.1f} ms, "
          f"p95 {percentile(floor, .95):.1f} ms", flush=True)
    print(f"rota.check, {len(rows)} assignments, {args.runs} runs: p50 {percentile(full, .5):.1f} ms, "
          f"p95 {percentile(full, .95):.1f} ms, max {max(full):.1f} ms, mean {statistics.mean(full):.1f} ms; "
          f"answers {result['summary']}", flush=True)
    # the evidence pack for the same home
    times = {"build": [], "pdf": []}
    for _ in range(5):
        t = time.perf_counter()
        pk = packs.build(s, who, home_id, extra_sections=contributions(current_app, "evidence_pack"), record=False)
        times["build"].append(time.perf_counter() - t)
        t = time.perf_counter()
        pdf = packs.render_pdf(pk)
        times["pdf"].append(time.perf_counter() - t)
        s.rollback()
    print(f"evidence pack, {people} people: gather p50 {percentile(times['build'], .5) * 1000:.0f} ms, "
          f"PDF p50 {percentile(times['pdf'], .5) * 1000:.0f} ms ({len(pdf):,} bytes)", flush=True)


if __name__ == "__main__":
    main()
