"""The reminder catch-up on the job queue: N reminders claimed into the outbox, then delivered by
``passport worker --workers W`` (separate processes, the real Huey consumer) to a local SMTP server (aiosmtpd,
in its own process), timed from the claim to the last mail accepted.

    bash scripts/with-postgres.sh .venv/bin/python bench/reminders_queue.py --mails 308218 --workers 4
    .venv/bin/python bench/reminders_queue.py --mails 20000 --workers 4      # SQLite file, for a quick look

The reminders come from a synthetic source (the catch-up's 308,218 are what 100,000 workers have due in
``bench/courses_generate.py``'s data; finding them took 4.6 s there, see "Courses" in README.md), so this
measures what the queue does: claiming, the outbox, and delivery. Each mail is built by the real mailer.
Floor in the same run: one process, one connection, the same mails (``--floor N`` of them).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

SINK = r'''
import sys, time
from aiosmtpd.controller import Controller
class H:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"
c = Controller(H(), hostname="127.0.0.1", port=int(sys.argv[1])); c.start()
while True:
    time.sleep(3600)
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mails", type=int, default=308218)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--floor", type=int, default=2000, help="mails sent inline over one connection first")
    args = parser.parse_args()

    from passport import create_app, db as dbm, jobs, mail, reminders
    from passport.cli import upgrade

    tmp = tempfile.mkdtemp(prefix="bench-reminders-")
    port = free_port()
    sink = subprocess.Popen([sys.executable, "-c", SINK, str(port)], start_new_session=True)
    time.sleep(1.0)
    url = os.environ.get("PASSPORT_TEST_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite"
    settings = {"DATABASE_URL": url, "JOBS_URL": f"sqlite:///{tmp}/jobs.sqlite", "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": port, "SECRET_KEY": "bench-" + "b" * 40, "KEY_DIR": f"{tmp}/keys"}
    app = create_app(settings)
    upgrade(app)
    run = int(time.time())

    def source(n, tag):
        def due(db, today):
            return [reminders.Reminder(key=f"bench-{tag}-{run}:{i}", to_email=f"worker{i}@example.test",
                                       subject=f"Your Moving and handling training expires in 30 days ({i})",
                                       body=f"Hello worker {i},\n\nYour Moving and handling training expires on "
                                            f"8 January 2027.\nBook a course with your training lead.\n")
                    for i in range(n)]
        return due

    results: dict = {"mails": args.mails, "workers": args.workers, "database": url.split(":")[0]}
    with app.app_context():
        db = dbm.session
        # floor: the same kind of mail, one process, one connection (MAIL_CONNECTIONS=1), inline
        reminders.register_source("bench-floor", source(args.floor, "floor"))
        app.config["MAIL_CONNECTIONS"] = 1
        t = time.perf_counter()
        r = reminders.send_due(db, mail.get_mailer(app), date.today(), only=["bench-floor"])
        floor_s = time.perf_counter() - t
        results["floor"] = {"mails": r["sent"], "seconds": round(floor_s, 2), "per_s": round(r["sent"] / floor_s)}
        app.config["MAIL_CONNECTIONS"] = 8
        print(json.dumps(results["floor"]), flush=True)

        reminders.register_source("bench", source(args.mails, "run"))
        t0 = time.perf_counter()
        found = reminders.collect_due(db, date.today(), only=["bench"])
        claim_s = time.perf_counter() - t0
        job_id = jobs.enqueue_mail(db)
        env = {**os.environ, **{"PASSPORT_" + k: str(v) for k, v in settings.items()}}
        env.pop("PASSPORT_TEST_DATABASE_URL", None)
        worker = subprocess.Popen([sys.executable, "-c", "from passport.cli import main; main()", "worker",
                                   "--workers", str(args.workers)], cwd=ROOT, env=env, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=open(f"{tmp}/worker.log", "w"))
        try:
            last = 0.0
            while True:
                row = db.get(jobs.Job, job_id, populate_existing=True).as_dict()
                db.rollback()
                if row["state"] in ("done", "failed"):
                    break
                if time.perf_counter() - last > 5:
                    print(f"  {row['done']:,} / {row['total']:,}", flush=True)
                    last = time.perf_counter()
                time.sleep(0.2)
            total_s = time.perf_counter() - t0
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait()
        import sqlalchemy as sa

        sent = db.scalar(sa.select(sa.func.count()).select_from(mail.OutboxMail).where(
            mail.OutboxMail.state == "sent", mail.OutboxMail.key.like(f"bench-run-{run}:%")))
        db.rollback()
    os.killpg(sink.pid, signal.SIGTERM)
    results.update({"claimed": len(found["outbox"]), "claim_s": round(claim_s, 1), "sent": sent,
                    "total_s": round(total_s, 1), "deliver_s": round(total_s - claim_s, 1),
                    "per_s": round(sent / (total_s - claim_s)), "job": row["state"]})
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
