"""Automatic supersession: a passport is re-issued when what it states changes."""
from __future__ import annotations

from datetime import date, timedelta

from passport import audit
from passport.certificates import keys as keyring, services
from passport.core import records, services as core
from passport.core.access import today
from passport.signals import competence_changed


def test_new_standard_signed_off_reissues(db, home, sign_off, issue):
    org, people = home
    sign_off(people["newbie"], org, count=3)
    p = issue(people["newbie"], org_id=org.id)
    records.record_achievement(db, None, person_id=people["newbie"].id, org_id=org.id, framework="2025",
                               standard_number=4, met_on=today(), source="assessment",
                               actor=audit.Actor.system("tests"))
    new = services.current_passport(db, people["newbie"].id)
    assert new.id != p.id and new.issue_reason == "changed" and p.superseded_by_id == new.id
    assert new.standards_met == [1, 2, 3, 4] and new.org_id == org.id


def test_rename_reissues(db, home, issue, principal):
    org, people = home
    p = issue(people["worker"], org_id=org.id)
    core.update_person(db, principal(people["manager"]), people["worker"].id,
                       {"given_name": "Amelie", "family_name": "Okonkwo", "email": people["worker"].email})
    new = services.current_passport(db, people["worker"].id)
    assert new.id != p.id and new.claims["n"] == {"g": "Amelie", "f": "Okonkwo"}


def test_unchanged_facts_do_not_reissue(db, home, issue):
    org, people = home
    p = issue(people["worker"], org_id=org.id)
    competence_changed.send(people["worker"].id, db=db, actor=audit.Actor.system("tests"), task_code="insulin_pen",
                            change="granted")
    assert services.current_passport(db, people["worker"].id).id == p.id


def test_no_passport_no_reissue(db, home, sign_off, keys):
    org, people = home
    sign_off(people["newbie"], org, count=2)
    assert services.current_passport(db, people["newbie"].id) is None


def test_missing_key_never_breaks_the_caller(db, home, sign_off, issue, caplog):
    org, people = home
    sign_off(people["newbie"], org, count=2)
    p = issue(people["newbie"], org_id=org.id)
    keyring.retire_key(db, keyring.active_key(db, "passport").kid)
    ach = records.record_achievement(db, None, person_id=people["newbie"].id, org_id=org.id, framework="2025",
                                     standard_number=3, met_on=today() - timedelta(days=1), source="assessment",
                                     actor=audit.Actor.system("tests"))
    assert ach.id is not None
    assert services.current_passport(db, people["newbie"].id).id == p.id
    assert "not re-issued" in caplog.text


def test_competencies_from_a_provider(db, home, issue, key_dir, public_url):
    org, people = home
    soon = today() + timedelta(days=90)
    provider = lambda _db, _pid: [("insulin_pen", "supervised", soon), ("insulin_pen", "safe_unsupervised", soon),
                                  ("dry_dressing", "observed", today() - timedelta(days=1)),  # expired: left out
                                  ("eye_drops", "bogus_level", soon)]
    p = issue(people["worker"], org_id=org.id, competencies=provider)
    assert p.competencies == [["insulin_pen", "safe_unsupervised", soon.isoformat()]]
    assert p.claims["dt"] == [[1, 2, (soon - date(1970, 1, 1)).days]]  # catalogue number, level 2, day number
    settings = {"key_dir": key_dir, "public_url": public_url}
    assert services.refresh_if_changed(db, people["worker"].id, competencies=provider, **settings) is None
    assert services.refresh_if_changed(db, people["worker"].id, competencies=[], **settings).id != p.id


def test_bulk_reissue_skips_what_can_no_longer_be_issued(db, home, issue, key_dir, public_url):
    from passport.core.models import StandardAchievement
    from passport.db import utcnow

    org, people = home
    old = issue(people["worker"], org_id=org.id)
    expired = issue(people["worker"], org_id=org.id)  # supersedes ``old``; then pretend it ran out
    expired.issued_at, expired.expires_at = utcnow() - timedelta(days=4 * 365), utcnow() - timedelta(days=365)
    gone = issue(people["worker2"], org_id=org.id)
    for ach in db.query(StandardAchievement).filter_by(person_id=people["worker2"].id):
        ach.withdrawn_at = utcnow()  # recorded in error: nothing left to certify
    db.flush()
    skipped = []
    count = services.reissue_signed_by(db, None, key_dir=key_dir, public_url=public_url, skipped=skipped)
    assert count == 0 and [pid for pid, _ in skipped] == [gone.id]
    assert "nothing to certify" in skipped[0][1]
    assert gone.state() == "valid" and old.state() == "superseded" and expired.state() == "expired"
