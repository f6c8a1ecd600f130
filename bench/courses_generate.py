"""Generate a national-scale training dataset on PostgreSQL for the courses benchmarks.

Default: 100,000 workers across 2,000 homes (30 to 70 staff each, at least 50 homes of exactly 60), each
worker holding about 20 training records (the 18 Skills for Care core subjects, some missing, some
expired, some due soon, some with an older record from the previous renewal). ``--workers 1600000
--homes 30000`` gives the full England size. Rows are written with COPY straight into the tables (this
is test data, not a test of the services); the schema must already be migrated.

    python bench/courses_generate.py --url postgresql+psycopg://... [--workers N] [--homes N]
"""
from __future__ import annotations

import argparse
import io
import random
import time
from datetime import date, datetime, timedelta, timezone

import psycopg

from passport.core.catalogue_data import DEFAULT_REQUIREMENTS, TRAINING_CATEGORIES
from passport.core.records import add_months

REFRESH = {c["code"]: c["refresh_months"] for c in TRAINING_CATEGORIES}
CORE = sorted(set(DEFAULT_REQUIREMENTS["care_worker"]))
NOW = datetime.now(timezone.utc).isoformat()


def _sizes(workers: int, homes: int, rng: random.Random) -> list[int]:
    """Home sizes from 30 to 70 that add up to ``workers``, with at least 50 homes of exactly 60."""
    sizes = [60] * min(50, homes) + [rng.randint(30, 70) for _ in range(homes - min(50, homes))]
    diff = workers - sum(sizes)
    i = len(sizes) - 1
    while diff and i >= 50:
        step = max(-(sizes[i] - 20), min(diff, 120 - sizes[i]))
        sizes[i] += step
        diff -= step
        i -= 1
    return sizes


class Copier:
    """Buffer rows as COPY text and flush them in large chunks."""

    def __init__(self, cur, table: str, columns: list[str], deps=()):
        self.cur, self.sql = cur, f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        self.buf, self.n, self.deps = io.StringIO(), 0, deps

    def add(self, *values) -> None:
        self.buf.write("\t".join("\\N" if v is None else str(v) for v in values) + "\n")
        self.n += 1
        if self.n % 200_000 == 0:
            self.flush()

    def flush(self) -> None:
        for dep in self.deps:  # rows this table refers to go in first (foreign keys)
            dep.flush()
        data = self.buf.getvalue()
        if data:
            with self.cur.copy(self.sql) as cp:
                cp.write(data)
        self.buf = io.StringIO()


def _record_dates(code: int, today: date, rng: random.Random):
    """(completed, expires) for a required subject, or None when missing; plus maybe an older record."""
    months = REFRESH[code] or 36
    days = int(months * 30.44)
    roll = rng.random()
    if roll < 0.06:
        return None, None
    if roll < 0.16:
        completed = today - timedelta(days=days + rng.randint(1, 300))          # expired
    elif roll < 0.23:
        completed = today - timedelta(days=days - rng.randint(0, 60))           # due within 60 days
    else:
        completed = today - timedelta(days=rng.randint(5, max(days - 61, 6)))   # in date
    current = (completed, add_months(completed, months))
    older = None
    if rng.random() < 0.12:
        before = completed - timedelta(days=days + rng.randint(-20, 20))
        older = (before, add_months(before, months))
    return current, older


def generate(url: str, workers: int = 100_000, homes: int = 2_000, seed: int = 2026) -> dict:
    """Fill an empty, migrated database; returns counts and timings."""
    rng = random.Random(seed)
    today = date.today()
    started = time.perf_counter()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    counts = {"homes": homes, "workers": 0, "staff": 0, "records": 0}
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM core_person")
        if cur.fetchone()[0]:
            raise SystemExit("The database already has people; use an empty database (or --reuse in the bench).")
        cur.execute("INSERT INTO core_scheme (name, cc_version, quality_threshold, created_at) "
                    "VALUES ('England benchmark scheme', '2025', '', now()) RETURNING id")
        scheme_id = cur.fetchone()[0]
        orgs = Copier(cur, "core_organisation", ["id", "name", "kind", "created_at"])
        members_s = Copier(cur, "core_scheme_member", ["scheme_id", "org_id", "endorses"])
        for h in range(1, homes + 1):
            orgs.add(h, f"Bench home {h:05d}", "care_home", NOW)
            members_s.add(scheme_id, h, "f")
        orgs.flush()
        members_s.flush()
        cur.execute("SELECT setval(pg_get_serial_sequence('core_organisation', 'id'), %s)", (homes,))
        people = Copier(cur, "core_person", ["id", "given_name", "family_name", "email", "created_at"])
        members = Copier(cur, "core_membership", ["person_id", "org_id", "role", "job_role", "start_date"], [people])
        refs = Copier(cur, "courses_worker_ref", ["org_id", "person_id", "unique_worker_id"], [people])
        recs = Copier(cur, "core_training_record", [
            "person_id", "org_id", "category_code", "title", "completed_on", "expires_on", "source", "source_ref",
            "accredited", "provider_name", "notes", "recorded_at", "correction_reason"], [people])
        names = {c["code"]: c["name"] for c in TRAINING_CATEGORIES}
        pid = 0
        for h, size in enumerate(_sizes(workers, homes, rng), start=1):
            for role, job in (("registered_manager", "registered_manager"), ("training_lead", "deputy_manager")):
                pid += 1
                people.add(pid, "Staff", f"{role} {h}", f"{role[:3]}{pid}@bench.test", NOW)
                members.add(pid, h, role, job, "2020-01-01")
                counts["staff"] += 1
            for _ in range(size):
                pid += 1
                people.add(pid, "Worker", f"W{pid}", f"w{pid}@bench.test", NOW)
                job = "senior_care_worker" if rng.random() < 0.2 else "care_worker"
                members.add(pid, h, "worker", job, (today - timedelta(days=rng.randint(30, 3000))).isoformat())
                refs.add(h, pid, f"W{pid}")
                counts["workers"] += 1
                for code in CORE:
                    current, older = _record_dates(code, today, rng)
                    for item in (older, current):
                        if item:
                            recs.add(pid, h, code, names[code], item[0].isoformat(), item[1].isoformat(), "manual",
                                     "", "f", "", "", NOW, "")
                            counts["records"] += 1
        for c in (people, members, refs, recs):
            c.flush()
        cur.execute("SELECT setval(pg_get_serial_sequence('core_person', 'id'), %s)", (pid,))
        conn.commit()
        cur.execute("ANALYZE")
    counts["seconds"] = round(time.perf_counter() - started, 1)
    return counts


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--workers", type=int, default=100_000)
    parser.add_argument("--homes", type=int, default=2_000)
    args = parser.parse_args()
    print(generate(args.url, args.workers, args.homes))
