"""The scheme summary's per-home cache answers for any day inside a home's horizon exactly as a full
rebuild on that day would, and a new day recomputes only the homes whose horizon has passed."""
from __future__ import annotations

from datetime import timedelta

from passport.core.access import today
from passport.courses import compliance, matrix

from tests.courses.conftest import d
from tests.courses.test_records_matrix import _record


def test_counts_from_the_cache_match_a_rebuild_on_each_day(db, world):
    for who, code, done in [(0, 6, 30), (1, 6, 300), (2, 7, 360), (0, 8, 700), (3, 9, 340)]:
        _record(db, world, world.workers[who % len(world.workers)], code, d(done))
    base = today()
    compliance.refresh(db, base, force=True)
    for shift in (0, 1, 7, 29, 30):
        on = base + timedelta(days=shift)
        assert compliance.refresh(db, on) == 0  # every home's horizon is at least 30 days
        from_cache = compliance.cached(db, on)
        compliance.refresh(db, on, force=True)
        rebuilt = compliance.cached(db, on)
        assert from_cache == rebuilt, shift
        compliance.refresh(db, base, force=True)


def test_a_new_day_recomputes_only_homes_past_their_horizon(db, world):
    base = today()
    compliance.refresh(db, base, force=True)
    homes = len(compliance.cached(db, base))
    day = base + timedelta(days=compliance.MIN_HORIZON + 1)
    due = sum(1 for org in compliance.cached(db, base) if compliance.horizon(org) < compliance.MIN_HORIZON + 1)
    assert compliance.refresh(db, day) == due < homes or homes <= 1
    data = matrix.scheme_summary(db, world.p(world.admin), window=30, on=day)
    assert data["total"]["required"] == sum(h["required"] for h in data["homes"])


def test_rows_in_an_earlier_format_are_recomputed(db, world):
    import sqlalchemy as sa

    from passport.courses.models import ComplianceCache

    base = today()
    compliance.refresh(db, base, force=True)
    db.execute(sa.update(ComplianceCache).values(data='{"people":1,"subjects":{"6":[1,1,0,0,0]}}'))
    assert compliance.refresh(db, base) == len(compliance.cached(db, base)) >= 1
