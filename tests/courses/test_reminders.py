"""Training reminders through a real SMTP server (aiosmtpd): stages before expiry, weekly while overdue, a
manager digest, and never the same reminder twice."""
from datetime import timedelta

from passport.core import records
from passport.core.access import today
from passport.courses import requirements as rq
from passport.courses.training_reminders import stage
from tests.courses.conftest import d


def test_stage_rules():
    offsets = [60, 30, 7, 0]
    assert [stage(n, offsets) for n in (61, 60, 45, 30, 8, 7, 1, 0)] == [None, "60", "60", "30", "30", "7", "7", "0"]
    assert [stage(n, offsets) for n in (-1, -7, -8, -15)] == ["overdue-0", "overdue-0", "overdue-1", "overdue-2"]


def _setup(db, world):
    rq.set_requirements(db, world.p(world.lead), world.home.id, "care_worker", [6, 8])
    w = world.workers

    def add(person, code, expires_in):
        return records.add_training_record(db, world.p(world.lead), person_id=person.id, org_id=world.home.id,
                                           category_code=code, completed_on=d(300),
                                           expires_on=today() + timedelta(days=expires_in), source="manual")

    return {"soon": add(w[0], 6, 30), "sixty": add(w[1], 6, 45), "overdue": add(w[2], 6, -3), "later": add(w[3], 6, 100),
            "never": records.add_training_record(db, world.p(world.lead), person_id=w[3].id, org_id=world.home.id,
                                                 category_code=8, completed_on=d(10), source="manual", no_expiry=True)}


def _send(app, on=None):
    args = ["courses", "send-reminders"] + (["--date", on.isoformat()] if on else [])
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    return result.output


def by_to(messages):
    out = {}
    for m in messages:
        out.setdefault(m["To"], []).append(m)
    return out


def test_reminders_sent_once_with_digest(app, db, world, mail_to):
    recs = _setup(db, world)
    db.commit()
    w = world.workers
    out = _send(app)
    got = by_to(mail_to)
    assert "expires in 30 days" in got[w[0].email][0]["Subject"]
    assert "expires in 45 days" in got[w[1].email][0]["Subject"]
    assert got[w[2].email][0]["Subject"].startswith("Overdue: your Fire safety training expired 3 days ago")
    assert w[3].email not in got  # 100 days away, and the other subject never expires
    for person in (world.manager, world.lead):  # registered manager and training lead get one digest each
        [digest] = got[person.email]
        body = digest.get_payload(decode=True).decode()
        assert "Training due or overdue: 3 items" in digest["Subject"]
        assert w[0].full_name in body and w[2].full_name in body and w[3].full_name not in body
    assert world.assessor.email not in got and world.other_lead.email not in got
    sent = len(mail_to)
    assert out.startswith(f"{sent} sent")
    # running again the same day sends nothing new
    again = _send(app)
    assert len(mail_to) == sent and again.startswith("0 sent")
    # tomorrow: nobody reached a new stage, so no new mail and no digest
    _send(app, today() + timedelta(days=1))
    assert len(mail_to) == sent
    # 23 days on, the 30-day item reaches 7 days and the overdue one is due its weekly notice
    _send(app, today() + timedelta(days=23))
    new = by_to(mail_to[sent:])
    assert "expires in 7 days" in new[w[0].email][0]["Subject"]
    assert "Overdue" in new[w[2].email][0]["Subject"]
    assert world.manager.email in new
    count = len(mail_to)
    # a renewal stops the reminders for that subject
    records.add_training_record(db, world.p(world.lead), person_id=w[2].id, org_id=world.home.id, category_code=6,
                                completed_on=today(), source="manual")
    db.commit()
    _send(app, today() + timedelta(days=30))
    assert not any(m["To"] == w[2].email for m in mail_to[count:])
    assert recs["soon"].id  # keys name the record: training:<record id>:<offset>


def test_offsets_and_digest_are_configurable(app, db, world, mail_to):
    _setup(db, world)
    rq.save_settings(db, world.p(world.lead), world.home.id, {"amber_days": 30, "reminder_offsets": "90, 14",
                                                              "manager_digest": False, "local_est_id": ""})
    db.commit()
    _send(app)
    got = by_to(mail_to)
    assert world.manager.email not in got and world.lead.email not in got
    assert {m["To"] for m in mail_to} >= {world.workers[0].email, world.workers[1].email, world.workers[2].email}
    assert world.workers[3].email not in got  # 100 days is beyond the 90-day offset


def test_reminders_run_through_the_core_command_too(app, db, world, mail_to):
    _setup(db, world)
    db.commit()
    result = app.test_cli_runner().invoke(args=["reminders", "send", "--only", "training"])
    assert result.exit_code == 0 and len(mail_to) >= 3
