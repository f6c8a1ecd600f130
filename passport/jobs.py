"""Background jobs on Huey (https://huey.readthedocs.io): reminders and their mail, and bulk re-issue after
a key rotation.

Where the queue lives is one setting, ``PASSPORT_JOBS_URL``:

- ``sqlite:///path/jobs.sqlite`` (the default, ``instance/jobs.sqlite``): Huey's SQLite storage, no extra
  server -- ``make run`` starts ``passport worker`` next to the web server;
- ``redis://host:6379/0``: Redis, for several worker processes on several machines;
- ``postgresql://...``: Huey's PostgreSQL storage, if Redis is not wanted.

Workers run ``passport worker --workers N`` (processes). Every job is idempotent -- it works from rows in
the database that say what is left to do (the outbox, the passports still signed by an old key) -- and is
retried with exponential back-off when it fails, so running a job twice, or again after its worker was
killed, finishes the work without doing any part twice. Progress is kept in ``core_job`` for the person who
started the job: ``/jobs/<id>`` (a page with a progress bar that refreshes itself) and
``/jobs/<id>/progress.json``; the CLI shows a progress bar while it waits.
"""
from __future__ import annotations

import functools
import json
import os
import time
from datetime import date, datetime
from typing import Callable

import sqlalchemy as sa
from huey import MemoryHuey
from sqlalchemy.orm import Mapped, mapped_column

from passport.db import Base, UTCDateTime, utcnow

MAIL_CHUNK = 2000  # outbox rows per delivery job
RETRIES = 6  # back-off 2, 4, 8, 16, 32, 64 s

# The queue. Storage is chosen by ``configure`` (from PASSPORT_JOBS_URL) before anything is enqueued.
huey = MemoryHuey("passport", results=False)
_configured: str | None = None
_app = None


class Job(Base):
    """One background job as the person who started it sees it."""
    __tablename__ = "core_job"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(200))
    state: Mapped[str] = mapped_column(sa.String(10), default="queued")  # queued|running|done|failed
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    parts: Mapped[int] = mapped_column(default=0)  # sub-jobs still to finish (mail delivery chunks)
    started_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_person.id"), index=True)
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("core_organisation.id"))
    result: Mapped[str | None] = mapped_column(sa.Text)  # JSON
    error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def as_dict(self) -> dict:
        percent = 100 if self.state == "done" else (int(100 * self.done / self.total) if self.total else 0)
        return {"id": self.id, "kind": self.kind, "title": self.title, "state": self.state, "done": self.done,
                "total": self.total, "percent": min(percent, 100),
                "result": json.loads(self.result) if self.result else None, "error": self.error}


# --- the queue's storage -------------------------------------------------------------------------------


def storage_for(url: str):
    """The Huey storage for a PASSPORT_JOBS_URL."""
    from huey.storage import PostgresStorage, RedisStorage, SqliteStorage

    if url.startswith("redis://") or url.startswith("rediss://") or url.startswith("unix://"):
        return RedisStorage(name="passport", url=url)
    if url.startswith("postgresql"):
        return PostgresStorage(name="passport", dsn=url.replace("postgresql+psycopg://", "postgresql://"))
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        return SqliteStorage(name="passport", filename=path, timeout=30)
    raise ValueError("PASSPORT_JOBS_URL must start with sqlite:///, redis:// or postgresql://")


def configure(url: str) -> None:
    global _configured
    if _configured != url:
        huey.storage = storage_for(url)
        _configured = url


def init_app(app) -> None:
    if not app.config.get("JOBS_URL"):
        app.config["JOBS_URL"] = "sqlite:///" + os.path.join(app.instance_path, "jobs.sqlite")
    from passport.jobs_views import bp

    app.register_blueprint(bp)


def _ensure_queue() -> None:
    """Point the queue at this app's storage (on first use, so an app that never queues creates nothing)."""
    from flask import current_app

    configure(current_app.config["JOBS_URL"])


def _worker_app():
    global _app
    if _app is None:
        from passport import create_app

        _app = create_app()
    return _app


