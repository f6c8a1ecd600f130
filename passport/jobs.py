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
from huey import MemoryHuey, crontab
from sqlalchemy.orm import Mapped, mapped_column

from passport.db import Base, UTCDateTime, utcnow

MAIL_CHUNK = 2000  # outbox rows per delivery job (setting JOBS_MAIL_CHUNK)
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
    args: Mapped[str | None] = mapped_column(sa.Text)  # JSON: what to run again to resume it
    result: Mapped[str | None] = mapped_column(sa.Text)  # JSON
    error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def as_dict(self) -> dict:
        percent = 100 if self.state == "done" else (int(100 * self.done / self.total) if self.total else 0)
        return {"id": self.id, "kind": self.kind, "title": self.title, "state": self.state,
                "done": min(self.done, self.total) if self.total else self.done,
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
    """A forked worker process must not share the parent's connections (to the database, and Huey's own
    SQL storage connection): drop them, without closing them under the parent, and open new ones."""
    if _app is not None:
        from passport.db import get_engine

        get_engine(_app).dispose(close=False)
    if hasattr(huey.storage, "_conn"):
        huey.storage._conn = None


def run_worker(app, workers: int = 2, worker_type: str = "process") -> None:
    """Run a consumer until it is stopped (SIGINT finishes the jobs in hand; SIGTERM stops at once)."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
    global _app
    _app = app
    configure(app.config["JOBS_URL"])
    from passport.db import get_engine

    if get_engine(app).dialect.name == "sqlite":
        @sa.event.listens_for(get_engine(app), "connect")
        def _no_fsync_per_commit(dbapi_conn, _record):
            # WAL without an fsync per commit (the outbox commits twice a message): a commit still survives
            # the worker being killed, which is what exactly-once is about; a power cut could lose the last
            # few, and those mails would be sent again.
            dbapi_conn.execute("PRAGMA synchronous=NORMAL")

    from passport import db as dbm

    with app.app_context():  # jobs a killed worker left behind
        try:
            resume_stalled(dbm.session)
        finally:
            dbm.session.remove()
    dbm.get_engine(app).dispose()
    if hasattr(huey.storage, "close"):
        huey.storage.close()  # the worker processes forked next open their own
    consumer = huey.create_consumer(workers=workers, worker_type=worker_type, periodic=True,
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
          total: int = 0, args: list | None = None) -> Job:
    """Record a job (flushed; the caller commits, then enqueues). ``args`` (JSON) are what ``RESUME[kind]``
    is called with, after the job id, to resume it."""
    row = Job(kind=kind, title=title, state="queued", total=total, started_by_id=person_id, org_id=org_id,
              args=json.dumps(args or []))
    db.add(row)
    db.flush()
    return row


def _update(job_id: int, **values) -> None:
    """Write progress in its own short transaction, so it shows at once and survives a later rollback.
    The caller's session must not be inside a transaction (on SQLite it would hold the write lock)."""
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


def wait(db, job_id: int, on_progress: Callable[[dict], None] | None = None, timeout: float = 24 * 3600,
         interval: float = 0.5) -> dict:
    """Poll a job until it is done or failed (for the CLI); returns and reports ``Job.as_dict()``."""
    deadline = time.monotonic() + timeout
    while True:
        db.rollback()
        row = db.get(Job, job_id, populate_existing=True).as_dict()
        db.rollback()  # hold no transaction (on SQLite, no lock) while waiting
        if on_progress:
            on_progress(row)
        if row["state"] in ("done", "failed") or time.monotonic() > deadline:
            return row
        time.sleep(interval)


# --- reminders and their mail ---------------------------------------------------------------------------


def enqueue_reminders(db, today: date, only: list[str] | None = None, person_id: int | None = None) -> int:
    """Queue a reminder run; returns the job's id. (The ``enqueue_*`` functions commit and return an id,
    not the row: reading the row again would open a transaction, on SQLite a write lock, and keep it.)"""
    _ensure_queue()
    args = [today.isoformat(), list(only) if only else None]
    job_id = start(db, "reminders", f"Reminders due on {today.isoformat()}", person_id=person_id, args=args).id
    db.commit()
    reminders_job(job_id, *args)
    return job_id


def enqueue_mail(db, person_id: int | None = None) -> int:
    """Deliver whatever is pending in the outbox (mail an interrupted run left, or mail queued elsewhere)."""
    _ensure_queue()
    job_id = start(db, "mail", "Send the mail waiting in the outbox", person_id=person_id).id
    db.commit()
    mail_job(job_id)
    return job_id


@job
def reminders_job(job_id: int, on: str, only: list[str] | None) -> None:
    """Claim what is due into the outbox (idempotent: claimed keys are skipped), then fan the outbox's pending
    rows out to delivery jobs."""
    from passport import db as dbm, reminders

    progress(job_id)
    found = reminders.collect_due(dbm.session, date.fromisoformat(on), only)
    dbm.session.commit()
    _fan_out(job_id, {"due": found["due"], "skipped": found["skipped"]})


@job
def mail_job(job_id: int) -> None:
    progress(job_id)
    _fan_out(job_id, {})


def _fan_out(job_id: int, result: dict) -> None:
    """Split the outbox's pending rows into delivery jobs of MAIL_CHUNK rows. On a resumed job the bar
    carries on from where it was (done = first total - still pending)."""
    from passport import db as dbm, mail

    from flask import current_app

    size = int(current_app.config.get("JOBS_MAIL_CHUNK") or MAIL_CHUNK)
    pending = mail.pending_ids(dbm.session)
    row = dbm.session.get(Job, job_id)
    first_total = row.total if row.total else len(pending)
    dbm.session.commit()
    chunks = [pending[i:i + size] for i in range(0, len(pending), size)]
    _update(job_id, state="running", total=first_total, done=max(first_total - len(pending), 0),
            parts=len(chunks), result=json.dumps(result))
    if not chunks:
        _finish(job_id, result={**result, "sent": first_total})
        return
    for ids in chunks:
        deliver_job(job_id, ids)


@job
def deliver_job(job_id: int | None, ids: list[int]) -> None:
    """Send these outbox rows (those still pending); safe to run again. Rows the server refused for now
    (4xx) are still pending afterwards: the job then fails, so Huey runs it again after its back-off."""
    from flask import current_app

    from passport import db as dbm, mail

    def sent(n: int) -> None:
        if job_id is not None:
            progress(job_id, add=n)

    mail.deliver_outbox(dbm.session, mail.get_mailer(current_app), ids, on_sent=sent)
    left = len(mail.pending_ids(dbm.session, ids))
    dbm.session.rollback()
    if job_id is not None:
        _part_done(job_id)
    if left:
        raise RuntimeError(f"{left} message(s) were refused for now; trying again later")


def _part_done(job_id: int) -> None:
    """One delivery chunk finished. The job is done when nothing in the outbox is pending any more (not when
    its last chunk says so: a chunk lost with a killed worker is sent by the resumed job instead)."""
    from flask import current_app

    from passport.db import get_engine
    from passport.mail import OutboxMail

    table = Job.__table__
    with get_engine(current_app).begin() as conn:
        conn.execute(table.update().where(table.c.id == job_id, table.c.parts > 0).values(parts=table.c.parts - 1))
        pending = conn.scalar(sa.select(sa.func.count()).select_from(OutboxMail.__table__)
                              .where(OutboxMail.__table__.c.state == "pending"))
        row = conn.execute(sa.select(table.c.state, table.c.result, table.c.total).where(table.c.id == job_id)).one()
        if pending == 0 and row.state != "done":
            result = json.loads(row.result or "{}")
            result["sent"] = row.total
            conn.execute(table.update().where(table.c.id == job_id).values(
                state="done", done=row.total, result=json.dumps(result), updated_at=utcnow()))


# --- resuming jobs whose worker died ----------------------------------------------------------------------


def resume_stalled(db, quiet_seconds: float | None = None) -> list[int]:
    """Queue again every job still queued or running that has shown no progress for ``quiet_seconds``
    (default JOBS_RESUME_AFTER, 120 s): its worker was killed or lost its task. Every job carries on from
    the database, so resuming one that was only slow does no harm. Returns the job ids."""
    from datetime import timedelta

    from flask import current_app

    _ensure_queue()
    if quiet_seconds is None:
        quiet_seconds = float(current_app.config.get("JOBS_RESUME_AFTER", 120))
    cutoff = utcnow() - timedelta(seconds=quiet_seconds)
    rows = db.scalars(sa.select(Job).where(Job.state.in_(("queued", "running")), Job.updated_at <= cutoff)).all()
    resumed = []
    todo = [(row.id, row.kind, json.loads(row.args or "[]")) for row in rows if row.kind in RESUME]
    db.rollback()
    for job_id, kind, args in todo:
        _update(job_id)  # marks it as seen now, so another worker does not resume it too
        RESUME[kind](job_id, *args)
        resumed.append(job_id)
    return resumed


# --- bulk re-issue after a key rotation ------------------------------------------------------------------


def enqueue_reissue(db, kid: str | None, issue_reason: str = "key_rotation", person_id: int | None = None,
                    org_id: int | None = None) -> int:
    from passport.certificates import services

    _ensure_queue()
    total = len(services.current_passport_ids(db, kid))
    title = f"Re-issue passports signed by key {kid}" if kid else "Re-issue every current passport"
    job_id = start(db, "reissue", title, person_id=person_id, org_id=org_id, total=total, args=[kid, issue_reason]).id
    db.commit()
    reissue_job(job_id, kid, issue_reason)
    return job_id


@job
def reissue_job(job_id: int, kid: str | None, issue_reason: str) -> None:
    """Re-issue, in committed batches of 200, the current passports still signed by ``kid``. A re-issued
    passport is superseded, so a retry or a second run carries on where the last stopped."""
    from flask import current_app

    from passport import audit, db as dbm
    from passport.certificates import services

    cfg = current_app.config
    ids = services.current_passport_ids(dbm.session, kid)
    already = (dbm.session.get(Job, job_id).total or len(ids)) - len(ids)
    dbm.session.rollback()  # progress is written on its own connection: hold no lock here (SQLite)
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


RESUME: dict[str, Callable] = {"reminders": reminders_job, "mail": mail_job, "reissue": reissue_job}


@huey.periodic_task(crontab(minute="*"), name="resume_stalled")
def _resume_every_minute():
    from passport import db as dbm

    with _worker_app().app_context():
        try:
            resume_stalled(dbm.session)
        finally:
            dbm.session.remove()
