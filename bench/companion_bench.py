"""Workforce movement benchmark: the scheme-wide report over 12 months on PostgreSQL.

Run through ``bash bench/companion_run.sh`` (a throw-away server; ``PASSPORT_TEST_DATABASE_URL`` set). It
migrates an empty database, generates the data set with COPY, then measures:

- cold: the scheme-wide report (the page a scheme admin opens: counts, SVG charts) as the first request of a
  fresh process, new connection pool, empty compile and plan caches (``--cold-runs`` processes); and again
  in fresh processes whose first request was another page (so the shared layout templates are compiled);
- warm: the same request repeated in one process (``--warm-runs``), p50 and p95, served from the report
  cache (``COMPANION_MOVEMENT_CACHE``, checked against ``data_version`` on every request), and again with
  the cache off (every request recomputes);
- the service alone (``passport.verify.movement.movement``) and the CSV, warm.

Data (defaults): 2,000 homes in 100 groups; 100,000 current workers (a quarter of those who started in the
last three years moved there from
another home of the scheme); 30,000 former workers who left the scheme in those
years; a Care Certificate (16 standards) for 30% of recent joiners; an accepted passport with 12 recognised
training records for half the movers. Delegations are not generated (the first-delegated-task query runs,
over an empty table).

    python bench/companion_bench.py [--workers N] [--homes N] [--reuse] [--warm-runs 30] [--cold-runs 5]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone

import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from courses_generate import Copier  # noqa: E402  (the bench's one COPY helper)

NOW = datetime.now(timezone.utc).isoformat()
OWN_ISSUER = "https://bench.passport.test"


def generate(url: str, workers: int, homes: int, seed: int = 13) -> dict:
    rng = random.Random(seed)
    today = date.today()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    c = {"homes": homes, "workers": 0, "former": 0, "moves": 0, "memberships": 0, "achievements": 0,
         "acceptances": 0, "records": 0}
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM core_person")
        if cur.fetchone()[0]:
            raise SystemExit("The database already has people; use --reuse or an empty database.")
        groups = Copier(cur, "core_org_group", ["id", "name"])
        for g in range(1, 101):
            groups.add(g, f"Bench group {g:03d}")
        orgs = Copier(cur, "core_organisation", ["id", "name", "kind", "group_id", "created_at"], [groups])
        for h in range(1, homes + 1):
            orgs.add(h, f"Bench home {h:05d}", "care_home", (h - 1) % 100 + 1, NOW)
        orgs.add(homes + 1, "Bench care association", "care_association", None, NOW)
        orgs.flush()
        cur.execute("SELECT setval(pg_get_serial_sequence('core_organisation', 'id'), %s)", (homes + 1,))
        cur.execute("SELECT setval(pg_get_serial_sequence('core_org_group', 'id'), 100)")
        people = Copier(cur, "core_person", ["id", "given_name", "family_name", "email", "created_at"])
        mem = Copier(cur, "core_membership", ["person_id", "org_id", "role", "job_role", "start_date", "end_date"],
                     [people])
        ach = Copier(cur, "core_standard_achievement", ["person_id", "org_id", "framework", "standard_number", "met_on",
                                                        "source", "source_ref", "evidence", "recorded_at"], [people])
        recs = Copier(cur, "core_training_record", [
            "id", "person_id", "org_id", "category_code", "title", "completed_on", "source", "source_ref", "accredited",
            "provider_name", "notes", "recorded_at", "correction_reason"], [people])
        accs = Copier(cur, "verify_acceptance", [
            "id", "org_id", "person_id", "iss", "jti", "issuer_name", "holder_name", "passport_issued_at", "framework",
            "standards_mask", "name_check", "name_note", "top_up_standards", "top_up_note", "accepted_at"], [people])
        items = Copier(cur, "verify_acceptance_item", ["acceptance_id", "training_record_id"], [accs, recs])
        cats = [34, 23, 28, 22, 16, 2, 20, 25, 7, 9, 26, 10]
        pid = rec_id = acc_id = 0
        pid += 1
        people.add(pid, "Bench", "Scheme admin", "admin@bench.passport.test", NOW)
        mem.add(pid, homes + 1, "scheme_admin", "other", "2020-01-01", None)
        admin_id = pid
        for _ in range(workers):
            pid += 1
            home = rng.randint(1, homes)
            start = today - timedelta(days=rng.randint(0, 3000))
            people.add(pid, "Worker", f"W{pid}", f"w{pid}@bench.test", NOW)
            mem.add(pid, home, "worker", "care_worker", start.isoformat(), None)
            c["workers"] += 1
            moved = start >= today - timedelta(days=1100) and rng.random() < 0.25
            if moved:
                prev = rng.randint(1, homes - 1)
                prev = prev + 1 if prev >= home else prev
                end = start - timedelta(days=rng.randint(1, 60))
                mem.add(pid, prev, "worker", "care_worker", (end - timedelta(days=rng.randint(200, 1500))).isoformat(),
                        end.isoformat())
                c["moves"] += 1
                if rng.random() < 0.5:
                    acc_id += 1
                    at = datetime.combine(start, datetime.min.time(), tzinfo=timezone.utc).isoformat()
                    accs.add(acc_id, home, pid, OWN_ISSUER if rng.random() < 0.8 else "https://elsewhere.test",
                             f"jti{acc_id}", "Bench", f"Worker W{pid}", at, "2025", 65535, "match", "", "", "", at)
                    for code in cats:
                        rec_id += 1
                        recs.add(rec_id, pid, home, code, "Recognised from passport", start.isoformat(), "passport",
                                 "bench", "f", "Bench", "", NOW, "")
                        items.add(acc_id, rec_id)
                    c["acceptances"] += 1
                    c["records"] += len(cats)
            if start >= today - timedelta(days=730) and rng.random() < 0.3:
                met = start + timedelta(days=rng.randint(30, 200))
                if met <= today:
                    for n in range(1, 17):
                        ach.add(pid, home, "2025", n, met.isoformat(), "assessment", "", "bench", NOW)
                    c["achievements"] += 16
        for _ in range(int(workers * 0.3)):
            pid += 1
            home = rng.randint(1, homes)
            end = today - timedelta(days=rng.randint(0, 1100))
            people.add(pid, "Former", f"F{pid}", None, NOW)
            mem.add(pid, home, "worker", "care_worker", (end - timedelta(days=rng.randint(60, 2000))).isoformat(),
                    end.isoformat())
            c["former"] += 1
        for cp in (people, mem, ach, recs, accs, items):
            cp.flush()
        for table in ("core_person", "core_training_record", "verify_acceptance"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cur.execute("INSERT INTO core_user (person_id, password_hash, is_disabled, session_version, created_at) "
                    "VALUES (%s, 'x', false, 1, now())", (admin_id,))
        c["memberships"] = c["workers"] + c["moves"] + c["former"] + 1
        conn.commit()
        cur.execute("ANALYZE")
    return c


def _app(url: str):
    from passport import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-" + "z" * 40, "PUBLIC_URL": OWN_ISSUER,
                       "KEY_DIR": "/tmp/companion-bench-keys", "WTF_CSRF_ENABLED": False})


def _client(app):
    import sqlalchemy as sa

    from passport import db as dbm
    from passport.core.models import User

    with app.app_context():
        user = dbm.session.scalar(sa.select(User).join(User.person).where(
            sa.text("core_person.email = 'admin@bench.passport.test'")))
        uid = user.get_id()
    client = app.test_client()
    with client.session_transaction() as s:
        s["_user_id"], s["_fresh"] = uid, True
    return client


PAGE = "/companion/movement?scope=scheme"


def once_cold(url: str, warm_templates: bool = False) -> float:
    """The movement page as the first request of this (fresh) process; with ``warm_templates``, after one
    other page (the companion index) has compiled the shared layout."""
    app = _app(url)
    client = _client(app)
    if warm_templates:
        assert client.get("/companion/").status_code == 200
    t = time.perf_counter()
    r = client.get(PAGE)
    took = time.perf_counter() - t
    assert r.status_code == 200, r.status_code
    assert b"Moves between homes" in r.data
    return took


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=100_000)
    ap.add_argument("--homes", type=int, default=2_000)
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--warm-runs", type=int, default=30)
    ap.add_argument("--cold-runs", type=int, default=5)
    ap.add_argument("--cold-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--warm-templates", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    url = os.environ.get("PASSPORT_TEST_DATABASE_URL")
    if not url:
        raise SystemExit("Set PASSPORT_TEST_DATABASE_URL to a PostgreSQL database (bench/companion_run.sh does).")
    if args.cold_child:
        print(json.dumps({"cold": once_cold(url, warm_templates=args.warm_templates)}))
        return
    out: dict = {"workers": args.workers, "homes": args.homes}
    if not args.reuse:
        from passport.cli import upgrade

        upgrade(_app(url))
        t = time.perf_counter()
        out["data"] = generate(url, args.workers, args.homes)
        out["generate_s"] = round(time.perf_counter() - t, 1)
        print("generated", out["data"], f"in {out['generate_s']} s", flush=True)
    cold = []
    for _ in range(args.cold_runs):
        res = subprocess.run([sys.executable, __file__, "--cold-child"], capture_output=True, text=True, check=True,
                             env=os.environ)
        cold.append(json.loads(res.stdout.strip().splitlines()[-1])["cold"])
    out["page_cold_s"] = [round(x, 3) for x in cold]
    cold2 = []
    for _ in range(args.cold_runs):
        res = subprocess.run([sys.executable, __file__, "--cold-child", "--warm-templates"], capture_output=True,
                             text=True, check=True, env=os.environ)
        cold2.append(json.loads(res.stdout.strip().splitlines()[-1])["cold"])
    out["page_cold_after_layout_s"] = [round(x, 3) for x in cold2]
    app = _app(url)
    client = _client(app)
    warm = []
    for _ in range(args.warm_runs):
        t = time.perf_counter()
        r = client.get(PAGE)
        warm.append(time.perf_counter() - t)
        assert r.status_code == 200
    out["page_warm_p50_s"], out["page_warm_p95_s"] = round(pct(warm, 50), 3), round(pct(warm, 95), 3)
    # The same page with the report cache off: every request recomputes (warm process, caches of the
    # database and of compiled SQL and templates hot).
    app.config["COMPANION_MOVEMENT_CACHE"] = False
    nocache = []
    for _ in range(max(5, args.warm_runs // 3)):
        t = time.perf_counter()
        r = client.get(PAGE)
        nocache.append(time.perf_counter() - t)
        assert r.status_code == 200
    out["page_uncached_p50_s"], out["page_uncached_p95_s"] = round(pct(nocache, 50), 3), round(pct(nocache, 95), 3)
    from passport import db as dbm
    from passport.companion import workforce
    from passport.verify import movement as mv

    with app.app_context():
        svc, csv_t = [], []
        t_end = date.today()
        for _ in range(10):
            t = time.perf_counter()
            rep = mv.movement(dbm.session, t_end - timedelta(days=364), t_end, None, own_issuer=OWN_ISSUER)
            svc.append(time.perf_counter() - t)
            dbm.session.rollback()
            t = time.perf_counter()
            workforce.csv_text(workforce.build(dbm.session, None, "scheme", own_issuer=OWN_ISSUER, cache=False))
            csv_t.append(time.perf_counter() - t)
            dbm.session.rollback()
        out["service_warm_p50_s"], out["service_warm_p95_s"] = round(pct(svc, 50), 3), round(pct(svc, 95), 3)
        out["csv_warm_p50_s"], out["csv_warm_p95_s"] = round(pct(csv_t, 50), 3), round(pct(csv_t, 95), 3)
        out["report"] = {"joiners": rep.joiners, "leavers": rep.leavers, "moved_within": rep.moved_within,
                         "left_scheme": rep.left_scheme, "turnover_percent": rep.turnover_percent,
                         "flows": len(rep.flows), "acceptances": rep.acceptances, "cc_completed": rep.cc_completed}
        t = time.perf_counter()
        client.get("/health")
        out["floor_health_s"] = round(time.perf_counter() - t, 4)
    os.makedirs("bench/out", exist_ok=True)
    path = f"bench/out/companion-{datetime.now():%Y%m%d-%H%M%S}.json"
    with open(path, "w") as fh:
        json.dump(out, fh, indent=2)
    print(json.dumps(out, indent=2))
    print("written to", path)


if __name__ == "__main__":
    main()
