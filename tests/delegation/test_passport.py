"""With the certificates plugin installed, granting or withdrawing a competence re-issues the worker's
passport so that what it states stays true (through passport.signals.competence_changed)."""
from __future__ import annotations

import pytest

from passport import audit
from passport.core.access import Principal
from passport.plugins import enabled
from passport.delegation import services as delegation
from tests.delegation.test_services import TODAY, assess


@pytest.fixture
def certificates(app):
    if not enabled(app, "certificates"):
        pytest.skip("the certificates plugin is not enabled")
    from passport.certificates import keys, services

    return keys, services


def test_passport_follows_the_competence(app, db, world, certificates):
    keys, services = certificates
    settings = {"key_dir": app.config["KEY_DIR"], "public_url": app.config["PUBLIC_URL"]}
    if keys.current_key(db, "passport") is None:
        keys.rotate_key(db, settings["key_dir"], "passport", actor=audit.Actor.system("tests"))
    first = services.issue_passport(db, None, world.worker.id, world.home.id, actor=audit.Actor.system("tests"),
                                    competencies=delegation.current_competencies_for_passport, **settings)
    assert first.claims.get("dt", []) == []

    a = assess(db, lambda p: Principal(person=p), world, world.worker)
    second = services.current_passport(db, world.worker.id)
    assert second.id != first.id and first.superseded_by_id == second.id
    assert second.competencies == [["dry_dressing", "safe_unsupervised", a.valid_until.isoformat()]]

    competency_id = delegation.best_competency(db, a.task, world.worker.id, None, TODAY).id
    delegation.withdraw_competency(db, Principal(person=world.nurse), competency_id, "Concerns about practice")
    third = services.current_passport(db, world.worker.id)
    assert third.id != second.id and third.claims.get("dt", []) == []