@huey.on_startup()
def _fresh_connections():
    """A forked worker process must not share the parent's database connections."""
    if _app is not None:
        from passport.db import get_engine

        get_engine(_app).dispose(close=False)


def run_worker(app, workers: int = 2, worker_type: str = "process") -> None:
    """Run a consumer until it is stopped (SIGINT finishes the jobs in hand; SIGTERM stops at once)."""
    global _app
    _app = app
    configure(app.config["JOBS_URL"])
    consumer = huey.create_consumer(workers=workers, worker_type=worker_type, periodic=False,
                                    initial_delay=0.05, max_delay=1.0, backoff=1.15, check_worker_health=True)
    consumer.run()


def job(fn: Callable) -> Callable:
    """A Huey task run in an app context, retried with exponential back-off (2 s, 4 s, ... 64 s). The last
    failure marks its ``core_job`` row failed (when the first argument is a job id)."""

    @huey.task(retries=RETRIES, retry_delay=2, context=True, name=fn.__name__)
    @functools.wraps(fn)
    def run(*args, task=None, **kwargs):
        from passport import db as dbm

        with _worker_app().app_context():
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                dbm.session.rollback()
                if task is not None and task.retries:
                    task.retry_delay = 2 ** (RETRIES - task.retries + 1)
                elif args and isinstance(args[0], int):
                    _finish(args[0], state="failed", error=f"{type(exc).__name__}: {exc}"[:500])
                raise
            finally:
                dbm.session.remove()

    return run


# --- progress ------------------------------------------------------------------------------------------


def start(db, kind: str, title: str, *, person_id: int | None = None, org_id: int | None = None,
          total: int = 0) -> Job:
    """Record a job (flushed; the caller commits, then enqueues)."""
    row = Job(kind=kind, title=title, state="queued", total=total, started_by_id=person_id, org_id=org_id)
    db.add(row)
    db.flush()
    return row


def _update(job_id: int, **values) -> None:
    """Write progress in its own short transaction, so it shows at once and survives a later rollback."""
    from flask import current_app

    from passport.db import get_engine

    table = Job.__table__
    with get_engine(current_app).begin() as conn:
        conn.execute(table.update().where(table.c.id == job_id).values(updated_at=utcnow(), **values))


def progress(job_id: int, done: int | None = None, *, add: int = 0, total: int | None = None) -> None:
    table = Job.__table__
    values: dict = {"state": sa.case((table.c.state == "queued", "running"), else_=table.c.state)}
    if done is not None:
        values["done"] = done
    if add:
        values["done"] = table.c.done + add
    if total is not None:
        values["total"] = total
    _update(job_id, **values)


def _finish(job_id: int, state: str = "done", result: dict | None = None, error: str | None = None) -> None:
    _update(job_id, state=state, result=json.dumps(result) if result is not None else None, error=error)


def get(db, job_id: int) -> Job | None:
    return db.get(Job, job_id)


def wait(db, job_id: int, on_progress: Callable[[Job], None] | None = None, timeout: float = 24 * 3600,
         interval: float = 0.5) -> Job:
    """Poll a job until it is done or failed (for the CLI)."""
    deadline = time.monotonic() + timeout
    while True:
        db.rollback()
        row = db.get(Job, job_id)
        db.refresh(row)
        if on_progress:
            on_progress(row)
        if row.state in ("done", "failed") or time.monotonic() > deadline:
            return row
        time.sleep(interval)


# --- reminders and their mail ---------------------------------------------------------------------------


def enqueue_reminders(db, today: date, only: list[str] | None = None, person_id: int | None = None) -> Job:
    _ensure_queue()
    row = start(db, "reminders", f"Reminders due on {today.isoformat()}", person_id=person_id)
    db.commit()
    reminders_job(row.id, today.isoformat(), list(only) if only else None)
    return row


