"""Reassessment reminders through the real SMTP sink, and the delegation commands."""
from __future__ import annotations

import time
from datetime import timedelta

import sqlalchemy as sa

from passport import reminders
from passport.core.access import Principal
from passport.core.timeutil import uk_today
from passport.delegation.models import Competency, Delegation, Task
from passport.mail import get_mailer
from tests.delegation.test_services import assess, delegate

TODAY = uk_today()


def _wait_for(messages, n, timeout=5.0):
    end = time.time() + timeout
    while len(messages) < n and time.time() < end:
        time.sleep(0.05)
    return messages


def _principal(p):
    return Principal(person=p)


def test_reassessment_reminders_sent_once_to_worker_manager_and_professional(app, db, world, mail_to):
    assess(db, _principal, world, world.worker, assessed_on=TODAY - timedelta(days=340),
           valid_until=TODAY + timedelta(days=20))
    delegate(db, _principal, world, world.worker, start_date=TODAY - timedelta(days=100))
    result = reminders.send_due(db, get_mailer(app), TODAY, only=["delegation"])
    assert result["sent"] == 3, result
    got = _wait_for(mail_to, 3)
    assert sorted(m["To"] for m in got) == sorted([world.worker.email, world.manager.email, world.nurse.email])
    assert all("Reassessment due" in m["Subject"] for m in got)
    assert all("R-0412" not in m.get_payload(decode=True).decode() for m in got)  # never the resident reference in an email
    again = reminders.send_due(db, get_mailer(app), TODAY + timedelta(days=1), only=["delegation"])
    assert again["sent"] == 0 and again["skipped"] == 3
    # once it has run out, one "has run out" notice each
    after = reminders.send_due(db, get_mailer(app), TODAY + timedelta(days=22), only=["delegation"])
    assert after["sent"] == 3
    assert any("has run out" in m["Subject"] for m in _wait_for(mail_to, 6))


def test_no_reminders_far_from_expiry(app, db, world, mail_to):
    assess(db, _principal, world, world.worker)
    assert reminders.send_due(db, get_mailer(app), TODAY, only=["delegation"])["sent"] == 0


def test_expire_command(app, db, world):
    assess(db, _principal, world, world.worker, assessed_on=TODAY - timedelta(days=30),
           valid_until=TODAY + timedelta(days=2))
    d = delegate(db, _principal, world, world.worker, start_date=TODAY - timedelta(days=3))
    runner = app.test_cli_runner()
    later = (TODAY + timedelta(days=5)).isoformat()
    out = runner.invoke(args=["delegation", "expire", "--date", later])
    assert out.exit_code == 0, out.output
    assert "1 competence(s) recorded as expired, 1 delegation(s) lapsed." in out.output
    out = runner.invoke(args=["delegation", "expire", "--date", later])
    assert "0 competence(s)" in out.output
    db.refresh(d)
    assert d.end_reason == "lapsed"
    assert db.scalar(sa.select(Competency.expiry_recorded_at).where(Competency.id == d.competency_id))
    bad = runner.invoke(args=["delegation", "expire", "--date", "tomorrow"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output


def test_load_tasks_is_idempotent(app, db):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["delegation", "load-tasks"])
    assert out.exit_code == 0 and "already up to date" in out.output
    before = db.scalar(sa.select(sa.func.count()).select_from(Task))
    assert before >= 18
    assert db.scalar(sa.select(sa.func.count()).select_from(Delegation)) == 0
