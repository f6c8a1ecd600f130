"""A real job consumer (``passport worker``, separate processes) is killed with SIGKILL half-way through
sending mail to a real SMTP server (aiosmtpd); a new one resumes the job. Every message arrives exactly once."""
from __future__ import annotations

import asyncio
import collections
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from passport import create_app, db as dbm, jobs, mail
from passport.cli import upgrade

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = 1500

# The worker and this test share a database file of their own, so the test runs once, in the SQLite run.
pytestmark = pytest.mark.skipif(bool(os.environ.get("PASSPORT_TEST_DATABASE_URL")),
                                reason="runs once, in the SQLite run (its own database file)")


class SlowSink:
    """Collects the subject of every message the server accepts; each takes a couple of milliseconds."""

    def __init__(self):
        self.subjects: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.002)
        from email import message_from_bytes

        self.subjects.append(message_from_bytes(envelope.content)["Subject"])
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_worker(env: dict, log) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "from passport.cli import main; main()", "worker", "--workers", "2"],
                            cwd=ROOT, env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen, sig=signal.SIGKILL) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_killed_worker_loses_nothing_and_sends_nothing_twice(tmp_path):
    from aiosmtpd.controller import Controller

    sink = SlowSink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings = {"DATABASE_URL": f"sqlite:///{tmp_path}/kill.sqlite", "JOBS_URL": f"sqlite:///{tmp_path}/jobs.sqlite",
                "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "SECRET_KEY": "kill-test-" + "k" * 32,
                "KEY_DIR": str(tmp_path / "keys"), "JOBS_RESUME_AFTER": 1, "JOBS_MAIL_CHUNK": 200}
    env = {**os.environ, **{"PASSPORT_" + k: str(v) for k, v in settings.items()}}
    env.pop("PASSPORT_TEST_DATABASE_URL", None)
    app = create_app(settings)
    upgrade(app)
    workers = []
    log = open(tmp_path / "worker.log", "w")
    try:
        with app.app_context():
            db = dbm.session
            mail.queue_mail(db, [{"key": f"kill-test:{i}", "to_email": f"person{i}@example.test",
                                  "subject": f"Message {i}", "body": f"Body {i}"} for i in range(N)])
            db.commit()
            job_id = jobs.enqueue_mail(db)

            workers.append(_start_worker(env, log))
            _wait_for(lambda: len(sink.subjects) >= N // 3, 60, "a third of the mail")
            _stop(workers[-1])  # SIGKILL to the consumer and its worker processes, mid-run
            at_kill = len(sink.subjects)
            assert at_kill < N, "the run finished before the worker was killed"
            time.sleep(1.5)  # the job is now quiet for longer than JOBS_RESUME_AFTER
            assert len(sink.subjects) <= at_kill + 2  # at most the messages already handed over arrive

            workers.append(_start_worker(env, log))  # resumes the stalled job on start

            def finished():
                state = db.get(jobs.Job, job_id, populate_existing=True).state
                db.rollback()  # no transaction (on SQLite, no write lock) held between polls
                return state == "done"

            _wait_for(finished, 90, "the resumed job to finish")
            _stop(workers[-1], signal.SIGTERM)
            states = collections.Counter(db.scalars(sa.select(mail.OutboxMail.state)))
            not_sent = db.scalars(sa.select(mail.OutboxMail.subject).where(mail.OutboxMail.state != "sent")).all()
            job = db.get(jobs.Job, job_id).as_dict()
        received = collections.Counter(sink.subjects)
        assert [s for s, n in received.items() if n > 1] == []  # nothing twice
        assert set(received) == {f"Message {i}" for i in range(N)}  # nothing lost
        assert states["pending"] == 0 and states["failed"] == 0
        assert set(not_sent) <= set(received)  # a row left 'sending' by the kill had been handed over
        assert job["state"] == "done" and job["done"] == N and job["percent"] == 100
    finally:
        for w in workers:
            if w.poll() is None:
                _stop(w)
        controller.stop()
        dbm.get_engine(app).dispose()
        log.close()
        print((tmp_path / "worker.log").read_text()[-3000:])
