"""Certificates benchmark: sign, QR PNG, whole issuance (same run), and bulk re-issue after a key rotation.

Run from the repository root (see bench/README.md, section "certificates"):

    .venv/bin/python bench/certificates_issue.py                      # SQLite in a temporary directory
    PG_TEST_PORT=55441 bash scripts/with-postgres.sh .venv/bin/python bench/certificates_issue.py --postgres

Targets: whole issuance < 1.3 x the time segno takes to encode the same QR content as a PNG (issue 10:
with the larger version-2 token: full Care Certificate, 16 mandatory subjects, the Level 2 qualification
and 8 delegated tasks); bulk re-issue >= 25 passports/s.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


SUBJECTS = [6, 7, 8, 9, 10, 13, 14, 15, 16, 19, 20, 22, 23, 25, 28, 32]
TASKS = ["insulin_pen", "blood_glucose", "dry_dressing", "catheter_care", "stoma_care", "peg_feeding", "eye_drops",
         "bowel_care"]


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _people(db, org, n: int, start: int = 0) -> list[int]:
    """Insert ``n`` workers with a complete 2025 Care Certificate, 16 in-date mandatory subjects and the
    Level 2 Adult Social Care Certificate, in bulk (setup, not measured)."""
    import sqlalchemy as sa

    from passport.core.models import Membership, Person, Qualification, StandardAchievement, TrainingRecord

    first = db.execute(sa.insert(Person).returning(Person.id), [
        {"given_name": f"Worker{i}", "family_name": f"Benchmark-Surname{i}", "email": f"bench{i}@bench.test"}
        for i in range(start, start + n)]).scalars().all()
    ids = list(first)
    db.execute(sa.insert(Membership), [{"person_id": pid, "org_id": org.id, "role": "worker",
                                        "job_role": "care_worker", "start_date": date(2024, 1, 1)} for pid in ids])
    met = date.today() - timedelta(days=30)
    db.execute(sa.insert(StandardAchievement), [
        {"person_id": pid, "org_id": org.id, "framework": "2025", "standard_number": s, "met_on": met,
         "source": "assessment", "evidence": ""} for pid in ids for s in range(1, 17)])
    db.execute(sa.insert(TrainingRecord), [
        {"person_id": pid, "org_id": org.id, "category_code": code, "title": "Benchmark", "source": "course",
         "completed_on": met - timedelta(days=i), "expires_on": met + timedelta(days=300 - i)}
        for pid in ids for i, code in enumerate(SUBJECTS)])
    db.execute(sa.insert(Qualification), [
        {"person_id": pid, "org_id": org.id, "kind": "l2_ascc", "title": "Level 2 Adult Social Care Certificate",
         "awarding_organisation": "NQual", "qualification_number": "610/4009/5", "achieved_on": met,
         "source": "course"} for pid in ids])
    db.flush()
    return ids


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=40, help="repetitions for the per-passport timings")
    ap.add_argument("--bulk", type=int, default=10_000, help="passports in the bulk re-issue")
    ap.add_argument("--postgres", action="store_true", help="use PASSPORT_TEST_DATABASE_URL (with-postgres.sh)")
    args = ap.parse_args()

    from passport import audit, create_app, db as dbm
    from passport.certificates import keys as keyring, qr, render, services, tokens
    from passport.cli import upgrade
    from passport.core.models import Organisation

    tmp = tempfile.mkdtemp(prefix="certbench-")
    url = os.environ["PASSPORT_TEST_DATABASE_URL"] if args.postgres else f"sqlite:///{tmp}/bench.sqlite"
    app = create_app({"SECRET_KEY": "bench-" + "x" * 40, "DATABASE_URL": url, "KEY_DIR": os.path.join(tmp, "keys"),
                      "PUBLIC_URL": "https://passport.example.org"})
    upgrade(app)
    actor = audit.Actor.system("benchmark")
    with app.app_context():
        db = dbm.session
        until = date.today() + timedelta(days=200)
        cfg = {"key_dir": app.config["KEY_DIR"], "public_url": app.config["PUBLIC_URL"],
               "competencies": [(t, "safe_unsupervised", until + timedelta(days=i)) for i, t in enumerate(TASKS)]}
        for purpose in ("passport", "openbadge"):
            keyring.create_key(db, cfg["key_dir"], purpose, actor=actor)
        org = Organisation(name="Benchmark Care Home", kind="care_home")
        db.add(org)
        db.flush()
        ids = _people(db, org, args.reps + 5)
        db.commit()
        print(f"database: {db.get_bind().dialect.name}; python {sys.version.split()[0]}; cpus {os.cpu_count()}; "
              f"load average {os.getloadavg()[0]:.1f}")

        # warm-up (imports, key load, fit cache)
        p0 = services.issue_passport(db, None, ids[-1], org.id, actor=actor, **cfg)
        render.artifact(db, p0, "qr.png", cfg["public_url"])
        db.commit()
        key = keyring.active_key(db, "passport")

        import io

        import segno

        sign_t, qr_t, whole_t, floor_t = [], [], [], []
        for i in range(args.reps):
            claims = dict(p0.claims, jti=tokens.new_jti())
            t = time.perf_counter()
            token = tokens.sign_token(claims, key, cfg["key_dir"])
            sign_t.append(time.perf_counter() - t)
            mode, version = qr.fit(token, cfg["public_url"])
            t = time.perf_counter()
            qr.png(token, cfg["public_url"], mode, version)
            qr_t.append(time.perf_counter() - t)
            t = time.perf_counter()  # the floor: segno alone, same QR content, PNG
            segno.make(qr._segments(token, cfg["public_url"], mode), error="q", version=version,
                       boost_error=False).save(io.BytesIO(), kind="png", scale=8, border=4)
            floor_t.append(time.perf_counter() - t)
            t = time.perf_counter()  # whole issuance: sign, QR, store (commit)
            p = services.issue_passport(db, None, ids[i], org.id, actor=actor, **cfg)
            render.artifact(db, p, "qr.png", cfg["public_url"])
            db.commit()
            whole_t.append(time.perf_counter() - t)
        sign_ms, qr_ms, whole_ms = _median_ms(sign_t), _median_ms(qr_t), _median_ms(whole_t)
        floor_ms = _median_ms(floor_t)
        print(f"stated: {len(p.subjects)} subjects, qualification {bool(p.qualification)}, {len(p.competencies)} tasks")
        print(f"sign token (ES256, v2):        median {sign_ms:8.3f} ms  ({len(token)} chars, QR v{version} {mode})")
        print(f"QR PNG encode (qr.png):        median {qr_ms:8.3f} ms")
        print(f"segno PNG, same content:       median {floor_ms:8.3f} ms  (the floor)")
        print(f"whole issuance (facts+sign+QR+store): median {whole_ms:8.3f} ms  = {whole_ms / floor_ms:.2f} x segno "
              f"(target < 1.30) -> {'PASS' if whole_ms / floor_ms < 1.3 else 'FAIL'}")

        # bulk: issue N passports, rotate the key, re-issue them all (PDF/QR rendered lazily later)
        bulk_ids = _people(db, org, args.bulk, start=100_000)
        db.commit()
        t, c = time.perf_counter(), time.process_time()
        for n, pid in enumerate(bulk_ids, 1):
            services.issue_passport(db, None, pid, org.id, actor=actor, **cfg)
            if n % 500 == 0:
                db.commit()
        db.commit()
        first, first_cpu = time.perf_counter() - t, time.process_time() - c
        print(f"bulk first issue of {args.bulk}:  {first:7.1f} s = {args.bulk / first:7.1f} passports/s "
              f"(this process's CPU: {args.bulk / first_cpu:7.1f} passports per CPU-second)")
        old = keyring.active_key(db, "passport")
        keyring.rotate_key(db, cfg["key_dir"], "passport", actor=actor)
        db.commit()
        t, c = time.perf_counter(), time.process_time()
        count = services.reissue_signed_by(db, old.kid, actor=actor, **cfg, progress=lambda n: db.commit())
        db.commit()
        took, cpu = time.perf_counter() - t, time.process_time() - c
        rate = count / took
        print(f"bulk re-issue after rotation: {count} passports in {took:7.1f} s = {rate:7.1f} passports/s "
              f"(target >= 25) -> {'PASS' if rate >= 25 else 'FAIL'}; "
              f"this process's CPU: {count / cpu:7.1f} passports per CPU-second")
        print(f"load average at the end: {os.getloadavg()[0]:.1f} (on {os.cpu_count()} CPUs)")
    dbm.get_engine(app).dispose()


if __name__ == "__main__":
    main()