@job
def reminders_job(job_id: int, on: str, only: list[str] | None) -> None:
    """Claim what is due into the outbox (idempotent: claimed keys are skipped), then fan the outbox's pending
    rows out to delivery jobs, MAIL_CHUNK rows each."""
    from passport import db as dbm, mail, reminders

    progress(job_id)
    found = reminders.collect_due(dbm.session, date.fromisoformat(on), only)
    pending = mail.pending_ids(dbm.session)  # also picks up anything an earlier, interrupted run left
    dbm.session.commit()
    chunks = [pending[i:i + MAIL_CHUNK] for i in range(0, len(pending), MAIL_CHUNK)]
    _update(job_id, total=len(pending), parts=len(chunks), done=0,
            result=json.dumps({"due": found["due"], "skipped": found["skipped"]}))
    if not chunks:
        _finish(job_id, result={"due": found["due"], "skipped": found["skipped"], "sent": 0})
        return
    for ids in chunks:
        deliver_job(job_id, ids)


@job
def deliver_job(job_id: int | None, ids: list[int]) -> None:
    """Send these outbox rows (those still pending); safe to run again."""
    from flask import current_app

    from passport import db as dbm, mail

    def sent(n: int) -> None:
        if job_id is not None:
            progress(job_id, add=n)

    mail.deliver_outbox(dbm.session, mail.get_mailer(current_app), ids, on_sent=sent)
    if job_id is not None:
        _part_done(job_id)


def _part_done(job_id: int) -> None:
    """One delivery chunk finished; the last one marks the job done (with counts from the outbox)."""
    from flask import current_app

    from passport.db import get_engine

    table = Job.__table__
    with get_engine(current_app).begin() as conn:
        conn.execute(table.update().where(table.c.id == job_id, table.c.parts > 0).values(parts=table.c.parts - 1))
        row = conn.execute(sa.select(table.c.parts, table.c.result, table.c.done).where(table.c.id == job_id)).one()
        if row.parts == 0:
            result = json.loads(row.result or "{}")
            result["sent"] = row.done
            conn.execute(table.update().where(table.c.id == job_id).values(
                state="done", result=json.dumps(result), updated_at=utcnow()))


def deliver_pending() -> None:
    """Queue delivery of whatever is pending in the outbox (after a crash, or mail queued by a request)."""
    from passport import db as dbm, mail

    _ensure_queue()
    pending = mail.pending_ids(dbm.session)
    for i in range(0, len(pending), MAIL_CHUNK):
        deliver_job(None, pending[i:i + MAIL_CHUNK])


# --- bulk re-issue after a key rotation ------------------------------------------------------------------


def enqueue_reissue(db, kid: str | None, issue_reason: str = "key_rotation", person_id: int | None = None,
                    org_id: int | None = None) -> Job:
    from passport.certificates import services

    _ensure_queue()
    total = len(services.current_passport_ids(db, kid))
    title = f"Re-issue passports signed by key {kid}" if kid else "Re-issue every current passport"
    row = start(db, "reissue", title, person_id=person_id, org_id=org_id, total=total)
    db.commit()
    reissue_job(row.id, kid, issue_reason)
    return row


@job
def reissue_job(job_id: int, kid: str | None, issue_reason: str) -> None:
    """Re-issue, in committed batches of 200, the current passports still signed by ``kid``. A re-issued
    passport is superseded, so a retry or a second run carries on where the last stopped."""
    from flask import current_app

    from passport import audit, db as dbm
    from passport.certificates import services

    cfg = current_app.config
    ids = services.current_passport_ids(dbm.session, kid)
    dbm.session.rollback()
    already = (dbm.session.get(Job, job_id).total or len(ids)) - len(ids)
    progress(job_id, done=max(already, 0))
    done = 0
    skipped: list = []
    for i in range(0, len(ids), 200):
        done += services.reissue_signed_by(dbm.session, kid, key_dir=cfg["KEY_DIR"], public_url=cfg["PUBLIC_URL"],
                                           actor=audit.Actor.system("re-issue job"), issue_reason=issue_reason,
                                           skipped=skipped, ids=ids[i:i + 200])
        dbm.session.commit()
        progress(job_id, add=len(ids[i:i + 200]))
    _finish(job_id, result={"reissued": done, "skipped": len(skipped)})
